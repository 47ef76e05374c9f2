"""Read EEG stored as a CSV/TSV table: one column per channel, one row per sample.

The table is read with :func:`covwb.io.tables.parse_table`; a column named like a time
stamp (``time``, ``t``, ``timestamp``, ``Time (s)``...) is dropped, every other column
must be a complete numeric channel. Values are converted from the chosen unit to
volts and wrapped in a preloaded ``mne.io.RawArray``; the standard 10-20 montage is
set when channel names match it (see :mod:`covwb.io.channels`).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from covwb.datasets.types import EEGDataset
from covwb.errors import EEGFormatError, ParameterError, TableFormatError
from covwb.io.channels import set_standard_positions, standardise_dotted_names
from covwb.io.tables import parse_table
from covwb.io.uploads import UploadedBytes

UNIT_TO_VOLTS: dict[str, float] = {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "nV": 1e-9}
"""Scale from each accepted unit of the table's values to volts."""

_TIME_NAME = re.compile(
    r"(?:t|time|times|timestamp|timestamps|time_stamp)"
    r"(?:[\s_]*(?:[\[(]\s*)?(?:s|sec|secs|seconds|ms)\s*[\])]?)?",
    re.IGNORECASE,
)
"""Names of a time column; written so that each run of spaces has one way to match (linear time)."""
_MAX_LISTED = 5
_TYPICAL_VOLTS = (1e-8, 1e-2)
"""Median absolute values outside this range (in volts) are unusual for scalp EEG."""


def read_eeg_csv(upload: UploadedBytes, *, sfreq: float, unit: str = "uV", header: str = "auto") -> EEGDataset:
    """Read an EEG table (channels in columns, samples in rows) as a continuous recording.

    Parameters
    ----------
    upload : UploadedBytes
        A CSV/TSV/TXT file whose header names the channels; see :func:`covwb.io.tables.read_table`.
    sfreq : float
        Sampling frequency in Hz (> 0, finite); rows are taken as evenly spaced samples.
    unit : {"V", "mV", "uV", "nV"}, default "uV"
        Unit of the values in the file; they are converted to volts.
    header : {"auto", "first_row", "none"}, default "auto"
        Whether the first row names the channels; see :func:`covwb.io.tables.read_table`.

    Returns
    -------
    EEGDataset
        ``raw`` is a preloaded ``mne.io.RawArray`` of shape (n_channels, n_samples) in volts,
        with channel type ``eeg`` and, when names match, the standard 10-20 positions (labels
        padded with dots, as EEGMMIDB writes them, are standardised first); ``warnings`` holds
        doubts about the header and an implausible amplitude for the unit.

    Raises
    ------
    ParameterError
        When ``sfreq`` is not a finite positive number or ``unit`` is not accepted.
    EEGFormatError
        When the table cannot be read, has a text or incomplete channel column (the message
        names the column and line), no channel, or fewer than 2 samples.
    """
    rate = _checked_sfreq(sfreq)
    if unit not in UNIT_TO_VOLTS:
        raise ParameterError(f"Unit '{unit}' is not accepted; choose one of {', '.join(UNIT_TO_VOLTS)}.")
    try:
        parsed = parse_table(upload, header=header)
    except TableFormatError as error:
        raise EEGFormatError(str(error)) from error
    table = parsed.dataset
    frame = table.frame
    shown = table.name
    report = list(table.report)
    time_columns = [c for c in frame.columns if _TIME_NAME.fullmatch(c.strip())]
    if time_columns:
        report.append(
            f"Dropped the time column{'s' * (len(time_columns) > 1)} {_quoted(time_columns)}: "
            f"samples are taken as evenly spaced at {rate:g} Hz."
        )
    channels = [c for c in frame.columns if c not in time_columns]
    _check_channels(frame, channels, parsed.lines, shown)
    if frame.shape[0] < 2:
        raise EEGFormatError(f"'{shown}' has {frame.shape[0]} sample; an EEG table needs at least 2 rows of samples.")
    volts = frame[channels].to_numpy(dtype=np.float64) * UNIT_TO_VOLTS[unit]
    raw, montage_notes = _raw_array(volts, channels, rate)
    report.append(
        f"{len(channels)} EEG channel{'s' * (len(channels) > 1)} x {volts.shape[0]} samples at {rate:g} Hz "
        f"({volts.shape[0] / rate:.6g} s); values in {unit} were converted to volts."
    )
    report.extend(montage_notes)
    amplitude = _amplitude_note(volts, unit)
    warnings = table.warnings + ((amplitude,) if amplitude else ())
    return EEGDataset(name=shown, raw=raw, source=f"upload: {shown}", report=tuple(report), warnings=warnings)


def _checked_sfreq(sfreq: Any) -> float:
    """The sampling frequency as a float, or ParameterError."""
    try:
        rate = float(sfreq)
    except (TypeError, ValueError):
        rate = math.nan
    if isinstance(sfreq, bool) or not math.isfinite(rate) or rate <= 0:
        raise ParameterError(f"The sampling frequency must be a finite number of Hz above 0 (got {sfreq!r}).")
    return rate


def _check_channels(frame: pd.DataFrame, channels: list[str], lines: np.ndarray, shown: str) -> None:
    """Every channel column must be numeric and complete; say which and where otherwise."""
    if not channels:
        raise EEGFormatError(f"'{shown}' has no channel column besides time; put one numeric column per channel.")
    for name in channels:
        column = frame[name]
        if column.dtype != np.float64:
            texts = column.astype(object)
            numbers = pd.to_numeric(texts, errors="coerce")
            present = column.notna().to_numpy()
            not_numbers = np.flatnonzero(numbers.isna().to_numpy() & present)
            first = int(not_numbers[0] if not_numbers.size else np.flatnonzero(present)[0])
            raise EEGFormatError(
                f"Column '{name}' of '{shown}' is text, not numbers (line {lines[first]} reads "
                f"'{texts.iloc[first]}'); keep only numeric channel columns (and an optional time column)."
            )
        empty = np.flatnonzero(column.isna().to_numpy())
        if empty.size:
            where = ", ".join(str(int(v)) for v in lines[empty[:_MAX_LISTED]])
            more = f" and {empty.size - _MAX_LISTED} more" if empty.size > _MAX_LISTED else ""
            raise EEGFormatError(
                f"Channel '{name}' of '{shown}' has {empty.size} missing or non-numeric "
                f"value{'s' * (empty.size > 1)} (line{'s' * (empty.size > 1)} {where}{more}); "
                "EEG channels must be complete: fill or remove those rows."
            )


def _raw_array(volts: np.ndarray, channels: list[str], sfreq: float) -> tuple[Any, list[str]]:
    """A RawArray of shape (n_channels, n_samples) and sentences on its channel names and positions."""
    import mne

    info = mne.create_info(list(channels), sfreq, "eeg", verbose=False)
    raw = mne.io.RawArray(volts.T, info, verbose=False)
    renamed = standardise_dotted_names(raw)
    return raw, [*([renamed] if renamed else []), set_standard_positions(raw)]


def _amplitude_note(volts: np.ndarray, unit: str) -> str:
    """A warning when the typical amplitude suggests a wrong unit, else ''."""
    typical = float(np.median(np.abs(volts)))
    low, high = _TYPICAL_VOLTS
    if typical > high or 0 < typical < low:
        size = "large" if typical > high else "small"
        return f"The median absolute value is {typical:.3g} V, {size} for scalp EEG: check that the file is in {unit}."
    return ""


def _quoted(names: list[str]) -> str:
    """Names in single quotes, joined by commas."""
    return ", ".join(f"'{n}'" for n in names)
