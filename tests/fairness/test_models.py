"""Penalised torch models: unpenalised fits match closed forms and sklearn, penalties lower dependence, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression, PoissonRegressor

from covwb.errors import ParameterError
from covwb.fairness.batch_penalty import PenaltyPlan
from covwb.fairness.calibration import predict_validation
from covwb.fairness.data import prepare_data
from covwb.fairness.distance_covariance import distance_correlation_sq
from covwb.fairness.models import TrainSettings, _backward, _loss, _output, build_network, train_model
from covwb.fairness.torch_penalties import penalty

FULL_BATCH = TrainSettings(epochs=400, batch_size=1000, lr=0.05, early_stopping=False)


def _train_rows_fit(data, settings: TrainSettings) -> np.ndarray:
    model = train_model(data, settings)
    return model.predict(data.X[data.train], data.exposure[data.train])


def test_unpenalised_linear_regression_is_least_squares(table: pd.DataFrame) -> None:
    data = prepare_data(
        table, target="wage", task="continuous", features=["proxy", "x1", "x2", "job"], protected=["gender"]
    )
    design = np.c_[np.ones(data.train.size), data.X[data.train]]
    coef, *_ = np.linalg.lstsq(design, data.y[data.train], rcond=None)
    assert np.allclose(_train_rows_fit(data, FULL_BATCH), design @ coef, atol=2e-3)


def test_unpenalised_logistic_regression_matches_sklearn(table: pd.DataFrame) -> None:
    data = prepare_data(table, target="hired", task="binary", features=["proxy", "x1", "x2"], protected=["gender"])
    reference = LogisticRegression(C=np.inf, max_iter=1000).fit(data.X[data.train], data.y[data.train])
    expected = reference.predict_proba(data.X[data.train])[:, 1]
    assert np.allclose(_train_rows_fit(data, FULL_BATCH), expected, atol=5e-3)


def test_poisson_with_exposure_matches_sklearn(table: pd.DataFrame) -> None:
    data = prepare_data(
        table, target="claims", task="counts", features=["proxy", "x1"], protected=["gender"], exposure="exposure"
    )
    rows = data.train
    rates = data.y[rows] / data.exposure[rows]
    reference = PoissonRegressor(alpha=0.0, max_iter=1000).fit(data.X[rows], rates, sample_weight=data.exposure[rows])
    expected = reference.predict(data.X[rows]) * data.exposure[rows]
    assert np.allclose(_train_rows_fit(data, FULL_BATCH), expected, rtol=2e-2)


@pytest.mark.parametrize(
    ("task", "target", "protected", "kind"),
    [
        ("continuous", "wage", ["gender", "region"], "ccdcov"),
        ("binary", "hired", ["gender", "age"], "jdcov"),
        ("counts", "claims", ["gender", "age"], "dcov"),
    ],
)
def test_a_step_back_propagates_the_gradient_of_loss_plus_penalty(
    table: pd.DataFrame, task: str, target: str, protected: list[str], kind: str
) -> None:
    data = prepare_data(
        table,
        target=target,
        task=task,
        features=["proxy", "x1", "x2"],
        protected=protected,
        exposure="exposure" if task == "counts" else None,
    )
    rows = data.train[:64]
    X, y, exposure = (torch.tensor(a[rows], dtype=torch.float64) for a in (data.X, data.y, data.exposure))
    plan = PenaltyPlan(kind, data.protected)
    network, reference = build_network(3, (8,), 0.0, 1), build_network(3, (8,), 0.0, 1)
    objective = _backward(task, network(X)[:, 0], y, exposure, plan, plan.constant(rows), 3.0)
    raw = reference(X)[:, 0]
    blocks = [torch.tensor(block[rows]) for block in data.protected.blocks]
    expected = _loss(task, raw, y, exposure) + 3.0 * penalty(kind, _output(task, raw, exposure), blocks)
    expected.backward()
    assert objective == pytest.approx(float(expected.detach()), rel=1e-10)
    for mine, theirs in zip(network.parameters(), reference.parameters()):
        assert torch.allclose(mine.grad, theirs.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("protected", "kind"),
    [
        (["gender", "region"], "ccdcov"),
        (["gender", "age"], "ccdcov"),
        (["gender", "region"], "jdcov"),
        (["gender"], "dcov"),
    ],
)
def test_a_strong_penalty_removes_the_dependence_on_the_protected_attributes(
    table: pd.DataFrame, protected: list[str], kind: str
) -> None:
    data = prepare_data(table, target="wage", task="continuous", features=["proxy", "x1", "x2"], protected=protected)
    base = TrainSettings(epochs=60, batch_size=128, lr=0.03, patience=60)
    z = data.protected.subset(data.validation).matrix
    plain = predict_validation(train_model(data, base), data)
    fair = predict_validation(train_model(data, TrainSettings(**{**base.__dict__, "penalty": kind, "lam": 50.0})), data)
    assert distance_correlation_sq(plain, z) > 0.1
    assert distance_correlation_sq(fair, z) < 0.5 * distance_correlation_sq(plain, z)


def test_seeds_make_runs_reproducible_and_an_mlp_trains(table: pd.DataFrame) -> None:
    data = prepare_data(
        table, target="hired", task="binary", features=["proxy", "x1", "x2"], protected=["gender", "region"]
    )
    settings = TrainSettings(penalty="ccdcov", lam=1.0, hidden=(8,), dropout=0.1, epochs=5, batch_size=64, seed=3)
    first, again = train_model(data, settings), train_model(data, settings)
    other = train_model(data, TrainSettings(**{**settings.__dict__, "seed": 4}))
    assert np.array_equal(predict_validation(first, data), predict_validation(again, data))
    assert not np.allclose(predict_validation(first, data), predict_validation(other, data))
    assert 1 <= first.best_epoch <= 5 and len(first.history) <= 5


def test_early_stopping_stops_after_the_patience(table: pd.DataFrame) -> None:
    data = prepare_data(table, target="wage", task="continuous", features=["proxy", "x1"], protected=["gender"])
    model = train_model(data, TrainSettings(epochs=500, batch_size=32, lr=0.05, patience=3))
    assert len(model.history) < 500 and len(model.history) - model.best_epoch == 3


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (TrainSettings(penalty="gini", lam=1.0), "Unknown penalty"),
        (TrainSettings(penalty="ccdcov", lam=-1.0), "λ must be"),
        (TrainSettings(batch_size=2), "at least 4"),
        (TrainSettings(dropout=1.0, hidden=(4,)), "Dropout"),
    ],
)
def test_bad_settings(table: pd.DataFrame, settings: TrainSettings, words: str) -> None:
    data = prepare_data(table, target="wage", task="continuous", features=["x1"], protected=["gender"])
    with pytest.raises(ParameterError, match=words):
        train_model(data, settings)
