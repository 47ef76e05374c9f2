"""Compositional data analysis: closure, zeros, log-ratio transforms, partial correlations (+ estimator), shrinkage.

:class:`CompositionalPartialCorrelation` is the scikit-learn estimator of Erb's partial correlations between
parts (exact ``Γ⁺``, or basis shrinkage when parts outnumber samples), with zero replacement and warnings; the
functions :func:`partial_correlations` and :func:`basis_shrinkage_pcor` are its computations on strictly
positive data. :func:`analyse` computes everything the compositional page shows, from :class:`CodaSettings`.

Examples
--------
>>> import numpy as np
>>> from covwb.coda import CompositionalPartialCorrelation
>>> counts = np.random.default_rng(1).poisson(20.0, size=(50, 4)) + 1
>>> est = CompositionalPartialCorrelation().fit(counts)
>>> est.method_, est.partial_correlation_.shape, est.warnings_
('exact', (4, 4), ())
"""

from covwb.coda.analysis import CodaResult, CodaSettings, CompositionAnalysis, analyse
from covwb.coda.biplot import ClrPCA, clr_pca
from covwb.coda.closure import MIN_PARTS, closure, composition_matrix, suggest_parts
from covwb.coda.contrasts import (
    SparseGraph,
    clr_correlation,
    graphical_lasso_clr,
    pair_table,
    proportion_correlation,
    proportionality,
)
from covwb.coda.demonstrations import reference_independence, subcompositional_incoherence
from covwb.coda.estimator import EXACT_MAX_PARTS, METHODS, CompositionalPartialCorrelation, choose_method
from covwb.coda.filtering import FILTERS, check_displayable, filter_parts, rank_parts
from covwb.coda.partial_correlation import PartialCorrelations, clr_precision, partial_correlations
from covwb.coda.shrinkage import ShrinkageIntensities, basis_shrinkage_pcor, cov_shrink, shrinkage_intensities
from covwb.coda.transforms import alr, alr_inv, clr, clr_inv, default_basis, ilr, ilr_inv, sbp_basis
from covwb.coda.variation import (
    VariationArray,
    centre,
    clr_covariance,
    clr_variances,
    most_variable_parts,
    total_variance,
    variation_array,
)
from covwb.coda.zeros import ZERO_METHODS, Replaced, ZeroSummary, replace_zeros, zero_summary

__all__ = [
    "EXACT_MAX_PARTS",
    "FILTERS",
    "METHODS",
    "MIN_PARTS",
    "ZERO_METHODS",
    "ClrPCA",
    "CodaResult",
    "CodaSettings",
    "CompositionAnalysis",
    "CompositionalPartialCorrelation",
    "PartialCorrelations",
    "Replaced",
    "ShrinkageIntensities",
    "SparseGraph",
    "VariationArray",
    "ZeroSummary",
    "alr",
    "alr_inv",
    "analyse",
    "basis_shrinkage_pcor",
    "centre",
    "check_displayable",
    "choose_method",
    "closure",
    "clr",
    "clr_correlation",
    "clr_covariance",
    "clr_inv",
    "clr_pca",
    "clr_precision",
    "clr_variances",
    "composition_matrix",
    "cov_shrink",
    "default_basis",
    "filter_parts",
    "graphical_lasso_clr",
    "ilr",
    "ilr_inv",
    "most_variable_parts",
    "pair_table",
    "partial_correlations",
    "proportion_correlation",
    "proportionality",
    "rank_parts",
    "reference_independence",
    "replace_zeros",
    "sbp_basis",
    "shrinkage_intensities",
    "subcompositional_incoherence",
    "suggest_parts",
    "total_variance",
    "variation_array",
    "zero_summary",
]
