"""Seeded training of SPDNet with each batch-norm variant, with a per-epoch callback for live curves.

Inputs are scaled by one number (the median of ``tr(X) / n`` over the training matrices), which
keeps the BW geometry in the regime where ``Exp`` does not fold and leaves relative sizes intact.
The split is stratified and seeded; the seed also fixes the weights and the batch order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from covwb.errors import ParameterError, SPDInputError

VARIANTS: dict[str, str] = {
    "none": "SPDNet (no BN)",
    "airm": "AIRM-BN",
    "lem": "LEM-BN",
    "bw": "BW-BN",
    "gbw": "GBW-BN",
    "pgbw": "θ-GBW-BN",
}
"""Training variants: no batch norm, or a :class:`~covwb.spd.batchnorm.SPDBatchNorm` metric."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run.

    Parameters
    ----------
    n_hidden : int
        BiMap output size (at most the input size).
    epochs : int
        Passes over the training set.
    batch_size : int
        Matrices per batch (at least 2, batch norm needs a batch).
    lr : float
        Adam learning rate (Stiefel weights by projected Adam + QR retraction).
    test_fraction : float
        Share of the matrices held out, stratified by class.
    theta : float
        Power deformation of the ``"pgbw"`` variant.
    mean_iterations : int
        Barycentre iterations per batch in the batch norm before its tangent-space step.
    refit_statistics : bool
        Before each evaluation, refit the batch norm's running statistics on the whole training
        set with the current weights (:meth:`~covwb.spd.batchnorm.SPDBatchNorm.refit`) instead of
        using the momentum averages, which lag behind a learnable metric ``M``.
    """

    n_hidden: int = 6
    epochs: int = 20
    batch_size: int = 30
    lr: float = 5e-3
    test_fraction: float = 0.25
    theta: float = 0.5
    mean_iterations: int = 1
    refit_statistics: bool = True


@dataclass(frozen=True)
class EpochRecord:
    """Learning-curve point: mean training loss/accuracy over the epoch, test loss/accuracy after it, seconds."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float


@dataclass(frozen=True, eq=False)
class TrainResult:
    """One trained variant with one seed: its learning curves and settings."""

    variant: str
    seed: int
    history: list[EpochRecord]
    settings: dict = field(default_factory=dict)

    @property
    def test_accuracy(self) -> float:
        """Test accuracy after the last epoch, in [0, 1]."""
        return self.history[-1].test_accuracy

    @property
    def seconds_per_epoch(self) -> float:
        """Median wall time of one training epoch, in seconds."""
        return float(np.median([r.seconds for r in self.history]))

    def curves(self) -> pd.DataFrame:
        """The history as a table, one row per epoch, with the variant and seed."""
        frame = pd.DataFrame([asdict(r) for r in self.history])
        return frame.assign(variant=VARIANTS[self.variant], seed=self.seed)


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
    if config.batch_size < 2 or config.epochs < 1 or not 0 < config.test_fraction < 1:
        raise ParameterError("Use a batch of at least 2, at least 1 epoch and a test share strictly between 0 and 1.")
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
    """Train SPDNet with one batch-norm variant and return its learning curves.

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
        Called as ``callback(variant, seed, record)`` after every epoch.

    Returns
    -------
    TrainResult

    Raises
    ------
    SPDInputError, ParameterError
        Invalid matrices or labels, unknown variant, impossible settings.
    """
    import torch
    from sklearn.model_selection import train_test_split

    from covwb.spd.spdnet import SPDNet, StiefelAdam

    if variant not in VARIANTS:
        raise ParameterError(f"Unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}.")
    X, y, classes = _check_inputs(covs, labels, config)
    n_test = max(len(classes), round(config.test_fraction * len(y)))
    if len(y) - n_test < max(2, len(classes)):
        raise SPDInputError(f"{len(y)} matrices are too few to hold out a test set; provide more.")
    train_idx, test_idx = train_test_split(np.arange(len(y)), test_size=n_test, stratify=y, random_state=seed)
    scale = float(np.median(np.trace(X[train_idx], axis1=1, axis2=2)) / X.shape[1])
    Xt = torch.from_numpy(X / scale)
    yt = torch.from_numpy(y)
    theta = config.theta if variant == "pgbw" else None
    model = SPDNet(
        X.shape[1],
        config.n_hidden,
        len(classes),
        None if variant == "none" else variant,
        theta=theta,
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
        losses, correct = [], 0
        for batch in batches:
            optimiser.zero_grad()
            logits = model(Xt[batch])
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
        record = EpochRecord(epoch, sum(losses) / len(train_t), correct / len(train_t), test_loss, test_acc, seconds)
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
    return TrainResult(variant=variant, seed=seed, history=history, settings=settings)


def all_curves(results: Sequence[TrainResult]) -> pd.DataFrame:
    """The learning curves of several runs in one table (see :meth:`TrainResult.curves`)."""
    return pd.concat([r.curves() for r in results], ignore_index=True)


def summarise(results: Sequence[TrainResult]) -> pd.DataFrame:
    """Accuracy mean and sd over seeds (in %) and median seconds per epoch, one row per variant."""
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
            }
        )
    return pd.DataFrame(rows)
