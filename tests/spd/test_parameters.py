"""Learnable SPD parameters and the Stiefel retraction."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from covwb.spd.parameters import SPDParameter, project_stiefel_grad_, retract_stiefel_
from tests.spd.conftest import random_spd


def test_spd_parameter_starts_at_identity_and_can_be_set() -> None:
    param = SPDParameter(4)
    np.testing.assert_allclose(param.matrix().detach().numpy(), np.eye(4), atol=1e-15)
    P = random_spd(1, 4, 50)[0]
    param.set_(torch.from_numpy(P))
    np.testing.assert_allclose(param.matrix().detach().numpy(), P, atol=1e-10)
    root, inv_root = (m.detach().numpy() for m in param.powers(0.5, -0.5))
    np.testing.assert_allclose(root, scipy.linalg.sqrtm(P).real, atol=1e-10)
    np.testing.assert_allclose(root @ inv_root, np.eye(4), atol=1e-10)
    np.testing.assert_allclose(param.log().detach().numpy(), scipy.linalg.logm(P).real, atol=1e-10)
    values, vectors = (m.detach().numpy() for m in param.eig())
    np.testing.assert_allclose(vectors @ np.diag(values) @ vectors.T, P, atol=1e-10)


def test_stiefel_projection_and_retraction() -> None:
    W = torch.from_numpy(np.random.default_rng(51).standard_normal((5, 3)))
    retract_stiefel_(W)
    np.testing.assert_allclose((W.T @ W).numpy(), np.eye(3), atol=1e-14)
    before = W.clone()
    retract_stiefel_(W)
    np.testing.assert_allclose(W.numpy(), before.numpy(), atol=1e-14)
    W.grad = torch.from_numpy(np.random.default_rng(52).standard_normal((5, 3)))
    project_stiefel_grad_(W)
    tangent = W.T @ W.grad
    np.testing.assert_allclose((tangent + tangent.T).numpy(), np.zeros((3, 3)), atol=1e-14)
