"""Reference independence and subcompositional incoherence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covwb.coda.demonstrations import reference_independence, subcompositional_incoherence
from covwb.coda.partial_correlation import partial_correlations
from covwb.errors import ParameterError
from tests.coda.conftest import CUPS_PARTS, logistic_normal


def test_cups_fe_mg_for_every_reference(cups_values: np.ndarray) -> None:
    table = reference_independence(cups_values, CUPS_PARTS, "Fe", "Mg")
    assert sorted(table["reference"]) == sorted(p for p in CUPS_PARTS if p not in ("Fe", "Mg"))
    np.testing.assert_allclose(table["residual_correlation"], 0.428432074365428, atol=1e-10)
    result = partial_correlations(cups_values, CUPS_PARTS)
    np.testing.assert_allclose(table["partial_variance_i"], result.partial_variances[2], rtol=1e-9)
    np.testing.assert_allclose(table["partial_variance_j"], result.partial_variances[3], rtol=1e-9)


def test_cups_subcomposition_changes_fe_mg(cups_values: np.ndarray) -> None:
    keep = [p for p in CUPS_PARTS if p not in ("Mn", "Sb")]
    table = subcompositional_incoherence(cups_values, CUPS_PARTS, keep)
    assert len(table) == 9 * 8 // 2
    row = table[(table.part_i == "Fe") & (table.part_j == "Mg")].iloc[0]
    assert row.rho_all_parts == pytest.approx(0.4284, abs=5e-5)
    assert row.rho_subcomposition == pytest.approx(0.4190, abs=5e-5)
    assert abs(table["change"].iloc[0]) >= abs(table["change"].iloc[-1])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(3, 8))
def test_reference_independence_holds_for_any_composition(seed: int, D: int) -> None:
    X = logistic_normal(25, D, seed)
    names = [f"p{k}" for k in range(D)]
    table = reference_independence(X, names, "p0", names[-1])
    assert len(table) == D - 2
    np.testing.assert_allclose(table["residual_correlation"], table["formula"], atol=1e-9)


def test_bad_choices_are_refused() -> None:
    X = logistic_normal(20, 5, seed=0)
    names = list("abcde")
    with pytest.raises(ParameterError, match="two different"):
        reference_independence(X, names, "a", "a")
    with pytest.raises(ParameterError, match="at least 3"):
        subcompositional_incoherence(X, names, ["a", "b"])


def test_reference_subset_is_evenly_spread() -> None:
    X = logistic_normal(40, 12, seed=9)
    names = [f"p{k}" for k in range(12)]
    table = reference_independence(X, names, "p3", "p7", max_references=4)
    assert table["reference"].tolist() == ["p0", "p4", "p8", "p11"]
    np.testing.assert_allclose(table["residual_correlation"], table["formula"], atol=1e-10)
