"""Controllable synthetic batches of SPD matrices for the geometry demonstrations.

Each matrix is ``Q_i diag(l_i) Q_i^T`` with ``Q_i`` a random rotation near a common one
(``exp(spread * S_i) Q_0``, ``S_i`` skew-symmetric Gaussian) and a log-spaced spectrum from 1 down
to ``10^-log10_condition``, jittered by ``exp(jitter * N(0, 1))``. Optionally the first matrix is
replaced by a rank-deficient covariance ``Z Z^T / r + ridge I`` (Z Gaussian, rank r) with the
same trace scale: the case where the ridge decides the geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import expm

from covwb.errors import ParameterError


@dataclass(frozen=True, eq=False)
class SyntheticBatch:
    """A synthetic batch and how it was made.

    Parameters
    ----------
    matrices : ndarray, shape (N, n, n)
        SPD matrices, float64, unitless.
    labels : ndarray of str, shape (N,)
        ``"rank-deficient"`` for the degenerate member, ``"regular"`` otherwise.
    settings : dict
        The generator's arguments.
    """

    matrices: np.ndarray
    labels: np.ndarray
    settings: dict = field(default_factory=dict)


def _rotation(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def low_rank_covariance(n: int, rank: int, ridge: float, rng: np.random.Generator) -> np.ndarray:
    """``Z Z^T / rank + ridge I`` with ``Z`` of shape (n, rank) standard normal; shape (n, n)."""
    Z = rng.standard_normal((n, rank))
    return Z @ Z.T / rank + ridge * np.eye(n)


def synthetic_batch(
    n_matrices: int = 30,
    dim: int = 8,
    log10_condition: float = 3.0,
    *,
    spread: float = 0.3,
    jitter: float = 0.3,
    rank_deficient: bool = False,
    ridge: float = 1e-6,
    seed: int = 0,
) -> SyntheticBatch:
    """Draw a batch of SPD matrices with a chosen condition number.

    Parameters
    ----------
    n_matrices : int
        Batch size N, at least 2.
    dim : int
        Matrix size n, at least 2.
    log10_condition : float
        log10 of the spectrum's nominal condition number, in [0, 12].
    spread : float
        Size of the per-matrix rotation away from the common one (0: all share eigenvectors).
    jitter : float
        Log-normal jitter of the eigenvalues.
    rank_deficient : bool
        Replace the first matrix by a rank ``max(1, n // 4)`` covariance plus ``ridge * I``.
    ridge : float
        Ridge of the rank-deficient member, positive.
    seed : int
        Random seed.
    """
    if n_matrices < 2 or dim < 2:
        raise ParameterError(f"A batch needs at least 2 matrices of size at least 2, got {n_matrices} of {dim}.")
    if not 0.0 <= log10_condition <= 12.0:
        raise ParameterError(f"log10 of the condition number must be in [0, 12], got {log10_condition}.")
    if rank_deficient and not ridge > 0:
        raise ParameterError(f"The ridge must be positive, got {ridge}.")
    rng = np.random.default_rng(seed)
    base = _rotation(rng, dim)
    skew = rng.standard_normal((n_matrices, dim, dim))
    skew = (skew - skew.transpose(0, 2, 1)) * spread / np.sqrt(2 * dim)
    rotations = expm(skew) @ base
    eigvals = np.logspace(0.0, -log10_condition, dim) * np.exp(jitter * rng.standard_normal((n_matrices, dim)))
    covs = (rotations * eigvals[:, None, :]) @ rotations.transpose(0, 2, 1)
    labels = np.full(n_matrices, "regular", dtype=object)
    if rank_deficient:
        covs[0] = low_rank_covariance(dim, max(1, dim // 4), ridge, rng) * np.trace(covs[0]) / dim
        labels[0] = "rank-deficient"
    covs = (covs + covs.transpose(0, 2, 1)) / 2
    settings = {
        "n_matrices": n_matrices,
        "dim": dim,
        "log10_condition": log10_condition,
        "spread": spread,
        "jitter": jitter,
        "rank_deficient": rank_deficient,
        "ridge": ridge,
        "seed": seed,
    }
    return SyntheticBatch(matrices=covs, labels=labels.astype(str), settings=settings)
