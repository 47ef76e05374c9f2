"""The augmented-covariance page's analysis: one settings object, one plan, one result whose tables the page shows.

:func:`analyse_acm` computes everything the EEG page shows from :class:`ACMSettings`; :func:`plan_acm` is the
same computation as a :class:`covwb.jobs.Plan` (the page submits it as a background job, an exported script
runs it with :func:`covwb.jobs.run_plan`; the numbers are the same):

1. the recording: the built-in simulated one, or one or several uploaded runs joined in upload order, each
   with its session label (:class:`UploadedRecordings`; :func:`covwb.eeg.sessions.combine_recordings`);
2. epochs of each session as :class:`~covwb.eeg.epochs.EpochSettings` says (classes, window, band, channels),
   in µV (:func:`covwb.eeg.sessions.session_epochs`);
3. the cross-validated evaluation of the chosen pipelines with the nested order × lag search or the Takens
   selection (the two stages of :func:`covwb.eeg.evaluation.plan_evaluation`, unchanged);
4. a last stage, the covariance views: the affine-invariant class means of the order-1 covariances and of the
   augmented covariances at the (order, lag) chosen in most outer folds, the trials' 2-D map in the tangent
   space at that (order, lag) (:func:`~covwb.eeg.evaluation.class_means`,
   :func:`~covwb.eeg.evaluation.tangent_embedding`, on every trial), and, when the grid chose (order, lag),
   the Takens curves on the first outer training fold for reference.

Steps 1-2 run in the calling process (cached in ``memo`` when given); steps 3-4 are tasks. The result,
:class:`ACMAnalysis`, has the resolved settings, ``warnings`` (what reading the files doubted, epochs dropped
or running past the next event, ill-conditioned matrices, Riemannian means that stopped early, a library that
warned while fitting, and the sample estimator where its largest matrices have fewer than four samples per
row), the sentence saying which covariance estimator ran and why (``estimator_note``), and ``tables()``.

Cost: the evaluation's (see :mod:`covwb.eeg.evaluation`), plus two or three Riemannian means over every trial
at the chosen order for the views, and one Takens selection (auto-mutual information and Cao's E1) on one
training fold.
"""

from __future__ import annotations

import dataclasses
import warnings as python_warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from covwb._steps import Memo
from covwb.covariance.estimators import ESTIMATORS
from covwb.datasets.types import EEGDataset
from covwb.eeg.augmented import DEFAULT_ESTIMATOR
from covwb.eeg.epochs import EpochSettings
from covwb.eeg.evaluation import KERNELS, SCHEMES, Evaluation, SearchGrid, make_folds, plan_evaluation
from covwb.eeg.pipelines import PIPELINES
from covwb.errors import ParameterError
from covwb.jobs.plan import Plan, Progress, Ref, Task, run_plan
from covwb.settings import Settings, setting
from covwb.sources import SIMULATED_EEG, BuiltinSource, SourceFile, UploadSource

T = TypeVar("T")

DEFAULT_PIPELINES = ("acm_ts_svm", "acm_mdm", "ts_svm", "mdm")
"""The pipelines the page evaluates unless others are chosen: both ACM pipelines and their baselines."""
SELECTIONS: dict[str, str] = {"grid": "Nested grid search", "takens": "Takens (AMI + Cao E1)"}
"""How the ACM pipelines choose order and lag."""
TAKENS_MAX_ORDER = 10
"""Largest order the Takens selection examines (the grid's largest order too)."""
ILL_CONDITIONED = 1e10
"""Condition number above which the views' matrices are reported as ill-conditioned."""
_TAKENS_WEIGHT = 5.0
"""Relative cost of the Takens reference curves (in the evaluation's task-weight unit, about 0.1 s)."""
_SAMPLES_PER_ROW = 4
"""With the sample estimator, fewer samples per row than this in the largest matrices is worth a warning."""


@dataclass(frozen=True)
class UploadedRecordings(Settings):
    """Uploaded EEG recordings, one per run, each with the session it belongs to.

    Each run is one :class:`~covwb.sources.UploadSource` read by the ``"eeg"`` reader: a single file
    (EDF, BDF, GDF, FIF) or a header with its companions (BrainVision, EEGLAB). The runs are joined in this
    order (:func:`covwb.eeg.sessions.combine_recordings`), so they must share channels and sampling rate.

    Parameters
    ----------
    runs : tuple of UploadSource
        The recordings, in upload order.
    sessions : tuple of str
        Session label of each run (runs with the same label form one session). A single run whose
        annotations name several sessions keeps those.

    Examples
    --------
    >>> from covwb.io.uploads import UploadedBytes
    >>> run = UploadSource.of("eeg", [UploadedBytes("S001R04.edf", b"0")])
    >>> source = UploadedRecordings(runs=(run,), sessions=("1",))
    >>> [f.name for f in source.files], source.to_query()["sessions"]
    (['S001R04.edf'], '["1"]')
    >>> UploadedRecordings(runs=(run,), sessions=("1", "2"))
    Traceback (most recent call last):
    ...
    covwb.errors.ParameterError: Give one session label per recording: 1 recording(s), 2 label(s).
    """

    tag = "recordings"
    runs: tuple[UploadSource, ...] = setting(label="Recordings", min_items=1)
    sessions: tuple[str, ...] = setting(label="Sessions", min_items=1)

    def check(self) -> None:
        if len(self.sessions) != len(self.runs):
            raise ParameterError(
                f"Give one session label per recording: {len(self.runs)} recording(s), {len(self.sessions)} label(s)."
            )
        for run, label in zip(self.runs, self.sessions):
            if run.reader != "eeg":
                raise ParameterError(
                    f"The recording {run.files[0].name!r} is read as {run.reader!r}; the EEG page reads recordings "
                    "with events ('eeg')."
                )
            if not label.strip():
                raise ParameterError(f"The session label of {run.files[0].name!r} is empty; give every run a label.")
        names = [f.name for f in self.files]
        if len(set(names)) != len(names):
            raise ParameterError("Two uploaded files have the same name; upload each file once.")

    @property
    def files(self) -> tuple[SourceFile, ...]:
        """Every uploaded file of every run, in order."""
        return tuple(f for run in self.runs for f in run.files)

    @property
    def names(self) -> tuple[str, ...]:
        """Each run's name: its first file's name."""
        return tuple(run.files[0].name for run in self.runs)

    def describe(self) -> str:
        """One sentence naming the runs, their sessions and digests, for reports and notebooks."""
        runs = "; ".join(f"{run.describe()} as session {label!r}" for run, label in zip(self.runs, self.sessions))
        return f"{len(self.runs)} uploaded recording(s): {runs}"

    def load(self, folder: str | Path | None = None) -> tuple[EEGDataset, ...]:
        """Read every run from ``folder`` (by base name) after checking its SHA-256.

        Parameters
        ----------
        folder : path or None
            Where the files are; the current folder when None.

        Returns
        -------
        tuple of EEGDataset
            One per run, in order: the ``data`` of :func:`analyse_acm`.

        Raises
        ------
        DataSourceError
            A file is missing from ``folder`` or differs from the uploaded one.
        EEGFormatError
            A file cannot be read as EEG.
        """
        return tuple(run.load(folder) for run in self.runs)


ACMSource = BuiltinSource | UploadedRecordings
"""The data of the EEG page: the built-in simulated recording (by seed), or uploaded runs with sessions."""


@dataclass(frozen=True)
class ACMSettings(Settings):
    """Everything the augmented-covariance page lets one choose.

    Automatic epoch values (None) are made explicit for a recording by :meth:`resolve`.

    Parameters
    ----------
    source : BuiltinSource or UploadedRecordings
        The simulated recording (``BuiltinSource("simulated_eeg", seed=...)``) or uploaded runs with sessions.
    epochs : EpochSettings
        Classes, window (s after each event), band-pass (Hz) and channels of the epochs.
    estimator : {"oas", "sample", "ledoit_wolf", "shrinkage"}
        Covariance estimator of every pipeline; OAS by default (well-posed at every order, see
        :mod:`covwb.eeg.augmented`).
    pipelines : tuple of str
        Keys of :data:`covwb.eeg.pipelines.PIPELINES`, in display order.
    selection : {"grid", "takens"}
        How the ACM pipelines choose order and lag: nested grid search, or the Takens criteria on each outer
        training fold.
    orders, lags : tuple of int
        Candidates of the grid search: orders m in 1..10 and lags τ in 1..10 samples.
    svm_C : tuple of float
        SVM regularisation values searched (> 0).
    kernels : tuple of str
        SVM kernels searched (``"linear"``, ``"rbf"``).
    max_lag : int
        Largest lag (samples) the Takens selection examines.
    scheme : {"within", "cross"}
        Within-session stratified k-fold, or leave one session out.
    n_folds : int
        Outer folds of the within-session scheme.
    inner_folds : int
        Inner folds of the nested search.
    seed : int
        Seed of every shuffle and random draw.

    Examples
    --------
    >>> settings = ACMSettings(orders=[1, 2], lags=[5], n_folds=3)
    >>> settings.grid.orders, settings.to_query()
    ((1, 2), {'source': 'builtin', 'source.name': 'simulated_eeg', 'orders': '[1,2]', 'lags': '[5]', 'n_folds': '3'})
    >>> ACMSettings.from_query({"scheme": "sideways"})[1]
    ("The link's Evaluation was not used (Evaluation must be one of 'within', 'cross', got 'sideways'); the page uses 'within'.",)
    """

    source: ACMSource = BuiltinSource(SIMULATED_EEG)
    epochs: EpochSettings = setting(EpochSettings(), label="Epochs")
    estimator: str = setting(DEFAULT_ESTIMATOR, label="Covariance estimator", choices=ESTIMATORS)
    pipelines: tuple[str, ...] = setting(DEFAULT_PIPELINES, label="Pipelines", choices=PIPELINES, min_items=1)
    selection: str = setting("grid", label="Order and lag of the ACM", choices=SELECTIONS)
    orders: tuple[int, ...] = setting((1, 2, 3, 4), label="Orders m", low=1, high=TAKENS_MAX_ORDER, min_items=1)
    lags: tuple[int, ...] = setting((1, 2, 3, 4, 5), label="Lags τ (samples)", low=1, high=10, min_items=1)
    svm_C: tuple[float, ...] = setting((0.5, 1.0, 1.5), label="SVM C", low=1e-6, high=1e6, min_items=1)
    kernels: tuple[str, ...] = setting(KERNELS, label="SVM kernels", choices=KERNELS, min_items=1)
    max_lag: int = setting(30, label="Takens: largest lag (samples)", low=2, high=100)
    scheme: str = setting("within", label="Evaluation", choices=SCHEMES)
    n_folds: int = setting(5, label="Folds (within-session)", low=2, high=10)
    inner_folds: int = setting(3, label="Inner folds (search)", low=2, high=10)
    seed: int = setting(42, label="Seed", low=0, high=2**31 - 1)

    def check(self) -> None:
        if isinstance(self.source, BuiltinSource) and self.source.name != SIMULATED_EEG:
            raise ParameterError(
                f"The EEG page reads EEG recordings; the built-in {self.source.name!r} is a table. Use "
                f"BuiltinSource({SIMULATED_EEG!r}) or uploaded recordings."
            )
        for label, values in (
            ("pipeline", self.pipelines),
            ("order", self.orders),
            ("lag", self.lags),
            ("SVM C", self.svm_C),
            ("kernel", self.kernels),
        ):
            if len(set(values)) != len(values):
                raise ParameterError(f"A {label} is given twice among {', '.join(map(str, values))}; give each once.")

    @property
    def grid(self) -> SearchGrid:
        """The candidates of the nested search (SVM C in increasing order)."""
        return SearchGrid(orders=self.orders, lags=self.lags, svm_C=tuple(sorted(self.svm_C)), kernels=self.kernels)

    @property
    def augmented(self) -> bool:
        """Whether an ACM pipeline (whose order and lag are chosen) is evaluated."""
        return any(PIPELINES[key].augmented for key in self.pipelines)

    def resolve(self, data: Any, *, memo: Memo | None = None) -> tuple[ACMSettings, tuple[str, ...]]:
        """Explicit settings for ``data``: the epochs' classes, channels and band made explicit.

        Parameters
        ----------
        data : EEGDataset or sequence of EEGDataset
            The recording ``source`` loads (one per uploaded run).
        memo : callable or None
            Cache of the joined recording (:func:`acm_recording`).

        Returns
        -------
        settings : ACMSettings
            With explicit epoch settings (the first two event labels, the EEG channels not marked bad, the
            band fitted below the Nyquist frequency).
        notes : tuple of str
            One sentence per value the recording cannot take, replaced by its default.

        Raises
        ------
        ParameterError, EEGFormatError
            The data do not match the source, the runs cannot be joined, or the recording has no events.
        """
        recording, events = acm_recording(self.source, data, memo=memo)
        epochs, notes = self.epochs.resolve(recording.raw, events=events)
        return self.replace(epochs=epochs), notes


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class ACMAnalysis:
    """What the augmented-covariance page shows.

    Parameters
    ----------
    settings : ACMSettings
        The explicit settings used.
    evaluation : Evaluation
        Scores per pipeline and outer fold with the chosen settings, summary, inner grid scores, out-of-fold
        predictions, Takens selections (see :class:`covwb.eeg.evaluation.Evaluation`).
    ch_names : tuple of str
        Channels of the epochs.
    sfreq : float
        Sampling rate in Hz.
    n_times : int
        Samples per epoch.
    labels, sessions : ndarray of str, shape (n_trials,)
        Class and session of each trial (trial ``i`` is row ``i`` of the predictions' ``trial``).
    order, lag : int
        The (order, lag) chosen in most outer folds (1, 1 without an ACM pipeline): that of the views.
    means : dict of str to ndarray, shape (C, C)
        Affine-invariant mean of each class's order-1 covariances, in µV².
    acm_means : dict of str to ndarray, shape (order * C, order * C) or None
        The same for the augmented covariances at (``order``, ``lag``); None when ``order`` is 1.
    embedding : ndarray, shape (n_trials, 2)
        The trials on the first two principal axes of their tangent vectors at (``order``, ``lag``) (unitless).
    explained : ndarray, shape (2,)
        Fraction of the tangent-space variance of each axis.
    takens : tuple of TakensSelection
        Takens curves: one per outer fold when the Takens criteria chose (order, lag), else the first outer
        training fold's, for reference, when an ACM pipeline was searched on the grid; empty otherwise.
    takens_reference : bool
        Whether ``takens`` is the reference curve of a grid search (not what chose the order and lag).
    estimator_note : str
        Which covariance estimator ran and why.
    warnings : tuple of str
        What may make the numbers misleading, and what to do.
    """

    settings: ACMSettings
    evaluation: Evaluation
    ch_names: tuple[str, ...]
    sfreq: float
    n_times: int
    labels: np.ndarray
    sessions: np.ndarray
    order: int
    lag: int
    means: dict[str, np.ndarray]
    acm_means: dict[str, np.ndarray] | None
    embedding: np.ndarray
    explained: np.ndarray
    takens: tuple[Any, ...] = ()
    takens_reference: bool = False
    estimator_note: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def metric(self) -> str:
        """The main metric: ``"roc_auc"`` for two classes, else ``"accuracy"``."""
        return self.evaluation.metrics[0]

    @property
    def acm_names(self) -> tuple[str, ...]:
        """Rows of the augmented matrices at (order, lag): ``C3``, ..., ``C3(t+5)``, ... (lag in samples)."""
        return tuple(f"{c}(t+{p * self.lag})" if p else c for p in range(max(self.order, 1)) for c in self.ch_names)

    def steps(self) -> tuple[str, ...]:
        """What :func:`analyse_acm` did, one Markdown sentence per step."""
        return (
            "the recording: the built-in simulated one, or the uploaded runs joined in order, each with its "
            "session label (`settings.source`);",
            "epochs of each session (`settings.epochs`: classes, window in s after each event, zero-phase FIR "
            "band-pass in Hz, channels), in µV;",
            "the cross-validated evaluation of `settings.pipelines` (`settings.scheme`, `settings.n_folds` outer "
            "folds, seeded by `settings.seed`): each ACM pipeline chooses its order and lag inside every outer "
            "training fold, by a nested grid search over `settings.orders` × `settings.lags` (and the SVM's C "
            "and kernel) with `settings.inner_folds` inner folds, or by the Takens criteria; ROC-AUC for two "
            "classes, accuracy and balanced accuracy for more;",
            "the covariance views on every trial: the affine-invariant class means of the covariances and of the "
            "augmented covariances at the (order, lag) chosen in most folds, the trials' 2-D map in the tangent "
            "space there, and the Takens curves (auto-mutual information, Cao's E1).",
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, as the page shows them and the exported script writes them.

        ``score_summary`` (mean and SD over folds per pipeline), ``fold_scores`` (per pipeline and outer fold:
        scores, chosen order, lag, C, kernel, compute seconds), ``grid_scores`` (mean inner score per pipeline,
        order and lag; grid search only), ``predictions`` (out of fold), ``trials`` (class and session of each
        trial), ``class_means_uV2`` and ``acm_class_means_uV2`` (class-mean matrices, one block of rows per
        class), ``tangent_embedding`` and ``tangent_embedding_variance``, ``takens_curves`` (when computed).
        """
        ev = self.evaluation
        out: dict[str, pd.DataFrame] = {"score_summary": ev.summary, "fold_scores": ev.scores}
        if ev.grid_scores:
            rows = [
                {"pipeline": label, "order": m, "lag": t, f"mean_inner_{self.metric}": values[i, j]}
                for label, values in ev.grid_scores.items()
                for i, m in enumerate(self.settings.orders)
                for j, t in enumerate(self.settings.lags)
            ]
            out["grid_scores"] = pd.DataFrame(rows)
        out["predictions"] = pd.concat(
            [frame.assign(pipeline=label)[["pipeline", *frame.columns]] for label, frame in ev.predictions.items()],
            ignore_index=True,
        )
        trials = pd.DataFrame({"trial": np.arange(len(self.labels)), "label": self.labels, "session": self.sessions})
        out["trials"] = trials
        out["class_means_uV2"] = _means_table(self.means, self.ch_names)
        if self.acm_means is not None:
            out["acm_class_means_uV2"] = _means_table(self.acm_means, self.acm_names)
        embedding = trials.assign(pc1=self.embedding[:, 0], pc2=self.embedding[:, 1])
        out["tangent_embedding"] = embedding.assign(order=self.order, lag=self.lag)
        out["tangent_embedding_variance"] = pd.DataFrame({"axis": ["pc1", "pc2"], "explained_fraction": self.explained})
        if self.takens:
            out["takens_curves"] = _takens_table(self.takens, self.takens_reference)
        return out


def _means_table(means: dict[str, np.ndarray], names: Sequence[str]) -> pd.DataFrame:
    """Class-mean matrices stacked: columns ``class``, ``row`` and one per variable."""
    frames = []
    for label, matrix in means.items():
        frame = pd.DataFrame(matrix, columns=list(names))
        frame.insert(0, "row", list(names))
        frame.insert(0, "class", label)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _takens_table(selections: Sequence[Any], reference: bool) -> pd.DataFrame:
    """The AMI and E1 curves of each selection, long: fold, curve, x, value, chosen."""
    frames = []
    for fold, sel in enumerate(selections, start=1):
        for curve, x, values, chosen in (
            ("ami_nats", sel.lags, sel.ami, sel.lag),
            ("cao_e1", sel.orders, sel.e1, sel.order),
        ):
            frames.append(
                pd.DataFrame(
                    {
                        "fold": fold,
                        "curve": curve,
                        "x": np.asarray(x, dtype=int),
                        "value": np.asarray(values, dtype=float),
                        "chosen": np.asarray(x) == chosen,
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    table.insert(1, "role", "reference (grid search chose)" if reference else "selection")
    return table


# --------------------------------------------------------------------------- data and epochs


def _datasets(source: ACMSource, data: Any) -> tuple[EEGDataset, ...]:
    """``data`` as one dataset per run of ``source``; ParameterError when they do not match."""
    datasets = (data,) if isinstance(data, EEGDataset) else tuple(data)
    expected = len(source.runs) if isinstance(source, UploadedRecordings) else 1
    if len(datasets) != expected or not all(isinstance(d, EEGDataset) for d in datasets):
        raise ParameterError(
            f"The data do not match the settings' source: {expected} EEG recording(s) expected, got "
            f"{len(datasets)}; load them with settings.source.load()."
        )
    return datasets


def acm_recording(source: ACMSource, data: Any, *, memo: Memo | None = None) -> tuple[Any, Any]:
    """The recording of ``source`` as one (runs joined in order) and its trial events.

    Parameters
    ----------
    source : BuiltinSource or UploadedRecordings
        Where the data come from (the session labels of the runs).
    data : EEGDataset or sequence of EEGDataset
        What ``source.load()`` returns.
    memo : callable or None
        Cache, keyed by the source's fingerprint (the joined recording is computed once per source).

    Returns
    -------
    recording : covwb.eeg.sessions.Recording
        The joined recording (``raw`` in volts) and each run's first sample and session label.
    events : covwb.eeg.events.TrialEvents
        Its events (annotations or trigger channel).

    Raises
    ------
    ParameterError
        The data do not match the source, or the runs differ in channels or sampling rate.
    EEGFormatError
        The recording has no events.
    """
    return _cached(memo, ("acm-recording", source.fingerprint()), partial(_joined, source, data))


def _joined(source: ACMSource, data: Any) -> tuple[Any, Any]:
    from covwb.eeg.events import find_trial_events
    from covwb.eeg.sessions import combine_recordings

    datasets = _datasets(source, data)
    sessions = source.sessions if isinstance(source, UploadedRecordings) else ()
    recording = combine_recordings([d.raw for d in datasets], sessions, [d.name for d in datasets])
    return recording, find_trial_events(recording.raw)


def acm_epochs(settings: ACMSettings, data: Any = None, *, memo: Memo | None = None) -> Any:
    """The epochs :func:`analyse_acm` evaluates, with their sessions.

    Parameters
    ----------
    settings : ACMSettings
        Explicit or not (automatic epoch values are resolved for the data).
    data : EEGDataset, sequence of EEGDataset or None
        What ``settings.source.load()`` returns; loaded when None.
    memo : callable or None
        Cache of the joined recording and of the epochs, keyed by the source's fingerprint and the epoch
        settings.

    Returns
    -------
    covwb.eeg.sessions.SessionEpochs
        ``X`` (n_trials, C, T) in µV, ``y``, ``sessions``, channel names, sampling rate, warnings.

    Raises
    ------
    ParameterError
        A value the recording cannot take, fewer than two classes, a window outside the recording...
    """
    dataset = settings.source.load() if data is None else data
    resolved, notes = settings.resolve(dataset, memo=memo)
    if notes:
        raise ParameterError(" ".join(notes))
    return _epochs(resolved, dataset, memo)


def _cached(memo: Memo | None, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    return compute() if memo is None else memo(key, compute)


def _epochs(settings: ACMSettings, data: Any, memo: Memo | None) -> Any:
    from covwb.eeg.sessions import session_epochs

    recording, events = acm_recording(settings.source, data, memo=memo)
    return _cached(
        memo,
        ("acm-epochs", settings.source.fingerprint(), settings.epochs),
        lambda: session_epochs(recording, events, **settings.epochs.as_kwargs()),
    )


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True, eq=False)
class _Context:
    """What the last stage needs besides the evaluation."""

    settings: ACMSettings
    data: dict[str, np.ndarray]
    ch_names: tuple[str, ...]
    sfreq: float
    n_times: int
    sessions: np.ndarray
    first_train: np.ndarray
    notes: tuple[str, ...]
    share: float


def plan_acm(settings: ACMSettings, data: Any = None, *, memo: Memo | None = None) -> Plan:
    """The analysis of :func:`analyse_acm` as a :class:`~covwb.jobs.Plan`, for any runner.

    The stages of :func:`covwb.eeg.evaluation.plan_evaluation` ("order × lag search", "refits and fixed
    pipelines"), then "covariance views", each stage's share of the progress estimated from its tasks'
    weights (the views' at the grid's largest order): task ``views/order1/lag1`` (class means
    of the covariances, and the tangent map when no other order was chosen), ``views/order{m}/lag{tau}`` (class
    means and tangent map of the augmented covariances at the most-chosen (order, lag)) and, for a grid
    search, ``views/takens`` (Takens curves on the first outer training fold). Its ``combine`` returns the
    :class:`ACMAnalysis`. The epochs are ``Plan.data["X"]`` and ``["y"]`` in every stage.

    Parameters
    ----------
    settings, data, memo
        As :func:`analyse_acm`; the recording and the epochs are computed here (in the caller), through
        ``memo`` when given.

    Returns
    -------
    Plan

    Raises
    ------
    ParameterError
        As :func:`analyse_acm`, before any task runs.

    Examples
    --------
    >>> from covwb.datasets import load
    >>> data = load("simulated_eeg", n_trials_per_class=6, n_sessions=1)
    >>> settings = ACMSettings(pipelines=["acm_mdm"], orders=[1, 2], lags=[3], n_folds=2, inner_folds=2,
    ...                        epochs=EpochSettings(channels=("C3", "Cz", "C4"), tmax=1.5))
    >>> plan = plan_acm(settings, data)
    >>> plan.name, len(plan.tasks), plan.progress_span[1] < 1.0
    ('order × lag search', 4, True)
    """
    dataset = settings.source.load() if data is None else data
    resolved, notes = settings.resolve(dataset, memo=memo)
    if notes:
        raise ParameterError(" ".join(notes))
    epochs = _epochs(resolved, dataset, memo)
    grid = resolved.grid
    stages = plan_evaluation(
        epochs.X,
        epochs.y,
        epochs.sessions,
        resolved.pipelines,
        scheme=resolved.scheme,
        n_folds=resolved.n_folds,
        selection=resolved.selection,
        grid=grid,
        estimator=resolved.estimator,
        inner_folds=resolved.inner_folds,
        max_order=TAKENS_MAX_ORDER,
        max_lag=resolved.max_lag,
        seed=resolved.seed,
    )
    labels, sessions = stages.data["y"], np.asarray(epochs.sessions).astype(str)
    share = _evaluation_share(stages, resolved, *epochs.X.shape[:2])
    folds = make_folds(labels, sessions, resolved.scheme, resolved.n_folds, resolved.seed)
    context = _Context(
        settings=resolved,
        data={"X": stages.data["X"], "y": labels},
        ch_names=tuple(epochs.ch_names),
        sfreq=float(epochs.sfreq),
        n_times=int(epochs.X.shape[-1]),
        sessions=sessions,
        first_train=folds[0][0],
        notes=(*_reading_notes(dataset), *_epoch_notes(epochs)),
        share=share,
    )
    return _then(stages, partial(_views, context=context), share)


def analyse_acm(
    settings: ACMSettings,
    data: Any = None,
    *,
    memo: Memo | None = None,
    progress: Progress | None = None,
    n_jobs: int = 1,
) -> ACMAnalysis:
    """Evaluate the ACM pipelines and baselines and compute the covariance views, from the page's settings.

    ``run_plan(plan_acm(settings, data, memo=memo), n_jobs=n_jobs, progress=progress)``: the page runs the same
    plan as a background job.

    Parameters
    ----------
    settings : ACMSettings
        What to compute; automatic epoch values are filled from the data (:meth:`ACMSettings.resolve`).
    data : EEGDataset, sequence of EEGDataset or None
        What ``settings.source.load()`` returns (one dataset per uploaded run); None to load it (uploads from
        the current folder, checked against their SHA-256).
    memo : callable or None
        Cache of the joined recording and the epochs, ``memo(key, compute)``; None computes them.
    progress : callable (fraction, text) or None
        Receives the fraction done and the step just finished, with an estimate of the time left.
    n_jobs : int
        Worker processes (joblib); the numbers do not depend on it.

    Returns
    -------
    ACMAnalysis
        Scores, chosen settings, predictions, covariance views, warnings and ``tables()``.

    Raises
    ------
    ParameterError
        A setting the data cannot take (a class, channel or band the recording lacks; a single class; too
        few trials for the folds; epochs too short for the grid; one session for cross-session evaluation).
    DataSourceError
        ``data`` is None and an uploaded file is missing or differs from the recorded one.

    Examples
    --------
    >>> from covwb.datasets import load
    >>> data = load("simulated_eeg", n_trials_per_class=6, n_sessions=1)
    >>> settings = ACMSettings(pipelines=["acm_mdm", "mdm"], orders=[1, 2], lags=[3], n_folds=2, inner_folds=2,
    ...                        epochs=EpochSettings(channels=("C3", "Cz", "C4"), tmax=1.5))
    >>> result = analyse_acm(settings, data)
    >>> result.evaluation.summary["pipeline"].tolist(), result.means["left_hand"].shape
    (['ACM + MDM', 'MDM'], (3, 3))
    >>> sorted(result.tables())[:4]
    ['acm_class_means_uV2', 'class_means_uV2', 'fold_scores', 'grid_scores']
    """
    return run_plan(plan_acm(settings, data, memo=memo), n_jobs=n_jobs, progress=progress)


def _then(plan: Plan, after: Callable[[Any], Any], share: float) -> Plan:
    """``plan`` (and its follow-up stages) squeezed into the first ``share`` of the progress, then ``after``."""
    low, high = plan.progress_span
    return dataclasses.replace(
        plan,
        combine=partial(_combine_then, combine=plan.combine, after=after, share=share),
        progress_span=(low * share, high * share),
    )


def _combine_then(
    results: dict[str, Any], *, combine: Callable[[dict[str, Any]], Any], after: Callable, share: float
) -> Any:
    out = combine(results)
    return _then(out, after, share) if isinstance(out, Plan) else after(out)


def _view_weight(n_trials: int, rows: int, embed: bool) -> float:
    """Relative cost of one view task, in the evaluation's unit (about 0.1 s): Riemannian means of every trial."""
    return 1.5 + n_trials * float(rows) ** 3 / 1e7 * (0.8 if embed else 0.4)


def _evaluation_share(stages: Plan, settings: ACMSettings, n_trials: int, n_channels: int) -> float:
    """The evaluation's share of the progress bar; the views' share is estimated at the grid's largest order."""
    split = stages.progress_span[1]
    evaluation = stages.total_weight / split if split > 0 else stages.total_weight
    order = max(settings.orders) if settings.augmented and settings.selection == "grid" else 1
    views = _view_weight(n_trials, n_channels, order == 1) + (
        _view_weight(n_trials, order * n_channels, True) + _TAKENS_WEIGHT if order > 1 else 0.0
    )
    return evaluation / (evaluation + views)


def _views(evaluation: Evaluation, context: _Context) -> Plan:
    """The last stage, from the evaluation: class means, tangent map and Takens reference curves."""
    from covwb.eeg.evaluation import most_chosen_order_lag

    settings = context.settings
    order, lag = most_chosen_order_lag(evaluation.scores) if settings.augmented else (1, 1)
    n_trials, n_channels = context.data["X"].shape[:2]
    chosen = (order, lag) == (1, 1)
    tasks = [
        Task(
            key="views/order1/lag1",
            fn=_view_task,
            args=(Ref("X"), Ref("y"), 1, 1, settings.estimator, chosen),
            label="class means" + (" and tangent map" if chosen else "") + " at order 1",
            weight=_view_weight(n_trials, n_channels, chosen),
        )
    ]
    if not chosen:
        tasks.append(
            Task(
                key=f"views/order{order}/lag{lag}",
                fn=_view_task,
                args=(Ref("X"), Ref("y"), order, lag, settings.estimator, True),
                label=f"class means and tangent map at order {order}, lag {lag}",
                weight=_view_weight(n_trials, order * n_channels, True),
            )
        )
    reference = settings.augmented and settings.selection == "grid"
    if reference:
        tasks.append(
            Task(
                key="views/takens",
                fn=_takens_reference,
                args=(Ref("X"), context.first_train),
                kwargs={
                    "max_lag": settings.max_lag,
                    "max_order": TAKENS_MAX_ORDER,
                    "seed": settings.seed,
                    "full_rank": settings.estimator == "sample",
                },
                label="Takens curves on outer fold 1",
                weight=_TAKENS_WEIGHT,
            )
        )
    return Plan(
        tasks=tuple(sorted(tasks, key=lambda task: -task.weight)),
        combine=partial(_finish, evaluation=evaluation, context=context, order=order, lag=lag, reference=reference),
        data=context.data,
        name="covariance views",
        progress_span=(context.share, 1.0),
    )


def _view_task(X: np.ndarray, y: np.ndarray, order: int, lag: int, estimator: str, embed: bool) -> dict[str, Any]:
    """Class means (and the tangent map) of the augmented covariances of every trial at one (order, lag).

    A task of :func:`plan_acm`'s last stage (module-level, so that it runs on any worker).

    Parameters
    ----------
    X : ndarray, shape (n_trials, C, T)
        Epochs (µV).
    y : ndarray of str, shape (n_trials,)
        Labels.
    order, lag : int
        The ACM's order and lag (samples).
    estimator : str
        Covariance estimator.
    embed : bool
        Also compute the 2-D tangent-space map.

    Returns
    -------
    dict
        ``means`` (class to (order C, order C) matrix in µV²), ``embedding`` ((n_trials, 2) and (2,)) or None,
        ``condition`` (the largest condition number), ``unconverged`` (Riemannian means that stopped early),
        ``n_means``.
    """
    from covwb.eeg.augmented import augmented_covariances
    from covwb.eeg.evaluation import class_means, tangent_embedding

    covs = augmented_covariances(X, order, lag, estimator)
    eig = np.linalg.eigvalsh(covs)
    with np.errstate(divide="ignore", invalid="ignore"):
        condition = float(np.max(np.where(eig[:, 0] > 0, eig[:, -1] / eig[:, 0], np.inf)))
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always", RuntimeWarning)
        means = class_means(covs, y)
        embedding = tangent_embedding(covs) if embed else None
    unconverged = sum("Karcher mean" in str(w.message) for w in caught)
    return {
        "means": means,
        "embedding": embedding,
        "condition": condition,
        "unconverged": unconverged,
        "n_means": len(means) + int(embed),
    }


def _takens_reference(X: np.ndarray, train: np.ndarray, **options: Any) -> Any:
    """The Takens selection on one training fold (for the reference curves of a grid search)."""
    from covwb.eeg.takens import select_order_lag

    return select_order_lag(X[train], **options)


def _finish(
    results: dict[str, Any], evaluation: Evaluation, context: _Context, order: int, lag: int, reference: bool
) -> ACMAnalysis:
    settings = context.settings
    base = results["views/order1/lag1"]
    views = results.get(f"views/order{order}/lag{lag}", base)
    coords, explained = views["embedding"]
    if reference:
        takens = (results["views/takens"],)
    else:
        takens = tuple(next(iter(evaluation.takens.values()), ()))
    notes = [
        *context.notes,
        *evaluation.warnings,
        *_estimator_warning(settings, evaluation, context),
        *_view_warnings([base] if views is base else [base, views], order, lag, evaluation.warnings, settings),
    ]
    return ACMAnalysis(
        settings=settings,
        evaluation=evaluation,
        ch_names=context.ch_names,
        sfreq=context.sfreq,
        n_times=context.n_times,
        labels=np.asarray(context.data["y"]).astype(str),
        sessions=context.sessions,
        order=order,
        lag=lag,
        means=base["means"],
        acm_means=None if views is base else views["means"],
        embedding=coords,
        explained=explained,
        takens=takens,
        takens_reference=reference,
        estimator_note=evaluation.estimator_note,
        warnings=tuple(dict.fromkeys(notes)),
    )


# --------------------------------------------------------------------------- what may make the numbers wrong


def _reading_notes(data: Any) -> tuple[str, ...]:
    """What reading the files doubted (each dataset's warnings)."""
    datasets = (data,) if isinstance(data, EEGDataset) else tuple(data)
    return tuple(w for d in datasets for w in d.warnings)


def _epoch_notes(epochs: Any) -> tuple[str, ...]:
    """Epochs dropped, and the epochs' own warnings (a window that runs past the next event)."""
    notes = []
    per_session = epochs.settings.get("sessions", {})
    dropped: dict[str, int] = {}
    for counts in per_session.values():
        for label, n in counts.get("dropped", {}).items():
            dropped[label] = dropped.get(label, 0) + int(n)
    dropped = {label: n for label, n in dropped.items() if n}
    if dropped:
        counts = ", ".join(f"{label}: {n}" for label, n in dropped.items())
        notes.append(
            f"{sum(dropped.values())} epoch window(s) were dropped because they ran past the recording or "
            f"overlapped a BAD span ({counts}); the evaluation uses the others."
        )
    return (*notes, *epochs.warnings)


def _estimator_warning(settings: ACMSettings, evaluation: Evaluation, context: _Context) -> tuple[str, ...]:
    """The estimator note, when the sample estimator's largest matrices have few samples per row."""
    if settings.estimator != "sample":
        return ()
    grid_searched = settings.augmented and settings.selection == "grid"
    order = max(settings.orders) if grid_searched else 1
    lag = max(settings.lags) if order > 1 else 0
    rows, samples = order * len(context.ch_names), context.n_times - order * lag
    if samples >= _SAMPLES_PER_ROW * rows:
        return ()
    return (evaluation.estimator_note,)


def _view_warnings(
    views: Sequence[dict[str, Any]], order: int, lag: int, earlier: Sequence[str], settings: ACMSettings
) -> list[str]:
    notes = []
    unconverged = sum(v["unconverged"] for v in views)
    if unconverged:
        total = sum(v["n_means"] for v in views)
        fix = "Choose the OAS estimator or a lower order" if settings.estimator == "sample" else "Choose a lower order"
        notes.append(
            f"{unconverged} of {total} Riemannian means of the covariance views (class means, tangent map) stopped "
            f"without converging; treat those views as approximate. {fix}, or check the recording for flat, "
            "duplicated or re-referenced channels."
        )
    worst = max(v["condition"] for v in views)
    if worst > ILL_CONDITIONED and not any("ill-conditioned" in w for w in earlier):
        shown = "infinite (singular)" if not np.isfinite(worst) else f"{worst:.1e}"
        where = "order 1" if order == 1 else f"order 1 and order {order}, lag {lag}"
        fix = "choose the OAS estimator" if settings.estimator == "sample" else "choose fewer channels"
        notes.append(
            f"The {ESTIMATORS[settings.estimator].lower()} matrices of the covariance views ({where}) are "
            f"ill-conditioned (condition number up to {shown}, above {ILL_CONDITIONED:.0e}): their means and "
            f"tangent map are unreliable; {fix}."
        )
    return notes
