"""Tasks of the nested order x lag search: inner scores of one (outer fold, order, lag), refits, fixed pipelines.

Each function here is one :class:`covwb.jobs.Task` of the plan that :func:`covwb.eeg.evaluation.plan_evaluation`
builds: module-level, plain picklable arguments (the epochs and labels arrive from ``Plan.data``), a plain dict
as result, one BLAS thread (the runner limits it). Nothing here runs the inner loop in pieces: one task scores
every head setting on every inner fold of one outer fold and one (order, lag), so that

* the ACM is computed once for the outer training trials (:class:`~covwb.eeg.augmented.LaggedProducts`);
* the tangent space is computed once per inner fold and shared by every SVM setting: the inner training
  mean is the Newton Karcher mean (:func:`~covwb.covariance.karcher.karcher_mean`), whose logarithms are the
  training tangent vectors, started from the previous inner fold's mean with the logarithms already known;
* the MDM head is pyRiemann's ``MDM(metric="riemann")`` computed the same way: class means are Karcher means
  started from the inner training mean, whose logarithms of the class's trials are known, and distances are
  ``sqrt(sum log^2 eig(M^-1/2 X M^-1/2))``; its ROC-AUC uses pyRiemann's
  ``predict_proba`` (softmax of minus the squared distances), so saturated probabilities tie as they do there;
* one ROC-AUC (or accuracy) per head setting from one decision function (the scorer's value).

Tolerance (a deliberate deviation from pyRiemann's 1e-8): the means stop when ``||J||_F <= 1e-6``
(:data:`MEAN_TOL`), or at float64's rounding floor. Since the cost is 1-strongly geodesically convex, a mean
is then within Riemannian distance 1e-6 of the exact one. For sample ACMs of orders 8-10 the rounding floor
(1e-8 to 7e-7, measured) is at or above 1e-8 anyway, and a mean that got there took one or two more
Newton steps and a rounding check; at 1e-6 the search is 15-25% faster at those orders, and on 24 sampled
(outer fold, order, lag) tasks of the built-in recording (orders 4-10, sample covariances, both heads)
:func:`inner_scores` gave every inner score equal to the one at 1e-8.

Every task also reports what may make its numbers wrong: the largest condition number of its matrices,
Riemannian means that did not converge, and warnings raised by the libraries it called.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from covwb.covariance.karcher import KarcherMean, WhitenedLogs, karcher_mean, tangent_vectors, whitened_logs
from covwb.eeg.augmented import LaggedProducts
from covwb.errors import ParameterError, SPDInputError

Folds = list[tuple[np.ndarray, np.ndarray]]
SVMSetting = tuple[float, str]
"""(C, kernel) of one SVM head."""
MEAN_TOL = 1e-6
"""Gradient-norm tolerance of every Riemannian mean of the search and refits (module notes)."""


class _MeanLog:
    """Counts the Karcher means of a task and the ones that stopped without converging."""

    def __init__(self) -> None:
        self.count = 0
        self.failed = 0
        self.worst = 0.0

    def add(self, mean: KarcherMean) -> KarcherMean:
        self.count += 1
        if not mean.converged:
            self.failed += 1
            self.worst = max(self.worst, mean.gradient_norm)
        return mean

    def report(self) -> dict[str, float]:
        return {"means": self.count, "unconverged": self.failed, "worst_gradient": self.worst}


def _karcher(covs: np.ndarray, log: _MeanLog, **kwargs: Any) -> KarcherMean:
    """Karcher mean without a RuntimeWarning (non-convergence is counted and reported instead)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return log.add(karcher_mean(covs, tol=MEAN_TOL, **kwargs))


def _covariances(X: np.ndarray, order: int, lag: int, estimator: str) -> tuple[np.ndarray, float]:
    """ACMs of epochs ``X`` and their largest condition number.

    Raises ParameterError, naming the setting, when a matrix is not positive definite.
    """
    covs = LaggedProducts(X).covariances(order, lag, estimator)
    values = np.linalg.eigvalsh(covs)
    if not np.all(values[:, 0] > 0):
        raise ParameterError(
            f"the augmented covariances at order {order}, lag {lag} are not positive definite with the "
            f"{estimator} estimator (more rows than independent samples); choose the OAS or Ledoit-Wolf "
            "estimator, lower the largest order, or lengthen the epochs."
        )
    return covs, float(np.max(values[:, -1] / values[:, 0]))


def _binary(metrics: tuple[str, ...]) -> bool:
    return metrics == ("roc_auc",)


def _metric_values(
    y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray | None, positive: str, metrics: tuple[str, ...]
) -> dict[str, float]:
    """The metrics as scikit-learn's scorers compute them from predictions and decision values."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

    functions = {
        "roc_auc": lambda: roc_auc_score(y_true == positive, score),
        "accuracy": lambda: accuracy_score(y_true, y_pred),
        "balanced_accuracy": lambda: balanced_accuracy_score(y_true, y_pred),
    }
    return {m: float(functions[m]()) for m in metrics}


def _svm_kernels(
    f_train: np.ndarray, f_test: np.ndarray, kernels: set[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train (n_train, n_train) and test (n_test, n_train) kernel matrices of tangent vectors, as ``SVC`` builds them.

    ``"linear"`` is the dot product; ``"rbf"`` is ``exp(-gamma ||x - x'||^2)`` with scikit-learn's
    ``gamma="scale"`` (``1 / (n_features * f_train.var())``), the squared distances formed from the dot
    products as libsvm forms them. One Gram matrix serves every C and both kernels of an inner fold, where
    ``SVC`` would recompute it in each fit (24,310 features at order 10 of 22 channels).
    """
    train_dot, test_dot = f_train @ f_train.T, f_test @ f_train.T
    out = {"linear": (train_dot, test_dot)}
    if "rbf" in kernels:
        variance = float(f_train.var())
        gamma = 1.0 / (f_train.shape[1] * variance) if variance != 0 else 1.0
        train_sq, test_sq = np.diag(train_dot), np.einsum("ij,ij->i", f_test, f_test)
        out["rbf"] = (
            np.exp(-gamma * np.maximum(train_sq[:, None] + train_sq[None, :] - 2 * train_dot, 0.0)),
            np.exp(-gamma * np.maximum(test_sq[:, None] + train_sq[None, :] - 2 * test_dot, 0.0)),
        )
    return out


def _svm_outputs(
    kernel: tuple[np.ndarray, np.ndarray],
    y_train: np.ndarray,
    C: float,
    metrics: tuple[str, ...],
    y_test: np.ndarray,
    keep: bool,
) -> dict[str, Any]:
    """Fit one SVC on a precomputed (train, test) kernel and score it; with ``keep`` also predictions and scores."""
    from sklearn.svm import SVC

    train_kernel, test_kernel = kernel
    model = SVC(C=C, kernel="precomputed").fit(train_kernel, y_train)
    positive = str(model.classes_[-1])
    if _binary(metrics):
        score = np.asarray(model.decision_function(test_kernel), dtype=np.float64)
        if not keep:
            return _metric_values(y_test, y_test, score, positive, metrics[:1])
        y_pred = np.asarray(model.predict(test_kernel)).astype(str)
        return {**_metric_values(y_test, y_pred, score, positive, metrics), "y_pred": y_pred, "score": score}
    y_pred = np.asarray(model.predict(test_kernel)).astype(str)
    out: dict[str, Any] = _metric_values(y_test, y_pred, None, positive, metrics if keep else metrics[:1])
    return {**out, "y_pred": y_pred, "score": None} if keep else out


def _class_means(covs: np.ndarray, y: np.ndarray, start: KarcherMean | None, log: _MeanLog) -> dict[str, np.ndarray]:
    """Affine-invariant mean of each class (sorted labels), started from ``start`` (its logs known) if given.

    Without ``start`` each class starts from its arithmetic mean, as pyRiemann's ``mean_riemann``.
    """
    means = {}
    for label in np.unique(y):
        members = y == label
        if start is None:
            means[label] = _karcher(covs[members], log).mean
        else:
            known = WhitenedLogs(start.eigen.values[members], start.eigen.vectors[members])
            means[label] = _karcher(
                covs[members], log, init=start.mean, init_logs=known, known_noise=start.gradient_noise
            ).mean
    return means


def _squared_distances(covs: np.ndarray, means: dict[str, np.ndarray]) -> np.ndarray:
    """Squared affine-invariant distances of each matrix to each class mean, shape (n, n_classes)."""
    columns = []
    for mean in means.values():
        w, U = np.linalg.eigh(mean)
        whitener = (U / np.sqrt(w)) @ U.T
        columns.append(np.sum(np.log(np.linalg.eigvalsh(whitener @ covs @ whitener)) ** 2, axis=1))
    return np.stack(columns, axis=1)


def _mdm_outputs(
    squared: np.ndarray, classes: Sequence[str], y_test: np.ndarray, metrics: tuple[str, ...], keep: bool
) -> dict[str, Any]:
    """Predictions (nearest mean) and pyRiemann's positive-class probability from squared distances."""
    from scipy.special import softmax

    y_pred = np.asarray(classes)[np.argmin(squared, axis=1)].astype(str)
    score = softmax(-squared, axis=1)[:, -1] if _binary(metrics) else None
    values = _metric_values(y_test, y_pred, score, str(classes[-1]), metrics if keep else metrics[:1])
    return {**values, "y_pred": y_pred, "score": score} if keep else values


def inner_scores(
    X: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    inner: Folds,
    order: int,
    lag: int,
    estimator: str,
    svm: tuple[SVMSetting, ...],
    mdm: bool,
    metrics: tuple[str, ...],
) -> dict[str, Any]:
    """Inner-CV scores of every head setting for one outer training fold and one (order, lag).

    Parameters
    ----------
    X : ndarray, shape (n_trials, C, T)
        All epochs (``Plan.data``).
    y : ndarray of str, shape (n_trials,)
        All labels.
    train : ndarray of int
        The outer training trials.
    inner : list of (train, test)
        Inner folds, as positions within ``train``.
    order, lag : int
        The ACM setting.
    estimator : str
        Covariance estimator.
    svm : tuple of (C, kernel)
        SVM settings to score (empty: no SVM head).
    mdm : bool
        Whether to score the MDM head.
    metrics : tuple of str
        Metrics of the evaluation; the first is the selection score.

    Returns
    -------
    dict
        ``order``, ``lag``, ``svm`` (n_inner, len(svm)) and ``mdm`` (n_inner,) scores, ``condition`` (largest
        condition number), ``karcher`` (means, unconverged, worst_gradient), ``seconds`` (``shared``, ``svm``,
        ``mdm``).
    """
    start = time.perf_counter()
    covs, condition = _covariances(X[train], order, lag, estimator)
    labels = y[train]
    seconds = {"shared": time.perf_counter() - start, "svm": 0.0, "mdm": 0.0}
    log = _MeanLog()
    svm_scores = np.full((len(inner), len(svm)), np.nan)
    mdm_scores = np.full(len(inner), np.nan)
    p = covs.shape[1]
    values, vectors = np.empty((len(covs), p)), np.empty((len(covs), p, p))
    mean: KarcherMean | None = None
    for i, (tr, te) in enumerate(inner):
        clock = time.perf_counter()
        if svm or mdm:
            if mean is None:
                mean = _karcher(covs[tr], log)
            else:
                known = WhitenedLogs(values[tr], vectors[tr])
                mean = _karcher(covs[tr], log, init=mean.mean, init_logs=known, known_noise=mean.gradient_noise)
            tested = whitened_logs(covs[te], mean.mean)
            values[tr], vectors[tr] = mean.eigen.values, mean.eigen.vectors
            values[te], vectors[te] = tested.values, tested.vectors
        if svm:
            f_train, f_test = tangent_vectors(mean.logs), tangent_vectors(tested.matrices())
            kernels = _svm_kernels(f_train, f_test, {kernel for _, kernel in svm})
            for h, (C, kernel) in enumerate(svm):
                scored = _svm_outputs(kernels[kernel], labels[tr], C, metrics, labels[te], keep=False)
                svm_scores[i, h] = scored[metrics[0]]
        between = time.perf_counter()
        seconds["svm"] += between - clock
        if mdm:
            means = _class_means(covs[tr], labels[tr], mean, log)
            scored = _mdm_outputs(_squared_distances(covs[te], means), list(means), labels[te], metrics, keep=False)
            mdm_scores[i] = scored[metrics[0]]
            seconds["mdm"] += time.perf_counter() - between
    return {
        "order": order,
        "lag": lag,
        "svm": svm_scores,
        "mdm": mdm_scores,
        "condition": condition,
        "karcher": log.report(),
        "seconds": seconds,
    }


def takens_scores(
    X: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    inner: Folds,
    estimator: str,
    svm: tuple[SVMSetting, ...],
    mdm: bool,
    metrics: tuple[str, ...],
    max_order: int,
    max_lag: int,
    seed: int,
) -> dict[str, Any]:
    """(order, lag) by the Takens criteria on one outer training fold, then the heads' inner scores there.

    Returns the :func:`inner_scores` dict plus ``selection`` (:class:`~covwb.eeg.takens.TakensSelection`).
    """
    from covwb.eeg.takens import select_order_lag

    start = time.perf_counter()
    selection = select_order_lag(
        X[train], max_lag=max_lag, max_order=max_order, seed=seed, full_rank=estimator == "sample"
    )
    elapsed = time.perf_counter() - start
    scores = inner_scores(X, y, train, inner, selection.order, selection.lag, estimator, svm, mdm, metrics)
    scores["seconds"]["shared"] += elapsed
    return {**scores, "selection": selection}


def refit(
    X: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    order: int,
    lag: int,
    estimator: str,
    head: SVMSetting | None,
    metrics: tuple[str, ...],
) -> dict[str, Any]:
    """A chosen setting refitted on a whole outer training fold and scored on its test fold.

    ``head`` is the SVM's (C, kernel), or None for MDM. Returns the metric values, ``y_pred``, ``score``
    (positive-class decision value, two classes), ``order``, ``lag``, ``condition``, ``karcher`` and ``seconds``.
    """
    start = time.perf_counter()
    covs, condition = _covariances(X[np.concatenate([train, test])], order, lag, estimator)
    fit, held = covs[: len(train)], covs[len(train) :]
    log = _MeanLog()
    if head is not None:
        mean = _karcher(fit, log)
        f_test = tangent_vectors(whitened_logs(held, mean.mean).matrices())
        kernel = _svm_kernels(tangent_vectors(mean.logs), f_test, {head[1]})[head[1]]
        out = _svm_outputs(kernel, y[train], head[0], metrics, y[test], keep=True)
    else:
        means = _class_means(fit, y[train], None, log)
        out = _mdm_outputs(_squared_distances(held, means), list(means), y[test], metrics, keep=True)
    return {
        **out,
        "order": order,
        "lag": lag,
        "condition": condition,
        "karcher": log.report(),
        "seconds": time.perf_counter() - start,
    }


def fixed_pipeline(
    X: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    key: str,
    estimator: str,
    metrics: tuple[str, ...],
    seed: int,
) -> dict[str, Any]:
    """A pipeline without a search (:func:`~covwb.eeg.pipelines.build_pipeline`) fitted on one outer fold.

    Returns the metric values (scikit-learn's scorers), ``y_pred``, ``score``, ``seconds``, ``warnings``
    (the distinct messages of the warnings its libraries raised, for example pyRiemann's mean not converging)
    and the largest ``condition`` number of the training covariances (``order`` 1, ``lag`` 1).
    """
    from sklearn.metrics import get_scorer

    from covwb.eeg.pipelines import build_pipeline

    start = time.perf_counter()
    _, condition = _covariances(X[train], 1, 1, estimator)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = build_pipeline(key, estimator=estimator, seed=seed).fit(X[train], y[train])
        except SPDInputError as error:
            raise ParameterError(f"{key}: {error}") from error
        out: dict[str, Any] = {m: float(get_scorer(m)(model, X[test], y[test])) for m in metrics}
        out["y_pred"] = np.asarray(model.predict(X[test])).astype(str)
        if _binary(metrics):
            if hasattr(model, "decision_function"):
                out["score"] = np.asarray(model.decision_function(X[test]), dtype=np.float64)
            else:
                out["score"] = np.asarray(model.predict_proba(X[test]), dtype=np.float64)[:, 1]
        else:
            out["score"] = None
    messages = tuple(dict.fromkeys(str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)))
    return {
        **out,
        "order": 1,
        "lag": 1,
        "condition": condition,
        "seconds": time.perf_counter() - start,
        "warnings": messages,
    }
