"""Exact partial correlations: R reference values, pseudo-inverse cross-checks and invariances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covwb.coda.partial_correlation import clr_precision, partial_correlations
from covwb.coda.transforms import alr
from covwb.coda.variation import (
    clr_covariance,
    clr_variances,
    most_variable_parts,
    total_variance,
    variation_array,
)
from covwb.errors import ParameterError
from tests.coda.conftest import CUPS_PARTS, logistic_normal, reference_matrix

# Erb (2020) on the Roman cups, from R 4.2.2 (MASS::ginv, propr 5.1.8), six decimals
CUPS_CLR_VAR = [
    0.018147,
    0.005852,
    0.013975,
    0.015166,
    0.004561,
    0.008562,
    0.009840,
    0.011631,
    0.012656,
    0.068842,
    0.066866,
]
CUPS_PARTIAL_VAR = [
    0.002033,
    0.000875,
    0.003469,
    0.008125,
    0.002785,
    0.001777,
    0.008412,
    0.008315,
    0.010252,
    0.050619,
    0.051600,
]


def test_cups_partial_correlations_match_r(shared_data: Path, cups_values: np.ndarray) -> None:
    result = partial_correlations(cups_values, CUPS_PARTS)
    reference = reference_matrix(shared_data, "cups_pcor_reference.csv")
    assert np.max(np.abs(result.pcor - reference)) <= 1e-10
    assert result.settings["route"] == "cholesky" and result.method == "exact"
    np.testing.assert_allclose(result.partial_variances, CUPS_PARTIAL_VAR, atol=5e-7)
    np.testing.assert_allclose(clr_variances(cups_values), CUPS_CLR_VAR, atol=5e-7)
    assert total_variance(cups_values) == pytest.approx(0.236098, abs=5e-7)
    fe, mg = CUPS_PARTS.index("Fe"), CUPS_PARTS.index("Mg")
    assert result.pcor[fe, mg] == pytest.approx(0.428432, abs=5e-7)


def test_closed_form_is_the_moore_penrose_inverse() -> None:
    X = logistic_normal(40, 9, seed=1)
    gamma = clr_covariance(X)
    omega = clr_precision(gamma)
    np.testing.assert_allclose(
        omega, np.linalg.pinv(gamma, rcond=1e-10, hermitian=True), atol=1e-8 * np.abs(omega).max()
    )
    np.testing.assert_allclose(omega.sum(axis=1), 0.0, atol=1e-8 * np.abs(omega).max())
    # Aitchison: Γ⁺ = Fᵀ Σ_r⁻¹ F for the alr covariance with any reference r (here the last part)
    sigma = np.cov(alr(X), rowvar=False)
    F = np.hstack([np.eye(8), -np.ones((8, 1))])
    np.testing.assert_allclose(omega, F.T @ np.linalg.inv(sigma) @ F, rtol=1e-8, atol=1e-8 * np.abs(omega).max())


def test_standardising_clr_first_would_give_other_values(cups_values: np.ndarray) -> None:
    gamma = clr_covariance(cups_values)
    sd = np.sqrt(np.diag(gamma))
    wrong = np.linalg.pinv(gamma / np.outer(sd, sd), hermitian=True)
    wrong_rho = -wrong / np.sqrt(np.outer(np.diag(wrong), np.diag(wrong)))
    right = partial_correlations(cups_values, CUPS_PARTS).pcor
    off = ~np.eye(11, dtype=bool)
    assert np.max(np.abs(wrong_rho - right)[off]) > 0.1


def test_variation_array_matches_direct_log_ratio_statistics() -> None:
    X = logistic_normal(25, 5, seed=3)
    va = variation_array(X)
    L = np.log(X)
    lr = L[:, :, None] - L[:, None, :]
    np.testing.assert_allclose(va.variances, lr.var(axis=0, ddof=1), atol=1e-12)
    np.testing.assert_allclose(va.means, lr.mean(axis=0), atol=1e-12)
    assert total_variance(X) == pytest.approx(va.variances.sum() / (2 * 5))
    combined = va.combined()
    assert combined[0, 1] == va.variances[0, 1] and combined[1, 0] == va.means[1, 0]


def test_too_few_samples_points_to_shrinkage() -> None:
    with pytest.raises(ParameterError, match="basis shrinkage"):
        partial_correlations(logistic_normal(5, 8, seed=0))
    X = logistic_normal(30, 4, seed=0)
    X = np.column_stack([X, X[:, 0] * 3.0])  # part 5 proportional to part 1: singular clr covariance
    with pytest.raises(ParameterError, match="basis shrinkage"):
        partial_correlations(X)


def test_closure_artefact_is_plus_one_over_d_minus_one() -> None:
    rng = np.random.default_rng(0)
    X = np.exp(rng.standard_normal((20000, 6)))
    rho = partial_correlations(X).pcor
    off = ~np.eye(6, dtype=bool)
    np.testing.assert_allclose(rho[off], 1 / 5, atol=0.03)


seeds = st.integers(0, 2**31 - 1)
sizes = st.integers(3, 8)


@settings(max_examples=25, deadline=None)
@given(seeds, sizes)
def test_invariant_to_scaling_each_row(seed: int, D: int) -> None:
    X = logistic_normal(30, D, seed)
    scale = np.random.default_rng(seed + 1).uniform(0.01, 1000.0, size=(30, 1))
    a, b = partial_correlations(X), partial_correlations(X * scale)
    np.testing.assert_allclose(b.pcor, a.pcor, atol=1e-9)
    np.testing.assert_allclose(b.partial_variances, a.partial_variances, rtol=1e-8)


@settings(max_examples=25, deadline=None)
@given(seeds, sizes, st.randoms(use_true_random=False))
def test_equivariant_under_permuting_parts(seed: int, D: int, random) -> None:
    X = logistic_normal(30, D, seed)
    perm = np.array(random.sample(range(D), D))
    a, b = partial_correlations(X), partial_correlations(X[:, perm])
    np.testing.assert_allclose(b.pcor, a.pcor[np.ix_(perm, perm)], atol=1e-9)
    np.testing.assert_allclose(b.partial_variances, a.partial_variances[perm], rtol=1e-8)


def test_most_variable_parts(cups_values: np.ndarray) -> None:
    assert most_variable_parts(clr_variances(cups_values), CUPS_PARTS, 2) == ["Mn", "Sb"]
