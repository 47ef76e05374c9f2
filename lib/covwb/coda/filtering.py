"""Keep a manageable number of parts: filtering by variance or prevalence, and the page's size limit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from covwb.coda.closure import closure
from covwb.errors import ParameterError

FILTERS: dict[str, str] = {
    "variance": "Largest variance of the proportions",
    "prevalence": "Largest prevalence (fraction of samples where the part is non-zero)",
}
"""Ways of ranking parts when there are too many to show."""


def rank_parts(X: np.ndarray, by: str) -> np.ndarray:
    """Order of the parts, best first, by the variance of their proportions or their prevalence.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Non-negative amounts, no row of zeros.
    by : {"variance", "prevalence"}
        Ranking criterion; ties keep the original order.

    Returns
    -------
    ndarray of int, shape (D,)
        Column indices.
    """
    if by not in FILTERS:
        raise ParameterError(f"Unknown filter {by!r}; choose one of {', '.join(FILTERS)}.")
    X = np.asarray(X, dtype=np.float64)
    score = closure(X).var(axis=0) if by == "variance" else (X > 0).mean(axis=0)
    return np.argsort(-score, kind="stable")


def filter_parts(X: np.ndarray, parts: Sequence[str], by: str, keep: int) -> tuple[np.ndarray, list[str]]:
    """Keep the ``keep`` best parts by :func:`rank_parts`, in their original order.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Non-negative amounts.
    parts : sequence of str
        Names of the D parts.
    by : {"variance", "prevalence"}
        Ranking criterion.
    keep : int
        Number of parts kept (at least 3).

    Returns
    -------
    X_kept : ndarray, shape (n, keep)
    parts_kept : list of str
    """
    if keep < 3:
        raise ParameterError(f"Keep at least 3 parts, got {keep}.")
    chosen = np.sort(rank_parts(X, by)[:keep])
    names = list(parts)
    return np.asarray(X)[:, chosen], [names[k] for k in chosen]


def check_displayable(D: int, limit: int) -> None:
    """Raise :class:`ParameterError` when ``D`` parts are too many for matrices drawn in the browser."""
    if D > limit:
        raise ParameterError(
            f"{D} parts are too many to draw in the browser (at most {limit}); filter the parts by variance or "
            "prevalence below the part list."
        )
