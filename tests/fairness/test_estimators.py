"""The fair estimators: scikit-learn's checks, sensitive features in fit, the penalty's effect, routing."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from covwb.fairness.estimators import FairClassifier, FairPoissonRegressor, FairRegressor
from covwb.fairness.metrics import parity_gaps
from tests.fairness.tables import recidivism

FAIR = (FairClassifier(), FairRegressor(), FairPoissonRegressor())


@parametrize_with_checks(list(FAIR))
def test_scikit_learn_checks(estimator, check) -> None:
    """Every check passes: without sensitive features the models fit unpenalised (with a UserWarning),
    as fairlearn's AdversarialFairnessClassifier does, so no check is expected to fail."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*no sensitive_features given.*", category=UserWarning)
        check(estimator)


def _recidivism(n: int = 1500):
    frame = recidivism(n)
    X = frame[["age", "priors_count", "juv_fel_count", "juv_misd_count"]].to_numpy(dtype=float)
    X = np.c_[X, frame["c_charge_degree"] == "F"]
    return X, frame["two_year_recid"].to_numpy(), frame[["race", "sex"]]


def test_the_penalty_lowers_the_intersectional_gap_on_a_recidivism_table() -> None:
    X, y, sensitive = _recidivism()
    plain = FairClassifier(lam=0.0).fit(X, y, sensitive_features=sensitive)
    fair = FairClassifier(lam=30.0).fit(X, y, sensitive_features=sensitive)
    reference = LogisticRegression(C=np.inf, max_iter=1000).fit((X - plain.mean_) / plain.scale_, y)
    agreement = np.mean(plain.predict(X) == reference.predict((X - plain.mean_) / plain.scale_))
    assert agreement > 0.97
    from covwb.fairness.encoding import encode_protected

    cells = encode_protected(sensitive, ["race", "sex"])
    gap_plain = parity_gaps(plain.predict_proba(X)[:, 1], cells)["intersectional"]
    gap_fair = parity_gaps(fair.predict_proba(X)[:, 1], cells)["intersectional"]
    assert gap_fair < 0.5 * gap_plain
    assert fair.n_iter_ >= fair.best_epoch_ >= 1 and len(fair.history_) == fair.n_iter_
    assert any("race" in note for note in fair.sensitive_notes_)


@pytest.mark.parametrize("statistic", ["U", "V"])
@pytest.mark.parametrize("penalty", ["dcov", "jdcov", "ccdcov"])
def test_every_penalty_and_statistic_with_mixed_sensitive_features(penalty: str, statistic: str) -> None:
    rng = np.random.default_rng(0)
    n = 300
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "age": rng.uniform(18, 70, n)})
    X = np.c_[(sensitive["sex"] == "m") + 0.02 * sensitive["age"] + rng.standard_normal(n), rng.standard_normal(n)]
    y = X.sum(axis=1) + rng.standard_normal(n)
    kwargs = {"penalty": penalty, "statistic": statistic, "max_iter": 30}
    plain = FairRegressor(lam=0.0, **kwargs).fit(X, y, sensitive_features=sensitive)
    fair = FairRegressor(lam=30.0, **kwargs).fit(X, y, sensitive_features=sensitive)
    z = np.c_[sensitive["sex"] == "m", sensitive["age"]]
    assert abs(np.corrcoef(fair.predict(X), z[:, 0])[0, 1]) < abs(np.corrcoef(plain.predict(X), z[:, 0])[0, 1])


def test_poisson_without_penalty_matches_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    X = rng.standard_normal((n, 2))
    exposure = rng.uniform(0.1, 1.0, n)
    y = rng.poisson(exposure * np.exp(0.4 * X[:, 0] - 0.2 * X[:, 1] - 1.5))
    model = FairPoissonRegressor(lam=0.0, early_stopping=False, max_iter=300, batch_size=2000, learning_rate=0.05)
    model.fit(X, y, exposure=exposure)
    reference = PoissonRegressor(alpha=0.0).fit(X, y / exposure, sample_weight=exposure)
    assert np.allclose(model.predict(X), reference.predict(X), rtol=2e-2)
    assert np.allclose(model.predict(X, exposure=exposure), reference.predict(X) * exposure, rtol=2e-2)
    assert model.score(X, y / exposure) == pytest.approx(reference.score(X, y / exposure), abs=0.01)
    with pytest.raises(ValueError, match="exposure"):
        model.fit(X, y, exposure=np.zeros(n))
    with pytest.raises(ValueError, match="non-negative"):
        model.fit(X, -y)


def test_no_sensitive_features_is_a_warning_and_bad_parameters_are_errors() -> None:
    X, y, sensitive = _recidivism(300)
    with pytest.warns(UserWarning, match="without the ccdcov penalty"):
        FairClassifier(max_iter=5).fit(X, y)
    for params, words in (({"penalty": "gini"}, "penalty"), ({"statistic": "W"}, "statistic"), ({"lam": -1.0}, "lam")):
        with pytest.raises(ValueError, match=words):
            FairClassifier(max_iter=5, **params).fit(X, y, sensitive_features=sensitive)
    with pytest.raises(ValueError, match="rows"):
        FairClassifier(max_iter=5).fit(X, y, sensitive_features=sensitive.iloc[:10])
    with pytest.raises(ValueError, match="Only binary"):
        FairClassifier(max_iter=5).fit(X, np.arange(len(y)) % 3, sensitive_features=sensitive)


def test_string_labels_seeds_and_clones() -> None:
    X, y, sensitive = _recidivism(400)
    labels = np.where(y == 1, "yes", "no")
    model = FairClassifier(max_iter=10, random_state=3).fit(X, labels, sensitive_features=sensitive)
    assert list(model.classes_) == ["no", "yes"] and set(model.predict(X)) <= {"no", "yes"}
    again = clone(model).fit(X, labels, sensitive_features=sensitive)
    other = FairClassifier(max_iter=10, random_state=4).fit(X, labels, sensitive_features=sensitive)
    assert np.array_equal(model.predict_proba(X), again.predict_proba(X))
    assert not np.allclose(model.predict_proba(X), other.predict_proba(X))


def test_sensitive_features_are_routed_through_a_pipeline_and_cross_validation() -> None:
    X, y, sensitive = _recidivism(600)
    with sklearn.config_context(enable_metadata_routing=True):
        fair = FairClassifier(lam=10.0, max_iter=10).set_fit_request(sensitive_features=True)
        pipeline = make_pipeline(StandardScaler(), fair)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # the penalty must see the sensitive features
            scores = cross_validate(pipeline, X, y, cv=3, params={"sensitive_features": sensitive})
    assert scores["test_score"].shape == (3,) and (scores["test_score"] > 0.55).all()
