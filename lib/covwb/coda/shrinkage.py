"""Basis-shrinkage partial correlations for p ≥ n (propr ``pcor.bshrink``), without a p³ step.

The log-proportions stand in for the unobserved log-basis. Their covariance is shrunk with corpcor's
``cov.shrink`` (Schäfer & Strimmer 2005: analytic intensities λ for the correlations and λ_var for the
variances), giving a positive definite ``B``. The clr covariance ``G B G`` (``G = I - 11ᵀ/D``) has the
closed-form pseudo-inverse ``(GBG)⁺ = B⁻¹ - b bᵀ/(1ᵀb)`` with ``b = B⁻¹ 1``. For n ≪ D, ``B⁻¹`` comes
from the Woodbury identity on the standardised data ``X_s`` (n × D):
``R*⁻¹ = λ⁻¹ [I - X_sᵀ (c I_n + X_s X_sᵀ)⁻¹ X_s]`` with ``c = λ(n - 1)/(1 - λ)``, so the cost is
O(n² D + n D²) and the only D × D array is the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from covwb.coda.partial_correlation import (
    PartialCorrelations,
    inverse_spd,
    pcor_from_precision,
)
from covwb.errors import ParameterError

ROUTES = ("auto", "dense", "woodbury")
"""How ``B⁻¹`` is obtained: dense Cholesky (D × D), Woodbury (n × n), or chosen by shape."""


@dataclass(frozen=True)
class ShrinkageIntensities:
    """corpcor ``cov.shrink`` ingredients for data ``x`` of shape (n, D).

    Parameters
    ----------
    standardised : ndarray, shape (n, D)
        ``(x - mean) / sd`` with the n - 1 standard deviation.
    variances : ndarray, shape (D,)
        Unbiased variances of the columns.
    shrunk_variances : ndarray, shape (D,)
        ``λ_var median(v) + (1 - λ_var) v``.
    lam : float
        Correlation shrinkage intensity λ in [0, 1] (target: identity).
    lam_var : float
        Variance shrinkage intensity λ_var in [0, 1] (target: the median variance).
    """

    standardised: np.ndarray
    variances: np.ndarray
    shrunk_variances: np.ndarray
    lam: float
    lam_var: float


def shrinkage_intensities(x: np.ndarray) -> ShrinkageIntensities:
    """Estimate corpcor's λ and λ_var (``estimate.lambda``, ``estimate.lambda.var``, equal weights).

    Works in O(n² D): the sum of squared sample correlations comes from the n × n Gram matrix.

    Parameters
    ----------
    x : ndarray, shape (n, D)
        Data, n ≥ 3; no constant column.

    Returns
    -------
    ShrinkageIntensities

    Raises
    ------
    ParameterError
        Fewer than three samples, or a column with zero variance.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < 3:
        raise ParameterError(f"Shrinkage needs at least three samples, got {n}.")
    xc = x - x.mean(axis=0)
    squares = xc * xc
    q1 = squares.mean(axis=0)
    v = q1 * (n / (n - 1))
    if not np.all(v > 0):
        raise ParameterError(
            f"{int(np.sum(~(v > 0)))} part(s) have the same log-proportion in every sample; drop them first."
        )
    xs = xc / np.sqrt(v)
    target = float(np.median(v))
    q2 = (squares * squares).mean(axis=0) - q1 * q1
    denominator = float(np.sum((q1 - target * (n - 1) / n) ** 2))
    lam_var = 1.0 if denominator == 0 else min(1.0, float(q2.sum()) / denominator / (n - 1))

    row_sq = (xs * xs).sum(axis=1)
    gram = xs @ xs.T
    diag_r = (xs * xs).sum(axis=0) / n
    off_q1 = float(np.sum(gram * gram)) / n**2 - float(np.sum(diag_r * diag_r))
    off_fourth = (float(np.sum(row_sq * row_sq)) - float(np.sum(xs**4))) / n
    numerator = off_fourth - off_q1
    lam = 1.0 if off_q1 == 0 else min(1.0, max(0.0, numerator / off_q1 / (n - 1)))
    shrunk = lam_var * target + (1.0 - lam_var) * v
    return ShrinkageIntensities(standardised=xs, variances=v, shrunk_variances=shrunk, lam=lam, lam_var=lam_var)


def cov_shrink(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """corpcor ``cov.shrink``: shrunk covariance ``diag(√v*) R* diag(√v*)`` with ``R* = (1-λ)R + λI``.

    Parameters
    ----------
    x : ndarray, shape (n, D)
        Data.

    Returns
    -------
    cov : ndarray, shape (D, D)
    lam, lam_var : float
        The two intensities.
    """
    s = shrinkage_intensities(x)
    return shrunk_covariance(s), s.lam, s.lam_var


def shrunk_covariance(s: ShrinkageIntensities) -> np.ndarray:
    """The shrunk covariance ``diag(√v*) R* diag(√v*)`` of :func:`cov_shrink`, shape (D, D), from its intensities."""
    n = s.standardised.shape[0]
    R = (1.0 - s.lam) * (s.standardised.T @ s.standardised) / (n - 1)
    R[np.diag_indices_from(R)] = 1.0
    scale = np.sqrt(s.shrunk_variances)
    return R * scale[:, None] * scale[None, :]


def basis_shrinkage_pcor(
    P: np.ndarray, parts: Sequence[str] | None = None, *, route: str = "auto"
) -> PartialCorrelations:
    """Basis-shrinkage partial correlations of the parts (propr ``pcor.bshrink``, clr output).

    Parameters
    ----------
    P : ndarray, shape (n, D)
        Strictly positive amounts (zeros replaced); rows are closed here.
    parts : sequence of str, optional
        Names of the D parts.
    route : {"auto", "dense", "woodbury"}
        ``"dense"`` inverts the D × D shrunk covariance by Cholesky (O(D³)); ``"woodbury"`` works with an
        n × n system (O(n² D + n D²)); ``"auto"`` takes Woodbury when n < D.

    Returns
    -------
    PartialCorrelations
        ``method="basis-shrinkage"``; settings carry ``lambda`` and ``lambda_var``.

    Raises
    ------
    ParameterError
        Unknown route, non-positive values, a constant part, or λ = 0 with n ≤ D (nothing to invert).

    Notes
    -----
    The computation behind :class:`~covwb.coda.estimator.CompositionalPartialCorrelation` with
    ``method="basis-shrinkage"`` on strictly positive data (which adds validation, zero replacement,
    the shrunk clr covariance and warnings).

    Examples
    --------
    >>> import numpy as np
    >>> P = np.random.default_rng(0).lognormal(size=(10, 40))  # more parts than samples
    >>> result = basis_shrinkage_pcor(P)
    >>> result.pcor.shape, result.settings["route"], 0 < result.settings["lambda"] < 1
    ((40, 40), 'woodbury', True)
    """
    return _basis_shrinkage(P, parts, route)[0]


def _basis_shrinkage(
    P: np.ndarray, parts: Sequence[str] | None, route: str
) -> tuple[PartialCorrelations, ShrinkageIntensities]:
    """:func:`basis_shrinkage_pcor` and the intensities it used."""
    if route not in ROUTES:
        raise ParameterError(f"Unknown route {route!r}; choose one of {', '.join(ROUTES)}.")
    P = np.asarray(P, dtype=np.float64)
    if not np.all(P > 0):
        raise ParameterError("Log-proportions need strictly positive values; replace the zeros first.")
    n, D = P.shape
    names = tuple(parts) if parts is not None else tuple(str(i + 1) for i in range(D))
    logp = np.log(P) - np.log(P.sum(axis=1, keepdims=True))
    s = shrinkage_intensities(logp)
    chosen = ("woodbury" if n < D else "dense") if route == "auto" else route
    if s.lam == 0.0 and n <= D:
        raise ParameterError("The estimated shrinkage is zero and there are fewer samples than parts.")
    if chosen == "dense" or s.lam == 0.0:
        chosen = "dense"
        pcor, partial = _dense(s)
    else:
        pcor, partial = _woodbury(s)
    return PartialCorrelations(
        parts=names,
        pcor=pcor,
        partial_variances=partial,
        method="basis-shrinkage",
        settings={
            "method": "basis-shrinkage",
            "route": chosen,
            "n": n,
            "D": D,
            "lambda": s.lam,
            "lambda_var": s.lam_var,
        },
    ), s


def _dense(s: ShrinkageIntensities) -> tuple[np.ndarray, np.ndarray]:
    """``(GBG)⁺`` from the dense Cholesky inverse of ``B``; returns (pcor, partial variances)."""
    xs = s.standardised
    n = xs.shape[0]
    R = (1.0 - s.lam) / (n - 1) * (xs.T @ xs)
    R[np.diag_indices_from(R)] = 1.0
    scale = np.sqrt(s.shrunk_variances)
    B_inv, _ = inverse_spd(R * scale[:, None] * scale[None, :], "shrunk covariance")
    b = B_inv.sum(axis=1)
    omega = B_inv - np.outer(b, b) / b.sum()
    return pcor_from_precision(omega), 1.0 / np.diag(omega)


def _woodbury(s: ShrinkageIntensities) -> tuple[np.ndarray, np.ndarray]:
    """``(GBG)⁺`` through the Woodbury identity, assembled as one Gram product; returns (pcor, partial)."""
    xs = s.standardised
    n = xs.shape[0]
    lam = s.lam
    d = 1.0 / np.sqrt(s.shrunk_variances)
    if lam == 1.0:
        A = np.zeros((1, xs.shape[1]))
    else:
        c = lam * (n - 1) / (1.0 - lam)
        M = xs @ xs.T
        M[np.diag_indices_from(M)] += c
        L = np.linalg.cholesky(M)
        A = solve_triangular(L, xs * d, lower=True, check_finite=False)
    b = (d * d - A.T @ A.sum(axis=1)) / lam
    total = float(b.sum())
    omega_diag = (d * d - np.einsum("ki,ki->i", A, A)) / lam - b * b / total
    w = 1.0 / np.sqrt(omega_diag)
    stacked = np.vstack([A * (w / np.sqrt(lam)), (b * w / np.sqrt(total))[None, :]])
    pcor = stacked.T @ stacked
    pcor[np.diag_indices_from(pcor)] = 1.0
    return pcor, 1.0 / omega_diag
