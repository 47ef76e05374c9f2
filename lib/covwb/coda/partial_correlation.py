"""Erb's partial correlations between parts: exact ``Γ⁺`` through a Cholesky closed form.

``Γ = cov(clr)`` (denominator n - 1) has null vector 1, so ``Ω = Γ⁺ = (Γ + 11ᵀ/D)⁻¹ - 11ᵀ/D`` and the
matrix in brackets is positive definite when n - 1 ≥ D - 1. Partial correlations are
``ρ_ij = -Ω_ij / sqrt(Ω_ii Ω_jj)`` and partial variances ``1/Ω_ii``. The clr coordinates are never
standardised before inverting (that changes the null vector and the answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import lapack

from covwb.coda.variation import clr_covariance
from covwb.errors import ParameterError


@dataclass(frozen=True)
class PartialCorrelations:
    """Partial correlations of every pair of parts given all other parts.

    Parameters
    ----------
    parts : tuple of str
        Names of the D parts.
    pcor : ndarray, shape (D, D)
        Partial correlations, symmetric, ones on the diagonal.
    partial_variances : ndarray, shape (D,)
        ``1/Ω_ii``: residual variance of ``log(x_i/x_r)`` given every other log-ratio (any reference r).
    method : {"exact", "basis-shrinkage"}
        How ``Ω`` was obtained.
    settings : dict
        Method, route, n, D and, for shrinkage, the intensities ``lambda`` and ``lambda_var``.
    """

    parts: tuple[str, ...]
    pcor: np.ndarray
    partial_variances: np.ndarray
    method: str
    settings: dict[str, Any] = field(default_factory=dict)


def inverse_spd(A: np.ndarray, what: str) -> tuple[np.ndarray, float]:
    """Inverse of a symmetric positive definite matrix through its Cholesky factor (LAPACK potrf/potri).

    Parameters
    ----------
    A : ndarray, shape (p, p)
        Symmetric positive definite, float64.
    what : str
        Name used in the error message.

    Returns
    -------
    inverse : ndarray, shape (p, p)
        ``A⁻¹``, symmetric.
    rcond : float
        LAPACK's estimate (pocon, O(p²) from the factor) of the reciprocal 1-norm condition number of ``A``.

    Raises
    ------
    ParameterError
        When ``A`` is not numerically positive definite.
    """
    factor, info = lapack.dpotrf(A, lower=False, clean=False, overwrite_a=False)
    if info != 0:
        raise ParameterError(f"The {what} is not positive definite, so it cannot be inverted.")
    rcond, _ = lapack.dpocon(factor, float(np.abs(A).sum(axis=0).max()), uplo="U")
    inverse, info = lapack.dpotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ParameterError(f"The {what} is singular, so it cannot be inverted.")
    upper = np.triu(inverse)
    return upper + np.triu(inverse, 1).T, float(rcond)


def clr_precision(gamma: np.ndarray) -> np.ndarray:
    """``Γ⁺`` of a clr covariance with null space exactly 1, as ``(Γ + 11ᵀ/D)⁻¹ - 11ᵀ/D``.

    Parameters
    ----------
    gamma : ndarray, shape (D, D)
        clr covariance of rank D - 1.

    Returns
    -------
    ndarray, shape (D, D)
        The Moore-Penrose inverse ``Ω``; its rows sum to zero.
    """
    return _clr_precision(gamma)[0]


def _clr_precision(gamma: np.ndarray) -> tuple[np.ndarray, float]:
    """``(Ω, condition number of Γ + 11ᵀ/D)``; see :func:`clr_precision`."""
    D = gamma.shape[0]
    try:
        inverse, rcond = inverse_spd(gamma + 1.0 / D, "clr covariance")
    except ParameterError:
        raise ParameterError(
            "The clr covariance is singular (fewer samples than parts, or parts that are exact multiples of "
            "each other), so exact partial correlations do not exist; use basis shrinkage."
        ) from None
    return inverse - 1.0 / D, (1.0 / rcond if rcond > 0 else float("inf"))


def pcor_from_precision(omega: np.ndarray) -> np.ndarray:
    """Partial correlations ``-Ω_ij / sqrt(Ω_ii Ω_jj)`` with ones on the diagonal, shape (D, D) -> (D, D)."""
    w = 1.0 / np.sqrt(np.diag(omega))
    rho = -(omega * w[:, None]) * w[None, :]
    np.fill_diagonal(rho, 1.0)
    return rho


def partial_correlations(X: np.ndarray, parts: Sequence[str] | None = None) -> PartialCorrelations:
    """Exact partial correlations and partial variances of the parts of a composition.

    The computation behind :class:`~covwb.coda.estimator.CompositionalPartialCorrelation` with
    ``method="exact"`` on strictly positive data (which adds validation, zero replacement and warnings).

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts (zeros replaced), n - 1 ≥ D - 1.
    parts : sequence of str, optional
        Names of the D parts; default ``"1" ... "D"``.

    Returns
    -------
    PartialCorrelations
        ``method="exact"``; settings carry ``condition_number``, LAPACK's estimate for ``Γ + 11ᵀ/D``.

    Raises
    ------
    ParameterError
        Fewer samples than needed or a singular clr covariance (the message points to basis shrinkage).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).lognormal(size=(30, 4))
    >>> result = partial_correlations(X, ["a", "b", "c", "d"])
    >>> result.pcor.shape, bool(np.allclose(np.diag(result.pcor), 1.0))
    ((4, 4), True)
    """
    X = np.asarray(X, dtype=np.float64)
    n, D = X.shape
    if n < D:
        raise ParameterError(
            f"Exact partial correlations of {D} parts need at least {D} samples (got {n}); use basis shrinkage."
        )
    return exact_from_clr_covariance(clr_covariance(X), n, parts)


def exact_from_clr_covariance(gamma: np.ndarray, n: int, parts: Sequence[str] | None = None) -> PartialCorrelations:
    """Exact partial correlations from a clr covariance ``Γ`` (D, D) of ``n`` samples (see :func:`partial_correlations`)."""
    D = gamma.shape[0]
    names = tuple(parts) if parts is not None else tuple(str(i + 1) for i in range(D))
    omega, condition = _clr_precision(gamma)
    diagonal = np.diag(omega)
    if not np.all(diagonal > 0):
        raise ParameterError("The clr covariance is numerically singular; use basis shrinkage.")
    return PartialCorrelations(
        parts=names,
        pcor=pcor_from_precision(omega),
        partial_variances=1.0 / diagonal,
        method="exact",
        settings={
            "method": "exact",
            "route": "cholesky",
            "n": n,
            "D": D,
            "denominator": "n-1",
            "condition_number": condition,
        },
    )
