"""The fairlearn baseline lowers the parity gap of an unconstrained logistic regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from covwb.errors import ParameterError
from covwb.fairness.baselines import exponentiated_gradient
from covwb.fairness.data import prepare_data
from covwb.fairness.metrics import parity_gaps


def test_exponentiated_gradient_reduces_the_intersectional_gap(table: pd.DataFrame) -> None:
    data = prepare_data(
        table, target="hired", task="binary", features=["proxy", "x1", "x2"], protected=["gender", "region"]
    )
    protected = data.protected.subset(data.validation)
    plain = LogisticRegression(max_iter=1000).fit(data.X[data.train], data.y[data.train])
    plain_gap = parity_gaps(plain.predict_proba(data.X[data.validation])[:, 1], protected)["intersectional"]
    fair = exponentiated_gradient(data, max_iter=20)
    assert fair.shape == data.validation.shape and np.all((fair >= 0) & (fair <= 1))
    assert parity_gaps(fair, protected)["intersectional"] < 0.6 * plain_gap


def test_only_binary_outcomes(table: pd.DataFrame) -> None:
    data = prepare_data(table, target="wage", task="continuous", features=["x1"], protected=["gender"])
    with pytest.raises(ParameterError, match="binary"):
        exponentiated_gradient(data)
