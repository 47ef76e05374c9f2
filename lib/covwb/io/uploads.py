"""The uploaded-file value passed from pages to readers, and the one reduction of its untrusted name."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

MAX_NAME_CHARS = 150
"""Longest name :func:`safe_basename` returns, in characters."""


@dataclass(frozen=True)
class UploadedBytes:
    """One uploaded file: its name as the user's browser sent it, and its bytes.

    Parameters
    ----------
    name : str
        File name (untrusted text: never used as a path, never rendered as HTML).
    data : bytes
        Whole content of the file.
    """

    name: str
    data: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        """SHA-256 of name and content, hex: the cache key for anything derived from the file."""
        h = hashlib.sha256(self.name.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
        h.update(self.data)
        return h.hexdigest()

    @property
    def suffix(self) -> str:
        """Lower-case extension with its dot (``'.edf'``), or ``''``."""
        stem, dot, ext = self.name.rpartition(".")
        return f".{ext.lower()}" if dot and stem else ""


def safe_basename(name: str) -> str:
    r"""Reduce an uploaded file name to a printable basename, safe to show and to create in a private folder.

    This is the workbench's one sanitiser of upload names: every reader names its upload
    with it in datasets, reports and error sentences, and the EEG reader writes its staged
    files under it. It does not escape Markdown or HTML; pages escape text when they show it.

    Parameters
    ----------
    name : str
        Untrusted name as sent by the browser, possibly with folders (``'../../x.edf'``,
        ``'C:\Users\x.csv'``) or control characters.

    Returns
    -------
    str
        The last path component without control (non-printable) characters, surrounding
        spaces and leading dots, at most 150 characters (its end, which holds the
        extension, is kept), or ``'upload'`` when nothing is left.

    Examples
    --------
    >>> safe_basename("../../etc/passwd")
    'passwd'
    >>> safe_basename(r"C:\Users\me\run 1.vhdr")
    'run 1.vhdr'
    >>> safe_basename("..")
    'upload'
    """
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(". ")
    if len(base) > MAX_NAME_CHARS:
        base = base[-MAX_NAME_CHARS:].lstrip(". ")
    return base or "upload"


def digest_of(files: list[UploadedBytes] | tuple[UploadedBytes, ...]) -> str:
    """SHA-256 over several uploads, independent of their order."""
    h = hashlib.sha256()
    for d in sorted(f.digest for f in files):
        h.update(d.encode())
    return h.hexdigest()
