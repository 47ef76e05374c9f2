"""Figures of the compositional page: traces, data, shared colour scale, titles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

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
    big = np.full((40, 40), 0.5)
    assert len(network_figure(big, [str(i) for i in range(40)], 0.1, title="t").data) == MAX_NETWORK_EDGES + 1


def test_reference_and_subcomposition_figures() -> None:
    table = pd.DataFrame({"reference": ["a", "b"], "residual_correlation": [0.4, 0.4], "formula": [0.4, 0.4]})
    fig = reference_figure(table, ("Fe", "Mg"))
    assert isinstance(fig.data[0], go.Bar) and "Fe – Mg" in fig.layout.title.text
    sub = pd.DataFrame({"part_i": ["a"], "part_j": ["b"], "rho_all_parts": [0.4], "rho_subcomposition": [0.2]})
    fig = subcomposition_figure(sub)
    assert list(fig.data[1].x) == [0.4] and list(fig.data[1].text) == ["a – b"]


def test_biplot_ternary_and_bars() -> None:
    rng = np.random.default_rng(0)
    fig = biplot_figure(
        rng.standard_normal((10, 2)),
        rng.standard_normal((3, 2)),
        np.array([0.6, 0.3]),
        PARTS,
        groups=["x"] * 5 + ["y"] * 5,
    )
    assert len(fig.data) == 3 and "60.0%" in fig.layout.xaxis.title.text
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
