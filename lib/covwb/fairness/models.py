"""Torch models trained with task loss + λ · distance-covariance penalty, in mini-batches, with early stopping.

Models: logistic regression (binary), linear regression (continuous), Poisson regression with an exposure
offset (counts, ``μ_i = exposure_i · exp(f(x_i))``), each either linear or a small MLP (ReLU, dropout).
The penalty acts on the probability (binary), on the prediction of the standardised target (continuous,
so that λ does not depend on the target's unit) or on the exposure-scaled expected count (counts, as the
authors). The penalty comes from a :class:`covwb.fairness.batch_penalty.PenaltyPlan` built once per fit,
whose per-batch constants are prepared for a whole epoch at once; it is exact, O(b log b) per batch
unless CCdCov or JdCov mixes a continuous attribute with others (then O(b²)). A step evaluates the
penalty's value and gradient in the predictions with compiled kernels and hands the gradient to the
backward pass beside the task loss's, so autograd sees no penalty node. The epoch without penalty runs
the same loop (same batches, same loader) minus the penalty.
Adam replaces the authors' AdaHessian. Early stopping watches the validation objective (task loss +
λ · penalty on the whole validation part; on a seeded subsample of 1000 validation rows when the penalty
is O(n²), its constant prepared once per fit) with a patience, and restores the best weights.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from covwb.errors import ParameterError
from covwb.fairness.batch_penalty import BatchConstant, PenaltyPlan
from covwb.fairness.data import FairnessData
from covwb.fairness.torch_penalties import PENALTIES

if TYPE_CHECKING:
    import torch

_VALIDATION_ROWS = 1000


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines one training run.

    Parameters
    ----------
    penalty : {"none", "dcov", "jdcov", "ccdcov"}
        The fairness penalty.
    lam : float
        Its weight λ ≥ 0.
    c : float
        JdCov constant.
    unbiased : bool
        U-statistic (True) or V-statistic penalty.
    hidden : tuple of int
        Hidden layer widths; ``()`` is the generalised linear model.
    dropout : float
        Dropout after each hidden layer.
    epochs : int
        Largest number of passes over the training rows.
    batch_size : int
        Rows per mini-batch.
    lr : float
        Adam learning rate.
    patience : int
        Epochs without validation improvement before stopping.
    early_stopping : bool
        False: run every epoch and keep the last weights (the validation objective is still recorded).
    seed : int
        Seed of the initial weights, the batch order and dropout.
    """

    penalty: str = "none"
    lam: float = 0.0
    c: float = 1.0
    unbiased: bool = True
    hidden: tuple[int, ...] = ()
    dropout: float = 0.0
    epochs: int = 200
    batch_size: int = 256
    lr: float = 0.02
    patience: int = 15
    early_stopping: bool = True
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain values (for exports)."""
        return {**self.__dict__, "hidden": list(self.hidden)}


@dataclass
class TrainedModel:
    """A trained network and its history.

    Parameters
    ----------
    settings : TrainSettings
        How it was trained.
    task : str
        The task.
    network : torch.nn.Module
        The network, best weights restored, in evaluation mode.
    target_mean, target_scale : float
        Standardisation of a continuous target (0 and 1 otherwise).
    history : list of tuple of float
        Per epoch: mean training objective and validation objective.
    best_epoch : int
        Epoch (1-based) whose weights were kept.
    seconds : float
        Training time.
    """

    settings: TrainSettings
    task: str
    network: Any
    target_mean: float
    target_scale: float
    history: list[tuple[float, float]] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0

    def predict(self, X: np.ndarray, exposure: np.ndarray) -> np.ndarray:
        """Predictions in the target's scale: probabilities, values, or expected counts.

        Parameters
        ----------
        X : ndarray, shape (n, f)
            Features as prepared by :func:`covwb.fairness.data.prepare_data`.
        exposure : ndarray, shape (n,)
            Exposure (counts), ignored otherwise.

        Returns
        -------
        ndarray, shape (n,)
        """
        import torch

        with torch.no_grad():
            raw = self.network(torch.tensor(X, dtype=torch.float64))[:, 0]
            out = _output(self.task, raw, torch.tensor(exposure, dtype=torch.float64))
        values = out.numpy()
        if self.task == "continuous":
            return self.target_mean + self.target_scale * values
        return values


def build_network(n_features: int, hidden: tuple[int, ...], dropout: float, seed: int) -> torch.nn.Module:
    """A linear model (``hidden=()``) or an MLP with ReLU and dropout, float64, seeded.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden : tuple of int
        Hidden widths.
    dropout : float
        Dropout probability after each hidden layer, in [0, 1).
    seed : int
        Seed of the initial weights.

    Returns
    -------
    torch.nn.Module
        Maps (n, n_features) to (n, 1) scores (logit, value or log-rate).
    """
    import torch

    if not 0.0 <= dropout < 1.0:
        raise ParameterError(f"Dropout must be in [0, 1), got {dropout}.")
    if any(width < 1 for width in hidden):
        raise ParameterError("Hidden layers need at least one unit each.")
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    width = n_features
    for size in hidden:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
        width = size
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers).double()


def _output(task: str, raw: torch.Tensor, exposure: torch.Tensor) -> torch.Tensor:
    """What the penalty sees: probability, standardised value, or expected count."""
    import torch

    if task == "binary":
        return torch.sigmoid(raw)
    if task == "counts":
        return exposure * torch.exp(raw)
    return raw


def _loss(task: str, raw: torch.Tensor, y: torch.Tensor, exposure: torch.Tensor) -> torch.Tensor:
    """Mean task loss: binary cross-entropy, squared error, or Poisson negative log-likelihood."""
    import torch

    if task == "binary":
        return torch.nn.functional.binary_cross_entropy_with_logits(raw, y)
    if task == "counts":
        return torch.nn.functional.poisson_nll_loss(raw + torch.log(exposure), y, log_input=True, full=False)
    return torch.nn.functional.mse_loss(raw, y)


def _initial_bias(network: torch.nn.Module, task: str, y: np.ndarray, exposure: np.ndarray) -> None:
    """Start the output bias at the base rate (logit, mean or log claim frequency)."""
    import torch

    last = network[-1]
    with torch.no_grad():
        if task == "binary":
            rate = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
            last.bias.fill_(np.log(rate / (1 - rate)))
        elif task == "counts":
            last.bias.fill_(np.log(max(y.sum(), 0.5) / exposure.sum()))


def train_model(data: FairnessData, settings: TrainSettings) -> TrainedModel:
    """Train one model with task loss + λ · penalty on the training rows, early-stopped on validation.

    Parameters
    ----------
    data : FairnessData
        The prepared problem.
    settings : TrainSettings
        Penalty, λ, architecture, optimisation and seed.

    Returns
    -------
    TrainedModel
        Best validation weights restored.

    Raises
    ------
    ParameterError
        For an unknown penalty, a negative λ, a batch smaller than 4, or non-positive epochs or rate.
    """
    import torch

    if settings.penalty not in ("none", *PENALTIES):
        raise ParameterError(f"Unknown penalty '{settings.penalty}'; choose none or one of {', '.join(PENALTIES)}.")
    if settings.lam < 0:
        raise ParameterError(f"λ must be ≥ 0, got {settings.lam}.")
    if settings.batch_size < 4 or settings.epochs < 1 or settings.lr <= 0 or settings.patience < 1:
        raise ParameterError("Use a batch of at least 4 rows, at least one epoch, a positive rate and patience.")
    if settings.penalty == "none" or settings.lam == 0:
        settings = replace(settings, penalty="none", lam=0.0)
    start = time.perf_counter()
    train, held_out = data.train, data.validation
    mean, scale = (
        (float(data.y[train].mean()), float(data.y[train].std() or 1.0)) if data.task == "continuous" else (0.0, 1.0)
    )
    X = torch.tensor(data.X, dtype=torch.float64)
    y = torch.tensor((data.y - mean) / scale, dtype=torch.float64)
    exposure = torch.tensor(data.exposure, dtype=torch.float64)
    network = build_network(data.X.shape[1], settings.hidden, settings.dropout, settings.seed)
    _initial_bias(network, data.task, data.y[train], data.exposure[train])
    optimiser = torch.optim.Adam(network.parameters(), lr=settings.lr)
    generator = torch.Generator().manual_seed(settings.seed)
    model = TrainedModel(settings, data.task, network, mean, scale)
    plan = None
    if settings.lam > 0:
        plan = PenaltyPlan(settings.penalty, data.protected, c=settings.c, unbiased=settings.unbiased)
    check = held_out
    if plan is not None and "dense" in plan.methods and held_out.size > _VALIDATION_ROWS:
        check = np.sort(np.random.default_rng(settings.seed).choice(held_out, _VALIDATION_ROWS, replace=False))
    check_constant = plan.constant(check) if plan is not None else None
    best, best_state, waited = np.inf, None, 0
    for epoch in range(1, settings.epochs + 1):
        network.train()
        order = train[torch.randperm(train.size, generator=generator).numpy()]
        batches = [order[i : i + settings.batch_size] for i in range(0, order.size, settings.batch_size)]
        if len(batches) > 1 and batches[-1].size < 4:
            batches[-2] = np.concatenate(batches[-2:])
            batches.pop()
        constants = plan.constants(batches) if plan is not None else itertools.repeat(None)
        total = 0.0
        for rows, constant in zip(batches, constants):
            optimiser.zero_grad()
            objective = _backward(
                data.task, network(X[rows])[:, 0], y[rows], exposure[rows], plan, constant, settings.lam
            )
            optimiser.step()
            total += objective * rows.size
        score = _validation_objective(network, settings, data, check, plan, check_constant, X, y, exposure)
        model.history.append((total / train.size, score))
        if score < best - 1e-9:
            best, waited, model.best_epoch = score, 0, epoch
            best_state = {key: value.clone() for key, value in network.state_dict().items()}
        else:
            waited += 1
            if waited >= settings.patience and settings.early_stopping:
                break
    if best_state is not None and settings.early_stopping:
        network.load_state_dict(best_state)
    network.eval()
    model.seconds = time.perf_counter() - start
    return model


def _backward(
    task: str,
    raw: torch.Tensor,
    y: torch.Tensor,
    exposure: torch.Tensor,
    plan: PenaltyPlan | None,
    constant: BatchConstant | None,
    lam: float,
) -> float:
    """Back-propagate task loss + λ · penalty of one batch into the network's gradients.

    The penalty's gradient in the outputs comes from ``plan.gradient`` and enters the backward pass beside
    the loss's, so autograd builds no penalty node.

    Parameters
    ----------
    task : str
        The task.
    raw : Tensor, shape (b,)
        Network scores of the batch, with their graph.
    y, exposure : Tensor, shape (b,)
        Targets (standardised when continuous) and exposures of the batch.
    plan, constant : PenaltyPlan and BatchConstant, or None
        The penalty of the batch; None without penalty.
    lam : float
        λ.

    Returns
    -------
    float
        The batch's objective.
    """
    import torch

    objective = _loss(task, raw, y, exposure)
    if plan is None or constant is None:
        objective.backward()
        return float(objective.detach())
    out = _output(task, raw, exposure)
    penalty, gradient = plan.gradient(out.detach().numpy(), constant, lam)
    torch.autograd.backward((objective, out), (None, torch.from_numpy(gradient)))
    return float(objective.detach()) + penalty


def _validation_objective(
    network: torch.nn.Module,
    settings: TrainSettings,
    data: FairnessData,
    rows: np.ndarray,
    plan: PenaltyPlan | None,
    constant: BatchConstant | None,
    X: torch.Tensor,
    y: torch.Tensor,
    exposure: torch.Tensor,
) -> float:
    """Task loss + λ · penalty on the validation rows (constant prepared once per fit), without gradient."""
    import torch

    network.eval()
    with torch.no_grad():
        raw = network(X[rows])[:, 0]
        value = _loss(data.task, raw, y[rows], exposure[rows])
        if plan is not None and constant is not None:
            value = value + plan.value(_output(data.task, raw, exposure[rows]), constant, settings.lam)
    return float(value)
