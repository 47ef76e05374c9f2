"""Export a page's analysis as a zip that reruns it: script, notebook, provenance, report and the page's tables.

:func:`export_analysis` takes what a page has after its one library call (its settings object, the call,
the result, the figures it drew) and returns one zip:

=====================  ==========================================================================================
``analysis.py``        a runnable script using the public ``covwb`` API only: the settings as Python, the data
                       loaded by name (built-in) or from the uploaded files checked against their SHA-256, the same
                       call, and the result's tables written as CSV to ``results/``
``analysis.ipynb``     the same steps as a Jupyter notebook, with a Markdown cell explaining each
``provenance.json``    settings (as JSON and as Python), their fingerprint, data digests, package versions, the
                       workbench's git commit (None when unknown), the date, and each table's shape and CSV digest
``report.html``        one self-contained page of what the page showed: figures, tables, settings, warnings
``tables/<name>.csv``  the page's tables, written by the same CSV writer the script uses
=====================  ==========================================================================================

Because the page and the script make the same call with equal settings, ``results/`` and ``tables/`` hold
byte-identical files wherever the computation is deterministic.

The result of a page's call must provide (:class:`AnalysisResult`) ``settings``, ``warnings`` (a tuple of
sentences) and ``tables()`` (name to DataFrame); it may provide ``stopped`` (why a stage could not run) and
``steps()`` (one Markdown sentence per step of the call, for the notebook).
"""

from __future__ import annotations

import importlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import pandas as pd

import covwb
from covwb.errors import ExportError
from covwb.export import document
from covwb.export.embed import table_csv
from covwb.export.provenance import provenance
from covwb.export.report import analysis_report
from covwb.export.script import analysis_cells, analysis_notebook, analysis_script
from covwb.settings import Settings


@runtime_checkable
class AnalysisResult(Protocol):
    """What a page's library call returns, as the analysis export reads it."""

    settings: Settings
    warnings: tuple[str, ...]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name."""
        ...


def export_analysis(
    settings: Settings,
    result: AnalysisResult,
    *,
    call: Callable[..., Any],
    title: str,
    figures: Mapping[str, Any] | None = None,
    data: Any = None,
) -> document.ExportFile:
    """The page's analysis as a zip of script, notebook, provenance, report and tables.

    Parameters
    ----------
    settings : Settings
        The page's settings (with a ``source``); may differ from ``result.settings`` only in what the call
        ignores (which item the page draws, say).
    result : AnalysisResult
        What ``call(settings, data)`` returned on the page.
    call : callable
        The page's public library call, defined in a ``covwb`` module and importable under its name.
    title : str
        The page's name, e.g. ``"Dataset explorer"``.
    figures : Mapping of str to plotly Figure or None
        The figures the page drew, by name, in the page's order.
    data : object or None
        The loaded dataset, whose content fingerprint goes into the provenance; None leaves it out.

    Returns
    -------
    ExportFile
        ``<title>_analysis.zip``, MIME ``application/zip``.

    Raises
    ------
    ExportError
        ``call`` is not a public ``covwb`` function, or the settings or tables cannot be written.

    Examples
    --------
    >>> import io, zipfile
    >>> from covwb.explore import ExplorerSettings, explore
    >>> from covwb.sources import BuiltinSource
    >>> settings = ExplorerSettings(source=BuiltinSource("pottery"), metrics=())
    >>> zipped = export_analysis(settings, explore(settings), call=explore, title="Dataset explorer")
    >>> zipped.file_name, sorted(zipfile.ZipFile(io.BytesIO(zipped.data)).namelist())[:4]
    ('Dataset_explorer_analysis.zip', ['analysis.ipynb', 'analysis.py', 'provenance.json', 'report.html'])
    """
    dotted = _public_name(call)
    tables = result.tables()
    csvs = {name: table_csv(frame) for name, frame in tables.items()}
    names = _csv_names(tables)
    fingerprint = None
    if data is not None:
        from covwb.datasets.fingerprint import fingerprint as content_fingerprint

        fingerprint = content_fingerprint(data)
    stopped = getattr(result, "stopped", None)
    steps = tuple(result.steps()) if callable(getattr(result, "steps", None)) else ()
    record = provenance(
        settings,
        title=title,
        call=dotted,
        tables=tables,
        warnings=result.warnings,
        data_fingerprint=fingerprint,
        csvs=csvs,
    )
    created = record["created_utc"].replace("T", " ").removesuffix("Z")
    cells = analysis_cells(
        settings,
        call=call,
        title=title,
        created=created,
        version=covwb.__version__,
        steps=steps,
        reports_stop=hasattr(result, "stopped"),
    )
    describe = getattr(settings.source, "describe", None)
    report = analysis_report(
        settings,
        title=title,
        provenance=record,
        tables=tables,
        figures=dict(figures or {}),
        warnings=result.warnings,
        data_description=describe() if callable(describe) else "the page's data",
        stopped=stopped,
    )
    members = {
        "analysis.py": analysis_script(cells),
        "analysis.ipynb": analysis_notebook(cells),
        "provenance.json": json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        "report.html": report,
        **{f"tables/{names[name]}": text for name, text in csvs.items()},
    }
    buffer = io.BytesIO()
    stamp = document.utc_now().timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, text in members.items():
            info = zipfile.ZipInfo(member, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return document.ExportFile(buffer.getvalue(), document.file_name(f"{title} analysis", "zip"), "application/zip")


def _public_name(call: Callable[..., Any]) -> str:
    module, name = getattr(call, "__module__", ""), getattr(call, "__qualname__", "")
    if not module.startswith("covwb.") or "." in name or name.startswith("_"):
        raise ExportError(f"The analysis call must be a public covwb function, got {module}.{name}.")
    if getattr(importlib.import_module(module), name, None) is not call:
        raise ExportError(f"{module}.{name} is not importable under that name; export a public covwb function.")
    return f"{module}.{name}"


def _csv_names(tables: Mapping[str, Any]) -> dict[str, str]:
    names = {name: document.file_name(name, "csv") for name in tables}
    if len(set(names.values())) != len(names):
        raise ExportError("Two tables of the result have the same file name; give them distinct names.")
    return names
