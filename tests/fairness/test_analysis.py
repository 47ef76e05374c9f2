"""The fairness page's analysis: settings, roles made explicit, the plan (sweep + baseline) and its result."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from covwb.datasets.types import TableDataset
from covwb.errors import ParameterError
from covwb.fairness.analysis import (
    FAIRLEARN,
    FAIRLEARN_BASE,
    NO_EXPOSURE,
    UNREGULARISED,
    FairnessSettings,
    analyse_fairness,
    parse_lambdas,
    plan_fairness,
    prepare_problem,
)
from covwb.fairness.calibration import fit_and_evaluate
from covwb.sources import BuiltinSource, UploadSource
from tests.fairness.tables import motor, recidivism

UPLOAD = UploadSource.from_dict({"reader": "table", "files": [{"name": "t.csv", "sha256": "0" * 64}]})
SMALL = {"penalties": ("ccdcov",), "lambdas": (0.0, 5.0), "seeds": 2, "n_permutations": 19, "epochs": 5}


def _upload(frame: pd.DataFrame) -> TableDataset:
    return TableDataset("t", frame, "upload: t.csv")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"lambdas": (10.0, 0.0)}, "increasing values"),
        ({"n_permutations": 9}, "could never reject independence"),
        ({"validation_share": 0.4, "test_share": 0.4}, "at least 30% of the rows"),
        ({"kinds": (("age", "ordinal"),)}, "one kind among"),
        ({"penalties": ("ccdcov", "ccdcov")}, "once only"),
    ],
)
def test_settings_that_do_not_fit_together_are_refused(changes: dict, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        FairnessSettings(**changes)


def test_the_lambda_grid_is_read_from_text() -> None:
    assert parse_lambdas(" 50, 0,2;10 ") == (0.0, 2.0, 10.0, 50.0)
    with pytest.raises(ParameterError, match="each ≥ 0"):
        parse_lambdas("0, -1")


def test_built_in_tables_resolve_to_their_own_roles() -> None:
    insurance = BuiltinSource("insurance")
    resolved, notes = FairnessSettings(source=insurance).resolve(insurance.load())
    assert (resolved.target, resolved.task, resolved.exposure) == ("Claims", "counts", "Holders") and notes == ()
    assert resolved.protected == ("Age", "District") and dict(resolved.kinds) == {
        "Age": "categorical",
        "District": "categorical",
    }
    recid = BuiltinSource("recid")
    resolved, _ = FairnessSettings(source=recid).resolve(recid.load())
    assert (resolved.target, resolved.task, resolved.exposure) == ("recidivist", "binary", NO_EXPOSURE)
    assert resolved.protected == ("black", "age") and "cens" not in resolved.features
    assert dict(resolved.kinds) == {"black": "binary", "age": "continuous"}


def test_an_uploaded_table_gets_the_proposed_roles_and_a_note_for_what_it_lacks() -> None:
    data = _upload(recidivism(800))
    resolved, notes = FairnessSettings(source=UPLOAD).resolve(data)
    assert resolved.target == "two_year_recid" and resolved.protected == ("sex", "age", "race")
    assert not set(resolved.features) & {"id", "name", "dob", "is_recid", "decile_score"}
    portfolio = _upload(motor(2000))
    resolved, notes = FairnessSettings(source=UPLOAD, exposure="Exposure_days", features=("Area",)).resolve(portfolio)
    assert (resolved.target, resolved.task, resolved.exposure) == ("ClaimNb", "counts", "Exposure")
    assert resolved.features == ("Area",) and len(notes) == 1 and "'Exposure_days'" in notes[0]
    with pytest.raises(ParameterError, match="'Exposure_days'"):
        prepare_problem(FairnessSettings(source=UPLOAD, exposure="Exposure_days"), portfolio)


def test_the_problem_warns_about_leaks_and_dependent_attributes(table: pd.DataFrame) -> None:
    frame = table.assign(hired_again=table["hired"], title=np.where(table["gender"] == "female", "Ms", "Mr"))
    settings = FairnessSettings(
        source=UPLOAD, target="hired", protected=("gender", "title"), features=("x1", "hired_again"), **SMALL
    )
    problem = prepare_problem(settings.replace(penalties=("jdcov",)), _upload(frame))
    assert any("The feature 'hired_again' looks like a leak of the target 'hired'" in w for w in problem.warnings)
    assert any("JdCov is then positive" in w for w in problem.warnings)
    assert any(n.startswith("Rows split into") for n in problem.notes)
    with pytest.raises(ParameterError, match="at least one protected attribute"):
        prepare_problem(settings.replace(protected=()), _upload(frame))


def test_a_binary_plan_adds_the_fairlearn_baseline_after_the_unregularised_fits(table: pd.DataFrame) -> None:
    settings = FairnessSettings(
        source=UPLOAD, target="hired", protected=("gender", "region"), features=("proxy", "x1", "x2"), **SMALL
    )
    plan = plan_fairness(settings, _upload(table))
    assert [task.key for task in plan.tasks[:3]] == ["none|0.0|0", "none|0.0|1", "fairlearn-baseline"]
    assert all(task.fn is fit_and_evaluate for task in plan.tasks if task.key != "fairlearn-baseline")
    assert len(plan.tasks) == 2 + 2 + 1
    pickle.loads(pickle.dumps((plan.tasks, dict(plan.data))))  # what a Dask worker receives
    assert len(plan_fairness(settings.replace(baseline=False), _upload(table)).tasks) == 4
    counts = settings.replace(target="claims", task="counts", exposure="exposure")
    assert all(task.key != "fairlearn-baseline" for task in plan_fairness(counts, _upload(table)).tasks)


def test_the_result_carries_the_sweep_the_baseline_and_every_table(table: pd.DataFrame) -> None:
    settings = FairnessSettings(
        source=UPLOAD,
        target="hired",
        protected=("gender", "region"),
        features=("proxy", "x1", "x2"),
        **{**SMALL, "lambdas": (0.0, 5.0, 50.0)},
    )
    result = analyse_fairness(settings, _upload(table))
    assert result.settings == settings.resolve(_upload(table))[0]
    assert list(result.models())[0] == UNREGULARISED
    comparison = result.comparison()
    assert list(comparison["model"])[-2:] == [FAIRLEARN, FAIRLEARN_BASE]
    tables = result.tables()
    assert {"tradeoff_test", "tradeoff_validation", "runs", "lambda_choices", "models", "fairlearn_gaps"} <= set(tables)
    assert {f"cells_{s}" for s in ["unregularised"]} <= set(tables) and "seconds" not in tables["runs"]
    assert set(tables["tradeoff_test"]["split"]) == {"test"} and (tables["tradeoff_test"]["n_seeds"] == 2).all()
    choices = tables["lambda_choices"]
    assert list(choices["penalty"]) == ["ccdcov"] and choices["reason"].str.len().min() > 40
    assert any(n.startswith("CCdCov") for n in result.notes)
    assert any("Permutation tests use 19 permutations" in n for n in result.notes)
    base_gap, reduced_gap = result.baseline.baseline.gaps["test"]
    assert reduced_gap < base_gap


def test_the_view_choices_are_not_part_of_the_computation() -> None:
    settings = FairnessSettings(shown="unregularised", distribution="kde")
    assert settings.computation() == FairnessSettings()
    assert settings.computation().fingerprint() == FairnessSettings().fingerprint()
