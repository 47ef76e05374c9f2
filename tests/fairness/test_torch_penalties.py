"""Differentiable mini-batch penalties against dcor, the JdCov expansion and autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from covwb.errors import ParameterError
from covwb.fairness.torch_penalties import (
    ccdcov_sq,
    dcov_sq,
    distances,
    jdcov_sq,
    penalty,
    u_centre,
)


def _batch(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, list[torch.Tensor]]:
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, n)
    region = np.eye(3)[rng.integers(0, 3, n)]
    age = rng.uniform(size=n)
    y = gender + region[:, 0] * age + 0.3 * rng.standard_normal(n)
    blocks = [torch.tensor(gender[:, None], dtype=torch.float64), torch.tensor(region), torch.tensor(age[:, None])]
    return torch.tensor(y), blocks


@pytest.mark.parametrize("unbiased", [True, False])
def test_dcov_and_ccdcov_match_dcor(dcor, unbiased: bool) -> None:
    y, blocks = _batch()
    reference = dcor.u_distance_covariance_sqr if unbiased else dcor.distance_covariance_sqr
    z = torch.cat(blocks, dim=1).numpy()
    assert float(ccdcov_sq(y, blocks, unbiased=unbiased)) == pytest.approx(reference(y.numpy(), z), rel=1e-10)
    assert float(dcov_sq(y, blocks[1], unbiased=unbiased)) == pytest.approx(
        reference(y.numpy(), blocks[1].numpy()), rel=1e-10
    )
    total = sum(reference(y.numpy(), b.numpy()) for b in blocks)
    assert float(penalty("dcov", y, blocks, unbiased=unbiased)) == pytest.approx(total, rel=1e-10)


def test_jdcov_of_two_variables_is_the_u_statistic(dcor) -> None:
    y, blocks = _batch()
    for c in (0.5, 1.0, 2.0):
        assert float(jdcov_sq(y, blocks[1:2], c=c)) == pytest.approx(
            dcor.u_distance_covariance_sqr(y.numpy(), blocks[1].numpy()), rel=1e-9, abs=1e-12
        )


def test_jdcov_expansion_with_three_variables(dcor) -> None:
    y, blocks = _batch(n=50, seed=1)
    a, b = blocks[0], blocks[2]
    n = 50
    variables = [y.numpy(), a.numpy(), b.numpy()]
    pairs = sum(dcor.u_distance_covariance_sqr(variables[i], variables[j]) for i in range(3) for j in range(i + 1, 3))
    off = 1 - torch.eye(n, dtype=torch.float64)
    third = float((torch.stack([-u_centre(distances(t)) for t in (y, a, b)]).prod(0) * off).sum()) / (n * (n - 3))
    for c in (0.5, 1.0):
        assert float(jdcov_sq(y, [a, b], c=c)) == pytest.approx(c * pairs + third, rel=1e-9)


def _double_centred(sample: np.ndarray) -> np.ndarray:
    """Double-centred distance matrix in numpy (independent of the torch code)."""
    from scipy.spatial.distance import cdist

    points = sample.reshape(len(sample), -1)
    a = cdist(points, points)
    return a - a.mean(axis=0, keepdims=True) - a.mean(axis=1, keepdims=True) + a.mean()


def test_jdcov_v_statistic_of_two_variables_is_the_v_statistic_dcov(dcor) -> None:
    y, blocks = _batch()
    for c in (0.5, 1.0, 2.0):
        assert float(jdcov_sq(y, blocks[1:2], c=c, unbiased=False)) == pytest.approx(
            dcor.distance_covariance_sqr(y.numpy(), blocks[1].numpy()), rel=1e-10
        )


def test_jdcov_v_statistic_matches_its_definition_and_expansion(dcor) -> None:
    y, blocks = _batch(n=50, seed=3)
    variables = [y.numpy(), blocks[0].numpy(), blocks[1].numpy(), blocks[2].numpy()]
    n = 50
    centred = [-_double_centred(v) for v in variables]
    pairs = sum(dcor.distance_covariance_sqr(variables[i], variables[j]) for i in range(4) for j in range(i + 1, 4))
    triples = sum(
        (centred[i] * centred[j] * centred[k]).sum() / n**2
        for i in range(4)
        for j in range(i + 1, 4)
        for k in range(j + 1, 4)
    )
    fourth = np.prod(centred, axis=0).sum() / n**2
    for c in (0.5, 1.0, 2.0):
        definition = np.prod([u + c for u in centred], axis=0).sum() / n**2 - c**4
        value = float(jdcov_sq(y, blocks, c=c, unbiased=False))
        assert value == pytest.approx(definition, rel=1e-10)
        assert value == pytest.approx(c**2 * pairs + c * triples + fourth, rel=1e-9)


def test_jdcov_is_positive_for_dependent_attributes_even_when_predictions_are_independent() -> None:
    rng = np.random.default_rng(4)
    n = 600
    z = rng.standard_normal(n)
    blocks = [torch.tensor(z[:, None]), torch.tensor((z + 0.1 * rng.standard_normal(n))[:, None])]
    y = torch.tensor(rng.standard_normal(n))
    assert float(jdcov_sq(y, blocks)) > 0.2
    assert abs(float(ccdcov_sq(y, blocks))) < 0.01


@pytest.mark.parametrize("kind", ["dcov", "jdcov", "ccdcov"])
def test_gradients_are_finite_at_tied_predictions_and_match_finite_differences(kind: str) -> None:
    y, blocks = _batch(n=12, seed=2)
    tied = y.clone()
    tied[:4] = 0.5
    tied.requires_grad_(True)
    penalty(kind, tied, blocks).backward()
    assert torch.isfinite(tied.grad).all()
    free = y.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: penalty(kind, t, blocks), (free,))


def test_multivariate_predictions_use_cdist_without_nan_gradient() -> None:
    _, blocks = _batch(n=10)
    outputs = torch.zeros((10, 3), dtype=torch.float64, requires_grad=True)
    dcov_sq(outputs, blocks[1]).backward()
    assert torch.isfinite(outputs.grad).all()


def test_bad_calls_are_parameter_errors() -> None:
    y, blocks = _batch(n=10)
    with pytest.raises(ParameterError, match="Unknown penalty"):
        penalty("gini", y, blocks)
    with pytest.raises(ParameterError, match="at least one"):
        penalty("ccdcov", y, [])
    with pytest.raises(ParameterError, match="too small"):
        penalty("ccdcov", y[:3], [b[:3] for b in blocks])
    with pytest.raises(ParameterError, match="positive"):
        jdcov_sq(y, blocks, c=0.0)
