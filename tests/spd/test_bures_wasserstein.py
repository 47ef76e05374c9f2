"""Bures-Wasserstein geometry against pyRiemann, closed forms and limits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pyriemann.geometry.distance import distance_wasserstein
from pyriemann.geometry.geodesic import geodesic_wasserstein
from pyriemann.geometry.mean import mean_wasserstein
from pyriemann.geometry.tangentspace import exp_map_wasserstein, log_map_wasserstein

from covwb.errors import ParameterError
from covwb.spd.bures_wasserstein import (
    bw_barycentre,
    bw_distance,
    bw_distance2,
    bw_exp,
    bw_geodesic,
    bw_log,
    bw_transport,
    fold_margin,
    gbw_barycentre,
    gbw_distance2,
    gbw_pullback,
    lyapunov,
)
from covwb.spd.matrix_functions import logm, sqrtm
from tests.spd.conftest import random_spd


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6))
def test_distance_log_exp_match_pyriemann(seed: int, n: int) -> None:
    X = random_spd(3, n, seed)
    A, B, P = (torch.from_numpy(m) for m in X)
    assert float(bw_distance(A, B)) == pytest.approx(distance_wasserstein(X[0], X[1]), abs=1e-10)
    V = bw_log(P, A)
    np.testing.assert_allclose(V.numpy(), log_map_wasserstein(X[0], X[2]), atol=1e-10)
    np.testing.assert_allclose(bw_exp(P, V).numpy(), exp_map_wasserstein(V.numpy(), X[2]), atol=1e-10)
    np.testing.assert_allclose(bw_exp(P, V).numpy(), X[0], atol=1e-9)


def test_barycentre_matches_pyriemann() -> None:
    X = random_spd(20, 6, 7)
    result = bw_barycentre(torch.from_numpy(X), tol=1e-14, max_iter=500)
    assert result.converged
    np.testing.assert_allclose(result.mean.numpy(), mean_wasserstein(X, tol=1e-14, maxiter=500), atol=1e-10)
    # The barycentre is a critical point: the tangent vectors to the batch sum to zero.
    logs = bw_log(result.mean, torch.from_numpy(X)).mean(0)
    assert float(logs.abs().max()) < 1e-10


def test_alvarez_esteban_beats_the_naive_iteration() -> None:
    eig = np.logspace(0, -4, 6)
    X = random_spd(30, 6, 8) * 0 + np.stack([q @ np.diag(eig) @ q.T for q in _rotations(30, 6, 8)])
    t = torch.from_numpy(X)
    fast = bw_barycentre(t, tol=1e-8, max_iter=500)
    slow = bw_barycentre(t, tol=1e-8, max_iter=500, method="naive")
    assert fast.converged and fast.n_iter < slow.n_iter
    with pytest.raises(ParameterError):
        bw_barycentre(t, method="newton")


def _rotations(k: int, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(k)]


def test_weighted_barycentre_of_two_is_on_the_geodesic() -> None:
    X = torch.from_numpy(random_spd(2, 4, 9))
    mean = bw_barycentre(X, torch.tensor([0.7, 0.3], dtype=torch.float64), tol=1e-14, max_iter=500).mean
    np.testing.assert_allclose(mean.numpy(), bw_geodesic(X[0], X[1], 0.3).numpy(), atol=1e-10)
    np.testing.assert_allclose(
        bw_geodesic(X[0], X[1], 0.4).numpy(),
        geodesic_wasserstein(X[0].numpy(), X[1].numpy(), 0.4),
        atol=1e-10,
    )


def test_exp_folds_past_the_end_of_the_geodesic() -> None:
    eye = torch.eye(3, dtype=torch.float64)
    np.testing.assert_allclose(bw_exp(eye, -3 * eye).numpy(), 0.25 * np.eye(3), atol=1e-14)
    assert float(fold_margin(eye, -3 * eye)) == pytest.approx(-0.5)
    assert float(fold_margin(eye, -eye)) == pytest.approx(0.5)
    with pytest.raises(ParameterError, match="folds"):
        bw_exp(eye, -3 * eye, strict=True)


def test_lyapunov_solves_its_equation() -> None:
    P, V = (torch.from_numpy(m) for m in random_spd(2, 5, 10))
    L = lyapunov(P, V)
    np.testing.assert_allclose((P @ L + L @ P).numpy(), V.numpy(), atol=1e-12)


def test_transport_between_commuting_points_is_an_isometry() -> None:
    G, V = (torch.from_numpy(m) for m in random_spd(2, 4, 11))
    eye = torch.eye(4, dtype=torch.float64)
    W = bw_transport(G, eye, V)

    def norm2(P: torch.Tensor, U: torch.Tensor) -> float:
        return float(0.5 * torch.trace(lyapunov(P, U) @ U))

    assert norm2(eye, W) == pytest.approx(norm2(G, V), rel=1e-12)
    np.testing.assert_allclose(bw_transport(eye, G, W).numpy(), V.numpy(), atol=1e-12)
    # At the identity, g_I(V, V) = |V|_F^2 / 4.
    assert norm2(eye, W) == pytest.approx(float((W**2).sum()) / 4, rel=1e-12)
    with pytest.raises(ParameterError, match="commuting"):
        bw_transport(G, V, W)


def test_gbw_is_the_pullback_and_locally_a_quarter_of_airm() -> None:
    X, Y, M = (torch.from_numpy(m) for m in random_spd(3, 4, 12))
    assert float(gbw_distance2(X, Y, None)) == pytest.approx(float(bw_distance2(X, Y)), rel=1e-12)
    direct = torch.trace(torch.linalg.solve(M, X)) + torch.trace(torch.linalg.solve(M, Y))
    inner = sqrtm(X) @ torch.linalg.solve(M, Y) @ torch.linalg.inv(M) @ sqrtm(X)
    direct = direct - 2 * torch.linalg.eigvals(inner).real.clamp_min(0).sqrt().sum()
    assert float(gbw_distance2(X, Y, M)) == pytest.approx(float(direct), rel=1e-9)
    S = torch.from_numpy(random_spd(1, 4, 13)[0]) - torch.eye(4, dtype=torch.float64)
    root = sqrtm(M)
    near = root @ torch.linalg.matrix_exp(1e-4 * S) @ root
    airm2 = float((logm(torch.linalg.solve(root, torch.linalg.solve(root, near).T)) ** 2).sum())
    assert float(gbw_distance2(M, near, M)) / airm2 == pytest.approx(0.25, rel=1e-3)


def test_power_deformation_tends_to_a_quarter_of_log_euclidean() -> None:
    X, Y = (torch.from_numpy(m) for m in random_spd(2, 4, 14))
    limit = float(((logm(X) - logm(Y)) ** 2).sum()) / 4
    values = [float(gbw_distance2(X, Y, None, theta)) for theta in (1.0, 0.1, 0.01, 0.001)]
    errors = [abs(v - limit) / limit for v in values]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-3
    with pytest.raises(ParameterError):
        gbw_distance2(X, Y, None, 0.0)


def test_gbw_barycentre_is_the_undeformed_bw_barycentre() -> None:
    X = torch.from_numpy(random_spd(8, 3, 15))
    M = torch.from_numpy(random_spd(1, 3, 16)[0])
    mean = gbw_barycentre(X, M, 0.5, tol=1e-13, max_iter=500).mean
    deformed = bw_barycentre(gbw_pullback(X, M, 0.5), tol=1e-13, max_iter=500).mean
    np.testing.assert_allclose(gbw_pullback(mean, M, 0.5).numpy(), deformed.numpy(), atol=1e-10)
