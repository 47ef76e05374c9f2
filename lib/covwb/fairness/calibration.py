"""Choosing λ: a sweep over penalties × λ × seeds run as a job plan, with honest splits and a cautious rule.

**Splits.** Every model is fitted on the training rows and stopped early on the validation rows; λ is
chosen on the validation metrics; the test rows, used for nothing else, give the numbers that the
trade-off table, the figures and the exports report. Every row of :attr:`SweepResult.runs` and
:attr:`SweepResult.summary` names its split.

**The λ rule** (:func:`choose_lambda`, on validation means over seeds):

1. the task loss–JSD curve over the grid, both axes rescaled to [0, 1] (as Kneedle does);
2. the chord from λ = 0 to the largest λ. A point *improves on the chord* when its loss lies below the
   chord at its JSD (:func:`chord_improvement`): it buys its JSD reduction for less loss than the
   straight trade-off. Points on or above the chord are never picked (the absolute distance used before
   picked the worst trade-off when every point lay above it);
3. a point qualifies only when its JSD reduction from λ = 0 exceeds the spread between seeds, the sum of
   the two standard deviations (their mean ± sd intervals do not overlap); a single seed has no spread,
   so nothing qualifies;
4. the qualifying point farthest from the chord is recommended; when none qualifies, λ = 0 is kept and
   the reason says why.

**Independence rule.** The smallest λ at which the permutation test of ŷ ⊥ (Z₁…Z_d) no longer rejects
independence (validation split) in most seeds; not rejecting is no proof of independence.

**Cost.** One training per (penalty, λ > 0, seed) plus one unregularised training per seed (shared by
every penalty's curve), each evaluated on validation and test with B permutations per test (exact
kernels: milliseconds per permutation on categorical attributes). :func:`plan_sweep` lays these fits
out as independent tasks of a :class:`covwb.jobs.Plan`, so the same sweep runs in this process, in
joblib processes or on a Dask cluster; :func:`sweep` runs it locally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from covwb.errors import ParameterError
from covwb.fairness.data import FairnessData
from covwb.fairness.metrics import (
    DEFAULT_PERMUTATIONS,
    TASK_METRIC,
    PredictionEvaluation,
    check_permutations,
    evaluate_predictions,
    independence_wording,
    small_cell_warnings,
    smallest_p_value,
)
from covwb.fairness.models import TrainedModel, TrainSettings, train_model
from covwb.fairness.torch_penalties import PENALTIES
from covwb.jobs.plan import Plan, Ref, Task, run_plan

Progress = Callable[[float, str], None]

SPLITS: tuple[str, ...] = ("validation", "test")
"""The splits every model is evaluated on: validation chooses λ, test is reported."""

_SUMMARY_KEYS = ["split", "penalty", "lambda"]


@dataclass(frozen=True)
class FitResult:
    """One fitted model of a sweep, evaluated on validation and test.

    Parameters
    ----------
    penalty : str
        ``"none"`` for the unregularised model, else a key of :data:`~covwb.fairness.torch_penalties.PENALTIES`.
    lam : float
        λ.
    seed : int
        Seed of the fit.
    best_epoch, epochs : int
        Epoch whose weights were kept (chosen on validation) and epochs run.
    seconds : float
        Training time.
    evaluations : dict of str to PredictionEvaluation
        Split → metrics and cell table.
    predictions : dict of str to ndarray
        Split → predictions of its rows.
    """

    penalty: str
    lam: float
    seed: int
    best_epoch: int
    epochs: int
    seconds: float
    evaluations: dict[str, PredictionEvaluation]
    predictions: dict[str, np.ndarray]


@dataclass(frozen=True)
class LambdaChoice:
    """The λ recommended for one penalty, or why none is.

    Parameters
    ----------
    penalty : str
        The penalty.
    lam : float
        The recommended λ; 0 when none qualifies.
    recommended : bool
        Whether a λ > 0 qualified.
    reason : str
        Sentences with the numbers behind the choice (validation) and the test numbers at that λ.
    independent : float or None
        Smallest λ at which the permutation test no longer rejects independence in most seeds (validation);
        None when it rejects at every λ or no test ran.
    independent_reason : str
        One or two sentences.
    warnings : tuple of str
        Doubts about the choice (the test split disagrees with validation).
    """

    penalty: str
    lam: float
    recommended: bool
    reason: str
    independent: float | None
    independent_reason: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepResult:
    """A λ sweep.

    Parameters
    ----------
    task : str
        The task.
    runs : pandas.DataFrame
        One row per (split, penalty, λ, seed): metrics, best epoch and seconds; the unregularised model
        appears once per seed under penalty ``"none"``.
    summary : pandas.DataFrame
        Per (split, penalty, λ): means over seeds (``<metric>``), standard deviations (``<metric>_sd``,
        NaN with one seed), ``n_seeds`` and, when tested, ``rejected`` (share of seeds whose permutation
        test rejects independence). λ = 0 is repeated under every penalty.
    choices : dict of str to LambdaChoice
        Per penalty.
    evaluations : dict of tuple to PredictionEvaluation
        ``(split, penalty, λ, seed)`` → evaluation (λ = 0 under penalty ``"none"``).
    predictions : dict of tuple to ndarray
        Predictions under the same keys.
    split_rows : dict of str to int
        Rows of the training, validation and test splits.
    settings : dict
        The settings of the sweep (for exports).
    warnings : tuple of str
        What may make the numbers unreliable.
    notes : tuple of str
        Which split each number comes from.
    """

    task: str
    runs: pd.DataFrame
    summary: pd.DataFrame
    choices: dict[str, LambdaChoice]
    evaluations: dict[tuple[str, str, float, int], PredictionEvaluation]
    predictions: dict[tuple[str, str, float, int], np.ndarray]
    split_rows: dict[str, int]
    settings: dict[str, Any]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def chord_improvement(loss: Sequence[float], jsd: Sequence[float]) -> np.ndarray:
    """How far each point of a loss–JSD curve lies on the better side of the chord from its first to last point.

    Both axes are rescaled to [0, 1] over the curve. The chord joins the first point (λ = 0) to the last
    (the largest λ); a point's improvement is its distance to the chord, positive when its loss is below
    the chord at its JSD (a cheaper trade-off than the chord's), negative above. Zero everywhere when the
    last point does not have a lower JSD than the first (no trade-off to improve on).

    Parameters
    ----------
    loss, jsd : sequence of float, length m
        Task loss (lower is better) and JSD at each λ of the grid, in grid order.

    Returns
    -------
    ndarray, shape (m,)
        Signed distances in rescaled units; the end points are 0.

    Examples
    --------
    >>> chord_improvement([1.0, 1.01, 1.2], [0.3, 0.1, 0.05]).round(3)  # below the chord
    array([0.  , 0.53, 0.  ])
    >>> chord_improvement([1.0, 1.15, 1.2], [0.3, 0.28, 0.05]).round(3)  # above it
    array([ 0.   , -0.474,  0.   ])
    """
    loss_arr, jsd_arr = np.asarray(loss, dtype=float), np.asarray(jsd, dtype=float)
    if loss_arr.shape != jsd_arr.shape or loss_arr.ndim != 1:
        raise ParameterError("Give one loss and one JSD per value of λ.")

    def scaled(v: np.ndarray) -> np.ndarray:
        span = v.max() - v.min()
        return (v - v.min()) / span if span > 0 else np.zeros_like(v)

    x, y = scaled(jsd_arr), scaled(loss_arr)
    if x.size < 2 or not x[-1] < x[0]:
        return np.zeros_like(x)
    dx, dy = x[-1] - x[0], y[-1] - y[0]
    on_chord = y[0] + dy * (x - x[0]) / dx
    improvement = (on_chord - y) * abs(dx) / np.hypot(dx, dy)
    improvement[[0, -1]] = 0.0
    return improvement


def _percent(new: float, old: float, digits: int = 0) -> str:
    return f"{100 * (new / old - 1):+.{digits}f}%" if old else "n/a"


def choose_lambda(
    validation: pd.DataFrame,
    test: pd.DataFrame | None,
    *,
    penalty: str,
    metric: str,
    label: str,
    alpha: float = 0.05,
) -> LambdaChoice:
    """Recommend λ for one penalty from the validation summary, or say why none qualifies.

    Parameters
    ----------
    validation : pandas.DataFrame
        Summary rows of one penalty on the validation split: ``lambda``, ``<metric>``, ``jsd``,
        ``jsd_sd`` (NaN with one seed), ``n_seeds`` and, when tested, ``rejected``.
    test : pandas.DataFrame or None
        The same rows on the test split, quoted in the reason.
    penalty : str
        The penalty's key.
    metric, label : str
        Task-loss column and its name in sentences.
    alpha : float, default 0.05
        Level of the permutation test.

    Returns
    -------
    LambdaChoice
    """
    part = validation.sort_values("lambda").reset_index(drop=True)
    lambdas = part["lambda"].to_numpy()
    loss, jsd, sd = (part[c].to_numpy(dtype=float) for c in (metric, "jsd", "jsd_sd"))
    seeds = int(part["n_seeds"].min())
    improvement = chord_improvement(loss, jsd) if lambdas.size >= 3 else np.zeros(lambdas.size)
    reduction = jsd[0] - jsd
    spread = sd[0] + sd
    qualifies = (improvement > 1e-12) & (reduction > spread)
    improving = np.flatnonzero(improvement > 1e-12)
    where = f"on the validation split (means over {seeds} seed{'s' if seeds != 1 else ''})"
    kept = "λ = 0 is kept."
    warnings: list[str] = []
    if lambdas.size < 3:
        reason = f"The grid has fewer than three values of λ, so no point can improve on the chord. {kept}"
    elif seeds < 2:
        best = (
            f" On this seed λ = {lambdas[improving[np.argmax(improvement[improving])]]:g} improves most on it."
            if improving.size
            else ""
        )
        reason = (
            "With a single seed the spread between seeds is unknown, so no λ can be shown to lower JSD by more "
            f"than chance; run at least 2 seeds (3 or more give a usable spread).{best} {kept}"
        )
    elif not reduction[-1] > spread[-1]:
        reason = (
            f"The largest λ ({lambdas[-1]:g}) does not lower JSD by more than the spread between seeds {where}: "
            f"{jsd[0]:.4g} ± {sd[0]:.2g} at λ = 0 against {jsd[-1]:.4g} ± {sd[-1]:.2g}. The penalty does not "
            f"reduce this dependence on this grid. {kept}"
        )
    elif not improving.size:
        reason = (
            f"No λ improves on the chord from λ = 0 to λ = {lambdas[-1]:g} of the {label}–JSD curve {where}: every "
            f"point lies on or above it, so each step costs at least as much {label} per unit of JSD as going to "
            f"λ = {lambdas[-1]:g} at once. {kept} A finer grid may find a better trade-off."
        )
    elif not qualifies.any():
        listed = ", ".join(
            f"λ = {lambdas[i]:g} lowers JSD by {reduction[i]:.3g} against a spread of {spread[i]:.3g}"
            for i in improving
        )
        reason = (
            f"Some λ improve on the chord of the {label}–JSD curve {where}, but none lowers JSD by more than the "
            f"spread between seeds (sd at λ = 0 plus sd at λ): {listed}. No λ is recommended; {kept} More seeds "
            "narrow the spread."
        )
    else:
        at = int(np.flatnonzero(qualifies)[np.argmax(improvement[qualifies])])
        lam = float(lambdas[at])
        reason = (
            f"λ = {lam:g} is recommended: {where} its point lies below the chord from λ = 0 to "
            f"λ = {lambdas[-1]:g} of the {label}–JSD curve (both rescaled to [0, 1]) and farthest from it among "
            f"the points whose JSD reduction exceeds the spread between seeds: JSD {jsd[0]:.4g} ± {sd[0]:.2g} → "
            f"{jsd[at]:.4g} ± {sd[at]:.2g} ({_percent(jsd[at], jsd[0])}), {label} "
            f"{_percent(loss[at], loss[0], 1)}."
        )
        if test is not None and len(test):
            rows = test.set_index("lambda")
            base, chosen = rows.loc[lambdas[0]], rows.loc[lam]
            reason += (
                f" On the test split: JSD {base['jsd']:.4g} → {chosen['jsd']:.4g} "
                f"({_percent(chosen['jsd'], base['jsd'])}), {label} {_percent(chosen[metric], base[metric], 1)}."
            )
            if not chosen["jsd"] < base["jsd"]:
                warnings.append(
                    f"{PENALTIES.get(penalty, penalty)}: on the test split the recommended λ = {lam:g} does not lower "
                    f"JSD ({base['jsd']:.4g} → {chosen['jsd']:.4g}); the gain seen on validation did not carry over."
                )
        return LambdaChoice(penalty, lam, True, reason, *_independence(part, alpha), tuple(warnings))
    return LambdaChoice(penalty, 0.0, False, reason, *_independence(part, alpha), tuple(warnings))


def _independence(part: pd.DataFrame, alpha: float) -> tuple[float | None, str]:
    """Smallest λ whose permutation test no longer rejects independence in most seeds, and a sentence."""
    if "rejected" not in part:
        return None, "No permutation test was run."
    kept = part[part["rejected"] < 0.5]
    if not len(kept):
        return None, (
            f"The permutation test rejects independence of the predictions and the protected attributes "
            f"(α = {alpha:g}, validation split) at every λ of the grid in most seeds."
        )
    lam = float(kept["lambda"].iloc[0])
    if lam == 0:
        return 0.0, (
            f"Independence is not rejected (α = {alpha:g}, validation split) in most seeds already for the "
            "unregularised model. This is no evidence of independence: on this validation split the test may "
            "lack the power to detect the dependence."
        )
    return lam, (
        f"λ = {lam:g} is the smallest λ at which independence of the predictions and the protected attributes "
        f"is no longer rejected (α = {alpha:g}, validation split) in most seeds; not rejecting is no proof of "
        "independence."
    )


def fit_and_evaluate(data: FairnessData, settings: TrainSettings, *, n_permutations: int = 0) -> FitResult:
    """Train one model (training rows, early stopping on validation) and evaluate it on validation and test.

    A task of :func:`plan_sweep`: module-level, with picklable arguments.

    Parameters
    ----------
    data : FairnessData
        The prepared problem.
    settings : TrainSettings
        Penalty, λ, seed and the rest.
    n_permutations : int, default 0
        Permutations of each independence test (0: none).

    Returns
    -------
    FitResult
    """
    model = train_model(data, settings)
    evaluations, predictions = {}, {}
    for split in SPLITS:
        rows = getattr(data, split)
        predicted = predict_rows(model, data, rows)
        evaluations[split] = evaluate_predictions(
            data.task,
            data.y[rows],
            predicted,
            data.protected.subset(rows),
            c=settings.c,
            n_permutations=n_permutations,
            seed=settings.seed,
        )
        predictions[split] = predicted
    penalty = settings.penalty if settings.lam > 0 else "none"
    return FitResult(
        penalty=penalty,
        lam=float(settings.lam) if penalty != "none" else 0.0,
        seed=settings.seed,
        best_epoch=model.best_epoch,
        epochs=len(model.history),
        seconds=model.seconds,
        evaluations=evaluations,
        predictions=predictions,
    )


def predict_rows(model: TrainedModel, data: FairnessData, rows: np.ndarray) -> np.ndarray:
    """Predictions of a model on some rows of the problem, shape (len(rows),)."""
    return model.predict(data.X[rows], data.exposure[rows])


def predict_validation(model: TrainedModel, data: FairnessData) -> np.ndarray:
    """Predictions of a model on the validation rows, shape (n_validation,)."""
    return predict_rows(model, data, data.validation)


def _label(penalty: str, lam: float, seed: int) -> str:
    name = "unregularised" if penalty == "none" else f"{PENALTIES[penalty]}, λ = {lam:g}"
    return f"{name}, seed {seed}"


def plan_sweep(
    data: FairnessData,
    base: TrainSettings,
    *,
    penalties: Sequence[str],
    lambdas: Sequence[float],
    seeds: Sequence[int],
    n_permutations: int = DEFAULT_PERMUTATIONS,
    alpha: float = 0.05,
) -> Plan:
    """The λ sweep as a job plan: one task per (penalty, λ > 0, seed) fit plus one unregularised fit per seed.

    Parameters
    ----------
    data : FairnessData
        The prepared problem; it travels once, in :attr:`Plan.data`.
    base : TrainSettings
        Architecture and optimisation; its penalty, λ and seed are replaced per task.
    penalties : sequence of str
        Among :data:`~covwb.fairness.torch_penalties.PENALTIES`.
    lambdas : sequence of float
        The grid (0 is added when absent).
    seeds : sequence of int
        Seeds of the repeats.
    n_permutations : int, default 199
        Permutations of each independence test (0: no test, no independence rule).
    alpha : float, default 0.05
        Level of the test.

    Returns
    -------
    covwb.jobs.Plan
        Tasks call :func:`fit_and_evaluate`; ``combine`` returns the :class:`SweepResult`. The
        unregularised fits come first (cheap, and the reference of every curve).

    Raises
    ------
    ParameterError
        For no penalty, an unknown penalty, a negative λ, no seed or repeated seeds, or permutations that
        could never reject independence at α (:func:`~covwb.fairness.metrics.check_permutations`).

    Examples
    --------
    >>> from covwb.fairness.data import prepare_data
    >>> from covwb.jobs import run_plan
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"g": rng.choice(["a", "b"], 120), "x": rng.standard_normal(120)})
    >>> frame["y"] = frame["x"] + (frame["g"] == "b") + rng.standard_normal(120)
    >>> data = prepare_data(frame, target="y", task="continuous", features=["x"], protected=["g"])
    >>> plan = plan_sweep(data, TrainSettings(epochs=5), penalties=["dcov"], lambdas=[1, 5], seeds=[0, 1])
    >>> [task.label for task in plan.tasks[:3]]
    ['unregularised, seed 0', 'unregularised, seed 1', 'dCov (sum over attributes), λ = 1, seed 0']
    >>> result = run_plan(plan)
    >>> sorted(result.summary["split"].unique()), result.choices["dcov"].recommended in (True, False)
    (['test', 'validation'], True)
    """
    if not penalties or any(p not in PENALTIES for p in penalties):
        raise ParameterError(f"Choose at least one penalty among {', '.join(PENALTIES)}.")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ParameterError("Choose at least one seed, each once.")
    if any(lam < 0 for lam in lambdas):
        raise ParameterError("Every λ of the grid must be ≥ 0.")
    check_permutations(n_permutations, alpha)
    grid = sorted({0.0, *(float(lam) for lam in lambdas)})
    fits = [("none", 0.0, int(seed)) for seed in seeds]
    fits += [(p, lam, int(seed)) for p in penalties for lam in grid if lam > 0 for seed in seeds]
    tasks = tuple(
        Task(
            key=f"{penalty}|{lam!r}|{seed}",
            fn=fit_and_evaluate,
            args=(Ref("data"), replace(base, penalty=penalty, lam=lam, seed=seed)),
            kwargs={"n_permutations": n_permutations},
            label=_label(penalty, lam, seed),
            weight=1.0 if penalty == "none" else 1.5,
        )
        for penalty, lam, seed in fits
    )
    settings = {
        **base.as_dict(),
        "penalties": list(penalties),
        "lambdas": grid,
        "seeds": [int(s) for s in seeds],
        "n_permutations": n_permutations,
        "alpha": alpha,
    }
    combine = partial(
        combine_sweep,
        task=data.task,
        penalties=tuple(penalties),
        settings=settings,
        split_rows={"train": data.train.size, "validation": data.validation.size, "test": data.test.size},
        test_warnings=tuple("Test split: " + w for w in small_cell_warnings(data.protected.subset(data.test))),
    )
    return Plan(tasks=tasks, combine=combine, data={"data": data}, name="λ sweep")


def combine_sweep(
    results: dict[str, FitResult],
    *,
    task: str,
    penalties: Sequence[str],
    settings: dict[str, Any],
    split_rows: dict[str, int],
    test_warnings: Sequence[str] = (),
) -> SweepResult:
    """Turn the fits of a sweep into its tables, choices and warnings (``combine`` of :func:`plan_sweep`)."""
    alpha, n_permutations = settings["alpha"], settings["n_permutations"]
    rows, evaluations, predictions = [], {}, {}
    for fit in sorted(results.values(), key=lambda f: (f.penalty != "none", f.penalty, f.lam, f.seed)):
        for split in SPLITS:
            key = (split, fit.penalty, fit.lam, fit.seed)
            evaluations[key], predictions[key] = fit.evaluations[split], fit.predictions[split]
            rows.append(
                {
                    "split": split,
                    "penalty": fit.penalty,
                    "lambda": fit.lam,
                    "seed": fit.seed,
                    **fit.evaluations[split].metrics,
                    "best_epoch": fit.best_epoch,
                    "seconds": fit.seconds,
                }
            )
    runs = pd.DataFrame(rows)
    plain = runs[runs["penalty"] == "none"]
    curves = pd.concat(
        [runs[runs["penalty"] != "none"]] + [plain.assign(penalty=p) for p in penalties], ignore_index=True
    )
    if n_permutations:
        curves["rejected"] = (curves["perm_p"] <= alpha).astype(float)
    numeric = [c for c in curves.columns if c not in (*_SUMMARY_KEYS, "seed")]
    grouped = curves.groupby(_SUMMARY_KEYS, sort=True)
    summary = (
        grouped[numeric]
        .mean()
        .join(grouped[numeric].std(ddof=1).add_suffix("_sd"))
        .join(grouped["seed"].nunique().rename("n_seeds"))
        .reset_index()
    )
    metric, label = TASK_METRIC[task]
    choices = {}
    for penalty in penalties:
        part = summary[summary["penalty"] == penalty]
        choices[penalty] = choose_lambda(
            part[part["split"] == "validation"],
            part[part["split"] == "test"],
            penalty=penalty,
            metric=metric,
            label=label,
            alpha=alpha,
        )
    warnings = list(test_warnings)
    n_seeds = len(settings["seeds"])
    if n_seeds < 2:
        warnings.append(
            "A single seed: the spread between seeds is unknown (sd columns are empty), so no λ is recommended. "
            "Run at least 2 seeds, better 3 or more."
        )
    for choice in choices.values():
        warnings.extend(choice.warnings)
    notes = [
        f"Models were fitted on {split_rows['train']} training rows and stopped early on {split_rows['validation']} "
        f"validation rows; λ is chosen on the validation split; the trade-off table, figures and exports report "
        f"the {split_rows['test']} test rows, used for nothing else. Means ± sd over {n_seeds} seed"
        f"{'s' if n_seeds != 1 else ''}.",
    ]
    if n_permutations:
        notes.append(
            f"Permutation tests use {n_permutations} permutations (smallest attainable p-value "
            f"{smallest_p_value(n_permutations):.3g}); independence is rejected when p ≤ α = {alpha:g}."
        )
    return SweepResult(
        task=task,
        runs=runs,
        summary=summary,
        choices=choices,
        evaluations=evaluations,
        predictions=predictions,
        split_rows=dict(split_rows),
        settings=settings,
        warnings=tuple(warnings),
        notes=tuple(notes),
    )


def sweep(
    data: FairnessData,
    base: TrainSettings,
    *,
    penalties: Sequence[str],
    lambdas: Sequence[float],
    seeds: Sequence[int],
    n_permutations: int = DEFAULT_PERMUTATIONS,
    alpha: float = 0.05,
    progress: Progress | None = None,
    n_jobs: int = 1,
) -> SweepResult:
    """Run :func:`plan_sweep` locally: ``run_plan(plan_sweep(...), n_jobs=n_jobs, progress=progress)``.

    Parameters
    ----------
    data, base, penalties, lambdas, seeds, n_permutations, alpha
        See :func:`plan_sweep`.
    progress : callable, optional
        ``progress(fraction, step)`` as the sweep starts and after each model.
    n_jobs : int, default 1
        joblib processes (1: this process).

    Returns
    -------
    SweepResult
    """
    plan = plan_sweep(
        data, base, penalties=penalties, lambdas=lambdas, seeds=seeds, n_permutations=n_permutations, alpha=alpha
    )
    return run_plan(plan, n_jobs=n_jobs, progress=progress)


def tradeoff_table(result: SweepResult, split: str = "test") -> pd.DataFrame:
    """The trade-off table of one split: per penalty and λ, means and sds over seeds, and the recommendation.

    Parameters
    ----------
    result : SweepResult
        The sweep.
    split : {"test", "validation"}, default "test"
        Test for the reported numbers; validation shows what λ was chosen on.

    Returns
    -------
    pandas.DataFrame
        Columns ``split, penalty, lambda, recommended, <metric>, <metric>_sd, jsd, jsd_sd, uf, uf_sd, dp_gap,
        dp_gap_sd, dcor, dcor_sd, ccdcov, jdcov, n_seeds`` and, when tested, ``perm_p, rejected``.
    """
    if split not in SPLITS:
        raise ParameterError(f"Unknown split '{split}'; choose one of {', '.join(SPLITS)}.")
    metric, _ = TASK_METRIC[result.task]
    part = result.summary[result.summary["split"] == split].copy()
    recommended = {p: c.lam for p, c in result.choices.items() if c.recommended}
    part["recommended"] = [recommended.get(p) == lam for p, lam in zip(part["penalty"], part["lambda"])]
    columns = ["split", "penalty", "lambda", "recommended", metric, f"{metric}_sd"]
    columns += ["jsd", "jsd_sd", "uf", "uf_sd", "dp_gap", "dp_gap_sd", "dcor", "dcor_sd", "ccdcov", "jdcov"]
    columns += ["n_seeds"] + (["perm_p", "rejected"] if "rejected" in part else [])
    return part[columns].reset_index(drop=True)


def compare_models(
    result: SweepResult,
    models: Mapping[str, tuple[str, float]],
    *,
    extra: Mapping[str, PredictionEvaluation] | None = None,
    split: str = "test",
) -> pd.DataFrame:
    """Models side by side on one split: means over seeds, the seed spread, and the independence test in words.

    Parameters
    ----------
    result : SweepResult
        The sweep.
    models : mapping of str to (str, float)
        Display name → (penalty, λ) of the sweep; ``("none", 0.0)`` is the unregularised model.
    extra : mapping of str to PredictionEvaluation, optional
        Single fits evaluated on the same split (the fairlearn baseline), appended as they are.
    split : {"test", "validation"}, default "test"
        The split.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, split, n_seeds``, the metrics (means), ``<task metric>_sd``, ``jsd_sd`` and, when
        tested, ``independence test`` ("independence rejected in 3 of 3 seeds (p ≤ α = 0.05)").
    """
    if split not in SPLITS:
        raise ParameterError(f"Unknown split '{split}'; choose one of {', '.join(SPLITS)}.")
    metric, _ = TASK_METRIC[result.task]
    alpha = result.settings["alpha"]
    runs = result.runs[result.runs["split"] == split]
    skip = {"split", "penalty", "lambda", "seed", "best_epoch", "seconds"}
    rows = []
    for name, (penalty, lam) in models.items():
        part = runs[(runs["penalty"] == penalty) & (runs["lambda"] == lam)]
        if not len(part):
            raise ParameterError(f"The sweep has no model {penalty} at λ = {lam:g}.")
        row: dict[str, Any] = {"model": name, "split": split, "n_seeds": len(part)}
        row.update({c: float(part[c].mean()) for c in part.columns if c not in skip})
        row.update({f"{c}_sd": float(part[c].std(ddof=1)) for c in (metric, "jsd")})
        if "perm_p" in part:
            rejected = int((part["perm_p"] <= alpha).sum())
            row["independence test"] = (
                f"independence rejected in {rejected} of {len(part)} seeds (p ≤ α = {alpha:g})"
                if rejected
                else f"independence not rejected in any of {len(part)} seeds (α = {alpha:g})"
            )
        rows.append(row)
    for name, evaluation in (extra or {}).items():
        row = {"model": name, "split": split, "n_seeds": 1, **evaluation.metrics}
        if "perm_p" in evaluation.metrics:
            row["independence test"] = independence_wording(evaluation.metrics["perm_p"], alpha)
        rows.append(row)
    return pd.DataFrame(rows)
