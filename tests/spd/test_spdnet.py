"""SPDNet layers: Stiefel weights that move and stay orthonormal, ReEig, LogEig, the classifier."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from covwb.errors import ParameterError
from covwb.spd.spdnet import BiMap, LogEig, ReEig, SPDNet, StiefelAdam
from covwb.spd.training import VARIANTS
from tests.spd.conftest import random_spd


def test_stiefel_weights_are_updated_and_stay_orthonormal() -> None:
    X = torch.from_numpy(random_spd(20, 6, 30))
    y = torch.arange(20) % 2
    net = SPDNet(6, 3, 2, "wasserstein", seed=1)
    before = net.bimap.weight.detach().clone()
    optimiser = StiefelAdam(net.parameters(), lr=1e-2)
    for _ in range(3):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(X), y).backward()
        optimiser.step()
    W = net.bimap.weight.detach()
    assert float((W - before).abs().max()) > 1e-3
    np.testing.assert_allclose((W.T @ W).numpy(), np.eye(3), atol=1e-12)


def test_bimap_reeig_logeig() -> None:
    X = torch.from_numpy(random_spd(3, 5, 31))
    bimap = BiMap(5, 2, generator=torch.Generator().manual_seed(0))
    W = bimap.weight.detach()
    np.testing.assert_allclose(bimap(X).detach().numpy(), (W.T @ X @ W).numpy(), atol=1e-14)
    with pytest.raises(ParameterError):
        BiMap(3, 4)
    low = torch.from_numpy(np.diag([1e-6, 1.0, 2.0]))[None]
    np.testing.assert_allclose(np.linalg.eigvalsh(ReEig(1e-3)(low)[0].numpy()), [1e-3, 1.0, 2.0], rtol=1e-12)
    v = LogEig()(X)
    assert v.shape == (3, 15)
    norms = [np.linalg.norm(scipy.linalg.logm(m).real) for m in X.numpy()]
    np.testing.assert_allclose(torch.linalg.vector_norm(v, dim=1).numpy(), norms, rtol=1e-10)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_gives_logits(variant: str) -> None:
    net = SPDNet(5, 3, 4, None if variant == "none" else variant, seed=0)
    logits = net(torch.from_numpy(random_spd(6, 5, 32)))
    assert logits.shape == (6, 4) and torch.isfinite(logits).all()
    with pytest.raises(ParameterError):
        SPDNet(5, 3, 4, "euclid")
