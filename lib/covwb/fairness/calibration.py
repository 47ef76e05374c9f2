"""Choosing λ: a sweep over a grid × seeds, the task-loss vs JSD trade-off, its elbow and a permutation rule.

The unregularised model (λ = 0) is trained once per seed and shared by every penalty's curve. Two rules:

- **elbow**: on the mean curve over seeds, with the task loss and the JSD each rescaled to [0, 1] over
  the grid, the λ farthest from the chord joining λ = 0 to the largest λ (Kneedle): beyond it, each
  further drop in JSD costs relatively more task loss;
- **independence**: the smallest λ at which the permutation test of ŷ ⊥ (Z₁…Z_d) no longer rejects at
  level α in most seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from covwb.errors import ParameterError
from covwb.fairness.data import FairnessData
from covwb.fairness.metrics import TASK_METRIC, Evaluation, evaluate
from covwb.fairness.models import TrainedModel, TrainSettings, train_model
from covwb.fairness.torch_penalties import PENALTIES

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class LambdaChoice:
    """The λ chosen for one penalty and why.

    Parameters
    ----------
    penalty : str
        The penalty.
    elbow : float
        λ at the elbow of the trade-off curve.
    elbow_reason : str
        One sentence with the numbers behind it.
    independent : float or None
        Smallest λ at which the permutation test stops rejecting independence (None: never on the grid).
    independent_reason : str
        One sentence.
    """

    penalty: str
    elbow: float
    elbow_reason: str
    independent: float | None
    independent_reason: str


@dataclass(frozen=True)
class SweepResult:
    """A λ sweep.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per (penalty, λ, seed): validation metrics, best epoch and seconds.
    summary : pandas.DataFrame
        Mean and standard deviation over seeds per (penalty, λ): columns ``<metric>`` and ``<metric>_sd``.
    choices : dict of str to LambdaChoice
        Per penalty.
    evaluations : dict of tuple to Evaluation
        ``(penalty, λ, seed)`` → validation evaluation (λ = 0 under penalty ``"none"``).
    predictions : dict of tuple to ndarray
        Validation predictions under the same keys.
    settings : dict
        The settings of the sweep (for exports).
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    choices: dict[str, LambdaChoice]
    evaluations: dict[tuple[str, float, int], Evaluation]
    predictions: dict[tuple[str, float, int], np.ndarray]
    settings: dict[str, Any]


def elbow(lambdas: Sequence[float], loss: Sequence[float], jsd: Sequence[float]) -> int:
    """Index of the elbow of a trade-off curve (Kneedle on min–max scaled coordinates).

    Parameters
    ----------
    lambdas : sequence of float, length m
        The grid, increasing, starting at 0.
    loss : sequence of float, length m
        Task loss at each λ (lower is better).
    jsd : sequence of float, length m
        JSD at each λ.

    Returns
    -------
    int
        Position in the grid; 0 when the curve has fewer than 3 points or no spread.
    """
    loss_arr, jsd_arr = np.asarray(loss, dtype=float), np.asarray(jsd, dtype=float)
    if len(lambdas) < 3:
        return 0

    def scaled(v: np.ndarray) -> np.ndarray:
        span = v.max() - v.min()
        return (v - v.min()) / span if span > 0 else np.zeros_like(v)

    x, y = scaled(jsd_arr), scaled(loss_arr)
    start, end = np.array([x[0], y[0]]), np.array([x[-1], y[-1]])
    chord = end - start
    norm = np.hypot(*chord)
    if norm == 0:
        return 0
    distance = np.abs(chord[0] * (y - start[1]) - chord[1] * (x - start[0])) / norm
    return int(np.argmax(distance))


def _choose(penalty: str, summary: pd.DataFrame, metric: str, label: str, alpha: float) -> LambdaChoice:
    """Elbow and independence λ of one penalty from the summary table."""
    part = summary[summary["penalty"] == penalty].sort_values("lambda")
    lambdas = part["lambda"].to_numpy()
    at = elbow(lambdas, part[metric].to_numpy(), part["jsd"].to_numpy())
    base, chosen = part.iloc[0], part.iloc[at]
    jsd_change = 100 * (chosen["jsd"] / base["jsd"] - 1) if base["jsd"] > 0 else 0.0
    loss_change = 100 * (chosen[metric] / base[metric] - 1) if base[metric] != 0 else 0.0
    reason = (
        f"λ = {lambdas[at]:g} is the elbow of the {label}–JSD curve (farthest from the chord from λ = 0 to "
        f"λ = {lambdas[-1]:g}, both axes rescaled to [0, 1]): JSD changes by {jsd_change:+.0f}% and the {label} "
        f"by {loss_change:+.1f}% relative to the unregularised model (means over seeds)."
    )
    independent, why = None, f"The permutation test rejects independence (α = {alpha:g}) at every λ of the grid."
    if "rejected" in part:
        accepted = part[part["rejected"] < 0.5]
        if len(accepted):
            independent = float(accepted["lambda"].iloc[0])
            why = (
                f"λ = {independent:g} is the smallest λ at which the permutation test no longer rejects "
                f"independence of the predictions and the protected attributes (α = {alpha:g}) in most seeds."
            )
            if independent == 0:
                why = (
                    "Already the unregularised model passes the permutation test of independence "
                    f"(α = {alpha:g}) in most seeds: on this validation set the test cannot detect its dependence."
                )
    else:
        why = "No permutation test was run."
    return LambdaChoice(penalty, float(lambdas[at]), reason, independent, why)


def sweep(
    data: FairnessData,
    base: TrainSettings,
    *,
    penalties: Sequence[str],
    lambdas: Sequence[float],
    seeds: Sequence[int],
    n_permutations: int = 99,
    alpha: float = 0.05,
    progress: Progress | None = None,
) -> SweepResult:
    """Train and evaluate every (penalty, λ, seed) on the validation part.

    Parameters
    ----------
    data : FairnessData
        The prepared problem.
    base : TrainSettings
        Architecture and optimisation; its penalty, λ and seed are replaced.
    penalties : sequence of str
        Among :data:`~covwb.fairness.torch_penalties.PENALTIES`.
    lambdas : sequence of float
        The grid (0 is added when absent).
    seeds : sequence of int
        Seeds of the repeats.
    n_permutations : int, default 99
        Permutations of the independence test per model (0: no test, no independence rule).
    alpha : float, default 0.05
        Level of the test.
    progress : callable, optional
        ``progress(fraction, step)`` after each model.

    Returns
    -------
    SweepResult

    Raises
    ------
    ParameterError
        For no penalty, an unknown penalty, a negative λ or no seed.
    """
    if not penalties or any(p not in PENALTIES for p in penalties):
        raise ParameterError(f"Choose at least one penalty among {', '.join(PENALTIES)}.")
    if not seeds:
        raise ParameterError("Choose at least one seed.")
    if any(lam < 0 for lam in lambdas):
        raise ParameterError("Every λ of the grid must be ≥ 0.")
    grid = sorted({0.0, *(float(lam) for lam in lambdas)})
    jobs = [("none", 0.0, seed) for seed in seeds]
    jobs += [(p, lam, seed) for p in penalties for lam in grid if lam > 0 for seed in seeds]
    rows, evaluations, predictions = [], {}, {}
    held_out = data.validation
    protected = data.protected.subset(held_out)
    for done, (penalty, lam, seed) in enumerate(jobs):
        if progress is not None:
            name = "unregularised" if penalty == "none" else f"{PENALTIES[penalty]}, λ = {lam:g}"
            progress(done / len(jobs), f"Training {name}, seed {seed} ({done + 1}/{len(jobs)})")
        model = train_model(data, replace(base, penalty=penalty, lam=lam, seed=seed))
        predicted = predict_validation(model, data)
        result = evaluate(
            data.task, data.y[held_out], predicted, protected, c=base.c, n_permutations=n_permutations, seed=seed
        )
        evaluations[(penalty, lam, seed)] = result
        predictions[(penalty, lam, seed)] = predicted
        rows.append(
            {
                "penalty": penalty,
                "lambda": lam,
                "seed": seed,
                **result.metrics,
                "best_epoch": model.best_epoch,
                "seconds": model.seconds,
            }
        )
    if progress is not None:
        progress(1.0, "Done")
    runs = pd.DataFrame(rows)
    curves = pd.concat(
        [runs[runs["penalty"] != "none"]] + [runs[runs["penalty"] == "none"].assign(penalty=p) for p in penalties],
        ignore_index=True,
    )
    if n_permutations:
        curves["rejected"] = (curves["perm_p"] < alpha).astype(float)
    numeric = [c for c in curves.columns if c not in ("penalty", "lambda", "seed")]
    grouped = curves.groupby(["penalty", "lambda"], sort=True)[numeric]
    summary = grouped.mean().join(grouped.std(ddof=1).fillna(0.0).add_suffix("_sd")).reset_index()
    metric, label = TASK_METRIC[data.task]
    choices = {p: _choose(p, summary, metric, label, alpha) for p in penalties}
    settings = {
        **base.as_dict(),
        "penalties": list(penalties),
        "lambdas": grid,
        "seeds": list(seeds),
        "n_permutations": n_permutations,
        "alpha": alpha,
    }
    return SweepResult(runs, summary, choices, evaluations, predictions, settings)


def predict_validation(model: TrainedModel, data: FairnessData) -> np.ndarray:
    """Predictions of a model on the validation rows, shape (n_validation,)."""
    rows = data.validation
    return model.predict(data.X[rows], data.exposure[rows])


def tradeoff_table(result: SweepResult, task: str) -> pd.DataFrame:
    """The trade-off table: penalty, λ, task metric, JSD, UF (means over seeds, with sds).

    Returns
    -------
    pandas.DataFrame
        Columns ``penalty, lambda, <metric>, <metric>_sd, jsd, jsd_sd, uf, uf_sd, dcor, ccdcov, jdcov``
        (and ``perm_p`` when tested).
    """
    metric, _ = TASK_METRIC[task]
    columns = ["penalty", "lambda", metric, f"{metric}_sd", "jsd", "jsd_sd", "uf", "uf_sd", "dcor", "ccdcov", "jdcov"]
    if "perm_p" in result.summary:
        columns.append("perm_p")
    return result.summary[columns].copy()
