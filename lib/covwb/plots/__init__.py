"""Plotly figure builders, one module per method family; no streamlit.

Every builder takes arrays, tables or a method's result and returns a ``plotly.graph_objects.Figure``
with a title, axis titles and units. The modules follow the pages: :mod:`.matrices` and :mod:`.eeg`
(the explorer, whose full set of figures for one :func:`covwb.explore.explore` result is
:func:`explorer_figures`; those of the compositional and fairness pages :func:`coda_figures` and
:func:`fairness_figures`), :mod:`.acm`, :mod:`.spd`, :mod:`.coda` and :mod:`.fairness`.

Examples
--------
>>> import numpy as np
>>> from covwb.plots import matrix_heatmap
>>> fig = matrix_heatmap(np.array([[2.0, 0.5], [0.5, 1.0]]), ["a", "b"], title="Covariance")
>>> fig.layout.title.text
'Covariance'
"""

from covwb.plots.acm import (
    acm_figures,
    confusion_figure,
    grid_heatmap,
    roc_figure,
    score_figure,
    takens_figure,
    tangent_embedding_figure,
)
from covwb.plots.coda import (
    bars_figure,
    biplot_figure,
    coda_figures,
    correlation_panels,
    network_figure,
    reference_figure,
    subcomposition_figure,
    ternary_figure,
    variation_heatmap,
)
from covwb.plots.eeg import psd_figure, traces_figure
from covwb.plots.explorer import explorer_figures
from covwb.plots.fairness import (
    cell_means_figure,
    distributions_figure,
    fairness_figures,
    lambda_figure,
    tradeoff_figure,
)
from covwb.plots.matrices import distance_heatmap, embedding_scatter, matrix_heatmap, means_figure, spectrum_figure
from covwb.plots.spd import (
    condition_histogram,
    distance_figure,
    failure_figure,
    learning_curves_figure,
    mds_before_after_figure,
    mean_residual_figure,
    ridge_figure,
    spectra_figure,
)

__all__ = [
    "acm_figures",
    "bars_figure",
    "biplot_figure",
    "cell_means_figure",
    "coda_figures",
    "condition_histogram",
    "confusion_figure",
    "correlation_panels",
    "distance_figure",
    "distance_heatmap",
    "distributions_figure",
    "embedding_scatter",
    "explorer_figures",
    "failure_figure",
    "fairness_figures",
    "grid_heatmap",
    "lambda_figure",
    "learning_curves_figure",
    "matrix_heatmap",
    "mds_before_after_figure",
    "mean_residual_figure",
    "means_figure",
    "network_figure",
    "psd_figure",
    "reference_figure",
    "ridge_figure",
    "roc_figure",
    "score_figure",
    "spectra_figure",
    "spectrum_figure",
    "subcomposition_figure",
    "takens_figure",
    "tangent_embedding_figure",
    "ternary_figure",
    "traces_figure",
    "tradeoff_figure",
    "variation_heatmap",
]
