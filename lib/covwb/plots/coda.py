"""Figures of the compositional partial-correlation page.

Every builder returns a ``plotly.graph_objects.Figure`` with a title and axis titles. Matrices are drawn
like matrices (row 1 at the top). Correlation-type matrices share one diverging scale from -1 to 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from covwb.coda.analysis import ALL_LABELS_UP_TO, CodaResult, default_label_count
from covwb.errors import ParameterError

_DIVERGING = "RdBu_r"
_POSITIVE = "#b2182b"
_NEGATIVE = "#2166ac"
MAX_NETWORK_EDGES = 300
"""The network draws at most this many edges (the largest |ρ| above the threshold)."""
_FAINT = 0.3


def _outward(x: np.ndarray) -> list[str]:
    """Text positions that put labels outside a circle: right of nodes on the right half, left on the left."""
    return ["middle right" if v > 1e-9 else "middle left" if v < -1e-9 else "top center" for v in x]


def _names(parts: Sequence[str], D: int) -> list[str]:
    names = [str(p) for p in parts]
    if len(names) != D:
        raise ParameterError(f"Got {len(names)} part names for {D} parts; give one per part.")
    return names


def correlation_panels(matrices: Mapping[str, np.ndarray], parts: Sequence[str], *, title: str) -> go.Figure:
    """Correlation-type matrices side by side on one colour scale from -1 to 1.

    Parameters
    ----------
    matrices : mapping of str to ndarray, shape (D, D)
        Panel title to a symmetric matrix with entries in [-1, 1].
    parts : sequence of str
        Names of the D parts.
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` per panel sharing ``coloraxis`` (cmin -1, cmax 1).
    """
    if not matrices:
        raise ParameterError("Give at least one matrix to draw.")
    first = np.asarray(next(iter(matrices.values())))
    names = _names(parts, first.shape[0])
    fig = make_subplots(rows=1, cols=len(matrices), subplot_titles=list(matrices), horizontal_spacing=0.06)
    for col, M in enumerate(matrices.values(), start=1):
        fig.add_trace(
            go.Heatmap(
                z=np.asarray(M, dtype=np.float64),
                x=names,
                y=names,
                coloraxis="coloraxis",
                hovertemplate="%{y} – %{x}<br>%{z:.3f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        anchor = "x" if col == 1 else f"x{col}"
        fig.update_xaxes(title_text="part", type="category", constrain="domain", row=1, col=col)
        fig.update_yaxes(type="category", autorange="reversed", scaleanchor=anchor, constrain="domain", row=1, col=col)
    fig.update_yaxes(title_text="part", row=1, col=1)
    fig.update_layout(
        title={"text": title},
        coloraxis={
            "colorscale": _DIVERGING,
            "cmin": -1.0,
            "cmax": 1.0,
            "cmid": 0.0,
            "colorbar": {"title": {"text": "correlation"}},
        },
    )
    return fig


def variation_heatmap(variances: np.ndarray, means: np.ndarray, parts: Sequence[str]) -> go.Figure:
    """Variation array: log-ratio variances as colour, means of ``log(x_row / x_column)`` on hover.

    Parameters
    ----------
    variances : ndarray, shape (D, D)
        ``var(log(x_i/x_j))``.
    means : ndarray, shape (D, D)
        ``mean(log(x_i/x_j))``.
    parts : sequence of str
        Names of the D parts.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` of the variances with the means as ``customdata``.
    """
    V = np.asarray(variances, dtype=np.float64)
    names = _names(parts, V.shape[0])
    fig = go.Figure(
        go.Heatmap(
            z=V,
            x=names,
            y=names,
            customdata=np.asarray(means, dtype=np.float64),
            colorscale="Viridis",
            zmin=0.0,
            colorbar={"title": {"text": "var log-ratio"}},
            hovertemplate="log(%{y}/%{x})<br>variance %{z:.4g}<br>mean %{customdata:.4g}<extra></extra>",
        )
    )
    fig.update_layout(title={"text": "Variation array: variance of log(row part / column part)"})
    fig.update_xaxes(title_text="part (denominator)", type="category", constrain="domain")
    fig.update_yaxes(
        title_text="part (numerator)", type="category", autorange="reversed", scaleanchor="x", constrain="domain"
    )
    return fig


def network_figure(
    pcor: np.ndarray, parts: Sequence[str], threshold: float, *, title: str, n_labels: int | None = None
) -> go.Figure:
    """Partial-correlation network on a circle: edges where |ρ| ≥ threshold, red positive, blue negative.

    With many parts, names and edges overlap; only the strongest are labelled. The ``n_labels`` edges with
    the largest |ρ| among those drawn carry their ρ at their middle and full colour, the other drawn edges are
    faint. Up to :data:`ALL_LABELS_UP_TO` parts every part is named; above that only the parts at the ends
    of the labelled edges are, and the others are unnamed dots that show their name on hover.

    Parameters
    ----------
    pcor : ndarray, shape (D, D)
        Partial correlations.
    parts : sequence of str
        Names of the D parts (nodes).
    threshold : float
        Smallest |ρ| drawn, in [0, 1].
    title : str
        Figure title.
    n_labels : int or None
        Edges labelled (0 for none); None is :func:`default_label_count` of D.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace per drawn edge (width ∝ |ρ|, at most ``MAX_NETWORK_EDGES``, strongest first), a text
        trace ``"edge labels"`` with the labelled edges' ρ, a marker trace ``"parts"`` of every node (names on
        hover) and, last, a marker+text trace ``"named parts"``.
    """
    R = np.asarray(pcor, dtype=np.float64)
    names = _names(parts, R.shape[0])
    D = len(names)
    k_labels = default_label_count(D) if n_labels is None else int(n_labels)
    if k_labels < 0:
        raise ParameterError(f"The number of labels must be 0 or more, got {n_labels}.")
    angle = np.pi / 2 - 2 * np.pi * np.arange(D) / D
    x, y = np.cos(angle), np.sin(angle)
    i, j = np.triu_indices(D, 1)
    values = R[i, j]
    keep = np.flatnonzero(np.abs(values) >= threshold)
    keep = keep[np.argsort(-np.abs(values[keep]), kind="stable")][:MAX_NETWORK_EDGES]
    labelled = keep[:k_labels]
    fig = go.Figure()
    for rank, k in enumerate(keep):
        a, b, v = i[k], j[k], values[k]
        fig.add_trace(
            go.Scatter(
                x=[x[a], x[b]],
                y=[y[a], y[b]],
                mode="lines",
                showlegend=False,
                opacity=1.0 if rank < k_labels else _FAINT,
                line={"color": _POSITIVE if v > 0 else _NEGATIVE, "width": 1 + 7 * abs(v)},
                hovertemplate=f"{names[a]} – {names[b]}<br>ρ = {v:.3f}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=(x[i[labelled]] + x[j[labelled]]) / 2,
            y=(y[i[labelled]] + y[j[labelled]]) / 2,
            mode="text",
            text=[f"{v:+.2f}" for v in values[labelled]],
            textfont={"size": 10},
            name="edge labels",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    named = np.arange(D) if D <= ALL_LABELS_UP_TO else np.unique(np.concatenate([i[labelled], j[labelled]]))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="markers",
            text=names,
            name="parts",
            marker={"size": 12 if D <= ALL_LABELS_UP_TO else 6, "color": "#444"},
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x[named],
            y=y[named],
            mode="markers+text",
            text=[names[k] for k in named],
            textposition=_outward(x[named]),
            name="named parts",
            marker={"size": 12 if D <= ALL_LABELS_UP_TO else 8, "color": "#444"},
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
        )
    )
    what = f"|ρ| ≥ {threshold:.2f}: {len(keep)} edges"
    if D > ALL_LABELS_UP_TO or len(labelled) < len(keep):
        what += f", the {len(labelled)} strongest labelled"
    fig.update_layout(title={"text": f"{title} ({what}; red +, blue −)"})
    fig.update_xaxes(visible=False, range=[-1.45, 1.45])
    fig.update_yaxes(visible=False, range=[-1.3, 1.3], scaleanchor="x")
    return fig


def reference_figure(table: pd.DataFrame, pair: tuple[str, str]) -> go.Figure:
    """Residual correlation of the pair for each alr reference, against Erb's ρ from ``Γ⁺``.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`covwb.coda.demonstrations.reference_independence`.
    pair : tuple of str
        The two parts, for the title.

    Returns
    -------
    plotly.graph_objects.Figure
        A ``Bar`` trace per reference and a ``Scatter`` line of the formula value.
    """
    formula = float(table["formula"].iloc[0])
    fig = go.Figure(
        [
            go.Bar(
                x=table["reference"],
                y=table["residual_correlation"],
                name="residual correlation",
                hovertemplate="reference %{x}<br>%{y:.6f}<extra></extra>",
            ),
            go.Scatter(
                x=table["reference"],
                y=np.full(len(table), formula),
                mode="lines",
                name="ρ from Γ⁺",
                line={"color": "black", "dash": "dash"},
            ),
        ]
    )
    fig.update_layout(title={"text": f"Reference independence: {pair[0]} – {pair[1]} (ρ = {formula:.4f})"})
    fig.update_xaxes(title_text="reference part r of log(x/x_r)")
    fig.update_yaxes(title_text="residual correlation", range=[-1, 1])
    return fig


def subcomposition_figure(table: pd.DataFrame) -> go.Figure:
    """ρ on the subcomposition against ρ on all parts, one point per pair, with the identity line.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`covwb.coda.demonstrations.subcompositional_incoherence`.

    Returns
    -------
    plotly.graph_objects.Figure
        A ``Scatter`` of the pairs and the dashed diagonal.
    """
    labels = table["part_i"].astype(str) + " – " + table["part_j"].astype(str)
    fig = go.Figure(
        [
            go.Scatter(x=[-1, 1], y=[-1, 1], mode="lines", name="no change", line={"color": "grey", "dash": "dash"}),
            go.Scatter(
                x=table["rho_all_parts"],
                y=table["rho_subcomposition"],
                mode="markers",
                text=labels,
                name="pairs",
                hovertemplate="%{text}<br>all parts %{x:.3f}<br>subcomposition %{y:.3f}<extra></extra>",
            ),
        ]
    )
    fig.update_layout(title={"text": "Subcompositional incoherence of partial correlations"})
    fig.update_xaxes(title_text="ρ given all other parts", range=[-1.05, 1.05])
    fig.update_yaxes(title_text="ρ within the subcomposition", range=[-1.05, 1.05], scaleanchor="x")
    return fig


def biplot_figure(
    scores: np.ndarray,
    loadings: np.ndarray,
    explained: np.ndarray,
    parts: Sequence[str],
    groups: Sequence[str] | None = None,
    *,
    n_labels: int | None = None,
) -> go.Figure:
    """Compositional (clr) form biplot: samples as points, parts as rays from the origin.

    With many parts the names overlap; only the ``n_labels`` parts with the longest rays (the largest
    loadings in the plane, those the plane represents best) are named and drawn in black, the other rays
    are thin and grey and show their name on hover.

    Parameters
    ----------
    scores : ndarray, shape (n, 2)
        Sample coordinates on the first two components.
    loadings : ndarray, shape (D, 2)
        Part directions; rescaled to the extent of the scores for display.
    explained : ndarray, shape (2,)
        Fractions of variance explained.
    parts : sequence of str
        Names of the D parts.
    groups : sequence of str, length n, optional
        Sample groups, one marker trace per group.
    n_labels : int or None
        Parts named (0 for none); None is :func:`default_label_count` of D.

    Returns
    -------
    plotly.graph_objects.Figure
        Marker trace(s) of the samples, a line trace ``"other parts"`` of the unnamed rays (hover names) and,
        last, a line+text trace ``"parts (clr loadings)"`` of the named rays, longest first.
    """
    S = np.asarray(scores, dtype=np.float64)
    Ld = np.asarray(loadings, dtype=np.float64)
    names = _names(parts, Ld.shape[0])
    if S.shape[1] < 2 or Ld.shape[1] < 2:
        raise ParameterError("A biplot needs two components.")
    D = len(names)
    k_labels = default_label_count(D) if n_labels is None else int(n_labels)
    if k_labels < 0:
        raise ParameterError(f"The number of labels must be 0 or more, got {n_labels}.")
    fig = go.Figure()
    labels = np.asarray(["samples"] * len(S) if groups is None else [str(g) for g in groups], dtype=object)
    for group in dict.fromkeys(labels):
        mask = labels == group
        fig.add_trace(
            go.Scatter(
                x=S[mask, 0],
                y=S[mask, 1],
                mode="markers",
                name=str(group),
                marker={"size": 6, "opacity": 0.7},
                hovertemplate="PC1 %{x:.3f}<br>PC2 %{y:.3f}<extra></extra>",
            )
        )
    top = np.abs(Ld[:, :2]).max()
    scale = 0.9 * np.abs(S[:, :2]).max() / top if top > 0 else 1.0
    order = np.argsort(-np.hypot(Ld[:, 0], Ld[:, 1]), kind="stable")
    for which, style, text_mode, name in (
        (order[k_labels:], {"color": "#aaaaaa", "width": 0.5}, False, "other parts"),
        (order[:k_labels], {"color": "black", "width": 1}, True, "parts (clr loadings)"),
    ):
        ends = np.full(len(which), np.nan)
        rays_x = np.column_stack([np.zeros(len(which)), Ld[which, 0] * scale, ends]).ravel()
        rays_y = np.column_stack([np.zeros(len(which)), Ld[which, 1] * scale, ends]).ravel()
        hover = np.column_stack([[names[k] for k in which]] * 3).ravel()
        fig.add_trace(
            go.Scatter(
                x=rays_x,
                y=rays_y,
                mode="lines+text" if text_mode else "lines",
                text=np.column_stack([np.full(len(which), ""), hover[1::3], np.full(len(which), "")]).ravel()
                if text_mode
                else None,
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
                textposition="top center",
                name=name,
                line=style,
            )
        )
    title = "Compositional biplot (PCA of clr)"
    if k_labels < D:
        title += f": the {min(k_labels, D)} parts with the longest rays named, of {D}"
    fig.update_layout(title={"text": title})
    fig.update_xaxes(title_text=f"PC1 ({explained[0]:.1%} of total variance)")
    fig.update_yaxes(title_text=f"PC2 ({explained[1]:.1%} of total variance)", scaleanchor="x")
    return fig


def ternary_figure(P: np.ndarray, parts: Sequence[str], groups: Sequence[str] | None = None) -> go.Figure:
    """Ternary diagram of three parts, closed to the subcomposition.

    Parameters
    ----------
    P : ndarray, shape (n, 3)
        Positive amounts of the three parts (closed here).
    parts : sequence of str, length 3
        Their names (axes a, b, c).
    groups : sequence of str, length n, optional
        Sample groups, one trace per group.

    Returns
    -------
    plotly.graph_objects.Figure
        ``Scatterternary`` trace(s) with proportions summing to 1.
    """
    P = np.asarray(P, dtype=np.float64)
    names = _names(parts, P.shape[1])
    if len(names) != 3:
        raise ParameterError("A ternary diagram shows exactly three parts.")
    Q = P / P.sum(axis=1, keepdims=True)
    labels = np.asarray(["samples"] * len(Q) if groups is None else [str(g) for g in groups], dtype=object)
    fig = go.Figure()
    for group in dict.fromkeys(labels):
        mask = labels == group
        fig.add_trace(
            go.Scatterternary(
                a=Q[mask, 0],
                b=Q[mask, 1],
                c=Q[mask, 2],
                mode="markers",
                name=str(group),
                marker={"size": 6, "opacity": 0.7},
            )
        )
    fig.update_layout(
        title={"text": f"Ternary diagram of {', '.join(names)} (closed subcomposition)"},
        ternary={
            "aaxis": {"title": {"text": names[0]}},
            "baxis": {"title": {"text": names[1]}},
            "caxis": {"title": {"text": names[2]}},
        },
    )
    return fig


def bars_figure(
    values: Mapping[str, np.ndarray], parts: Sequence[str], *, title: str, yaxis: str, log: bool = False
) -> go.Figure:
    """Grouped bars, one series per entry of ``values``, one bar group per part.

    Parameters
    ----------
    values : mapping of str to ndarray, shape (D,)
        Series name to one value per part.
    parts : sequence of str
        Names of the D parts.
    title, yaxis : str
        Figure and y-axis titles.
    log : bool
        Logarithmic y-axis.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Bar`` trace per series.
    """
    fig = go.Figure()
    for name, series in values.items():
        arr = np.asarray(series, dtype=np.float64)
        names = _names(parts, arr.shape[0])
        fig.add_trace(go.Bar(x=names, y=arr, name=name, hovertemplate="%{x}<br>%{y:.4g}<extra></extra>"))
    fig.update_layout(title={"text": title}, barmode="group")
    fig.update_xaxes(title_text="part", type="category")
    fig.update_yaxes(title_text=yaxis, type="log" if log else "linear")
    return fig


def coda_figures(result: CodaResult) -> dict[str, go.Figure]:
    """Every figure of the compositional page for one result, by the name the page gives it, in the page's order.

    Parameters
    ----------
    result : CodaResult
        What :func:`covwb.coda.analyse` returned; its explicit settings say what to draw (threshold, labels,
        pair, subcomposition, ternary parts, groups).

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
        ``zeros-per-part`` (when the parts have zeros), ``variation-array``, ``correlations``, ``network``,
        ``glasso-network`` (when fitted), ``partial-variances``, ``reference-independence`` and
        ``subcomposition`` (when computed), ``biplot`` and ``ternary`` (when three parts are chosen).
    """
    settings, stats = result.settings, result.statistics
    partial = stats.partial
    names = list(result.parts)
    figures: dict[str, go.Figure] = {}
    if result.zeros.total:
        per_part = result.zeros.per_part
        figures["zeros-per-part"] = bars_figure(
            {"zeros": per_part["zeros"].to_numpy()},
            per_part["part"].tolist(),
            title="Zeros per part",
            yaxis="samples with a zero",
        )
    figures["variation-array"] = variation_heatmap(stats.variation.variances, stats.variation.means, names)
    figures["correlations"] = correlation_panels(
        {
            "Raw proportions (Pearson)": stats.proportion_correlation,
            "clr (Pearson)": stats.clr_correlation,
            "Partial (given all other parts)": partial.partial_correlation_,
        },
        names,
        title="Spurious, marginal and partial correlation of the parts",
    )
    figures["network"] = network_figure(
        partial.partial_correlation_,
        names,
        settings.threshold,
        title="Partial correlations",
        n_labels=settings.edge_labels,
    )
    if result.graph is not None:
        figures["glasso-network"] = network_figure(
            result.graph.pcor,
            names,
            1e-9,
            title=f"Graphical lasso, α = {settings.glasso_alpha:g}",
            n_labels=settings.edge_labels,
        )
    figures["partial-variances"] = bars_figure(
        {"clr variance": stats.clr_variances, "partial variance 1/Ω_ii": partial.partial_variances_},
        names,
        title="clr variance and partial variance of each part",
        yaxis="variance",
        log=True,
    )
    if result.reference is not None and settings.pair is not None:
        figures["reference-independence"] = reference_figure(result.reference, settings.pair)
    if result.subcomposition is not None:
        figures["subcomposition"] = subcomposition_figure(result.subcomposition)
    groups = list(result.groups) if result.groups is not None else None
    figures["biplot"] = biplot_figure(
        result.pca.scores, result.pca.loadings, result.pca.explained, names, groups, n_labels=settings.ray_labels
    )
    three = list(settings.ternary or ())
    if len(three) == 3:
        columns = [names.index(p) for p in three]
        figures["ternary"] = ternary_figure(result.values[:, columns], three, groups)
    return figures
