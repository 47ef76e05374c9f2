"""Choosing λ: the elbow rule on known curves and a tiny sweep end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from covwb.fairness.calibration import elbow, sweep, tradeoff_table
from covwb.fairness.data import prepare_data
from covwb.fairness.models import TrainSettings


def test_elbow_of_a_knee_curve() -> None:
    lambdas = [0, 10, 20, 40, 80, 160]
    jsd = [1.0, 0.4, 0.15, 0.1, 0.08, 0.07]
    loss = [1.0, 1.01, 1.02, 1.1, 1.3, 1.6]
    assert elbow(lambdas, loss, jsd) == 2
    assert elbow(lambdas[:2], loss[:2], jsd[:2]) == 0
    assert elbow(lambdas, [1.0] * 6, [1.0] * 6) == 0


def test_small_sweep_end_to_end(table: pd.DataFrame) -> None:
    data = prepare_data(
        table, target="wage", task="continuous", features=["proxy", "x1", "x2"], protected=["gender", "region"]
    )
    steps: list[tuple[float, str]] = []
    result = sweep(
        data,
        TrainSettings(epochs=20, batch_size=128, lr=0.05),
        penalties=["ccdcov", "jdcov"],
        lambdas=[20.0, 5.0],
        seeds=[0, 1],
        n_permutations=19,
        progress=lambda fraction, step: steps.append((fraction, step)),
    )
    assert len(result.runs) == 2 + 2 * 2 * 2
    assert steps[0][0] == 0.0 and steps[-1] == (1.0, "Done") and "seed" in steps[1][1]
    table_out = tradeoff_table(result, "continuous")
    assert list(table_out["lambda"].unique()) == [0.0, 5.0, 20.0]
    assert len(table_out) == 2 * 3
    ccd = table_out[table_out["penalty"] == "ccdcov"].set_index("lambda")
    assert ccd.loc[20.0, "dcor"] < ccd.loc[0.0, "dcor"]
    assert ccd.loc[20.0, "rmse"] > ccd.loc[0.0, "rmse"]
    assert (table_out["rmse_sd"] >= 0).all()
    for choice in result.choices.values():
        assert choice.elbow in (0.0, 5.0, 20.0) and "elbow" in choice.elbow_reason
        assert choice.independent_reason
    assert np.isfinite(result.runs["perm_p"]).all()
