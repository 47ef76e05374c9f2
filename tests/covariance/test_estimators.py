"""Covariance estimators against scikit-learn and numpy, plus property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.covariance import ledoit_wolf, oas, shrunk_covariance

from covwb.covariance.estimators import (
    ESTIMATORS,
    Spectrum,
    correlation,
    covariance,
    covariances,
    spectrum,
)
from covwb.errors import ParameterError

REFERENCES = {
    "sample": lambda X, a: np.atleast_2d(np.cov(X, rowvar=False)),
    "ledoit_wolf": lambda X, a: ledoit_wolf(X, assume_centered=False)[0],
    "oas": lambda X, a: oas(X, assume_centered=False)[0],
    "shrinkage": lambda X, a: shrunk_covariance(np.atleast_2d(np.cov(X, rowvar=False)), a),
}


def test_estimator_labels_cover_references() -> None:
    assert set(ESTIMATORS) == set(REFERENCES)


@pytest.mark.parametrize("estimator", list(REFERENCES))
@pytest.mark.parametrize(("n_samples", "n_features"), [(40, 5), (6, 9), (2, 3), (30, 1)])
def test_covariance_matches_reference(estimator: str, n_samples: int, n_features: int) -> None:
    rng = np.random.default_rng(n_samples * 100 + n_features)
    X = rng.standard_normal((n_samples, n_features)) @ rng.standard_normal((n_features, n_features))
    X += 3.0
    expected = REFERENCES[estimator](X, 0.3)
    np.testing.assert_allclose(covariance(X, estimator, 0.3), np.atleast_2d(expected), rtol=0, atol=1e-12)


@pytest.mark.parametrize("estimator", list(REFERENCES))
@pytest.mark.parametrize(("n_channels", "n_times"), [(4, 50), (8, 5), (1, 10)])
def test_batched_covariances_match_reference_per_matrix(estimator: str, n_channels: int, n_times: int) -> None:
    rng = np.random.default_rng(7)
    trials = rng.standard_normal((12, n_channels, n_times)) * rng.uniform(0.5, 3, (12, 1, 1))
    trials[3] *= 0.0
    trials[5] = rng.standard_normal(n_times)
    result = covariances(trials, estimator, 0.25)
    assert result.shape == (12, n_channels, n_channels)
    for i in range(trials.shape[0]):
        expected = np.atleast_2d(REFERENCES[estimator](trials[i].T, 0.25))
        np.testing.assert_allclose(result[i], expected, rtol=0, atol=1e-12)


def test_ledoit_wolf_with_two_samples_does_not_shrink_like_sklearn() -> None:
    X = np.random.default_rng(0).standard_normal((2, 3))
    assert abs(ledoit_wolf(X)[1]) < 1e-12
    np.testing.assert_allclose(covariance(X, "ledoit_wolf"), np.cov(X.T, bias=True), atol=1e-15)


def test_sample_covariances_equal_np_cov() -> None:
    trials = np.random.default_rng(1).standard_normal((5, 3, 20))
    expected = np.stack([np.cov(t) for t in trials])
    np.testing.assert_allclose(covariances(trials), expected, rtol=1e-13, atol=1e-15)


def test_nan_rows_are_dropped() -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((20, 3))
    with_nan = X.copy()
    with_nan[[2, 9], [0, 2]] = np.nan
    np.testing.assert_allclose(covariance(with_nan), np.cov(np.delete(X, [2, 9], axis=0).T))


def test_fewer_than_two_complete_rows_is_a_parameter_error() -> None:
    X = np.array([[1.0, np.nan], [np.nan, 2.0], [3.0, 4.0]])
    with pytest.raises(ParameterError, match="at least 2 complete rows"):
        covariance(X)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimator": "mle"}, "Unknown covariance estimator"),
        ({"estimator": "shrinkage", "shrinkage": 1.5}, "between 0 and 1"),
        ({"estimator": "shrinkage", "shrinkage": float("nan")}, "between 0 and 1"),
    ],
)
def test_bad_parameters(kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        covariance(np.ones((5, 2)), **kwargs)


def test_bad_shapes_and_values() -> None:
    with pytest.raises(ParameterError, match="shape"):
        covariance(np.ones(5))
    with pytest.raises(ParameterError, match="Row 2, column 1 is infinite"):
        covariance(np.array([[1.0, 2.0], [np.inf, 1.0], [0.0, 1.0]]))
    with pytest.raises(ParameterError, match="real numbers"):
        covariance(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ParameterError, match="n_matrices, n_channels, n_times"):
        covariances(np.ones((3, 4)))
    with pytest.raises(ParameterError, match="at least 2"):
        covariances(np.ones((3, 4, 1)))
    bad = np.zeros((3, 2, 5))
    bad[1, 1, 2] = np.nan
    with pytest.raises(ParameterError, match="Trial 2, channel 2"):
        covariances(bad)


def test_correlation_matches_corrcoef() -> None:
    X = np.random.default_rng(3).standard_normal((30, 4)) * [1, 10, 100, 0.1]
    R = correlation(np.cov(X.T))
    np.testing.assert_allclose(R, np.corrcoef(X.T), atol=1e-14)
    assert np.all(np.diag(R) == 1.0)


def test_correlation_refuses_zero_variance() -> None:
    with pytest.raises(ParameterError, match="Variable 2 has variance 0"):
        correlation(np.diag([1.0, 0.0, 2.0]))


def test_spectrum_of_known_matrix() -> None:
    Q = np.linalg.qr(np.random.default_rng(4).standard_normal((4, 4)))[0]
    C = Q @ np.diag([0.5, 8.0, 2.0, 1.0]) @ Q.T
    result = spectrum(C)
    assert isinstance(result, Spectrum)
    np.testing.assert_allclose(result.eigenvalues, [8.0, 2.0, 1.0, 0.5])
    assert result.condition_number == pytest.approx(16.0)
    assert result.rank == 4 and result.is_positive_definite


def test_spectrum_of_rank_deficient_matrix() -> None:
    X = np.random.default_rng(5).standard_normal((3, 6))
    result = spectrum(np.cov(X, rowvar=False))
    assert result.rank == 2
    assert not result.is_positive_definite
    assert result.condition_number == float("inf")


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    X=arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 6)), elements=finite),
    estimator=st.sampled_from(list(REFERENCES)),
    a=st.floats(0.0, 1.0),
)
def test_symmetric_and_positive_semidefinite(X: np.ndarray, estimator: str, a: float) -> None:
    C = covariance(X, estimator, a)
    assert np.array_equal(C, C.T)
    tol = 1e-9 * max(1.0, float(np.abs(C).max()))
    assert np.linalg.eigvalsh(C).min() >= -tol


@settings(max_examples=40, deadline=None)
@given(
    X=arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 6)), elements=finite),
    estimator=st.sampled_from(list(REFERENCES)),
    scale=st.floats(-50.0, 50.0).filter(lambda s: abs(s) > 1e-2),
)
def test_scale_equivariance(X: np.ndarray, estimator: str, scale: float) -> None:
    C = covariance(X, estimator, 0.2)
    np.testing.assert_allclose(
        covariance(scale * X, estimator, 0.2), scale**2 * C, rtol=1e-9, atol=1e-9 * scale**2 * max(1.0, np.abs(C).max())
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 6),
    extra=st.integers(1, 6),
    estimator=st.sampled_from(["ledoit_wolf", "oas", "shrinkage"]),
)
def test_shrinkage_is_positive_definite_when_p_exceeds_n(seed: int, n: int, extra: int, estimator: str) -> None:
    """From n = 3 on: with 2 samples the centred rows are opposite and LW's beta is 0."""
    X = np.random.default_rng(seed).standard_normal((n, n + extra))
    assert spectrum(np.cov(X, rowvar=False)).is_positive_definite is False
    C = covariance(X, estimator, 0.3)
    assert np.linalg.eigvalsh(C).min() > 0
    np.linalg.cholesky(C)
