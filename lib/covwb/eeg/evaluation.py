"""Cross-validated evaluation of the pipelines, with a fast nested order x lag grid search.

Protocol (as in the ACM paper's MOABB scripts):

* folds: within-session stratified k-fold (each session split separately, folds pooled per index),
  or cross-session leave-one-session-out; shuffles use ``seed``;
* metric: ROC-AUC for two classes; accuracy and balanced accuracy for more (selection by accuracy);
* nested search: inside each outer training fold, ``StratifiedKFold(inner_folds, shuffle=True,
  random_state=seed)`` scores every candidate; the best mean inner score wins (first in
  scikit-learn's ``ParameterGrid`` order among ties: lag, then order, then C, then kernel) and is refitted
  on the whole outer training fold, as ``GridSearchCV(refit=True)`` does.

The fast grid path gives the same scores as ``GridSearchCV`` over the full pipeline, to the
tolerance of the Riemannian mean, while computing

* the ACM once per (m, tau) for all trials (order 1 once for every lag: it does not depend on tau);
* the tangent space once per (m, tau, inner fold), shared by every SVM setting, and only the
  winning setting refitted on each outer training fold;
* each affine-invariant mean with :func:`covwb.covariance.karcher.karcher_mean` (Riemannian Newton,
  pyRiemann's stopping rule: mean log at the returned point <= 1e-8 in Frobenius norm; 4-6
  eigendecompositions of the stack instead of 10-18), which also returns the training tangent
  vectors; inner means start from the previous inner fold's mean;
* one ROC-AUC from one decision function per SVM setting (the scorer's value);
* candidates (m, tau) in parallel joblib (loky) processes, largest order first, one BLAS thread
  each; the workers do not import pyRiemann (and PyTorch) for the SVM head.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from covwb.covariance.karcher import (
    KarcherMean,
    WhitenedLogs,
    karcher_mean,
    riemann_logs,
    tangent_vectors,
    whitened_logs,
)
from covwb.eeg.augmented import augmented_covariances
from covwb.eeg.pipelines import PIPELINES, build_pipeline, check_pipeline
from covwb.errors import ParameterError

SCHEMES: dict[str, str] = {
    "within": "Within-session stratified k-fold",
    "cross": "Cross-session (leave one session out)",
}

_MIN_PARALLEL_CANDIDATES = 4
"""Fewer (order, lag) candidates than this run in-process: starting workers would cost more."""

Folds = list[tuple[np.ndarray, np.ndarray]]
Progress = Callable[[float, str], None]


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
        columns, the chosen ``order``, ``lag``, ``C``, ``kernel`` (NaN where not applicable) and ``seconds``.
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
        Everything that produced the result.
    """

    scores: pd.DataFrame
    summary: pd.DataFrame
    metrics: tuple[str, ...]
    classes: tuple[str, ...]
    grid_scores: dict[str, np.ndarray] = field(default_factory=dict)
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict)
    takens: dict[str, list[Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


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


def _decision(estimator: Any, X: np.ndarray) -> np.ndarray:
    """Positive-class decision value of a fitted two-class estimator, shape (n,)."""
    if hasattr(estimator, "decision_function"):
        return np.asarray(estimator.decision_function(X), dtype=np.float64)
    return np.asarray(estimator.predict_proba(X), dtype=np.float64)[:, 1]


def _fold_outputs(estimator: Any, X: np.ndarray, y: np.ndarray, metrics: tuple[str, ...]) -> dict[str, Any]:
    """Scores with scikit-learn's scorers, predictions and decision values of a fitted estimator."""
    from sklearn.metrics import get_scorer

    out: dict[str, Any] = {m: float(get_scorer(m)(estimator, X, y)) for m in metrics}
    out["y_pred"] = np.asarray(estimator.predict(X)).astype(str)
    out["score"] = _decision(estimator, X) if metrics == ("roc_auc",) else None
    return out


def _riemann_mean(covs: np.ndarray, init: np.ndarray | None) -> np.ndarray:
    """Affine-invariant mean (:func:`~covwb.covariance.karcher.karcher_mean`, tolerance 1e-8), started at ``init``."""
    return karcher_mean(covs, init=init).mean


def _inner_score(model: Any, X: np.ndarray, y: np.ndarray, metrics: tuple[str, ...]) -> float:
    """The first metric of a fitted classifier, as scikit-learn's scorer gives it, from one prediction."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    if metrics == ("roc_auc",):
        return float(roc_auc_score(y == model.classes_[1], _decision(model, X)))
    return float(accuracy_score(y, model.predict(X)))


def _score_heads(
    train: np.ndarray,
    test: np.ndarray,
    covs: np.ndarray,
    y: np.ndarray,
    mean: KarcherMean | None,
    test_logs: np.ndarray | None,
    heads: list[dict[str, Any]],
    metrics: tuple[str, ...],
    keep: bool,
) -> list[dict[str, Any]]:
    """Fit every head on ``covs[train]`` and score it on ``covs[test]``.

    ``mean`` is the Karcher mean of ``covs[train]`` (SVM heads): its logs are the training
    tangent vectors; ``test_logs`` (computed at its mean when None) are the test ones. With ``keep`` False only the first
    metric is returned, from one decision function; with ``keep`` True every metric, predictions
    and decision values, through scikit-learn's scorers.
    """
    from sklearn.svm import SVC

    results = []
    if mean is not None:
        f_train = tangent_vectors(mean.logs)
        f_test = tangent_vectors(riemann_logs(covs[test], mean.mean) if test_logs is None else test_logs)
    for head in heads:
        if head["kind"] == "svm":
            model, f_eval = SVC(C=head["C"], kernel=head["kernel"]).fit(f_train, y[train]), f_test
        else:
            from pyriemann.classification import MDM

            model, f_eval = MDM(metric="riemann").fit(covs[train], y[train]), covs[test]
        if keep:
            results.append(_fold_outputs(model, f_eval, y[test], metrics))
        else:
            results.append({metrics[0]: _inner_score(model, f_eval, y[test], metrics)})
    return results


def _inner_job(
    X: np.ndarray,
    y: np.ndarray,
    order: int,
    lag: int,
    estimator: str,
    outer: Folds,
    inner: list[Folds],
    heads: list[dict[str, Any]],
    metrics: tuple[str, ...],
) -> dict[str, Any]:
    """Inner-CV scores of every head for one (order, lag): the ACM once, one tangent space per fold.

    Each outer fold's first inner mean starts where pyRiemann starts (the Euclidean mean); the
    next inner folds of that outer fold start from the previous inner fold's mean, where the logs
    of their training trials are already known (the previous fold's training and test trials
    cover them), so their first evaluation is free.
    """
    from covwb.runtime import limit_threads

    limit_threads()
    covs = augmented_covariances(X, order, lag, estimator)
    needs_ts = any(h["kind"] == "svm" for h in heads)
    inner_scores = np.empty((len(outer), len(inner[0]), len(heads)))
    p = covs.shape[1]
    for o, (train, _) in enumerate(outer):
        mean = None
        values, vectors = np.empty((len(covs), p)), np.empty((len(covs), p, p))
        for i, (itr, ite) in enumerate(inner[o]):
            tr, te = train[itr], train[ite]
            if needs_ts:
                start = None if mean is None else WhitenedLogs(values[tr], vectors[tr])
                mean = karcher_mean(covs[tr], init=None if mean is None else mean.mean, init_logs=start)
                tested = whitened_logs(covs[te], mean.mean)
                values[tr], vectors[tr] = mean.eigen.values, mean.eigen.vectors
                values[te], vectors[te] = tested.values, tested.vectors
            scored = _score_heads(
                tr, te, covs, y, mean, tested.matrices() if needs_ts else None, heads, metrics, keep=False
            )
            inner_scores[o, i] = [s[metrics[0]] for s in scored]
    return {"order": order, "lag": lag, "inner": inner_scores}


def _refit_job(
    X: np.ndarray,
    y: np.ndarray,
    order: int,
    lag: int,
    estimator: str,
    fold: tuple[np.ndarray, np.ndarray],
    head: dict[str, Any],
    metrics: tuple[str, ...],
) -> dict[str, Any]:
    """The winning setting refitted on a whole outer training fold and scored on its test fold."""
    from covwb.runtime import limit_threads

    limit_threads()
    train, test = fold
    covs = augmented_covariances(X, order, lag, estimator)
    mean = karcher_mean(covs[train]) if head["kind"] == "svm" else None
    return _score_heads(train, test, covs, y, mean, None, [head], metrics, keep=True)[0]


def _heads(info_head: str, grid: SearchGrid) -> list[dict[str, Any]]:
    """Head settings in ParameterGrid order (C slower than kernel)."""
    if info_head == "svm":
        return [{"kind": "svm", "C": float(c), "kernel": k} for c in grid.svm_C for k in grid.kernels]
    return [{"kind": "mdm"}]


def fast_grid_search(
    X: np.ndarray,
    y: np.ndarray,
    outer: Folds,
    *,
    head: str,
    orders: Sequence[int],
    lags: Sequence[int],
    grid: SearchGrid,
    estimator: str = "sample",
    inner_folds: int = 3,
    seed: int = 42,
    n_jobs: int = 1,
    progress: Progress | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Nested grid search over (order, lag) and the head's settings, the fast way.

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
        Called as candidates finish.

    Returns
    -------
    per_fold : list of dict
        Per outer fold: ``order``, ``lag``, the head settings, metric values, ``y_pred``, ``score``.
    grid_scores : ndarray, shape (len(orders), len(lags))
        Mean inner score per (order, lag), best over head settings, averaged over outer folds.
    """
    from joblib import Parallel, delayed

    metrics = _metrics(len(np.unique(y)))
    heads = _heads(head, grid)
    inner = [_inner_folds(y[train], inner_folds, seed) for train, _ in outer]
    unique = sorted({(1, 1) if m == 1 else (int(m), int(t)) for m in orders for t in lags}, key=lambda c: -c[0])
    workers = n_jobs if len(unique) >= _MIN_PARALLEL_CANDIDATES else 1
    runner = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
    done: dict[tuple[int, int], np.ndarray] = {}
    jobs = (delayed(_inner_job)(X, y, m, t, estimator, outer, inner, heads, metrics) for m, t in unique)
    for result in runner(jobs):
        done[(result["order"], result["lag"])] = result["inner"]
        if progress is not None:
            progress(0.9 * len(done) / len(unique), f"order {result['order']}, lag {result['lag']} searched")
    candidates = [(int(t), int(m)) for t in lags for m in orders]
    winners = []
    grid_scores = np.zeros((len(orders), len(lags)))
    for o in range(len(outer)):
        means = np.array([np.mean(done[(1, 1) if m == 1 else (m, t)][o], axis=0) for t, m in candidates])
        best = int(np.argmax(means.ravel()))
        (t, m), h = candidates[best // len(heads)], best % len(heads)
        winners.append((m, t, h))
        grid_scores += means.max(axis=1).reshape(len(lags), len(orders)).T / len(outer)
    if progress is not None:
        progress(0.9, "refitting the chosen settings on each training fold")
    refit_workers = n_jobs if len(outer) > 1 and workers > 1 else 1
    refits = Parallel(n_jobs=refit_workers, backend="loky")(
        delayed(_refit_job)(X, y, m, t, estimator, fold, heads[h], metrics) for (m, t, h), fold in zip(winners, outer)
    )
    per_fold = []
    for (m, t, h), chosen in zip(winners, refits):
        setting = {k: v for k, v in heads[h].items() if k != "kind"}
        per_fold.append({"order": m, "lag": t, **setting, **chosen})
    return per_fold, grid_scores


def _takens_fold_search(
    X: np.ndarray,
    y: np.ndarray,
    outer: Folds,
    *,
    head: str,
    grid: SearchGrid,
    estimator: str,
    inner_folds: int,
    seed: int,
    max_order: int,
    max_lag: int,
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Per outer fold: (order, lag) by the Takens criteria on its training epochs, then the head's search."""
    from covwb.eeg.takens import select_order_lag

    per_fold, selections = [], []
    for train, test in outer:
        selection = select_order_lag(X[train], max_lag=max_lag, max_order=max_order, seed=seed)
        selections.append(selection)
        fold, _ = fast_grid_search(
            X,
            y,
            [(train, test)],
            head=head,
            orders=[selection.order],
            lags=[selection.lag],
            grid=grid,
            estimator=estimator,
            inner_folds=inner_folds,
            seed=seed,
        )
        per_fold.extend(fold)
    return per_fold, selections


def _fixed_pipeline(
    X: np.ndarray, y: np.ndarray, outer: Folds, key: str, estimator: str, metrics: tuple[str, ...], seed: int
) -> list[dict[str, Any]]:
    """Fit a pipeline without a search on each outer training fold and score it."""
    per_fold = []
    for train, test in outer:
        model = build_pipeline(key, estimator=estimator, seed=seed).fit(X[train], y[train])
        per_fold.append(_fold_outputs(model, X[test], y[test], metrics))
    return per_fold


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
    estimator: str = "sample",
    inner_folds: int = 3,
    max_order: int = 10,
    max_lag: int = 30,
    seed: int = 42,
    n_jobs: int = 1,
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate pipelines with cross-validation, searching ACM order and lag inside each fold.

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
    estimator : str
        Covariance estimator of every pipeline.
    inner_folds : int
        Inner folds of the nested search (>= 2).
    max_order, max_lag : int
        Ranges of the Takens selection.
    seed : int
        Seed of every shuffle and random step.
    n_jobs : int
        Worker processes of the grid search.
    progress : callable (fraction, text) or None
        Receives the overall fraction done and the current step.

    Returns
    -------
    Evaluation

    Raises
    ------
    ParameterError
        No pipeline, unknown pipeline or scheme, a single class, too few trials per class for
        the folds, one session for cross-session evaluation, mismatched lengths, empty grid,
        epochs too short for the largest order and lag, more channels than samples.
    """
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 3:
        raise ParameterError(f"expected epochs of shape (n_trials, n_channels, n_times), got shape {arr.shape}.")
    if not pipelines:
        raise ParameterError("no pipeline is selected; choose at least one pipeline to evaluate.")
    infos = {key: check_pipeline(key) for key in pipelines}
    labels = _check_labels(y, 2)
    sessions = np.asarray(sessions).astype(str)
    if len(labels) != len(arr) or len(sessions) != len(arr):
        raise ParameterError(
            f"got {len(arr)} epochs, {len(labels)} labels and {len(sessions)} sessions; give one each."
        )
    if not np.isfinite(arr).all():
        raise ParameterError("the epochs hold NaN or infinite samples; repair the recording or leave the channel out.")
    n_channels, n_times = arr.shape[1:]
    if n_channels >= n_times:
        raise ParameterError(
            f"the epochs have {n_channels} channels but only {n_times} samples, so their covariances are "
            "singular; lengthen the window or select fewer channels."
        )
    if selection not in ("grid", "takens"):
        raise ParameterError(f"unknown order/lag selection {selection!r}; choose 'grid' or 'takens'.")
    if int(inner_folds) != inner_folds or inner_folds < 2:
        raise ParameterError(f"the number of inner folds is {inner_folds}; use a whole number of at least 2.")
    searched = [k for k, info in infos.items() if info.augmented]
    if searched and selection == "grid":
        if not grid.orders or not grid.lags:
            raise ParameterError("the order x lag grid is empty; choose at least one order and one lag.")
        longest = max(grid.orders) * max(grid.lags)
        if max(grid.orders) > 1 and n_times - longest < max(2, max(grid.orders) * n_channels):
            raise ParameterError(
                f"epochs of {n_times} samples are too short for order {max(grid.orders)} and lag "
                f"{max(grid.lags)}: the embedding keeps {n_times - longest} samples for "
                f"{max(grid.orders) * n_channels} rows; lengthen the window or lower the largest order or lag."
            )
    if any(info.head == "svm" for info in infos.values()) and (not grid.svm_C or not grid.kernels):
        raise ParameterError("the SVM grid is empty; choose at least one C and one kernel.")
    outer = make_folds(labels, sessions, scheme, n_folds, seed)
    for train, _ in outer:
        _check_labels(labels[train], int(inner_folds))
    metrics = _metrics(len(np.unique(labels)))
    fold_session = [", ".join(np.unique(sessions[test])) for _, test in outer]

    rows, predictions, grid_scores, takens = [], {}, {}, {}
    n_steps = len(infos)
    for step, (key, info) in enumerate(infos.items()):
        label = info.label

        def report(fraction: float, text: str, step: int = step, label: str = label) -> None:
            if progress is not None:
                progress((step + fraction) / n_steps, f"{label}: {text}")

        report(0.0, "starting")
        start = time.perf_counter()
        if info.augmented and selection == "takens":
            per_fold, takens[key] = _takens_fold_search(
                arr,
                labels,
                outer,
                head=info.head,
                grid=grid,
                estimator=estimator,
                inner_folds=inner_folds,
                seed=seed,
                max_order=max_order,
                max_lag=max_lag,
            )
        elif info.augmented or info.head in ("svm", "mdm"):
            orders, lags = (grid.orders, grid.lags) if info.augmented else ((1,), (1,))
            per_fold, scores = fast_grid_search(
                arr,
                labels,
                outer,
                head=info.head,
                orders=orders,
                lags=lags,
                grid=grid,
                estimator=estimator,
                inner_folds=inner_folds,
                seed=seed,
                n_jobs=n_jobs if info.augmented else 1,
                progress=report,
            )
            if info.augmented:
                grid_scores[key] = scores
        else:
            per_fold = _fixed_pipeline(arr, labels, outer, key, estimator, metrics, seed)
        seconds = (time.perf_counter() - start) / len(outer)
        frames = []
        for fold, ((_, test), result) in enumerate(zip(outer, per_fold)):
            rows.append(
                {
                    "pipeline": label,
                    "fold": fold + 1,
                    "test_session": fold_session[fold],
                    **{m: result[m] for m in metrics},
                    "order": result.get("order", np.nan) if info.augmented else np.nan,
                    "lag": result.get("lag", np.nan) if info.augmented else np.nan,
                    "C": result.get("C", np.nan),
                    "kernel": result.get("kernel", ""),
                    "seconds": seconds,
                }
            )
            frame = pd.DataFrame({"trial": test, "fold": fold + 1, "y_true": labels[test], "y_pred": result["y_pred"]})
            if result.get("score") is not None:
                frame["score"] = result["score"]
            frames.append(frame)
        predictions[label] = pd.concat(frames, ignore_index=True)
        report(1.0, "done")

    scores = pd.DataFrame(rows)
    summary = scores.groupby("pipeline", sort=False)[list(metrics)].agg(["mean", "std"])
    summary.columns = [f"{m}_{s}" for m, s in summary.columns]
    summary = summary.reset_index()
    settings = {
        "pipelines": list(infos),
        "scheme": scheme,
        "n_folds": len(outer),
        "selection": selection,
        "orders": list(grid.orders),
        "lags": list(grid.lags),
        "svm_C": list(grid.svm_C),
        "kernels": list(grid.kernels),
        "estimator": estimator,
        "inner_folds": inner_folds,
        "seed": seed,
        "metrics": list(metrics),
    }
    return Evaluation(
        scores=scores,
        summary=summary,
        metrics=metrics,
        classes=tuple(np.unique(labels)),
        grid_scores={PIPELINES[k].label: v for k, v in grid_scores.items()},
        predictions=predictions,
        takens={PIPELINES[k].label: v for k, v in takens.items()},
        settings=settings,
    )


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
