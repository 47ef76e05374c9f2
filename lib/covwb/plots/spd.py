"""Figures of the SPD batch-norm page: spectra, condition numbers, distances, embeddings, iterations,
ridge sensitivity, float precision and learning curves.

Every builder returns a ``plotly.graph_objects.Figure`` with a title and axis titles; panels
for several metrics sit side by side, before (grey) and after (colour) batch normalisation.
:func:`spd_figures` builds all of them from the result of :func:`covwb.spd.analysis.analyse_spd`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from covwb.covariance.geometry import SPD_METRICS
from covwb.errors import ParameterError

_BEFORE = "#888888"
_AFTER = "#1f77b4"
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _panels(panels: Mapping[str, object]) -> list[str]:
    if not panels:
        raise ParameterError("Choose at least one metric to plot.")
    return list(panels)


def spectra_figure(panels: Mapping[str, object], *, title: str = "Eigenvalue spectra before and after BN") -> go.Figure:
    """Median and min-max band of each ranked eigenvalue, log scale, one column per metric.

    ``panels`` maps a label to an object with ``eigvals_before`` and ``eigvals_after`` (N, n).
    """
    labels = _panels(panels)
    fig = make_subplots(rows=1, cols=len(labels), subplot_titles=labels, shared_yaxes=True)
    for col, label in enumerate(labels, start=1):
        panel = panels[label]
        for name, values, colour in (
            ("before", panel.eigvals_before, _BEFORE),
            ("after", panel.eigvals_after, _AFTER),
        ):
            ranks = np.arange(1, values.shape[1] + 1)
            low, mid, high = np.quantile(values, [0.0, 0.5, 1.0], axis=0)
            fig.add_trace(
                go.Scatter(
                    x=np.r_[ranks, ranks[::-1]],
                    y=np.r_[high, low[::-1]],
                    fill="toself",
                    line={"width": 0},
                    fillcolor=colour,
                    opacity=0.25,
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=name,
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=ranks,
                    y=mid,
                    mode="lines+markers",
                    line={"color": colour},
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="eigenvalue rank", row=1, col=col)
    fig.update_yaxes(type="log", title_text="eigenvalue", row=1, col=1)
    fig.update_layout(title=title, height=380)
    return fig


def condition_histogram(
    panels: Mapping[str, object], *, title: str = "log10 condition numbers before and after BN"
) -> go.Figure:
    """Overlaid histograms of ``log10_condition_before`` and ``log10_condition_after``, one column per metric."""
    labels = _panels(panels)
    fig = make_subplots(rows=1, cols=len(labels), subplot_titles=labels, shared_yaxes=True)
    for col, label in enumerate(labels, start=1):
        panel = panels[label]
        for name, values, colour in (
            ("before", panel.log10_condition_before, _BEFORE),
            ("after", panel.log10_condition_after, _AFTER),
        ):
            fig.add_trace(
                go.Histogram(
                    x=values,
                    name=name,
                    marker_color=colour,
                    opacity=0.6,
                    nbinsx=20,
                    legendgroup=name,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="log10 condition number", row=1, col=col)
    fig.update_yaxes(title_text="matrices", row=1, col=1)
    fig.update_layout(title=title, barmode="overlay", height=360)
    return fig


def distance_figure(
    panels: Mapping[str, object], *, title: str = "Distance to the mean before and to the bias after BN"
) -> go.Figure:
    """Box plots of ``distance_before`` and ``distance_after`` per metric (each in its own unit)."""
    labels = _panels(panels)
    fig = make_subplots(rows=1, cols=len(labels), subplot_titles=labels)
    for col, label in enumerate(labels, start=1):
        panel = panels[label]
        for name, values, colour in (
            ("before", panel.distance_before, _BEFORE),
            ("after", panel.distance_after, _AFTER),
        ):
            fig.add_trace(
                go.Box(
                    y=values,
                    name=name,
                    marker_color=colour,
                    boxpoints="all",
                    jitter=0.4,
                    legendgroup=name,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(title_text="distance (metric's unit)", row=1, col=1)
    fig.update_layout(title=title, height=380)
    return fig


def mds_before_after_figure(
    panels: Mapping[str, object],
    groups: Sequence[str] | None = None,
    *,
    title: str = "2-D MDS of the batch before (top) and after (bottom) BN",
) -> go.Figure:
    """Scatter of ``embedding_before`` (row 1) and ``embedding_after`` (row 2), coloured by group."""
    labels = _panels(panels)
    n = len(panels[labels[0]].embedding_before)
    names = np.asarray(["all"] * n if groups is None else [str(g) for g in groups])
    if len(names) != n:
        raise ParameterError(f"Got {len(names)} group labels for {n} matrices.")
    fig = make_subplots(rows=2, cols=len(labels), subplot_titles=labels + [""] * len(labels), vertical_spacing=0.08)
    for col, label in enumerate(labels, start=1):
        panel = panels[label]
        for row, coords in ((1, panel.embedding_before), (2, panel.embedding_after)):
            for k, group in enumerate(dict.fromkeys(names)):
                mask = names == group
                fig.add_trace(
                    go.Scatter(
                        x=coords[mask, 0],
                        y=coords[mask, 1],
                        mode="markers",
                        name=group,
                        marker={"color": _PALETTE[k % len(_PALETTE)], "size": 7},
                        legendgroup=group,
                        showlegend=row == 1 and col == 1,
                    ),
                    row=row,
                    col=col,
                )
            fig.update_xaxes(title_text="MDS 1", row=row, col=col)
        fig.update_yaxes(title_text="MDS 2 (before)" if col == 1 else None, row=1, col=col)
        fig.update_yaxes(title_text="MDS 2 (after)" if col == 1 else None, row=2, col=col)
    fig.update_layout(title=title, height=620)
    return fig


def mean_residual_figure(
    frame: pd.DataFrame, *, title: str = "BW barycentre: error against fixed-point iterations"
) -> go.Figure:
    """Relative error per iteration, log scale, one line per method (columns of :func:`mean_residuals`)."""
    required = {"iteration", "method", "relative_error"}
    if not required <= set(frame.columns):
        raise ParameterError(f"The residual table needs columns {sorted(required)}.")
    fig = go.Figure()
    for k, (method, part) in enumerate(frame.groupby("method", sort=False)):
        fig.add_trace(
            go.Scatter(
                x=part["iteration"],
                y=np.maximum(part["relative_error"], 1e-17),
                mode="lines+markers",
                name=str(method),
                line={"color": _PALETTE[k % len(_PALETTE)]},
            )
        )
    fig.add_vline(x=1, line_dash="dot", annotation_text="one step (published GBWBN)")
    fig.update_yaxes(type="log", title_text="||S_k − S*||_F / ||S*||_F")
    fig.update_xaxes(title_text="iteration (0 = arithmetic mean)")
    fig.update_layout(title=title, height=380)
    return fig


def ridge_figure(frame: pd.DataFrame, *, title: str = "Ridge sensitivity of a rank-deficient covariance") -> go.Figure:
    """Bars of ``shift_percent`` (distance moved by the ridge change over a reference distance), log scale."""
    if not {"metric", "shift_percent"} <= set(frame.columns):
        raise ParameterError("The ridge table needs columns 'metric' and 'shift_percent'.")
    fig = go.Figure(
        go.Bar(
            x=frame["metric"],
            y=frame["shift_percent"],
            marker_color=_AFTER,
            text=[f"{v:.3g}%" for v in frame["shift_percent"]],
            textposition="outside",
        )
    )
    fig.update_yaxes(type="log", title_text="shift / distance to another covariance (%)")
    fig.update_xaxes(title_text="metric")
    fig.update_layout(title=title, height=380)
    return fig


def failure_figure(frame: pd.DataFrame, *, title: str = "Failure rate of BN against condition number") -> go.Figure:
    """Failure rate against log10 condition number, colour per metric, dashed for float32.

    ``metric`` holds names of :data:`covwb.covariance.geometry.SPD_METRICS`, shown by their short labels.
    """
    if not {"log10_condition", "metric", "dtype", "failure_rate"} <= set(frame.columns):
        raise ParameterError("The failure table needs columns log10_condition, metric, dtype, failure_rate.")
    fig = go.Figure()
    for k, metric in enumerate(dict.fromkeys(frame["metric"])):
        for dtype in ("float64", "float32"):
            part = frame[(frame["metric"] == metric) & (frame["dtype"] == dtype)]
            fig.add_trace(
                go.Scatter(
                    x=part["log10_condition"],
                    y=100 * part["failure_rate"],
                    mode="lines+markers",
                    name=f"{SPD_METRICS[metric].short if metric in SPD_METRICS else metric} {dtype}",
                    line={
                        "color": _PALETTE[k % len(_PALETTE)],
                        "dash": "dash" if dtype == "float32" else "solid",
                    },
                )
            )
    fig.update_xaxes(title_text="log10 condition number of the batch")
    fig.update_yaxes(title_text="matrices failed (%)", range=[-5, 105])
    fig.update_layout(title=title, height=380)
    return fig


def learning_curves_figure(curves: pd.DataFrame, *, title: str = "Learning curves (mean over seeds)") -> go.Figure:
    """Training loss, test accuracy and folding per epoch, one line per variant, averaged over seeds.

    ``curves`` has columns ``epoch``, ``variant``, ``train_loss``, ``test_accuracy`` (in [0, 1]) and
    ``folded_train_percent`` (training matrices whose Bures-Wasserstein exponential folded in the
    epoch, in %; see :mod:`covwb.spd.training`), as :meth:`covwb.spd.training.TrainResult.curves` gives.
    The third panel shows folding beside the curves; its dotted lines are the worst seed.
    """
    columns = ["train_loss", "test_accuracy", "folded_train_percent"]
    if not {"epoch", "variant", *columns} <= set(curves.columns):
        raise ParameterError(
            "The curves table needs columns epoch, variant, train_loss, test_accuracy, folded_train_percent."
        )
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=["Training loss (cross-entropy)", "Test accuracy", "Folded in BW batch norm"],
    )
    grouped = curves.groupby(["variant", "epoch"], sort=False)[columns]
    means, worst = grouped.mean().reset_index(), grouped.max().reset_index()
    for k, (variant, part) in enumerate(means.groupby("variant", sort=False)):
        colour = _PALETTE[k % len(_PALETTE)]
        folded_max = worst[worst["variant"] == variant]
        for col, y, style in (
            (1, part["train_loss"], {}),
            (2, 100 * part["test_accuracy"], {}),
            (3, part["folded_train_percent"], {}),
            (3, folded_max["folded_train_percent"], {"dash": "dot"}),
        ):
            fig.add_trace(
                go.Scatter(
                    x=part["epoch"],
                    y=y,
                    mode="lines",
                    name=str(variant) if not style else f"{variant} (worst seed)",
                    line={"color": colour, **style},
                    legendgroup=str(variant),
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="loss", row=1, col=1)
    fig.update_yaxes(title_text="accuracy (%)", row=1, col=2)
    fig.update_yaxes(title_text="training matrices folded (%)", rangemode="tozero", row=1, col=3)
    fig.update_layout(title=title, height=380)
    return fig


def spd_figures(result: object) -> dict[str, go.Figure]:
    """Every figure of an SPD batch-norm analysis, by name, in the page's order.

    Parameters
    ----------
    result : covwb.spd.analysis.SPDAnalysis
        Read through its ``panels`` (metric name to panel), ``groups``, ``residuals``, ``ridge``,
        ``precision`` and ``training`` (with ``curves()``) only.

    Returns
    -------
    dict of str to Figure
        ``bn-spectra``, ``bn-condition``, ``bn-distances`` and ``bn-mds`` when there are panels;
        ``bn-mean-residuals``, ``bn-ridge``, ``bn-precision``; ``spdnet-curves`` when it trained.
    """
    figures: dict[str, go.Figure] = {}
    panels = {SPD_METRICS[metric].short: panel for metric, panel in result.panels.items()}
    if panels:
        figures["bn-spectra"] = spectra_figure(panels)
        figures["bn-condition"] = condition_histogram(panels)
        figures["bn-distances"] = distance_figure(panels)
        figures["bn-mds"] = mds_before_after_figure(panels, None if result.groups is None else list(result.groups))
    figures["bn-mean-residuals"] = mean_residual_figure(result.residuals)
    figures["bn-ridge"] = ridge_figure(result.ridge)
    figures["bn-precision"] = failure_figure(result.precision)
    if result.training is not None:
        figures["spdnet-curves"] = learning_curves_figure(result.training.curves())
    return figures
