"""Figures of the SPD batch-norm page: traces, axes and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from covwb.errors import ParameterError
from covwb.plots import spd as plots
from covwb.spd.demos import geometry_panel
from covwb.spd.synthetic import synthetic_batch


@pytest.fixture(scope="module")
def panels() -> dict:
    X = synthetic_batch(8, 3, 2.0, seed=0).matrices
    return {label: geometry_panel(X, metric) for label, metric in (("AIRM", "riemann"), ("BW", "wasserstein"))}


def test_panel_figures(panels: dict) -> None:
    fig = plots.spectra_figure(panels)
    assert len(fig.data) == 8 and fig.layout.yaxis.type == "log"
    assert len(plots.condition_histogram(panels).data) == 4
    fig = plots.distance_figure(panels)
    assert len(fig.data) == 4 and list(fig.data[1].y) == list(panels["AIRM"].distance_after)
    fig = plots.mds_before_after_figure(panels, ["a", "b"] * 4)
    assert len(fig.data) == 2 * 2 * 2
    with pytest.raises(ParameterError):
        plots.mds_before_after_figure(panels, ["a"])
    with pytest.raises(ParameterError):
        plots.spectra_figure({})


def test_table_figures() -> None:
    residuals = pd.DataFrame(
        {"iteration": [0, 1, 0, 1], "method": ["a", "a", "b", "b"], "relative_error": [0.1, 0.0, 0.1, 0.05]}
    )
    fig = plots.mean_residual_figure(residuals)
    assert len(fig.data) == 2 and fig.data[0].y[1] > 0
    ridge = pd.DataFrame({"metric": ["AIRM", "BW"], "shift_percent": [33.0, 0.07]})
    assert list(plots.ridge_figure(ridge).data[0].y) == [33.0, 0.07]
    failures = pd.DataFrame(
        {
            "log10_condition": [1.0, 1.0],
            "metric": ["wasserstein", "wasserstein"],
            "dtype": ["float64", "float32"],
            "failure_rate": [0.0, 0.5],
        }
    )
    fig = plots.failure_figure(failures)
    assert [t.line.dash for t in fig.data] == ["solid", "dash"] and fig.data[1].y[0] == 50.0
    assert [t.name for t in fig.data] == ["BW float64", "BW float32"]
    curves = pd.DataFrame(
        {
            "epoch": [1, 2, 1, 2],
            "variant": ["BW-BN"] * 4,
            "seed": [0, 0, 1, 1],
            "train_loss": [1.0, 0.5, 1.0, 0.7],
            "test_accuracy": [0.5, 0.6, 0.5, 0.8],
            "folded_train_percent": [0.0, 10.0, 0.0, 30.0],
        }
    )
    fig = plots.learning_curves_figure(curves)
    np.testing.assert_allclose(fig.data[0].y, [1.0, 0.6])
    np.testing.assert_allclose(fig.data[1].y, [50.0, 70.0])
    # folding beside the curves: mean over seeds and the worst seed
    assert [a.text for a in fig.layout.annotations][2] == "Folded in BW batch norm"
    np.testing.assert_allclose(fig.data[2].y, [0.0, 20.0])
    np.testing.assert_allclose(fig.data[3].y, [0.0, 30.0])
    assert fig.data[2].xaxis == fig.data[3].xaxis == "x3" and fig.data[3].line.dash == "dot"
    for builder in (
        plots.mean_residual_figure,
        plots.ridge_figure,
        plots.failure_figure,
        plots.learning_curves_figure,
    ):
        with pytest.raises(ParameterError):
            builder(pd.DataFrame({"x": [1]}))


def test_every_figure_of_an_analysis_by_name() -> None:
    from covwb.spd.analysis import SPDSettings, SyntheticSource, analyse_spd

    result = analyse_spd(SPDSettings(source=SyntheticSource(n_matrices=6, dim=3), metrics=("riemann", "gbw")))
    figures = plots.spd_figures(result)
    assert list(figures) == [
        "bn-spectra",
        "bn-condition",
        "bn-distances",
        "bn-mds",
        "bn-mean-residuals",
        "bn-ridge",
        "bn-precision",
    ]
    assert [a.text for a in figures["bn-spectra"].layout.annotations] == ["AIRM", "GBW"]
    assert {t.name for t in figures["bn-mds"].data} == {"rank-deficient", "regular"}
    no_panels = plots.spd_figures(analyse_spd(result.settings.replace(metrics=())))
    assert list(no_panels) == ["bn-mean-residuals", "bn-ridge", "bn-precision"]
