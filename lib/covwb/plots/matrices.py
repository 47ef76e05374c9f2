"""Figures of the covariance explorer: matrices, spectra, distances, 2-D maps, means.

Every builder returns a ``plotly.graph_objects.Figure`` with a title, axis titles and
units; matrices are drawn like matrices (row 1 at the top, square cells).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from covwb.errors import ParameterError

_SEQUENTIAL = "Viridis"


def _square(M: np.ndarray, what: str) -> np.ndarray:
    """Return ``M`` as a float64 square matrix, or raise :class:`ParameterError`."""
    try:
        arr = np.asarray(M, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"The {what} must hold numbers ({exc}).") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ParameterError(f"The {what} must be a non-empty square matrix, got shape {arr.shape}.")
    return arr


def _tick_labels(labels: Sequence[str] | None, p: int, what: str) -> list[str]:
    """``p`` distinct text labels: the given ones (made unique), or 1..p."""
    if labels is None:
        return [str(i + 1) for i in range(p)]
    names = [str(v) for v in labels]
    if len(names) != p:
        raise ParameterError(f"Got {len(names)} labels for a {what} of size {p}; give one per row.")
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def _symmetric_range(values: np.ndarray) -> float:
    """Largest finite absolute value, or 1 when there is none, for a scale centred at 0."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else 1.0


def _matrix_axes(fig: go.Figure, axis_title: str, col: int | None = None) -> None:
    """Category axes, row 1 at the top, square cells; ``col`` picks a subplot column."""
    row = None if col is None else 1
    anchor = "x" if col in (None, 1) else f"x{col}"
    fig.update_xaxes(title_text=axis_title, type="category", constrain="domain", row=row, col=col)
    fig.update_yaxes(
        title_text=axis_title,
        type="category",
        autorange="reversed",
        scaleanchor=anchor,
        constrain="domain",
        row=row,
        col=col,
    )


def matrix_heatmap(
    M: np.ndarray,
    labels: Sequence[str] | None,
    *,
    title: str,
    symmetric_scale: bool = True,
    colorscale: str = "RdBu_r",
    zmin: float | None = None,
    zmax: float | None = None,
    unit: str = "",
    axis_title: str = "variable",
) -> go.Figure:
    """Heatmap of a square matrix drawn like a matrix.

    Parameters
    ----------
    M : ndarray, shape (p, p)
        Matrix to show (covariance in ``unit``, or a unitless correlation).
    labels : sequence of str, length p, or None
        Row/column names (variables, channels); ``None`` numbers them 1..p.
    title : str
        Figure title.
    symmetric_scale : bool
        Diverging scale centred at 0 from ``-max|M|`` to ``max|M|`` (unless ``zmin``/``zmax``
        are given); False lets plotly fit the range.
    colorscale : str
        Plotly colour scale name.
    zmin, zmax : float or None
        Explicit colour range (e.g. -1 and 1 for correlations).
    unit : str
        Unit of the entries, shown as the colour bar title (``"µV²"``; empty for none).
    axis_title : str
        What rows and columns are (``"channel"``).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` trace whose ``z`` is ``M``.
    """
    arr = _square(M, "matrix")
    names = _tick_labels(labels, arr.shape[0], "matrix")
    heat = go.Heatmap(
        z=arr,
        x=names,
        y=names,
        colorscale=colorscale,
        colorbar={"title": {"text": unit or "value"}},
        hovertemplate="row %{y}<br>column %{x}<br>value %{z:.4g}<extra></extra>",
    )
    if symmetric_scale:
        top = _symmetric_range(arr)
        heat.update(zmid=0.0, zmin=-top if zmin is None else zmin, zmax=top if zmax is None else zmax)
    elif zmin is not None or zmax is not None:
        heat.update(zmin=zmin, zmax=zmax)
    fig = go.Figure(heat)
    fig.update_layout(title={"text": title})
    _matrix_axes(fig, axis_title)
    return fig


def spectrum_figure(eigenvalues: np.ndarray, *, title: str, log: bool = True, unit: str = "") -> go.Figure:
    """Eigenvalues in descending order, with the condition number in the title.

    Parameters
    ----------
    eigenvalues : ndarray, shape (p,)
        Eigenvalues of a symmetric matrix, in ``unit``.
    title : str
        Figure title; `` - condition number ...`` is appended.
    log : bool
        Logarithmic y-axis; non-positive eigenvalues are then left out and counted in a note.
    unit : str
        Unit of the eigenvalues (the matrix's unit, e.g. ``"µV²"``).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` trace (lines and markers) of the eigenvalues against their rank 1..p.
    """
    eig = np.sort(np.asarray(eigenvalues, dtype=np.float64).ravel())[::-1]
    if eig.size == 0 or not np.isfinite(eig).all():
        raise ParameterError("The eigenvalues must be a non-empty list of finite numbers.")
    condition = float(eig[0] / eig[-1]) if eig[-1] > 0 else float("inf")
    cond_text = f"{condition:.3g}" if np.isfinite(condition) else "∞ (singular)"
    index = np.arange(1, eig.size + 1)
    shown = eig > 0 if log else np.ones(eig.size, dtype=bool)
    fig = go.Figure(
        go.Scatter(
            x=index[shown],
            y=eig[shown],
            mode="lines+markers",
            name="eigenvalue",
            hovertemplate="eigenvalue %{x}<br>%{y:.4g}<extra></extra>",
        )
    )
    fig.update_layout(title={"text": f"{title} - condition number {cond_text}"})
    fig.update_xaxes(title_text="eigenvalue rank (largest first)")
    fig.update_yaxes(title_text=f"eigenvalue ({unit})" if unit else "eigenvalue", type="log" if log else "linear")
    hidden = int(np.count_nonzero(~shown))
    if hidden:
        fig.add_annotation(
            text=f"{hidden} eigenvalue(s) ≤ 0 not shown on the log scale",
            xref="paper",
            yref="paper",
            x=1.0,
            y=1.0,
            xanchor="right",
            yanchor="bottom",
            showarrow=False,
        )
    return fig


def distance_heatmap(D: np.ndarray, labels: Sequence[str] | None, *, title: str, unit: str = "") -> go.Figure:
    """Heatmap of pairwise distances on a sequential scale from 0.

    Parameters
    ----------
    D : ndarray, shape (n, n)
        Symmetric non-negative distances.
    labels : sequence of str, length n, or None
        Names of the matrices; ``None`` numbers them 1..n.
    title : str
        Figure title.
    unit : str
        Unit of the distances (empty for unitless metrics).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` trace whose ``z`` is ``D``.
    """
    arr = _square(D, "distance matrix")
    names = _tick_labels(labels, arr.shape[0], "distance matrix")
    top = _symmetric_range(arr)
    fig = go.Figure(
        go.Heatmap(
            z=arr,
            x=names,
            y=names,
            colorscale=_SEQUENTIAL,
            zmin=0.0,
            zmax=top,
            colorbar={"title": {"text": f"distance ({unit})" if unit else "distance"}},
            hovertemplate="%{y} to %{x}<br>distance %{z:.4g}<extra></extra>",
        )
    )
    fig.update_layout(title={"text": title})
    _matrix_axes(fig, "matrix")
    return fig


def embedding_scatter(
    Y: np.ndarray,
    groups: Sequence[str] | None,
    *,
    title: str,
    hover: Sequence[str] | None = None,
    unit: str = "",
) -> go.Figure:
    """2-D map of matrices, one trace per group so that the legend names the classes.

    Parameters
    ----------
    Y : ndarray, shape (n, 2)
        Coordinates (MDS of the distances), in the unit of the distances.
    groups : sequence of str, length n, or None
        Class of each point; ``None`` draws one trace named ``"matrices"``.
    title : str
        Figure title.
    hover : sequence of str, length n, or None
        Hover text per point (trial number, label...).
    unit : str
        Unit of the coordinates (empty for unitless metrics).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Scatter`` trace per group, in order of first appearance.
    """
    arr = np.asarray(Y, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ParameterError(f"The embedding must have shape (n, 2), got {arr.shape}.")
    n = arr.shape[0]
    group_of = np.asarray(["matrices"] * n if groups is None else [str(g) for g in groups])
    texts = np.asarray([f"matrix {i + 1}" for i in range(n)] if hover is None else [str(h) for h in hover])
    if group_of.size != n or texts.size != n:
        raise ParameterError(f"Give one group and one hover text per point ({n} points).")
    fig = go.Figure()
    for name in dict.fromkeys(group_of.tolist()):
        mask = group_of == name
        fig.add_trace(
            go.Scatter(
                x=arr[mask, 0],
                y=arr[mask, 1],
                mode="markers",
                name=name,
                hovertext=texts[mask],
                hovertemplate="%{hovertext}<extra>%{fullData.name}</extra>",
            )
        )
    suffix = f" ({unit})" if unit else ""
    fig.update_layout(title={"text": title}, legend={"title": {"text": "group"}})
    fig.update_xaxes(title_text=f"MDS axis 1{suffix}")
    fig.update_yaxes(title_text=f"MDS axis 2{suffix}", scaleanchor="x")
    return fig


def means_figure(
    means: Mapping[str, np.ndarray],
    labels: Sequence[str] | None,
    *,
    title: str = "Mean matrix under each metric",
    unit: str = "",
) -> go.Figure:
    """Side-by-side heatmaps of mean matrices on one shared diverging colour scale.

    Parameters
    ----------
    means : mapping of str to ndarray, shape (p, p)
        Panel title (metric name) to mean matrix, all of the same size, in ``unit``.
    labels : sequence of str, length p, or None
        Row/column names; ``None`` numbers them 1..p.
    title : str
        Figure title.
    unit : str
        Unit of the entries, shown on the shared colour bar.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` per mean, all bound to the layout's ``coloraxis``.
    """
    if not means:
        raise ParameterError("No mean matrices to show; compute at least one.")
    mats = {name: _square(M, f"mean '{name}'") for name, M in means.items()}
    sizes = {M.shape[0] for M in mats.values()}
    if len(sizes) != 1:
        raise ParameterError("The mean matrices have different sizes; compute them on the same channels.")
    names = _tick_labels(labels, sizes.pop(), "mean matrix")
    top = max(_symmetric_range(M) for M in mats.values())
    fig = make_subplots(rows=1, cols=len(mats), subplot_titles=list(mats), horizontal_spacing=0.06)
    for col, (panel, M) in enumerate(mats.items(), start=1):
        fig.add_trace(
            go.Heatmap(
                z=M,
                x=names,
                y=names,
                coloraxis="coloraxis",
                name=panel,
                hovertemplate=f"{panel}<br>row %{{y}}<br>column %{{x}}<br>%{{z:.4g}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        _matrix_axes(fig, "variable", col=col)
    fig.update_layout(
        title={"text": title},
        coloraxis={
            "colorscale": "RdBu_r",
            "cmid": 0.0,
            "cmin": -top,
            "cmax": top,
            "colorbar": {"title": {"text": unit or "value"}},
        },
    )
    return fig
