"""File names and the settings document that every export carries.

The settings document is the JSON of :func:`settings_json`: the caller's settings plus the app
name and version, the export kind, a UTC timestamp, the export options and the versions of the
scientific libraries already loaded. Settings are a mapping or a :class:`covwb.settings.Settings`
object (its :meth:`~covwb.settings.Settings.to_dict`). Every export is an :class:`ExportFile`
(bytes, a safe file name and a MIME type) ready for ``st.download_button``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import re
import sys
import unicodedata
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np

import covwb
from covwb.errors import ExportError
from covwb.settings import Settings

APP_NAME = "Covariance Workbench"
SETTINGS_KEY = "covariance-workbench-settings"

MIME_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html",
    "csv": "text/csv",
    "json": "application/json",
    "zip": "application/zip",
}

_LIBRARIES = ("numpy", "scipy", "pandas", "sklearn", "pyriemann", "mne", "torch", "plotly")
_MAX_NAME_LENGTH = 100
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}


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


def settings_json(settings: Mapping[str, Any] | Settings, *, name: str, kind: str, indent: int | None = 2) -> str:
    """The settings document embedded in every export.

    Parameters
    ----------
    settings : Mapping[str, Any] or Settings
        Settings that produced the figure or table (a settings object counts by its
        :meth:`~covwb.settings.Settings.to_dict`). Values may be JSON types, numpy
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
    return dumps(payload(settings, name=name, kind=kind), indent=indent)


def export_settings(settings: Mapping[str, Any] | Settings, *, name: str, kind: str = "settings") -> ExportFile:
    """The settings alone as a JSON sidecar file ``<name>.settings.json``.

    Parameters
    ----------
    settings : Mapping[str, Any] or Settings
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


def utc_now() -> dt.datetime:
    """The current time in UTC (one clock for every export, replaced in tests)."""
    return dt.datetime.now(dt.UTC)


def payload(
    settings: Mapping[str, Any] | Settings, *, name: str, kind: str, export: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The settings document as a dict (see :func:`settings_json`), with the export options if given."""
    if isinstance(settings, Settings):
        settings = settings.to_dict()
    if not isinstance(settings, Mapping):
        raise ExportError(f"Export settings must be a mapping of names to values, got {type(settings).__name__}.")
    created = utc_now().replace(microsecond=0)
    doc: dict[str, Any] = {
        "app": APP_NAME,
        "app_version": getattr(covwb, "__version__", "unversioned"),
        "name": _clean_text(str(name)),
        "kind": _clean_text(str(kind)),
        "created_utc": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "libraries": _library_versions(),
        "settings": jsonable(settings, "settings"),
    }
    if export is not None:
        doc["export"] = dict(export)
    return doc


def _library_versions() -> dict[str, str]:
    versions = {}
    for module_name in _LIBRARIES:
        module = sys.modules.get(module_name)
        version = getattr(module, "__version__", None)
        if version is not None:
            versions[module_name] = str(version)
    return versions


def jsonable(value: Any, where: str) -> Any:
    """``value`` as JSON types; ``where`` names it in the error raised for a value with no JSON form."""
    if isinstance(value, str):
        return _clean_text(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value, where)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist(), where)
    if isinstance(value, Mapping):
        return {_clean_text(str(key)): jsonable(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, Settings):
        return jsonable(value.to_dict(), where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return jsonable(fields, where)
    if isinstance(value, (list, tuple)):
        return [jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(item, where) for item in value), key=repr)
    if isinstance(value, (PurePath, dt.date, dt.time, dt.timedelta)):
        return str(value)
    raise ExportError(
        f"Export setting {where} has type {type(value).__name__}, which has no JSON form; "
        "pass numbers, text, lists or mappings."
    )


def _clean_text(text: str) -> str:
    """Text that encodes to UTF-8 and XML: lone surrogates become ``?``."""
    return text.encode("utf-8", "replace").decode("utf-8")


def dumps(payload: Mapping[str, Any], *, indent: int | None = 2, ascii_only: bool = False) -> str:
    """JSON text of a settings document; the two Unicode non-characters are escaped for XML."""
    text = json.dumps(payload, indent=indent, ensure_ascii=ascii_only, allow_nan=False)
    return text.replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")
