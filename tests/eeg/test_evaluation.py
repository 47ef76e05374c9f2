"""Folds, the fast nested grid search against GridSearchCV, and the evaluation's checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import get_scorer

from covwb.datasets.simulated_eeg import CLASSES, simulate_motor_imagery
from covwb.eeg.augmented import augment
from covwb.eeg.epochs import extract_epochs
from covwb.eeg.evaluation import (
    SearchGrid,
    class_means,
    evaluate,
    fast_grid_search,
    make_folds,
    most_chosen_order_lag,
    tangent_embedding,
)
from covwb.eeg.events import find_trial_events, trial_sessions
from covwb.errors import ParameterError


class Stack(TransformerMixin, BaseEstimator):
    """The straightforward way: stack the signal in the pipeline, as MOABB does."""

    def __init__(self, order: int = 1, lag: int = 1) -> None:
        self.order = order
        self.lag = lag

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> Stack:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return augment(X, self.order, self.lag)


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray]:
    """30 one-second epochs of 6 channels from the simulated recording."""
    raw = simulate_motor_imagery(seed=3, n_trials_per_class=15, n_sessions=1).raw
    ep = extract_epochs(raw, classes=list(CLASSES), tmin=0.5, tmax=1.5, picks=["FC3", "C3", "CP3", "FC4", "C4", "CP4"])
    return ep.X, ep.y


@pytest.fixture(scope="module")
def builtin() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The built-in recording's 160 epochs (0.5-2.5 s, 8-35 Hz) with their sessions."""
    raw = simulate_motor_imagery(seed=0).raw
    events = find_trial_events(raw)
    ep = extract_epochs(raw, classes=list(CLASSES), tmin=0.5, tmax=2.5, events=events)
    return ep.X, ep.y, trial_sessions(raw, events)


def test_fast_grid_equals_gridsearchcv_per_fold(small: tuple[np.ndarray, np.ndarray]) -> None:
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    X, y = small
    grid = SearchGrid(orders=(1, 3), lags=(1, 3), svm_C=(1.0,), kernels=("linear", "rbf"))
    outer = make_folds(y, np.full(len(y), "1"), "within", 3, 42)
    fast, scores = fast_grid_search(
        X, y, outer, head="svm", orders=grid.orders, lags=grid.lags, grid=grid, estimator="sample"
    )
    assert scores.shape == (2, 2)
    pipeline = Pipeline([("acm", Stack()), ("cov", Covariances("cov")), ("ts", TangentSpace()), ("svc", SVC())])
    params = {"acm__order": [1, 3], "acm__lag": [1, 3], "svc__C": [1.0], "svc__kernel": ["linear", "rbf"]}
    for (train, test), got in zip(outer, fast):
        search = GridSearchCV(
            pipeline, params, cv=StratifiedKFold(3, shuffle=True, random_state=42), scoring="roc_auc"
        ).fit(X[train], y[train])
        best = search.best_params_
        assert (got["order"], got["lag"], got["C"], got["kernel"]) == (
            best["acm__order"],
            best["acm__lag"],
            best["svc__C"],
            best["svc__kernel"],
        )
        assert got["roc_auc"] == pytest.approx(get_scorer("roc_auc")(search, X[test], y[test]), abs=1e-9)


def test_fast_grid_mdm_head_equals_pipeline(small: tuple[np.ndarray, np.ndarray]) -> None:
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from sklearn.pipeline import make_pipeline

    X, y = small
    outer = make_folds(y, np.full(len(y), "1"), "within", 3, 0)
    fast, _ = fast_grid_search(X, y, outer, head="mdm", orders=(2,), lags=(4,), grid=SearchGrid(), estimator="sample")
    for (train, test), got in zip(outer, fast):
        model = make_pipeline(Stack(2, 4), Covariances("cov"), MDM()).fit(X[train], y[train])
        assert got["roc_auc"] == pytest.approx(get_scorer("roc_auc")(model, X[test], y[test]), abs=1e-9)


def test_within_session_folds_stratify_each_session() -> None:
    y = np.array(["a", "b"] * 20)
    sessions = np.repeat(["1", "2"], 20)
    folds = make_folds(y, sessions, "within", 5, 1)
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(40))
    for _, test in folds:
        assert np.sum(sessions[test] == "1") == 4 and np.sum(y[test] == "a") == 4


def test_cross_session_folds_leave_one_session_out() -> None:
    y = np.array(["a", "b"] * 12)
    sessions = np.repeat(["x", "y", "z"], 8)
    folds = make_folds(y, sessions, "cross")
    assert [sorted(set(sessions[test])) for _, test in folds] == [["x"], ["y"], ["z"]]
    with pytest.raises(ParameterError, match="two sessions"):
        make_folds(y, np.full(24, "1"), "cross")


def test_builtin_recording_reaches_auc_0_9(builtin: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, y, sessions = builtin
    grid = SearchGrid(orders=(1, 3), lags=(5,), svm_C=(0.5, 1.0, 1.5), kernels=("linear", "rbf"))
    result = evaluate(X, y, sessions, ["acm_ts_svm", "ts_svm", "csp_lda"], n_folds=3, grid=grid, inner_folds=2)
    means = dict(zip(result.summary["pipeline"], result.summary["roc_auc_mean"]))
    assert means["ACM + TS + SVM"] >= 0.9
    assert means["TS + SVM"] >= 0.9
    assert result.grid_scores["ACM + TS + SVM"].shape == (2, 1)
    assert len(result.scores) == 9
    predictions = result.predictions["TS + SVM"]
    assert sorted(predictions["trial"]) == list(range(len(y)))
    assert most_chosen_order_lag(result.scores) in {(1, 5), (3, 5)}


def test_takens_selection_is_made_on_each_training_fold(small: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = small
    result = evaluate(
        X, y, np.full(len(y), "1"), ["acm_mdm"], n_folds=2, selection="takens", inner_folds=2, max_lag=10, max_order=4
    )
    selections = result.takens["ACM + MDM"]
    assert len(selections) == 2
    assert list(result.scores["order"]) == [s.order for s in selections]
    assert list(result.scores["lag"]) == [s.lag for s in selections]


def test_three_classes_report_accuracy_and_balanced_accuracy() -> None:
    rng = np.random.default_rng(0)
    scales = np.array([1.0, 2.0, 4.0])
    y = np.repeat(["a", "b", "c"], 8)
    X = (
        rng.standard_normal((24, 3, 60))
        * scales[np.repeat([0, 1, 2], 8)][:, None, None] ** np.array([1, 0, 0])[None, :, None]
    )
    result = evaluate(X, y, np.full(24, "1"), ["mdm"], n_folds=2, inner_folds=2)
    assert result.metrics == ("accuracy", "balanced_accuracy")
    assert result.summary["accuracy_mean"].iloc[0] > 0.6


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("one_class", "one class"),
        ("few_trials", "at least 5 per class"),
        ("short", "too short"),
        ("channels", "channels but only 5 samples, so their sample covariances"),
        ("rows", "keeps 11 samples for 12 rows; choose the OAS estimator"),
        ("nan", "NaN"),
        ("kernel", "unknown SVM kernel\\(s\\) 'poly'"),
        ("no_pipeline", "no pipeline"),
    ],
)
def test_bad_input_is_a_parameter_error(small: tuple[np.ndarray, np.ndarray], change: str, words: str) -> None:
    X, y = small[0].copy(), small[1].copy()
    sessions = np.full(len(y), "1")
    pipelines = ["acm_ts_svm"]
    grid = SearchGrid(orders=(1, 2), lags=(2,), svm_C=(1.0,), kernels=("linear",))
    if change == "one_class":
        y[:] = "left_hand"
    elif change == "few_trials":
        keep = np.concatenate([np.flatnonzero(y == "left_hand")[:3], np.flatnonzero(y == "right_hand")])
        X, y, sessions = X[keep], y[keep], sessions[keep]
    elif change == "short":
        grid = SearchGrid(orders=(1, 10), lags=(30,), svm_C=(1.0,), kernels=("linear",))
    elif change == "channels":
        X = X[:, :, :5]
    elif change == "rows":
        grid = SearchGrid(orders=(1, 2), lags=(120,), svm_C=(1.0,), kernels=("linear",))
    elif change == "nan":
        X[3, 1, 7] = np.nan
    elif change == "kernel":
        grid = SearchGrid(orders=(1, 2), lags=(2,), svm_C=(1.0,), kernels=("linear", "poly"))
    else:
        pipelines = []
    with pytest.raises(ParameterError, match=words):
        evaluate(X, y, sessions, pipelines, n_folds=5, grid=grid, inner_folds=2, estimator="sample")


def test_class_means_and_embedding(small: tuple[np.ndarray, np.ndarray]) -> None:
    from pyriemann.geometry.mean import mean_riemann

    from covwb.eeg.augmented import augmented_covariances

    X, y = small
    covs = augmented_covariances(X, 2, 3)
    means = class_means(covs, y)
    assert list(means) == ["left_hand", "right_hand"]
    np.testing.assert_allclose(means["left_hand"], mean_riemann(covs[y == "left_hand"]), rtol=1e-6)
    coords, explained = tangent_embedding(covs)
    assert coords.shape == (len(y), 2)
    assert 0 < explained[1] <= explained[0] <= 1
