"""Default roles of uploaded fairness tables: a 53-column recidivism table and a motor portfolio."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from covwb.errors import ParameterError
from covwb.fairness.roles import leaking_columns, propose_roles
from tests.fairness.tables import motor, recidivism


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    return recidivism(3000)


def test_recidivism_table_leaves_out_ids_names_dates_free_text_and_leaks(compas: pd.DataFrame) -> None:
    roles = propose_roles(compas)
    assert (roles.target, roles.task, roles.exposure) == ("two_year_recid", "binary", None)
    assert roles.protected == ("sex", "age", "race")
    for column in ("id", "name", "c_case_number", "r_case_number"):
        assert roles.left_out[column].startswith("identifier-like")
    for column in ("compas_screening_date", "dob", "c_jail_in", "c_offense_date", "screening_date", "in_custody"):
        assert roles.left_out[column] == "a date or time"
    assert "levels" in roles.left_out["c_charge_desc"] and "levels" in roles.left_out["last"]
    assert roles.left_out["type_of_assessment"].startswith("constant")
    assert roles.left_out["violent_recid"] == "empty"
    assert "missing in" in roles.left_out["r_days_from_arrest"]
    assert roles.left_out["priors_count.1"] == "the same values as 'priors_count'"
    for column in ("decile_score", "score_text", "v_decile_score", "decile_score.1"):
        assert "score or prediction of another model" in roles.left_out[column]
    assert set(roles.leaks) == {"is_recid", "end"} and roles.left_out["event"] == "the same values as 'is_recid'"
    assert all("ROC-AUC" in evidence for evidence in roles.leaks.values())
    assert len(roles.warnings) == 2 and "is_recid" in roles.warnings[0] and "leak" in roles.warnings[0]
    assert {"priors_count", "juv_fel_count", "c_charge_degree", "age_cat"} <= set(roles.features)
    assert not set(roles.features) & (set(roles.left_out) | set(roles.leaks) | set(roles.protected))
    assert len(roles.features) <= 11
    assert any("Left out of the default features: id (identifier-like" in note for note in roles.notes)


def test_motor_portfolio_proposes_counts_with_exposure_and_never_the_policy_id() -> None:
    frame = motor(5000)
    roles = propose_roles(frame)
    assert (roles.target, roles.task, roles.exposure) == ("ClaimNb", "counts", "Exposure")
    assert roles.left_out == {"IDpol": "identifier-like: 5,000 distinct values in 5,000 rows"}
    assert roles.protected == ("DrivAge",)
    assert set(roles.features) == {
        "Area",
        "VehPower",
        "VehAge",
        "BonusMalus",
        "VehBrand",
        "VehGas",
        "Density",
        "Region",
    }
    assert "ClaimNb" in roles.count_candidates and "IDpol" not in roles.count_candidates
    assert roles.leaks == {}
    leaky = frame.assign(ClaimAmount=frame["ClaimNb"] * np.random.default_rng(1).gamma(2.0, 900.0, len(frame)))
    roles = propose_roles(leaky)
    assert set(roles.leaks) == {"ClaimAmount"} and "above 0" in roles.leaks["ClaimAmount"]


def test_an_exposure_within_zero_and_one_is_found_by_its_values() -> None:
    frame = motor(2000).rename(columns={"Exposure": "years", "ClaimNb": "nclaims"})
    frame["years"] = frame["years"].clip(upper=1.0)
    roles = propose_roles(frame, target="nclaims")
    assert (roles.task, roles.exposure) == ("counts", "years")


def test_a_chosen_target_sets_the_task_and_the_leaks(compas: pd.DataFrame) -> None:
    roles = propose_roles(compas, target="priors_count")
    assert roles.task == "counts" and roles.target == "priors_count"
    assert set(roles.leaks) == {"priors_count.1"} and "1.000" in roles.leaks["priors_count.1"]
    with pytest.raises(ParameterError, match="not a column"):
        propose_roles(compas, target="nope")


def test_small_numeric_tables_keep_their_whole_number_columns() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Holders": rng.permutation(np.arange(50, 114)), "Claims": rng.poisson(5, 64)})
    frame["District"] = rng.choice(["1", "2", "3", "4"], 64)
    roles = propose_roles(frame)
    assert "Holders" not in roles.left_out and roles.target == "Claims"


def test_leaks_of_a_continuous_target_and_text_targets() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(300)
    frame = pd.DataFrame(
        {"wage": x, "log_wage": np.exp(x), "noise": rng.standard_normal(300), "job": rng.choice(["a", "b", "c"], 300)}
    )
    assert set(leaking_columns(frame, "wage", ["log_wage", "noise", "job"])) == {"log_wage"}
    frame["label"] = rng.choice(["p", "q", "r"], 300)
    assert leaking_columns(frame, "label", ["wage"]) == {}


def test_a_header_of_numbers_and_an_all_text_table() -> None:
    frame = pd.DataFrame({0: ["a", "b"] * 30, 1: ["x", "y", "z"] * 20})
    roles = propose_roles(frame)
    assert roles.target == "0" and roles.task == "binary" and roles.features == ("1",)
    text = pd.DataFrame({"a": [f"row {i}" for i in range(40)], "b": ["u", "v", "w", "x"] * 10})
    assert propose_roles(text).target is None
