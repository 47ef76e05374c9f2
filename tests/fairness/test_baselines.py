"""The fairlearn baseline reduces the parity gap of its own unconstrained base model, on realistic tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from covwb.datasets.tables import load_builtin_table
from covwb.errors import ParameterError
from covwb.fairness.baselines import exponentiated_gradient
from covwb.fairness.data import prepare_data
from covwb.fairness.metrics import parity_gaps
from tests.fairness.tables import recidivism


def _check(data) -> None:
    baseline = exponentiated_gradient(data)
    for split in ("validation", "test"):
        rows = getattr(data, split)
        scores = baseline.scores[split]
        assert scores.shape == rows.shape and np.all((scores >= 0) & (scores <= 1))
        assert set(np.unique(baseline.base_decisions[split])) <= {0.0, 1.0}
        base_gap, reduced_gap = baseline.gaps[split]
        protected = data.protected.subset(rows)
        assert base_gap == pytest.approx(parity_gaps(baseline.base_decisions[split], protected)["intersectional"])
        assert reduced_gap < 0.8 * base_gap, (split, base_gap, reduced_gap)
    assert baseline.warnings == () and "randomized classifier" in baseline.notes[0]
    assert baseline.settings["eps"] == 0.01 and baseline.settings["iterations_run"] >= 1


def test_on_a_race_by_sex_recidivism_table() -> None:
    frame = recidivism(3000)
    data = prepare_data(
        frame,
        target="two_year_recid",
        task="binary",
        features=["age", "priors_count", "juv_fel_count", "juv_misd_count", "c_charge_degree"],
        protected=["race", "sex"],
    )
    assert min(np.bincount(data.protected.cells)) <= 5  # tiny cells, as in the public table (n = 2)
    _check(data)


def test_on_the_builtin_binary_table() -> None:
    table = load_builtin_table("recid")
    data = prepare_data(
        table.frame,
        target="recidivist",
        task="binary",
        features=list(table.roles["features"]),
        protected=["black", "age"],
        bins=2,
    )
    _check(data)


def test_only_binary_outcomes(table: pd.DataFrame) -> None:
    data = prepare_data(table, target="wage", task="continuous", features=["x1"], protected=["gender"])
    with pytest.raises(ParameterError, match="binary"):
        exponentiated_gradient(data)
