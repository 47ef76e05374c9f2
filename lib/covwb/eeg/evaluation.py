"""Cross-validated evaluation of the pipelines, with a fast nested order x lag grid search, as a plan of tasks.

Protocol (as in the ACM paper's MOABB scripts):

* folds: within-session stratified k-fold (each session split separately, folds pooled per index),
  or cross-session leave-one-session-out; shuffles use ``seed``;
* metric: ROC-AUC for two classes; accuracy and balanced accuracy for more (selection by accuracy);
* nested search: inside each outer training fold, ``StratifiedKFold(inner_folds, shuffle=True,
  random_state=seed)`` scores every candidate; the best mean inner score wins (first in
  scikit-learn's ``ParameterGrid`` order among ties: lag, then order, then C, then kernel) and is refitted
  on the whole outer training fold, as ``GridSearchCV(refit=True)`` does.

The evaluation is a :class:`covwb.jobs.Plan` (:func:`plan_evaluation`), run here by
:func:`covwb.jobs.run_plan` and unchanged by the Dask job layer:

* stage 1, the inner searches: one task per (outer fold, order, lag) that any searched pipeline needs
  (:func:`covwb.eeg._search.inner_scores`; order 1 once, whatever the lag), scoring every head setting of
  every pipeline on that ACM on every inner fold, or one task per outer fold for the Takens selection.
  That grain keeps the inner loop inside a task (warm-started means, one tangent space per inner fold
  shared by the SVM settings) while a task lasts seconds, not minutes, even at order 4 of 64 channels; the
  outer-fold x order grain would make tasks 5x longer and less even. The cheapest tasks (order 1) run
  first, so that progress and a time estimate appear within seconds, then the rest largest first;
* stage 2, from the winners: the refit of each chosen setting on its outer training fold (shared by the
  pipelines that chose the same setting) and the fixed pipelines; its ``combine`` returns the
  :class:`Evaluation`.

The fast path gives the same scores as ``GridSearchCV`` over the full pipeline (and as pyRiemann's ``MDM``),
to the tolerance of the Riemannian mean (1e-6, :data:`covwb.eeg._search.MEAN_TOL`, reasons there), while
computing each ACM once per task from shared lagged products, each inner tangent space and its SVM kernel
matrices once for all SVM settings, and each Riemannian mean with the Newton
:func:`covwb.covariance.karcher.karcher_mean`. The epochs travel once, in ``Plan.data``.

Default covariance estimator: OAS (:data:`covwb.eeg.augmented.DEFAULT_ESTIMATOR`, reasons there); the
sample estimator stays available (MOABB's), and only it refuses orders with more rows than samples. The
result says which estimator ran and why (:attr:`Evaluation.estimator_note`) and carries warnings
(:attr:`Evaluation.warnings`) when matrices are ill-conditioned (condition number above 1e10), a
Riemannian mean stopped without converging, or a library warned while fitting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from covwb.covariance.estimators import ESTIMATORS
from covwb.covariance.karcher import karcher_mean, tangent_vectors
from covwb.eeg import _search
from covwb.eeg.augmented import DEFAULT_ESTIMATOR
from covwb.eeg.pipelines import PIPELINES, check_pipeline
from covwb.errors import ParameterError
from covwb.jobs.plan import Plan, Progress, Ref, Task, run_plan

SCHEMES: dict[str, str] = {
    "within": "Within-session stratified k-fold",
    "cross": "Cross-session (leave one session out)",
}

ILL_CONDITIONED = 1e10
"""Condition number above which the result warns that the matrices lose digits in their logarithms."""

KERNELS = ("linear", "rbf")
"""SVM kernels of the search (the fast path precomputes their kernel matrices once per inner fold)."""
Folds = list[tuple[np.ndarray, np.ndarray]]
Candidate = tuple[int, int]
"""(order, lag) of the ACM."""


@dataclass(frozen=True)
class SearchGrid:
    """Candidates of the nested search.

    Parameters
    ----------
    orders : tuple of int
        ACM orders m (>= 1).
    lags : tuple of int
        ACM lags tau in samples (>= 1).
    svm_C : tuple of float
        SVM regularisation values.
    kernels : tuple of str
        SVM kernels (``"linear"``, ``"rbf"``).
    """

    orders: tuple[int, ...] = tuple(range(1, 11))
    lags: tuple[int, ...] = tuple(range(1, 11))
    svm_C: tuple[float, ...] = (0.5, 1.0, 1.5)
    kernels: tuple[str, ...] = ("linear", "rbf")


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Scores and by-products of one evaluation.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per (pipeline, outer fold): ``pipeline``, ``fold``, ``test_session``, the metric
        columns, the chosen ``order``, ``lag``, ``C``, ``kernel`` (NaN where not applicable) and ``seconds``
        (compute time of that fold's search and refit; a task shared by two pipelines counts for both).
    summary : pandas.DataFrame
        One row per pipeline: mean and standard deviation over folds of each metric.
    metrics : tuple of str
        Metric columns (``("roc_auc",)`` or ``("accuracy", "balanced_accuracy")``).
    classes : tuple of str
        Class labels in sorted order (the positive class of ROC-AUC last).
    grid_scores : dict of str to ndarray, shape (n_orders, n_lags)
        Per grid-searched ACM pipeline: mean inner-CV score of each (order, lag), best over the
        SVM settings, averaged over outer folds.
    predictions : dict of str to pandas.DataFrame
        Per pipeline, out-of-fold ``trial``, ``fold``, ``y_true``, ``y_pred`` and, for two classes, ``score``
        (decision value of the positive class).
    takens : dict of str to list
        Per Takens-selected pipeline, the :class:`~covwb.eeg.takens.TakensSelection` of each outer fold.
    settings : dict
        Everything that produced the result, including ``estimator`` and ``estimator_note``.
    warnings : tuple of str
        Plain sentences saying what may make the scores wrong and what to do; empty when nothing did.
    estimator_note : str
        Which covariance estimator ran and why.
    """

    scores: pd.DataFrame
    summary: pd.DataFrame
    metrics: tuple[str, ...]
    classes: tuple[str, ...]
    grid_scores: dict[str, np.ndarray] = field(default_factory=dict)
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict)
    takens: dict[str, list[Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    estimator_note: str = ""


def _check_labels(y: np.ndarray, min_per_class: int) -> np.ndarray:
    """Labels as str; ParameterError for a single class or too few trials in one."""
    labels = np.asarray(y).astype(str)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise ParameterError(
            f"only one class ('{classes[0] if len(classes) else ''}') is present; choose at least two classes."
        )
    rare = counts < min_per_class
    if rare.any():
        raise ParameterError(
            f"class '{classes[rare][0]}' has {counts[rare][0]} trial(s) but this evaluation needs at least "
            f"{min_per_class} per class; lower the number of folds or choose classes with more trials."
        )
    return labels


def make_folds(y: np.ndarray, sessions: np.ndarray, scheme: str, n_folds: int = 5, seed: int = 42) -> Folds:
    """Outer folds of an evaluation.

    Parameters
    ----------
    y : ndarray of str, shape (n_trials,)
        Labels.
    sessions : ndarray of str, shape (n_trials,)
        Session of each trial.
    scheme : {"within", "cross"}
        Within-session stratified k-fold (each session split with ``StratifiedKFold(n_folds,
        shuffle=True, random_state=seed)``; fold i pools fold i of every session) or
        leave-one-session-out.
    n_folds : int
        Number of folds of the within-session scheme (>= 2).
    seed : int
        Seed of the shuffles.

    Returns
    -------
    list of (train, test) index arrays

    Examples
    --------
    >>> folds = make_folds(np.array(["a", "b"] * 10), np.full(20, "1"), "within", n_folds=5)
    >>> len(folds), len(folds[0][1])
    (5, 4)
    """
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    sessions = np.asarray(sessions).astype(str)
    if scheme == "cross":
        if len(np.unique(sessions)) < 2:
            raise ParameterError(
                "cross-session evaluation needs at least two sessions but all trials are in one; "
                "label the recordings with different sessions or use within-session folds."
            )
        for session in np.unique(sessions):
            _check_labels(y[sessions != session], 2)
        return [(tr, te) for tr, te in LeaveOneGroupOut().split(y, y, sessions)]
    if scheme != "within":
        raise ParameterError(f"unknown evaluation scheme {scheme!r}; choose 'within' or 'cross'.")
    if int(n_folds) != n_folds or n_folds < 2:
        raise ParameterError(f"the number of folds is {n_folds}; use a whole number of at least 2.")
    tests: list[list[np.ndarray]] = [[] for _ in range(int(n_folds))]
    for session in np.unique(sessions):
        index = np.flatnonzero(sessions == session)
        labels = _check_labels(y[index], int(n_folds))
        splitter = StratifiedKFold(int(n_folds), shuffle=True, random_state=seed)
        for i, (_, te) in enumerate(splitter.split(index, labels)):
            tests[i].append(index[te])
    n = len(y)
    folds = []
    for parts in tests:
        test = np.sort(np.concatenate(parts))
        folds.append((np.setdiff1d(np.arange(n), test), test))
    return folds


def _metrics(n_classes: int) -> tuple[str, ...]:
    return ("roc_auc",) if n_classes == 2 else ("accuracy", "balanced_accuracy")


def _inner_folds(y_train: np.ndarray, inner_folds: int, seed: int) -> Folds:
    """The splits GridSearchCV(cv=StratifiedKFold(inner_folds, shuffle=True, random_state=seed)) makes."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y_train)), y_train))


def _riemann_mean(covs: np.ndarray, init: np.ndarray | None) -> np.ndarray:
    """Affine-invariant mean (:func:`~covwb.covariance.karcher.karcher_mean`, tolerance 1e-8), started at ``init``."""
    return karcher_mean(covs, init=init).mean


# --- the plan ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pipeline:
    """One pipeline of a plan: how it chooses (order, lag) and which head follows.

    ``candidates`` are the grid points in ParameterGrid order (lag-major; order 1 at every lag, which
    all share the order-1 task); ``takens`` pipelines choose theirs on each outer fold instead.
    """

    key: str
    label: str
    head: str
    augmented: bool
    candidates: tuple[Candidate, ...] = ()
    takens: bool = False


@dataclass(frozen=True, eq=False)
class _Spec:
    """Everything the stages of one plan need besides the epochs (which travel in ``Plan.data``)."""

    pipelines: tuple[_Pipeline, ...]
    outer: Folds
    inner: tuple[Folds, ...]
    svm: tuple[_search.SVMSetting, ...]
    estimator: str
    metrics: tuple[str, ...]
    seed: int
    max_order: int
    max_lag: int
    grid: SearchGrid
    finish: Callable[..., Any]
    context: dict[str, Any] = field(default_factory=dict)
    score_all: bool = False


def _canonical(candidate: Candidate) -> Candidate:
    """Order 1 does not depend on the lag: one task serves every lag."""
    return (1, 1) if candidate[0] == 1 else candidate


def _settings_of(pipeline: _Pipeline, spec: _Spec) -> int:
    return len(spec.svm) if pipeline.head == "svm" else 1


def _searches_inside(pipeline: _Pipeline, spec: _Spec) -> bool:
    """Whether the pipeline needs inner scores: a grid heatmap, or more than one setting to choose from."""
    if spec.score_all:
        return True
    if pipeline.takens:
        return pipeline.head == "svm" and len(spec.svm) > 1
    distinct = {_canonical(c) for c in pipeline.candidates}
    return pipeline.augmented or len(distinct) * _settings_of(pipeline, spec) > 1


def _search_key(fold: int, candidate: Candidate) -> str:
    return f"search/fold{fold + 1}/order{candidate[0]}/lag{candidate[1]}"


def _search_label(fold: int, candidate: Candidate) -> str:
    order, lag = candidate
    return f"outer fold {fold + 1}, order {order}" + (f", lag {lag}" if order > 1 else "")


def _weight(n_matrices: int, rows: int, svm: bool, mdm: bool, n_settings: int) -> float:
    """Relative cost of a task (1 is about 0.1 s on one core): eigendecompositions of the Riemannian means (~p^3
    per matrix) plus a fixed part per task, per SVM setting and for the MDM head (measured on 64 channels)."""
    eigen = n_matrices * float(rows) ** 3 / 1e7 * (0.2 + 1.0 * svm + 0.8 * mdm)
    return eigen + 1.5 + 0.5 * n_settings + 1.5 * mdm


def _search_tasks(X: np.ndarray, spec: _Spec) -> tuple[Task, ...]:
    """Inner searches: one task per (outer fold, order, lag) needed, or per outer fold for Takens; cheap first."""
    needs: dict[tuple[int, Candidate], set[str]] = defaultdict(set)
    takens_heads: set[str] = set()
    for pipeline in spec.pipelines:
        if pipeline.head == "fixed" or not _searches_inside(pipeline, spec):
            continue
        if pipeline.takens:
            takens_heads.add(pipeline.head)
            continue
        for fold in range(len(spec.outer)):
            for candidate in sorted({_canonical(c) for c in pipeline.candidates}):
                needs[(fold, candidate)].add(pipeline.head)
    n_channels = X.shape[1]
    tasks = []
    for (fold, (order, lag)), heads in needs.items():
        train = spec.outer[fold][0]
        svm = spec.svm if "svm" in heads else ()
        tasks.append(
            Task(
                key=_search_key(fold, (order, lag)),
                fn=_search.inner_scores,
                args=(Ref("X"), Ref("y"), train, spec.inner[fold], order, lag, spec.estimator, svm, "mdm" in heads),
                kwargs={"metrics": spec.metrics},
                label=_search_label(fold, (order, lag)),
                weight=_weight(len(train), order * n_channels, "svm" in heads, "mdm" in heads, len(svm)),
            )
        )
    if any(p.takens for p in spec.pipelines):
        svm = spec.svm if "svm" in takens_heads else ()
        mdm = "mdm" in takens_heads
        for fold, (train, _) in enumerate(spec.outer):
            tasks.append(
                Task(
                    key=f"takens/fold{fold + 1}",
                    fn=_search.takens_scores,
                    args=(Ref("X"), Ref("y"), train, spec.inner[fold], spec.estimator, svm, mdm, spec.metrics),
                    kwargs={"max_order": spec.max_order, "max_lag": spec.max_lag, "seed": spec.seed},
                    label=f"outer fold {fold + 1}, Takens selection",
                    weight=5.0 + _weight(len(train), 4 * n_channels, bool(svm), mdm, len(svm)),
                )
            )
    return _cheap_first(tasks, len(spec.outer))


def _first_stage(X: np.ndarray, y: np.ndarray, spec: _Spec) -> Plan:
    """Stage 1 of an evaluation; its ``combine`` builds stage 2."""
    ordered = _search_tasks(X, spec)
    total = sum(t.weight for t in ordered)
    split = total / (total + _second_stage_weight(X, spec))
    return Plan(
        tasks=ordered,
        combine=partial(_after_search, spec=spec, data={"X": X, "y": y}, start=split),
        data={"X": X, "y": y},
        name="order × lag search",
        progress_span=(0.0, split),
    )


def _cheap_first(tasks: list[Task], n_cheap: int) -> tuple[Task, ...]:
    """A few of the cheapest tasks first (progress and a time estimate within seconds), then largest first."""
    by_weight = sorted(tasks, key=lambda t: t.weight)
    k = min(n_cheap, len(tasks) // 4)
    return (*by_weight[:k], *sorted(by_weight[k:], key=lambda t: -t.weight))


def _second_stage_weight(X: np.ndarray, spec: _Spec) -> float:
    """Estimated weight of the refits and fixed pipelines (for the progress split between the stages)."""
    n_train = len(spec.outer[0][0])
    total = 0.0
    for pipeline in spec.pipelines:
        order = max((c[0] for c in pipeline.candidates), default=1)
        rows = max(1, order // 2) * X.shape[1]
        total += len(spec.outer) * _weight(n_train, rows, pipeline.head == "svm", pipeline.head != "svm", 1)
    return total


def _mean_inner(result: dict[str, Any], head: str) -> np.ndarray:
    """Mean inner score of each setting of ``head`` in one stage-1 result, shape (n_settings,)."""
    scores = result["svm"] if head == "svm" else result["mdm"][:, None]
    return scores.mean(axis=0)


@dataclass(frozen=True)
class _Choice:
    """A pipeline's choice on one outer fold."""

    order: int
    lag: int
    setting: int
    tasks: tuple[str, ...]


def _choose(pipeline: _Pipeline, fold: int, results: dict[str, Any], spec: _Spec) -> _Choice:
    """The winning (order, lag, head setting) of ``pipeline`` on outer fold ``fold``, as GridSearchCV picks it."""
    if pipeline.takens:
        key = f"takens/fold{fold + 1}"
        found = results[key]
        setting = int(np.argmax(_mean_inner(found, "svm"))) if _searches_inside(pipeline, spec) else 0
        return _Choice(found["order"], found["lag"], setting, (key,))
    if not _searches_inside(pipeline, spec):
        order, lag = pipeline.candidates[0]
        return _Choice(order, lag, 0, ())
    keys = [_search_key(fold, _canonical(c)) for c in pipeline.candidates]
    means = np.array([_mean_inner(results[k], pipeline.head) for k in keys])
    best = int(np.argmax(means.ravel()))
    order, lag = pipeline.candidates[best // means.shape[1]]
    return _Choice(order, lag, best % means.shape[1], tuple(dict.fromkeys(keys)))


def _grid_scores(pipeline: _Pipeline, results: dict[str, Any], spec: _Spec) -> np.ndarray:
    """Mean inner score per (order, lag), best over the head settings, averaged over outer folds."""
    orders, lags = spec.grid.orders, spec.grid.lags
    out = np.zeros((len(orders), len(lags)))
    for fold in range(len(spec.outer)):
        for i, order in enumerate(orders):
            for j, lag in enumerate(lags):
                result = results[_search_key(fold, _canonical((order, lag)))]
                out[i, j] += _mean_inner(result, pipeline.head).max() / len(spec.outer)
    return out


def _refit_key(fold: int, choice: _Choice, head: str, spec: _Spec) -> str:
    setting = f"svm C={spec.svm[choice.setting][0]:g} {spec.svm[choice.setting][1]}" if head == "svm" else "mdm"
    return f"refit/fold{fold + 1}/order{choice.order}/lag{choice.lag}/{setting}"


def _refit_label(fold: int, choice: _Choice, head: str, spec: _Spec) -> str:
    C, kernel = spec.svm[choice.setting] if head == "svm" else (0.0, "")
    what = f"SVM (C = {C:g}, {kernel})" if head == "svm" else "MDM"
    return f"outer fold {fold + 1}, refit of order {choice.order}, lag {choice.lag}, {what}"


def _after_search(results: dict[str, Any], spec: _Spec, data: dict[str, np.ndarray], start: float) -> Plan:
    """Stage 2 from the winners: refits (shared by pipelines that chose alike) and fixed pipelines."""
    choices = {}
    tasks: dict[str, Task] = {}
    n_channels = data["X"].shape[1]
    for pipeline in spec.pipelines:
        for fold, (train, test) in enumerate(spec.outer):
            if pipeline.head == "fixed":
                key = f"fixed/{pipeline.key}/fold{fold + 1}"
                tasks[key] = Task(
                    key=key,
                    fn=_search.fixed_pipeline,
                    args=(Ref("X"), Ref("y"), train, test, pipeline.key, spec.estimator, spec.metrics, spec.seed),
                    label=f"{pipeline.label}, outer fold {fold + 1}",
                    weight=_weight(len(train), n_channels, False, True, 1),
                )
                continue
            choice = _choose(pipeline, fold, results, spec)
            choices[(pipeline.key, fold)] = choice
            key = _refit_key(fold, choice, pipeline.head, spec)
            head = spec.svm[choice.setting] if pipeline.head == "svm" else None
            tasks[key] = Task(
                key=key,
                fn=_search.refit,
                args=(Ref("X"), Ref("y"), train, test, choice.order, choice.lag, spec.estimator, head, spec.metrics),
                label=_refit_label(fold, choice, pipeline.head, spec),
                weight=_weight(len(train), choice.order * n_channels, head is not None, head is None, 1),
            )
    return Plan(
        tasks=tuple(sorted(tasks.values(), key=lambda t: -t.weight)),
        combine=partial(_collect, spec=spec, choices=choices, searched=results),
        data=data,
        name="refits and fixed pipelines",
        progress_span=(start, 1.0),
    )


@dataclass(frozen=True, eq=False)
class _Outcome:
    """Per pipeline and outer fold: the choice, the refit's outputs and the compute time; plus warnings."""

    per_fold: dict[str, list[dict[str, Any]]]
    grid_scores: dict[str, np.ndarray]
    takens: dict[str, list[Any]]
    warnings: tuple[str, ...]


def _collect(results: dict[str, Any], spec: _Spec, choices: dict, searched: dict[str, Any]) -> Any:
    """Gather both stages per pipeline and fold, then hand them to ``spec.finish``."""
    per_fold: dict[str, list[dict[str, Any]]] = {}
    for pipeline in spec.pipelines:
        rows = []
        for fold in range(len(spec.outer)):
            if pipeline.head == "fixed":
                out = results[f"fixed/{pipeline.key}/fold{fold + 1}"]
                rows.append({k: out[k] for k in (*spec.metrics, "y_pred", "score", "seconds")})
                continue
            choice = choices[(pipeline.key, fold)]
            out = results[_refit_key(fold, choice, pipeline.head, spec)]
            seconds = out["seconds"]
            for key in choice.tasks:
                spent = searched[key]["seconds"]
                seconds += spent["shared"] + spent[pipeline.head]
            row: dict[str, Any] = {"order": choice.order, "lag": choice.lag}
            if pipeline.head == "svm":
                row.update(C=spec.svm[choice.setting][0], kernel=spec.svm[choice.setting][1])
            rows.append({**row, **{k: out[k] for k in (*spec.metrics, "y_pred", "score")}, "seconds": seconds})
        per_fold[pipeline.key] = rows
    grid_scores = {
        p.key: _grid_scores(p, searched, spec) for p in spec.pipelines if p.augmented and not p.takens and p.candidates
    }
    takens = {
        p.key: [searched[f"takens/fold{f + 1}"]["selection"] for f in range(len(spec.outer))]
        for p in spec.pipelines
        if p.takens
    }
    outcome = _Outcome(per_fold, grid_scores, takens, _warnings(spec, searched, results))
    return spec.finish(outcome, spec)


# --- what may make the numbers wrong -----------------------------------------------------------------------


def _ranges(values: Sequence[int]) -> str:
    """'1–3, 5' for [1, 2, 3, 5]."""
    runs: list[list[int]] = []
    for value in sorted(set(values)):
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def _advice(estimator: str) -> str:
    if estimator == "sample":
        return "use the OAS estimator (the default), lower the largest order, or lengthen the epochs"
    return "lower the largest order, or check the recording for flat, duplicated or re-referenced channels"


def _warnings(spec: _Spec, searched: dict[str, Any], refits: dict[str, Any]) -> tuple[str, ...]:
    """Sentences about ill-conditioned matrices, unconverged means and library warnings, with what to do."""
    out = []
    conditions: dict[Candidate, float] = {}
    means = unconverged = 0
    worst = 0.0
    for result in [*searched.values(), *refits.values()]:
        candidate = _canonical((result["order"], result["lag"]))
        conditions[candidate] = max(conditions.get(candidate, 0.0), result["condition"])
        if "karcher" in result:
            means += result["karcher"]["means"]
            unconverged += result["karcher"]["unconverged"]
            worst = max(worst, result["karcher"]["worst_gradient"])
    bad = {c: v for c, v in conditions.items() if v > ILL_CONDITIONED}
    if bad:
        by_order: dict[int, list[int]] = defaultdict(list)
        for order, lag in sorted(bad):
            by_order[order].append(lag)
        where = "; ".join(
            f"order {order}" + ("" if order == 1 else f", lag{'s' if len(lags) > 1 else ''} {_ranges(lags)}")
            for order, lags in by_order.items()
        )
        out.append(
            f"The {ESTIMATORS[spec.estimator].lower()} matrices are ill-conditioned (condition number up to "
            f"{max(bad.values()):.1e}, above {ILL_CONDITIONED:.0e}) at {where}: their logarithms, Riemannian means "
            f"and tangent vectors lose digits, so the scores there may be unreliable; {_advice(spec.estimator)}."
        )
    if unconverged:
        out.append(
            f"{unconverged} of {means} Riemannian means stopped without converging (gradient norm up to "
            f"{worst:.1e}); the scores that use them may be off. {_advice(spec.estimator).capitalize()}."
        )
    labels = {p.key: p.label for p in spec.pipelines}
    library: dict[tuple[str, str], list[int]] = defaultdict(list)
    for key, result in refits.items():
        if key.startswith("fixed/"):
            _, pipeline, fold = key.split("/")
            for message in result.get("warnings", ()):
                library[(labels[pipeline], message)].append(int(fold[4:]))
    for (label, message), folds in library.items():
        out.append(
            f"{label}: a library warned while fitting on outer fold{'s' if len(folds) > 1 else ''} "
            f"{_ranges(folds)}: “{message.strip()}”. Its score there may be off; a shrinkage estimator "
            "(OAS) or fewer channels usually helps."
        )
    return tuple(out)


def _estimator_note(estimator: str, n_channels: int, n_times: int, grid: SearchGrid, augmented: bool) -> str:
    """Which covariance estimator ran and why, with the largest matrix it had to estimate."""
    order = max(grid.orders) if augmented else 1
    lag = max(grid.lags) if augmented and order > 1 else 0
    rows, samples = order * n_channels, n_times - order * lag
    size = f"the largest matrices have {rows} rows estimated from {samples} samples per epoch"
    if estimator == DEFAULT_ESTIMATOR:
        risk = (
            "where the sample covariance would be singular"
            if rows >= samples
            else "where the sample covariance is often ill-conditioned"
            if rows * 4 > samples
            else "though the sample covariance would be well-posed here too"
        )
        return (
            f"Covariances: {ESTIMATORS[estimator]}, the default. It shrinks each matrix towards a scaled identity by a "
            f"data-driven amount, so every order of the grid gives well-conditioned SPD matrices: {size}, {risk}."
        )
    if estimator == "sample":
        return (
            f"Covariances: {ESTIMATORS[estimator]}, as chosen (MOABB's choice). It is exact but well-posed only "
            f"while samples clearly outnumber rows: {size}; check the warnings below, or use OAS."
        )
    return f"Covariances: {ESTIMATORS[estimator]}, as chosen; a shrinkage estimator, well-posed at every order: {size}."


# --- entry points ------------------------------------------------------------------------------------------


def _check_epochs(X: np.ndarray, y: np.ndarray, sessions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 3:
        raise ParameterError(f"expected epochs of shape (n_trials, n_channels, n_times), got shape {arr.shape}.")
    labels = _check_labels(y, 2)
    sessions = np.asarray(sessions).astype(str)
    if len(labels) != len(arr) or len(sessions) != len(arr):
        raise ParameterError(
            f"got {len(arr)} epochs, {len(labels)} labels and {len(sessions)} sessions; give one each."
        )
    if not np.isfinite(arr).all():
        raise ParameterError("the epochs hold NaN or infinite samples; repair the recording or leave the channel out.")
    return arr, labels, sessions


def _check_grid(
    n_channels: int, n_times: int, grid: SearchGrid, estimator: str, searched: bool, svm: bool, selection: str
) -> None:
    """Settings the data cannot honour; only the sample estimator needs more samples than rows."""
    if estimator not in ESTIMATORS:
        known = ", ".join(repr(k) for k in ESTIMATORS)
        raise ParameterError(f"unknown covariance estimator {estimator!r}; choose one of {known}.")
    sample = estimator == "sample"
    if sample and n_channels >= n_times:
        raise ParameterError(
            f"the epochs have {n_channels} channels but only {n_times} samples, so their sample covariances are "
            "singular; choose the OAS estimator, lengthen the window or select fewer channels."
        )
    if searched and selection == "grid":
        if not grid.orders or not grid.lags:
            raise ParameterError("the order x lag grid is empty; choose at least one order and one lag.")
        top = max(grid.orders)
        kept = n_times - top * max(grid.lags) if top > 1 else n_times
        needed = max(2, top * n_channels + 1) if sample else 2
        if kept < needed:
            rows = f" for {top * n_channels} rows" if sample else ""
            fix = "choose the OAS estimator, " if sample and kept >= 2 else ""
            raise ParameterError(
                f"epochs of {n_times} samples are too short for order {top} and lag {max(grid.lags)}: the embedding "
                f"keeps {kept} samples{rows}; {fix}lengthen the window or lower the largest order or lag."
            )
    if svm and (not grid.svm_C or not grid.kernels):
        raise ParameterError("the SVM grid is empty; choose at least one C and one kernel.")
    unknown = sorted(set(grid.kernels) - set(KERNELS)) if svm else []
    if unknown:
        raise ParameterError(f"unknown SVM kernel(s) {', '.join(map(repr, unknown))}; choose from {KERNELS}.")


def _spec(
    labels: np.ndarray,
    outer: Folds,
    pipelines: tuple[_Pipeline, ...],
    *,
    grid: SearchGrid,
    estimator: str,
    inner_folds: int,
    seed: int,
    max_order: int,
    max_lag: int,
    finish: Callable[..., Any],
    context: dict[str, Any],
    score_all: bool = False,
) -> _Spec:
    if int(inner_folds) != inner_folds or inner_folds < 2:
        raise ParameterError(f"the number of inner folds is {inner_folds}; use a whole number of at least 2.")
    for train, _ in outer:
        _check_labels(labels[train], int(inner_folds))
    return _Spec(
        pipelines=pipelines,
        outer=outer,
        inner=tuple(_inner_folds(labels[train], int(inner_folds), seed) for train, _ in outer),
        svm=tuple((float(c), str(k)) for c in grid.svm_C for k in grid.kernels),
        estimator=estimator,
        metrics=_metrics(len(np.unique(labels))),
        seed=seed,
        max_order=max_order,
        max_lag=max_lag,
        grid=grid,
        finish=finish,
        context=context,
        score_all=score_all,
    )


def plan_evaluation(
    X: np.ndarray,
    y: np.ndarray,
    sessions: np.ndarray,
    pipelines: Sequence[str],
    *,
    scheme: str = "within",
    n_folds: int = 5,
    selection: str = "grid",
    grid: SearchGrid = SearchGrid(),
    estimator: str = DEFAULT_ESTIMATOR,
    inner_folds: int = 3,
    max_order: int = 10,
    max_lag: int = 30,
    seed: int = 42,
) -> Plan:
    """The evaluation of :func:`evaluate` as a two-stage :class:`~covwb.jobs.Plan`, for any runner.

    Stage 1 ("order × lag search") has one task per (outer fold, order, lag) that a searched pipeline needs
    (order 1 once for every lag), keyed ``search/fold{f}/order{m}/lag{tau}``, or one per outer fold for the
    Takens selection (``takens/fold{f}``); weights grow with the number of training matrices times the cube
    of their size; the cheapest tasks come first, then the largest. Its ``combine`` returns stage 2
    ("refits and fixed pipelines"): ``refit/fold{f}/order{m}/lag{tau}/{head}`` (one per distinct winner) and
    ``fixed/{pipeline}/fold{f}``; whose ``combine`` returns the :class:`Evaluation`. The epochs and labels are
    ``Plan.data["X"]`` and ``["y"]``.

    Parameters
    ----------
    X, y, sessions, pipelines, scheme, n_folds, selection, grid, estimator, inner_folds, max_order, max_lag, seed
        As :func:`evaluate`.

    Returns
    -------
    Plan

    Raises
    ------
    ParameterError
        As :func:`evaluate`, before any task runs.

    Examples
    --------
    >>> from covwb.jobs import run_plan
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((20, 3, 60)), np.repeat(["a", "b"], 10)
    >>> plan = plan_evaluation(X, y, np.full(20, "1"), ["acm_mdm"], n_folds=2, inner_folds=2,
    ...                        grid=SearchGrid(orders=(1, 2), lags=(3,)))
    >>> [task.key for task in plan.tasks]  # doctest: +NORMALIZE_WHITESPACE
    ['search/fold1/order1/lag1', 'search/fold1/order2/lag3', 'search/fold2/order2/lag3',
     'search/fold2/order1/lag1']
    >>> run_plan(plan).summary.columns.tolist()
    ['pipeline', 'roc_auc_mean', 'roc_auc_std']
    """
    arr, labels, sessions = _check_epochs(X, y, sessions)
    if not pipelines:
        raise ParameterError("no pipeline is selected; choose at least one pipeline to evaluate.")
    infos = {key: check_pipeline(key) for key in pipelines}
    if selection not in ("grid", "takens"):
        raise ParameterError(f"unknown order/lag selection {selection!r}; choose 'grid' or 'takens'.")
    n_channels, n_times = arr.shape[1:]
    searched = any(info.augmented for info in infos.values())
    has_svm = any(info.head == "svm" for info in infos.values())
    _check_grid(n_channels, n_times, grid, estimator, searched, has_svm, selection)
    outer = make_folds(labels, sessions, scheme, n_folds, seed)
    specs = []
    for key, info in infos.items():
        if info.augmented and selection == "grid":
            candidates = tuple((int(m), int(t)) for t in grid.lags for m in grid.orders)
        elif info.head in ("svm", "mdm") and not info.augmented:
            candidates = ((1, 1),)
        else:
            candidates = ()
        takens = info.augmented and selection == "takens"
        specs.append(_Pipeline(key, info.label, info.head, info.augmented, candidates, takens))
    note = _estimator_note(estimator, n_channels, n_times, grid, searched and selection == "grid")
    context = {
        "labels": labels,
        "fold_session": [", ".join(np.unique(sessions[test])) for _, test in outer],
        "estimator_note": note,
        "settings": {
            "pipelines": list(infos),
            "scheme": scheme,
            "n_folds": len(outer),
            "selection": selection,
            "orders": list(grid.orders),
            "lags": list(grid.lags),
            "svm_C": list(grid.svm_C),
            "kernels": list(grid.kernels),
            "estimator": estimator,
            "estimator_note": note,
            "inner_folds": inner_folds,
            "seed": seed,
        },
    }
    spec = _spec(
        labels,
        outer,
        tuple(specs),
        grid=grid,
        estimator=estimator,
        inner_folds=inner_folds,
        seed=seed,
        max_order=max_order,
        max_lag=max_lag,
        finish=_evaluation,
        context=context,
    )
    return _first_stage(arr, labels, spec)


def _evaluation(outcome: _Outcome, spec: _Spec) -> Evaluation:
    """The :class:`Evaluation` of a finished plan."""
    labels, metrics = spec.context["labels"], spec.metrics
    rows, predictions = [], {}
    for pipeline in spec.pipelines:
        frames = []
        for fold, ((_, test), result) in enumerate(zip(spec.outer, outcome.per_fold[pipeline.key])):
            rows.append(
                {
                    "pipeline": pipeline.label,
                    "fold": fold + 1,
                    "test_session": spec.context["fold_session"][fold],
                    **{m: result[m] for m in metrics},
                    "order": result.get("order", np.nan) if pipeline.augmented else np.nan,
                    "lag": result.get("lag", np.nan) if pipeline.augmented else np.nan,
                    "C": result.get("C", np.nan),
                    "kernel": result.get("kernel", ""),
                    "seconds": result["seconds"],
                }
            )
            frame = pd.DataFrame({"trial": test, "fold": fold + 1, "y_true": labels[test], "y_pred": result["y_pred"]})
            if result.get("score") is not None:
                frame["score"] = result["score"]
            frames.append(frame)
        predictions[pipeline.label] = pd.concat(frames, ignore_index=True)
    scores = pd.DataFrame(rows)
    summary = scores.groupby("pipeline", sort=False)[list(metrics)].agg(["mean", "std"])
    summary.columns = [f"{m}_{s}" for m, s in summary.columns]
    summary = summary.reset_index()
    return Evaluation(
        scores=scores,
        summary=summary,
        metrics=metrics,
        classes=tuple(np.unique(labels)),
        grid_scores={PIPELINES[k].label: v for k, v in outcome.grid_scores.items()},
        predictions=predictions,
        takens={PIPELINES[k].label: v for k, v in outcome.takens.items()},
        settings={**spec.context["settings"], "metrics": list(metrics)},
        warnings=outcome.warnings,
        estimator_note=spec.context["estimator_note"],
    )


def evaluate(
    X: np.ndarray,
    y: np.ndarray,
    sessions: np.ndarray,
    pipelines: Sequence[str],
    *,
    scheme: str = "within",
    n_folds: int = 5,
    selection: str = "grid",
    grid: SearchGrid = SearchGrid(),
    estimator: str = DEFAULT_ESTIMATOR,
    inner_folds: int = 3,
    max_order: int = 10,
    max_lag: int = 30,
    seed: int = 42,
    n_jobs: int = 1,
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate pipelines with cross-validation, searching ACM order and lag inside each fold.

    ``run_plan(plan_evaluation(...), n_jobs=n_jobs, progress=progress)``.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Epochs (µV).
    y : ndarray, shape (n_trials,)
        Class labels.
    sessions : ndarray, shape (n_trials,)
        Session label of each trial.
    pipelines : sequence of str
        Keys of :data:`covwb.eeg.pipelines.PIPELINES`.
    scheme : {"within", "cross"}
        Fold scheme, see :func:`make_folds`.
    n_folds : int
        Outer folds of the within-session scheme.
    selection : {"grid", "takens"}
        How ACM pipelines choose order and lag: nested grid search over ``grid.orders`` x
        ``grid.lags``, or the Takens criteria on each outer training fold.
    grid : SearchGrid
        Candidates; the SVM settings are searched for every SVM pipeline.
    estimator : {"oas", "sample", "ledoit_wolf", "shrinkage"}
        Covariance estimator of every pipeline; OAS by default (module notes).
    inner_folds : int
        Inner folds of the nested search (>= 2).
    max_order, max_lag : int
        Ranges of the Takens selection.
    seed : int
        Seed of every shuffle and random step.
    n_jobs : int
        Worker processes.
    progress : callable (fraction, text) or None
        Receives the overall fraction done and the step just finished, with a time estimate.

    Returns
    -------
    Evaluation

    Raises
    ------
    ParameterError
        No pipeline, unknown pipeline, scheme or estimator, a single class, too few trials per class for
        the folds, one session for cross-session evaluation, mismatched lengths, empty grid, epochs too
        short for the largest order and lag (with the sample estimator: fewer samples than rows), more
        channels than samples with the sample estimator, matrices that are not positive definite.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((20, 3, 60)), np.repeat(["a", "b"], 10)
    >>> X[10:, 0] *= 2
    >>> result = evaluate(X, y, np.full(20, "1"), ["mdm"], n_folds=2, inner_folds=2)
    >>> float(result.summary["roc_auc_mean"].iloc[0]) > 0.8
    True
    >>> result.settings["estimator"]
    'oas'
    """
    plan = plan_evaluation(
        X,
        y,
        sessions,
        pipelines,
        scheme=scheme,
        n_folds=n_folds,
        selection=selection,
        grid=grid,
        estimator=estimator,
        inner_folds=inner_folds,
        max_order=max_order,
        max_lag=max_lag,
        seed=seed,
    )
    return run_plan(plan, n_jobs=n_jobs, progress=progress)


@dataclass(frozen=True, eq=False)
class SearchResult:
    """The inner cross-validation of one training set over (order, lag) and the head's settings.

    What ``GridSearchCV`` computes for ``AugmentedDataset -> Covariances -> TangentSpace -> SVC`` (or ``MDM``)
    with ``param_grid`` over ``acm__lag``, ``acm__order``, ``svc__C``, ``svc__kernel``: candidates in that
    ``ParameterGrid`` order (lag slowest, kernel fastest), the first best mean score wins.

    Parameters
    ----------
    params : list of dict
        Candidates: ``order``, ``lag`` and, for the SVM head, ``C`` and ``kernel``.
    split_scores : ndarray, shape (n_candidates, n_splits)
        Score of each candidate on each inner test fold (ROC-AUC for two classes, else accuracy).
    best_index : int
        The winner (first best mean score).
    selection : TakensSelection or None
        The Takens selection that fixed (order, lag), when it did.
    warnings : tuple of str
        As :attr:`Evaluation.warnings`.
    """

    params: list[dict[str, Any]]
    split_scores: np.ndarray
    best_index: int
    selection: Any = None
    warnings: tuple[str, ...] = ()

    @property
    def mean_scores(self) -> np.ndarray:
        """Mean inner score of each candidate, shape (n_candidates,)."""
        return self.split_scores.mean(axis=1)


def _search_result(results: dict[str, Any], spec: _Spec) -> SearchResult:
    """The :class:`SearchResult` of a one-fold search plan's first stage."""
    (pipeline,) = spec.pipelines
    if pipeline.takens:
        found = results["takens/fold1"]
        keys, candidates = ["takens/fold1"], [(found["order"], found["lag"])]
    else:
        candidates = list(pipeline.candidates)
        keys = [_search_key(0, _canonical(c)) for c in candidates]
    heads = list(spec.svm) if pipeline.head == "svm" else [None]
    params, rows = [], []
    for key, (order, lag) in zip(keys, candidates):
        scores = results[key]["svm"] if pipeline.head == "svm" else results[key]["mdm"][:, None]
        for h, head in enumerate(heads):
            params.append({"order": order, "lag": lag, **({"C": head[0], "kernel": head[1]} if head else {})})
            rows.append(scores[:, h])
    split = np.array(rows)
    return SearchResult(
        params=params,
        split_scores=split,
        best_index=int(np.argmax(split.mean(axis=1))),
        selection=results["takens/fold1"]["selection"] if pipeline.takens else None,
        warnings=_warnings(spec, results, {}),
    )


def plan_search(
    X: np.ndarray,
    y: np.ndarray,
    *,
    head: str,
    grid: SearchGrid,
    selection: str = "grid",
    estimator: str = DEFAULT_ESTIMATOR,
    inner_folds: int = 3,
    max_order: int = 10,
    max_lag: int = 30,
    seed: int = 42,
) -> Plan:
    """The inner search of one training set, as a one-stage :class:`~covwb.jobs.Plan` returning a :class:`SearchResult`.

    Tasks as stage 1 of :func:`plan_evaluation` with the whole of ``X`` as the one outer training fold
    (``search/fold1/order{m}/lag{tau}``, or ``takens/fold1``); the estimators of :mod:`covwb.eeg.classifiers`
    run it in ``fit``.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Training epochs.
    y : ndarray, shape (n_trials,)
        Labels; sorted as strings, the last one is the positive class of ROC-AUC.
    head : {"svm", "mdm"}
        Classifier after the ACM.
    grid : SearchGrid
        Orders, lags (with ``selection="grid"``) and SVM settings.
    selection : {"grid", "takens"}
        Search (order, lag) on the grid, or choose them by the Takens criteria and search the SVM settings.
    estimator, inner_folds, max_order, max_lag, seed
        As :func:`evaluate`.

    Returns
    -------
    Plan

    Examples
    --------
    >>> from covwb.jobs import run_plan
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((16, 3, 60)), np.repeat(["a", "b"], 8)
    >>> X[8:, 1] *= 3
    >>> grid = SearchGrid(orders=(1, 2), lags=(2,), svm_C=(1.0,), kernels=("linear",))
    >>> found = run_plan(plan_search(X, y, head="svm", grid=grid, inner_folds=2))
    >>> found.params[found.best_index]["order"] in (1, 2), found.split_scores.shape
    (True, (2, 2))
    """
    arr, labels, _ = _check_epochs(X, y, np.zeros(len(np.asarray(y))))
    if head not in ("svm", "mdm"):
        raise ParameterError(f"unknown classifier head {head!r}; use 'svm' or 'mdm'.")
    if selection not in ("grid", "takens"):
        raise ParameterError(f"unknown order/lag selection {selection!r}; choose 'grid' or 'takens'.")
    _check_grid(arr.shape[1], arr.shape[2], grid, estimator, True, head == "svm", selection)
    takens = selection == "takens"
    candidates = () if takens else tuple((int(m), int(t)) for t in grid.lags for m in grid.orders)
    pipeline = _Pipeline("search", "search", head, True, candidates, takens)
    spec = _spec(
        labels,
        [(np.arange(len(labels)), np.arange(0))],
        (pipeline,),
        grid=grid,
        estimator=estimator,
        inner_folds=inner_folds,
        seed=seed,
        max_order=max_order,
        max_lag=max_lag,
        finish=_search_result,
        context={},
        score_all=True,
    )
    return Plan(
        tasks=_search_tasks(arr, spec),
        combine=partial(_search_result, spec=spec),
        data={"X": arr, "y": labels},
        name="order × lag search",
    )


def _per_fold(outcome: _Outcome, spec: _Spec) -> tuple[list[dict[str, Any]], np.ndarray]:
    result = outcome.per_fold["search"]
    return result, outcome.grid_scores.get("search", np.zeros((0, 0)))


def fast_grid_search(
    X: np.ndarray,
    y: np.ndarray,
    outer: Folds,
    *,
    head: str,
    orders: Sequence[int],
    lags: Sequence[int],
    grid: SearchGrid,
    estimator: str = DEFAULT_ESTIMATOR,
    inner_folds: int = 3,
    seed: int = 42,
    n_jobs: int = 1,
    progress: Progress | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Nested grid search over (order, lag) and the head's settings on given outer folds, the fast way.

    The same plan as :func:`plan_evaluation` for one ACM pipeline.

    Parameters
    ----------
    X : ndarray, shape (n_trials, C, T)
        Epochs.
    y : ndarray of str, shape (n_trials,)
        Labels.
    outer : list of (train, test)
        Outer folds.
    head : {"svm", "mdm"}
        Classifier after the ACM.
    orders, lags : sequence of int
        Candidate orders and lags (samples).
    grid : SearchGrid
        SVM settings (used by the ``"svm"`` head).
    estimator : str
        Covariance estimator.
    inner_folds : int
        Inner stratified folds.
    seed : int
        Seed of the inner shuffles.
    n_jobs : int
        Worker processes.
    progress : callable (fraction, text) or None
        Called as tasks finish.

    Returns
    -------
    per_fold : list of dict
        Per outer fold: ``order``, ``lag``, the head settings, metric values, ``y_pred``, ``score``, ``seconds``.
    grid_scores : ndarray, shape (len(orders), len(lags))
        Mean inner score per (order, lag), best over head settings, averaged over outer folds.
    """
    arr = np.asarray(X, dtype=np.float64)
    labels = _check_labels(y, 2)
    search_grid = SearchGrid(tuple(int(m) for m in orders), tuple(int(t) for t in lags), grid.svm_C, grid.kernels)
    _check_grid(arr.shape[1], arr.shape[2], search_grid, estimator, True, head == "svm", "grid")
    candidates = tuple((int(m), int(t)) for t in lags for m in orders)
    pipeline = _Pipeline("search", "search", head, True, candidates)
    spec = _spec(
        labels,
        list(outer),
        (pipeline,),
        grid=search_grid,
        estimator=estimator,
        inner_folds=inner_folds,
        seed=seed,
        max_order=max(orders),
        max_lag=max(lags),
        finish=_per_fold,
        context={},
    )
    return run_plan(_first_stage(arr, labels, spec), n_jobs=n_jobs, progress=progress)


def most_chosen_order_lag(scores: pd.DataFrame) -> tuple[int, int]:
    """The (order, lag) chosen in most outer folds (first in table order among ties); (1, 1) when none.

    Parameters
    ----------
    scores : pandas.DataFrame
        :attr:`Evaluation.scores`.
    """
    chosen = scores.dropna(subset=["order", "lag"])
    if chosen.empty:
        return 1, 1
    pairs = list(zip(chosen["order"].astype(int), chosen["lag"].astype(int)))
    best = max(dict.fromkeys(pairs), key=pairs.count)
    return int(best[0]), int(best[1])


def class_means(covs: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Affine-invariant mean matrix of each class (pyRiemann), keyed by label in sorted order.

    Parameters
    ----------
    covs : ndarray, shape (n_trials, p, p)
        SPD matrices.
    y : ndarray, shape (n_trials,)
        Labels.

    Returns
    -------
    dict of str to ndarray, shape (p, p)
    """
    labels = np.asarray(y).astype(str)
    return {label: _riemann_mean(covs[labels == label], None) for label in np.unique(labels)}


def tangent_embedding(covs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2-D principal-component map of the trials' tangent vectors at their affine-invariant mean.

    Parameters
    ----------
    covs : ndarray, shape (n_trials, p, p)
        SPD matrices.

    Returns
    -------
    coordinates : ndarray, shape (n_trials, 2)
        Scores on the first two principal axes (unitless log-ratios).
    explained : ndarray, shape (2,)
        Fraction of the tangent-space variance each axis explains.
    """
    features = tangent_vectors(karcher_mean(covs).logs)
    centred = features - features.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    total = float((s**2).sum()) or 1.0
    k = min(2, len(s))
    coords = np.zeros((len(covs), 2))
    coords[:, :k] = u[:, :k] * s[:k]
    explained = np.zeros(2)
    explained[:k] = s[:k] ** 2 / total
    return coords, explained
