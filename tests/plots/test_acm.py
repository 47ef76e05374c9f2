"""Figures of the augmented-covariance page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from covwb.eeg.takens import TakensSelection
from covwb.errors import ParameterError
from covwb.plots.acm import (
    confusion_figure,
    grid_heatmap,
    roc_figure,
    score_figure,
    takens_figure,
    tangent_embedding_figure,
)


def test_score_figure_has_a_mean_bar_and_fold_points() -> None:
    scores = pd.DataFrame({"pipeline": ["A", "A", "B", "B"], "fold": [1, 2, 1, 2], "roc_auc": [0.9, 0.8, 0.7, 0.6]})
    fig = score_figure(scores, "roc_auc")
    assert list(fig.data[0].y) == pytest.approx([0.85, 0.65])
    assert len(fig.data[1].y) == 4
    assert fig.layout.yaxis.title.text == "ROC-AUC"
    with pytest.raises(ParameterError):
        score_figure(scores, "accuracy")


def test_grid_heatmap_marks_the_best_cell() -> None:
    values = np.array([[0.5, 0.6, 0.7], [0.8, 0.95, 0.6]])
    fig = grid_heatmap(values, [1, 2], [1, 3, 5], metric="roc_auc", title="grid")
    assert (fig.data[1].x[0], fig.data[1].y[0]) == ("3", "2")
    assert fig.layout.xaxis.title.text.startswith("lag")
    with pytest.raises(ParameterError):
        grid_heatmap(values, [1], [1, 3, 5], metric="roc_auc", title="grid")


def test_takens_figure_draws_both_curves_per_fold() -> None:
    sel = TakensSelection(
        lag=2,
        order=3,
        lags=np.arange(5),
        ami=np.array([2.0, 1.0, 0.5, 0.6, 0.7]),
        orders=np.arange(1, 5),
        e1=np.array([0.2, 0.7, 0.95, 0.97]),
    )
    fig = takens_figure([sel, sel])
    assert len(fig.data) == 8
    assert fig.data[1].y[0] == 0.5 and fig.data[3].y[0] == 0.95
    with pytest.raises(ParameterError):
        takens_figure([])


def test_confusion_figure_shares_of_rows() -> None:
    fig = confusion_figure(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"], title="c")
    np.testing.assert_allclose(fig.data[0].z, [[0.5, 0.5], [0.0, 1.0]])


def test_roc_figure_reports_the_pooled_auc() -> None:
    frame = pd.DataFrame({"y_true": ["a", "b", "a", "b"], "score": [0.1, 0.9, 0.4, 0.3]})
    fig = roc_figure({"P": frame}, "b")
    assert "0.750" in fig.data[1].name
    with pytest.raises(ParameterError):
        roc_figure({"P": frame.drop(columns="score")}, "b")


def test_embedding_figure_one_trace_per_class() -> None:
    fig = tangent_embedding_figure(np.zeros((4, 2)), ["x", "y", "x", "y"], np.array([0.6, 0.3]), title="e")
    assert [t.name for t in fig.data] == ["x", "y"]
    assert "60%" in fig.layout.xaxis.title.text
