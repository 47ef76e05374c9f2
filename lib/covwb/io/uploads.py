"""The uploaded-file value passed from pages to readers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


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


def digest_of(files: list[UploadedBytes] | tuple[UploadedBytes, ...]) -> str:
    """SHA-256 over several uploads, independent of their order."""
    h = hashlib.sha256()
    for d in sorted(f.digest for f in files):
        h.update(d.encode())
    return h.hexdigest()
