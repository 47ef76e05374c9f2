"""The compiled weight kernels against the definition built from the b × b sign matrix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covwb.fairness.weight_kernels import dense_matrix, dense_weights, grouped_weights, sorted_weights


def _predictions(rng: np.random.Generator, b: int, tied: bool) -> np.ndarray:
    """Predictions of a batch; ``tied`` rounds them so that many are equal."""
    values = rng.standard_normal(b)
    return np.round(values) if tied else values


def _signs(values: np.ndarray) -> np.ndarray:
    return np.sign(values[:, None] - values[None, :])


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(1, 6), st.booleans(), st.integers(0, 10_000))
def test_grouped_weights_are_signed_row_sums_of_the_cell_matrix(b: int, k: int, tied: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = _predictions(rng, b, tied)
    cells = rng.integers(0, k, b)
    half = rng.standard_normal((k, k))
    matrix = half + half.T
    shifts = rng.standard_normal(b)
    pairs = matrix[cells][:, cells]
    expected = (_signs(values) * pairs).sum(axis=1) / 2 + shifts + pairs.sum(axis=1) / 2 + np.diag(pairs) / 2
    assert np.allclose(grouped_weights(values, cells, matrix, shifts), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.booleans(), st.booleans(), st.integers(0, 10_000))
def test_sorted_weights_equal_the_distance_matrix_form(b: int, tied: bool, tied_z: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = _predictions(rng, b, tied)
    z = 10.0 * rng.standard_normal(b)
    if tied_z:
        z = np.round(z / 5.0)
    u = rng.standard_normal(b)
    level, factor = float(rng.standard_normal()), float(rng.uniform(0.1, 2.0))
    order = np.argsort(z, kind="stable")
    pairs = np.abs(z[:, None] - z[None, :]) + u[:, None] + u[None, :] + level
    expected = factor * (_signs(values) * pairs).sum(axis=1)
    got = sorted_weights(values, order, u[order], z[order] - z.mean(), level, factor)
    assert np.allclose(got, expected, rtol=1e-10, atol=1e-10 * np.abs(pairs).max())


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.booleans(), st.integers(0, 10_000))
def test_dense_weights_are_signed_row_sums_and_give_the_value(b: int, tied: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = _predictions(rng, b, tied)
    half = rng.uniform(size=(b, b))
    matrix = half + half.T
    u = rng.standard_normal(b)
    level, factor = float(rng.standard_normal()), float(rng.uniform(0.1, 2.0))
    pairs = matrix + u[:, None] + u[None, :] + level
    expected = factor * (_signs(values) * pairs).sum(axis=1)
    value = factor * (np.abs(values[:, None] - values[None, :]) * pairs).sum() / 2
    weights = dense_weights(values, matrix, u, level, factor)
    assert np.allclose(weights, expected, rtol=1e-12, atol=1e-12)
    assert values @ weights == pytest.approx(value, rel=1e-10, abs=1e-10)


def test_dense_matrix_of_ccdcov_is_the_distance_between_encodings() -> None:
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(7)
    codes, age = rng.integers(0, 3, 50), rng.uniform(size=50)
    columns = np.column_stack([codes.astype(np.float64), age])
    encoded = np.column_stack([np.eye(3)[codes], age])
    rows = rng.choice(50, 20, replace=False)
    matrix, rows_sum = dense_matrix(rows, columns, np.array([True, False]), False, 1.0, True)
    reference = cdist(encoded[rows], encoded[rows])
    assert np.allclose(matrix, reference, rtol=1e-14, atol=1e-14)
    assert np.allclose(rows_sum, reference.sum(axis=1), rtol=1e-13)
