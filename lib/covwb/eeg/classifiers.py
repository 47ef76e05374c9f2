"""Scikit-learn classifiers of EEG epochs that choose the ACM order and lag themselves.

* :class:`NestedACMClassifier`: the order x lag (x SVM) grid search of the ACM paper as one estimator. ``fit``
  runs the fast inner cross-validation of :func:`covwb.eeg.evaluation.plan_search` (the same scores as
  ``GridSearchCV`` over ``AugmentedCovariances -> TangentSpace -> SVC``, or ``MDM``) and refits the winner on all
  of ``X``, as ``GridSearchCV(refit=True)``; it exposes ``best_params_``, ``best_score_``, ``cv_results_``
  and ``best_estimator_``. Evaluated inside an outer cross-validation (scikit-learn's ``cross_val_score``,
  MOABB's ``WithinSessionEvaluation``), it is the paper's nested search.
* :class:`TakensACMClassifier`: (order, lag) from the Takens criteria of :mod:`covwb.eeg.takens` on the training
  epochs, then the same search over the SVM settings only.

Both take epochs of shape (n_trials, n_channels, n_times), so scikit-learn's generic estimator checks, which
feed tables of shape (n_samples, n_features), apply only to their API (cloning, parameters, fitted
attributes); :data:`EXPECTED_FAILED_CHECKS` lists the checks that cannot apply and why. The covariance
estimator is OAS by default (:data:`covwb.eeg.augmented.DEFAULT_ESTIMATOR`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from covwb.eeg.augmented import DEFAULT_ESTIMATOR
from covwb.errors import ParameterError

_TABLES = "feeds 2-D tables; these estimators take 3-D epochs (n_trials, n_channels, n_times) and refuse the rest"
EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_classifier_data_not_an_array": _TABLES,
    "check_classifiers_classes": _TABLES,
    "check_classifiers_one_label": _TABLES,
    "check_classifiers_regression_target": _TABLES,
    "check_classifiers_train": _TABLES,
    "check_complex_data": _TABLES,
    "check_dict_unchanged": _TABLES,
    "check_dont_overwrite_parameters": _TABLES,
    "check_dtype_object": _TABLES,
    "check_estimators_dtypes": _TABLES,
    "check_estimators_empty_data_messages": _TABLES,
    "check_estimators_fit_returns_self": _TABLES,
    "check_estimators_nan_inf": _TABLES,
    "check_estimators_overwrite_params": _TABLES,
    "check_estimators_pickle": _TABLES,
    "check_f_contiguous_array_estimator": _TABLES,
    "check_fit2d_1feature": _TABLES,
    "check_fit2d_1sample": _TABLES,
    "check_fit2d_predict1d": _TABLES,
    "check_fit_check_is_fitted": _TABLES,
    "check_fit_idempotent": _TABLES,
    "check_fit_score_takes_y": _TABLES,
    "check_methods_sample_order_invariance": _TABLES,
    "check_methods_subset_invariance": _TABLES,
    "check_n_features_in": _TABLES,
    "check_n_features_in_after_fitting": _TABLES,
    "check_pipeline_consistency": _TABLES,
    "check_positive_only_tag_during_fit": _TABLES,
    "check_readonly_memmap_input": _TABLES,
    "check_requires_y_none": _TABLES,
    "check_supervised_y_2d": _TABLES,
    "check_transformer_data_not_an_array": _TABLES,
    "check_transformer_general": _TABLES,
    "check_transformer_preserve_dtypes": _TABLES,
}
"""scikit-learn estimator checks that cannot apply to estimators of 3-D epochs, with the reason."""


def _epochs(X: Any) -> np.ndarray:
    """Epochs as finite float64 (n_trials, n_channels, n_times); ParameterError otherwise."""
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise ParameterError("sparse input is not supported; pass epochs as a dense array.")
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise ParameterError(f"the epochs must hold real numbers, got values of type {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 3 or 0 in arr.shape:
        raise ParameterError(
            f"expected epochs of shape (n_trials, n_channels, n_times), got shape {arr.shape}; epoch the signal first."
        )
    if not np.isfinite(arr).all():
        raise ParameterError("the epochs hold NaN or infinite samples; repair the recording first.")
    return arr


class _SearchedACM(ClassifierMixin, BaseEstimator):
    """Fit, predict and the fitted attributes shared by the ACM search classifiers."""

    head: str
    estimator: str
    inner_folds: int
    seed: int
    n_jobs: int
    svm_C: tuple[float, ...]
    kernels: tuple[str, ...]

    def _grid(self) -> Any:
        raise NotImplementedError

    def _selection(self) -> tuple[str, dict[str, int]]:
        raise NotImplementedError

    def fit(self, X: np.ndarray, y: np.ndarray) -> _SearchedACM:
        """Search on the inner folds of ``(X, y)``, then refit the winner on all of it.

        Parameters
        ----------
        X : ndarray, shape (n_trials, n_channels, n_times)
            Training epochs.
        y : ndarray, shape (n_trials,)
            Labels (at least two classes, at least ``inner_folds`` trials each).

        Returns
        -------
        self
        """
        from covwb.eeg.evaluation import plan_search
        from covwb.eeg.pipelines import build_pipeline
        from covwb.jobs import run_plan

        arr = _epochs(X)
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(arr):
            raise ParameterError(f"got {len(arr)} epochs and labels of shape {labels.shape}; give one label each.")
        classes, codes = np.unique(labels, return_inverse=True)
        coded = np.char.zfill(codes.astype(str), len(str(len(classes))))
        selection, ranges = self._selection()
        found = run_plan(
            plan_search(
                arr,
                coded,
                head=self.head,
                grid=self._grid(),
                selection=selection,
                estimator=self.estimator,
                inner_folds=self.inner_folds,
                seed=self.seed,
                **ranges,
            ),
            n_jobs=self.n_jobs,
        )
        self.cv_results_ = _cv_results(found.params, found.split_scores)
        self.best_index_ = found.best_index
        self.best_params_ = dict(found.params[found.best_index])
        self.best_score_ = float(found.mean_scores[found.best_index])
        self.warnings_ = found.warnings
        if found.selection is not None:
            self.selection_ = found.selection
        best = self.best_params_
        self.best_estimator_ = build_pipeline(
            "acm_ts_svm" if self.head == "svm" else "acm_mdm",
            order=best["order"],
            lag=best["lag"],
            estimator=self.estimator,
            svm_C=best.get("C", 1.0),
            kernel=best.get("kernel", "linear"),
        ).fit(arr, labels)
        self.classes_ = self.best_estimator_.classes_
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class of each epoch (n_trials, n_channels, n_times), shape (n_trials,)."""
        check_is_fitted(self)
        return self.best_estimator_.predict(_epochs(X))

    def _has_decision(self) -> bool:
        return self.head == "svm"

    @available_if(_has_decision)
    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """SVM decision values (SVM head), shape (n_trials,) for two classes, else (n_trials, n_classes)."""
        check_is_fitted(self)
        return self.best_estimator_.decision_function(_epochs(X))

    def _has_proba(self) -> bool:
        return self.head == "mdm"

    @available_if(_has_proba)
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """pyRiemann MDM's softmax of minus the squared distances to the class means (MDM head), (n_trials, n_classes)."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(_epochs(X))


def _cv_results(params: list[dict[str, Any]], split_scores: np.ndarray) -> dict[str, Any]:
    """``GridSearchCV.cv_results_``'s test-score part: params, param_<name>, split<k>_test_score, mean, std, rank."""
    from scipy.stats import rankdata

    means = split_scores.mean(axis=1)
    results: dict[str, Any] = {"params": [dict(p) for p in params]}
    for name in params[0]:
        results[f"param_{name}"] = np.ma.MaskedArray([p[name] for p in params], mask=False, dtype=object)
    for k in range(split_scores.shape[1]):
        results[f"split{k}_test_score"] = split_scores[:, k]
    results["mean_test_score"] = means
    results["std_test_score"] = split_scores.std(axis=1)
    results["rank_test_score"] = rankdata(-means, method="min").astype(np.int32)
    return results


class NestedACMClassifier(_SearchedACM):
    """ACM + tangent space + SVM (or ACM + MDM) whose order, lag and SVM settings are chosen by inner CV in ``fit``.

    Parameters
    ----------
    head : {"svm", "mdm"}
        ``TangentSpace(riemann) -> SVC`` or ``MDM(riemann)`` after the ACM.
    orders, lags : tuple of int
        Candidate orders and lags (samples).
    svm_C : tuple of float
        Candidate SVM regularisations (SVM head).
    kernels : tuple of str
        Candidate SVM kernels (SVM head).
    estimator : str
        Covariance estimator (OAS by default).
    inner_folds : int
        ``StratifiedKFold(inner_folds, shuffle=True, random_state=seed)`` of the search.
    seed : int
        Seed of the inner shuffle.
    n_jobs : int
        Processes of the search (one task per (order, lag)).

    Attributes
    ----------
    best_params_ : dict
        ``order``, ``lag`` and, for the SVM head, ``C`` and ``kernel`` of the winner.
    best_score_ : float
        Its mean inner score (ROC-AUC for two classes, else accuracy).
    best_index_ : int
        Its row in ``cv_results_``.
    cv_results_ : dict
        ``GridSearchCV``-like: ``params``, ``param_order``, ``param_lag`` (``param_C``, ``param_kernel``),
        ``split<k>_test_score``, ``mean_test_score``, ``std_test_score``, ``rank_test_score``; candidates in the
        order of ``GridSearchCV`` over ``acm__lag``, ``acm__order``, ``svc__C``, ``svc__kernel``.
    best_estimator_ : sklearn.pipeline.Pipeline
        The winner refitted on all training epochs (:func:`covwb.eeg.pipelines.build_pipeline`).
    classes_ : ndarray
        Class labels.
    warnings_ : tuple of str
        Ill-conditioned matrices or unconverged means met during the search, with what to do.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((24, 3, 80)), np.repeat(["rest", "move"], 12)
    >>> X[12:, 0, 2:] += 0.8 * X[12:, 1, :-2]
    >>> model = NestedACMClassifier(orders=(1, 2), lags=(2,), svm_C=(1.0,), kernels=("linear",)).fit(X, y)
    >>> sorted(model.best_params_), model.cv_results_["mean_test_score"].shape
    (['C', 'kernel', 'lag', 'order'], (2,))
    >>> model.predict(X[:2]).shape, model.decision_function(X[:2]).shape
    ((2,), (2,))
    """

    def __init__(
        self,
        head: str = "svm",
        orders: tuple[int, ...] = (1, 2, 3, 4),
        lags: tuple[int, ...] = (1, 2, 3, 4, 5),
        svm_C: tuple[float, ...] = (0.5, 1.0, 1.5),
        kernels: tuple[str, ...] = ("linear", "rbf"),
        estimator: str = DEFAULT_ESTIMATOR,
        inner_folds: int = 3,
        seed: int = 42,
        n_jobs: int = 1,
    ) -> None:
        self.head = head
        self.orders = orders
        self.lags = lags
        self.svm_C = svm_C
        self.kernels = kernels
        self.estimator = estimator
        self.inner_folds = inner_folds
        self.seed = seed
        self.n_jobs = n_jobs

    def _grid(self) -> Any:
        from covwb.eeg.evaluation import SearchGrid

        return SearchGrid(tuple(self.orders), tuple(self.lags), tuple(self.svm_C), tuple(self.kernels))

    def _selection(self) -> tuple[str, dict[str, int]]:
        return "grid", {}


class TakensACMClassifier(_SearchedACM):
    """ACM classifier whose order and lag come from the Takens criteria (AMI and Cao's E1) on the training epochs.

    The SVM settings are then chosen by inner cross-validation at that (order, lag).

    Parameters
    ----------
    head : {"svm", "mdm"}
        ``TangentSpace(riemann) -> SVC`` or ``MDM(riemann)`` after the ACM.
    max_order, max_lag : int
        Ranges of :func:`covwb.eeg.takens.select_order_lag`.
    svm_C, kernels, estimator, inner_folds, seed, n_jobs
        As :class:`NestedACMClassifier`.

    Attributes
    ----------
    selection_ : TakensSelection
        The curves and the chosen order and lag.
    best_params_, best_score_, best_index_, cv_results_, best_estimator_, classes_, warnings_
        As :class:`NestedACMClassifier` (candidates: the SVM settings at the chosen order and lag).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X, y = rng.standard_normal((24, 2, 200)), np.repeat([0, 1], 12)
    >>> X[12:, 0] *= 2
    >>> model = TakensACMClassifier(head="mdm", max_order=4, max_lag=10).fit(X, y)
    >>> model.best_params_ == {"order": model.selection_.order, "lag": model.selection_.lag}
    True
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        head: str = "svm",
        max_order: int = 10,
        max_lag: int = 30,
        svm_C: tuple[float, ...] = (0.5, 1.0, 1.5),
        kernels: tuple[str, ...] = ("linear", "rbf"),
        estimator: str = DEFAULT_ESTIMATOR,
        inner_folds: int = 3,
        seed: int = 42,
        n_jobs: int = 1,
    ) -> None:
        self.head = head
        self.max_order = max_order
        self.max_lag = max_lag
        self.svm_C = svm_C
        self.kernels = kernels
        self.estimator = estimator
        self.inner_folds = inner_folds
        self.seed = seed
        self.n_jobs = n_jobs

    def _grid(self) -> Any:
        from covwb.eeg.evaluation import SearchGrid

        return SearchGrid((1,), (1,), tuple(self.svm_C), tuple(self.kernels))

    def _selection(self) -> tuple[str, dict[str, int]]:
        return "takens", {"max_order": int(self.max_order), "max_lag": int(self.max_lag)}
