"""Contrast measures: raw-proportion correlation, clr correlation, proportionality, graphical lasso."""

from __future__ import annotations

import numpy as np
import pytest

from covwb.coda.closure import closure
from covwb.coda.contrasts import (
    clr_correlation,
    graphical_lasso_clr,
    pair_table,
    proportion_correlation,
    proportionality,
)
from covwb.coda.transforms import clr
from covwb.errors import ParameterError
from tests.coda.conftest import logistic_normal


def test_marginal_correlations_match_numpy() -> None:
    X = logistic_normal(30, 6, seed=2) * np.arange(1, 31)[:, None]
    np.testing.assert_allclose(proportion_correlation(X), np.corrcoef(closure(X), rowvar=False), atol=1e-12)
    np.testing.assert_allclose(clr_correlation(X), np.corrcoef(clr(X), rowvar=False), atol=1e-12)


def test_proportionality_is_one_minus_relative_log_ratio_variance() -> None:
    X = logistic_normal(30, 5, seed=4)
    Z = clr(X)
    rho = proportionality(X)
    for i, j in [(0, 1), (2, 4)]:
        expected = 1 - np.var(Z[:, i] - Z[:, j], ddof=1) / (np.var(Z[:, i], ddof=1) + np.var(Z[:, j], ddof=1))
        assert rho[i, j] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(np.diag(rho), 1.0)
    # exactly proportional parts have rho_p = 1
    Y = np.column_stack([X, 2.5 * X[:, 0]])
    assert proportionality(Y)[0, -1] == pytest.approx(1.0)


def test_spurious_correlation_of_independent_parts() -> None:
    rng = np.random.default_rng(5)
    X = np.exp(rng.standard_normal((4000, 3)) * [0.2, 0.2, 1.5])
    # a dominant third part makes the first two look correlated after closure
    assert proportion_correlation(X)[0, 1] > 0.5


def test_graphical_lasso_sparsifies_with_the_penalty() -> None:
    X = logistic_normal(200, 8, seed=6)
    loose, tight = graphical_lasso_clr(X, 0.01), graphical_lasso_clr(X, 0.6)
    assert loose.edges > tight.edges
    assert tight.edges <= 8
    np.testing.assert_allclose(np.diag(loose.pcor), 1.0)
    assert loose.settings["alpha"] == 0.01
    with pytest.raises(ParameterError, match="between 0 and 1"):
        graphical_lasso_clr(X, 0.0)


def test_pair_table_sorts_by_the_first_measure() -> None:
    A = np.array([[1.0, 0.1, -0.9], [0.1, 1.0, 0.5], [-0.9, 0.5, 1.0]])
    table = pair_table({"pcor": A, "twice": 2 * A}, ["a", "b", "c"])
    assert table[["part_i", "part_j"]].values.tolist() == [["a", "c"], ["b", "c"], ["a", "b"]]
    np.testing.assert_allclose(table["twice"], [-1.8, 1.0, 0.2])
