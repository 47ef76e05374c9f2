"""Figures of the augmented-covariance classification page.

Fold scores per pipeline, the order x lag score heatmap, the Takens curves (auto-mutual
information and Cao's E1), confusion matrices, ROC curves and a 2-D tangent-space map.
Every builder returns a ``plotly.graph_objects.Figure`` with a title and axis titles.
:func:`acm_figures` builds all of them from one :func:`covwb.eeg.analysis.analyse_acm` result, so that
the page and the exported report show the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from covwb.errors import ParameterError

METRIC_NAMES: dict[str, str] = {
    "roc_auc": "ROC-AUC",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
}


def acm_figures(result: Any) -> dict[str, go.Figure]:
    """Every figure of the EEG page for one result, by the name the page gives it, in the page's order.

    Parameters
    ----------
    result : covwb.eeg.analysis.ACMAnalysis
        What :func:`covwb.eeg.analysis.analyse_acm` returned.

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
        ``scores``; ``grid-<pipeline>`` per grid-searched ACM pipeline; ``takens`` (when the result has Takens
        curves); ``confusion-<pipeline>`` per pipeline; ``roc`` (two classes); ``class-means``;
        ``acm-class-means`` (when the most-chosen order exceeds 1); ``embedding``.
    """
    from covwb.plots.matrices import means_figure

    ev, metric = result.evaluation, result.metric
    name = METRIC_NAMES.get(metric, metric)
    figures = {"scores": score_figure(ev.scores, metric, title=f"{name} per outer fold")}
    for label, values in ev.grid_scores.items():
        figures[f"grid-{label}"] = grid_heatmap(
            values,
            result.settings.orders,
            result.settings.lags,
            metric=metric,
            title=f"{label}: mean inner-CV {name} (averaged over outer folds)",
        )
    if result.takens:
        title = (
            "Takens curves on the first outer training fold (for reference; the grid search chose m and τ)"
            if result.takens_reference
            else "Takens selection on each outer training fold"
        )
        figures["takens"] = takens_figure(result.takens, title=title)
    for label, frame in ev.predictions.items():
        figures[f"confusion-{label}"] = confusion_figure(
            frame["y_true"], frame["y_pred"], ev.classes, title=f"{label}: confusion matrix (out-of-fold)"
        )
    if len(ev.classes) == 2:
        figures["roc"] = roc_figure(ev.predictions, ev.classes[1], title="ROC curves (out-of-fold, pooled)")
    figures["class-means"] = means_figure(
        {f"class {k}": v for k, v in result.means.items()},
        list(result.ch_names),
        title="Class-mean covariances (affine-invariant means)",
        unit="µV²",
    )
    if result.acm_means is not None:
        figures["acm-class-means"] = means_figure(
            {f"class {k}": v for k, v in result.acm_means.items()},
            list(result.acm_names),
            title=f"Class-mean augmented covariances (m = {result.order}, τ = {result.lag})",
            unit="µV²",
        )
    where = f"ACM (m = {result.order}, τ = {result.lag})" if result.order > 1 else "covariances"
    figures["embedding"] = tangent_embedding_figure(
        result.embedding, result.labels, result.explained, title=f"Trials in the tangent space of the {where}"
    )
    return figures


def score_figure(scores: pd.DataFrame, metric: str, *, title: str = "Score per fold") -> go.Figure:
    """Fold scores of each pipeline as points, with the mean as a bar.

    Parameters
    ----------
    scores : pandas.DataFrame
        Columns ``pipeline``, ``fold`` and ``metric`` (one row per pipeline and fold).
    metric : str
        Column to show, a key of :data:`METRIC_NAMES`.
    title : str
        Figure title.
    """
    if metric not in scores.columns or scores.empty:
        raise ParameterError(f"there are no '{metric}' scores to show; run the evaluation first.")
    name = METRIC_NAMES.get(metric, metric)
    order = list(dict.fromkeys(scores["pipeline"]))
    means = scores.groupby("pipeline", sort=False)[metric].agg(["mean", "std"]).reindex(order)
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=order,
            y=means["mean"],
            name="mean over folds",
            marker_color="lightsteelblue",
            error_y={"type": "data", "array": means["std"].fillna(0.0)},
            hovertemplate="%{x}<br>mean %{y:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=scores["pipeline"],
            y=scores[metric],
            mode="markers",
            name="fold",
            text=[f"fold {f}" for f in scores["fold"]],
            marker={"color": "black", "size": 7},
            hovertemplate="%{x}<br>%{text}: %{y:.3f}<extra></extra>",
        )
    )
    low = float(np.nanmin(scores[metric]))
    fig.update_layout(title={"text": title}, yaxis={"title": {"text": name}, "range": [min(0.5, low - 0.02), 1.0]})
    fig.update_xaxes(title_text="pipeline")
    return fig


def grid_heatmap(
    values: np.ndarray, orders: Sequence[int], lags: Sequence[int], *, metric: str, title: str
) -> go.Figure:
    """Mean inner-CV score of each (order, lag) as a heatmap, best cell marked.

    Parameters
    ----------
    values : ndarray, shape (len(orders), len(lags))
        Scores.
    orders, lags : sequence of int
        Row (order m) and column (lag tau, samples) values.
    metric : str
        Metric key, for the colour bar.
    title : str
        Figure title.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (len(orders), len(lags)):
        raise ParameterError(f"the score grid has shape {arr.shape} but {len(orders)} orders and {len(lags)} lags.")
    best = np.unravel_index(int(np.argmax(arr)), arr.shape)
    fig = go.Figure(
        go.Heatmap(
            z=arr,
            x=[str(t) for t in lags],
            y=[str(m) for m in orders],
            colorscale="Viridis",
            colorbar={"title": {"text": METRIC_NAMES.get(metric, metric)}},
            hovertemplate="order %{y}<br>lag %{x} samples<br>score %{z:.4f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[str(lags[best[1]])],
            y=[str(orders[best[0]])],
            mode="markers",
            name="best",
            marker={"symbol": "x", "size": 14, "color": "red"},
            hoverinfo="skip",
        )
    )
    fig.update_layout(title={"text": title})
    fig.update_xaxes(title_text="lag τ (samples)", type="category")
    fig.update_yaxes(title_text="order m", type="category")
    return fig


def takens_figure(selections: Sequence[Any], *, title: str = "Takens selection on each training fold") -> go.Figure:
    """Auto-mutual information against lag and Cao's E1 against order, one line per fold.

    Parameters
    ----------
    selections : sequence of TakensSelection
        One per outer fold (``lags``, ``ami``, ``orders``, ``e1``, chosen ``lag`` and ``order``).
    title : str
        Figure title.
    """
    if not selections:
        raise ParameterError("there is no Takens selection to show; choose the Takens order/lag selection.")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Auto-mutual information", "Cao's E1"))
    for fold, sel in enumerate(selections, start=1):
        group = f"fold {fold}"
        fig.add_trace(
            go.Scatter(
                x=sel.lags,
                y=sel.ami,
                mode="lines",
                name=group,
                legendgroup=group,
                hovertemplate="lag %{x}<br>AMI %{y:.3f} nats<extra>" + group + "</extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[sel.lag],
                y=[sel.ami[sel.lag]],
                mode="markers",
                showlegend=False,
                legendgroup=group,
                marker={"symbol": "x", "size": 10},
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=sel.orders,
                y=sel.e1,
                mode="lines+markers",
                name=group,
                legendgroup=group,
                showlegend=False,
                hovertemplate="order %{x}<br>E1 %{y:.3f}<extra>" + group + "</extra>",
            ),
            row=1,
            col=2,
        )
        fig.add_trace(
            go.Scatter(
                x=[sel.order],
                y=[sel.e1[sel.order - 1]],
                mode="markers",
                showlegend=False,
                legendgroup=group,
                marker={"symbol": "x", "size": 12},
                hoverinfo="skip",
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="lag τ (samples)", row=1, col=1)
    fig.update_yaxes(title_text="mutual information (nats)", row=1, col=1)
    fig.update_xaxes(title_text="order m (embedding dimension)", row=1, col=2)
    fig.update_yaxes(title_text="E1 = E(m+1)/E(m)", row=1, col=2)
    fig.update_layout(title={"text": title})
    return fig


def confusion_figure(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str], *, title: str) -> go.Figure:
    """Confusion matrix of out-of-fold predictions, counts with row percentages.

    Parameters
    ----------
    y_true, y_pred : sequence of str
        True and predicted labels.
    classes : sequence of str
        Class order of rows and columns.
    title : str
        Figure title.
    """
    from sklearn.metrics import confusion_matrix

    names = [str(c) for c in classes]
    counts = confusion_matrix(np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str), labels=names)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    text = [[f"{c}<br>{100 * s:.0f}%" for c, s in zip(row, srow)] for row, srow in zip(counts, share)]
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "share of row"}},
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(title={"text": title})
    fig.update_xaxes(title_text="predicted class", type="category")
    fig.update_yaxes(title_text="true class", type="category", autorange="reversed")
    return fig


def roc_figure(curves: Mapping[str, pd.DataFrame], positive: str, *, title: str = "ROC curves") -> go.Figure:
    """ROC curve of each pipeline's out-of-fold decision values, pooled over folds.

    Parameters
    ----------
    curves : mapping of str to pandas.DataFrame
        Pipeline label to a frame with ``y_true`` and ``score`` (decision value for ``positive``).
    positive : str
        The positive class.
    title : str
        Figure title.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dot", "color": "grey"}))
    for label, frame in curves.items():
        if "score" not in frame:
            continue
        truth = (frame["y_true"].astype(str) == str(positive)).to_numpy()
        fpr, tpr, _ = roc_curve(truth, frame["score"].to_numpy())
        auc = roc_auc_score(truth, frame["score"].to_numpy())
        fig.add_trace(
            go.Scatter(
                x=fpr,
                y=tpr,
                mode="lines",
                name=f"{label} (pooled AUC {auc:.3f})",
                hovertemplate="FPR %{x:.2f}<br>TPR %{y:.2f}<extra>" + label + "</extra>",
            )
        )
    if len(fig.data) == 1:
        raise ParameterError("ROC curves need two classes and decision values; choose two classes.")
    fig.update_layout(title={"text": title}, legend={"title": {"text": f"positive class: {positive}"}})
    fig.update_xaxes(title_text="false positive rate", range=[0, 1])
    fig.update_yaxes(title_text="true positive rate", range=[0, 1], scaleanchor="x")
    return fig


def tangent_embedding_figure(
    coords: np.ndarray, labels: Sequence[str], explained: np.ndarray, *, title: str
) -> go.Figure:
    """Trials on the first two principal axes of their tangent vectors, one trace per class.

    Parameters
    ----------
    coords : ndarray, shape (n, 2)
        Coordinates (unitless).
    labels : sequence of str, length n
        Class of each trial.
    explained : ndarray, shape (2,)
        Fraction of variance of each axis.
    title : str
        Figure title.
    """
    arr = np.asarray(coords, dtype=np.float64)
    groups = np.asarray(labels).astype(str)
    if arr.ndim != 2 or arr.shape[1] != 2 or len(groups) != len(arr):
        raise ParameterError(f"the embedding must have shape (n, 2) with one label per trial, got {arr.shape}.")
    fig = go.Figure()
    for label in np.unique(groups):
        mask = groups == label
        fig.add_trace(
            go.Scatter(
                x=arr[mask, 0],
                y=arr[mask, 1],
                mode="markers",
                name=label,
                text=[f"trial {i + 1}" for i in np.flatnonzero(mask)],
                hovertemplate="%{text}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(title={"text": title}, legend={"title": {"text": "class"}})
    fig.update_xaxes(title_text=f"tangent-space PC 1 ({100 * explained[0]:.0f}% of variance)")
    fig.update_yaxes(title_text=f"tangent-space PC 2 ({100 * explained[1]:.0f}% of variance)", scaleanchor="x")
    return fig
