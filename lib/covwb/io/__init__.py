"""Readers that turn uploaded bytes into typed datasets, raising :mod:`covwb.errors` on bad input.

Every reader takes :class:`UploadedBytes` (a name and the bytes, as a browser or a script
sends them) and returns a dataset of :mod:`covwb.datasets.types`: tables
(:func:`read_table`), EEG recordings (:func:`read_eeg`, :func:`read_eeg_csv`), stacks of SPD
matrices or raw trials (:func:`read_spd_or_trials`, :func:`trial_covariances`, and
:func:`read_covariances`, which gives covariances either way). Upload names
are reduced by one function, :func:`safe_basename`. Nothing is unpickled, and files are
written only into private temporary folders.

Examples
--------
>>> from covwb.io import UploadedBytes, read_table
>>> read_table(UploadedBytes("t.csv", b"a,b\\n1,2\\n3,5\\n")).frame.shape
(2, 2)
"""

from covwb.io.eeg import SUPPORTED_EEG_SUFFIXES, group_recordings, read_eeg
from covwb.io.eeg_csv import UNIT_TO_VOLTS, read_eeg_csv
from covwb.io.spd import (
    DEFAULT_TRIAL_ESTIMATOR,
    SPD_SUFFIXES,
    read_covariances,
    read_spd_or_trials,
    read_spd_stack,
    trial_covariances,
)
from covwb.io.tables import HEADER_CHOICES, TABLE_SUFFIXES, ParsedTable, numeric_columns, parse_table, read_table
from covwb.io.uploads import UploadedBytes, digest_of, safe_basename

__all__ = [
    "DEFAULT_TRIAL_ESTIMATOR",
    "HEADER_CHOICES",
    "SPD_SUFFIXES",
    "SUPPORTED_EEG_SUFFIXES",
    "TABLE_SUFFIXES",
    "UNIT_TO_VOLTS",
    "ParsedTable",
    "UploadedBytes",
    "digest_of",
    "group_recordings",
    "numeric_columns",
    "parse_table",
    "read_covariances",
    "read_eeg",
    "read_eeg_csv",
    "read_spd_or_trials",
    "read_spd_stack",
    "read_table",
    "safe_basename",
    "trial_covariances",
]
