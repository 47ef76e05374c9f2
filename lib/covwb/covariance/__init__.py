"""Covariance estimation and the SPD geometry of covariance matrices (numpy, pyRiemann).

:func:`covariance` and :func:`covariances` estimate one matrix or a batch (sample, Ledoit-Wolf, OAS or
fixed shrinkage); :data:`SPD_METRICS` is the workbench's one vocabulary of SPD metrics (pyRiemann's names,
shared with the torch code of :mod:`covwb.spd`), of which this package computes :data:`NUMPY_METRICS`:
distances, means, a 2-D map and their summary (:func:`summarise_geometry`). :func:`karcher_mean` is the
package's numpy affine-invariant (Karcher) mean, with the tangent vectors at the mean.

Examples
--------
>>> import numpy as np
>>> from covwb.covariance import covariances, pairwise_distances
>>> X = np.random.default_rng(0).standard_normal((5, 3, 200))  # 5 trials, 3 channels, 200 samples
>>> covs = covariances(X, "oas")
>>> covs.shape, pairwise_distances(covs, "riemann").shape
((5, 3, 3), (5, 5))
"""

from covwb.covariance.estimators import (
    ESTIMATORS,
    Spectrum,
    correlation,
    covariance,
    covariances,
    shrink_scatter,
    spectrum,
)
from covwb.covariance.geometry import (
    NUMPY_METRICS,
    SPD_METRICS,
    GeometrySummary,
    Metric,
    check_metric,
    check_spd_stack,
    mds_embedding,
    mean_covariance,
    pairwise_distances,
    summarise_geometry,
)
from covwb.covariance.karcher import (
    KarcherMean,
    WhitenedLogs,
    karcher_mean,
    riemann_logs,
    tangent_vectors,
    whitened_logs,
)

__all__ = [
    "ESTIMATORS",
    "NUMPY_METRICS",
    "SPD_METRICS",
    "GeometrySummary",
    "KarcherMean",
    "Metric",
    "Spectrum",
    "WhitenedLogs",
    "check_metric",
    "check_spd_stack",
    "correlation",
    "covariance",
    "covariances",
    "karcher_mean",
    "mds_embedding",
    "mean_covariance",
    "pairwise_distances",
    "riemann_logs",
    "shrink_scatter",
    "spectrum",
    "summarise_geometry",
    "tangent_vectors",
    "whitened_logs",
]
