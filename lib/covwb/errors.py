"""Typed errors for bad input.

Every error carries a sentence a person understands: what is wrong, where (line,
column, channel, file) and what to do about it. Pages catch :class:`WorkbenchError`
and show ``str(error)`` with ``st.error``; nothing else is shown to the user.
"""

from __future__ import annotations

__all__ = [
    "DataSourceError",
    "EEGFormatError",
    "ExportError",
    "ParameterError",
    "SPDInputError",
    "TableFormatError",
    "WorkbenchError",
]


class WorkbenchError(ValueError):
    """Base class of every user-facing error raised by ``covwb``."""


class TableFormatError(WorkbenchError):
    """An uploaded table (CSV/TSV) cannot be read or has no usable numbers."""


class EEGFormatError(WorkbenchError):
    """An uploaded EEG recording cannot be read, or its companion files are missing."""


class SPDInputError(WorkbenchError):
    """Matrices given as covariances are not a valid stack of SPD matrices."""


class ParameterError(WorkbenchError):
    """A parameter chosen by the user does not fit the data (window, band, channels...)."""


class ExportError(WorkbenchError):
    """A figure or table cannot be exported in the requested format."""


class DataSourceError(WorkbenchError):
    """The data a settings object names cannot be loaded: a file is missing or differs from the one recorded."""
