"""SPD geometry for the covariance explorer: validation, distances, means and a 2-D map.

Distances and means come from pyRiemann (``pyriemann.geometry.*``), imported inside the
functions because pyRiemann loads PyTorch. The 2-D map is classical (Torgerson) MDS: one
symmetric eigendecomposition of the double-centred squared distances, which is exact for
Euclidean-embeddable distances, deterministic, and much faster than SMACOF.

Units: for covariances in ``u**2``, Euclidean and Bures-Wasserstein distances are in ``u**2``
and ``u`` respectively; affine-invariant and log-Euclidean distances are unitless (log-ratios).

:data:`SPD_METRICS` is the workbench's one vocabulary of SPD metrics, shared by this numpy module
and the torch code of :mod:`covwb.spd` (distances, batch-norm layers, training variants), the
figures and the pages: pyRiemann's names ``riemann``, ``logeuclid``, ``wasserstein`` and
``euclid``, plus the generalised Bures-Wasserstein family of Han et al. (2021) and Wang et al.
(2025), which pyRiemann does not have:

* ``gbw``: Bures-Wasserstein after the congruence ``X -> M^-1/2 X M^-1/2`` by an SPD matrix ``M``
  (``M = I`` is ``wasserstein``);
* ``gbw_theta``: ``gbw`` of the powers ``X^theta``, distances divided by ``|theta|`` (theta -> 0
  tends to half the log-Euclidean distance).

This module computes the metrics that pyRiemann has (:data:`NUMPY_METRICS`); the GBW family needs the
matrix ``M`` and lives in :mod:`covwb.spd`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from covwb.errors import ParameterError, SPDInputError


@dataclass(frozen=True)
class Metric:
    """One SPD metric of the workbench's vocabulary.

    Parameters
    ----------
    name : str
        Key used by every function, layer, figure and page (pyRiemann's name where pyRiemann has it).
    label : str
        Name for people ("Affine-invariant").
    short : str
        Abbreviation for legends and tables ("AIRM").
    family : {"riemann", "logeuclid", "wasserstein", "euclid"}
        Geometry it generalises: the GBW metrics belong to the ``"wasserstein"`` family.
    numpy : bool
        Computed by this module (pyRiemann): distances, means, the explorer.
    batch_norm : bool
        A metric of :class:`covwb.spd.batchnorm.SPDBatchNorm` and a training variant.
    """

    name: str
    label: str
    short: str
    family: str
    numpy: bool
    batch_norm: bool


SPD_METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("riemann", "Affine-invariant", "AIRM", "riemann", numpy=True, batch_norm=True),
        Metric("logeuclid", "Log-Euclidean", "LEM", "logeuclid", numpy=True, batch_norm=True),
        Metric("wasserstein", "Bures-Wasserstein", "BW", "wasserstein", numpy=True, batch_norm=True),
        Metric("euclid", "Euclidean", "Euclid", "euclid", numpy=True, batch_norm=False),
        Metric("gbw", "Generalised Bures-Wasserstein", "GBW", "wasserstein", numpy=False, batch_norm=True),
        Metric("gbw_theta", "Power-deformed generalised Bures-Wasserstein", "θ-GBW", "wasserstein", False, True),
    )
}
"""Every SPD metric name of the workbench, with its labels and where it is computed."""

NUMPY_METRICS: dict[str, str] = {m.name: m.label for m in SPD_METRICS.values() if m.numpy}
"""The metrics this module computes (pyRiemann's), name to label."""

RENAMED_METRICS: dict[str, str] = {"airm": "riemann", "lem": "logeuclid", "bw": "wasserstein", "pgbw": "gbw_theta"}
"""Names the torch code used before the one vocabulary, and the names that replace them (for error messages)."""


def check_metric(name: str, among: Iterable[str] | None = None) -> Metric:
    """The :class:`Metric` called ``name``, or a :class:`ParameterError` that lists the accepted names.

    Parameters
    ----------
    name : str
        A key of :data:`SPD_METRICS`.
    among : iterable of str, optional
        The names accepted where it is used (by default all of :data:`SPD_METRICS`).

    Returns
    -------
    Metric

    Raises
    ------
    ParameterError
        ``name`` is not accepted; the message names the accepted ones, and the new name of a former
        one (``"airm"`` is now ``"riemann"``).

    Examples
    --------
    >>> check_metric("wasserstein").short
    'BW'
    >>> check_metric("bw")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    covwb.errors.ParameterError: Unknown metric 'bw' (now called 'wasserstein'); choose one of ...
    """
    accepted = list(SPD_METRICS if among is None else among)
    if name not in accepted:
        hint = f" (now called {RENAMED_METRICS[name]!r})" if name in RENAMED_METRICS else ""
        known = ", ".join(repr(k) for k in accepted)
        raise ParameterError(f"Unknown metric {name!r}{hint}; choose one of {known}.")
    return SPD_METRICS[name]


_SYMMETRY_RTOL = 1e-8
_PAIR_CHUNK_FLOATS = 1 << 22


@dataclass(frozen=True, eq=False)
class GeometrySummary:
    """What the explorer shows for one stack of SPD matrices under one metric.

    Parameters
    ----------
    distances : ndarray, shape (n, n)
        Pairwise distances, symmetric with a zero diagonal.
    embedding : ndarray, shape (n, 2)
        Classical-MDS coordinates of the matrices, in the unit of the distances.
    mean : ndarray, shape (p, p)
        Mean matrix under the metric (the Fréchet mean).
    metric : str
        Key of :data:`NUMPY_METRICS`.
    settings : dict
        Everything needed to reproduce the summary (metric, label, embedding method, sizes).
    warnings : tuple of str
        What may make the summary wrong: a mean that stopped without converging (with what to do).
    """

    distances: np.ndarray
    embedding: np.ndarray
    mean: np.ndarray
    metric: str
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def check_spd_stack(covs: np.ndarray, *, name: str = "matrices", min_matrices: int = 2) -> np.ndarray:
    """Validate a stack of symmetric positive definite matrices.

    Parameters
    ----------
    covs : array_like, shape (n, p, p)
        Candidate SPD matrices.
    name : str
        What the matrices are called in error messages (``"uploaded matrices"``).
    min_matrices : int
        Fewest matrices accepted; 2 for anything that compares matrices.

    Returns
    -------
    ndarray, shape (n, p, p)
        The matrices as float64, exactly symmetrised (``(A + A.T) / 2``).

    Raises
    ------
    SPDInputError
        Not numeric, not of shape (n, p, p), too few matrices, a NaN/infinite entry, a matrix
        asymmetric beyond a relative tolerance of 1e-8, or one that is not positive definite;
        the sentence names the first bad matrix.
    """
    arr = np.asarray(covs)
    if arr.dtype.kind not in "biuf":
        raise SPDInputError(
            f"The {name} must be real numbers, got values of type {arr.dtype}; save them as a float array."
        )
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] == 0:
        raise SPDInputError(
            f"The {name} must form an array of shape (n, p, p), got shape {arr.shape}; "
            "stack square matrices along the first axis."
        )
    if arr.shape[0] < min_matrices:
        raise SPDInputError(
            f"Found {arr.shape[0]} of the {name}, but at least {min_matrices} are needed; provide more matrices."
        )
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr).all(axis=(1, 2))
    if not finite.all():
        idx = int(np.flatnonzero(~finite)[0])
        raise SPDInputError(
            f"Matrix {idx + 1} of the {name} holds a NaN or infinite value; remove it or re-estimate it."
        )
    half, half_t = arr / 2.0, arr.transpose(0, 2, 1) / 2.0  # halves first: no overflow near the float64 maximum
    asym = np.abs(half - half_t).max(axis=(1, 2))
    scale = np.abs(arr).max(axis=(1, 2))
    bad = asym > _SYMMETRY_RTOL * scale / 2.0
    if bad.any():
        idx = int(np.flatnonzero(bad)[0])
        raise SPDInputError(
            f"Matrix {idx + 1} of the {name} is not symmetric (largest difference between "
            f"entries (i, j) and (j, i) is {2.0 * asym[idx]:.3g}); provide covariance matrices, "
            "not arbitrary square ones."
        )
    sym = half + half_t
    try:
        np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        try:
            smallest = np.linalg.eigvalsh(sym)[:, 0]
        except np.linalg.LinAlgError:
            raise SPDInputError(
                f"The eigenvalues of the {name} could not be computed (entries up to {scale.max():.3g}); "
                "rescale the matrices, e.g. to the unit of the signal squared."
            ) from None
        relative = smallest / np.maximum(np.abs(sym).max(axis=(1, 2)), np.finfo(float).tiny)
        idx = int(np.argmin(relative))
        raise SPDInputError(
            f"Matrix {idx + 1} of the {name} is not positive definite (smallest eigenvalue "
            f"{smallest[idx]:.3g}); add shrinkage (Ledoit-Wolf/OAS) or a small ridge to the "
            "diagonal, or use fewer channels than samples."
        ) from None
    return sym


def _pairwise_wasserstein(covs: np.ndarray) -> np.ndarray:
    """Bures-Wasserstein distances (n, n) by pyRiemann, batched over chunks of pairs."""
    from pyriemann.geometry.distance import distance_wasserstein

    n, p, _ = covs.shape
    rows, cols = np.triu_indices(n, k=1)
    chunk = max(1, _PAIR_CHUNK_FLOATS // (p * p))
    upper = np.empty(rows.size)
    for start in range(0, rows.size, chunk):
        sl = slice(start, start + chunk)
        upper[sl] = distance_wasserstein(covs[rows[sl]], covs[cols[sl]])
    D = np.zeros((n, n))
    D[rows, cols] = upper
    return D + D.T


def pairwise_distances(covs: np.ndarray, metric: str = "riemann") -> np.ndarray:
    """Distances between every pair of SPD matrices.

    Parameters
    ----------
    covs : ndarray, shape (n, p, p)
        SPD matrices (validated with :func:`check_spd_stack`).
    metric : {"riemann", "logeuclid", "wasserstein", "euclid"}
        Metric, see :data:`NUMPY_METRICS`.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric distance matrix with a zero diagonal (units: see the module notes).

    Raises
    ------
    ParameterError
        Unknown metric.
    SPDInputError
        ``covs`` is not a valid SPD stack.

    Examples
    --------
    >>> import numpy as np
    >>> covs = np.stack([np.diag([1.0, 1.0]), np.diag([4.0, 16.0])])
    >>> pairwise_distances(covs, "riemann").round(4)  # sqrt(log(4)**2 + log(16)**2)
    array([[0.    , 3.0998],
           [3.0998, 0.    ]])
    """
    check_metric(metric, NUMPY_METRICS)
    stack = check_spd_stack(covs)
    if metric == "wasserstein":
        D = _pairwise_wasserstein(stack)
    else:
        from pyriemann.geometry.distance import pairwise_distance

        D = np.asarray(pairwise_distance(stack, metric=metric), dtype=np.float64)
    D = (D + D.T) / 2.0
    np.fill_diagonal(D, 0.0)
    return D


def mean_covariance(covs: np.ndarray, metric: str = "riemann") -> np.ndarray:
    """Fréchet mean of SPD matrices under a metric.

    The affine-invariant (Karcher) mean is the package's numpy one,
    :func:`covwb.covariance.karcher.karcher_mean` (Riemannian Newton, pyRiemann's stopping rule and
    tolerance 1e-8; a ``RuntimeWarning`` says when it stops without converging). The other means come
    from ``pyriemann.geometry.mean.gmean`` (in pyRiemann 0.12 ``mean_covariance`` is deprecated and
    ignores its ``metric`` argument).

    Parameters
    ----------
    covs : ndarray, shape (n, p, p)
        SPD matrices (validated with :func:`check_spd_stack`).
    metric : {"riemann", "logeuclid", "wasserstein", "euclid"}
        Metric, see :data:`NUMPY_METRICS`.

    Returns
    -------
    ndarray, shape (p, p)
        Symmetric mean matrix, in the unit of ``covs``.

    Raises
    ------
    ParameterError
        Unknown metric.
    SPDInputError
        ``covs`` is not a valid SPD stack.

    Examples
    --------
    >>> import numpy as np
    >>> covs = np.stack([np.diag([1.0, 1.0]), np.diag([4.0, 16.0])])
    >>> mean_covariance(covs, "riemann").round(6), mean_covariance(covs, "euclid")
    (array([[2., 0.],
           [0., 4.]]), array([[2.5, 0. ],
           [0. , 8.5]]))
    """
    check_metric(metric, NUMPY_METRICS)
    stack = check_spd_stack(covs)
    if metric == "riemann":
        from covwb.covariance.karcher import karcher_mean

        return karcher_mean(stack).mean
    from pyriemann.geometry.mean import gmean

    M = np.asarray(gmean(stack, metric=metric), dtype=np.float64)
    return (M + M.T) / 2.0


def mds_embedding(D: np.ndarray, *, n_components: int = 2) -> np.ndarray:
    """Classical multidimensional scaling of a distance matrix.

    Eigendecomposition of ``B = -J D**2 J / 2`` (``J`` the centring matrix); coordinates
    are the leading eigenvectors scaled by the square roots of their (clipped) eigenvalues.
    Each axis's sign is fixed so that its largest-magnitude coordinate is positive.

    Parameters
    ----------
    D : ndarray, shape (n, n)
        Symmetric, non-negative distances with a zero diagonal.
    n_components : int
        Number of coordinates, at least 1 and at most n.

    Returns
    -------
    ndarray, shape (n, n_components)
        Coordinates in the unit of ``D``; axes beyond the rank of ``B`` are zero.

    Raises
    ------
    ParameterError
        ``D`` is not a finite, square, symmetric, non-negative matrix, or ``n_components``
        is out of range.
    """
    arr = np.asarray(D, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 2:
        raise ParameterError(f"MDS needs a square distance matrix of at least 2 x 2, got shape {arr.shape}.")
    n = arr.shape[0]
    if not 1 <= n_components <= n:
        raise ParameterError(f"n_components must be between 1 and {n}, got {n_components}.")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ParameterError("Distances must be finite and non-negative; recompute them.")
    if not np.allclose(arr, arr.T, rtol=1e-8, atol=0.0):
        raise ParameterError("The distance matrix is not symmetric; recompute it.")
    sq = ((arr + arr.T) / 2.0) ** 2
    B = -0.5 * (sq - sq.mean(axis=0) - sq.mean(axis=1)[:, None] + sq.mean())
    vals, vecs = np.linalg.eigh(B)
    vals, vecs = vals[::-1][:n_components], vecs[:, ::-1][:, :n_components]
    signs = np.sign(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(n_components)])
    return vecs * signs * np.sqrt(np.clip(vals, 0.0, None))


def summarise_geometry(covs: np.ndarray, metric: str = "riemann") -> GeometrySummary:
    """Distances, 2-D map and mean of a stack of SPD matrices under one metric.

    Parameters
    ----------
    covs : ndarray, shape (n, p, p)
        SPD matrices.
    metric : {"riemann", "logeuclid", "wasserstein", "euclid"}
        Metric, see :data:`NUMPY_METRICS`.

    Returns
    -------
    GeometrySummary
        Distances (n, n), embedding (n, 2), mean (p, p), metric and settings.

    Raises
    ------
    ParameterError
        Unknown metric.
    SPDInputError
        ``covs`` is not a valid SPD stack.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.random.default_rng(0).standard_normal((10, 4, 50))
    >>> summary = summarise_geometry(A @ A.transpose(0, 2, 1) / 50, "logeuclid")
    >>> summary.distances.shape, summary.embedding.shape, summary.mean.shape, summary.warnings
    ((10, 10), (10, 2), (4, 4), ())
    """
    check_metric(metric, NUMPY_METRICS)
    stack = check_spd_stack(covs)
    distances = pairwise_distances(stack, metric)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mean = mean_covariance(stack, metric)
    notes = tuple(
        f"The {NUMPY_METRICS[metric].lower()} mean stopped before converging ({w.message}); it is approximate. Matrices "
        "this ill-conditioned need shrinkage (Ledoit-Wolf/OAS) or fewer channels."
        for w in caught
        if issubclass(w.category, (RuntimeWarning, UserWarning))
    )
    return GeometrySummary(
        distances=distances,
        embedding=mds_embedding(distances),
        mean=mean,
        metric=metric,
        warnings=notes,
        settings={
            "metric": metric,
            "metric_label": NUMPY_METRICS[metric],
            "embedding": "classical MDS",
            "n_matrices": int(stack.shape[0]),
            "n_channels": int(stack.shape[1]),
        },
    )
