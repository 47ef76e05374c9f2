"""Two demonstrations as functions: reference independence and subcompositional incoherence."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from covwb.coda.closure import MIN_PARTS
from covwb.coda.partial_correlation import partial_correlations
from covwb.errors import ParameterError


def reference_independence(
    X: np.ndarray, parts: Sequence[str], i: str, j: str, *, max_references: int | None = None
) -> pd.DataFrame:
    """Residual correlation of ``log(x_i/x_r)`` and ``log(x_j/x_r)`` given all other ``log(x_k/x_r)``, per r.

    For every reference r outside {i, j} both log-ratios are regressed (with intercept) on the
    remaining log-ratios; the correlation of the residuals is the same for every r and equals
    Erb's ρ_ij; adding the partner log-ratio to the regressors leaves the residual variances
    ``var(e_i)(1 - ρ²)``, the partial variances ``1/Ω_ii`` and ``1/Ω_jj``, also the same for every r.
    All references are solved in one batched least-squares system.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts, D ≥ 3.
    parts : sequence of str
        Names of the D parts.
    i, j : str
        The two parts.
    max_references : int, optional
        Use at most this many references, evenly spread over the other parts (the cost grows as
        references × n × D²); default all D - 2.

    Returns
    -------
    pandas.DataFrame
        One row per reference: ``reference``, ``residual_correlation``, ``formula`` (ρ_ij from ``Γ⁺``),
        ``partial_variance_i``, ``partial_variance_j`` (denominator n - 1).
    """
    names = list(parts)
    if i == j or i not in names or j not in names:
        raise ParameterError("Choose two different parts of the composition.")
    X = np.asarray(X, dtype=np.float64)
    n, D = X.shape
    if D < MIN_PARTS:
        raise ParameterError(f"Reference independence needs at least {MIN_PARTS} parts.")
    a, b = names.index(i), names.index(j)
    refs = np.array([r for r in range(D) if r not in (a, b)])
    if max_references is not None and max_references < len(refs):
        refs = refs[np.unique(np.linspace(0, len(refs) - 1, max(1, max_references)).round().astype(int))]
    others = np.array([[k for k in range(D) if k not in (a, b, r)] for r in refs], dtype=int).reshape(len(refs), -1)
    L = np.log(X)
    L = L - L.mean(axis=0)
    Y = np.stack([L[:, a][None, :] - L[:, refs].T, L[:, b][None, :] - L[:, refs].T], axis=-1)  # (R, n, 2)
    if others.shape[1]:
        Z = L[:, others].transpose(1, 0, 2) - L[:, refs].T[:, :, None]  # (R, n, D-3)
        Zt = Z.transpose(0, 2, 1)
        E = Y - Z @ np.linalg.solve(Zt @ Z, Zt @ Y)
    else:
        E = Y
    cross = E.transpose(0, 2, 1) @ E
    corr = cross[:, 0, 1] / np.sqrt(cross[:, 0, 0] * cross[:, 1, 1])
    formula = partial_correlations(X, names).pcor[a, b]
    return pd.DataFrame(
        {
            "reference": [names[r] for r in refs],
            "residual_correlation": corr,
            "formula": formula,
            "partial_variance_i": cross[:, 0, 0] * (1.0 - corr**2) / (n - 1),
            "partial_variance_j": cross[:, 1, 1] * (1.0 - corr**2) / (n - 1),
        }
    )


def subcompositional_incoherence(X: np.ndarray, parts: Sequence[str], keep: Sequence[str]) -> pd.DataFrame:
    """Partial correlations of the kept parts, on all parts and on the subcomposition alone.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Strictly positive amounts.
    parts : sequence of str
        Names of the D parts.
    keep : sequence of str
        The subcomposition, at least three parts.

    Returns
    -------
    pandas.DataFrame
        One row per pair of kept parts: ``part_i``, ``part_j``, ``rho_all_parts``, ``rho_subcomposition``,
        ``change`` (sub minus all), sorted by |change|.
    """
    names = list(parts)
    kept = [p for p in names if p in set(keep)]
    if len(kept) < MIN_PARTS:
        raise ParameterError(f"Keep at least {MIN_PARTS} parts in the subcomposition (got {len(kept)}).")
    index = np.array([names.index(p) for p in kept])
    full = partial_correlations(X, names).pcor[np.ix_(index, index)]
    sub = partial_correlations(np.asarray(X)[:, index], kept).pcor
    a, b = np.triu_indices(len(kept), 1)
    frame = pd.DataFrame(
        {
            "part_i": np.asarray(kept, dtype=object)[a],
            "part_j": np.asarray(kept, dtype=object)[b],
            "rho_all_parts": full[a, b],
            "rho_subcomposition": sub[a, b],
        }
    )
    frame["change"] = frame["rho_subcomposition"] - frame["rho_all_parts"]
    order = np.argsort(-np.abs(frame["change"].to_numpy()), kind="stable")
    return frame.iloc[order].reset_index(drop=True)
