"""The ACM search classifiers: scikit-learn's estimator checks, GridSearchCV as the oracle, MOABB as a host."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from covwb.datasets.simulated_eeg import CLASSES, simulate_motor_imagery
from covwb.eeg.augmented import AugmentedCovariances, augment
from covwb.eeg.classifiers import EXPECTED_FAILED_CHECKS, NestedACMClassifier, TakensACMClassifier
from covwb.eeg.epochs import extract_epochs
from covwb.eeg.takens import TakensAugmentedCovariances, select_order_lag
from covwb.errors import ParameterError

SMALL = {"orders": (1, 3), "lags": (1, 3), "svm_C": (1.0,), "kernels": ("linear", "rbf")}


class Stack(TransformerMixin, BaseEstimator):
    """MOABB's AugmentedDataset: the straightforward side of the oracle."""

    def __init__(self, order: int = 1, lag: int = 1) -> None:
        self.order = order
        self.lag = lag

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> Stack:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return augment(X, self.order, self.lag)


@pytest.fixture(scope="module")
def epochs() -> tuple[np.ndarray, np.ndarray]:
    """30 one-second epochs of 6 channels from the simulated recording."""
    raw = simulate_motor_imagery(seed=3, n_trials_per_class=15, n_sessions=1).raw
    ep = extract_epochs(raw, classes=list(CLASSES), tmin=0.5, tmax=1.5, picks=["FC3", "C3", "CP3", "FC4", "C4", "CP4"])
    return ep.X, ep.y


@parametrize_with_checks(
    [
        AugmentedCovariances(order=2, lag=1),
        TakensAugmentedCovariances(max_order=3, max_lag=5),
        NestedACMClassifier(orders=(1, 2), lags=(1,), svm_C=(1.0,), kernels=("linear",)),
        TakensACMClassifier(max_order=3, max_lag=5),
    ],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_scikit_learn_estimator_checks(estimator: BaseEstimator, check: object) -> None:
    check(estimator)


def test_nested_search_equals_gridsearchcv(epochs: tuple[np.ndarray, np.ndarray]) -> None:
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    X, y = epochs
    test = np.arange(1, 30, 3)
    train = np.setdiff1d(np.arange(30), test)
    model = NestedACMClassifier(estimator="sample", **SMALL).fit(X[train], y[train])
    pipeline = Pipeline([("acm", Stack()), ("cov", Covariances("cov")), ("ts", TangentSpace()), ("svc", SVC())])
    params = {"acm__order": [1, 3], "acm__lag": [1, 3], "svc__C": [1.0], "svc__kernel": ["linear", "rbf"]}
    search = GridSearchCV(
        pipeline, params, cv=StratifiedKFold(3, shuffle=True, random_state=42), scoring="roc_auc"
    ).fit(X[train], y[train])
    np.testing.assert_allclose(model.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"], atol=1e-9)
    for k in range(3):
        np.testing.assert_allclose(
            model.cv_results_[f"split{k}_test_score"], search.cv_results_[f"split{k}_test_score"], atol=1e-9
        )
    renamed = {"order": "acm__order", "lag": "acm__lag", "C": "svc__C", "kernel": "svc__kernel"}
    assert [{renamed[k]: v for k, v in p.items()} for p in model.cv_results_["params"]] == search.cv_results_["params"]
    assert list(model.cv_results_["rank_test_score"]) == list(search.cv_results_["rank_test_score"])
    assert {renamed[k]: v for k, v in model.best_params_.items()} == search.best_params_
    assert model.best_score_ == pytest.approx(search.best_score_, abs=1e-9)
    np.testing.assert_allclose(model.decision_function(X[test]), search.decision_function(X[test]), atol=1e-6)
    assert list(model.predict(X[test])) == list(search.predict(X[test]))
    assert not hasattr(model, "predict_proba")


def test_mdm_head_equals_gridsearchcv_and_gives_probabilities(epochs: tuple[np.ndarray, np.ndarray]) -> None:
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    X, y = epochs
    model = NestedACMClassifier(head="mdm", estimator="sample", orders=(1, 2), lags=(2, 4)).fit(X, y)
    pipeline = Pipeline([("acm", Stack()), ("cov", Covariances("cov")), ("mdm", MDM())])
    search = GridSearchCV(
        pipeline,
        {"acm__order": [1, 2], "acm__lag": [2, 4]},
        cv=StratifiedKFold(3, shuffle=True, random_state=42),
        scoring="roc_auc",
    ).fit(X, y)
    np.testing.assert_allclose(model.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"], atol=1e-9)
    assert model.best_params_ == {"order": search.best_params_["acm__order"], "lag": search.best_params_["acm__lag"]}
    np.testing.assert_allclose(model.predict_proba(X[:5]), search.predict_proba(X[:5]), atol=1e-6)
    assert not hasattr(model, "decision_function")


def test_labels_keep_their_type_and_order(epochs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = epochs
    numbers = np.where(y == "left_hand", 10, 2)
    model = NestedACMClassifier(orders=(1,), lags=(1,), svm_C=(1.0,), kernels=("linear",)).fit(X, numbers)
    assert list(model.classes_) == [2, 10] and set(model.predict(X)) <= {2, 10}
    text = NestedACMClassifier(orders=(1,), lags=(1,), svm_C=(1.0,), kernels=("linear",)).fit(X, y)
    # the positive class of the inner ROC-AUC is the last of the sorted labels in both cases
    flipped = np.where(y == "left_hand", "z", "a")
    other = NestedACMClassifier(orders=(1,), lags=(1,), svm_C=(1.0,), kernels=("linear",)).fit(X, flipped)
    np.testing.assert_allclose(other.cv_results_["mean_test_score"], text.cv_results_["mean_test_score"])
    with pytest.raises(ParameterError, match="epochs of shape"):
        model.predict(X[0])


def test_takens_classifier_selects_on_the_training_epochs(epochs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = epochs
    model = TakensACMClassifier(max_order=4, max_lag=10, svm_C=(0.5, 1.0), kernels=("linear",)).fit(X, y)
    reference = select_order_lag(X, max_order=4, max_lag=10, seed=42)
    assert (model.selection_.order, model.selection_.lag) == (reference.order, reference.lag)
    assert [p["C"] for p in model.cv_results_["params"]] == [0.5, 1.0]
    assert {p["order"] for p in model.cv_results_["params"]} == {reference.order}
    assert model.best_estimator_.named_steps["cov"].get_params()["order"] == reference.order
    assert clone(model).get_params() == model.get_params()


def test_moabb_within_session_evaluation_of_the_nested_classifier(tmp_path: object) -> None:
    import mne
    from moabb.datasets.fake import FakeDataset
    from moabb.evaluations import WithinSessionEvaluation
    from moabb.paradigms import LeftRightImagery

    mne.set_log_level("ERROR")
    dataset = FakeDataset(
        event_list=("left_hand", "right_hand"),
        n_sessions=1,
        n_runs=1,
        n_subjects=2,
        channels=("C3", "Cz", "C4"),
        sfreq=128,
        duration=60,
        n_events=20,
        seed=12,
    )
    evaluation = WithinSessionEvaluation(
        paradigm=LeftRightImagery(fmin=8, fmax=32),
        datasets=[dataset],
        overwrite=True,
        hdf5_path=str(tmp_path),
        random_state=42,
    )
    model = NestedACMClassifier(orders=(1, 2), lags=(2, 4), svm_C=(1.0,), kernels=("linear",))
    results = evaluation.process({"ACM + TS + SVM (nested)": model})
    assert list(results.columns) == [
        "score",
        "time",
        "samples",
        "samples_test",
        "n_classes",
        "subject",
        "session",
        "channels",
        "n_sessions",
        "dataset",
        "pipeline",
    ]
    assert len(results) == 2 and set(results["pipeline"]) == {"ACM + TS + SVM (nested)"}
    assert results["score"].between(0.0, 1.0).all() and (results["channels"] == 3).all()
