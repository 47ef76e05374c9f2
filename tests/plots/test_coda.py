"""Figures of the compositional page: traces, data, shared colour scale, titles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from covwb.coda.analysis import DEFAULT_LABELS
from covwb.errors import ParameterError
from covwb.plots.coda import (
    MAX_NETWORK_EDGES,
    bars_figure,
    biplot_figure,
    correlation_panels,
    network_figure,
    reference_figure,
    subcomposition_figure,
    ternary_figure,
    variation_heatmap,
)

R = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.05], [-0.3, 0.05, 1.0]])
PARTS = ["Si", "Al", "Fe"]


def test_correlation_panels_share_one_scale() -> None:
    fig = correlation_panels({"raw": R, "clr": -R, "partial": R / 2}, PARTS, title="Three")
    assert len(fig.data) == 3
    assert {trace.coloraxis for trace in fig.data} == {"coloraxis"}
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (-1.0, 1.0)
    np.testing.assert_array_equal(np.asarray(fig.data[1].z), -R)
    assert [a.text for a in fig.layout.annotations] == ["raw", "clr", "partial"]
    with pytest.raises(ParameterError, match="2 part names"):
        correlation_panels({"raw": R}, PARTS[:2], title="t")


def test_variation_heatmap_carries_means_on_hover() -> None:
    V = np.abs(R) - np.eye(3)
    fig = variation_heatmap(V, R, PARTS)
    (heat,) = fig.data
    np.testing.assert_array_equal(np.asarray(heat.customdata), R)
    assert fig.layout.yaxis.autorange == "reversed"


def test_network_draws_edges_above_threshold_with_sign_colours() -> None:
    fig = network_figure(R, PARTS, 0.2, title="Network")
    edges = [t for t in fig.data if t.mode == "lines"]
    assert len(edges) == 2
    colours = {t.line.color for t in edges}
    assert len(colours) == 2
    assert list(fig.data[-1].text) == PARTS
    assert list(fig.data[-3].text) == ["+0.60", "-0.30"]  # few parts: every edge labelled
    big = np.full((40, 40), 0.5)
    assert len(network_figure(big, [str(i) for i in range(40)], 0.1, title="t").data) == MAX_NETWORK_EDGES + 3


def _many_parts(D: int = 127, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Partial correlations of D parts (numeric names) with a few strong pairs among many weak ones."""
    rng = np.random.default_rng(seed)
    P = rng.uniform(-0.35, 0.35, (D, D))
    P = (P + P.T) / 2
    for a, b, v in ((3, 90, 0.9), (3, 41, -0.8), (100, 7, 0.75), (55, 56, 0.7), (12, 120, -0.65)):
        P[a, b] = P[b, a] = v
    np.fill_diagonal(P, 1.0)
    return P, [str(k) for k in range(D)]


def test_network_of_127_parts_labels_only_the_strongest_edges_and_their_parts() -> None:
    P, names = _many_parts()
    fig = network_figure(P, names, 0.3, title="Partial correlations", n_labels=4)
    edges = [t for t in fig.data if t.mode == "lines"]
    assert 5 < len(edges) <= MAX_NETWORK_EDGES
    assert [t.opacity for t in edges[:5]] == [1.0] * 4 + [0.3]
    edge_labels = next(t for t in fig.data if t.name == "edge labels")
    assert list(edge_labels.text) == ["+0.90", "-0.80", "+0.75", "+0.70"]
    named = fig.data[-1]
    assert named.name == "named parts" and sorted(named.text, key=int) == ["3", "7", "41", "55", "56", "90", "100"]
    assert fig.data[-2].name == "parts" and len(fig.data[-2].text) == 127  # every part on hover
    assert "the 4 strongest labelled" in fig.layout.title.text
    default = network_figure(P, names, 0.3, title="t")
    assert len(next(t for t in default.data if t.name == "edge labels").text) == DEFAULT_LABELS
    none = network_figure(P, names, 0.3, title="t", n_labels=0)
    assert len(none.data[-1].text) == 0 and len(none.data[-3].text) == 0
    with pytest.raises(ParameterError, match="0 or more"):
        network_figure(P, names, 0.3, title="t", n_labels=-1)


def test_biplot_of_127_parts_names_only_the_longest_rays() -> None:
    rng = np.random.default_rng(1)
    loadings = rng.normal(0, 0.05, (127, 2))
    loadings[[5, 60, 99]] = [[0.5, 0.1], [-0.2, -0.6], [0.3, -0.3]]
    names = [str(k) for k in range(127)]
    fig = biplot_figure(rng.standard_normal((289, 2)), loadings, np.array([0.3, 0.2]), names, n_labels=3)
    named, other = fig.data[-1], fig.data[-2]
    assert [t for t in named.text if t] == ["60", "5", "99"]  # longest first
    assert other.name == "other parts" and other.mode == "lines" and len(other.hovertext) == 3 * 124
    assert "the 3 parts with the longest rays named, of 127" in fig.layout.title.text
    default = biplot_figure(rng.standard_normal((289, 2)), loadings, np.array([0.3, 0.2]), names)
    assert len([t for t in default.data[-1].text if t]) == DEFAULT_LABELS


def test_reference_and_subcomposition_figures() -> None:
    table = pd.DataFrame({"reference": ["a", "b"], "residual_correlation": [0.4, 0.4], "formula": [0.4, 0.4]})
    fig = reference_figure(table, ("Fe", "Mg"))
    assert isinstance(fig.data[0], go.Bar) and "Fe – Mg" in fig.layout.title.text
    sub = pd.DataFrame({"part_i": ["a"], "part_j": ["b"], "rho_all_parts": [0.4], "rho_subcomposition": [0.2]})
    fig = subcomposition_figure(sub)
    assert list(fig.data[1].x) == [0.4] and list(fig.data[1].text) == ["a – b"]


def test_biplot_ternary_and_bars() -> None:
    rng = np.random.default_rng(0)
    fig_loadings = rng.standard_normal((3, 2))
    fig = biplot_figure(
        rng.standard_normal((10, 2)),
        fig_loadings,
        np.array([0.6, 0.3]),
        PARTS,
        groups=["x"] * 5 + ["y"] * 5,
    )
    assert len(fig.data) == 4 and "60.0%" in fig.layout.xaxis.title.text
    assert [t for t in fig.data[-1].text if t] == sorted(PARTS, key=lambda p: -np.hypot(*fig_loadings[PARTS.index(p)]))
    fig = ternary_figure(rng.uniform(1, 2, (10, 3)), PARTS)
    trace = fig.data[0]
    np.testing.assert_allclose(np.asarray(trace.a) + np.asarray(trace.b) + np.asarray(trace.c), 1.0)
    assert fig.layout.ternary.aaxis.title.text == "Si"
    with pytest.raises(ParameterError, match="exactly three"):
        ternary_figure(rng.uniform(1, 2, (10, 4)), [*PARTS, "Mg"])
    fig = bars_figure(
        {"clr variance": np.ones(3), "partial variance": np.ones(3) / 2}, PARTS, title="t", yaxis="variance", log=True
    )
    assert len(fig.data) == 2 and fig.layout.yaxis.type == "log"
