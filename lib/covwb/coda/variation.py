"""Variation array, clr variances, total variance and centre of a composition."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covwb.coda.closure import closure
from covwb.coda.transforms import clr


@dataclass(frozen=True)
class VariationArray:
    """Log-ratio variances and means of every pair of parts.

    Parameters
    ----------
    variances : ndarray, shape (D, D)
        ``var(log(x_i / x_j))`` with denominator n - 1; symmetric, zero diagonal.
    means : ndarray, shape (D, D)
        ``mean(log(x_i / x_j))``; antisymmetric.
    """

    variances: np.ndarray
    means: np.ndarray

    def combined(self) -> np.ndarray:
        """CoDaPack layout: variances above the diagonal, means below, zeros on it; shape (D, D)."""
        return np.triu(self.variances, 1) + np.tril(self.means, -1)


def clr_covariance(X: np.ndarray) -> np.ndarray:
    """Covariance of the clr coordinates, denominator n - 1.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts.

    Returns
    -------
    ndarray, shape (D, D)
        ``Γ``, symmetric, with ``Γ 1 = 0``.
    """
    Z = clr(X)
    Z -= Z.mean(axis=0)
    return Z.T @ Z / (Z.shape[0] - 1)


def variation_array(X: np.ndarray) -> VariationArray:
    """Variation array from strictly positive amounts ``X`` of shape (n, D).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0, 4.0], [2.0, 2.0, 3.0], [1.0, 3.0, 5.0]])
    >>> variation_array(X).variances.round(3)  # var(log x_i / x_j), zero diagonal
    array([[0.   , 0.309, 0.41 ],
           [0.309, 0.   , 0.021],
           [0.41 , 0.021, 0.   ]])
    """
    G = clr_covariance(X)
    d = np.diag(G)
    variances = d[:, None] + d[None, :] - 2.0 * G
    np.fill_diagonal(variances, 0.0)
    m = clr(X).mean(axis=0)
    return VariationArray(variances=variances, means=m[:, None] - m[None, :])


def clr_variances(X: np.ndarray) -> np.ndarray:
    """Variances of the clr coordinates (denominator n - 1), shape (D,)."""
    Z = clr(X)
    return Z.var(axis=0, ddof=1)


def total_variance(X: np.ndarray) -> float:
    """Total variance: the sum of the clr variances, ``sum_{i<j} var(log x_i/x_j) / D``."""
    return float(clr_variances(X).sum())


def centre(X: np.ndarray) -> np.ndarray:
    """Closed geometric mean of the parts, shape (D,), summing to one."""
    return closure(np.exp(np.log(np.asarray(X, dtype=np.float64)).mean(axis=0))[None, :])[0]


def most_variable_parts(clr_variances: np.ndarray, parts: list[str] | tuple[str, ...], k: int) -> list[str]:
    """Names of the ``k`` parts with the largest clr variance, largest first (ties in table order)."""
    order = np.argsort(-np.asarray(clr_variances), kind="stable")[:k]
    return [parts[i] for i in order]
