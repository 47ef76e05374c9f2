"""Fused BW batch-norm steps: values against the unfused formulas, gradients against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from covwb.spd.bw_fused import exp_at_bias, whitened_sqrt
from covwb.spd.matrix_functions import sqrtm, sym
from tests.spd.conftest import random_spd


def _orthogonal(n: int, seed: int) -> torch.Tensor:
    return torch.linalg.qr(torch.randn(n, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))[0]


def _spd(n: int, seed: int) -> torch.Tensor:
    return torch.from_numpy(random_spd(1, n, seed)[0] + 0.5 * np.eye(n))


def test_whitened_sqrt_matches_the_unfused_formula() -> None:
    X = torch.from_numpy(random_spd(5, 4, 30))
    V, N = torch.randn(4, 4, generator=torch.Generator().manual_seed(31), dtype=torch.float64), _spd(4, 32)
    K = sym(torch.rand(4, 4, generator=torch.Generator().manual_seed(33), dtype=torch.float64))
    C = N @ V
    expected = K * sqrtm(C.T @ X @ C)
    got = whitened_sqrt(X, V, K, N, torch.linalg.inv(N))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-12)


def test_whitened_sqrt_gradients_match_finite_differences() -> None:
    X = torch.from_numpy(random_spd(3, 4, 34)).requires_grad_(True)
    V = _orthogonal(4, 35) * torch.tensor([1.0, 0.7, 1.3, 0.9], dtype=torch.float64)
    K = sym(torch.rand(4, 4, generator=torch.Generator().manual_seed(36), dtype=torch.float64)) + 0.5
    N = _spd(4, 37).requires_grad_(True)

    def fn(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        Bs = sym(B)
        return whitened_sqrt(sym(A), V, K, Bs, torch.linalg.inv(Bs).detach())

    assert torch.autograd.gradcheck(fn, (X, N))
    assert torch.autograd.gradcheck(lambda A: whitened_sqrt(sym(A), V), (X,))


def test_exp_at_bias_matches_the_unfused_formula() -> None:
    n = 4
    W = sym(torch.randn(3, n, n, generator=torch.Generator().manual_seed(40), dtype=torch.float64)) / 4
    b, Q, U = torch.tensor([0.5, 1.0, 1.5, 2.2], dtype=torch.float64), _orthogonal(n, 41), _orthogonal(n, 42)
    N = _spd(n, 43)
    s = torch.tensor(0.8, dtype=torch.float64)
    P = Q.T @ U
    L = s / (2 * (b[:, None] + b[None, :])).sqrt() * (P @ W @ P.T)
    IL = torch.eye(n, dtype=torch.float64) + L
    A = torch.linalg.inv(N) @ Q
    expected = A @ IL @ torch.diag(b) @ IL @ A.T
    out, step = exp_at_bias(W, s, b, Q, U, N, torch.linalg.inv(N))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(step.numpy(), IL.numpy(), atol=1e-14)
    assert not step.requires_grad


@pytest.mark.parametrize("with_metric", [False, True])
def test_exp_at_bias_gradients_match_finite_differences(with_metric: bool) -> None:
    n = 4
    W = sym(torch.randn(3, n, n, generator=torch.Generator().manual_seed(44), dtype=torch.float64)).requires_grad_(True)
    s = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.5, 1.0, 1.5, 2.2], dtype=torch.float64, requires_grad=True)
    Q, U = _orthogonal(n, 45).requires_grad_(True), _orthogonal(n, 46)
    N = _spd(n, 47).requires_grad_(True)

    def fn(W_, s_, b_, Q_, N_):
        if not with_metric:
            return exp_at_bias(sym(W_), s_, b_, Q_, U)[0]
        Ns = sym(N_)
        return exp_at_bias(sym(W_), s_, b_, Q_, U, Ns, torch.linalg.inv(Ns).detach())[0]

    assert torch.autograd.gradcheck(fn, (W, s, b, Q, N))
