"""SPDBatchNorm: outputs' mean is the bias and dispersion the weight squared, under every metric."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from covwb.errors import ParameterError, SPDInputError
from covwb.spd.batchnorm import BATCHNORM_METRICS, SPDBatchNorm, karcher_mean_torch
from covwb.spd.bures_wasserstein import (
    bw_barycentre,
    bw_log,
    bw_transport,
    fold_margin,
    gbw_barycentre,
    gbw_distance2,
)
from covwb.spd.matrix_functions import logm, sqrtm_invsqrtm
from tests.spd.conftest import random_spd


def _randomise(layer: SPDBatchNorm, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.weight.fill_(0.7)
        for p in (layer.bias, layer.metric_M):
            if p is not None:
                p.skew.copy_(0.3 * torch.randn(p.skew.shape, generator=g, dtype=torch.float64))
                p.log_eigvals.copy_(0.3 * torch.randn(p.log_eigvals.shape, generator=g, dtype=torch.float64))


def _mean_and_dispersion(layer: SPDBatchNorm, out: torch.Tensor) -> tuple[torch.Tensor, float]:
    B = layer.bias_matrix().detach()
    if layer.metric == "riemann":
        mean = karcher_mean_torch(out, tol=1e-14, max_iter=200)[0]
        inv_root = sqrtm_invsqrtm(B)[1]
        d2 = (logm(inv_root @ out @ inv_root) ** 2).sum((-1, -2))
    elif layer.metric == "logeuclid":
        mean = torch.linalg.matrix_exp(logm(out).mean(0))
        d2 = ((logm(out) - logm(B)) ** 2).sum((-1, -2))
    else:
        M = None if layer.metric_M is None else layer.metric_M.matrix().detach()
        mean = gbw_barycentre(out, M, layer.theta, tol=1e-14, max_iter=1000).mean
        d2 = gbw_distance2(out, B, M, layer.theta)
    return mean - B, float(d2.mean())


@pytest.mark.parametrize("metric", list(BATCHNORM_METRICS))
@pytest.mark.parametrize("iterations", [0, 200])
def test_output_mean_is_the_bias_and_dispersion_the_weight_squared(metric: str, iterations: int) -> None:
    X = torch.from_numpy(random_spd(16, 4, 20))
    layer = SPDBatchNorm(4, metric, eps=0.0, mean_iterations=iterations, mean_tol=1e-14)
    _randomise(layer, 1)
    with torch.no_grad():
        out = layer(X)
    assert layer.last_fold_fraction == 0.0
    residual, dispersion = _mean_and_dispersion(layer, out)
    assert float(residual.abs().max()) < 1e-6
    assert dispersion == pytest.approx(0.49, abs=1e-6)


def test_dispersion_about_the_identity_misses_the_target() -> None:
    X = torch.from_numpy(3.0 * random_spd(16, 4, 21))
    layer = SPDBatchNorm(4, "wasserstein", eps=0.0, dispersion_about="identity", mean_iterations=100)
    with torch.no_grad():
        out = layer(X)
    _, dispersion = _mean_and_dispersion(layer, out)
    assert abs(dispersion - 0.25) > 0.05


@pytest.mark.parametrize("metric", list(BATCHNORM_METRICS))
def test_eval_mode_uses_the_running_statistics(metric: str) -> None:
    X = torch.from_numpy(random_spd(10, 3, 22))
    layer = SPDBatchNorm(3, metric, momentum=1.0, mean_iterations=100, mean_tol=1e-14)
    with torch.no_grad():
        train_out = layer(X)
        layer(X)
        layer.eval()
        eval_out = layer(X)
    np.testing.assert_allclose(eval_out.numpy(), train_out.numpy(), atol=1e-8)
    assert int(layer.num_batches_tracked) == 2


@pytest.mark.parametrize("metric", list(BATCHNORM_METRICS))
def test_gradients_are_exact_and_reach_every_parameter(metric: str) -> None:
    X = torch.from_numpy(random_spd(4, 3, 23))
    layer = SPDBatchNorm(3, metric)
    layer(X)
    layer.eval()
    _randomise(layer, 2)
    Xg = X.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda A: layer((A + A.transpose(-1, -2)) / 2), (Xg,))
    layer.train()
    layer.zero_grad()
    (layer(X) * torch.from_numpy(random_spd(4, 3, 24))).sum().backward()
    for name, param in layer.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert float(param.grad.abs().max()) > 0, name


def test_gradient_is_finite_at_the_initial_identity_bias() -> None:
    layer = SPDBatchNorm(4, "gbw")
    (layer(torch.from_numpy(random_spd(6, 4, 25))) ** 2).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())


def test_folding_is_reported() -> None:
    X = torch.from_numpy(random_spd(10, 4, 26, samples=4))
    layer = SPDBatchNorm(4, "wasserstein", weight_init=3.0)
    with torch.no_grad():
        layer(X)
    assert layer.last_fold_fraction > 0


def _batch_with_low_outliers(n_matrices: int, n: int, seed: int) -> torch.Tensor:
    """Matrices near the identity, two of them with almost no power along one direction."""
    X = random_spd(n_matrices, n, seed, samples=200)
    shrink = np.eye(n)
    shrink[0, 0] = 0.05
    X[:2] = shrink @ X[:2] @ shrink
    return torch.from_numpy(X)


def test_fold_mask_is_the_fold_margin_of_each_exponential() -> None:
    """Folding as defined by ``fold_margin``, recomputed from the BW formulas for a random bias."""
    X = _batch_with_low_outliers(24, 4, 30)
    layer = SPDBatchNorm(4, "wasserstein", eps=0.0, mean_iterations=500, mean_tol=1e-14, weight_init=0.8)
    _randomise(layer, 4)
    with torch.no_grad():
        layer.weight.fill_(0.8)
        layer(X)
        B = layer.bias_matrix()
    G = bw_barycentre(X, tol=1e-14, max_iter=500).mean
    eye = torch.eye(4, dtype=torch.float64)
    W = bw_transport(G, eye, bw_log(G, X))
    W_hat = W - W.mean(0)
    scale = 0.8 / torch.sqrt((W_hat**2).sum() / (4 * len(X)))
    margin = fold_margin(B, bw_transport(eye, B, scale * W_hat))
    assert bool((margin <= 0).any()) and bool((margin > 0).any())
    assert torch.equal(layer.last_fold_mask, margin <= 0)
    assert layer.last_fold_fraction == pytest.approx(float((margin <= 0).double().mean()))


@pytest.mark.parametrize("metric", list(BATCHNORM_METRICS))
def test_outputs_do_not_depend_on_the_input_scale(metric: str) -> None:
    """So scaling the inputs can neither cause nor prevent folding."""
    X = _batch_with_low_outliers(24, 4, 31)
    layers = [SPDBatchNorm(4, metric, eps=0.0, mean_iterations=3, weight_init=0.8) for _ in range(2)]
    with torch.no_grad():
        small, large = layers[0](X), layers[1](1e4 * X)
    np.testing.assert_allclose(small.numpy(), large.numpy(), rtol=1e-7, atol=1e-9)
    assert torch.equal(layers[0].last_fold_mask, layers[1].last_fold_mask)
    assert layers[0].last_fold_fraction == (0.0 if metric in ("riemann", "logeuclid") else 2 / 24)


def test_bad_settings_and_batches_raise_typed_errors() -> None:
    with pytest.raises(ParameterError, match="'euclid'.*choose one of 'riemann', 'logeuclid', 'wasserstein'"):
        SPDBatchNorm(3, "euclid")
    with pytest.raises(ParameterError, match="now called 'wasserstein'"):
        SPDBatchNorm(3, "bw")
    with pytest.raises(ParameterError):
        SPDBatchNorm(3, "wasserstein", theta=0.5)
    with pytest.raises(ParameterError):
        SPDBatchNorm(3, "gbw_theta", theta=0.0)
    layer = SPDBatchNorm(3, "wasserstein")
    with pytest.raises(ParameterError, match="at least 2"):
        layer(torch.eye(3, dtype=torch.float64)[None])
    with pytest.raises(SPDInputError, match="shape"):
        layer(torch.eye(4, dtype=torch.float64).expand(5, 4, 4))
    bad = torch.from_numpy(random_spd(5, 3, 27))
    bad[2, 0, 1] = float("nan")
    with pytest.raises(SPDInputError, match="NaN"):
        layer(bad)


@pytest.mark.parametrize("metric", list(BATCHNORM_METRICS))
def test_refit_sets_running_statistics_so_eval_normalises_exactly(metric: str) -> None:
    X = torch.from_numpy(random_spd(16, 4, 28))
    layer = SPDBatchNorm(4, metric, eps=0.0, mean_tol=1e-14)
    _randomise(layer, 3)
    with torch.no_grad():
        layer(torch.from_numpy(3.0 * random_spd(16, 4, 29)))
    layer.eval()
    layer.refit(X, mean_iterations=200)
    assert not layer.training and layer.momentum == 0.1 and layer.mean_iterations == 0
    with torch.no_grad():
        out = layer(X)
    residual, dispersion = _mean_and_dispersion(layer, out)
    assert float(residual.abs().max()) < 1e-6
    assert dispersion == pytest.approx(0.49, abs=1e-6)


def test_karcher_mean_converges_on_a_spread_out_batch_where_a_fixed_step_diverges() -> None:
    """The SPD page's default synthetic batch: with step 1 the gradient norm grew from 1.7 to 4.1 in 50 iterations."""
    from covwb.covariance.karcher import karcher_mean as numpy_karcher_mean
    from covwb.spd.synthetic import synthetic_batch

    X = synthetic_batch(30, 8, 4.0, rank_deficient=True, ridge=1e-6, seed=0).matrices
    mean, iterations = karcher_mean_torch(torch.from_numpy(X), tol=1e-8, max_iter=50)
    assert iterations < 50
    reference = numpy_karcher_mean(X).mean
    assert np.linalg.norm(mean.numpy() - reference) <= 1e-8 * np.linalg.norm(reference)
    one_step = karcher_mean_torch(torch.from_numpy(X), max_iter=1)[0]  # Brooks et al.'s single step is unchanged
    root, inv_root = sqrtm_invsqrtm(torch.from_numpy(X).mean(0))
    expected = root @ torch.linalg.matrix_exp(logm(inv_root @ torch.from_numpy(X) @ inv_root).mean(0)) @ root
    torch.testing.assert_close(one_step, (expected + expected.mT) / 2, rtol=1e-12, atol=0)


@pytest.mark.parametrize("metric", list(BATCHNORM_METRICS))
def test_the_layer_says_whether_its_barycentre_met_the_tolerance(metric: str) -> None:
    X = torch.from_numpy(random_spd(12, 4, seed=3))
    converged = SPDBatchNorm(4, metric, mean_iterations=100, mean_tol=1e-8)
    converged(X)
    assert converged.last_mean_converged and converged.last_mean_iterations < 100
    capped = SPDBatchNorm(4, metric, mean_iterations=1, mean_tol=1e-8)
    capped(X)
    assert capped.last_mean_converged == (metric == "logeuclid")  # one step stops short unless closed-form
