"""The report of an exported analysis: one self-contained HTML page of what the page showed.

Sections: what was computed and when (app version, commit), the data, the warnings, the figures (interactive,
plotly.js inlined once in the head, nothing fetched), the tables (the first 30 rows and 12 columns of each,
the whole table being in ``tables/``) and the settings (a table of labels and values, and the Python that
rebuilds them). The settings document is also a ``<script type="application/json"
id="covariance-workbench-settings">`` block, as in a figure's HTML export.

Every user-provided text (file, column, channel and class names, in tables, settings and warnings) is
HTML-escaped; inside the figures' JSON and the settings block, ``<``, ``>`` and ``&`` are JSON-escaped, so no
name can close a script or open an element.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from covwb.export import document
from covwb.settings import Settings

MAX_ROWS = 30
"""Rows of each table shown in the report."""
MAX_COLUMNS = 12
"""Columns of each table shown in the report."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
.warning { background: #fff4e5; border-left: 4px solid #f0a020; padding: 0.4rem 0.8rem; margin: 0.4rem 0; }
.stopped { background: #fdecea; border-left: 4px solid #d93025; padding: 0.4rem 0.8rem; }
pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; }
.figure { margin-bottom: 1.5rem; }
"""


def analysis_report(
    settings: Settings,
    *,
    title: str,
    provenance: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Any],
    warnings: Sequence[str],
    data_description: str,
    stopped: str | None = None,
) -> str:
    """The report as one HTML document.

    Parameters
    ----------
    settings : Settings
        The page's settings.
    title : str
        The page's name.
    provenance : Mapping
        The provenance document (:func:`covwb.export.provenance.provenance`); its date, version and commit
        are shown.
    tables : Mapping of str to pandas.DataFrame
        The page's tables.
    figures : Mapping of str to plotly Figure
        The page's figures, by name, in the page's order.
    warnings : sequence of str
        The result's warnings.
    data_description : str
        One sentence naming the data (may hold user-provided names; it is escaped).
    stopped : str or None
        Why the analysis stopped early, if it did.

    Returns
    -------
    str
        A complete HTML page.
    """
    from plotly.offline import get_plotlyjs

    esc = html.escape
    commit = provenance.get("git_commit") or "unknown"
    settings_json = document.dumps(document.payload(settings, name=title, kind="analysis"), ascii_only=True)
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        settings_json = settings_json.replace(char, escaped)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}: analysis report</title>",
        f"<style>{_STYLE}</style>",
        f'<script type="application/json" id="{document.SETTINGS_KEY}">{settings_json}</script>',
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(document.APP_NAME)} {esc(str(provenance.get("app_version", "")))} · commit '
        f"{esc(str(commit))} · exported {esc(str(provenance.get('created_utc', '')))}</p>",
        "<h2>Data</h2>",
        f"<p>{esc(data_description[:1].upper() + data_description[1:])}.</p>",
    ]
    if stopped:
        parts.append(f'<p class="stopped">The analysis stopped early: {esc(stopped)}</p>')
    parts.append("<h2>Warnings</h2>")
    parts.extend(f'<p class="warning">{esc(w)}</p>' for w in warnings)
    if not warnings:
        parts.append("<p>None: nothing in the result was flagged as possibly misleading.</p>")
    if figures:
        parts.append("<h2>Figures</h2>")
        for index, (name, fig) in enumerate(figures.items()):
            div = fig.to_html(
                full_html=False,
                include_plotlyjs=False,
                div_id=f"figure-{index}",
                config={"displaylogo": False, "toImageButtonOptions": {"filename": document.safe_file_name(name)}},
            )
            parts.append(f'<div class="figure"><h3>{esc(name)}</h3>{div}</div>')
    parts.append("<h2>Tables</h2>")
    for name, frame in tables.items():
        parts.append(f"<h3>{esc(name)}</h3>{_table_html(frame, name)}")
    parts.append("<h2>Settings</h2>")
    labels = type(settings).labels()
    rows = "".join(
        f'<tr><td class="text">{esc(labels[key])}</td><td class="text">{esc(_shown(value))}</td></tr>'
        for key, value in settings.to_dict().items()
    )
    parts.append(f'<table><tr><th class="text">Setting</th><th class="text">Value</th></tr>{rows}</table>')
    parts.append(f"<p>As Python (see <code>analysis.py</code>):</p><pre>{esc(settings.to_python())}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _table_html(frame: pd.DataFrame, name: str) -> str:
    shown = frame.iloc[:MAX_ROWS, :MAX_COLUMNS]
    note = f"{frame.shape[0]} rows × {frame.shape[1]} columns"
    if shown.shape != frame.shape:
        note += f"; the first {shown.shape[0]} rows and {shown.shape[1]} columns are shown"
    note += f"; the whole table is tables/{document.safe_file_name(name)}.csv."
    default_index = isinstance(frame.index, pd.RangeIndex)
    table = shown.to_html(index=not default_index, escape=True, border=0, float_format=lambda x: f"{x:.6g}")
    return f"<p>{html.escape(note)}</p>{table}"


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "(" + ", ".join(_shown(v) for v in value) + ")"
    return "automatic" if value is None else str(value)
