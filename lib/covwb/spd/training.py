"""Seeded training of SPDNet with each batch-norm variant: what it trained, on what, and whether BW folded.

:func:`train_spdnet` trains one variant with one seed and returns the trained model, the train/test
split (indices into the inputs), the learning curves and, per epoch, how many matrices *folded* in
a Bures-Wasserstein-family batch norm (``wasserstein``, ``gbw``, ``gbw_theta``): matrix ``i`` folds
in a forward pass when the exponential map that produces its output runs past the end of its
geodesic, ``fold_margin(B, V_i) <= 0`` (:func:`covwb.spd.bures_wasserstein.fold_margin`; see
:attr:`covwb.spd.batchnorm.SPDBatchNorm.last_fold_mask`). Folded outputs are reflected back towards
the bias, so the layer's outputs then miss the mean and dispersion it promises; the result carries
a warning, as does a training loss that stops being a number (divergence). :func:`plan_training`
describes several variants × seeds as a :class:`covwb.jobs.Plan`; :func:`variant_warnings` and
:func:`convergence_warnings` summarise the runs' folding and convergence per variant.

Inputs are divided by one number, the median of ``tr(X) / n`` over the training matrices. That fixes
the unit in which ReEig's absolute threshold (1e-4) acts and helps the network without batch norm;
it does **not** prevent folding: batch-norm outputs do not depend on the input scale (the BW family's
tangent vectors and their dispersion scale together), so folding depends only on the shape of the
batch (matrices far below the mean in some direction, relative to the batch's spread) and on the
learnt dispersion weight and bias. On raw 8 × 8 covariances of MAMEM-SSVEP-II the BW and GBW layers
fold in most runs as the learnt weight grows; θ-GBW (θ = 0.5) compresses the spectrum and folds far
less. The split is stratified and seeded; the seed also fixes the weights and the batch order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from covwb.covariance.geometry import RENAMED_METRICS, SPD_METRICS
from covwb.errors import ParameterError, SPDInputError
from covwb.jobs.plan import Plan, Ref, Task
from covwb.settings import Settings, setting

VARIANTS: dict[str, str] = {
    "none": "SPDNet (no BN)",
    **{name: f"{metric.short}-BN" for name, metric in SPD_METRICS.items() if metric.batch_norm},
}
"""Training variants: no batch norm, or a :class:`~covwb.spd.batchnorm.SPDBatchNorm` metric (the workbench's names)."""

STILL_FALLING_SHARE = 0.1
"""A run whose last epoch brought more than this share of its training loss's whole decrease has not converged."""

_RELATIVE_COST = {"none": 1.0, "riemann": 3.8, "logeuclid": 2.3, "wasserstein": 3.2, "gbw": 3.9, "gbw_theta": 4.3}
"""Seconds per epoch relative to SPDNet without batch norm (8 × 8 MAMEM covariances, hidden size 8, batch 30),
the task weights of :func:`plan_training` for progress and time estimates."""


@dataclass(frozen=True)
class TrainConfig(Settings):
    """Hyper-parameters of one training run, as a frozen settings object (validated when made).

    Being a :class:`covwb.settings.Settings`, it is also a cache key (:meth:`~covwb.settings.Settings.fingerprint`),
    a settings document, a part of a link and valid Python (nested as ``training`` in
    :class:`covwb.spd.analysis.SPDSettings`).

    Parameters
    ----------
    n_hidden : int
        BiMap output size, 1 to 1000 (at most the input size, checked against the data).
    epochs : int
        Passes over the training set, 1 to 1000.
    batch_size : int
        Matrices per batch, 2 to 1024 (batch norm needs a batch).
    lr : float
        Adam learning rate, in (0, 1] (Stiefel weights by projected Adam + QR retraction).
    test_fraction : float
        Share of the matrices held out, stratified by class, in [0.05, 0.9].
    theta : float
        Power deformation of the ``"gbw_theta"`` variant, in [0.05, 1].
    mean_iterations : int
        Barycentre iterations per batch in the batch norm before its tangent-space step, 0 to 100.
    refit_statistics : bool
        Before each evaluation, refit the batch norm's running statistics on the whole training
        set with the current weights (:meth:`~covwb.spd.batchnorm.SPDBatchNorm.refit`) instead of
        using the momentum averages, which lag behind a learnable metric ``M``.

    Examples
    --------
    >>> TrainConfig(epochs=5).to_query()
    {'epochs': '5'}
    >>> TrainConfig(batch_size=1)
    Traceback (most recent call last):
    ...
    covwb.errors.ParameterError: Batch size must be between 2 and 1024, got 1.
    """

    n_hidden: int = setting(6, label="BiMap output size", low=1, high=1000)
    epochs: int = setting(20, label="Epochs", low=1, high=1000)
    batch_size: int = setting(30, label="Batch size", low=2, high=1024)
    lr: float = setting(5e-3, label="Learning rate", low=1e-7, high=1.0)
    test_fraction: float = setting(0.25, label="Test share", low=0.05, high=0.9)
    theta: float = setting(0.5, label="θ of θ-GBW-BN", low=0.05, high=1.0)
    mean_iterations: int = setting(1, label="Barycentre iterations per batch", low=0, high=100)
    refit_statistics: bool = setting(True, label="Refit the running statistics before each evaluation")


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: learning-curve point and folding in the batch norm.

    Parameters
    ----------
    epoch : int
        1-based.
    train_loss, train_accuracy : float
        Mean cross-entropy and accuracy (in [0, 1]) over the epoch's training batches.
    test_loss, test_accuracy : float
        On the held-out matrices after the epoch (evaluation mode).
    seconds : float
        Wall time of the epoch's training (evaluation not counted).
    folded_train : int
        Training matrices that folded in the epoch's training batches (each passes once per epoch;
        0 for variants that cannot fold). The statistics-only refit pass is not counted.
    max_batch_fold_fraction : float
        Largest share of one training batch that folded, in [0, 1].
    folded_test : int
        Held-out matrices that folded in the evaluation after the epoch.
    """

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float
    folded_train: int = 0
    max_batch_fold_fraction: float = 0.0
    folded_test: int = 0


@dataclass(frozen=True, eq=False)
class TrainResult:
    """One trained variant with one seed: the model, the split, the curves, folding and warnings.

    Parameters
    ----------
    variant : str
        Key of :data:`VARIANTS`.
    seed : int
        Seed of the split, the initial weights and the batch order.
    history : list of EpochRecord
        One record per epoch.
    model : SPDNet
        The trained network, in evaluation mode; it takes matrices divided by ``settings["input_scale"]``.
    train_indices, test_indices : ndarray of int
        Positions in the inputs of the training and held-out matrices (sorted).
    warnings : tuple of str
        Sentences on what may make the result wrong (folding, a loss that became NaN or infinite), with
        what to do.
    settings : dict
        The configuration, variant, seed, classes, split sizes and input scale.
    """

    variant: str
    seed: int
    history: list[EpochRecord]
    model: Any
    train_indices: np.ndarray
    test_indices: np.ndarray
    warnings: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict)

    @property
    def test_accuracy(self) -> float:
        """Test accuracy after the last epoch, in [0, 1]."""
        return self.history[-1].test_accuracy

    @property
    def seconds_per_epoch(self) -> float:
        """Median wall time of one training epoch, in seconds."""
        return float(np.median([r.seconds for r in self.history]))

    @property
    def folded_train(self) -> int:
        """Training matrices that folded, summed over the epochs (a matrix folding in 3 epochs counts 3 times)."""
        return sum(r.folded_train for r in self.history)

    @property
    def folded(self) -> bool:
        """Whether the batch norm folded at least once, in training or in evaluation."""
        return any(r.folded_train or r.folded_test for r in self.history)

    @property
    def diverged_epoch(self) -> int | None:
        """The first epoch whose training or test loss is NaN or infinite, or None."""
        return next(
            (r.epoch for r in self.history if not (math.isfinite(r.train_loss) and math.isfinite(r.test_loss))), None
        )

    def still_falling(self, share: float = STILL_FALLING_SHARE) -> bool:
        """Whether training stopped while its loss was still falling: it has not converged.

        True for a single epoch, and when the last epoch brought more than ``share`` of the training loss's
        whole decrease since the first epoch (on a converged run the last epochs bring almost nothing).
        """
        losses = [r.train_loss for r in self.history]
        if len(losses) < 2:
            return True
        last, total = losses[-2] - losses[-1], losses[0] - losses[-1]
        return last > 0 and last > share * total

    def curves(self) -> pd.DataFrame:
        """The history as a table, one row per epoch, with the variant, the seed and folding in %.

        ``folded_train_percent`` is ``folded_train`` over the training matrices, ``folded_test_percent``
        ``folded_test`` over the held-out ones.
        """
        frame = pd.DataFrame([asdict(r) for r in self.history])
        n_train, n_test = len(self.train_indices), len(self.test_indices)
        return frame.assign(
            variant=VARIANTS[self.variant],
            seed=self.seed,
            folded_train_percent=100 * frame["folded_train"] / max(n_train, 1),
            folded_test_percent=100 * frame["folded_test"] / max(n_test, 1),
        )


def _check_variant(variant: str) -> None:
    """Raise :class:`ParameterError` for a name that is not a key of :data:`VARIANTS`, with the new name of a former one."""
    if variant not in VARIANTS:
        hint = f" (now called {RENAMED_METRICS[variant]!r})" if variant in RENAMED_METRICS else ""
        raise ParameterError(f"Unknown variant {variant!r}{hint}; choose one of {', '.join(map(repr, VARIANTS))}.")


def _check_inputs(covs: np.ndarray, labels: Sequence, config: TrainConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from covwb.covariance.geometry import check_spd_stack

    X = check_spd_stack(covs, name="covariance matrices", min_matrices=4)
    y_raw = np.asarray(labels).astype(str)
    if y_raw.shape != (X.shape[0],):
        raise SPDInputError(f"Got {y_raw.size} labels for {X.shape[0]} matrices; give one label per matrix.")
    classes, y = np.unique(y_raw, return_inverse=True)
    counts = np.bincount(y)
    if len(classes) < 2:
        raise SPDInputError("Training needs at least two classes; all matrices carry the same label.")
    if counts.min() < 2:
        raise SPDInputError(f"Class {classes[counts.argmin()]!r} has only one matrix; each class needs at least 2.")
    if not 1 <= config.n_hidden <= X.shape[1]:
        raise ParameterError(
            f"The hidden size must be between 1 and the matrix size {X.shape[1]}, got {config.n_hidden}."
        )
    return X, y, [str(c) for c in classes]


def train_spdnet(
    covs: np.ndarray,
    labels: Sequence,
    variant: str,
    *,
    seed: int = 0,
    config: TrainConfig = TrainConfig(),
    callback: Callable[[str, int, EpochRecord], None] | None = None,
) -> TrainResult:
    """Train SPDNet with one batch-norm variant; return the model, the split, the curves and folding.

    Parameters
    ----------
    covs : ndarray, shape (N, n, n)
        SPD matrices (covariances), any unit.
    labels : sequence, length N
        Class of each matrix.
    variant : str
        A key of :data:`VARIANTS`.
    seed : int
        Seeds the split, the initial weights and the batch order.
    config : TrainConfig
        Hyper-parameters.
    callback : callable or None
        Called as ``callback(variant, seed, record)`` after every epoch (live curves in a notebook).

    Returns
    -------
    TrainResult
        With a warning when the batch norm folded (see the module docstring for the definition).

    Raises
    ------
    SPDInputError, ParameterError
        Invalid matrices or labels, unknown variant, impossible settings.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 4, 20))
    >>> covs = A @ A.transpose(0, 2, 1) / 20
    >>> covs[20:] *= np.outer([3.0, 1.0, 1.0, 1.0], [3.0, 1.0, 1.0, 1.0])
    >>> labels = np.repeat(["rest", "task"], 20)
    >>> result = train_spdnet(covs, labels, "wasserstein", config=TrainConfig(n_hidden=3, epochs=3, batch_size=10))
    >>> len(result.history), len(result.train_indices), len(result.test_indices)
    (3, 30, 10)
    >>> result.folded_train, result.warnings  # matrices that folded in the BW batch norm, over the epochs
    (0, ())
    """
    import torch
    from sklearn.model_selection import train_test_split

    from covwb.spd.spdnet import SPDNet, StiefelAdam

    _check_variant(variant)
    X, y, classes = _check_inputs(covs, labels, config)
    n_test = max(len(classes), round(config.test_fraction * len(y)))
    if len(y) - n_test < max(2, len(classes)):
        raise SPDInputError(f"{len(y)} matrices are too few to hold out a test set; provide more.")
    train_idx, test_idx = train_test_split(np.arange(len(y)), test_size=n_test, stratify=y, random_state=seed)
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    scale = float(np.median(np.trace(X[train_idx], axis1=1, axis2=2)) / X.shape[1])
    Xt = torch.from_numpy(X / scale)
    yt = torch.from_numpy(y)
    model = SPDNet(
        X.shape[1],
        config.n_hidden,
        len(classes),
        None if variant == "none" else variant,
        theta=config.theta if variant == "gbw_theta" else None,
        seed=seed,
        **({} if variant == "none" else {"mean_iterations": config.mean_iterations}),
    )
    optimiser = StiefelAdam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(seed)
    train_t, test_t = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
    history: list[EpochRecord] = []
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = train_t[torch.randperm(len(train_t), generator=generator)]
        batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        if len(batches) > 1 and len(batches[-1]) < 2:
            batches[-2] = torch.cat(batches[-2:])
            batches.pop()
        losses, correct, folded, worst = [], 0, 0, 0.0
        for batch in batches:
            optimiser.zero_grad()
            logits = model(Xt[batch])
            n_folded = _folded(model)
            folded, worst = folded + n_folded, max(worst, n_folded / len(batch))
            loss = torch.nn.functional.cross_entropy(logits, yt[batch])
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()) * len(batch))
            correct += int((logits.argmax(1) == yt[batch]).sum())
        if config.refit_statistics:
            model.refit_batchnorm(Xt[train_t])
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            logits = model(Xt[test_t])
            test_loss = float(torch.nn.functional.cross_entropy(logits, yt[test_t]))
            test_acc = float((logits.argmax(1) == yt[test_t]).double().mean())
        record = EpochRecord(
            epoch,
            sum(losses) / len(train_t),
            correct / len(train_t),
            test_loss,
            test_acc,
            seconds,
            folded_train=folded,
            max_batch_fold_fraction=worst,
            folded_test=_folded(model),
        )
        history.append(record)
        if callback is not None:
            callback(variant, seed, record)
    settings = {
        **asdict(config),
        "variant": variant,
        "seed": seed,
        "classes": classes,
        "n_train": len(train_idx),
        "n_test": len(test_idx),
        "input_scale": scale,
    }
    return TrainResult(
        variant=variant,
        seed=seed,
        history=history,
        model=model,
        train_indices=train_idx,
        test_indices=test_idx,
        warnings=(
            *_folding_warnings(variant, seed, history, len(train_idx), len(test_idx)),
            *_divergence_warnings(variant, seed, history),
        ),
        settings=settings,
    )


def _folded(model: Any) -> int:
    """Matrices of the model's last forward pass that folded in its batch norm (0 without one)."""
    layer = model.batchnorm
    return 0 if layer is None else int(layer.last_fold_mask.sum())


def _folding_warnings(
    variant: str, seed: int, history: Sequence[EpochRecord], n_train: int, n_test: int
) -> tuple[str, ...]:
    """One sentence when the batch norm folded during training or evaluation, else nothing."""
    epochs = [r.epoch for r in history if r.folded_train or r.folded_test]
    if not epochs:
        return ()
    train = sum(r.folded_train for r in history)
    passes = n_train * len(history)
    worst = max(r.max_batch_fold_fraction for r in history)
    test = max(r.folded_test for r in history)
    test_part = f"; in evaluation up to {test} of the {n_test} held-out matrices folded" if test else ""
    return (
        f"{VARIANTS[variant]}, seed {seed}: folding in {len(epochs)} of {len(history)} epochs (first in epoch "
        f"{epochs[0]}). The Bures-Wasserstein exponential map ran past the end of its geodesic for {train} of "
        f"{passes} training-matrix passes ({train / passes:.1%}), up to {worst:.0%} of one batch{test_part}. Those "
        "outputs are reflected back towards the bias instead of normalised, so the layer's mean and dispersion miss "
        "their targets. Matrices far below the batch in some direction (low-power or outlying trials) fold first, "
        "more so as the learnt dispersion grows: look for outlying trials, or try θ-GBW (θ < 1), fewer epochs or a "
        "lower learning rate.",
    )


def _divergence_warnings(variant: str, seed: int, history: Sequence[EpochRecord]) -> tuple[str, ...]:
    """One sentence when a loss became NaN or infinite, else nothing."""
    epoch = next((r.epoch for r in history if not (math.isfinite(r.train_loss) and math.isfinite(r.test_loss))), None)
    if epoch is None:
        return ()
    return (
        f"{VARIANTS[variant]}, seed {seed}: the loss became NaN or infinite in epoch {epoch}, so the weights are no "
        "longer numbers and the later curves and the test accuracy mean nothing. Lower the learning rate.",
    )


def plan_training(
    covs: np.ndarray,
    labels: Sequence,
    variants: Sequence[str] = tuple(VARIANTS),
    seeds: Sequence[int] = (0,),
    config: TrainConfig = TrainConfig(),
) -> Plan:
    """SPDNet training of several variants × seeds as a :class:`covwb.jobs.Plan`, one task per (variant, seed).

    Each task is :func:`train_spdnet` on the matrices and labels shared through :attr:`Plan.data`; the
    tasks are listed seed by seed, so that every variant has a first run early. ``combine`` returns the
    per-variant results.

    Parameters
    ----------
    covs : ndarray, shape (N, n, n)
        SPD matrices.
    labels : sequence, length N
        Class of each matrix.
    variants : sequence of str
        Keys of :data:`VARIANTS`, each once.
    seeds : sequence of int
        Seeds, each once.
    config : TrainConfig
        Hyper-parameters shared by every run.

    Returns
    -------
    Plan
        Whose result (``covwb.jobs.run_plan(plan)``) is a dict from variant (in the order of ``variants``)
        to its :class:`TrainResult` s, by increasing seed.

    Raises
    ------
    SPDInputError, ParameterError
        Invalid matrices or labels, unknown or repeated variants or seeds, impossible settings; checked
        here, before any task runs.

    Examples
    --------
    >>> import numpy as np
    >>> from covwb.jobs import run_plan
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((24, 3, 12))
    >>> covs, labels = A @ A.transpose(0, 2, 1) / 12, np.repeat([0, 1], 12)
    >>> plan = plan_training(covs, labels, ["none", "wasserstein"], seeds=[0, 1], config=TrainConfig(n_hidden=2, epochs=1))
    >>> [task.label for task in plan.tasks]
    ['SPDNet (no BN), seed 0', 'BW-BN, seed 0', 'SPDNet (no BN), seed 1', 'BW-BN, seed 1']
    >>> results = run_plan(plan)
    >>> {variant: [r.seed for r in runs] for variant, runs in results.items()}
    {'none': [0, 1], 'wasserstein': [0, 1]}
    """
    variants, seeds = list(variants), [int(s) for s in seeds]
    for variant in variants:
        _check_variant(variant)
    if not variants or not seeds or len(set(variants)) < len(variants) or len(set(seeds)) < len(seeds):
        raise ParameterError("Choose at least one variant and one seed, each once.")
    X, _, _ = _check_inputs(covs, labels, config)
    y = np.asarray(labels)
    tasks = tuple(
        Task(
            key=f"{variant}/{seed}",
            fn=train_spdnet,
            args=(Ref("covs"), Ref("labels"), variant),
            kwargs={"seed": seed, "config": config},
            label=f"{VARIANTS[variant]}, seed {seed}",
            weight=_RELATIVE_COST[variant] * config.epochs,
        )
        for seed in seeds
        for variant in variants
    )
    return Plan(
        tasks=tasks,
        combine=partial(_by_variant, order=tuple(variants)),
        data={"covs": X, "labels": y},
        name="SPDNet training",
    )


def _by_variant(results: Mapping[str, TrainResult], order: tuple[str, ...]) -> dict[str, list[TrainResult]]:
    """The plan's combine: task results grouped by variant (in ``order``), each variant's runs by seed."""
    grouped: dict[str, list[TrainResult]] = {variant: [] for variant in order}
    for result in results.values():
        grouped[result.variant].append(result)
    return {variant: sorted(runs, key=lambda r: r.seed) for variant, runs in grouped.items()}


def all_curves(results: Sequence[TrainResult]) -> pd.DataFrame:
    """The learning curves of several runs in one table (see :meth:`TrainResult.curves`)."""
    return pd.concat([r.curves() for r in results], ignore_index=True)


def summarise(results: Sequence[TrainResult]) -> pd.DataFrame:
    """One row per variant: test accuracy mean and sd over seeds (%), seeds, seconds per epoch, folding.

    ``runs that folded`` counts the seeds whose batch norm folded at least once (training or
    evaluation); ``most folded in a batch (%)`` is the largest share of one training batch that folded.
    """
    rows = []
    for variant in dict.fromkeys(r.variant for r in results):
        runs = [r for r in results if r.variant == variant]
        acc = np.array([r.test_accuracy for r in runs]) * 100
        rows.append(
            {
                "variant": VARIANTS[variant],
                "test accuracy mean (%)": float(acc.mean()),
                "test accuracy sd (%)": float(acc.std(ddof=1)) if len(acc) > 1 else float("nan"),
                "seeds": len(runs),
                "seconds per epoch": float(np.median([r.seconds_per_epoch for r in runs])),
                "runs that folded": sum(r.folded for r in runs),
                "most folded in a batch (%)": 100 * max(h.max_batch_fold_fraction for r in runs for h in r.history),
            }
        )
    return pd.DataFrame(rows)


def variant_warnings(results: Sequence[TrainResult]) -> tuple[str, ...]:
    """One folding warning per variant whose batch norm folded: its first folded run's, and how many seeds folded.

    Parameters
    ----------
    results : sequence of TrainResult
        Runs of one or more variants (e.g. every run of :func:`plan_training`).

    Returns
    -------
    tuple of str
        In the order the variants first appear.
    """
    out = []
    for variant in dict.fromkeys(r.variant for r in results):
        runs = [r for r in results if r.variant == variant]
        folded = [r for r in runs if r.folded]
        if folded:
            first = folded[0]
            (sentence,) = _folding_warnings(
                variant, first.seed, first.history, len(first.train_indices), len(first.test_indices)
            )
            out.append(f"{sentence} ({len(folded)} of {len(runs)} seeds of {VARIANTS[variant]} folded.)")
    return tuple(out)


def convergence_warnings(results: Sequence[TrainResult], share: float = STILL_FALLING_SHARE) -> tuple[str, ...]:
    """Warnings on runs that diverged (one per variant) or stopped while still learning (one for all variants).

    Parameters
    ----------
    results : sequence of TrainResult
        Runs of one or more variants.
    share : float
        See :meth:`TrainResult.still_falling`.

    Returns
    -------
    tuple of str
        One sentence per variant with a run whose loss became NaN or infinite, then one sentence naming the
        variants whose runs had not converged (:meth:`TrainResult.still_falling`), if any.

    Examples
    --------
    >>> from covwb.spd.training import EpochRecord, TrainResult
    >>> history = [EpochRecord(e, loss, 0.5, loss, 0.5, 0.1) for e, loss in ((1, 0.7), (2, 0.5))]
    >>> run = TrainResult("wasserstein", 0, history, None, np.arange(6), np.arange(6, 8))
    >>> print(convergence_warnings([run])[0][:83])
    The training loss was still falling when training stopped for BW-BN (1 of 1 seeds):
    """
    out, unfinished = [], []
    for variant in dict.fromkeys(r.variant for r in results):
        runs = [r for r in results if r.variant == variant]
        diverged = [r for r in runs if r.diverged_epoch is not None]
        if diverged:
            out.append(
                f"{VARIANTS[variant]}: the loss became NaN or infinite in {len(diverged)} of {len(runs)} seeds (seed "
                f"{diverged[0].seed} in epoch {diverged[0].diverged_epoch}); those runs' curves and test accuracies "
                "mean nothing. Lower the learning rate."
            )
        falling = [r for r in runs if r.diverged_epoch is None and r.still_falling(share)]
        if falling:
            unfinished.append(f"{VARIANTS[variant]} ({len(falling)} of {len(runs)} seeds)")
    if unfinished:
        out.append(
            f"The training loss was still falling when training stopped for {', '.join(unfinished)}: the last "
            f"epoch brought more than {share:.0%} of the loss's whole decrease (or there was one epoch), so the "
            "learning curves and test accuracies are those of unfinished training and comparisons between "
            "variants may change. Train for more epochs (or with a larger learning rate)."
        )
    return tuple(out)
