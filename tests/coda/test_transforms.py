"""Log-ratio transforms: inverses, isometry, sequential binary partitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from covwb.coda.closure import closure
from covwb.coda.transforms import (
    alr,
    alr_inv,
    clr,
    clr_inv,
    default_basis,
    ilr,
    ilr_inv,
    sbp_basis,
)
from covwb.errors import ParameterError

compositions = st.integers(3, 7).flatmap(
    lambda D: arrays(np.float64, (5, D), elements=st.floats(0.01, 100.0, allow_nan=False))
)


@settings(max_examples=30, deadline=None)
@given(compositions)
def test_inverses_return_the_closed_composition(X: np.ndarray) -> None:
    P = closure(X)
    np.testing.assert_allclose(clr_inv(clr(X)), P, rtol=1e-10)
    np.testing.assert_allclose(ilr_inv(ilr(X)), P, rtol=1e-10)
    for r in (0, X.shape[1] - 1):
        np.testing.assert_allclose(alr_inv(alr(X, r), r), P, rtol=1e-10)


@settings(max_examples=30, deadline=None)
@given(compositions)
def test_ilr_is_an_isometry_of_clr(X: np.ndarray) -> None:
    Z, Y = clr(X), ilr(X)
    np.testing.assert_allclose(Z.sum(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(Y @ Y.T, Z @ Z.T, atol=1e-9)


def test_alr_uses_the_reference_as_denominator() -> None:
    X = np.array([[1.0, 2.0, 4.0]])
    np.testing.assert_allclose(alr(X, 0), np.log([[2.0, 4.0]]))
    np.testing.assert_allclose(alr(X), np.log([[0.25, 0.5]]))


def test_default_basis_is_orthonormal_and_contrasts() -> None:
    V = default_basis(6)
    np.testing.assert_allclose(V.T @ V, np.eye(5), atol=1e-14)
    np.testing.assert_allclose(V.sum(axis=0), 0.0, atol=1e-14)


def test_sbp_basis_gives_the_textbook_balances() -> None:
    sbp = np.array([[1, 1, -1, -1, -1], [1, -1, 0, 0, 0], [0, 0, 1, -1, -1], [0, 0, 0, 1, -1]])
    V = sbp_basis(sbp)
    np.testing.assert_allclose(V.T @ V, np.eye(4), atol=1e-14)
    # first balance: sqrt(2*3/5) log(g(x1,x2)/g(x3,x4,x5))
    X = np.array([[1.0, 4.0, 2.0, 8.0, 1.0]])
    expected = np.sqrt(6 / 5) * np.log(np.sqrt(4.0) / np.cbrt(16.0))
    np.testing.assert_allclose(ilr(X, V)[0, 0], expected)
    np.testing.assert_allclose(ilr_inv(ilr(X, V), V), closure(X))


@pytest.mark.parametrize(
    ("sbp", "words"),
    [
        (np.array([[1, -1, 0], [1, 1, -1]]) * 2, "only"),
        (np.array([[1, 1, 0], [1, -1, -1]]), "Step 1"),
        (np.array([[1, -1, -1], [1, -1, 0]]), "hierarchical"),
        (np.ones((3, 3)), "D - 1 rows"),
    ],
)
def test_bad_partitions_are_refused(sbp: np.ndarray, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        sbp_basis(sbp)


def test_zeros_are_refused_by_log_ratios() -> None:
    with pytest.raises(ParameterError, match="replace the zeros"):
        clr(np.array([[1.0, 0.0, 2.0]]))
