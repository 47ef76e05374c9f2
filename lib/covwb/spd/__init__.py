"""SPD networks in torch: geometry under the workbench's metric names, Riemannian batch normalisation, SPDNet, training.

The metric names are those of :data:`covwb.covariance.SPD_METRICS`, shared with the numpy code:
``riemann``, ``logeuclid``, ``wasserstein``, ``euclid`` (pyRiemann's) and the generalised Bures-Wasserstein
``gbw`` and ``gbw_theta``. :class:`SPDBatchNorm` and the SPDNet layers are ``torch.nn.Module`` s; the
geometry functions take batches ``(..., n, n)`` and are differentiable. :func:`train_spdnet` trains one
batch-norm variant and reports its model, split, learning curves and folding; :func:`plan_training`
describes several variants × seeds as a :class:`covwb.jobs.Plan`. :mod:`covwb.spd.demos` holds the SPD page's
geometry panels.

Examples
--------
>>> import torch
>>> from covwb.spd import SPDBatchNorm, distance
>>> X = torch.stack([torch.diag(torch.tensor([1.0, s], dtype=torch.float64)) for s in (0.5, 1.0, 2.0, 4.0)])
>>> layer = SPDBatchNorm(2, "wasserstein")
>>> out = layer(X)
>>> out.shape, layer.last_fold_fraction
(torch.Size([4, 2, 2]), 0.0)
>>> round(float(distance(X[0], X[3], "riemann")), 4)
2.0794
"""

from covwb.spd.batchnorm import BATCHNORM_METRICS, SPDBatchNorm, karcher_mean_torch
from covwb.spd.bures_wasserstein import (
    BarycentreResult,
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
from covwb.spd.geometry import DEFAULT_THETA, distance, metric_theta, pairwise_distances_torch
from covwb.spd.matrix_functions import expm, invsqrtm, logm, powm, rectify, sqrtm, sqrtm_invsqrtm, sym
from covwb.spd.parameters import SPDParameter
from covwb.spd.spdnet import BiMap, LogEig, ReEig, SPDNet, StiefelAdam
from covwb.spd.synthetic import SyntheticBatch, synthetic_batch
from covwb.spd.training import (
    VARIANTS,
    EpochRecord,
    TrainConfig,
    TrainResult,
    all_curves,
    convergence_warnings,
    plan_training,
    summarise,
    train_spdnet,
    variant_warnings,
)

__all__ = [
    "BATCHNORM_METRICS",
    "DEFAULT_THETA",
    "VARIANTS",
    "BarycentreResult",
    "BiMap",
    "EpochRecord",
    "LogEig",
    "ReEig",
    "SPDBatchNorm",
    "SPDNet",
    "SPDParameter",
    "StiefelAdam",
    "SyntheticBatch",
    "TrainConfig",
    "TrainResult",
    "all_curves",
    "bw_barycentre",
    "bw_distance",
    "bw_distance2",
    "bw_exp",
    "bw_geodesic",
    "bw_log",
    "bw_transport",
    "convergence_warnings",
    "distance",
    "expm",
    "fold_margin",
    "gbw_barycentre",
    "gbw_distance2",
    "gbw_pullback",
    "invsqrtm",
    "karcher_mean_torch",
    "logm",
    "lyapunov",
    "metric_theta",
    "pairwise_distances_torch",
    "plan_training",
    "powm",
    "rectify",
    "sqrtm",
    "sqrtm_invsqrtm",
    "summarise",
    "sym",
    "synthetic_batch",
    "train_spdnet",
    "variant_warnings",
]
