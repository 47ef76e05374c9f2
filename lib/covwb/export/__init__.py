"""Exports: figures and tables as files that carry their settings, and the analysis as code that reruns it.

One module per job:

* :mod:`covwb.export.document`: file names and the settings document every export carries;
* :mod:`covwb.export.embed`: the byte-level embedders (PNG, SVG, PDF, HTML) and the one CSV writer;
* :mod:`covwb.export.renderer`: the headless Chromium (Kaleido) that draws PNG, SVG and PDF, a service
  started once per process;
* :mod:`covwb.export.analysis`: a page's analysis as a zip that reruns it, built from
  :mod:`covwb.export.code` (script and notebook), :mod:`covwb.export.provenance` and
  :mod:`covwb.export.report`.

Every call returns an :class:`ExportFile` (bytes, a safe file name, a MIME type) ready for
``st.download_button``. Importing this package loads neither Kaleido nor a browser.
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
    "AnalysisResult",
    "FIGURE_FORMATS",
    "MIME_TYPES",
    "SETTINGS_KEY",
    "STATIC_FORMATS",
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
