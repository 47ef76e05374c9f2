"""Everything the page shows about one composition, computed in one call with named steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from covwb.coda.contrasts import clr_correlation, proportion_correlation, proportionality
from covwb.coda.estimator import CompositionalPartialCorrelation, choose_method
from covwb.coda.variation import VariationArray, centre, clr_variances, variation_array


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
    partial : CompositionalPartialCorrelation
        The fitted estimator: partial correlations, partial variances, method, route, intensities.
    settings : dict
        What produced the result (zero handling, method, route, intensities).
    warnings : tuple of str
        The estimator's warnings (:attr:`CompositionalPartialCorrelation.warnings_`).
    """

    parts: tuple[str, ...]
    variation: VariationArray
    clr_variances: np.ndarray
    total_variance: float
    centre: np.ndarray
    proportion_correlation: np.ndarray
    clr_correlation: np.ndarray
    proportionality: np.ndarray
    partial: CompositionalPartialCorrelation
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


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
        Partial-correlation estimator (:data:`covwb.coda.estimator.METHODS`).
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
    estimator = CompositionalPartialCorrelation(method=chosen, zero_replacement=None, store_covariance=False)
    estimator.fit(pd.DataFrame(X, columns=[str(p) for p in parts]))
    report(1.0, "Done")
    found = {k: estimator.diagnostics_[k] for k in ("method", "route", "lambda", "lambda_var", "condition_number")}
    return CompositionAnalysis(
        parts=tuple(parts),
        variation=variation,
        clr_variances=variances,
        total_variance=float(variances.sum()),
        centre=centre(X),
        proportion_correlation=raw,
        clr_correlation=clr_corr,
        proportionality=rho_p,
        partial=estimator,
        settings={**(settings or {}), **found, "n": n, "D": D, "method_requested": method},
        warnings=estimator.warnings_,
    )
