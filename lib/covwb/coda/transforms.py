"""Log-ratio transforms (clr, alr, ilr), their inverses and sequential binary partitions.

All transforms take strictly positive amounts (rows need not be closed: log-ratios do not depend on the
row total) and all inverses return closed compositions.
"""

from __future__ import annotations

import numpy as np

from covwb.coda.closure import closure
from covwb.errors import ParameterError


def _positive(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ParameterError(f"A composition must be a matrix with at least two parts, got shape {X.shape}.")
    if not np.all(X > 0) or not np.all(np.isfinite(X)):
        raise ParameterError("Log-ratios need strictly positive finite values; replace the zeros first.")
    return X


def clr(X: np.ndarray) -> np.ndarray:
    """Centred log-ratio ``log x_i - mean_k log x_k``.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts.

    Returns
    -------
    ndarray, shape (n, D)
        clr coordinates; each row sums to 0.

    Examples
    --------
    >>> import numpy as np
    >>> clr(np.array([[1.0, 2.0, 4.0]])).round(4)  # log 2 below and above the geometric mean 2
    array([[-0.6931,  0.    ,  0.6931]])
    """
    L = np.log(_positive(X))
    return L - L.mean(axis=1, keepdims=True)


def clr_inv(Z: np.ndarray) -> np.ndarray:
    """Inverse of :func:`clr`: closed ``exp(z)``, shape (n, D) -> (n, D)."""
    Z = np.asarray(Z, dtype=np.float64)
    return closure(np.exp(Z - Z.max(axis=1, keepdims=True)))


def alr(X: np.ndarray, reference: int = -1) -> np.ndarray:
    """Additive log-ratio ``log(x_i / x_r)`` for every part but the reference r.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts.
    reference : int
        Column index of the reference part (negative indices count from the end).

    Returns
    -------
    ndarray, shape (n, D - 1)
        The log-ratios of the other parts, in their original order.
    """
    L = np.log(_positive(X))
    r = _reference(reference, L.shape[1])
    return np.delete(L, r, axis=1) - L[:, [r]]


def alr_inv(Y: np.ndarray, reference: int = -1) -> np.ndarray:
    """Inverse of :func:`alr`: shape (n, D - 1) -> closed composition (n, D) with the reference re-inserted."""
    Y = np.asarray(Y, dtype=np.float64)
    r = _reference(reference, Y.shape[1] + 1)
    L = np.insert(Y, r, 0.0, axis=1)
    return clr_inv(L)


def _reference(reference: int, D: int) -> int:
    if not -D <= reference < D:
        raise ParameterError(f"The reference part must be one of the {D} parts, got index {reference}.")
    return reference % D


def default_basis(D: int) -> np.ndarray:
    """Orthonormal (Helmert) contrast matrix of the clr plane.

    Column k contrasts the first k + 1 parts against part k + 2 (pivot balances in reverse order).

    Parameters
    ----------
    D : int
        Number of parts (at least 2).

    Returns
    -------
    ndarray, shape (D, D - 1)
        ``V`` with ``V.T @ V = I`` and ``V.T @ 1 = 0``.
    """
    if D < 2:
        raise ParameterError(f"An ilr basis needs at least two parts, got {D}.")
    k = np.arange(1, D)
    V = (np.arange(D)[:, None] < k[None, :]) / np.sqrt(k * (k + 1))[None, :]
    V[k, k - 1] = -k / np.sqrt(k * (k + 1))
    return V


def sbp_basis(sbp: np.ndarray) -> np.ndarray:
    """Orthonormal balance basis from a sequential binary partition.

    Parameters
    ----------
    sbp : ndarray, shape (D - 1, D)
        One row per partition step: +1 for parts in the numerator group, -1 in the denominator group,
        0 for parts not involved in that step.

    Returns
    -------
    ndarray, shape (D, D - 1)
        Balance coefficients ``+sqrt(s / (r (r + s)))`` for the r numerator parts and
        ``-sqrt(r / (s (r + s)))`` for the s denominator parts, one column per step.

    Raises
    ------
    ParameterError
        Wrong shape, entries other than -1/0/+1, a step with an empty group, or steps that do not form a
        hierarchy (the balances are then not orthogonal).
    """
    S = np.asarray(sbp, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1] - 1:
        raise ParameterError(f"A sequential binary partition of D parts has D - 1 rows and D columns, got {S.shape}.")
    if not np.isin(S, (-1.0, 0.0, 1.0)).all():
        raise ParameterError("A sequential binary partition holds only +1, -1 and 0.")
    r = (S > 0).sum(axis=1)
    s = (S < 0).sum(axis=1)
    if (r == 0).any() or (s == 0).any():
        step = int(np.flatnonzero((r == 0) | (s == 0))[0]) + 1
        raise ParameterError(f"Step {step} of the partition needs at least one +1 part and one -1 part.")
    plus = np.sqrt(s / (r * (r + s)))
    minus = np.sqrt(r / (s * (r + s)))
    V = (np.where(S > 0, plus[:, None], 0.0) - np.where(S < 0, minus[:, None], 0.0)).T
    if not np.allclose(V.T @ V, np.eye(S.shape[0]), atol=1e-12):
        raise ParameterError(
            "The partition steps are not hierarchical: each step must split one group of an earlier step in two."
        )
    return V


def ilr(X: np.ndarray, basis: np.ndarray | None = None) -> np.ndarray:
    """Isometric log-ratio coordinates ``clr(X) @ V``.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts.
    basis : ndarray, shape (D, D - 1), optional
        Orthonormal contrast matrix (:func:`sbp_basis`); default :func:`default_basis`.

    Returns
    -------
    ndarray, shape (n, D - 1)
    """
    Z = clr(X)
    V = default_basis(Z.shape[1]) if basis is None else _checked_basis(basis, Z.shape[1])
    return Z @ V


def ilr_inv(Y: np.ndarray, basis: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`ilr`: shape (n, D - 1) -> closed composition (n, D)."""
    Y = np.asarray(Y, dtype=np.float64)
    V = default_basis(Y.shape[1] + 1) if basis is None else _checked_basis(basis, Y.shape[1] + 1)
    return clr_inv(Y @ V.T)


def _checked_basis(basis: np.ndarray, D: int) -> np.ndarray:
    V = np.asarray(basis, dtype=np.float64)
    if V.shape != (D, D - 1):
        raise ParameterError(f"An ilr basis for {D} parts has shape ({D}, {D - 1}), got {V.shape}.")
    return V
