"""Zero diagnostics and zero replacement, so that log-ratios exist.

Three replacements, each recorded in the result's ``settings``:

- ``"multiplicative"`` (Martín-Fernández et al. 2003, as scikit-bio's ``multi_replace``): rows are closed,
  zeros become δ (default ``1/D²``) and non-zeros are scaled by ``1 - k_i δ`` (k_i zeros in row i), so rows
  still sum to one and ratios between non-zero parts are kept.
- ``"pseudo-count"``: a constant (default 0.5) is added to every entry, as for counts.
- ``"minimum"``: every zero becomes the smallest non-zero value of the whole matrix (propr).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from covwb.coda.closure import MIN_PARTS, closure
from covwb.errors import ParameterError

ZERO_METHODS: dict[str, str] = {
    "multiplicative": "Multiplicative replacement (δ = 1/D² by default)",
    "pseudo-count": "Pseudo-count added to every value",
    "minimum": "Smallest non-zero value of the table (as propr)",
}
"""Zero replacements offered, with a label for the page."""


@dataclass(frozen=True)
class ZeroSummary:
    """Zeros per part and per sample.

    Parameters
    ----------
    per_part : pandas.DataFrame
        One row per part: ``part``, ``zeros`` (count), ``zero_fraction``, ``prevalence`` (1 - zero_fraction).
    per_sample : ndarray of int, shape (n,)
        Number of zero parts in each row.
    total : int
        Number of zeros in the matrix.
    """

    per_part: pd.DataFrame
    per_sample: np.ndarray
    total: int


@dataclass(frozen=True)
class Replaced:
    """A strictly positive, closed composition ready for log-ratios, with what was done to it.

    Parameters
    ----------
    values : ndarray, shape (n, D)
        Closed, strictly positive proportions.
    parts : tuple of str
        Names of the D parts kept.
    settings : dict
        ``zero_method``, its parameter (``delta`` or ``pseudo_count`` or ``minimum``), ``zeros_replaced``,
        ``max_zero_fraction`` and ``dropped_parts``.
    warnings : tuple of str
        When zeros were replaced: how many, and that the results of parts with many zeros depend on it.
    """

    values: np.ndarray
    parts: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def zero_summary(X: np.ndarray, parts: Sequence[str]) -> ZeroSummary:
    """Count zeros per part and per sample.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Non-negative amounts.
    parts : sequence of str
        Names of the D parts.

    Returns
    -------
    ZeroSummary
    """
    zero = np.asarray(X) == 0
    per_part = zero.sum(axis=0)
    frame = pd.DataFrame(
        {
            "part": list(parts),
            "zeros": per_part.astype(int),
            "zero_fraction": per_part / zero.shape[0],
            "prevalence": 1.0 - per_part / zero.shape[0],
        }
    )
    return ZeroSummary(per_part=frame, per_sample=zero.sum(axis=1).astype(int), total=int(zero.sum()))


def replace_zeros(
    X: np.ndarray,
    parts: Sequence[str],
    method: str = "multiplicative",
    *,
    delta: float | None = None,
    pseudo_count: float = 0.5,
    max_zero_fraction: float = 1.0,
) -> Replaced:
    """Drop parts with too many zeros, replace the remaining zeros and close the rows.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Non-negative amounts with no row of zeros (see :func:`covwb.coda.closure.composition_matrix`).
    parts : sequence of str
        Names of the D parts.
    method : {"multiplicative", "pseudo-count", "minimum"}
        The zero replacement (see the module docstring). Applied only when there are zeros.
    delta : float, optional
        Replacement value for the multiplicative method, as a proportion; default ``1/D²`` of the kept parts.
    pseudo_count : float
        Value added to every entry by the pseudo-count method, in the units of ``X``.
    max_zero_fraction : float in [0, 1]
        Parts whose fraction of zero samples exceeds this are dropped before replacement.

    Returns
    -------
    Replaced
        Closed strictly positive proportions and the settings that produced them.

    Raises
    ------
    ParameterError
        Unknown method, out-of-range parameters, fewer than three parts left, a row left without non-zero
        parts, or a δ so large that a row would turn negative.

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.array([[12, 0, 5, 3], [7, 4, 0, 9], [0, 6, 8, 6], [10, 2, 3, 5]])
    >>> replaced = replace_zeros(counts, ["1", "2", "3", "4"])  # numeric part names are fine
    >>> replaced.values[0], replaced.settings["zeros_replaced"]
    (array([0.5625  , 0.0625  , 0.234375, 0.140625]), 3)
    >>> print(replaced.warnings[0])  # doctest: +ELLIPSIS
    3 of 16 values (18.8%) were zero and were replaced (multiplicative replacement); ...
    """
    if method not in ZERO_METHODS:
        raise ParameterError(f"Unknown zero replacement {method!r}; choose one of {', '.join(ZERO_METHODS)}.")
    if not 0.0 <= max_zero_fraction <= 1.0:
        raise ParameterError(f"The zero-fraction threshold must lie in [0, 1], got {max_zero_fraction:g}.")
    X = np.asarray(X, dtype=np.float64)
    names = list(parts)
    fraction = (X == 0).mean(axis=0)
    keep = fraction <= max_zero_fraction
    dropped = [name for name, k in zip(names, keep) if not k]
    X = X[:, keep]
    names = [name for name, k in zip(names, keep) if k]
    if len(names) < MIN_PARTS:
        raise ParameterError(
            f"Only {len(names)} parts have at most {max_zero_fraction:.0%} zeros; raise the threshold or choose "
            f"other parts (at least {MIN_PARTS} are needed)."
        )
    empty = np.flatnonzero(X.sum(axis=1) == 0)
    if empty.size:
        raise ParameterError(
            f"After dropping the parts with too many zeros, {empty.size} row(s) have only zeros "
            f"(first: row {empty[0] + 1}); raise the zero-fraction threshold."
        )
    zeros = X == 0
    settings: dict[str, Any] = {
        "zero_method": method,
        "zeros_replaced": int(zeros.sum()),
        "max_zero_fraction": float(max_zero_fraction),
        "dropped_parts": dropped,
    }
    D = X.shape[1]
    if method == "multiplicative":
        d = 1.0 / D**2 if delta is None else float(delta)
        if not 0.0 < d < 1.0:
            raise ParameterError(f"δ must be a proportion between 0 and 1, got {d:g}.")
        settings["delta"] = d
        P = closure(X)
        scale = 1.0 - zeros.sum(axis=1, keepdims=True) * d
        if (scale <= 0).any():
            raise ParameterError(
                f"δ = {d:g} is too large: a row with {int(zeros.sum(axis=1).max())} zeros would get negative "
                "proportions; choose a smaller δ."
            )
        values = np.where(zeros, d, P * scale)
    elif method == "pseudo-count":
        if not pseudo_count > 0:
            raise ParameterError(f"The pseudo-count must be positive, got {pseudo_count:g}.")
        settings["pseudo_count"] = float(pseudo_count)
        values = closure(X + pseudo_count if zeros.any() else X)
    else:
        smallest = float(X[~zeros].min())
        settings["minimum"] = smallest
        values = closure(np.where(zeros, smallest, X))
    return Replaced(values=values, parts=tuple(names), settings=settings, warnings=_zero_warnings(zeros, names, method))


def _zero_warnings(zeros: np.ndarray, parts: Sequence[str], method: str) -> tuple[str, ...]:
    """One sentence when zeros were replaced: how many, the part with most, and what to do."""
    total = int(zeros.sum())
    if not total:
        return ()
    per_part = zeros.mean(axis=0)
    worst = int(np.argmax(per_part))
    return (
        f"{total} of {zeros.size} values ({total / zeros.size:.1%}) were zero and were replaced "
        f"({ZERO_METHODS[method].split(' (')[0].lower()}); log-ratio results of parts with many zeros depend on "
        f"that choice (most: {parts[worst]!r}, zero in {per_part[worst]:.0%} of the samples). Compare another "
        "replacement, or drop the rarest parts.",
    )
