"""Numpy distance covariance against dcor 0.7, brute force and invariance properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from covwb.errors import ParameterError
from covwb.fairness.distance_covariance import (
    distance_correlation_sq,
    distance_covariance_sq,
    row_sums_1d,
)


def _sample(n: int, seed: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = x**2 + 0.5 * rng.standard_normal(n)
    if ties:
        x, y = np.round(x, 1), np.round(y)
    return x, y


@pytest.mark.parametrize("n", [4, 5, 9, 64, 257, 3001])
@pytest.mark.parametrize("ties", [False, True])
def test_fast_one_dimensional_matches_dcor(dcor, n: int, ties: bool) -> None:
    x, y = _sample(n, n, ties)
    v = dcor.distance_covariance_sqr(x, y, method="naive" if n < 500 else "mergesort")
    u = dcor.u_distance_covariance_sqr(x, y, method="naive" if n < 500 else "mergesort")
    assert distance_covariance_sq(x, y, method="fast") == pytest.approx(v, rel=1e-10, abs=1e-12)
    assert distance_covariance_sq(x, y, unbiased=True, method="fast") == pytest.approx(u, rel=1e-10, abs=1e-12)


def test_blocked_multivariate_matches_dcor(dcor) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2100, 3))
    y = np.c_[x[:, 0] * x[:, 1], rng.standard_normal(2100)]
    assert distance_covariance_sq(x, y) == pytest.approx(dcor.distance_covariance_sqr(x, y), rel=1e-10)
    assert distance_covariance_sq(x, y, unbiased=True) == pytest.approx(dcor.u_distance_covariance_sqr(x, y), rel=1e-10)
    assert distance_correlation_sq(x, y) == pytest.approx(dcor.distance_correlation_sqr(x, y), rel=1e-10)
    assert distance_correlation_sq(x, y, unbiased=True) == pytest.approx(
        dcor.u_distance_correlation_sqr(x, y), rel=1e-10
    )


def test_row_sums_match_brute_force() -> None:
    v = np.array([3.0, -1.0, 3.0, 0.5, 10.0, -1.0])
    assert np.allclose(row_sums_1d(v), np.abs(v[:, None] - v[None, :]).sum(axis=1), atol=1e-12)


samples = st.integers(4, 60).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 1))),
        arrays(np.float64, n, elements=st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 1))),
    )
)


@settings(max_examples=60, deadline=None)
@given(samples, st.booleans())
def test_fast_equals_blocked_for_any_sample(pair: tuple[np.ndarray, np.ndarray], unbiased: bool) -> None:
    x, y = pair
    fast = distance_covariance_sq(x, y, unbiased=unbiased, method="fast")
    blocked = distance_covariance_sq(x, y, unbiased=unbiased, method="blocked")
    assert fast == pytest.approx(blocked, rel=1e-9, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(samples, st.floats(-5, 5).filter(lambda a: abs(a) > 0.1), st.floats(-100, 100))
def test_scale_translation_and_symmetry(pair: tuple[np.ndarray, np.ndarray], a: float, shift: float) -> None:
    x, y = pair
    base = distance_covariance_sq(x, y)
    assert distance_covariance_sq(a * x + shift, y) == pytest.approx(abs(a) * base, rel=1e-8, abs=1e-6)
    assert distance_covariance_sq(y, x) == pytest.approx(base, rel=1e-10, abs=1e-9)
    assert base >= -1e-9


def test_rotation_invariance_of_the_multivariate_statistic() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((80, 3)), rng.standard_normal((80, 2))
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    assert distance_covariance_sq(x @ q, y) == pytest.approx(distance_covariance_sq(x, y), rel=1e-10)


def test_independent_samples_have_near_zero_and_dependent_positive_correlation() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(20_000)
    assert abs(distance_correlation_sq(x, rng.standard_normal(20_000), unbiased=True)) < 2e-3
    assert distance_correlation_sq(x, np.abs(x), unbiased=True) > 0.2


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "words"),
    [
        (np.zeros(5), np.zeros(6), {}, "paired"),
        (np.array([1.0, np.nan, 2, 3, 4]), np.arange(5.0), {}, "missing"),
        (np.arange(3.0), np.arange(3.0), {"unbiased": True}, "at least 4"),
        (np.zeros((5, 2)), np.zeros(5), {"method": "fast"}, "one-dimensional"),
        (np.zeros(5), np.zeros(5), {"method": "magic"}, "Unknown method"),
    ],
)
def test_bad_input_is_a_parameter_error(x: np.ndarray, y: np.ndarray, kwargs: dict, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        distance_covariance_sq(x, y, **kwargs)
