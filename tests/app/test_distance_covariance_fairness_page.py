"""The distance-covariance fairness page as a person uses it: built-in tables, uploaded CSVs, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from covwb.datasets.tables import BUILTIN_TABLES
from tests.app.helpers import assert_clean, widget
from tests.fairness.tables import motor, recidivism

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "pages" / "5_Distance_covariance_fairness.py")
QUICK = {"fair-grid": "0, 10", "fair-seeds": 1, "fair-perms": 19, "fair-epochs": 15}


def _page(quick: bool = True, **state: object) -> AppTest:
    """The page with widget values preset (a small sweep unless ``quick`` is False), not yet run."""
    at = AppTest.from_file(PAGE, default_timeout=300)
    for key, value in {**(QUICK if quick else {}), **state}.items():
        at.session_state[key] = value
    return at


def _upload(frame: pd.DataFrame, name: str = "people.csv") -> AppTest:
    at = _page(**{"fair-origin": "Upload"}).run()
    at.sidebar.get("file_uploader")[0].set_value((name, frame.to_csv(index=False).encode(), "text/csv"))
    return at.run()


def _people(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n)
    region = rng.choice(["n", "s", "e"], n)
    skill = rng.standard_normal(n) + 0.8 * (sex == "m")
    hired = (skill + rng.standard_normal(n) > 0.4).astype(float)
    frame = pd.DataFrame(
        {
            "sex": sex,
            "region": region,
            "age": rng.uniform(20, 60, n).round(),
            "skill": skill,
            "team": rng.choice(["red", "blue"], n),
            "hired": hired,
        }
    )
    frame.loc[:2, "hired"] = np.nan
    return frame


def test_opens_on_the_default_builtin_table_with_every_panel() -> None:
    at = _page(quick=False).run()
    assert_clean(at)
    headers = [h.value for h in at.header]
    assert {
        "Problem",
        "Training and λ sweep",
        "Recommended λ",
        "Trade-off on the test split",
        "Models side by side",
        "Intersectional cells",
    } <= set(headers)
    assert len(at.get("plotly_chart")) == 4
    chosen = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(chosen) == 3 and all("validation split" in text for text in chosen)
    assert all("no λ recommended (λ = 0 kept)" in text or "is recommended:" in text for text in chosen)
    table = at.dataframe[1].value
    assert set(table["lambda"]) == {0.0, 2.0, 10.0, 50.0} and set(table["split"]) == {"test"}
    assert {"rmse", "rmse_sd", "jsd", "jsd_sd", "uf", "recommended", "perm_p", "rejected"} <= set(table.columns)
    assert (table["n_seeds"] == 3).all() and (table["jsd_sd"] > 0).all()
    assert set(at.dataframe[2].value["split"]) == {"validation"}
    assert any("the trade-off table, figures and exports report the" in c.value for c in at.caption)
    assert any("Permutation tests use 199 permutations" in c.value for c in at.caption)
    assert any("fewer than 20 rows" in w.value and w.value.startswith("Test split") for w in at.warning)
    downloads = [b.label for b in at.get("download_button")]
    assert downloads.count("PNG") == 4 and downloads.count("Download CSV") >= 4


def test_binary_builtin_table_adds_the_fairlearn_baseline_and_its_base_model() -> None:
    at = _page(**{"fair-builtin": BUILTIN_TABLES["recid"].name}).run()
    assert_clean(at)
    assert "cens" not in widget(at.multiselect, "Features").value
    models = at.dataframe[3].value
    assert models["model"].iloc[0] == "unregularised" and set(models["split"]) == {"test"}
    assert models["model"].str.contains("fairlearn").any() and models["model"].str.contains("base").any()
    assert "roc_auc" in models and "dp_gap" in models
    wording = " ".join(models["independence test"])
    assert "independence" in wording and "pass" not in wording
    assert any("randomized classifier" in c.value for c in at.caption)
    assert not any("fairlearn" in w.value and "did not reduce" in w.value for w in at.warning)


def test_a_single_seed_recommends_nothing_and_says_why() -> None:
    at = _page(**{"fair-grid": "0, 10, 50"}).run()
    assert_clean(at)
    assert any(w.value.startswith("A single seed") for w in at.warning)
    chosen = [m.value for m in at.markdown if m.value.startswith("**")]
    assert chosen and all("no λ recommended (λ = 0 kept)" in text and "single seed" in text for text in chosen)


def test_too_few_permutations_are_refused_with_the_reason() -> None:
    at = _page(**{"fair-perms": 10}).run()
    assert not at.exception
    assert len(at.error) == 1 and "could never reject independence" in at.error[0].value


def test_uploaded_recidivism_table_gets_usable_defaults_and_leak_warnings() -> None:
    at = _page(**{"fair-origin": "Upload", "fair-penalties": ["ccdcov"], "fair-epochs": 5}).run()
    upload = ("compas-scores-two-years.csv", recidivism(1200).to_csv(index=False).encode(), "text/csv")
    at.sidebar.get("file_uploader")[0].set_value(upload)
    at = at.run()
    assert_clean(at)
    assert widget(at.selectbox, "Target").value == "two_year_recid"
    assert widget(at.selectbox, "Task").value == "binary"
    assert widget(at.multiselect, "Protected").value == ["sex", "age", "race"]
    features = set(widget(at.multiselect, "Features").value)
    assert {"priors_count", "juv_fel_count", "c_charge_degree"} <= features
    assert not features & {"id", "name", "dob", "c_case_number", "c_charge_desc", "is_recid", "end", "decile_score"}
    leaks = [w.value for w in at.warning if "looks like a leak" in w.value]
    assert len(leaks) == 2 and any("'is_recid'" in w for w in leaks)
    texts = [t.value for t in at.text]
    assert "id: identifier-like: 1,200 distinct values in 1,200 rows" in texts and "dob: a date or time" in texts
    assert len(at.get("plotly_chart")) == 4


def test_uploaded_motor_portfolio_counts_claims_with_the_exposure_and_never_the_policy_id() -> None:
    at = _upload(motor(1500), "freMTPL2freq.csv")
    assert_clean(at)
    assert widget(at.selectbox, "Target").value == "ClaimNb"
    assert widget(at.selectbox, "Task").value == "counts"
    assert widget(at.selectbox, "Exposure").value == "Exposure"
    assert "IDpol" not in widget(at.multiselect, "Features").value
    assert "poisson_deviance" in at.dataframe[1].value


def test_counts_with_exposure_on_the_insurance_table() -> None:
    at = _page(**{"fair-builtin": BUILTIN_TABLES["insurance"].name}).run()
    assert_clean(at)
    assert "poisson_deviance" in at.dataframe[1].value
    assert widget(at.selectbox, "Exposure").value == "Holders"


def test_uploaded_csv_with_text_features_and_missing_targets() -> None:
    at = _upload(_people())
    widget(at.multiselect, "Protected").set_value(["sex", "region", "age"])
    at = at.run()
    assert_clean(at)
    assert widget(at.selectbox, "Task").value == "binary"
    notes = " ".join(t.value for t in at.text)
    assert "Dropped 3 rows with a missing target 'hired'" in notes
    assert "one-hot encoded: team (2 levels)" in notes
    assert "'age' is continuous" in notes
    assert len(at.get("plotly_chart")) == 4


def test_one_level_protected_attribute_is_a_clear_error() -> None:
    frame = _people()
    frame.insert(0, "site", "HQ")
    at = _upload(frame)
    widget(at.multiselect, "Protected").set_value(["sex", "site"])
    at = at.run()
    assert not at.exception
    assert len(at.error) == 1 and "single level" in at.error[0].value and "site" in at.error[0].value


def test_dependent_protected_attributes_warn_under_jdcov() -> None:
    frame = _people()
    frame.insert(0, "title", np.where(frame["sex"] == "f", "Ms", "Mr"))
    at = _upload(frame)
    widget(at.multiselect, "Protected").set_value(["sex", "title"])
    at = at.run()
    assert not at.exception
    assert any("JdCov is then positive" in w.value for w in at.warning)


def test_recid_features_leave_out_what_restates_the_target() -> None:
    at = _page(**{"fair-builtin": BUILTIN_TABLES["recid"].name}).run()
    features = set(widget(at.multiselect, "Features").value)
    assert not features & {"cens", "durat", "ldurat", "recidivist"}
    assert {"priors", "tserved"} <= features


def test_v_statistic_penalties_with_a_continuous_attribute() -> None:
    at = _upload(_people())
    widget(at.multiselect, "Protected").set_value(["age"])
    at = at.run()
    widget(at.selectbox, "Penalty statistic").set_value("V")
    at = at.run()
    assert_clean(at)
    table = at.dataframe[1].value
    assert set(table["lambda"]) == {0.0, 10.0} and (table["jsd"] >= 0).all()


def test_quadratic_dependence_statistics_say_they_use_a_subsample(monkeypatch) -> None:
    import covwb.fairness.metrics

    monkeypatch.setattr(covwb.fairness.metrics, "DEPENDENCE_ROWS", 40)
    at = _upload(_people())
    widget(at.multiselect, "Protected").set_value(["sex", "age"])
    at = at.run()
    assert_clean(at)
    assert any("seeded subsample of 40 of the" in c.value for c in at.caption)
    assert set(at.dataframe[1].value["lambda"]) == {0.0, 10.0}
