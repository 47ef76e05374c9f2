"""The page's geometry panels: what they measure, against closed forms and the method note."""

from __future__ import annotations

import numpy as np
import pytest

from covwb.errors import ParameterError, SPDInputError
from covwb.spd import demos
from covwb.spd.batchnorm import BATCHNORM_METRICS
from covwb.spd.synthetic import synthetic_batch
from tests.spd.conftest import random_spd


@pytest.mark.parametrize("metric", list(BATCHNORM_METRICS))
def test_panel_normalises_to_the_target_dispersion(metric: str) -> None:
    X = synthetic_batch(12, 4, 3.0, seed=2).matrices
    panel = demos.geometry_panel(X, metric, m_choice="riemann_mean")
    target = panel.settings["target_dispersion"]
    assert float(np.mean(panel.distance_after**2)) == pytest.approx(target, rel=1e-3)
    assert panel.eigvals_before.shape == panel.eigvals_after.shape == (12, 4)
    assert panel.embedding_before.shape == panel.embedding_after.shape == (12, 2)
    # With the bias at I, BN shrinks the condition numbers of this ill-conditioned batch; with
    # M = the batch's AIRM mean, the GBW outputs are centred at M instead (M plays the role of I).
    if metric in ("riemann", "logeuclid", "wasserstein"):
        assert np.median(panel.log10_condition_after) < np.median(panel.log10_condition_before)
    else:
        assert np.median(panel.log10_condition_after) > 1.0


def test_panel_summary_reports_each_metric() -> None:
    X = synthetic_batch(8, 3, 2.0, seed=4).matrices
    table = demos.panel_summary(
        {"BW": demos.geometry_panel(X, "wasserstein"), "LEM": demos.geometry_panel(X, "logeuclid")}
    )
    assert list(table["metric"]) == ["BW", "LEM"]
    np.testing.assert_allclose(table["dispersion after"], table["target dispersion"], rtol=1e-3)
    assert (table["folded (%)"] == 0).all()


def test_ridge_sensitivity_matches_the_closed_form() -> None:
    table = demos.ridge_sensitivity(20, 5).set_index("metric")
    # 15 null directions each move by log(100) under AIRM and LEM.
    assert table.loc["AIRM", "shift"] == pytest.approx(np.sqrt(15) * np.log(100), rel=1e-4)
    assert table.loc["LEM", "shift"] == pytest.approx(np.sqrt(15) * np.log(100), rel=1e-4)
    # Under BW the shift is sqrt(15) * (sqrt(1e-6) - sqrt(1e-8)), tiny.
    assert table.loc["BW", "shift"] == pytest.approx(np.sqrt(15) * (1e-3 - 1e-4), rel=1e-3)
    assert table.loc["BW", "shift_percent"] < 0.2
    assert table.loc["AIRM", "shift_percent"] > 20


def test_mean_residuals_show_one_step_versus_converged() -> None:
    X = synthetic_batch(10, 4, 4.0, seed=3).matrices
    table = demos.mean_residuals(X, max_iter=15)
    fast = table[table.method == "alvarez-esteban"].relative_error.to_numpy()
    slow = table[table.method == "naive"].relative_error.to_numpy()
    assert fast[0] == slow[0] > fast[1] > fast[-1]
    assert fast[-1] < 1e-8 < slow[-1]


def test_precision_failures_only_in_float32_at_high_condition() -> None:
    table = demos.precision_failures(np.array([2.0, 9.0]), metrics=("logeuclid", "wasserstein"), dim=4, n_matrices=6)
    assert set(table.columns) == {"log10_condition", "metric", "dtype", "failure_rate"}
    assert (table[table.dtype == "float64"].failure_rate == 0).all()
    assert (table[table.log10_condition == 2.0].failure_rate == 0).all()
    assert table[(table.dtype == "float32") & (table.log10_condition == 9.0)].failure_rate.max() > 0


def test_bad_input_raises_typed_errors() -> None:
    X = random_spd(4, 3, 41)
    with pytest.raises(SPDInputError):
        demos.geometry_panel(X[:2], "wasserstein")
    asym = X.copy()
    asym[0, 0, 1] += 1.0
    with pytest.raises(SPDInputError):
        demos.geometry_panel(asym, "wasserstein")
    not_pd = X.copy()
    not_pd[1] = -np.eye(3)
    with pytest.raises(SPDInputError):
        demos.geometry_panel(not_pd, "riemann")
    with pytest.raises(SPDInputError):
        demos.mean_residuals(np.ones((3, 2, 3)))
    with pytest.raises(ParameterError):
        demos.geometry_panel(X, "gbw", m_choice="random")
    with pytest.raises(ParameterError):
        demos.ridge_sensitivity(5, 5)
