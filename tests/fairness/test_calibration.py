"""Choosing λ: the chord rule on curves on each side, the seed spread, the job plan, and a sweep end to end."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from covwb.errors import ParameterError
from covwb.fairness.calibration import (
    SweepResult,
    choose_lambda,
    chord_improvement,
    fit_and_evaluate,
    plan_sweep,
    sweep,
    tradeoff_table,
)
from covwb.fairness.data import prepare_data
from covwb.fairness.models import TrainSettings
from covwb.jobs import Plan, Ref, run_plan

LAMBDAS = [0.0, 10.0, 20.0, 40.0, 80.0, 160.0]


def _curve(loss: list[float], jsd: list[float], sd: float = 0.01, seeds: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"lambda": LAMBDAS, "brier": loss, "jsd": jsd, "jsd_sd": sd, "n_seeds": seeds, "rejected": 1.0})


def _choose(frame: pd.DataFrame, test: pd.DataFrame | None = None):
    return choose_lambda(frame, test, penalty="ccdcov", metric="brier", label="Brier score")


KNEE = ([1.0, 1.01, 1.02, 1.1, 1.3, 1.6], [1.0, 0.4, 0.15, 0.1, 0.08, 0.07])
ABOVE = ([1.0, 1.2, 1.4, 1.5, 1.55, 1.6], [1.0, 0.98, 0.95, 0.7, 0.3, 0.07])


def test_points_below_the_chord_improve_on_it_and_points_above_do_not() -> None:
    below = chord_improvement(*KNEE)
    assert below[0] == below[-1] == 0 and (below[1:-1] > 0).all() and int(np.argmax(below)) == 2
    above = chord_improvement(*ABOVE)
    assert (above[1:-1] < 0).all()
    assert (chord_improvement([1.0, 1.1, 1.2], [0.1, 0.2, 0.3]) == 0).all()  # JSD rises: nothing to improve on


def test_the_knee_is_recommended_and_the_reason_quotes_the_numbers() -> None:
    test = _curve(KNEE[0], [0.9, 0.45, 0.2, 0.12, 0.1, 0.08])
    choice = _choose(_curve(*KNEE), test)
    assert choice.recommended and choice.lam == 20.0
    assert "below the chord" in choice.reason and "validation split" in choice.reason
    assert "JSD 1 ± 0.01 → 0.15 ± 0.01 (-85%)" in choice.reason and "On the test split: JSD 0.9 → 0.2" in choice.reason
    assert choice.warnings == ()


def test_every_point_above_the_chord_keeps_lambda_zero_and_says_why() -> None:
    choice = _choose(_curve(*ABOVE))
    assert not choice.recommended and choice.lam == 0.0
    assert "No λ improves on the chord" in choice.reason and "λ = 0 is kept" in choice.reason


def test_a_reduction_within_the_seed_spread_is_not_recommended() -> None:
    noisy = _curve(*KNEE, sd=0.5)
    choice = _choose(noisy)
    assert not choice.recommended and "does not lower JSD by more than the spread" in choice.reason
    mid = _curve(KNEE[0], [1.0, 0.9, 0.85, 0.3, 0.1, 0.07], sd=0.06)
    choice = _choose(mid)
    assert choice.recommended and choice.lam == 40.0  # λ = 10 and 20 improve on the chord but within the spread
    tight = _curve(KNEE[0], [1.0, 0.95, 0.92, 0.91, 0.5, 0.07], sd=0.06)
    choice = _choose(tight.assign(brier=[1.0, 1.001, 1.002, 1.003, 1.5, 1.6]))
    assert not choice.recommended and "none lowers JSD by more than the" in choice.reason


def test_one_seed_or_two_values_of_lambda_never_recommend() -> None:
    one = _choose(_curve(*KNEE, sd=np.nan, seeds=1))
    assert not one.recommended and "single seed" in one.reason and "λ = 20 improves most" in one.reason
    two = _choose(_curve(*KNEE).iloc[[0, -1]])
    assert not two.recommended and "fewer than three values" in two.reason


def test_a_test_split_that_disagrees_is_a_warning() -> None:
    test = _curve(KNEE[0], [0.2, 0.25, 0.3, 0.2, 0.2, 0.2])
    choice = _choose(_curve(*KNEE), test)
    assert choice.recommended and "did not carry over" in choice.warnings[0]


def test_the_independence_rule_never_says_passes() -> None:
    curve = _curve(*KNEE).assign(rejected=[0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    choice = _choose(curve)
    assert choice.independent == 0.0 and "not rejected" in choice.independent_reason
    assert "pass" not in choice.independent_reason and "lack the power" in choice.independent_reason


@pytest.fixture(scope="module")
def problem(table: pd.DataFrame):
    return prepare_data(
        table, target="wage", task="continuous", features=["proxy", "x1", "x2"], protected=["gender", "region"]
    )


def test_the_sweep_is_a_plan_of_picklable_fits(problem) -> None:
    plan = plan_sweep(
        problem, TrainSettings(epochs=3), penalties=["ccdcov", "dcov"], lambdas=[5, 1], seeds=[0, 1], n_permutations=0
    )
    assert isinstance(plan, Plan) and set(plan.data) == {"data"}
    assert len(plan.tasks) == 2 + 2 * 2 * 2
    assert [t.label for t in plan.tasks[:2]] == ["unregularised, seed 0", "unregularised, seed 1"]
    for task in plan.tasks:
        assert task.fn is fit_and_evaluate and task.args[0] == Ref("data")
        assert pickle.loads(pickle.dumps(task)).key == task.key
    assert pickle.loads(pickle.dumps(plan.combine)).keywords["task"] == "continuous"
    assert np.array_equal(pickle.loads(pickle.dumps(plan.data["data"])).test, problem.test)
    ran = run_plan(plan).summary.drop(columns=["seconds", "seconds_sd"])
    swept = sweep(
        problem, TrainSettings(epochs=3), penalties=["ccdcov", "dcov"], lambdas=[5, 1], seeds=[0, 1], n_permutations=0
    )
    pd.testing.assert_frame_equal(ran, swept.summary.drop(columns=["seconds", "seconds_sd"]))
    with pytest.raises(ParameterError, match="could never reject"):
        plan_sweep(problem, TrainSettings(), penalties=["ccdcov"], lambdas=[1], seeds=[0], n_permutations=10)
    with pytest.raises(ParameterError, match="each once"):
        plan_sweep(problem, TrainSettings(), penalties=["ccdcov"], lambdas=[1], seeds=[0, 0])


def test_small_sweep_end_to_end(problem) -> None:
    steps: list[tuple[float, str]] = []
    kwargs = {"penalties": ["ccdcov", "jdcov"], "lambdas": [20.0, 5.0], "seeds": [0, 1], "n_permutations": 19}
    settings = TrainSettings(epochs=20, batch_size=128, lr=0.05)
    result = sweep(problem, settings, progress=lambda fraction, step: steps.append((fraction, step)), **kwargs)
    assert isinstance(result, SweepResult) and len(result.runs) == 2 * (2 + 2 * 2 * 2)
    assert steps[0][0] == 0.0 and steps[-1][0] == 1.0 and "seed" in steps[1][1] and "(10/10" in steps[-1][1]
    assert result.split_rows == {
        "train": problem.train.size,
        "validation": problem.validation.size,
        "test": problem.test.size,
    }
    table = tradeoff_table(result)
    assert (table["split"] == "test").all() and list(table["lambda"].unique()) == [0.0, 5.0, 20.0]
    assert len(table) == 2 * 3 and (table["n_seeds"] == 2).all() and (table["rmse_sd"] >= 0).all()
    ccd = table[table["penalty"] == "ccdcov"].set_index("lambda")
    assert ccd.loc[20.0, "dcor"] < ccd.loc[0.0, "dcor"] and ccd.loc[20.0, "rmse"] > ccd.loc[0.0, "rmse"]
    validation = tradeoff_table(result, "validation")
    assert not np.allclose(validation["jsd"], table["jsd"])
    test_rows = problem.protected.subset(problem.test).cells.size
    assert result.predictions[("test", "none", 0.0, 0)].shape == (test_rows,)
    assert set(table["rejected"]) <= {0.0, 0.5, 1.0} and np.isfinite(result.runs["perm_p"]).all()
    for choice in result.choices.values():
        assert choice.reason and choice.independent_reason
        assert table["recommended"].sum() == sum(c.recommended for c in result.choices.values())
    assert any("test rows, used for nothing else" in note for note in result.notes)
    assert any("p ≤ α = 0.05" in note for note in result.notes)
