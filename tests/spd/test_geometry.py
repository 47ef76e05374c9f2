"""One metric vocabulary: the torch distances against pyRiemann's under the same names, and the GBW family."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from covwb.covariance import geometry as numpy_geometry
from covwb.covariance.geometry import SPD_METRICS, check_metric
from covwb.errors import ParameterError
from covwb.spd.batchnorm import BATCHNORM_METRICS
from covwb.spd.geometry import distance, metric_theta, pairwise_distances_torch
from covwb.spd.matrix_functions import invsqrtm, powm
from covwb.spd.training import VARIANTS
from tests.spd.conftest import random_spd


def test_one_registry_names_every_metric_of_both_backends() -> None:
    assert list(SPD_METRICS) == ["riemann", "logeuclid", "wasserstein", "euclid", "gbw", "gbw_theta"]
    assert list(numpy_geometry.NUMPY_METRICS) == ["riemann", "logeuclid", "wasserstein", "euclid"]
    assert list(BATCHNORM_METRICS) == ["riemann", "logeuclid", "wasserstein", "gbw", "gbw_theta"]
    assert list(VARIANTS) == ["none", *BATCHNORM_METRICS]
    assert [VARIANTS[m] for m in BATCHNORM_METRICS] == ["AIRM-BN", "LEM-BN", "BW-BN", "GBW-BN", "θ-GBW-BN"]
    assert {m.family for m in SPD_METRICS.values()} == set(numpy_geometry.NUMPY_METRICS)


@pytest.mark.parametrize("metric", list(numpy_geometry.NUMPY_METRICS))
def test_torch_distances_equal_pyriemanns_under_the_same_name(metric: str) -> None:
    from pyriemann.geometry.distance import pairwise_distance

    X = random_spd(6, 4, 50)
    ours = pairwise_distances_torch(torch.from_numpy(X), metric).numpy()
    np.testing.assert_allclose(ours, pairwise_distance(X, metric=metric), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours, numpy_geometry.pairwise_distances(X, metric), rtol=1e-8, atol=1e-10)


def test_gbw_family_is_bw_after_congruence_and_power() -> None:
    X = torch.from_numpy(random_spd(5, 3, 51))
    M = torch.from_numpy(random_spd(1, 3, 52)[0])
    bw = pairwise_distances_torch(X, "wasserstein")
    torch.testing.assert_close(pairwise_distances_torch(X, "gbw"), bw)
    W = invsqrtm(M)
    torch.testing.assert_close(
        pairwise_distances_torch(X, "gbw", M=M), pairwise_distances_torch(W @ X @ W, "wasserstein")
    )
    torch.testing.assert_close(pairwise_distances_torch(X, "gbw_theta", theta=1.0), bw)
    torch.testing.assert_close(
        pairwise_distances_torch(X, "gbw_theta"), 2 * pairwise_distances_torch(powm(X, 0.5), "wasserstein")
    )
    # theta -> 0: half the log-Euclidean distance (the method note's limit, 1/4 of it squared).
    small = pairwise_distances_torch(X, "gbw_theta", theta=1e-4)
    torch.testing.assert_close(small, pairwise_distances_torch(X, "logeuclid") / 2, rtol=1e-3, atol=0.0)
    assert metric_theta("gbw_theta") == 0.5 and metric_theta("gbw_theta", 0.25) == 0.25


def test_former_and_unknown_names_are_refused_with_the_new_name() -> None:
    X = torch.from_numpy(random_spd(3, 2, 53))
    for former, new in (("airm", "riemann"), ("lem", "logeuclid"), ("bw", "wasserstein"), ("pgbw", "gbw_theta")):
        with pytest.raises(ParameterError, match=f"now called '{new}'"):
            distance(X[0], X[1], former)
    with pytest.raises(ParameterError, match="choose one of 'riemann'"):
        check_metric("kullback")
    with pytest.raises(ParameterError, match="'gbw' metrics"):
        distance(X[0], X[1], "wasserstein", M=X[2])
    with pytest.raises(ParameterError, match="gbw_theta"):
        distance(X[0], X[1], "riemann", theta=0.5)
    with pytest.raises(ParameterError, match="non-zero"):
        metric_theta("gbw_theta", 0.0)
