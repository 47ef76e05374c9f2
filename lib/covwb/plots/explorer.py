"""The dataset explorer's figures, built from one :func:`covwb.explore.explore` result.

The page draws these figures and the analysis export puts the same objects in its report, so what the
report shows is what the page showed.
"""

from __future__ import annotations

import plotly.graph_objects as go

from covwb.covariance.geometry import NUMPY_METRICS
from covwb.errors import ParameterError
from covwb.explore import Exploration, ExplorerSettings, RecordingExploration, StackExploration, TableExploration
from covwb.plots.eeg import psd_figure, traces_figure
from covwb.plots.matrices import distance_heatmap, embedding_scatter, matrix_heatmap, means_figure, spectrum_figure


def explorer_figures(result: Exploration, settings: ExplorerSettings | None = None) -> dict[str, go.Figure]:
    """Every figure of the explorer for one result, by the name the page gives it, in the page's order.

    Parameters
    ----------
    result : TableExploration, RecordingExploration or StackExploration
        What :func:`covwb.explore.explore` returned.
    settings : ExplorerSettings or None
        The page's settings, for what the computation ignores (the epoch drawn); ``result.settings`` if None.

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
        Tables and stacks: ``covariance``, ``correlation``, ``spectrum``; recordings: ``traces``, ``psd`` (when
        channels were chosen),
        then, when the epochs were computed, ``epoch-covariance`` and ``mean-covariance``; then, for each
        metric computed, ``distances-<metric>`` and ``mds-<metric>``, and ``means``.

    Raises
    ------
    ParameterError
        ``settings.epoch`` is not an epoch of the result.
    """
    chosen = settings if settings is not None else result.settings
    figures: dict[str, go.Figure] = {}
    groups = None
    if isinstance(result, RecordingExploration):
        channels = list(result.settings.channels or ())
        if channels:
            figures["traces"] = traces_figure(result.times, result.traces, channels, title="Raw traces")
            figures["psd"] = psd_figure(result.freqs, result.psd, channels, title="Power spectral density (Welch)")
        if result.covariances is not None and result.labels is not None:
            epoch = chosen.epoch
            if epoch >= len(result.covariances):
                raise ParameterError(f"Epoch {epoch} does not exist; there are {len(result.covariances)}.")
            figures["epoch-covariance"] = matrix_heatmap(
                result.covariances[epoch],
                result.epoch_channels,
                title=f"Epoch {epoch} ({result.labels[epoch]}), µV²",
                axis_title="channel",
            )
        if result.mean is not None:
            figures["mean-covariance"] = matrix_heatmap(
                result.mean,
                result.epoch_channels,
                title="Affine-invariant mean of all epochs, µV²",
                axis_title="channel",
            )
        groups = None if result.labels is None else list(result.labels)
    elif isinstance(result, (TableExploration, StackExploration)):
        if result.covariance is not None and result.spectrum is not None:
            names = list(result.settings.columns or ()) if isinstance(result, TableExploration) else list(result.names)
            figures["covariance"] = matrix_heatmap(result.covariance, names, title="Covariance")
            figures["correlation"] = matrix_heatmap(result.correlation, names, title="Correlation", zmin=-1.0, zmax=1.0)
            figures["spectrum"] = spectrum_figure(result.spectrum.eigenvalues, title="Eigenvalue spectrum")
        if isinstance(result, StackExploration) and result.groups is not None:
            groups = list(result.groups)
    geometry = getattr(result, "geometry", None) or {}
    for metric, summary in geometry.items():
        label = NUMPY_METRICS[metric]
        figures[f"distances-{metric}"] = distance_heatmap(summary.distances, None, title=f"Pairwise {label} distances")
        figures[f"mds-{metric}"] = embedding_scatter(summary.embedding, groups, title=f"2-D MDS ({label})")
    if geometry:
        figures["means"] = means_figure({NUMPY_METRICS[m]: s.mean for m, s in geometry.items()}, None)
    return figures
