"""Explorer figures: trace counts, data, axis titles, colour scales."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from covwb.errors import ParameterError
from covwb.plots.matrices import (
    distance_heatmap,
    embedding_scatter,
    matrix_heatmap,
    means_figure,
    spectrum_figure,
)

M = np.array([[2.0, -0.5, 0.1], [-0.5, 1.0, 0.3], [0.1, 0.3, 0.5]])
NAMES = ["Fz", "Cz", "Pz"]


def test_matrix_heatmap_shows_the_matrix_on_a_symmetric_scale() -> None:
    fig = matrix_heatmap(M, NAMES, title="Covariance", unit="µV²", axis_title="channel")
    assert isinstance(fig, go.Figure)
    (heat,) = fig.data
    np.testing.assert_array_equal(np.asarray(heat.z), M)
    assert list(heat.x) == NAMES and list(heat.y) == NAMES
    assert heat.zmid == 0.0 and heat.zmin == -2.0 and heat.zmax == 2.0
    assert heat.colorscale is not None and heat.colorbar.title.text == "µV²"
    assert fig.layout.title.text == "Covariance"
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.title.text == "channel" and fig.layout.yaxis.title.text == "channel"
    assert fig.layout.xaxis.type == "category"


def test_matrix_heatmap_explicit_range_and_default_labels() -> None:
    fig = matrix_heatmap(M / 2, None, title="Correlation", zmin=-1, zmax=1)
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax, heat.zmid) == (-1, 1, 0.0)
    assert list(heat.x) == ["1", "2", "3"]
    free = matrix_heatmap(M, NAMES, title="t", symmetric_scale=False, colorscale="Viridis")
    assert free.data[0].zmid is None and free.data[0].zmin is None


def test_matrix_heatmap_makes_repeated_labels_unique() -> None:
    fig = matrix_heatmap(M, ["a", "a", "b"], title="t")
    assert list(fig.data[0].x) == ["a", "a (2)", "b"]


def test_matrix_heatmap_refuses_bad_input() -> None:
    with pytest.raises(ParameterError, match="square"):
        matrix_heatmap(np.ones((2, 3)), None, title="t")
    with pytest.raises(ParameterError, match="2 labels"):
        matrix_heatmap(M, ["a", "b"], title="t")


def test_spectrum_figure_reports_condition_number() -> None:
    fig = spectrum_figure(np.array([1.0, 4.0, 0.5]), title="Spectrum", unit="µV²")
    (line,) = fig.data
    np.testing.assert_array_equal(line.y, [4.0, 1.0, 0.5])
    np.testing.assert_array_equal(line.x, [1, 2, 3])
    assert fig.layout.title.text == "Spectrum - condition number 8"
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.title.text == "eigenvalue (µV²)"
    assert fig.layout.xaxis.title.text == "eigenvalue rank (largest first)"


def test_spectrum_figure_notes_non_positive_eigenvalues() -> None:
    fig = spectrum_figure(np.array([3.0, 1.0, 0.0, -1e-17]), title="S")
    assert len(fig.data[0].y) == 2
    assert "∞" in fig.layout.title.text
    assert "2 eigenvalue(s) ≤ 0" in fig.layout.annotations[0].text
    linear = spectrum_figure(np.array([3.0, 1.0, 0.0]), title="S", log=False)
    assert len(linear.data[0].y) == 3 and linear.layout.yaxis.type == "linear"


def test_distance_heatmap() -> None:
    D = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.5], [2.0, 1.5, 0.0]])
    fig = distance_heatmap(D, ["t1", "t2", "t3"], title="AIRM distances")
    heat = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heat.z), D)
    assert heat.zmin == 0.0 and heat.zmax == 2.0
    assert heat.colorbar.title.text == "distance"
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.title.text == "AIRM distances"


def test_embedding_scatter_one_trace_per_group() -> None:
    Y = np.arange(12.0).reshape(6, 2)
    groups = ["b", "a", "b", "c", "a", "b"]
    fig = embedding_scatter(Y, groups, title="MDS", hover=[f"trial {i}" for i in range(6)])
    assert [t.name for t in fig.data] == ["b", "a", "c"]
    b = fig.data[0]
    np.testing.assert_array_equal(b.x, Y[[0, 2, 5], 0])
    np.testing.assert_array_equal(b.y, Y[[0, 2, 5], 1])
    assert list(b.hovertext) == ["trial 0", "trial 2", "trial 5"]
    assert fig.layout.xaxis.title.text == "MDS axis 1"
    assert fig.layout.yaxis.title.text == "MDS axis 2"
    single = embedding_scatter(Y, None, title="MDS", unit="µV")
    assert len(single.data) == 1 and single.data[0].name == "matrices"
    assert single.layout.xaxis.title.text == "MDS axis 1 (µV)"


def test_embedding_scatter_refuses_bad_shapes() -> None:
    with pytest.raises(ParameterError, match=r"\(n, 2\)"):
        embedding_scatter(np.ones((3, 3)), None, title="t")
    with pytest.raises(ParameterError, match="one group"):
        embedding_scatter(np.ones((3, 2)), ["a"], title="t")


def test_means_figure_shares_one_symmetric_scale() -> None:
    means = {"Affine-invariant": M, "Euclidean": 3 * M, "Log-Euclidean": -M}
    fig = means_figure(means, NAMES)
    assert len(fig.data) == 3
    for trace, (name, mean) in zip(fig.data, means.items()):
        np.testing.assert_array_equal(np.asarray(trace.z), mean)
        assert trace.coloraxis == "coloraxis" and trace.name == name
    assert fig.layout.coloraxis.cmin == -6.0 and fig.layout.coloraxis.cmax == 6.0
    assert fig.layout.coloraxis.cmid == 0.0
    assert [a.text for a in fig.layout.annotations] == list(means)
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.yaxis3.autorange == "reversed"
    assert fig.layout.yaxis2.scaleanchor == "x2"
    assert fig.layout.title.text


def test_means_figure_refuses_mismatched_sizes() -> None:
    with pytest.raises(ParameterError, match="different sizes"):
        means_figure({"a": M, "b": np.eye(2)}, None)
    with pytest.raises(ParameterError, match="No mean"):
        means_figure({}, None)
