"""Figures of the fairness page: traces, labels, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from covwb.errors import ParameterError
from covwb.plots.fairness import (
    cell_means_figure,
    distributions_figure,
    lambda_figure,
    tradeoff_figure,
)


def _summary() -> pd.DataFrame:
    rows = []
    for penalty in ("ccdcov", "jdcov"):
        for lam, jsd in ((0.0, 0.3), (10.0, 0.1), (40.0, 0.05)):
            rows.append(
                {
                    "penalty": penalty,
                    "lambda": lam,
                    "jsd": jsd,
                    "jsd_sd": 0.01,
                    "rmse": 1 + lam / 100,
                    "rmse_sd": 0.02,
                    "uf": jsd,
                    "uf_sd": 0.0,
                }
            )
    return pd.DataFrame(rows)


def test_tradeoff_figure_marks_the_chosen_lambda_and_the_baseline() -> None:
    fig = tradeoff_figure(
        _summary(), "rmse", "RMSE", names={"ccdcov": "CCdCov"}, chosen={"ccdcov": 10.0}, baseline=(0.2, 1.2)
    )
    assert [t.name for t in fig.data] == [
        "CCdCov",
        "recommended λ (CCdCov)",
        "jdcov",
        "fairlearn ExponentiatedGradient",
    ]
    assert fig.layout.title.text.startswith("Trade-off on the test split")
    assert list(fig.data[0].text) == ["λ=0", "λ=10", "λ=40"]
    assert fig.data[1].x[0] == pytest.approx(0.1)
    assert fig.layout.xaxis.title.text.startswith("JSD") and fig.layout.yaxis.title.text == "RMSE"


def test_lambda_figure_has_a_band_and_a_line_per_penalty_and_metric() -> None:
    fig = lambda_figure(_summary(), {"rmse": "RMSE", "jsd": "JSD (bits)"})
    assert "test split" in fig.layout.title.text
    assert "validation split" in lambda_figure(_summary(), {"rmse": "RMSE"}, split="validation").layout.title.text
    assert len(fig.data) == 2 * 2 * 2
    assert sum(t.showlegend is not False for t in fig.data if t.mode == "lines+markers") == 2


def test_cell_means_and_distributions() -> None:
    table = pd.DataFrame({"cell": ["a", "b"], "n": [3, 4], "mean prediction": [1.0, 2.0]})
    fig = cell_means_figure({"unregularised": table, "CCdCov": table})
    assert len(fig.data) == 2 and list(fig.data[0].customdata) == [3, 4]
    assert fig.layout.title.text.endswith("(test split)")
    rng = np.random.default_rng(0)
    predictions, cells = rng.standard_normal(50), rng.integers(0, 3, 50)
    for kind in ("ecdf", "kde"):
        fig = distributions_figure(predictions, cells, ["x", "y", "z"], kind=kind, max_cells=2)
        assert len(fig.data) == 3 and fig.data[-1].name == "pooled"
    ecdf = distributions_figure(predictions, cells, ["x", "y", "z"])
    assert ecdf.data[-1].y[-1] == pytest.approx(1.0)


def test_bad_input() -> None:
    with pytest.raises(ParameterError, match="lacks the columns"):
        tradeoff_figure(_summary().drop(columns="jsd"), "rmse", "RMSE")
    with pytest.raises(ParameterError, match="one cell per prediction"):
        distributions_figure(np.zeros(3), np.zeros(4, dtype=int), ["a"])
    with pytest.raises(ParameterError, match="Unknown kind"):
        distributions_figure(np.zeros(3), np.zeros(3, dtype=int), ["a"], kind="violin")
    with pytest.raises(ParameterError, match="at least one"):
        cell_means_figure({})
