"""Exports: figures and tables as files that carry their settings, and the analysis as code that reruns it.

One module per job:

* :mod:`covwb.export.document`: file names and the settings document every export carries;
* :mod:`covwb.export.embed`: the byte-level embedders (PNG, SVG, PDF, HTML) and the one CSV writer;
* :mod:`covwb.export.renderer`: the headless Chromium (Kaleido) that draws PNG, SVG and PDF, a service
  started once per process;
* :mod:`covwb.export.analysis`: a page's analysis as a zip that reruns it, built from
  :mod:`covwb.export.script` (script and notebook), :mod:`covwb.export.provenance` and
  :mod:`covwb.export.report`.

Every call returns an :class:`ExportFile` (bytes, a safe file name, a MIME type) ready for
``st.download_button``. Importing this package loads neither Kaleido nor a browser.

How a page adopts this
----------------------
A page's analysis becomes exportable, linkable and cacheable with three pieces, all in the library:

1. one frozen settings dataclass (:class:`covwb.settings.Settings`; every field with a default, the data
   source among them) that holds everything the user chose;
2. one public call ``f(settings, data=None, *, memo=None, progress=None)`` that computes what the page
   shows, keyed in ``memo`` by the source's fingerprint and the fields each step reads;
3. a result with ``settings``, ``warnings``, ``tables()`` (and, optionally, ``stopped`` and ``steps()``).

The page then reads like this (the explorer, ``pages/1_Dataset_explorer.py``, is the full example)::

    linked = ui.settings_from_url(FooSettings)                       # the shared link, if any
    data, source = ui.choose_data(("table",), key="foo", initial=linked.source)
    initial = ui.settings_for_data(linked, source, data)             # widgets take their defaults here
    lam = st.slider("λ", 0.0, 10.0, initial.lam)
    settings = FooSettings(source=source, lam=lam)
    result = foo(settings, data, memo=ui.memo(public=data.builtin))
    ui.show_figure(fig, "scores", settings)                          # downloads carry the settings
    ui.settings_to_url(settings, defaults=FooSettings(source=source).resolve(data)[0])
    ui.export_analysis(settings, result, call=foo, title="Foo", figures={"scores": fig}, data=data)

and an exported ``analysis.py`` replays ``foo(settings, source.load())`` and writes the same ``tables()``
(see :mod:`covwb.export.analysis`); a test exports from the page with ``AppTest``, runs the script in a fresh
interpreter and compares its ``results/`` with the zip's ``tables/``
(``tests/app/test_explorer_page.py``).
"""

from covwb.export.analysis import AnalysisResult, export_analysis
from covwb.export.document import (
    APP_NAME,
    MIME_TYPES,
    SETTINGS_KEY,
    ExportFile,
    export_settings,
    file_name,
    safe_file_name,
    settings_json,
)
from covwb.export.embed import FIGURE_FORMATS, STATIC_FORMATS, export_figure, export_table, table_csv
from covwb.export.renderer import find_browser, static_export_available, stop_static_renderer

__all__ = [
    "APP_NAME",
    "FIGURE_FORMATS",
    "MIME_TYPES",
    "SETTINGS_KEY",
    "STATIC_FORMATS",
    "AnalysisResult",
    "ExportFile",
    "export_analysis",
    "export_figure",
    "export_settings",
    "export_table",
    "file_name",
    "find_browser",
    "safe_file_name",
    "settings_json",
    "static_export_available",
    "stop_static_renderer",
    "table_csv",
]
