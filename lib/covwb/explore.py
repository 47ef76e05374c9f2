"""The dataset explorer's analysis: one settings object, one call, one result whose tables the page shows.

:func:`explore` computes everything the explorer page shows for a dataset, from :class:`ExplorerSettings`:

* a **table**: summary statistics of its first 100 columns; the covariance of the chosen numeric columns
  (complete rows only) under the chosen estimator, its correlation and eigenvalue spectrum;
* an **EEG recording**: a window of raw traces and the Welch power spectra of the chosen channels; epochs cut
  as :class:`~covwb.eeg.epochs.EpochSettings` says (classes, window, band-pass, channels), one covariance per
  epoch, their affine-invariant mean, and their geometry (pairwise distances, classical MDS, mean) under each
  chosen metric;
* a **stack of SPD matrices**: one matrix with its correlation and spectrum, and the stack's geometry.

The page and an exported script make the same call with the same settings, so their tables are identical.
The page passes ``memo`` (its cache) so that changing one widget recomputes only the steps that depend on it;
each step's cache key is the data source's fingerprint plus the settings that step reads.

A result that may be misleading says so in ``warnings``: what reading the data doubted (a guessed header row,
ill-conditioned covariances of uploaded raw trials), rows with missing values left out, epochs dropped, epoch
windows that run past the next event, ill-conditioned matrices (condition number above 1e10) and a Riemannian
mean that stopped before converging.
When a stage cannot run on the data (no events in the recording, fewer than two numeric columns, matrices that
are not positive definite), ``stopped`` holds the sentence, and what came before it is kept.

>>> from covwb.sources import BuiltinSource
>>> settings = ExplorerSettings(source=BuiltinSource("pottery"), estimator="oas")
>>> result = explore(settings)
>>> result.settings.columns[:3]
('Al2O3', 'Fe2O3', 'MgO')
>>> sorted(result.tables())
['correlation', 'covariance', 'covariance_summary', 'eigenvalues', 'summary']
"""

from __future__ import annotations

import dataclasses
import warnings as python_warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from covwb._steps import Memo, Steps
from covwb.covariance.estimators import ESTIMATORS, Spectrum, correlation, covariance, covariances, spectrum
from covwb.covariance.geometry import NUMPY_METRICS, GeometrySummary, mean_covariance, summarise_geometry
from covwb.datasets.types import EEGDataset, SPDStack, TableDataset
from covwb.eeg.epochs import EpochSettings
from covwb.eeg.events import TrialEvents
from covwb.errors import ParameterError, WorkbenchError
from covwb.jobs.plan import Progress
from covwb.settings import Settings, setting
from covwb.sources import SIMULATED_EEG, BuiltinSource, DataSource

__all__ = [
    "Exploration",
    "ExplorerSettings",
    "RecordingExploration",
    "StackExploration",
    "TableExploration",
    "explore",
]

T = TypeVar("T")

ILL_CONDITIONED = 1e10
"""Condition number above which a covariance matrix is reported as ill-conditioned."""
SUMMARY_COLUMNS = 100
"""Summary statistics cover the first this many columns of a table."""
DEFAULT_COLUMNS = 30
"""The covariance of a table starts with its first this many numeric columns."""
MAX_CHANNELS = 10
"""Most channels drawn as traces and spectra."""
WINDOWS_S = (1.0, 2.0, 5.0, 10.0, 20.0)
"""Lengths of the window of raw traces, in seconds."""
PSD_FMAX_HZ = 60.0
"""Highest frequency of the power spectra (or the Nyquist frequency, if lower)."""
_PREFERRED_CHANNELS = ("C3", "Cz", "C4")


@dataclass(frozen=True)
class ExplorerSettings(Settings):
    """Everything the explorer page lets one choose; fields that do not apply to the data are ignored.

    Automatic values (None) are made explicit for a dataset by :meth:`resolve`.

    Parameters
    ----------
    source : BuiltinSource or UploadSource
        The data (see :mod:`covwb.sources`).
    columns : tuple of str or None
        Table: numeric columns of the covariance (at least 2 for a covariance); None for the first 30 numeric
        columns.
    channels : tuple of str or None
        EEG: channels drawn as traces and spectra (at most 10, none for no traces); None for C3, Cz, C4 (or the
        first 4).
    start : float
        EEG: start of the window of raw traces, in s from the beginning of the recording.
    window : float
        EEG: length of that window in s, one of 1, 2, 5, 10, 20.
    epochs : EpochSettings
        EEG: how epochs are cut (classes, window in s, band-pass in Hz, channels); automatic values are the
        first two event labels, the EEG channels not marked bad and 8-35 Hz within the Nyquist frequency.
    epoch : int
        EEG: the epoch whose covariance the page draws (:func:`explore` computes them all and ignores it).
    matrix : int
        SPD stack: the matrix whose covariance, correlation and spectrum are shown.
    estimator : {"sample", "ledoit_wolf", "oas", "shrinkage"}
        Covariance estimator of tables and epochs (see :data:`covwb.covariance.estimators.ESTIMATORS`).
    shrinkage : float
        Intensity in [0, 1] of the ``"shrinkage"`` estimator.
    metrics : tuple of str
        Metrics of the geometry views, keys of :data:`covwb.covariance.geometry.NUMPY_METRICS`.
    """

    source: DataSource = BuiltinSource(SIMULATED_EEG)
    columns: tuple[str, ...] | None = setting(None, label="Columns")
    channels: tuple[str, ...] | None = setting(None, label="Channels shown", max_items=MAX_CHANNELS)
    start: float = setting(0.0, label="Start (s)", low=0.0)
    window: float = setting(5.0, label="Window (s)", choices=WINDOWS_S)
    epochs: EpochSettings = setting(EpochSettings(), label="Epochs")
    epoch: int = setting(0, label="Epoch", low=0)
    matrix: int = setting(0, label="Matrix", low=0)
    estimator: str = setting("sample", label="Covariance estimator", choices=ESTIMATORS)
    shrinkage: float = setting(0.1, label="Shrinkage", low=0.0, high=1.0)
    metrics: tuple[str, ...] = setting(tuple(NUMPY_METRICS), label="Metrics", choices=NUMPY_METRICS)

    def resolve(self, data: Any) -> tuple[ExplorerSettings, tuple[str, ...]]:
        """Explicit settings for ``data``: automatic values filled, values the data cannot take replaced.

        Fields that do not apply to the kind of data are reset to their defaults (silently), so that equal
        analyses have equal settings.

        Parameters
        ----------
        data : TableDataset, EEGDataset or SPDStack
            The dataset that ``source`` loads.

        Returns
        -------
        settings : ExplorerSettings
            With explicit columns (table), channels shown and epoch settings (EEG).
        notes : tuple of str
            One sentence per value that was replaced.
        """
        notes: list[str] = []
        common = {"source": self.source, "estimator": self.estimator, "shrinkage": self.shrinkage}
        if isinstance(data, TableDataset):
            return ExplorerSettings(**common, columns=_resolved_columns(self.columns, data.frame, notes)), tuple(notes)
        if isinstance(data, SPDStack):
            count = data.matrices.shape[0]
            matrix = self.matrix
            if matrix >= count:
                notes.append(f"Matrix {matrix} does not exist (there are {count}); the page shows matrix 0.")
                matrix = 0
            return ExplorerSettings(source=self.source, matrix=matrix, metrics=self.metrics), tuple(notes)
        if isinstance(data, EEGDataset):
            return self._resolved_eeg(data.raw, common, notes), tuple(notes)
        raise ParameterError(f"The explorer reads tables, EEG recordings and SPD stacks, not {type(data).__name__}.")

    def _resolved_eeg(self, raw: Any, common: dict[str, Any], notes: list[str]) -> ExplorerSettings:
        names = list(raw.ch_names)
        sfreq = float(raw.info["sfreq"])
        duration = raw.n_times / sfreq
        channels = self.channels
        if channels is not None and not set(channels) <= set(names):
            missing = [c for c in channels if c not in names]
            notes.append(f"The recording has no channel {missing[0]!r}; the page shows its default channels.")
            channels = None
        if channels is None:
            channels = tuple([c for c in _PREFERRED_CHANNELS if c in names] or names[:4])
        top_start = max(0.0, duration - 1.0) if duration > 1.5 else 0.0
        start = self.start
        if start > top_start:
            notes.append(
                f"The recording lasts {duration:.1f} s, so the traces start at {top_start:g} s, not {start:g} s."
            )
            start = top_start
        epochs, epoch_notes = self.epochs.resolve(raw)
        notes.extend(epoch_notes)
        return ExplorerSettings(
            **common,
            channels=channels,
            start=start,
            window=self.window,
            epochs=epochs,
            epoch=self.epoch,
            metrics=self.metrics,
        )


@dataclass(frozen=True, eq=False)
class TableExploration:
    """What the explorer shows for a table.

    Parameters
    ----------
    settings : ExplorerSettings
        The explicit settings used.
    summary : pandas.DataFrame, shape (n_columns, n_statistics)
        ``describe(include="all")`` of the first 100 columns, one row per column.
    n_rows : int
        Rows of the table.
    n_complete : int
        Rows without a missing value in the chosen columns (the covariance uses these).
    covariance, correlation : ndarray, shape (p, p) or None
        Covariance (squared unit of the data) and correlation of the chosen columns.
    spectrum : Spectrum or None
        Eigenvalues and condition number of the covariance.
    warnings : tuple of str
        What may make the numbers misleading, and what to do.
    stopped : str or None
        Why the covariance could not be computed (then it and what follows are None).
    """

    settings: ExplorerSettings
    summary: pd.DataFrame
    n_rows: int
    n_complete: int = 0
    covariance: np.ndarray | None = None
    correlation: np.ndarray | None = None
    spectrum: Spectrum | None = None
    warnings: tuple[str, ...] = ()
    stopped: str | None = None

    def steps(self) -> tuple[str, ...]:
        """What :func:`explore` did, one Markdown sentence per step."""
        return (
            "summary statistics (`describe`) of the table's first 100 columns;",
            "the covariance of the chosen numeric columns (`settings.columns`) over the rows without a missing "
            "value, under the chosen estimator (`settings.estimator`), in the squared unit of the data;",
            "its correlation matrix, its eigenvalues in descending order and its condition number.",
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, as the page shows them and the exported script writes them."""
        out = {"summary": self.summary}
        if self.covariance is not None and self.spectrum is not None:
            out.update(_covariance_tables(self.covariance, self.correlation, self.spectrum, self.settings.columns))
            out["covariance_summary"].insert(0, "rows_used", [self.n_complete])
            out["covariance_summary"].insert(1, "rows", [self.n_rows])
        return out


@dataclass(frozen=True, eq=False)
class RecordingExploration:
    """What the explorer shows for an EEG recording.

    Parameters
    ----------
    settings : ExplorerSettings
        The explicit settings used.
    sfreq : float
        Sampling rate in Hz.
    times : ndarray, shape (n_samples,)
        Times of the window of raw traces, in s.
    traces : ndarray, shape (n_channels, n_samples)
        Raw traces of ``settings.channels`` in µV.
    freqs : ndarray, shape (n_freqs,)
        Frequencies of the power spectra in Hz.
    psd : ndarray, shape (n_channels, n_freqs)
        Welch power spectral density in µV²/Hz.
    event_origin : str or None
        Where the events come from (annotations or a trigger channel).
    event_counts : dict of str to int
        Events per label.
    labels : ndarray of str, shape (n_epochs,) or None
        Class of each epoch.
    epoch_channels : tuple of str
        Channels of the epochs (``settings.epochs.channels``).
    n_times : int
        Samples per epoch.
    covariances : ndarray, shape (n_epochs, p, p) or None
        One covariance per epoch, in µV².
    mean : ndarray, shape (p, p) or None
        Affine-invariant mean of the epoch covariances, in µV².
    geometry : dict of str to GeometrySummary
        Distances, 2-D MDS and mean under each metric of ``settings.metrics``.
    warnings : tuple of str
        What may make the numbers misleading, and what to do.
    stopped : str or None
        Why the epochs (or what follows them) could not be computed; what came before is kept.
    """

    settings: ExplorerSettings
    sfreq: float
    times: np.ndarray
    traces: np.ndarray
    freqs: np.ndarray
    psd: np.ndarray
    event_origin: str | None = None
    event_counts: dict[str, int] | None = None
    labels: np.ndarray | None = None
    epoch_channels: tuple[str, ...] = ()
    n_times: int = 0
    covariances: np.ndarray | None = None
    mean: np.ndarray | None = None
    geometry: dict[str, GeometrySummary] | None = None
    warnings: tuple[str, ...] = ()
    stopped: str | None = None

    def steps(self) -> tuple[str, ...]:
        """What :func:`explore` did, one Markdown sentence per step."""
        return (
            "the raw traces of the chosen channels (`settings.channels`) in a window of `settings.window` s from "
            "`settings.start`, in µV, and their Welch power spectra (2 s Hann segments, half overlapping) up to "
            "60 Hz, in µV²/Hz;",
            "the trial events, from the annotations or a trigger channel;",
            "epochs of the chosen classes and channels (`settings.epochs.classes`, `settings.epochs.channels`) "
            "from `settings.epochs.tmin` to `settings.epochs.tmax` s after each event, band-pass filtered "
            "(`settings.epochs.band`, zero-phase FIR, MNE), in µV;",
            "one covariance per epoch under the chosen estimator, and their affine-invariant (Karcher) mean;",
            "for each metric of `settings.metrics`: the pairwise distances, a classical MDS map in 2-D and the "
            "mean (pyRiemann).",
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, as the page shows them and the exported script writes them."""
        channels = list(self.settings.channels or ())
        out = {}
        if channels:
            traces = pd.DataFrame(self.traces.T, columns=channels)
            traces.insert(0, "time_s", self.times)
            psd = pd.DataFrame(self.psd.T, columns=channels)
            psd.insert(0, "frequency_hz", self.freqs)
            out = {"traces_uV": traces, "psd_uV2_per_Hz": psd}
        if self.event_counts is not None:
            out["events"] = pd.DataFrame({"label": list(self.event_counts), "count": list(self.event_counts.values())})
        if self.covariances is not None and self.labels is not None:
            out["epochs"] = pd.DataFrame({"epoch": np.arange(len(self.labels)), "label": self.labels})
            out["epoch_covariances_uV2"] = _stack_table(self.covariances, self.epoch_channels, "epoch")
        if self.mean is not None:
            out["mean_covariance_uV2"] = _matrix_table(self.mean, self.epoch_channels)
        out.update(_geometry_tables(self.geometry or {}, self.labels, self.epoch_channels))
        return out


@dataclass(frozen=True, eq=False)
class StackExploration:
    """What the explorer shows for a stack of SPD matrices.

    Parameters
    ----------
    settings : ExplorerSettings
        The explicit settings used.
    n_matrices : int
        Matrices in the stack.
    covariance, correlation : ndarray, shape (p, p)
        The matrix ``settings.matrix`` and its correlation.
    spectrum : Spectrum
        Its eigenvalues and condition number.
    groups : ndarray of str, shape (n_matrices,) or None
        Class label of each matrix, when the file has them.
    geometry : dict of str to GeometrySummary
        Distances, 2-D MDS and mean under each metric of ``settings.metrics``.
    warnings : tuple of str
        What may make the numbers misleading, and what to do.
    stopped : str or None
        Why the geometry could not be computed.
    """

    settings: ExplorerSettings
    n_matrices: int
    covariance: np.ndarray
    correlation: np.ndarray
    spectrum: Spectrum
    groups: np.ndarray | None = None
    geometry: dict[str, GeometrySummary] | None = None
    warnings: tuple[str, ...] = ()
    stopped: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Row and column names of the matrices: ``'0'``, ``'1'``, ..."""
        return tuple(str(i) for i in range(self.covariance.shape[0]))

    def steps(self) -> tuple[str, ...]:
        """What :func:`explore` did, one Markdown sentence per step."""
        return (
            "the chosen matrix of the stack (`settings.matrix`), its correlation, eigenvalues and condition number;",
            "for each metric of `settings.metrics`: the pairwise distances between the matrices, a classical MDS "
            "map in 2-D and the mean (pyRiemann).",
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, as the page shows them and the exported script writes them."""
        out = _covariance_tables(self.covariance, self.correlation, self.spectrum, self.names)
        out["covariance_summary"].insert(0, "matrix", [self.settings.matrix])
        out.update(_geometry_tables(self.geometry or {}, self.groups, self.names))
        return out


Exploration = TableExploration | RecordingExploration | StackExploration
"""The result of :func:`explore`, by kind of data."""


def explore(
    settings: ExplorerSettings,
    data: Any = None,
    *,
    memo: Memo | None = None,
    progress: Progress | None = None,
) -> Exploration:
    """Compute what the dataset explorer shows, from its settings.

    Parameters
    ----------
    settings : ExplorerSettings
        What to compute; automatic values are filled from the data (:meth:`ExplorerSettings.resolve`).
    data : TableDataset, EEGDataset, SPDStack or None
        The dataset ``settings.source`` names, already loaded; None to load it (uploads from the current
        folder, checked against their SHA-256).
    memo : callable or None
        Cache of the steps, ``memo(key, compute)``; None computes everything.
    progress : callable or None
        Called with the fraction done and the step, e.g. ``progress(0.5, "Bures-Wasserstein distances…")``.

    Returns
    -------
    TableExploration, RecordingExploration or StackExploration
        The numbers, the explicit settings, warnings (the dataset's own first: what reading it doubted)
        and ``tables()``.

    Raises
    ------
    ParameterError
        A setting the data cannot take (a column or channel it lacks, a band above its Nyquist frequency).
    DataSourceError
        ``data`` is None and an uploaded file is missing or differs from the recorded one.

    Examples
    --------
    >>> from covwb.sources import BuiltinSource
    >>> result = explore(ExplorerSettings(source=BuiltinSource("pottery"), metrics=()))
    >>> type(result).__name__, sorted(result.tables()), result.warnings
    ('TableExploration', ['correlation', 'covariance', 'covariance_summary', 'eigenvalues', 'summary'], ())
    >>> result.settings.columns[:3]  # automatic values made explicit
    ('Al2O3', 'Fe2O3', 'MgO')
    """
    dataset = settings.source.load() if data is None else data
    resolved, notes = settings.resolve(dataset)
    if notes:
        raise ParameterError(" ".join(notes))
    step = Steps(resolved.source.fingerprint(), memo, progress)
    if isinstance(dataset, TableDataset):
        result = _explore_table(resolved, dataset.frame, step)
    elif isinstance(dataset, SPDStack):
        result = _explore_stack(resolved, dataset, step)
    else:
        result = _explore_recording(resolved, dataset.raw, step)
    if dataset.warnings:
        result = dataclasses.replace(result, warnings=(*dataset.warnings, *result.warnings))
    return result


# --------------------------------------------------------------------------- steps


def _explore_table(settings: ExplorerSettings, frame: pd.DataFrame, step: Steps) -> TableExploration:
    summary = step("summary", (), lambda: _summary(frame), 0.0, "Summary statistics…")
    columns = settings.columns
    if columns is None or len(columns) < 2:
        message = (
            "This table has fewer than two numeric columns, so there is no covariance to show."
            if columns is None
            else "Choose at least two columns for a covariance."
        )
        return TableExploration(settings, summary, len(frame), stopped=message)
    key = (columns, settings.estimator, settings.shrinkage)
    try:
        n_complete, matrix = step("covariance", key, lambda: _table_covariance(frame, settings), 0.5, "Covariance…")
    except WorkbenchError as error:
        return TableExploration(settings, summary, len(frame), stopped=str(error))
    spec = spectrum(matrix)
    notes = []
    if n_complete < len(frame):
        notes.append(
            f"{len(frame) - n_complete} of {len(frame)} rows have a missing value in the chosen columns and were "
            "left out (complete-case analysis); fewer columns keep more rows."
        )
    notes.extend(_conditioning([spec.condition_number], "The covariance matrix"))
    return TableExploration(
        settings,
        summary,
        n_rows=len(frame),
        n_complete=n_complete,
        covariance=matrix,
        correlation=correlation(matrix),
        spectrum=spec,
        warnings=tuple(notes),
    )


def _explore_stack(settings: ExplorerSettings, stack: SPDStack, step: Steps) -> StackExploration:
    matrix = stack.matrices[settings.matrix]
    spec = spectrum(matrix)
    notes = _conditioning(_condition_numbers(stack.matrices), "matrices of the stack")
    geometry, more, stopped = _geometry(stack.matrices, settings.metrics, (), step)
    return StackExploration(
        settings,
        n_matrices=stack.matrices.shape[0],
        covariance=matrix,
        correlation=correlation(matrix),
        spectrum=spec,
        groups=None if stack.labels is None else np.asarray(stack.labels, dtype=str),
        geometry=geometry,
        warnings=tuple(notes + more),
        stopped=stopped,
    )


def _explore_recording(settings: ExplorerSettings, raw: Any, step: Steps) -> RecordingExploration:
    from covwb.eeg.epochs import extract_epochs, power_spectrum
    from covwb.eeg.events import find_trial_events

    channels = list(settings.channels or ())
    sfreq = float(raw.info["sfreq"])
    duration = raw.n_times / sfreq
    first, last = raw.time_as_index([settings.start, min(settings.start + settings.window, duration)])
    times = np.asarray(raw.times[first:last], dtype=np.float64)
    traces, freqs, psd = np.empty((0, times.size)), np.empty(0), np.empty((0, 0))
    if channels:
        traces = raw.get_data(picks=channels, start=int(first), stop=int(last)) * 1e6
        fmax = min(PSD_FMAX_HZ, sfreq / 2)
        freqs, psd = step(
            "psd", (tuple(channels),), lambda: power_spectrum(raw, picks=channels, fmax=fmax), 0.0, "Power spectra…"
        )
    partial: dict[str, Any] = {
        "settings": settings,
        "sfreq": sfreq,
        "times": times,
        "traces": traces,
        "freqs": freqs,
        "psd": psd,
    }
    notes: list[str] = []
    try:
        events = step("events", (), lambda: find_trial_events(raw), 0.05, "Events…")
        partial.update(event_origin=events.origin, event_counts=dict(events.counts))
        window = settings.epochs
        epochs = step(
            "epochs",
            (window,),
            lambda: extract_epochs(raw, events=events, **window.as_kwargs()),
            0.1,
            "Epochs (band-pass filter)…",
        )
        dropped = {label: n for label, n in epochs.settings["dropped"].items() if n}
        if dropped:
            counts = ", ".join(f"{label}: {n}" for label, n in dropped.items())
            notes.append(
                f"{sum(dropped.values())} epoch window(s) were dropped because they ran past the recording or "
                f"overlapped a BAD span ({counts})."
            )
        notes.extend(epochs.warnings)
        estimation = (window, settings.estimator, settings.shrinkage)
        covs = step(
            "covariances",
            estimation,
            lambda: covariances(epochs.X, settings.estimator, settings.shrinkage),
            0.2,
            "Covariances…",
        )
        partial.update(
            labels=np.asarray(epochs.y, dtype=str),
            epoch_channels=tuple(epochs.ch_names),
            n_times=int(epochs.X.shape[-1]),
            covariances=covs,
        )
        notes.extend(_conditioning(_condition_numbers(covs), "epoch covariances"))
        mean, mean_notes = step(
            "mean", estimation, lambda: _recorded(lambda: mean_covariance(covs, "riemann")), 0.3, "Mean of the epochs…"
        )
        partial["mean"] = mean
        notes.extend(f"The affine-invariant mean of the epochs: {note}" for note in mean_notes)
    except WorkbenchError as error:
        return RecordingExploration(**partial, warnings=tuple(notes), stopped=str(error))
    geometry, more, stopped = _geometry(covs, settings.metrics, estimation, step)
    return RecordingExploration(**partial, geometry=geometry, warnings=tuple(notes + more), stopped=stopped)


def _geometry(
    covs: np.ndarray, metrics: tuple[str, ...], key: tuple[Hashable, ...], step: Steps
) -> tuple[dict[str, GeometrySummary], list[str], str | None]:
    """Geometry under each metric, the warnings of its means, and why it stopped (or None)."""
    found: dict[str, GeometrySummary] = {}
    notes: list[str] = []
    for i, metric in enumerate(metrics):
        done = 0.4 + 0.6 * i / max(len(metrics), 1)
        try:
            summary, messages = step(
                "geometry",
                (*key, metric),
                lambda metric=metric: _recorded(lambda: summarise_geometry(covs, metric)),
                done,
                f"{NUMPY_METRICS[metric]} distances and embedding…",
            )
        except WorkbenchError as error:
            return found, notes, str(error)
        found[metric] = summary
        notes.extend(summary.warnings)
        notes.extend(f"The {NUMPY_METRICS[metric].lower()} mean: {message}" for message in messages)
    return found, notes, None


def _recorded(compute: Callable[[], T]) -> tuple[T, tuple[str, ...]]:
    """``compute()`` and, as sentences, the warnings it raised (pyRiemann's non-convergence, say)."""
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        value = compute()
    messages = []
    for warning in caught:
        text = str(warning.message).strip().rstrip(".")
        if "converg" in text.lower():
            messages.append(f"it stopped before converging ({text}); treat it as approximate.")
        elif issubclass(warning.category, (RuntimeWarning, UserWarning)):
            messages.append(f"the computation warned: {text}.")
    return value, tuple(dict.fromkeys(messages))


def _summary(frame: pd.DataFrame) -> pd.DataFrame:
    summary = frame.iloc[:, :SUMMARY_COLUMNS].describe(include="all").T
    summary.index = summary.index.astype(str)
    summary.index.name = "column"
    return summary


def _table_covariance(frame: pd.DataFrame, settings: ExplorerSettings) -> tuple[int, np.ndarray]:
    """Rows without a missing value in the chosen columns, and their covariance."""
    values = frame[list(settings.columns or ())].dropna().to_numpy(dtype=float)
    return len(values), covariance(values, settings.estimator, settings.shrinkage)


def _condition_numbers(covs: np.ndarray) -> np.ndarray:
    eig = np.linalg.eigvalsh(np.asarray(covs, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(eig[:, 0] > 0, eig[:, -1] / eig[:, 0], np.inf)


def _conditioning(numbers: Any, what: str) -> list[str]:
    numbers = np.asarray(numbers, dtype=np.float64)
    bad = numbers > ILL_CONDITIONED
    if not bad.any():
        return []
    worst = float(numbers.max())
    shown = "infinite (singular)" if not np.isfinite(worst) else f"{worst:.2g}"
    subject = what if numbers.size == 1 else f"{int(bad.sum())} of {numbers.size} {what}"
    verb = "is" if numbers.size == 1 else "are"
    return [
        f"{subject} {verb} ill-conditioned (condition number up to {shown}, above {ILL_CONDITIONED:.0e}): "
        "inverses, distances and means of such matrices are unreliable. Choose the Ledoit-Wolf or OAS estimator, "
        "or fewer variables."
    ]


def _resolved_columns(columns: tuple[str, ...] | None, frame: pd.DataFrame, notes: list[str]) -> tuple[str, ...] | None:
    from covwb.io.tables import numeric_columns

    numeric = [str(c) for c in numeric_columns(frame)]
    if len(numeric) < 2:
        return None
    if columns is not None:
        missing = [c for c in columns if c not in numeric]
        if not missing:
            return columns
        notes.append(f"The table has no numeric column {missing[0]!r}; the page uses its first numeric columns.")
    return tuple(numeric[:DEFAULT_COLUMNS])


def trial_events(raw: Any) -> TrialEvents | None:
    """A recording's trial events, or None when it has none (see :func:`covwb.eeg.events.find_trial_events`).

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording.

    Returns
    -------
    TrialEvents or None
        Its events, from the annotations or a trigger channel; their labels are ``event_id``'s keys.
    """
    from covwb.eeg.events import find_trial_events

    try:
        return find_trial_events(raw)
    except WorkbenchError:
        return None


# --------------------------------------------------------------------------- tables


def _matrix_table(matrix: np.ndarray, names: tuple[str, ...] | list[str] | None) -> pd.DataFrame:
    labels = [str(n) for n in names] if names is not None else [str(i) for i in range(matrix.shape[0])]
    frame = pd.DataFrame(matrix, index=labels, columns=labels)
    frame.index.name = "row"
    return frame


def _covariance_tables(
    matrix: np.ndarray, corr: np.ndarray | None, spec: Spectrum, names: tuple[str, ...] | None
) -> dict[str, pd.DataFrame]:
    eigenvalues = pd.DataFrame({"rank": np.arange(1, spec.eigenvalues.size + 1), "eigenvalue": spec.eigenvalues})
    summary = pd.DataFrame(
        {
            "condition_number": [spec.condition_number],
            "numerical_rank": [spec.rank],
            "positive_definite": [spec.is_positive_definite],
        }
    )
    out = {"covariance": _matrix_table(matrix, names), "eigenvalues": eigenvalues, "covariance_summary": summary}
    if corr is not None:
        out["correlation"] = _matrix_table(corr, names)
    return out


def _stack_table(stack: np.ndarray, names: tuple[str, ...], what: str) -> pd.DataFrame:
    n, p, _ = stack.shape
    labels = [str(c) for c in names]
    frame = pd.DataFrame(stack.reshape(n * p, p), columns=labels)
    frame.insert(0, "row", labels * n)
    frame.insert(0, what, np.repeat(np.arange(n), p))
    return frame


def _geometry_tables(
    geometry: dict[str, GeometrySummary], groups: np.ndarray | None, names: tuple[str, ...]
) -> dict[str, pd.DataFrame]:
    out = {}
    for metric, summary in geometry.items():
        n = summary.distances.shape[0]
        index = pd.Index(np.arange(n), name="matrix")
        out[f"distances_{metric}"] = pd.DataFrame(summary.distances, index=index, columns=[str(i) for i in range(n)])
        embedding = pd.DataFrame(summary.embedding, index=index, columns=["mds_1", "mds_2"])
        if groups is not None:
            embedding.insert(0, "label", groups)
        out[f"embedding_{metric}"] = embedding
        out[f"mean_{metric}"] = _matrix_table(summary.mean, names)
    return out
