"""Association measures to contrast with partial correlations.

- Pearson correlation of closed proportions: the spurious correlation that closure creates.
- clr correlation: correlation of the clr coordinates (reference-free, but still marginal).
- Proportionality ρ_p (Lovell et al. 2015; propr): ``1 - var(clr_i - clr_j) / (var clr_i + var clr_j)``.
- A sparse Gaussian graphical model on clr: scikit-learn ``GraphicalLasso`` on the standardised clr
  coordinates, so the ℓ1 penalty is in correlation units (as huge/SpiecEasi do).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from covwb.coda.closure import closure
from covwb.coda.partial_correlation import pcor_from_precision
from covwb.coda.transforms import clr
from covwb.coda.variation import clr_covariance
from covwb.errors import ParameterError


def _correlation(C: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(C))
    if not np.all(sd > 0):
        raise ParameterError("A part is constant across samples, so its correlations are undefined; drop it.")
    R = C / sd[:, None] / sd[None, :]
    np.fill_diagonal(R, 1.0)
    return R


def proportion_correlation(X: np.ndarray) -> np.ndarray:
    """Pearson correlation of the closed proportions, shape (n, D) -> (D, D)."""
    P = closure(X)
    P = P - P.mean(axis=0)
    return _correlation(P.T @ P)


def clr_correlation(X: np.ndarray) -> np.ndarray:
    """Pearson correlation of the clr coordinates of strictly positive ``X`` (n, D) -> (D, D)."""
    return _correlation(clr_covariance(X))


def proportionality(X: np.ndarray) -> np.ndarray:
    """Proportionality coefficient ρ_p ``= 2 Γ_ij / (Γ_ii + Γ_jj)`` with ``Γ = cov(clr)``, shape (D, D)."""
    G = clr_covariance(X)
    d = np.diag(G)
    return 2.0 * G / (d[:, None] + d[None, :])


@dataclass(frozen=True)
class SparseGraph:
    """A graphical-lasso fit on clr.

    Parameters
    ----------
    pcor : ndarray, shape (D, D)
        Partial correlations from the sparse precision matrix, ones on the diagonal.
    edges : int
        Number of non-zero off-diagonal pairs.
    settings : dict
        ``alpha`` (ℓ1 penalty, correlation units), ``standardised``, iterations.
    """

    pcor: np.ndarray
    edges: int
    settings: dict[str, Any] = field(default_factory=dict)


def graphical_lasso_clr(X: np.ndarray, alpha: float, *, max_iter: int = 200) -> SparseGraph:
    """Sparse partial correlations of the clr coordinates by scikit-learn's ``GraphicalLasso``.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts.
    alpha : float
        ℓ1 penalty on the off-diagonal precision entries, for standardised clr (0 < alpha < 1).
    max_iter : int
        Iterations of the coordinate descent.

    Returns
    -------
    SparseGraph

    Raises
    ------
    ParameterError
        ``alpha`` out of range, or the solver does not reach a positive definite solution.
    """
    import warnings

    from sklearn.covariance import GraphicalLasso
    from sklearn.exceptions import ConvergenceWarning

    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"The graphical-lasso penalty must lie strictly between 0 and 1, got {alpha:g}.")
    Z = clr(X)
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0, ddof=0)
    model = GraphicalLasso(alpha=alpha, max_iter=max_iter, assume_centered=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(Z)
    except FloatingPointError as exc:
        raise ParameterError(
            f"The graphical lasso did not converge with penalty {alpha:g}; try a larger penalty."
        ) from exc
    pcor = pcor_from_precision(model.precision_)
    off = ~np.eye(pcor.shape[0], dtype=bool)
    return SparseGraph(
        pcor=pcor,
        edges=int(np.count_nonzero(np.triu(pcor, 1))),
        settings={
            "alpha": float(alpha),
            "standardised": True,
            "iterations": int(model.n_iter_),
            "max_abs_offdiagonal": float(np.abs(pcor[off]).max()) if off.any() else 0.0,
        },
    )


def pair_table(matrices: dict[str, np.ndarray], parts: Sequence[str]) -> Any:
    """One row per unordered pair of parts with the value of each matrix, sorted by the first matrix's |value|.

    Parameters
    ----------
    matrices : dict of str to ndarray, shape (D, D)
        Column name to a symmetric matrix.
    parts : sequence of str
        Names of the D parts.

    Returns
    -------
    pandas.DataFrame
        Columns ``part_i``, ``part_j`` and one column per matrix.
    """
    import pandas as pd

    names = np.asarray(list(parts), dtype=object)
    i, j = np.triu_indices(len(names), 1)
    frame = pd.DataFrame({"part_i": names[i], "part_j": names[j]})
    for key, M in matrices.items():
        frame[key] = np.asarray(M)[i, j]
    first = next(iter(matrices))
    order = np.argsort(-np.abs(frame[first].to_numpy()), kind="stable")
    return frame.iloc[order].reset_index(drop=True)
