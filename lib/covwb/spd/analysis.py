"""The SPD batch-norm page's analysis: one settings object, the geometry panels, and SPDNet training as a plan.

:class:`SPDSettings` holds everything the page lets one choose: the matrices (a controllable synthetic batch,
:class:`SyntheticSource`; the built-in simulated EEG or an uploaded recording, cut into epochs as
:class:`~covwb.eeg.epochs.EpochSettings` says, one covariance per epoch under the chosen estimator; or an
uploaded stack of SPD matrices or of raw trials), the settings of the geometry panels and those of training.

* :func:`analyse_spd` computes what the page shows: on the first :data:`PANEL_LIMIT` matrices, each chosen
  batch-norm metric's panel (spectra, condition numbers, distances to the mean and to the bias, 2-D MDS, before
  and after normalisation, and folding), the iterations of the Bures-Wasserstein barycentre; the ridge
  sensitivity of a rank-deficient covariance and the float32 failure rates (which depend on their own settings
  only); and, when ``settings.train``, SPDNet trained with every chosen variant × seed.
* :func:`plan_spd_training` describes that training as a :class:`covwb.jobs.Plan` (one task per variant ×
  seed, :func:`covwb.spd.training.plan_training`) whose result is an :class:`SPDTraining`; its
  :attr:`~covwb.jobs.Plan.preview` gives the learning curves of the runs already finished. The page runs it as
  a background job; :func:`analyse_spd` runs it in its own process (``covwb.jobs.run_plan``). Training is
  seeded and runs on one thread, so both give the same numbers, bit for bit (wall times aside, which are
  measurements: they are kept in the ``training_time`` table only).

Warnings say what may make the numbers misleading, and what to do: what reading the data doubted, epochs
dropped or windows running past the next event, ill-conditioned matrices (condition number above 1e10),
panels whose Bures-Wasserstein exponential folded, barycentres or metric matrices that stopped before
converging, and, per variant, training runs that folded, diverged or stopped while their loss was still falling.

Cost: the panels are milliseconds to a second for 60 matrices of 8 × 8 (the float32 panel, 10 batches × 4
metrics × 2 precisions, about a second); training costs about ``epochs × N × (seconds per matrix)`` per
variant × seed, from 0.1 s per epoch for 120 matrices of 22 × 22 without batch norm to about 4× that with the
Bures-Wasserstein family (see :data:`covwb.spd.training.VARIANTS`).

>>> settings = SPDSettings(metrics=("riemann", "wasserstein"), source=SyntheticSource(n_matrices=12, dim=4))
>>> result = analyse_spd(settings)
>>> list(result.tables())[:4]
['bn_summary', 'bn_riemann', 'bn_spectra_riemann', 'bn_wasserstein']
>>> result.training is None, result.labels is None  # a synthetic batch has no classes to train on
(True, True)
"""

from __future__ import annotations

import dataclasses
import warnings as python_warnings
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from covwb._steps import Memo, Steps
from covwb.covariance.estimators import ESTIMATORS
from covwb.covariance.geometry import SPD_METRICS
from covwb.datasets.types import EEGDataset, SPDStack
from covwb.eeg.epochs import EpochSettings
from covwb.errors import ParameterError
from covwb.jobs.plan import Plan, Progress, run_plan
from covwb.settings import Settings, setting
from covwb.sources import BuiltinSource, UploadSource
from covwb.spd.batchnorm import BATCHNORM_METRICS
from covwb.spd.demos import (
    M_CHOICES,
    PanelResult,
    geometry_panel,
    mean_residuals,
    panel_summary,
    precision_failures,
    ridge_sensitivity,
)
from covwb.spd.training import VARIANTS, TrainConfig, TrainResult, all_curves, convergence_warnings, variant_warnings

T = TypeVar("T")

PANEL_LIMIT = 60
"""The geometry panels and the barycentre iterations use the first this many matrices."""
PRECISION_LOG10_CONDITIONS = tuple(range(1, 11))
"""log10 condition numbers of the batches of the float32 panel."""
ILL_CONDITIONED = 1e10
"""Condition number above which a matrix is reported as ill-conditioned."""
DISPERSION_REFERENCES: dict[str, str] = {
    "mean": "the batch mean",
    "identity": "the identity, as the published code does",
}
"""Where the BW-family panels measure the dispersion (``SPDBatchNorm(dispersion_about=...)``)."""
RIDGES = (1e-10, 1e-8, 1e-6, 1e-4, 1e-2)
"""Ridges offered for the rank-deficient member of a synthetic batch."""
SYNTHETIC_NAME = "Synthetic SPD batch"
"""The display name of a synthetic batch."""


@dataclass(frozen=True)
class SyntheticSource(Settings):
    """A controllable synthetic batch of SPD matrices (:func:`covwb.spd.synthetic.synthetic_batch`), by its settings.

    A data source like :class:`covwb.sources.BuiltinSource`: part of the page's settings, link and exported
    script, and loaded again anywhere from these numbers alone.

    Parameters
    ----------
    n_matrices : int
        Batch size, 4 to 200.
    dim : int
        Matrix size, 2 to 20.
    log10_condition : float
        log10 of the spectrum's nominal condition number, 0 to 12.
    rank_deficient : bool
        Replace the first matrix by a rank ``dim // 4`` covariance plus ``ridge`` times the identity.
    ridge : float
        That ridge, one of :data:`RIDGES`.
    seed : int
        Seed of the rotations, spectra and the rank-deficient member.

    Examples
    --------
    >>> stack = SyntheticSource(n_matrices=5, dim=3, seed=1).load()
    >>> stack.matrices.shape, stack.labels.tolist()[:2], stack.builtin
    ((5, 3, 3), ['rank-deficient', 'regular'], True)
    """

    tag = "synthetic"
    n_matrices: int = setting(30, label="Matrices", low=4, high=200)
    dim: int = setting(8, label="Dimension", low=2, high=20)
    log10_condition: float = setting(4.0, label="log10 condition number", low=0.0, high=12.0)
    rank_deficient: bool = setting(True, label="Include a rank-deficient member")
    ridge: float = setting(1e-6, label="Ridge ε", choices=RIDGES)
    seed: int = setting(0, label="Seed", low=0, high=2**31 - 1)

    @property
    def title(self) -> str:
        """The data's display name."""
        return SYNTHETIC_NAME

    def describe(self) -> str:
        """One sentence naming the data, for reports and notebooks."""
        return (
            f"a synthetic batch of {self.n_matrices} SPD matrices of {self.dim} × {self.dim} (nominal condition "
            f"number 1e{self.log10_condition:g}, seed {self.seed}), generated again from its settings"
        )

    def load(self, folder: Any = None) -> SPDStack:
        """The batch as an :class:`~covwb.datasets.types.SPDStack` (``builtin``: it derives from settings alone).

        Parameters
        ----------
        folder : path or None
            Ignored (nothing is read); accepted so that every source loads alike.

        Returns
        -------
        SPDStack
            Unitless float64 matrices; ``labels`` say which member is rank-deficient (``"rank-deficient"``,
            ``"regular"``): groups to colour, not classes to train on.
        """
        from covwb.spd.synthetic import synthetic_batch

        batch = synthetic_batch(
            self.n_matrices,
            self.dim,
            self.log10_condition,
            rank_deficient=self.rank_deficient,
            ridge=self.ridge,
            seed=self.seed,
        )
        member = (
            f" The first is a rank-{max(1, self.dim // 4)} covariance plus {self.ridge:.0e} times the identity."
            if self.rank_deficient
            else ""
        )
        return SPDStack(
            name=SYNTHETIC_NAME,
            matrices=batch.matrices,
            labels=batch.labels,
            source="generated (covwb.spd.synthetic_batch)",
            description=(
                f"{self.n_matrices} matrices Q diag(λ) Qᵀ of {self.dim} × {self.dim}: rotations near a common one, "
                f"log-spaced spectra from 1 down to 1e-{self.log10_condition:g}, jittered.{member}"
            ),
            builtin=True,
        )


@dataclass(frozen=True)
class SPDSettings(Settings):
    """Everything the SPD batch-norm page lets one choose; fields that do not apply to the data are ignored.

    Parameters
    ----------
    source : SyntheticSource, BuiltinSource or UploadSource
        The matrices: a synthetic batch, the simulated EEG (``BuiltinSource("simulated_eeg")``), an uploaded
        recording (``"eeg"``, ``"eeg_csv"``) or an uploaded stack of SPD matrices or raw trials (``"spd"``,
        whose reader options hold the trials' covariance estimator).
    epochs : EpochSettings
        EEG: how epochs are cut (classes, window in s, band-pass in Hz, channels); automatic values are made
        explicit by :meth:`resolve`.
    estimator : {"sample", "ledoit_wolf", "oas", "shrinkage"}
        EEG: covariance estimator of the epochs (:data:`covwb.covariance.estimators.ESTIMATORS`).
    shrinkage : float
        EEG: intensity in [0, 1] of the ``"shrinkage"`` estimator.
    metrics : tuple of str
        Batch-norm metrics of the panels, keys of :data:`covwb.spd.batchnorm.BATCHNORM_METRICS`.
    theta : float
        Power deformation of the θ-GBW panel, 0.05 to 1.
    m_choice : str
        The GBW panels' metric matrix ``M``, a key of :data:`covwb.spd.demos.M_CHOICES`.
    dispersion_about : {"mean", "identity"}
        Where the BW-family panels measure the dispersion (:data:`DISPERSION_REFERENCES`).
    ridge_dim, ridge_rank : int
        Size (3 to 40) and rank (below the size) of the ridge-sensitivity panel's covariance.
    precision_dim : int
        Matrix size of the float32 panel, 2 to 20.
    variants : tuple of str
        Training variants, keys of :data:`covwb.spd.training.VARIANTS`.
    seeds : int
        Training runs per variant, with seeds 0, 1, …, ``seeds - 1`` (1 to 10).
    training : TrainConfig
        Hyper-parameters of every run; :meth:`resolve` caps the BiMap output size at the matrix size.
    train : bool
        Whether the analysis trains SPDNet (needs class labels: EEG events, or labels in an uploaded stack).

    Examples
    --------
    >>> settings = SPDSettings(metrics=("wasserstein",), training=TrainConfig(epochs=3), train=True)
    >>> settings.to_query()
    {'source': 'synthetic', 'metrics': '["wasserstein"]', 'training.epochs': '3', 'train': 'true'}
    >>> SPDSettings.from_query({"theta": "7", "seeds": "two"})[1][0]
    "The link's θ (power deformation of θ-GBW) was not used (θ (power deformation of θ-GBW) must be between 0.05 and 1, got 7); the page uses 0.5."
    """

    source: SyntheticSource | BuiltinSource | UploadSource = setting(SyntheticSource(), label="Matrices")
    epochs: EpochSettings = setting(EpochSettings(), label="Epochs")
    estimator: str = setting("oas", label="Covariance estimator", choices=ESTIMATORS)
    shrinkage: float = setting(0.1, label="Shrinkage", low=0.0, high=1.0)
    metrics: tuple[str, ...] = setting(tuple(BATCHNORM_METRICS), label="Metrics", choices=BATCHNORM_METRICS)
    theta: float = setting(0.5, label="θ (power deformation of θ-GBW)", low=0.05, high=1.0)
    m_choice: str = setting("identity", label="GBW metric matrix M", choices=M_CHOICES)
    dispersion_about: str = setting("mean", label="Dispersion about", choices=DISPERSION_REFERENCES)
    ridge_dim: int = setting(20, label="Ridge panel: dimension", low=3, high=40)
    ridge_rank: int = setting(5, label="Ridge panel: rank", low=1, high=39)
    precision_dim: int = setting(8, label="float32 panel: dimension", low=2, high=20)
    variants: tuple[str, ...] = setting(tuple(VARIANTS), label="Variants", choices=VARIANTS)
    seeds: int = setting(2, label="Seeds", low=1, high=10)
    training: TrainConfig = setting(TrainConfig(epochs=10), label="Training")
    train: bool = setting(False, label="Train SPDNet")

    def check(self) -> None:
        if self.ridge_rank >= self.ridge_dim:
            raise ParameterError(
                f"Ridge panel: the rank must be below the dimension {self.ridge_dim}, got {self.ridge_rank}."
            )
        for name, chosen in (("metric", self.metrics), ("variant", self.variants)):
            if len(set(chosen)) != len(chosen):
                raise ParameterError(f"Each {name} may be chosen once.")
        if self.train and not self.variants:
            raise ParameterError("Training needs at least one variant.")

    def resolve(self, data: Any) -> tuple[SPDSettings, tuple[str, ...]]:
        """Explicit settings for ``data``: automatic values filled, values the data cannot take replaced.

        The EEG fields are reset to their defaults for a stack of matrices (silently), so that equal analyses
        have equal settings; a BiMap output size above the matrix size becomes the matrix size (with a note,
        unless it was the default).

        Parameters
        ----------
        data : EEGDataset or SPDStack
            The dataset that ``source`` loads.

        Returns
        -------
        settings : SPDSettings
            With explicit epoch settings (EEG) and a feasible BiMap output size.
        notes : tuple of str
            One sentence per value that was replaced.
        """
        notes: list[str] = []
        defaults = SPDSettings()
        if isinstance(data, EEGDataset):
            epochs, epoch_notes = self.epochs.resolve(data.raw)
            notes.extend(epoch_notes)
            resolved = self.replace(epochs=epochs)
            size = None if epochs.channels is None else len(epochs.channels)
        elif isinstance(data, SPDStack):
            resolved = self.replace(epochs=defaults.epochs, estimator=defaults.estimator, shrinkage=defaults.shrinkage)
            size = int(data.matrices.shape[1])
        else:
            raise ParameterError(
                f"The SPD batch-norm page reads stacks of SPD matrices and EEG recordings, not {type(data).__name__}."
            )
        hidden = self.training.n_hidden
        if size is not None and hidden > size:
            if hidden != defaults.training.n_hidden:
                notes.append(
                    f"The BiMap output size {hidden} is larger than the {size} × {size} matrices; the page uses {size}."
                )
            resolved = resolved.replace(training=self.training.replace(n_hidden=size))
        return resolved, tuple(notes)

    def training_part(self) -> SPDSettings:
        """These settings with every field that training does not read at its default, and ``train`` True.

        Equal for two settings that train the same networks on the same matrices: the key of a training job,
        and :attr:`SPDTraining.settings`.
        """
        return SPDSettings(
            source=self.source,
            epochs=self.epochs,
            estimator=self.estimator,
            shrinkage=self.shrinkage,
            variants=self.variants,
            seeds=self.seeds,
            training=self.training,
            train=True,
        )


@dataclass(frozen=True, eq=False)
class SPDMatrices:
    """The matrices the page works on, with their classes and what their making may have got wrong.

    Parameters
    ----------
    covs : ndarray, shape (N, n, n)
        SPD matrices, float64 (µV² for EEG epochs, the file's unit for an upload, unitless when synthetic).
    labels : ndarray of str, shape (N,), or None
        Class of each matrix (training needs them): the epochs' classes, or an uploaded stack's labels.
    groups : ndarray of str, shape (N,), or None
        What colours the matrices in the embeddings: the classes, or a synthetic batch's member kinds.
    unit : str
        Unit of the entries.
    warnings : tuple of str
        The dataset's own warnings, epochs dropped or running past the next event, ill-conditioned matrices.
    """

    covs: np.ndarray
    labels: np.ndarray | None
    groups: np.ndarray | None
    unit: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class SPDTraining:
    """SPDNet trained with each variant × seed: the runs, their curves and folding, and what may be wrong.

    Parameters
    ----------
    settings : SPDSettings
        The settings that trained them (:meth:`SPDSettings.training_part` of the explicit settings).
    runs : tuple of TrainResult
        Every run, variant by variant (in ``settings.variants`` order), each variant's by seed.
    classes : tuple of str
        The classes, in the order of the networks' outputs.
    warnings : tuple of str
        The matrices' warnings, then folding per variant (:func:`~covwb.spd.training.variant_warnings`) and
        divergence or unfinished training (:func:`~covwb.spd.training.convergence_warnings`).
    """

    settings: SPDSettings
    runs: tuple[TrainResult, ...]
    classes: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def curves(self) -> pd.DataFrame:
        """One row per run × epoch: losses, accuracies and folding (see :meth:`TrainResult.curves`), no wall time."""
        return all_curves(self.runs).drop(columns="seconds")

    def summary(self) -> pd.DataFrame:
        """One row per variant: test accuracy mean and sd over seeds (%), folding; no wall time."""
        from covwb.spd.training import summarise

        return summarise(self.runs).drop(columns="seconds per epoch")

    def folding(self) -> pd.DataFrame:
        """One row per variant × epoch: training matrices that folded (mean and worst seed, %), worst batch, test."""
        curves = all_curves(self.runs)
        grouped = curves.groupby(["variant", "epoch"], sort=False)
        return pd.DataFrame(
            {
                "folded_train_percent_mean": grouped["folded_train_percent"].mean(),
                "folded_train_percent_worst_seed": grouped["folded_train_percent"].max(),
                "most_folded_in_a_batch_percent": 100 * grouped["max_batch_fold_fraction"].max(),
                "folded_test_percent_worst_seed": grouped["folded_test_percent"].max(),
            }
        ).reset_index()

    def times(self) -> pd.DataFrame:
        """One row per run: median and total wall time of its training epochs, in s (measurements: they vary)."""
        return pd.DataFrame(
            [
                {
                    "variant": VARIANTS[r.variant],
                    "seed": r.seed,
                    "seconds_per_epoch": r.seconds_per_epoch,
                    "seconds": float(sum(h.seconds for h in r.history)),
                }
                for r in self.runs
            ]
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The training tables by name: curves, summary, folding per epoch, and wall times."""
        return {
            "training_curves": self.curves(),
            "training_summary": self.summary(),
            "training_folding": self.folding(),
            "training_time": self.times(),
        }


@dataclass(frozen=True, eq=False)
class SPDAnalysis:
    """What the SPD batch-norm page shows: the geometry panels, and the training when ``settings.train``.

    Parameters
    ----------
    settings : SPDSettings
        The explicit settings used.
    n_matrices, size : int
        Number and size of the matrices.
    labels : ndarray of str, shape (n_matrices,), or None
        Their classes (None: training is not available).
    groups : ndarray of str, shape (n_panel,), or None
        Colours of the panels' matrices.
    unit : str
        Unit of the matrices' entries.
    panels : dict of str to PanelResult
        Metric name to its panel, on the first ``n_panel`` matrices, in ``settings.metrics`` order.
    residuals : pandas.DataFrame
        Relative error of the BW barycentre iterates (:func:`covwb.spd.demos.mean_residuals`).
    ridge : pandas.DataFrame
        Ridge sensitivity per metric (:func:`covwb.spd.demos.ridge_sensitivity`).
    precision : pandas.DataFrame
        float32 and float64 failure rates (:func:`covwb.spd.demos.precision_failures`).
    training : SPDTraining or None
        The training, when ``settings.train``.
    warnings : tuple of str
        What may make the numbers misleading, and what to do.
    """

    settings: SPDSettings
    n_matrices: int
    size: int
    labels: np.ndarray | None
    groups: np.ndarray | None
    unit: str
    panels: dict[str, PanelResult]
    residuals: pd.DataFrame
    ridge: pd.DataFrame
    precision: pd.DataFrame
    training: SPDTraining | None = None
    warnings: tuple[str, ...] = ()

    @property
    def n_panel(self) -> int:
        """Matrices in the panels: the first :data:`PANEL_LIMIT`."""
        return min(self.n_matrices, PANEL_LIMIT)

    def with_training(self, training: SPDTraining) -> SPDAnalysis:
        """This analysis with ``training`` added (``settings.train`` True, its warnings after these).

        Raises
        ------
        ParameterError
            ``training`` was made with other data or training settings than these.
        """
        settings = self.settings.replace(train=True)
        if training.settings != settings.training_part():
            raise ParameterError(
                "This training was computed with other data or training settings than this analysis; train again."
            )
        merged = tuple(dict.fromkeys((*self.warnings, *training.warnings)))
        return dataclasses.replace(self, settings=settings, training=training, warnings=merged)

    def steps(self) -> tuple[str, ...]:
        """What :func:`analyse_spd` did, one Markdown sentence per step."""
        steps = [
            "the matrices: the synthetic batch, the uploaded stack, or one covariance per epoch of the recording "
            "(epochs as `settings.epochs` says, estimator `settings.estimator`);",
            f"on the first {PANEL_LIMIT} of them, for each metric of `settings.metrics`: batch normalisation with "
            "default parameters (bias I, target dispersion as initialised), and the spectra, log10 condition "
            "numbers, distances to the mean (before) and to the bias (after) and a 2-D MDS of the pairwise "
            "distances, before and after, in the metric's own unit, and the share of matrices that folded;",
            "the relative error of the Álvarez-Esteban and the naive BW barycentre iterations against the converged "
            "barycentre;",
            "how far changing the ridge of a rank-deficient covariance moves it under each metric "
            "(`settings.ridge_dim`, `settings.ridge_rank`), and the share of a batch that batch normalisation gets "
            "wrong in float32 and float64 against the condition number (`settings.precision_dim`);",
        ]
        if self.settings.train:
            steps.append(
                "SPDNet (BiMap, ReEig, batch norm, LogEig, linear) trained with each variant of `settings.variants` "
                "and seeds 0 to `settings.seeds` - 1 on a stratified split (`settings.training`), with learning "
                "curves and the matrices that folded in each epoch; the `training_time` table holds wall times, "
                "which differ from run to run."
            )
        return tuple(steps)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, as the page shows them and the exported script writes them."""
        out: dict[str, pd.DataFrame] = {}
        if self.panels:
            out["bn_summary"] = panel_summary({BATCHNORM_METRICS[m]: p for m, p in self.panels.items()})
        for metric, panel in self.panels.items():
            out[f"bn_{metric}"] = _panel_table(panel, self.groups)
            out[f"bn_spectra_{metric}"] = _spectra_table(panel)
        out["barycentre_residuals"] = self.residuals
        out["ridge_sensitivity"] = self.ridge
        out["precision_failures"] = self.precision
        if self.training is not None:
            out.update(self.training.tables())
        return out


def analyse_spd(
    settings: SPDSettings,
    data: Any = None,
    *,
    memo: Memo | None = None,
    progress: Progress | None = None,
) -> SPDAnalysis:
    """Compute what the SPD batch-norm page shows, from its settings.

    Parameters
    ----------
    settings : SPDSettings
        What to compute; automatic values are filled from the data (:meth:`SPDSettings.resolve`).
    data : EEGDataset, SPDStack or None
        The dataset ``settings.source`` names, already loaded; None to load it (uploads from the current
        folder, checked against their SHA-256).
    memo : callable or None
        Cache of the steps, ``memo(key, compute)``; None computes everything.
    progress : callable or None
        Called with the fraction done and the step.

    Returns
    -------
    SPDAnalysis
        The panels, the training when ``settings.train`` (run in this process with
        :func:`covwb.jobs.run_plan` on :func:`plan_spd_training`), warnings and ``tables()``.

    Raises
    ------
    ParameterError
        A setting the data cannot take; training asked for matrices without class labels.
    SPDInputError
        Matrices that are not SPD.
    DataSourceError
        ``data`` is None and an uploaded file is missing or differs from the recorded one.
    """
    dataset = settings.source.load() if data is None else data
    resolved = _resolved(settings, dataset)
    step = Steps(resolved.source.fingerprint(), memo, progress, ("spd",))
    matrices = _matrices(resolved, dataset, step)
    covs = matrices.covs[:PANEL_LIMIT]
    notes = list(matrices.warnings)
    panels: dict[str, PanelResult] = {}
    for i, metric in enumerate(resolved.metrics):
        options = _panel_options(resolved, metric)
        panel, messages = step(
            "panel",
            (_data_key(resolved), metric, *options.values()),
            lambda metric=metric, options=options: _recorded(partial(geometry_panel, covs, metric, **options)),
            0.1 + 0.5 * i / max(len(resolved.metrics), 1),
            f"{BATCHNORM_METRICS[metric]} batch norm: mean, distances, MDS…",
        )
        panels[metric] = panel
        notes.extend(_panel_warnings(panel, len(covs), messages))
    residuals = step("residuals", (_data_key(resolved),), lambda: mean_residuals(covs), 0.6, "BW barycentre…")
    ridge = step(
        "ridge",
        (resolved.ridge_dim, resolved.ridge_rank),
        lambda: ridge_sensitivity(resolved.ridge_dim, resolved.ridge_rank),
        0.7,
        "Ridge sensitivity…",
        data_free=True,
    )
    precision = step(
        "precision",
        (resolved.precision_dim,),
        lambda: precision_failures(list(PRECISION_LOG10_CONDITIONS), dim=resolved.precision_dim),
        0.8,
        "float32 against float64…",
        data_free=True,
    )
    n_matrices, size = matrices.covs.shape[:2]
    result = SPDAnalysis(
        settings=resolved,
        n_matrices=int(n_matrices),
        size=int(size),
        labels=matrices.labels,
        groups=None if matrices.groups is None else matrices.groups[:PANEL_LIMIT],
        unit=matrices.unit,
        panels=panels,
        residuals=residuals,
        ridge=ridge,
        precision=precision,
        warnings=tuple(dict.fromkeys(notes)),
    )
    if not resolved.train:
        return result
    training = run_plan(
        _training_plan(resolved, matrices), progress=None if progress is None else _scaled(progress, 0.9, 1.0)
    )
    return result.with_training(training)


def plan_spd_training(settings: SPDSettings, data: Any = None, *, memo: Memo | None = None) -> Plan:
    """SPDNet training of ``settings.variants`` × ``settings.seeds`` as a :class:`covwb.jobs.Plan`.

    One task per variant × seed (:func:`covwb.spd.training.plan_training`); the plan's result is an
    :class:`SPDTraining`, and its :attr:`~covwb.jobs.Plan.preview` the learning curves of the runs finished so
    far (a DataFrame as :meth:`SPDTraining.curves`, with wall times). ``settings.train`` is not read.

    Parameters
    ----------
    settings : SPDSettings
        The data and training settings (the panels' are ignored).
    data : EEGDataset, SPDStack or None
        The dataset ``settings.source`` names; None to load it.
    memo : callable or None
        Cache of the matrices (shared with :func:`analyse_spd`'s); None computes them.

    Returns
    -------
    Plan
        ``covwb.jobs.run_plan(plan)`` returns the :class:`SPDTraining`.

    Raises
    ------
    ParameterError
        No variant, a setting the data cannot take, or matrices without class labels (a synthetic batch,
        an unlabelled stack).

    Examples
    --------
    >>> import io
    >>> from covwb.io.uploads import UploadedBytes
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((24, 3, 30))
    >>> buffer = io.BytesIO()
    >>> np.savez(buffer, covs=A @ A.transpose(0, 2, 1) / 30, y=np.repeat([0, 1], 12))
    >>> upload = UploadedBytes("covs.npz", buffer.getvalue())
    >>> source = UploadSource.of("spd", [upload])
    >>> settings = SPDSettings(source=source, variants=("none", "wasserstein"), seeds=1, training=TrainConfig(epochs=2))
    >>> plan = plan_spd_training(settings, source.read([upload]))
    >>> [task.label for task in plan.tasks]
    ['SPDNet (no BN), seed 0', 'BW-BN, seed 0']
    >>> training = run_plan(plan)
    >>> training.classes, training.settings.training.n_hidden, sorted(training.tables())
    (('0', '1'), 3, ['training_curves', 'training_folding', 'training_summary', 'training_time'])
    """
    dataset = settings.source.load() if data is None else data
    resolved = _resolved(settings, dataset)
    if not resolved.variants:
        raise ParameterError("Training needs at least one variant.")
    return _training_plan(
        resolved, _matrices(resolved, dataset, Steps(resolved.source.fingerprint(), memo, None, ("spd",)))
    )


# --------------------------------------------------------------------------- steps


def _resolved(settings: SPDSettings, dataset: Any) -> SPDSettings:
    resolved, notes = settings.resolve(dataset)
    if notes:
        raise ParameterError(" ".join(notes))
    return resolved


def _data_key(settings: SPDSettings) -> tuple[Hashable, ...]:
    """What the matrices depend on besides the source (a step's key starts with the source's fingerprint)."""
    return (settings.epochs, settings.estimator, settings.shrinkage)


def _matrices(settings: SPDSettings, dataset: Any, step: Steps) -> SPDMatrices:
    if isinstance(dataset, EEGDataset):
        return step("matrices", _data_key(settings), lambda: _epoch_matrices(settings, dataset), 0.0, "Epochs…")
    stack: SPDStack = dataset
    synthetic = isinstance(settings.source, SyntheticSource)
    notes = list(dataset.warnings) + _conditioning(stack.matrices)
    labels = None if synthetic or stack.labels is None else np.asarray(stack.labels, dtype=str)
    groups = None if stack.labels is None else np.asarray(stack.labels, dtype=str)
    return SPDMatrices(stack.matrices, labels, groups, "", tuple(notes))


def _epoch_matrices(settings: SPDSettings, dataset: EEGDataset) -> SPDMatrices:
    from covwb.covariance.estimators import covariances
    from covwb.eeg.epochs import extract_epochs
    from covwb.eeg.events import find_trial_events

    raw = dataset.raw
    events = find_trial_events(raw)
    epochs = extract_epochs(raw, events=events, **settings.epochs.as_kwargs())
    notes = list(dataset.warnings)
    dropped = {label: n for label, n in epochs.settings["dropped"].items() if n}
    if dropped:
        counts = ", ".join(f"{label}: {n}" for label, n in dropped.items())
        notes.append(
            f"{sum(dropped.values())} epoch window(s) were dropped because they ran past the recording or "
            f"overlapped a BAD span ({counts})."
        )
    notes.extend(epochs.warnings)
    covs = covariances(epochs.X, settings.estimator, settings.shrinkage)
    notes.extend(_conditioning(covs))
    labels = np.asarray(epochs.y, dtype=str)
    return SPDMatrices(covs, labels, labels, "µV²", tuple(notes))


def _conditioning(covs: np.ndarray) -> list[str]:
    eig = np.linalg.eigvalsh(np.asarray(covs, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        numbers = np.where(eig[:, 0] > 0, eig[:, -1] / eig[:, 0], np.inf)
    bad = numbers > ILL_CONDITIONED
    if not bad.any():
        return []
    worst = float(numbers.max())
    shown = "infinite (singular)" if not np.isfinite(worst) else f"{worst:.2g}"
    return [
        f"{int(bad.sum())} of {len(numbers)} matrices are ill-conditioned (condition number up to {shown}, above "
        f"{ILL_CONDITIONED:.0e}): affine-invariant and log-Euclidean distances, means and batch norms of such "
        "matrices are dominated by their smallest eigenvalues and fail in float32 (see the float32 panel). For "
        "covariances of data, choose a shrinkage estimator (OAS, Ledoit-Wolf) or fewer channels."
    ]


def _panel_options(settings: SPDSettings, metric: str) -> dict[str, Any]:
    """The options of one metric's panel: those it does not read at their defaults (equal panels, equal keys)."""
    bw_family = SPD_METRICS[metric].family == "wasserstein"
    return {
        "theta": settings.theta if metric == "gbw_theta" else SPDSettings().theta,
        "m_choice": settings.m_choice if metric in ("gbw", "gbw_theta") else "identity",
        "dispersion_about": settings.dispersion_about if bw_family else "mean",
    }


def _recorded(compute: Callable[[], T]) -> tuple[T, tuple[str, ...]]:
    """``compute()`` and the messages of the non-convergence warnings it raised (a Karcher mean's, say)."""
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        value = compute()
    texts = [str(w.message).strip().rstrip(".") for w in caught]
    return value, tuple(dict.fromkeys(t for t in texts if "Karcher" in t or "converg" in t.lower()))


def _panel_warnings(panel: PanelResult, n: int, messages: tuple[str, ...]) -> list[str]:
    name = BATCHNORM_METRICS[panel.metric]
    notes = []
    if panel.fold_fraction > 0:
        folded = round(panel.fold_fraction * n)
        notes.append(
            f"{name} batch norm of this batch folded {folded} of {n} matrices ({panel.fold_fraction:.0%}): their "
            "Bures-Wasserstein exponential ran past the end of its geodesic, so those outputs are reflected back "
            "instead of normalised and the panel's dispersion after BN misses its target. Matrices far below the "
            "batch in some direction (rank-deficient or low-power members) fold first; θ-GBW (θ < 1) folds less."
        )
    if not panel.mean_converged:
        notes.append(
            f"The {name} barycentre of this batch stopped after {panel.mean_iterations} iterations without meeting "
            "its tolerance (1e-8): the panel centres at an approximate mean. Ill-conditioned batches converge "
            "slowly or stall at the rounding floor; for covariances of data, a shrinkage estimator helps."
        )
    notes.extend(
        f"The {name} panel's metric matrix M stopped before converging ({message}): treat it as approximate."
        for message in messages
    )
    return notes


def _training_plan(settings: SPDSettings, matrices: SPDMatrices) -> Plan:
    from covwb.spd.training import plan_training

    if matrices.labels is None:
        what = (
            "a synthetic batch has none" if isinstance(settings.source, SyntheticSource) else "these matrices have none"
        )
        raise ParameterError(
            f"Training needs a class label per matrix, and {what}: pick the simulated EEG, a recording with events "
            "or an upload with labels."
        )
    plan = plan_training(matrices.covs, matrices.labels, settings.variants, range(settings.seeds), settings.training)
    return dataclasses.replace(
        plan,
        combine=partial(
            _training_result,
            by_variant=plan.combine,
            settings=settings.training_part(),
            warnings=matrices.warnings,
        ),
        preview=partial(_preview, order=settings.variants),
    )


def _training_result(
    results: dict[str, TrainResult],
    *,
    by_variant: Callable[[dict[str, TrainResult]], dict[str, list[TrainResult]]],
    settings: SPDSettings,
    warnings: tuple[str, ...],
) -> SPDTraining:
    runs = tuple(run for group in by_variant(results).values() for run in group)
    notes = (*warnings, *variant_warnings(runs), *convergence_warnings(runs))
    return SPDTraining(settings=settings, runs=runs, classes=tuple(runs[0].settings["classes"]), warnings=notes)


def _preview(results: Mapping[str, TrainResult], order: tuple[str, ...]) -> pd.DataFrame:
    """The learning curves of the runs finished so far, variant by variant in ``order``, by seed."""
    runs = sorted(results.values(), key=lambda r: (order.index(r.variant), r.seed))
    return all_curves(runs)


def _scaled(progress: Progress, low: float, high: float) -> Progress:
    return lambda fraction, text: progress(low + (high - low) * fraction, text)


# --------------------------------------------------------------------------- tables


def _panel_table(panel: PanelResult, groups: np.ndarray | None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "matrix": np.arange(len(panel.distance_before)),
            "log10_condition_before": panel.log10_condition_before,
            "log10_condition_after": panel.log10_condition_after,
            "distance_to_mean_before": panel.distance_before,
            "distance_to_bias_after": panel.distance_after,
            "folded": np.zeros(len(panel.distance_before), dtype=bool) if panel.folded is None else panel.folded,
            "mds_1_before": panel.embedding_before[:, 0],
            "mds_2_before": panel.embedding_before[:, 1],
            "mds_1_after": panel.embedding_after[:, 0],
            "mds_2_after": panel.embedding_after[:, 1],
        }
    )
    if groups is not None:
        frame.insert(1, "group", groups)
    return frame


def _spectra_table(panel: PanelResult) -> pd.DataFrame:
    n, p = panel.eigvals_before.shape
    return pd.DataFrame(
        {
            "matrix": np.repeat(np.arange(n), p),
            "rank": np.tile(np.arange(1, p + 1), n),
            "eigenvalue_before": panel.eigvals_before.ravel(),
            "eigenvalue_after": panel.eigvals_after.ravel(),
        }
    )
