"""Preparing a table: dropped rows, one-hot features, target coding, split, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from covwb.errors import ParameterError
from covwb.fairness.data import prepare_data, split_rows
from covwb.fairness.roles import leaking_columns


def test_missing_targets_text_features_and_binary_target(table: pd.DataFrame) -> None:
    frame = table.copy()
    frame.loc[:4, "hired"] = None
    data = prepare_data(
        frame, target="hired", task="binary", features=["x1", "job", "gender"], protected=["gender", "region"]
    )
    notes = " ".join(data.notes)
    assert "Dropped 5 rows with a missing target 'hired'" in notes
    assert "one-hot encoded: job (2 levels)" in notes
    assert "Removed from the features" in notes and "gender" in notes
    assert "no → 0, yes → 1" in notes
    assert data.feature_names == ("x1", "job=a", "job=b")
    assert data.X.shape == (len(frame) - 5, 3) and set(np.unique(data.y)) == {0.0, 1.0}
    assert np.isclose(data.X[data.train, 0].mean(), 0.0) and np.isclose(data.X[data.train, 0].std(), 1.0)
    assert len(data.validation) == pytest.approx(0.2 * len(data.y), abs=6)
    assert len(data.test) == pytest.approx(0.2 * len(data.y), abs=6)
    assert (
        set(data.protected.cells[data.validation]) == set(data.protected.cells[data.test]) == set(data.protected.cells)
    )
    assert (
        "stratified on the 6 intersectional cells, seed 0" in notes and "reported numbers come from the test" in notes
    )


def test_counts_keep_the_exposure(table: pd.DataFrame) -> None:
    data = prepare_data(
        table, target="claims", task="counts", features=["x1", "proxy"], protected=["gender"], exposure="exposure"
    )
    assert np.array_equal(data.exposure, table["exposure"].to_numpy())


@pytest.mark.parametrize(
    ("changes", "kwargs", "words"),
    [
        ({}, {"task": "binary", "target": "wage"}, "exactly two values"),
        ({}, {"task": "continuous", "target": "job"}, "not numeric"),
        ({"claims": -1.0}, {"task": "counts", "target": "claims", "exposure": "exposure"}, "negative"),
        ({"exposure": 0.0}, {"task": "counts", "target": "claims", "exposure": "exposure"}, "positive"),
        ({}, {"task": "continuous", "target": "wage", "test": 0.6}, "leave at least 30%"),
        ({"wage": np.nan}, {"task": "continuous", "target": "wage"}, "missing in every row"),
        ({"region": "north"}, {"task": "continuous", "target": "wage"}, "single level"),
        ({}, {"task": "magic", "target": "wage"}, "Unknown task"),
    ],
)
def test_bad_problems_are_parameter_errors(table: pd.DataFrame, changes: dict, kwargs: dict, words: str) -> None:
    frame = table.assign(**changes)
    with pytest.raises(ParameterError, match=words):
        prepare_data(frame, features=["x1", "x2"], protected=["gender", "region"], **kwargs)


def test_only_protected_features_is_refused(table: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="at least one feature"):
        prepare_data(table, target="wage", task="continuous", features=["gender"], protected=["gender"])


def test_a_feature_that_restates_the_target_is_flagged(table: pd.DataFrame) -> None:
    frame = table.assign(leak=(table["hired"] == "yes") * 1.0, half=lambda f: f["x1"])
    assert list(leaking_columns(frame, "hired", ["leak", "x1", "job"])) == ["leak"]
    assert leaking_columns(frame, "wage", ["x1", "job"]) == {}
    data = prepare_data(frame, target="hired", task="binary", features=["leak", "x1"], protected=["gender"])
    assert any("may restate it: leak (alone it predicts the target with ROC-AUC 1.000)" in note for note in data.notes)


def test_counts_without_an_exposure_have_exposure_one(table: pd.DataFrame) -> None:
    data = prepare_data(table, target="claims", task="counts", features=["x1"], protected=["gender"])
    assert np.array_equal(data.exposure, np.ones(len(table)))
    assert any("No exposure column: every row has exposure 1" in note for note in data.notes)


def test_three_way_split_is_seeded_disjoint_and_stratified_down_to_small_cells() -> None:
    cells = np.repeat([0, 1, 2, 3, 4], [500, 40, 3, 2, 1])
    train, validation, test = split_rows(cells, validation=0.2, test=0.25, seed=7)
    assert np.array_equal(np.sort(np.concatenate([train, validation, test])), np.arange(cells.size))
    for part, share in ((validation, 0.2), (test, 0.25)):
        assert np.sum(cells[part] == 0) == 500 * share and np.sum(cells[part] == 1) == 40 * share
    assert np.sum(cells[test] == 2) == np.sum(cells[validation] == 2) == 1
    assert np.sum(cells[test] == 3) == 1 and 3 not in cells[validation] and 4 in cells[train]
    again = split_rows(cells, validation=0.2, test=0.25, seed=7)
    other = split_rows(cells, validation=0.2, test=0.25, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, validation, test)))
    assert not np.array_equal(other[2], test)


def test_tiny_cells_are_named_in_the_notes(table: pd.DataFrame) -> None:
    frame = table.copy()
    frame.loc[:1, "region"] = "island"
    data = prepare_data(frame, target="wage", task="continuous", features=["x1"], protected=["region"])
    assert any(
        "fewer than 3 rows cannot appear in all three parts" in n and "region=island (n = 2)" in n for n in data.notes
    )


def test_a_zero_share_gives_no_rows() -> None:
    cells = np.repeat([0, 1, 2], [50, 2, 1])
    train, validation, test = split_rows(cells, validation=0.2, test=0.0, seed=1)
    assert test.size == 0 and np.sum(cells[validation] == 0) == 10 and np.sum(cells[validation] == 1) == 1
    assert train.size + validation.size == cells.size
