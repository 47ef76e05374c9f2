"""Figures and tables as files that carry the settings that produced them, byte by byte.

A page turns a Plotly figure into PNG, SVG, PDF or self-contained HTML with :func:`export_figure`
and a result table into CSV with :func:`export_table`; the settings document of
:mod:`covwb.export.document` goes inside each file:

* PNG: an ``iTXt`` chunk (UTF-8, uncompressed) with keyword
  ``covariance-workbench-settings``, inserted just before ``IEND``; Pillow reads it as
  ``Image.open(...).text["covariance-workbench-settings"]``.
* SVG: a ``<metadata id="covariance-workbench-settings">`` element holding the
  XML-escaped JSON, first child of the root ``<svg>``; an XML declaration (UTF-8) is
  prepended. Plotly.js names the SVG's clip paths after a random id, and its traces
  after random uids: the first is replaced by an id derived from the figure, the second
  are set (``t0``, ``t1``... where unset), so that the same figure gives the same bytes.
* PDF: an incremental update appended to Chromium's file: a new document information
  dictionary (``/Title`` the export name, ``/Subject`` the JSON, ``/Keywords`` the
  marker ``covariance-workbench-settings``), a classic cross-reference section and a
  trailer whose ``/Prev`` points to the original cross-reference. Chromium (Skia) writes
  classic cross-reference tables; a file with a cross-reference stream gets the same
  classic section, which PDF readers accept.
* HTML: self-contained (plotly.js inlined, nothing fetched) with a
  ``<script type="application/json" id="covariance-workbench-settings">`` block in the
  head whose ``<``, ``>`` and ``&`` are JSON-escaped, so no setting can close the script;
  the settings also go into ``layout.meta`` of the exported copy unless the figure
  already uses ``meta`` for its own labels.
* CSV: plain CSV that every reader opens (comment lines would break naive readers);
  the settings travel in the sidecar ``<name>.settings.json`` that :func:`export_table`
  returns as ``ExportFile.sidecar``. :func:`table_csv` is the one CSV writer of the
  workbench: the page's downloads, the analysis export and its script all write tables with it.

PNG, SVG and PDF are drawn by the headless browser of :mod:`covwb.export.renderer`.
"""

from __future__ import annotations

import hashlib
import html
import re
import struct
import zlib
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from covwb.errors import ExportError
from covwb.export import document
from covwb.export.document import (
    APP_NAME,
    MIME_TYPES,
    SETTINGS_KEY,
    ExportFile,
    export_settings,
    file_name,
    safe_file_name,
)
from covwb.export.renderer import render_static
from covwb.settings import Settings

FIGURE_FORMATS = ("png", "svg", "pdf", "html")
STATIC_FORMATS = ("png", "svg", "pdf")

_PIXEL_RANGE = (10, 8000)
_SCALE_RANGE = (0.1, 8.0)


def table_csv(frame: pd.DataFrame) -> str:
    """A result table as CSV text: the one CSV writer of the workbench.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_rows, n_columns)
        The table. Its index is written as the first column unless it is the default
        ``0..n_rows-1`` range. Floats keep full precision (shortest text that reads back
        to the same float64).

    Returns
    -------
    str
        CSV with ``\\n`` line ends.

    Raises
    ------
    ExportError
        If ``frame`` is not a DataFrame.

    >>> print(table_csv(pd.DataFrame({"x": [0.1, 1 / 3]})), end="")
    x
    0.1
    0.3333333333333333
    """
    if not isinstance(frame, pd.DataFrame):
        raise ExportError(f"Table export needs a pandas DataFrame, got {type(frame).__name__}; pass the result table.")
    default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.equals(pd.RangeIndex(len(frame)))
    return frame.to_csv(index=not default_index, lineterminator="\n")


def export_table(frame: pd.DataFrame, *, name: str, settings: Mapping[str, Any] | Settings) -> ExportFile:
    """A result table as CSV, with its settings as a JSON sidecar.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_rows, n_columns)
        The table, written by :func:`table_csv`.
    name : str
        Name of the table; reduced with :func:`safe_file_name`.
    settings : Mapping[str, Any] or Settings
        Settings that produced the table (see :func:`~covwb.export.document.settings_json`).

    Returns
    -------
    ExportFile
        UTF-8 CSV with ``\\n`` line ends, MIME ``text/csv``; ``sidecar`` holds
        ``<name>.settings.json`` (kind ``'table'``).

    Raises
    ------
    ExportError
        If ``frame`` is not a DataFrame or a setting has no JSON form.

    Examples
    --------
    >>> import pandas as pd
    >>> csv = export_table(pd.DataFrame({"fold": [1, 2], "auc": [0.9, 0.8]}), name="scores", settings={"seed": 0})
    >>> csv.file_name, csv.data.decode().splitlines(), csv.sidecar.file_name
    ('scores.csv', ['fold,auc', '1,0.9', '2,0.8'], 'scores.settings.json')
    """
    text = table_csv(frame)
    sidecar = export_settings(settings, name=name, kind="table")
    return ExportFile(text.encode("utf-8"), file_name(name, "csv"), MIME_TYPES["csv"], sidecar)


def export_figure(
    fig: go.Figure,
    fmt: str,
    *,
    name: str,
    settings: Mapping[str, Any] | Settings,
    width: int = 900,
    height: int = 600,
    scale: float = 2,
) -> ExportFile:
    """A Plotly figure as PNG, SVG, PDF or HTML with its settings embedded.

    The caller's figure is not changed (a copy is exported).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure (a figure dict is accepted too).
    fmt : {'png', 'svg', 'pdf', 'html'}
        Output format.
    name : str
        Name of the figure; used for the file name (via :func:`safe_file_name`), the
        PDF and HTML titles and the settings document.
    settings : Mapping[str, Any] or Settings
        Settings that produced the figure (see :func:`~covwb.export.document.settings_json`).
    width, height : int
        Size of the static image in CSS pixels, 10 to 8000; ignored by HTML, which fills
        the browser window.
    scale : float
        Pixel density of PNG (``width * scale`` pixels wide), 0.1 to 8; SVG and PDF are
        vector and only record it.

    Returns
    -------
    ExportFile
        ``<name>.<fmt>`` with the MIME type of the format.

    Raises
    ------
    ExportError
        If the format or size is not supported, the figure is invalid, no Chromium is
        installed (static formats), or rendering failed after one restart of the browser.

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> page = export_figure(go.Figure(go.Scatter(y=[1, 3, 2])), "html", name="line", settings={"seed": 0})
    >>> page.file_name, page.mime, b'"seed": 0' in page.data  # the settings travel inside the file
    ('line.html', 'text/html', True)
    """
    if fmt not in FIGURE_FORMATS:
        raise ExportError(f"Figure export format {fmt!r} is not supported; choose one of {', '.join(FIGURE_FORMATS)}.")
    try:
        copy = go.Figure(fig)
    except (ValueError, TypeError) as err:
        raise ExportError(
            f"Figure {name!r} is not a valid Plotly figure ({err}); rebuild it with covwb.plots."
        ) from err
    options: dict[str, Any] = {"format": fmt}
    if fmt in STATIC_FORMATS:
        options.update(width=_checked_pixels(width, "width"), height=_checked_pixels(height, "height"))
        options["scale"] = _checked_scale(scale)
    payload = document.payload(settings, name=name, kind="figure", export=options)
    if fmt == "html":
        data = _html_with_settings(copy, payload)
    else:
        for index, trace in enumerate(copy.data):
            if trace.uid is None:
                trace.uid = f"t{index}"
        image = render_static(copy, options)
        data = _EMBEDDERS[fmt](image, payload, copy)
    return ExportFile(data, file_name(name, fmt), MIME_TYPES[fmt])


def _png_with_settings(png: bytes, payload: Mapping[str, Any], _fig: go.Figure) -> bytes:
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ExportError("The PNG renderer returned no PNG image; export the figure as HTML instead.")
    iend = _png_iend_offset(png)
    text = document.dumps(payload, indent=None).encode("utf-8")
    body = b"iTXt" + SETTINGS_KEY.encode("latin-1") + b"\0" + b"\0\0" + b"\0" + b"\0" + text
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    return png[:iend] + chunk + png[iend:]


def _png_iend_offset(png: bytes) -> int:
    offset = 8
    while offset + 8 <= len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        if png[offset + 4 : offset + 8] == b"IEND":
            return offset
        offset += 12 + length
    raise ExportError("The PNG renderer returned a truncated image (no IEND chunk); try the export again.")


_SVG_ROOT = re.compile(rb"<svg\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_SVG_UID = re.compile(rb'<defs id="defs-([0-9A-Za-z]+)"')
_SVG_REFERENCE = re.compile(rb"""(\bid="[^"]*"|\bhref="#[^"]*"|url\(['"]?#[^)'"]*['"]?\))""")


def _svg_with_settings(svg: bytes, payload: Mapping[str, Any], fig: go.Figure) -> bytes:
    svg = _svg_fixed_uid(svg, fig)
    root = _SVG_ROOT.search(svg)
    if root is None:
        raise ExportError("The SVG renderer returned no <svg> element; export the figure as HTML instead.")
    text = xml_escape(document.dumps(payload))
    metadata = f'<metadata id="{SETTINGS_KEY}">{text}</metadata>'.encode()
    declaration = b"" if svg.lstrip().startswith(b"<?xml") else b'<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + svg[: root.end()] + metadata + svg[root.end() :]


def _svg_fixed_uid(svg: bytes, fig: go.Figure) -> bytes:
    found = _SVG_UID.search(svg)
    if found is None:
        return svg
    random_uid = found.group(1)
    fixed_uid = hashlib.sha256(fig.to_json().encode("utf-8")).hexdigest()[: len(random_uid)].encode("ascii")
    return _SVG_REFERENCE.sub(lambda m: m.group(0).replace(random_uid, fixed_uid), svg)


def _pdf_with_settings(pdf: bytes, payload: Mapping[str, Any], _fig: go.Figure) -> bytes:
    if not pdf.startswith(b"%PDF-"):
        raise ExportError("The PDF renderer returned no PDF document; export the figure as HTML instead.")
    starts = re.findall(rb"startxref\s+(\d+)\s+%%EOF", pdf)
    if not starts:
        raise ExportError("The PDF renderer returned a document without a cross-reference; try the export again.")
    previous = int(starts[-1])
    trailer = _pdf_trailer(pdf, previous)
    size, root = re.search(rb"/Size\s+(\d+)", trailer), re.search(rb"/Root\s+(\d+\s+\d+\s+R)", trailer)
    if size is None or root is None or b"/Encrypt" in trailer:
        raise ExportError("The PDF renderer returned a document whose trailer cannot be updated; try again.")
    number = int(size.group(1))
    created = payload["created_utc"]
    entries = {
        "Title": payload["name"],
        "Subject": document.dumps(payload, indent=None),
        "Keywords": SETTINGS_KEY,
        "Creator": f"{APP_NAME} {payload['app_version']}",
    }
    body = b"".join(b"/" + key.encode("ascii") + b" " + _pdf_text(value) + b"\n" for key, value in entries.items())
    date = "D:" + re.sub(r"[^0-9]", "", created) + "Z"
    body += f"/CreationDate ({date})\n/ModDate ({date})\n".encode("ascii")
    head = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    info = f"{number} 0 obj\n<<".encode("ascii") + body + b">>\nendobj\n"
    xref_at = len(head) + len(info)
    identifier = re.search(rb"/ID\s*\[[^\]]*\]", trailer)
    tail = (
        f"xref\n0 1\n0000000000 65535 f \n{number} 1\n{len(head):010d} 00000 n \ntrailer\n"
        f"<</Size {number + 1} /Root {root.group(1).decode('ascii')} /Info {number} 0 R /Prev {previous}"
    ).encode("ascii")
    tail += (b" " + identifier.group(0) if identifier else b"") + f">>\nstartxref\n{xref_at}\n%%EOF\n".encode("ascii")
    return head + info + tail


def _pdf_trailer(pdf: bytes, xref_at: int) -> bytes:
    if pdf[xref_at : xref_at + 4] == b"xref":
        start = pdf.find(b"trailer", xref_at)
    else:
        start = xref_at
    start = pdf.find(b"<<", start) if start >= 0 else -1
    if start < 0:
        raise ExportError("The PDF renderer returned a document without a trailer; try the export again.")
    return pdf[start : _pdf_dict_end(pdf, start)]


def _pdf_dict_end(pdf: bytes, start: int) -> int:
    depth, i = 0, start
    while i < len(pdf):
        pair = pdf[i : i + 2]
        if pair in (b"<<", b">>"):
            depth += 1 if pair == b"<<" else -1
            i += 2
            if depth == 0:
                return i
        elif pdf[i : i + 1] == b"<":
            i = pdf.find(b">", i) + 1 or len(pdf)
        elif pdf[i : i + 1] == b"(":
            i = _pdf_string_end(pdf, i)
        else:
            i += 1
    raise ExportError("The PDF renderer returned a document with an unterminated trailer; try the export again.")


def _pdf_string_end(pdf: bytes, start: int) -> int:
    depth, i = 0, start
    while i < len(pdf):
        char = pdf[i : i + 1]
        if char == b"\\":
            i += 2
            continue
        depth += {b"(": 1, b")": -1}.get(char, 0)
        i += 1
        if depth == 0:
            return i
    return len(pdf)


def _pdf_text(text: str) -> bytes:
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _html_with_settings(fig: go.Figure, payload: Mapping[str, Any]) -> bytes:
    name = payload["name"]
    if fig.layout.meta is None:
        fig.layout.meta = payload
    file_stem = safe_file_name(name)
    page = fig.to_html(
        include_plotlyjs=True,
        full_html=True,
        div_id=f"figure-{file_stem}",
        config={"displaylogo": False, "toImageButtonOptions": {"filename": file_stem}},
    )
    head_end = page.find("</head>")
    if head_end < 0:
        raise ExportError("Plotly returned an HTML page without a <head>; update plotly or export as PNG.")
    script_json = document.dumps(payload, ascii_only=True)
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        script_json = script_json.replace(char, escaped)
    block = (
        f"    <title>{html.escape(name)}</title>\n"
        f'    <script type="application/json" id="{SETTINGS_KEY}">{script_json}</script>\n'
    )
    return (page[:head_end] + block + page[head_end:]).encode("utf-8", "replace")


_EMBEDDERS = {"png": _png_with_settings, "svg": _svg_with_settings, "pdf": _pdf_with_settings}


def _checked_pixels(value: int, what: str) -> int:
    low, high = _PIXEL_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ExportError(
            f"Figure {what} {value!r} is out of range; choose a whole number of pixels from {low} to {high}."
        )
    return int(value)


def _checked_scale(value: float) -> float:
    low, high = _SCALE_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not low <= value <= high:
        raise ExportError(f"Figure scale {value!r} is out of range; choose a number from {low} to {high}.")
    return float(value)


# --------------------------------------------------------------------------- rendering
