"""The Newton Karcher mean against pyRiemann's ``mean_riemann`` and tangent space, and its invariance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyriemann.geometry.mean import mean_riemann
from pyriemann.geometry.tangentspace import log_map_riemann, tangent_space

from covwb.covariance.karcher import karcher_mean, riemann_logs, tangent_vectors, whitened_logs
from covwb.errors import SPDInputError


def _random_spd(rng: np.random.Generator, n: int, p: int, spread: float = 1.0) -> np.ndarray:
    """SPD matrices exp(S) with random symmetric S of entry scale ``spread``, congruent by a common matrix."""
    S = rng.standard_normal((n, p, p)) * spread / np.sqrt(p)
    S = (S + np.swapaxes(S, -1, -2)) / 2
    w, V = np.linalg.eigh(S)
    A = rng.standard_normal((p, p)) + 2 * np.eye(p)
    return A @ ((V * np.exp(w)[:, None, :]) @ np.swapaxes(V, -1, -2)) @ A.T


def _ill_conditioned(rng: np.random.Generator, n: int, p: int, t: int) -> np.ndarray:
    """Sample covariances of correlated, badly scaled signals (condition ~1e6, as EEG augmented covariances)."""
    mixing = rng.standard_normal((p, p)) @ np.diag(np.logspace(0, -2, p))
    signals = mixing @ rng.standard_normal((n, p, t))
    centred = signals - signals.mean(axis=-1, keepdims=True)
    return centred @ np.swapaxes(centred, -1, -2) / (t - 1)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize(("n", "p", "spread"), [(20, 4, 0.3), (30, 12, 1.0), (12, 30, 2.0)])
def test_mean_matches_pyriemann_on_random_stacks(n: int, p: int, spread: float) -> None:
    covs = _random_spd(np.random.default_rng(p), n, p, spread)
    result = karcher_mean(covs)
    assert result.gradient_norm <= 1e-8
    assert _relative(result.mean, mean_riemann(covs)) < 1e-7


def test_mean_matches_pyriemann_on_ill_conditioned_stack() -> None:
    covs = _ill_conditioned(np.random.default_rng(7), 24, 40, 120)
    conditions = np.linalg.cond(covs)
    assert conditions.min() > 1e4
    result = karcher_mean(covs)
    assert result.gradient_norm <= 1e-8
    assert result.n_iter <= 10
    assert _relative(result.mean, mean_riemann(covs)) < 1e-7


def test_logs_are_pyriemann_tangent_vectors_at_the_mean() -> None:
    rng = np.random.default_rng(1)
    covs = _ill_conditioned(rng, 16, 10, 60)
    result = karcher_mean(covs)
    reference = tangent_space(covs, result.mean, metric="riemann")
    # eigenvalue logs of matrices with condition ~1e8 carry rounding of ~eps * 1e8 in any frame
    np.testing.assert_allclose(tangent_vectors(result.logs), reference, atol=1e-7)
    assert np.linalg.norm(result.logs.mean(axis=0)) <= 1e-8
    others = _ill_conditioned(rng, 5, 10, 60)
    np.testing.assert_allclose(riemann_logs(others, result.mean), log_map_riemann(others, result.mean), atol=1e-7)
    np.testing.assert_allclose(
        tangent_vectors(riemann_logs(others, result.mean)),
        tangent_space(others, result.mean, metric="riemann"),
        atol=1e-7,
    )


def test_start_point_does_not_change_the_mean() -> None:
    covs = _random_spd(np.random.default_rng(3), 25, 8, 1.5)
    from_euclid = karcher_mean(covs).mean
    from_far = karcher_mean(covs, init=np.diag(np.logspace(-2, 2, 8))).mean
    assert _relative(from_far, from_euclid) < 1e-7


def test_known_logs_at_the_start_save_the_first_evaluation() -> None:
    covs = _ill_conditioned(np.random.default_rng(6), 30, 12, 80)
    start = karcher_mean(covs[:20]).mean
    plain = karcher_mean(covs[10:], init=start)
    known = whitened_logs(covs[10:], start)
    np.testing.assert_allclose(known.matrices(), log_map_riemann(covs[10:], start), atol=1e-7)
    reused = karcher_mean(covs[10:], init=start, init_logs=known)
    assert reused.n_iter == plain.n_iter - 1
    assert _relative(reused.mean, plain.mean) < 1e-9
    assert _relative(reused.mean, mean_riemann(covs[10:])) < 1e-7
    np.testing.assert_allclose(reused.eigen.matrices(), reused.logs, atol=1e-12)
    with pytest.raises(SPDInputError, match="init_logs"):
        karcher_mean(covs[:5], init=start, init_logs=known)


def test_single_matrix_and_identical_matrices_are_their_own_mean() -> None:
    X = _random_spd(np.random.default_rng(4), 1, 6)
    np.testing.assert_allclose(karcher_mean(X).mean, X[0], rtol=1e-10)
    result = karcher_mean(np.repeat(X, 5, axis=0))
    np.testing.assert_allclose(result.mean, X[0], rtol=1e-10)
    assert result.n_iter == 1
    np.testing.assert_allclose(result.logs, 0.0, atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 12), p=st.integers(2, 8))
def test_congruence_invariance(seed: int, n: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    covs = _random_spd(rng, n, p, 1.0)
    A = rng.standard_normal((p, p)) + 3 * np.eye(p)
    moved = karcher_mean(A @ covs @ A.T).mean
    assert _relative(moved, A @ karcher_mean(covs).mean @ A.T) < 1e-7


def test_bad_input_raises_typed_errors() -> None:
    with pytest.raises(SPDInputError, match="shape"):
        karcher_mean(np.ones((3, 2, 4)))
    indefinite = np.stack([np.eye(3), np.diag([1.0, -1.0, 1.0])])
    with pytest.raises(SPDInputError, match="positive definite"):
        karcher_mean(indefinite, init=np.eye(3))
    with pytest.raises(SPDInputError, match="starting matrix"):
        karcher_mean(np.stack([np.eye(3)] * 2), init=-np.eye(3))


def _band_limited_acms(seed: int, order: int) -> np.ndarray:
    """Sample ACMs (lag 1) of 4 low-passed channels: condition numbers 1e10-1e11, as EEG ACMs at m x C = 220."""
    from scipy.signal import butter, sosfiltfilt

    from covwb.eeg.augmented import augmented_covariances

    noise = np.random.default_rng(seed).standard_normal((20, 4, 360))
    signals = sosfiltfilt(butter(4, 0.2, output="sos"), noise, axis=-1)[:, :, 100:-100]
    return augmented_covariances(signals, order, 1, "sample")


@pytest.mark.parametrize(("seed", "order"), [(0, 9), (0, 10), (2, 10)])
def test_ill_conditioned_stack_converges_at_the_rounding_floor(seed: int, order: int) -> None:
    import warnings

    covs = _band_limited_acms(seed, order)
    assert np.linalg.cond(covs).max() > 1e10
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = karcher_mean(covs)
    # Before: Newton reached ~1e-7 in 4-5 evaluations, then ran all 50 at a gradient that is rounding noise.
    assert result.converged and result.n_iter <= 8
    assert 1e-8 < result.gradient_norm < 1e-5
    assert result.gradient_noise >= result.gradient_norm / 4
    # As accurate as the reference that runs 300 damped fixed-point steps (and warns it did not converge).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = mean_riemann(covs, maxiter=300)
    assert _relative(result.mean, reference) < 1e-7


def test_noise_known_from_an_overlapping_stack_stops_at_the_floor_sooner() -> None:
    import warnings

    covs = _band_limited_acms(0, 10)
    first = karcher_mean(covs[:14])
    assert first.converged and first.gradient_noise > 0
    known = whitened_logs(covs[6:], first.mean)
    plain = karcher_mean(covs[6:], init=first.mean, init_logs=known)
    hinted = karcher_mean(covs[6:], init=first.mean, init_logs=known, known_noise=first.gradient_noise)
    assert hinted.converged and hinted.n_iter < plain.n_iter
    assert hinted.gradient_norm <= 4 * first.gradient_noise == 4 * hinted.gradient_noise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = mean_riemann(covs[6:], maxiter=300)
    assert _relative(hinted.mean, reference) < 1e-7
    # A noise far below the floor is never reached: the iteration measures the floor as without it.
    tiny = karcher_mean(covs[6:], init=first.mean, init_logs=known, known_noise=1e-30)
    assert (tiny.n_iter, tiny.gradient_noise) == (plain.n_iter, plain.gradient_noise)


def test_well_conditioned_stack_never_takes_the_rounding_check() -> None:
    covs = _random_spd(np.random.default_rng(8), 30, 20, 1.0)
    result = karcher_mean(covs)
    assert result.converged and result.gradient_norm <= 1e-8 and result.gradient_noise == 0.0


def test_maxiter_warns_when_tolerance_not_reached() -> None:
    covs = _random_spd(np.random.default_rng(5), 10, 5, 2.0)
    with pytest.warns(RuntimeWarning, match="gradient norm"):
        result = karcher_mean(covs, maxiter=1)
    assert not result.converged
