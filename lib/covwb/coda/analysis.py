"""Everything the page shows about one composition, computed in one call with named steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from covwb.coda.contrasts import clr_correlation, proportion_correlation, proportionality
from covwb.coda.partial_correlation import PartialCorrelations, partial_correlations
from covwb.coda.shrinkage import basis_shrinkage_pcor
from covwb.coda.variation import VariationArray, centre, clr_variances, variation_array
from covwb.errors import ParameterError

METHODS: dict[str, str] = {
    "auto": "Automatic: exact when there are more samples than parts, else basis shrinkage",
    "exact": "Exact Γ⁺ (Erb 2020)",
    "basis-shrinkage": "Basis shrinkage (propr pcor.bshrink)",
}
"""Partial-correlation estimators offered."""

EXACT_MAX_PARTS = 3000
"""Above this many parts the automatic choice takes basis shrinkage (a D³ Cholesky is then too slow)."""


@dataclass(frozen=True)
class CompositionAnalysis:
    """Descriptive statistics and association matrices of a strictly positive composition.

    Parameters
    ----------
    parts : tuple of str
        Names of the D parts.
    variation : VariationArray
        Log-ratio variances and means, each (D, D).
    clr_variances : ndarray, shape (D,)
        Variances of the clr coordinates (n - 1).
    total_variance : float
        Sum of the clr variances.
    centre : ndarray, shape (D,)
        Closed geometric mean.
    proportion_correlation, clr_correlation, proportionality : ndarray, shape (D, D)
        Contrast measures (see :mod:`covwb.coda.contrasts`).
    partial : PartialCorrelations
        Partial correlations and partial variances.
    settings : dict
        What produced the result (zero handling, method, route, intensities).
    """

    parts: tuple[str, ...]
    variation: VariationArray
    clr_variances: np.ndarray
    total_variance: float
    centre: np.ndarray
    proportion_correlation: np.ndarray
    clr_correlation: np.ndarray
    proportionality: np.ndarray
    partial: PartialCorrelations
    settings: dict[str, Any] = field(default_factory=dict)


def choose_method(method: str, n: int, D: int) -> str:
    """Resolve ``"auto"``: exact when n > D and D ≤ ``EXACT_MAX_PARTS``, otherwise basis shrinkage."""
    if method not in METHODS:
        raise ParameterError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if method != "auto":
        return method
    return "exact" if n > D and D <= EXACT_MAX_PARTS else "basis-shrinkage"


def analyse(
    values: np.ndarray,
    parts: Sequence[str],
    method: str = "auto",
    *,
    settings: dict[str, Any] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> CompositionAnalysis:
    """Compute the variation array, the contrast measures and the partial correlations.

    Parameters
    ----------
    values : ndarray, shape (n, D)
        Strictly positive closed proportions (after zero replacement).
    parts : sequence of str
        Names of the D parts.
    method : {"auto", "exact", "basis-shrinkage"}
        Partial-correlation estimator.
    settings : dict, optional
        Settings of the earlier steps (zero replacement), merged into the result's settings.
    progress : callable, optional
        Called as ``progress(fraction_done, step_name)`` before each step.

    Returns
    -------
    CompositionAnalysis
    """
    report = progress or (lambda fraction, text: None)
    X = np.asarray(values, dtype=np.float64)
    n, D = X.shape
    chosen = choose_method(method, n, D)
    report(0.0, "Variation array and clr variances")
    variation = variation_array(X)
    variances = clr_variances(X)
    report(0.3, "Raw-proportion and clr correlations, proportionality")
    raw, clr_corr, rho_p = proportion_correlation(X), clr_correlation(X), proportionality(X)
    report(
        0.5, "Exact partial correlations (Cholesky)" if chosen == "exact" else "Basis-shrinkage partial correlations"
    )
    partial = partial_correlations(X, parts) if chosen == "exact" else basis_shrinkage_pcor(X, parts)
    report(1.0, "Done")
    return CompositionAnalysis(
        parts=tuple(parts),
        variation=variation,
        clr_variances=variances,
        total_variance=float(variances.sum()),
        centre=centre(X),
        proportion_correlation=raw,
        clr_correlation=clr_corr,
        proportionality=rho_p,
        partial=partial,
        settings={**(settings or {}), **partial.settings, "method_requested": method},
    )
