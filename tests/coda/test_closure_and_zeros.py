"""Closure, input validation, zero diagnostics and replacement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from covwb.coda.closure import closure, composition_matrix, suggest_parts
from covwb.coda.zeros import replace_zeros, zero_summary
from covwb.errors import ParameterError, TableFormatError

X0 = np.array([[2.0, 0.0, 6.0, 2.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 3.0, 1.0]])
PARTS = ["a", "b", "c", "d"]


def test_closure_sums_rows_to_one() -> None:
    np.testing.assert_allclose(closure(X0).sum(axis=1), 1.0)
    np.testing.assert_allclose(closure(X0)[0], [0.2, 0.0, 0.6, 0.2])


@pytest.mark.parametrize(
    ("frame", "parts", "error", "words"),
    [
        (pd.DataFrame({"a": [1.0], "b": [2.0]}), ["a", "b"], ParameterError, "at least 3 parts"),
        (pd.DataFrame({"a": [1.0], "b": [2.0], "c": ["x"]}), ["a", "b", "c"], TableFormatError, "not numeric"),
        (pd.DataFrame({"a": [1.0, -1], "b": [2.0, 1], "c": [1.0, 1]}), ["a", "b", "c"], TableFormatError, "negative"),
        (
            pd.DataFrame({"a": [1.0, np.nan], "b": [2.0, 1], "c": [1.0, 1]}),
            ["a", "b", "c"],
            TableFormatError,
            "missing",
        ),
        (pd.DataFrame({"a": [1.0, 0], "b": [2.0, 0], "c": [1.0, 0]}), ["a", "b", "c"], TableFormatError, "row 2"),
        (pd.DataFrame({"a": [1.0], "b": [2.0], "c": [1.0]}), ["a", "b", "z"], ParameterError, "no column"),
    ],
)
def test_bad_compositions_get_one_clear_sentence(frame, parts, error, words) -> None:
    with pytest.raises(error, match=words):
        composition_matrix(frame, parts)


def test_zero_summary_counts_per_part_and_sample() -> None:
    summary = zero_summary(X0, PARTS)
    assert summary.total == 3
    assert summary.per_part["zeros"].tolist() == [1, 2, 0, 0]
    assert summary.per_sample.tolist() == [1, 0, 2]
    np.testing.assert_allclose(summary.per_part["prevalence"], [2 / 3, 1 / 3, 1, 1])


def test_multiplicative_replacement_as_martin_fernandez() -> None:
    out = replace_zeros(X0, PARTS, "multiplicative")
    delta = 1 / 16
    assert out.settings["delta"] == delta and out.settings["zeros_replaced"] == 3
    np.testing.assert_allclose(out.values.sum(axis=1), 1.0)
    P = closure(X0)
    # zeros become delta; non-zeros are scaled by 1 - k delta, so their ratios are kept
    assert out.values[0, 1] == delta and out.values[2, 0] == delta
    np.testing.assert_allclose(out.values[0, [0, 2, 3]], P[0, [0, 2, 3]] * (1 - delta))
    np.testing.assert_allclose(out.values[2, [2, 3]], P[2, [2, 3]] * (1 - 2 * delta))
    np.testing.assert_allclose(out.values[1], P[1])


def test_pseudo_count_and_minimum_replacements() -> None:
    pseudo = replace_zeros(X0, PARTS, "pseudo-count", pseudo_count=1.0)
    np.testing.assert_allclose(pseudo.values, closure(X0 + 1.0))
    minimum = replace_zeros(X0, PARTS, "minimum")
    assert minimum.settings["minimum"] == 1.0
    np.testing.assert_allclose(minimum.values, closure(np.where(X0 == 0, 1.0, X0)))


def test_parts_with_too_many_zeros_are_dropped_and_recorded() -> None:
    X = np.column_stack([X0, [1.0, 2.0, 3.0]])
    out = replace_zeros(X, [*PARTS, "e"], "multiplicative", max_zero_fraction=0.5)
    assert out.parts == ("a", "c", "d", "e")
    assert out.settings["dropped_parts"] == ["b"]
    assert np.all(out.values > 0)
    with pytest.raises(ParameterError, match="Only 2 parts"):
        replace_zeros(X0, PARTS, "minimum", max_zero_fraction=0.0)


def test_replacement_refuses_a_delta_that_turns_rows_negative() -> None:
    with pytest.raises(ParameterError, match="too large"):
        replace_zeros(X0, PARTS, "multiplicative", delta=0.6)
    with pytest.raises(ParameterError, match="Unknown zero"):
        replace_zeros(X0, PARTS, "bayes")


def test_suggested_parts_leave_out_text_and_row_numbers() -> None:
    frame = pd.DataFrame(
        {
            "cup": [1, 2, 3, 4],
            "site": list("wxyz"),
            "Si": [70.0, 71, 69, 72],
            "Al": [2.0, 1, 3, 2],
            "score": [-1.0, 0, 2, 1],
        }
    )
    assert suggest_parts(frame) == ["Si", "Al", "score"]
