"""Eigh-based matrix functions: values against SciPy, gradients against finite differences, ties."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from covwb.spd.matrix_functions import (
    expm,
    invsqrtm,
    logm,
    powm,
    rectify,
    sqrtm,
    sqrtm_invsqrtm,
    sym,
)
from tests.spd.conftest import random_spd


def test_values_match_scipy() -> None:
    X = random_spd(4, 5, 1)
    t = torch.from_numpy(X)
    for i in range(4):
        np.testing.assert_allclose(sqrtm(t)[i].numpy(), scipy.linalg.sqrtm(X[i]).real, atol=1e-10)
        np.testing.assert_allclose(logm(t)[i].numpy(), scipy.linalg.logm(X[i]).real, atol=1e-10)
        np.testing.assert_allclose(
            powm(t, 0.3)[i].numpy(), scipy.linalg.fractional_matrix_power(X[i], 0.3).real, atol=1e-10
        )
    root, inv_root = sqrtm_invsqrtm(t)
    np.testing.assert_allclose((root @ inv_root).numpy(), np.broadcast_to(np.eye(5), (4, 5, 5)), atol=1e-10)
    np.testing.assert_allclose(expm(logm(t)).numpy(), X, atol=1e-10)
    np.testing.assert_allclose(invsqrtm(t).numpy(), inv_root.numpy(), atol=1e-12)


@pytest.mark.parametrize("fn", [sqrtm, invsqrtm, logm, lambda X: powm(X, -0.7), expm, lambda X: sqrtm_invsqrtm(X)[1]])
def test_gradients_match_finite_differences(fn) -> None:
    X = torch.from_numpy(random_spd(3, 4, 2) + 0.2 * np.eye(4)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda A: fn(sym(A)), (X,))


def test_gradient_is_finite_and_exact_at_equal_eigenvalues() -> None:
    # d log(X)[E] at X = c I is E / c, so the gradient of <log X, W> is sym(W) / c.
    W = torch.from_numpy(np.random.default_rng(3).standard_normal((4, 4)))
    X = (2.5 * torch.eye(4, dtype=torch.float64)).requires_grad_(True)
    (logm(X) * W).sum().backward()
    np.testing.assert_allclose(X.grad.numpy(), ((W + W.T) / 2 / 2.5).numpy(), atol=1e-12)


def test_gradient_at_repeated_eigenvalues_matches_finite_differences() -> None:
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    X = torch.from_numpy(Q @ np.diag([1.0, 1.0, 1.0, 3.0]) @ Q.T).requires_grad_(True)
    for fn in (sqrtm, logm, lambda A: powm(A, 0.5)):
        assert torch.autograd.gradcheck(lambda A, fn=fn: fn(sym(A)), (X,))


def test_rectify_clamps_eigenvalues_and_blocks_their_gradient() -> None:
    Q, _ = np.linalg.qr(np.random.default_rng(5).standard_normal((3, 3)))
    X = torch.from_numpy(Q @ np.diag([1e-6, 0.5, 2.0]) @ Q.T).requires_grad_(True)
    Y = rectify(X, 1e-2)
    np.testing.assert_allclose(np.linalg.eigvalsh(Y.detach().numpy()), [1e-2, 0.5, 2.0], rtol=1e-10)
    u = torch.from_numpy(Q[:, 0])
    (Y * torch.outer(u, u)).sum().backward()
    assert float(u @ X.grad @ u) == pytest.approx(0.0, abs=1e-12)


def test_float32_is_supported() -> None:
    X = torch.from_numpy(random_spd(2, 4, 6)).float()
    assert sqrtm(X).dtype == torch.float32
    np.testing.assert_allclose((sqrtm(X) @ sqrtm(X)).numpy(), X.numpy(), rtol=1e-4, atol=1e-5)
