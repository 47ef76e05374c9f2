"""SPD geometry against closed forms, invariances and a known MDS configuration."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import procrustes

from covwb.covariance import geometry
from covwb.covariance.geometry import (
    NUMPY_METRICS,
    GeometrySummary,
    check_spd_stack,
    mds_embedding,
    mean_covariance,
    pairwise_distances,
    summarise_geometry,
)
from covwb.errors import ParameterError, SPDInputError


def random_spd(n: int, p: int, seed: int) -> np.ndarray:
    """``n`` well-conditioned SPD matrices of size ``p``."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p, 3 * p))
    return np.einsum("nij,nkj->nik", A, A) / (3 * p) + 0.1 * np.eye(p)


def airm(A: np.ndarray, B: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.log(scipy.linalg.eigh(A, B, eigvals_only=True)) ** 2)))


def lem(A: np.ndarray, B: np.ndarray) -> float:
    return float(np.linalg.norm(np.real(scipy.linalg.logm(A) - scipy.linalg.logm(B)), "fro"))


def bures(A: np.ndarray, B: np.ndarray) -> float:
    root = np.real(scipy.linalg.sqrtm(A))
    cross = np.real(scipy.linalg.sqrtm(root @ B @ root))
    return float(np.sqrt(max(np.trace(A) + np.trace(B) - 2 * np.trace(cross), 0.0)))


def euclid(A: np.ndarray, B: np.ndarray) -> float:
    return float(np.linalg.norm(A - B, "fro"))


CLOSED_FORMS = {"riemann": airm, "logeuclid": lem, "wasserstein": bures, "euclid": euclid}


def test_metric_labels() -> None:
    assert set(NUMPY_METRICS) == set(CLOSED_FORMS)


@pytest.mark.parametrize("metric", list(CLOSED_FORMS))
def test_distances_match_closed_forms(metric: str) -> None:
    covs = random_spd(6, 4, seed=1)
    D = pairwise_distances(covs, metric)
    expected = np.array([[CLOSED_FORMS[metric](a, b) for b in covs] for a in covs])
    # Squared distances: the square root of the oracle's rounding (~1e-14) at d(A, A) would be ~1e-7.
    np.testing.assert_allclose(D**2, expected**2, rtol=1e-7, atol=1e-12)
    assert np.array_equal(D, D.T) and np.all(np.diag(D) == 0.0)


def test_wasserstein_chunks_give_the_same_distances(monkeypatch: pytest.MonkeyPatch) -> None:
    covs = random_spd(7, 3, seed=2)
    whole = pairwise_distances(covs, "wasserstein")
    monkeypatch.setattr(geometry, "_PAIR_CHUNK_FLOATS", 2 * 9)
    np.testing.assert_allclose(pairwise_distances(covs, "wasserstein"), whole, rtol=1e-13)


def test_airm_is_congruence_invariant() -> None:
    covs = random_spd(5, 4, seed=3)
    W = np.random.default_rng(4).standard_normal((4, 4)) + 4 * np.eye(4)
    moved = np.einsum("ij,njk,lk->nil", W, covs, W)
    np.testing.assert_allclose(
        pairwise_distances(moved, "riemann"), pairwise_distances(covs, "riemann"), rtol=1e-8, atol=1e-9
    )


@pytest.mark.parametrize("metric", ["logeuclid", "wasserstein", "euclid", "riemann"])
def test_orthogonal_invariance(metric: str) -> None:
    covs = random_spd(5, 4, seed=5)
    Q = np.linalg.qr(np.random.default_rng(6).standard_normal((4, 4)))[0]
    rotated = np.einsum("ij,njk,lk->nil", Q, covs, Q)
    np.testing.assert_allclose(
        pairwise_distances(rotated, metric), pairwise_distances(covs, metric), rtol=1e-8, atol=1e-9
    )


def test_affine_invariance_fails_for_log_euclidean() -> None:
    covs = random_spd(4, 3, seed=7)
    W = np.diag([1.0, 5.0, 0.2])
    moved = np.einsum("ij,njk,lk->nil", W, covs, W)
    assert not np.allclose(pairwise_distances(moved, "logeuclid"), pairwise_distances(covs, "logeuclid"), rtol=1e-3)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("riemann", lambda a, b: np.sqrt(a * b)),
        ("logeuclid", lambda a, b: np.sqrt(a * b)),
        ("euclid", lambda a, b: (a + b) / 2),
        ("wasserstein", lambda a, b: ((np.sqrt(a) + np.sqrt(b)) / 2) ** 2),
    ],
)
def test_mean_of_two_commuting_matrices(metric: str, expected) -> None:
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 4.0])
    Q = np.linalg.qr(np.random.default_rng(8).standard_normal((3, 3)))[0]
    covs = np.stack([Q @ np.diag(a) @ Q.T, Q @ np.diag(b) @ Q.T])
    np.testing.assert_allclose(mean_covariance(covs, metric), Q @ np.diag(expected(a, b)) @ Q.T, atol=1e-7)


def test_the_affine_invariant_mean_is_the_packages_numpy_karcher_mean() -> None:
    """One Karcher mean per backend: the explorer's mean is covwb.covariance.karcher's, equal to pyRiemann's."""
    from pyriemann.geometry.mean import mean_riemann

    from covwb.covariance import karcher

    covs = random_spd(30, 6, seed=12)
    np.testing.assert_array_equal(mean_covariance(covs, "riemann"), karcher.karcher_mean(covs).mean)
    reference = mean_riemann(covs)
    assert np.linalg.norm(mean_covariance(covs, "riemann") - reference) < 1e-7 * np.linalg.norm(reference)


def test_a_mean_that_stops_early_is_said_in_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    from covwb.covariance import karcher

    covs = random_spd(6, 3, seed=14)
    assert summarise_geometry(covs, "riemann").warnings == ()
    real = karcher.karcher_mean

    def stalling(stack, **kwargs):
        warnings.warn(
            "Karcher mean: gradient norm 3.5e-08 > tol 1e-08 after 50 evaluations.", RuntimeWarning, stacklevel=2
        )
        return real(stack, **kwargs)

    monkeypatch.setattr(karcher, "karcher_mean", stalling)
    (note,) = summarise_geometry(covs, "riemann").warnings
    assert note.startswith("The affine-invariant mean stopped before converging (Karcher mean: gradient norm 3.5e-08")


def test_metric_registry_and_former_names() -> None:
    assert geometry.check_metric("gbw_theta").short == "θ-GBW"
    assert NUMPY_METRICS == {m.name: m.label for m in geometry.SPD_METRICS.values() if m.numpy}
    with pytest.raises(ParameterError, match="'airm' \\(now called 'riemann'\\); choose one of 'riemann', 'logeuclid'"):
        pairwise_distances(random_spd(3, 2, seed=13), "airm")
    with pytest.raises(ParameterError, match="choose one of 'riemann', 'logeuclid', 'wasserstein', 'euclid'\\.$"):
        mean_covariance(random_spd(3, 2, seed=13), "gbw")


def test_mds_recovers_a_planar_configuration() -> None:
    points = np.random.default_rng(9).uniform(-5, 5, (12, 2))
    D = np.linalg.norm(points[:, None] - points[None], axis=-1)
    Y = mds_embedding(D)
    assert Y.shape == (12, 2)
    np.testing.assert_allclose(np.linalg.norm(Y[:, None] - Y[None], axis=-1), D, atol=1e-9)
    _, _, disparity = procrustes(points, Y)
    assert disparity < 1e-15


def test_mds_is_deterministic_and_sign_fixed() -> None:
    D = pairwise_distances(random_spd(10, 3, seed=10), "riemann")
    Y = mds_embedding(D)
    assert np.array_equal(Y, mds_embedding(D))
    np.testing.assert_allclose(mds_embedding(D[::-1, ::-1])[::-1], Y, atol=1e-10)
    idx = np.argmax(np.abs(Y), axis=0)
    assert np.all(Y[idx, [0, 1]] > 0)


def test_mds_refuses_bad_distances() -> None:
    with pytest.raises(ParameterError, match="square"):
        mds_embedding(np.ones((2, 3)))
    with pytest.raises(ParameterError, match="non-negative"):
        mds_embedding(-np.ones((3, 3)))
    with pytest.raises(ParameterError, match="not symmetric"):
        mds_embedding(np.array([[0.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(ParameterError, match="n_components"):
        mds_embedding(np.zeros((3, 3)), n_components=4)


def test_summary_bundles_the_parts() -> None:
    covs = random_spd(8, 3, seed=11)
    summary = summarise_geometry(covs, "logeuclid")
    assert isinstance(summary, GeometrySummary)
    np.testing.assert_array_equal(summary.distances, pairwise_distances(covs, "logeuclid"))
    np.testing.assert_array_equal(summary.embedding, mds_embedding(summary.distances))
    np.testing.assert_array_equal(summary.mean, mean_covariance(covs, "logeuclid"))
    assert summary.metric == "logeuclid"
    assert summary.settings == {
        "metric": "logeuclid",
        "metric_label": "Log-Euclidean",
        "embedding": "classical MDS",
        "n_matrices": 8,
        "n_channels": 3,
    }
    with pytest.raises(AttributeError):
        summary.metric = "euclid"  # type: ignore[misc]


def test_unknown_metric() -> None:
    with pytest.raises(ParameterError, match="Unknown metric 'cosine'"):
        pairwise_distances(random_spd(3, 2, seed=0), "cosine")


def test_check_spd_stack_symmetrises_within_tolerance() -> None:
    covs = random_spd(3, 3, seed=12)
    nudged = covs.copy()
    nudged[1, 0, 2] += 1e-12
    out = check_spd_stack(nudged)
    assert out.dtype == np.float64
    assert np.array_equal(out, out.transpose(0, 2, 1))
    np.testing.assert_allclose(out, covs, atol=1e-12)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda c: c[0], r"shape \(n, p, p\)"),
        (lambda c: c[:, :, :2], r"shape \(n, p, p\)"),
        (lambda c: c[:1], "at least 2"),
        (lambda c: c.astype(complex), "real numbers"),
        (lambda c: np.where(np.arange(3)[:, None, None] == 2, np.nan, c), "Matrix 3 .* NaN"),
        (lambda c: c + np.triu(np.ones(3), 1) * (np.arange(3) == 1)[:, None, None], "Matrix 2 .* not symmetric"),
        (
            lambda c: c - (np.arange(3) == 1)[:, None, None] * 10 * np.eye(3),
            "Matrix 2 .* not positive definite.*shrinkage",
        ),
    ],
)
def test_check_spd_stack_errors(make, message: str) -> None:
    with pytest.raises(SPDInputError, match=message):
        check_spd_stack(make(random_spd(3, 3, seed=13)))


def test_check_spd_stack_names_the_stack_and_allows_one() -> None:
    single = random_spd(1, 2, seed=14)
    assert check_spd_stack(single, min_matrices=1).shape == (1, 2, 2)
    with pytest.raises(SPDInputError, match="uploaded matrices"):
        check_spd_stack(single, name="uploaded matrices")


def test_singular_matrix_is_refused() -> None:
    X = np.random.default_rng(15).standard_normal((3, 2, 5))
    covs = np.einsum("nij,nkj->nik", X.transpose(0, 2, 1), X.transpose(0, 2, 1))
    with pytest.raises(SPDInputError, match="not positive definite"):
        check_spd_stack(covs)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), metric=st.sampled_from(list(NUMPY_METRICS)))
def test_triangle_inequality_and_positivity(seed: int, metric: str) -> None:
    D = pairwise_distances(random_spd(5, 3, seed=seed), metric)
    assert np.all(D[~np.eye(5, dtype=bool)] > 0)
    # D[i, k] <= D[i, j] + D[j, k] for all i, j, k (axes i, j, k)
    assert np.all(D[:, None, :] <= D[:, :, None] + D[None, :, :] + 1e-9)


def test_check_spd_stack_near_the_float64_maximum_stays_finite_or_typed() -> None:
    """Symmetrising halves first: entries near the float64 maximum neither overflow nor escape untyped."""
    top = np.finfo(float).max
    diagonal = np.array([[[top, 0.0], [0.0, top]]] * 2)
    assert np.isfinite(check_spd_stack(diagonal)).all()
    with pytest.raises(SPDInputError, match="not positive definite"):
        check_spd_stack(np.array([[[top, -top], [-top, top]]] * 2))
