"""Figures of the distance-covariance fairness page: trade-off, λ curves, cell means, distributions per cell.

Every builder returns a ``plotly.graph_objects.Figure`` with a title and axis titles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from covwb.errors import ParameterError
from covwb.fairness.analysis import FAIRLEARN, UNREGULARISED, FairnessResult
from covwb.fairness.torch_penalties import PENALTIES

_COLOURS = qualitative.Plotly


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`ParameterError` when ``frame`` lacks a column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(f"The {what} lacks the columns {', '.join(missing)}.")


def tradeoff_figure(
    summary: pd.DataFrame,
    metric: str,
    metric_label: str,
    *,
    names: Mapping[str, str] | None = None,
    chosen: Mapping[str, float] | None = None,
    baseline: tuple[float, float] | None = None,
    split: str = "test",
) -> go.Figure:
    """Task metric against JSD along the λ grid, one curve per penalty, error bars = sd over seeds.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns ``penalty, lambda, jsd, jsd_sd, <metric>, <metric>_sd`` of one split.
    metric, metric_label : str
        Column of the task metric and its axis label.
    names : mapping, optional
        Display name of each penalty.
    chosen : mapping of str to float, optional
        λ recommended per penalty, marked by a star.
    baseline : (jsd, metric), optional
        A reference point (the fairlearn baseline), drawn as a cross.
    split : str, default "test"
        The split the numbers come from, named in the title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    _need(summary, ["penalty", "lambda", "jsd", "jsd_sd", metric, f"{metric}_sd"], "sweep summary")
    names = dict(names or {})
    fig = go.Figure()
    for i, (penalty, part) in enumerate(summary.groupby("penalty", sort=False)):
        part = part.sort_values("lambda")
        colour = _COLOURS[i % len(_COLOURS)]
        fig.add_trace(
            go.Scatter(
                x=part["jsd"],
                y=part[metric],
                error_x={"type": "data", "array": part["jsd_sd"], "thickness": 1},
                error_y={"type": "data", "array": part[f"{metric}_sd"], "thickness": 1},
                mode="lines+markers+text",
                text=[f"λ={v:g}" for v in part["lambda"]],
                textposition="top right",
                name=names.get(penalty, penalty),
                line={"color": colour},
            )
        )
        if chosen and penalty in chosen:
            at = part[part["lambda"] == chosen[penalty]]
            fig.add_trace(
                go.Scatter(
                    x=at["jsd"],
                    y=at[metric],
                    mode="markers",
                    showlegend=False,
                    marker={"symbol": "star", "size": 16, "color": colour, "line": {"width": 1, "color": "black"}},
                    name=f"recommended λ ({names.get(penalty, penalty)})",
                )
            )
    if baseline is not None:
        fig.add_trace(
            go.Scatter(
                x=[baseline[0]],
                y=[baseline[1]],
                mode="markers",
                name="fairlearn ExponentiatedGradient",
                marker={"symbol": "x", "size": 12, "color": "black"},
            )
        )
    fig.update_layout(
        title=f"Trade-off on the {split} split: task loss against JSD (mean ± sd over seeds)",
        xaxis_title="JSD between intersectional cells (bits)",
        yaxis_title=metric_label,
        legend_title="Penalty",
    )
    return fig


def lambda_figure(
    summary: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    names: Mapping[str, str] | None = None,
    split: str = "test",
) -> go.Figure:
    """Metrics against λ, one panel per metric, mean ± sd band over seeds.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns ``penalty, lambda`` and, per metric, ``<column>`` and ``<column>_sd``.
    columns : mapping of str to str
        Metric column → panel title.
    names : mapping, optional
        Display name of each penalty.
    split : str, default "test"
        The split the numbers come from, named in the title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    _need(summary, ["penalty", "lambda", *columns, *(f"{c}_sd" for c in columns)], "sweep summary")
    names = dict(names or {})
    fig = make_subplots(rows=1, cols=len(columns), subplot_titles=list(columns.values()))
    for i, (penalty, part) in enumerate(summary.groupby("penalty", sort=False)):
        part = part.sort_values("lambda")
        colour = _COLOURS[i % len(_COLOURS)]
        x = part["lambda"].to_numpy()
        for col, column in enumerate(columns, start=1):
            mean, sd = part[column].to_numpy(), part[f"{column}_sd"].to_numpy()
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([mean + sd, (mean - sd)[::-1]]),
                    mode="lines",
                    fill="toself",
                    fillcolor=colour,
                    opacity=0.15,
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=mean,
                    mode="lines+markers",
                    line={"color": colour},
                    name=names.get(penalty, penalty),
                    legendgroup=penalty,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
            fig.update_xaxes(title_text="λ", row=1, col=col)
    fig.update_layout(
        title=f"Metrics on the {split} split along the λ grid (mean ± sd over seeds)", legend_title="Penalty"
    )
    return fig


def cell_means_figure(
    tables: Mapping[str, pd.DataFrame], *, value_label: str = "mean prediction", split: str = "test"
) -> go.Figure:
    """Mean prediction per intersectional cell, one bar group per model, n in the hover.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Model name → cell table (columns ``cell, n, mean prediction``).
    value_label : str
        Axis title.
    split : str, default "test"
        The split the cells come from, named in the title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if not tables:
        raise ParameterError("Give at least one cell table.")
    fig = go.Figure()
    for i, (name, table) in enumerate(tables.items()):
        _need(table, ["cell", "n", "mean prediction"], "cell table")
        fig.add_trace(
            go.Bar(
                y=table["cell"],
                x=table["mean prediction"],
                orientation="h",
                name=name,
                marker_color=_COLOURS[i % len(_COLOURS)],
                customdata=table["n"],
                hovertemplate="%{y}<br>mean %{x:.4g}<br>n = %{customdata}<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title=f"Mean prediction per intersectional cell ({split} split)",
        xaxis_title=value_label,
        yaxis_title="cell",
        barmode="group",
        yaxis={"autorange": "reversed"},
        height=max(400, 40 + 22 * len(next(iter(tables.values()))) * len(tables)),
    )
    return fig


def distributions_figure(
    predictions: np.ndarray,
    cells: np.ndarray,
    labels: Sequence[str],
    *,
    kind: str = "ecdf",
    title: str = "",
    max_cells: int = 12,
) -> go.Figure:
    """Distribution of predictions per intersectional cell against the pooled one (ECDF or KDE).

    Parameters
    ----------
    predictions : ndarray, shape (n,)
        Predictions.
    cells : ndarray of int, shape (n,)
        Cell index of each prediction.
    labels : sequence of str
        Label of each cell index.
    kind : {"ecdf", "kde"}
        Empirical CDFs, or Gaussian KDEs with a per-cell Silverman bandwidth.
    title : str
        Figure title (a default names the kind).
    max_cells : int, default 12
        Largest cells drawn (the others are in the pooled curve only).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    from covwb.fairness.metrics import cell_densities

    predictions = np.asarray(predictions, dtype=np.float64)
    cells = np.asarray(cells)
    if predictions.shape != cells.shape or predictions.ndim != 1 or predictions.size == 0:
        raise ParameterError("Give one cell per prediction.")
    if kind not in ("ecdf", "kde"):
        raise ParameterError(f"Unknown kind '{kind}'; choose ecdf or kde.")
    counts = np.bincount(cells, minlength=len(labels))
    shown = [int(c) for c in np.argsort(-counts, kind="stable")[:max_cells] if counts[c] > 0]
    fig = go.Figure()
    if kind == "ecdf":
        for i, cell in enumerate(shown):
            values = np.sort(predictions[cells == cell])
            fig.add_trace(
                go.Scatter(
                    x=values,
                    y=np.arange(1, values.size + 1) / values.size,
                    mode="lines",
                    line={"shape": "hv", "color": _COLOURS[i % len(_COLOURS)]},
                    name=f"{labels[cell]} (n={counts[cell]})",
                )
            )
        pooled = np.sort(predictions)
        fig.add_trace(
            go.Scatter(
                x=pooled,
                y=np.arange(1, pooled.size + 1) / pooled.size,
                mode="lines",
                line={"shape": "hv", "color": "black", "width": 3, "dash": "dash"},
                name="pooled",
            )
        )
        y_title = "cumulative share"
    else:
        points, probabilities, present = cell_densities(predictions, cells, method="kde", grid=256)
        step = points[1] - points[0] if points.size > 1 else 1.0
        row = {int(c): r for r, c in enumerate(present)}
        for i, cell in enumerate(shown):
            fig.add_trace(
                go.Scatter(
                    x=points,
                    y=probabilities[row[cell]] / step,
                    mode="lines",
                    line={"color": _COLOURS[i % len(_COLOURS)]},
                    name=f"{labels[cell]} (n={counts[cell]})",
                )
            )
        weights = counts[present] / counts.sum()
        fig.add_trace(
            go.Scatter(
                x=points,
                y=(weights @ probabilities) / step,
                mode="lines",
                line={"color": "black", "width": 3, "dash": "dash"},
                name="pooled",
            )
        )
        y_title = "density"
    fig.update_layout(
        title=title or f"Predictions per intersectional cell against the pooled distribution ({kind.upper()})",
        xaxis_title="prediction",
        yaxis_title=y_title,
        legend_title="cell",
    )
    return fig


def fairness_figures(result: FairnessResult, shown: str | None = None, kind: str = "ecdf") -> dict[str, go.Figure]:
    """Every figure of the fairness page for one result, by the name the page gives it, in the page's order.

    Parameters
    ----------
    result : FairnessResult
        What :func:`covwb.fairness.analyse_fairness` returned (or the page's job).
    shown : str or None
        The model of :meth:`~covwb.fairness.analysis.FairnessResult.models` whose cells and distributions
        are drawn; None for the last one.
    kind : {"ecdf", "kde"}
        How the predictions of each cell are drawn.

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
        ``fairness-tradeoff`` and ``fairness-lambda-curves`` (test split, with the recommended λ and the
        fairlearn baseline), ``fairness-cell-means`` (the model shown beside the unregularised one) and
        ``fairness-distributions`` (the model shown, per cell against the pooled distribution).

    Raises
    ------
    ParameterError
        ``shown`` is not a model of the result.
    """
    models = list(result.models())
    shown = models[-1] if shown is None else shown
    if shown not in models:
        raise ParameterError(f"The result has no model {shown!r}; choose one of {', '.join(models)}.")
    metric, metric_label = result.metric
    summary = result.sweep.summary
    test = summary[summary["split"] == "test"]
    recommended = {p: c.lam for p, c in result.sweep.choices.items() if c.recommended}
    baseline = None
    if result.baseline is not None:
        reduction = result.baseline.evaluations[FAIRLEARN].metrics
        baseline = (reduction["jsd"], reduction[metric])
    cells = {UNREGULARISED: result.cells(UNREGULARISED)}
    cells[shown] = result.cells(shown)
    target = result.settings.target
    return {
        "fairness-tradeoff": tradeoff_figure(
            test, metric, metric_label, names=PENALTIES, chosen=recommended, baseline=baseline, split="test"
        ),
        "fairness-lambda-curves": lambda_figure(
            test,
            {metric: metric_label, "jsd": "JSD (bits)", "uf": "UF", "dcor": "dCor²"},
            names=PENALTIES,
            split="test",
        ),
        "fairness-cell-means": cell_means_figure(cells, value_label=f"mean prediction of {target}", split="test"),
        "fairness-distributions": distributions_figure(
            result.predictions(shown),
            result.test_protected.cells,
            result.test_protected.cell_labels,
            kind=kind,
            title=f"{shown}: predictions per intersectional cell against the pooled distribution (test split)",
        ),
    }
