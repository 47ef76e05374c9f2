"""Figures and tables as downloadable files that carry the settings that produced them.

One helper for every download of the app: a page turns a Plotly figure into PNG, SVG,
PDF or self-contained HTML with :func:`export_figure`, a result table into CSV with
:func:`export_table`, and the settings alone into a JSON sidecar with
:func:`export_settings`. Every call returns an :class:`ExportFile` (bytes, a safe file
name and a MIME type) ready for ``st.download_button``.

Where the settings go
---------------------
The settings document is the JSON of :func:`settings_json`: the caller's settings plus
the app name and version, the export kind, a UTC timestamp, the export options and the
versions of the scientific libraries already loaded.

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
  returns as ``ExportFile.sidecar`` and pages offer next to the table. The same sidecar
  is available for any export from :func:`export_settings`.

Static rendering (PNG, SVG, PDF)
--------------------------------
Kaleido drives a headless Chromium. One Kaleido instance lives on a private event-loop
thread, started on the first static export and reused (about 0.2 s an image, about 2 s
for the first), stopped at interpreter exit. Calls are serialised by a lock, since
Streamlit runs download callables on several threads. Every wait is bounded: if the
browser died or hangs, the renderer is restarted once, then :class:`ExportError` is
raised. ``kaleido.start_sync_server`` is not used: its caller waits without a timeout,
and it waits forever when the browser fails to start.

The browser is the one named by the environment variable ``BROWSER_PATH`` (the override
choreographer, Kaleido's browser driver, also honours before searching ``PATH``), else
the first of ``chromium``, ``chromium-browser``, ``google-chrome``,
``google-chrome-stable``, ``chrome`` on ``PATH``, else ``/usr/bin/chromium`` or
``/usr/bin/chromium-browser``. Choreographer would also look for a copy it downloaded
itself (``kaleido_get_chrome``); the workbench never downloads and passes the path it
found explicitly, so set ``BROWSER_PATH`` to use such a copy. Without a browser, static
exports raise :class:`ExportError` and :func:`static_export_available` is False; HTML and
CSV exports still work.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import dataclasses
import datetime as dt
import enum
import hashlib
import html
import json
import math
import os
import re
import shutil
import signal
import struct
import sys
import threading
import unicodedata
import zlib
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pandas as pd
import plotly.graph_objects as go

import covwb
from covwb.errors import ExportError

APP_NAME = "Covariance Workbench"
SETTINGS_KEY = "covariance-workbench-settings"
FIGURE_FORMATS = ("png", "svg", "pdf", "html")
STATIC_FORMATS = ("png", "svg", "pdf")

MIME_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html",
    "csv": "text/csv",
    "json": "application/json",
}

_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_BROWSER_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
_LIBRARIES = ("numpy", "scipy", "pandas", "sklearn", "pyriemann", "mne", "torch", "plotly")
_MAX_NAME_LENGTH = 100
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
_START_TIMEOUT_S = 60.0
_RENDER_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0
_PIXEL_RANGE = (10, 8000)
_SCALE_RANGE = (0.1, 8.0)


@dataclasses.dataclass(frozen=True)
class ExportFile:
    """One downloadable file.

    Parameters
    ----------
    data : bytes
        Whole content of the file.
    file_name : str
        Safe base name with extension (ASCII letters, digits, ``-_.``), e.g. ``'scatter.png'``.
    mime : str
        MIME type for the download, e.g. ``'image/png'``.
    sidecar : ExportFile or None
        The settings as ``<name>.settings.json`` for formats that cannot hold them
        (CSV); None where the settings are inside ``data``.
    """

    data: bytes = dataclasses.field(repr=False)
    file_name: str
    mime: str
    sidecar: ExportFile | None = None


def safe_file_name(text: str) -> str:
    """Reduce any text to a safe file base name.

    Accents are stripped, every run of other characters becomes ``_``, leading dots,
    dashes and underscores are dropped, the length is capped at 100 characters, and
    reserved Windows device names get a trailing ``_``.

    Parameters
    ----------
    text : str
        Untrusted text, e.g. a dataset or upload name.

    Returns
    -------
    str
        Non-empty name of ASCII letters, digits and ``-_.``, starting with a letter or
        digit; ``'export'`` when nothing usable remains.
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text)
    name = name.lstrip("._-")[:_MAX_NAME_LENGTH].rstrip("._-")
    if not name:
        return "export"
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = f"{name}_"
    return name


def file_name(name: str, extension: str) -> str:
    """The download name of an export: ``safe_file_name(name) + '.' + extension``.

    Parameters
    ----------
    name : str
        Name of the figure or table (untrusted text).
    extension : str
        Extension without the dot, e.g. ``'png'`` or ``'settings.json'``.

    Returns
    -------
    str
        Safe file base name, e.g. ``'Scores_run_1.png'``.
    """
    return f"{safe_file_name(name)}.{safe_file_name(extension)}"


def settings_json(settings: Mapping[str, Any], *, name: str, kind: str, indent: int | None = 2) -> str:
    """The settings document embedded in every export.

    Parameters
    ----------
    settings : Mapping[str, Any]
        Settings that produced the figure or table. Values may be JSON types, numpy
        scalars and arrays, tuples, sets, paths, dates, enums, dataclasses or nested
        mappings of these; non-finite floats are written as strings.
    name : str
        Name of the export (figure or table title).
    kind : str
        What is exported, e.g. ``'figure'`` or ``'table'``.
    indent : int or None
        JSON indentation; None writes one line.

    Returns
    -------
    str
        JSON object with keys ``app``, ``app_version``, ``name``, ``kind``,
        ``created_utc`` (ISO 8601, seconds, ``Z``), ``libraries`` (versions of the
        libraries already imported) and ``settings``.

    Raises
    ------
    ExportError
        If ``settings`` is not a mapping or holds a value that has no JSON form.
    """
    return _dumps(_payload(settings, name=name, kind=kind), indent=indent)


def export_settings(settings: Mapping[str, Any], *, name: str, kind: str = "settings") -> ExportFile:
    """The settings alone as a JSON sidecar file ``<name>.settings.json``.

    Parameters
    ----------
    settings : Mapping[str, Any]
        Settings that produced the export (see :func:`settings_json`).
    name : str
        Name of the export it accompanies; reduced with :func:`safe_file_name`.
    kind : str
        What the sidecar accompanies, e.g. ``'table'`` or ``'figure'``.

    Returns
    -------
    ExportFile
        UTF-8 JSON, MIME ``application/json``.
    """
    text = settings_json(settings, name=name, kind=kind)
    return ExportFile(text.encode("utf-8"), file_name(name, "settings.json"), MIME_TYPES["json"])


def export_table(frame: pd.DataFrame, *, name: str, settings: Mapping[str, Any]) -> ExportFile:
    """A result table as CSV, with its settings as a JSON sidecar.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_rows, n_columns)
        The table. Its index is written as the first column unless it is the default
        ``0..n_rows-1`` range. Floats keep full precision.
    name : str
        Name of the table; reduced with :func:`safe_file_name`.
    settings : Mapping[str, Any]
        Settings that produced the table (see :func:`settings_json`).

    Returns
    -------
    ExportFile
        UTF-8 CSV with ``\\n`` line ends, MIME ``text/csv``; ``sidecar`` holds
        ``<name>.settings.json`` (kind ``'table'``).

    Raises
    ------
    ExportError
        If ``frame`` is not a DataFrame or a setting has no JSON form.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ExportError(f"Table export needs a pandas DataFrame, got {type(frame).__name__}; pass the result table.")
    default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.equals(pd.RangeIndex(len(frame)))
    sidecar = export_settings(settings, name=name, kind="table")
    text = frame.to_csv(index=not default_index, lineterminator="\n")
    return ExportFile(text.encode("utf-8"), file_name(name, "csv"), MIME_TYPES["csv"], sidecar)


def export_figure(
    fig: go.Figure,
    fmt: str,
    *,
    name: str,
    settings: Mapping[str, Any],
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
    settings : Mapping[str, Any]
        Settings that produced the figure (see :func:`settings_json`).
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
    payload = _payload(settings, name=name, kind="figure", export=options)
    if fmt == "html":
        data = _html_with_settings(copy, payload)
    else:
        for index, trace in enumerate(copy.data):
            if trace.uid is None:
                trace.uid = f"t{index}"
        image = _render_static(copy, options)
        data = _EMBEDDERS[fmt](image, payload, copy)
    return ExportFile(data, file_name(name, fmt), MIME_TYPES[fmt])


def find_browser() -> str | None:
    """Locate the Chromium or Chrome executable used for static exports.

    Returns
    -------
    str or None
        ``$BROWSER_PATH`` if set (None when it is not an executable file), else the
        first browser found on ``PATH`` or at the usual Debian paths, else None.
    """
    override = os.environ.get("BROWSER_PATH")
    if override:
        return override if _is_executable(override) else None
    for exe in _BROWSER_NAMES:
        found = shutil.which(exe)
        if found and _is_executable(found):
            return found
    return next((p for p in _BROWSER_PATHS if _is_executable(p)), None)


def static_export_available() -> bool:
    """Whether PNG, SVG and PDF exports can run here (a browser was found); starts nothing."""
    return find_browser() is not None


def stop_static_renderer() -> None:
    """Close the shared headless browser, if running; the next static export starts a new one."""
    _RENDERER.stop()


# --------------------------------------------------------------------------- settings


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _payload(
    settings: Mapping[str, Any], *, name: str, kind: str, export: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    if not isinstance(settings, Mapping):
        raise ExportError(f"Export settings must be a mapping of names to values, got {type(settings).__name__}.")
    created = _utc_now().replace(microsecond=0)
    payload: dict[str, Any] = {
        "app": APP_NAME,
        "app_version": getattr(covwb, "__version__", "unversioned"),
        "name": _clean_text(str(name)),
        "kind": _clean_text(str(kind)),
        "created_utc": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "libraries": _library_versions(),
        "settings": _jsonable(settings, "settings"),
    }
    if export is not None:
        payload["export"] = dict(export)
    return payload


def _library_versions() -> dict[str, str]:
    versions = {}
    for module_name in _LIBRARIES:
        module = sys.modules.get(module_name)
        version = getattr(module, "__version__", None)
        if version is not None:
            versions[module_name] = str(version)
    return versions


def _jsonable(value: Any, where: str) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, enum.Enum):
        return _jsonable(value.value, where)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), where)
    if isinstance(value, Mapping):
        return {_clean_text(str(key)): _jsonable(item, f"{where}.{key}") for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _jsonable(fields, where)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(item, where) for item in value), key=repr)
    if isinstance(value, (PurePath, dt.date, dt.time, dt.timedelta)):
        return str(value)
    raise ExportError(
        f"Export setting {where} has type {type(value).__name__}, which has no JSON form; "
        "pass numbers, text, lists or mappings."
    )


def _clean_text(text: str) -> str:
    """Text that encodes to UTF-8 and XML: lone surrogates become ``?``."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _dumps(payload: Mapping[str, Any], *, indent: int | None = 2, ascii_only: bool = False) -> str:
    text = json.dumps(payload, indent=indent, ensure_ascii=ascii_only, allow_nan=False)
    return text.replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")


# --------------------------------------------------------------------------- embedding


def _png_with_settings(png: bytes, payload: Mapping[str, Any], _fig: go.Figure) -> bytes:
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ExportError("The PNG renderer returned no PNG image; export the figure as HTML instead.")
    iend = _png_iend_offset(png)
    text = _dumps(payload, indent=None).encode("utf-8")
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
    text = xml_escape(_dumps(payload))
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
        "Subject": _dumps(payload, indent=None),
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
    script_json = _dumps(payload, ascii_only=True)
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


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _no_browser_message() -> str:
    override = os.environ.get("BROWSER_PATH")
    where = (
        f"BROWSER_PATH={override!r} is not an executable file"
        if override
        else f"none of {', '.join(_BROWSER_NAMES)} is on PATH"
    )
    return (
        f"PNG/SVG/PDF export needs Chromium or Google Chrome, but {where}; install Chromium "
        "(apt-get install chromium) or set BROWSER_PATH to its executable. HTML export still works."
    )


def _render_static(fig: go.Figure, options: Mapping[str, Any]) -> bytes:
    browser = find_browser()
    if browser is None:
        raise ExportError(_no_browser_message())
    return _RENDERER.render(fig, dict(options), browser)


class _Renderer:
    """One Kaleido browser on a private event-loop thread, used under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self._browser: str | None = None
        self._exit_hook = False

    def render(self, fig: go.Figure, options: dict[str, Any], browser: str) -> bytes:
        from kaleido.errors import KaleidoError

        fmt = options["format"].upper()
        with self._lock:
            failure: BaseException | None = None
            for _attempt in range(2):
                try:
                    self._start(browser)
                    return self._call(self._kaleido.calc_fig(fig, opts=options), _RENDER_TIMEOUT_S + 30)
                except KaleidoError as err:
                    message = f"Plotly.js could not draw this figure as {fmt} ({err}); check its data."
                    raise ExportError(message) from err
                except Exception as err:
                    failure = err
                    self._stop()
            raise ExportError(
                f"{fmt} export failed because the headless Chromium stopped or hung twice "
                f"({type(failure).__name__}: {str(failure)[:200]}); try again, or download the figure as HTML."
            ) from failure

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def browser_pid(self) -> int | None:
        """Process id of the browser wrapper (its process group), or None when not running."""
        process = getattr(self._kaleido, "subprocess", None)
        return None if process is None else process.pid

    def _start(self, browser: str) -> None:
        process = getattr(self._kaleido, "subprocess", None)
        alive = process is not None and process.poll() is None and self._thread is not None and self._thread.is_alive()
        if alive and self._browser == browser:
            return
        self._stop()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=_serve, args=(loop,), name="export-renderer", daemon=True)
        thread.start()
        self._loop, self._thread, self._browser = loop, thread, browser
        if not self._exit_hook:
            atexit.register(stop_static_renderer)
            self._exit_hook = True
        self._kaleido = self._call(_open_kaleido(browser), _START_TIMEOUT_S)

    def _call(self, coroutine: Any, timeout: float) -> Any:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def _stop(self) -> None:
        loop, thread, kaleido = self._loop, self._thread, self._kaleido
        self._loop = self._thread = self._kaleido = self._browser = None
        if loop is None:
            return
        if kaleido is not None:
            try:
                asyncio.run_coroutine_threadsafe(kaleido.close(), loop).result(timeout=_STOP_TIMEOUT_S)
            except Exception:
                _kill_group(getattr(kaleido, "subprocess", None))
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=_STOP_TIMEOUT_S)


async def _open_kaleido(browser: str) -> Any:
    import kaleido

    instance = kaleido.Kaleido(path=browser, mathjax=False, timeout=_RENDER_TIMEOUT_S)
    try:
        await instance.open()
    except BaseException:
        _kill_group(getattr(instance, "subprocess", None))
        raise
    return instance


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=_STOP_TIMEOUT_S))
    finally:
        loop.close()


def _kill_group(process: Any) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


_RENDERER = _Renderer()
