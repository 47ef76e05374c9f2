"""Basis-shrinkage partial correlations: propr/corpcor reference values and the Woodbury route."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covwb.coda.shrinkage import basis_shrinkage_pcor, cov_shrink, shrinkage_intensities
from covwb.errors import ParameterError
from tests.coda.conftest import CUPS_PARTS, logistic_normal, reference_matrix


def _corpcor_lambda(x: np.ndarray) -> tuple[float, float]:
    """Direct transcription of corpcor 1.6.10 estimate.lambda / estimate.lambda.var with w = 1/n."""
    n = x.shape[0]
    w = np.full(n, 1 / n)
    xc = x - x.mean(axis=0)
    xs = xc / x.std(axis=0, ddof=1)
    q1_sq = ((xs * np.sqrt(w)[:, None]).T @ (xs * np.sqrt(w)[:, None])) ** 2
    q2 = (xs**2 * np.sqrt(w)[:, None]).T @ (xs**2 * np.sqrt(w)[:, None]) - q1_sq
    lam = min(1.0, (q2.sum() - np.trace(q2)) / (q1_sq.sum() - np.trace(q1_sq)) / (n - 1))
    v = (w[:, None] * xc**2).sum(axis=0) * n / (n - 1)
    zz = xc**2
    q1 = (w[:, None] * zz).sum(axis=0)
    q2v = (w[:, None] * zz**2).sum(axis=0) - q1**2
    lam_var = min(1.0, q2v.sum() / ((q1 - np.median(v) * (n - 1) / n) ** 2).sum() / (n - 1))
    return lam, lam_var


def _propr_bshrink(P: np.ndarray) -> np.ndarray:
    """propr 5.1.8 pcor.bshrink as written: cov.shrink of log-proportions, G B G, pseudo-inverse, cor2pcor."""
    logp = np.log(P / P.sum(axis=1, keepdims=True))
    B, _, _ = cov_shrink(logp)
    D = B.shape[0]
    G = np.eye(D) - 1.0 / D
    omega = np.linalg.pinv(G @ B @ G, hermitian=True)
    d = np.sqrt(np.diag(omega))
    rho = -omega / np.outer(d, d)
    np.fill_diagonal(rho, 1.0)
    return rho


def test_cups_bshrink_matches_propr(shared_data: Path, cups_values: np.ndarray) -> None:
    reference = reference_matrix(shared_data, "cups_pcor_bshrink_reference.csv")
    for route in ("dense", "woodbury"):
        result = basis_shrinkage_pcor(cups_values, CUPS_PARTS, route=route)
        assert np.max(np.abs(result.pcor - reference)) <= 1e-10, route
        assert result.settings["lambda"] == pytest.approx(0.059123, abs=5e-7)
        assert result.settings["lambda_var"] == pytest.approx(0.081467, abs=5e-7)


@pytest.mark.parametrize(("n", "D"), [(40, 12), (15, 60), (8, 30)])
def test_intensities_match_the_corpcor_transcription(n: int, D: int) -> None:
    x = np.log(logistic_normal(n, D, seed=n + D))
    s = shrinkage_intensities(x)
    lam, lam_var = _corpcor_lambda(x)
    assert s.lam == pytest.approx(lam, rel=1e-10)
    assert s.lam_var == pytest.approx(lam_var, rel=1e-10)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(6, 20), st.integers(20, 60))
def test_woodbury_and_dense_routes_agree_with_the_pseudo_inverse(seed: int, n: int, D: int) -> None:
    P = logistic_normal(n, D, seed)
    expected = _propr_bshrink(P)
    for route in ("dense", "woodbury"):
        result = basis_shrinkage_pcor(P, route=route)
        np.testing.assert_allclose(result.pcor, expected, atol=1e-8)
        np.testing.assert_allclose(result.pcor, result.pcor.T, atol=1e-12)
    assert basis_shrinkage_pcor(P).settings["route"] == ("woodbury" if n < D else "dense")


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.randoms(use_true_random=False))
def test_bshrink_is_invariant_to_row_scale_and_equivariant_to_order(seed: int, random) -> None:
    P = logistic_normal(12, 25, seed)
    perm = np.array(random.sample(range(25), 25))
    scale = np.random.default_rng(seed).uniform(1, 1e4, (12, 1))
    base = basis_shrinkage_pcor(P).pcor
    np.testing.assert_allclose(basis_shrinkage_pcor(P * scale).pcor, base, atol=1e-9)
    np.testing.assert_allclose(basis_shrinkage_pcor(P[:, perm]).pcor, base[np.ix_(perm, perm)], atol=1e-9)


def test_bad_input_is_refused() -> None:
    P = logistic_normal(10, 5, seed=0)
    with pytest.raises(ParameterError, match="Unknown route"):
        basis_shrinkage_pcor(P, route="svd")
    with pytest.raises(ParameterError, match="strictly positive"):
        basis_shrinkage_pcor(np.where(P > 0.3, 0.0, P))
    constant = np.column_stack([0.5 * P, np.full(10, 0.5)])  # the last part is always half of the total
    with pytest.raises(ParameterError, match="same log-proportion"):
        basis_shrinkage_pcor(constant)
