"""The distance-covariance fairness page as a person uses it: built-in tables, uploaded CSVs, bad input, the sweep
as a background job (submit, progress, widget changes, reload, cancel), links and the analysis export.

The sweeps run as jobs on the process-wide local Dask cluster (started by the first job); every sweep here is
small (a two-value λ grid, one penalty, 2 seeds, 5 epochs, 19 permutations), so that once the workers have
compiled the penalty kernels (about 15 s each, once) a job takes seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from covwb import jobs
from covwb.datasets.tables import BUILTIN_TABLES
from covwb.fairness.analysis import FairnessSettings
from covwb.sources import BuiltinSource
from tests.app.exports import Downloads, exported_settings, linked, rerun_script, same_tables
from tests.app.helpers import assert_clean, widget
from tests.fairness.tables import motor, recidivism

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "pages" / "5_Distance_covariance_fairness.py")
ZIP_NAME = "Distance-covariance_fairness_analysis.zip"
JOB = "fairness_job"
QUICK = {
    "fair-grid": "0, 10",
    "fair-seeds": 2,
    "fair-perms": 19,
    "fair-epochs": 5,
    "fair-penalties": ["ccdcov"],
}
QUICK_LINK = {"penalties": '["ccdcov"]', "lambdas": "[0.0,10.0]", "seeds": "2", "n_permutations": "19", "epochs": "5"}
RESULT_HEADERS = {"Recommended λ", "Trade-off on the test split", "Models side by side", "Intersectional cells"}
JOB_TIMEOUT_S = 600.0


def _page(quick: bool = True, **state: object) -> AppTest:
    """The page with widget values preset (a small sweep unless ``quick`` is False), not yet run."""
    at = AppTest.from_file(PAGE, default_timeout=300)
    for key, value in {**(QUICK if quick else {}), **state}.items():
        at.session_state[key] = value
    return at


def _upload(frame: pd.DataFrame, name: str = "people.csv", **state: object) -> AppTest:
    at = _page(**{"fair-origin": "Upload", **state}).run()
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


def _job_id(at: AppTest) -> str:
    value = at.query_params[JOB]
    return value[0] if isinstance(value, list) else value


def _headers(at: AppTest) -> set[str]:
    return {h.value for h in at.header}


def _until_done(at: AppTest, timeout: float = JOB_TIMEOUT_S) -> AppTest:
    """Rerun the page (as its polling fragment does) until the result is shown; fail on an error or timeout."""
    deadline = time.monotonic() + timeout
    while not RESULT_HEADERS <= _headers(at):
        assert not at.exception and not at.error, ([e.value for e in at.exception], [e.value for e in at.error])
        assert time.monotonic() < deadline, [p.proto.text for p in at.progress]
        time.sleep(0.5)
        at.run()
    return at


def _table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table shown whose columns include ``columns``."""
    return next(df.value for df in at.dataframe if set(columns) <= set(df.value.columns))


# --------------------------------------------------------------------------- the sweep as a job


def test_the_sweep_is_submitted_at_once_goes_on_through_widget_changes_and_shows_its_result() -> None:
    at = _page().run()
    assert_clean(at)
    job_id = _job_id(at)  # a built-in table's first visit submits its sweep; the run returned at once
    assert at.progress and at.progress[0].proto.text.startswith("Fairness analysis: ")
    assert not RESULT_HEADERS & _headers(at)
    at.slider(key="fair-bins").set_value(3).run()  # another setting: the job goes on, nothing new starts
    assert _job_id(at) == job_id and jobs.info(job_id).status in ("queued", "running", "done")
    if jobs.info(job_id).active:
        assert any("computes the settings from when it was started" in c.value for c in at.caption)
    at.slider(key="fair-bins").set_value(2).run()
    _until_done(at)
    assert_clean(at)
    assert _job_id(at) == job_id
    assert len(at.get("plotly_chart")) == 4
    chosen = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(chosen) == 1 and chosen[0].startswith("**CCdCov") and "fewer than three values of λ" in chosen[0]
    table = _table(at, "rmse_sd")
    assert set(table["lambda"]) == {0.0, 10.0} and set(table["split"]) == {"test"}
    assert {"rmse", "rmse_sd", "jsd", "jsd_sd", "uf", "recommended", "perm_p", "rejected"} <= set(table.columns)
    assert (table["n_seeds"] == 2).all()
    assert any("the trade-off table, figures and exports report the" in c.value for c in at.caption)
    assert any("Permutation tests use 19 permutations" in c.value for c in at.caption)
    assert any("fewer than 20 rows" in w.value and w.value.startswith("Test split") for w in at.warning)
    downloads = [b.label for b in at.get("download_button")]
    assert downloads.count("PNG") == 4 and downloads.count("Download CSV") >= 4 and "Export analysis" in downloads


def test_cancel_ends_the_job_and_a_later_run_submits_again() -> None:
    at = _page(**{"fair-epochs": 400, "fair-patience": 200, "fair-seeds": 3, "fair-grid": "0, 1, 10, 100"})
    at = at.run()
    job_id = _job_id(at)
    at.button(key="fairness-job-cancel").click().run()
    assert jobs.default_registry().wait(job_id, timeout=30).status == "cancelled"
    assert JOB not in at.query_params
    assert any("was cancelled" in e.value for e in at.info)
    at.run()
    assert not at.progress and not RESULT_HEADERS & _headers(at)  # cancelled: not submitted again by itself
    at.button(key="fair-run").click().run()
    assert _job_id(at) != job_id
    at.button(key="fairness-job-cancel").click().run()


def test_a_single_seed_recommends_nothing_and_says_why() -> None:
    at = _until_done(_page(**{"fair-grid": "0, 10, 50", "fair-seeds": 1}).run())
    assert_clean(at)
    assert any(w.value.startswith("A single seed") for w in at.warning)
    chosen = [m.value for m in at.markdown if m.value.startswith("**")]
    assert chosen and all("no λ recommended (λ = 0 kept)" in text and "single seed" in text for text in chosen)


def test_too_few_permutations_are_refused_with_the_reason() -> None:
    at = _page(**{"fair-perms": 10}).run()
    assert not at.exception
    assert len(at.error) == 1 and "could never reject independence" in at.error[0].value
    assert JOB not in at.query_params


# --------------------------------------------------------------------------- links and the analysis export


def test_a_binary_table_exports_an_analysis_that_reruns_to_the_same_tables_and_its_link_reopens_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Training is seeded, float64 and single-threaded (page: Dask workers; script: one process), so the tables
    are byte-identical; the fairlearn baseline (lbfgs) is deterministic as well."""
    downloads = Downloads(monkeypatch)
    at = _until_done(_page(**{"fair-builtin": BUILTIN_TABLES["recid"].name}).run())
    assert_clean(at)
    assert "cens" not in widget(at.multiselect, "Features").value
    models = _table(at, "independence test")
    assert models["model"].iloc[0] == "unregularised" and set(models["split"]) == {"test"}
    assert models["model"].str.contains("fairlearn").any() and models["model"].str.contains("base").any()
    assert "roc_auc" in models and "dp_gap" in models
    wording = " ".join(models["independence test"])
    assert "independence" in wording and "pass" not in wording
    assert any("randomized classifier" in c.value for c in at.caption)
    assert not any("fairlearn" in w.value and "did not reduce" in w.value for w in at.warning)
    link = dict(at.query_params)
    assert {k: v for k, v in link.items() if k != JOB} == {"source": "builtin", "source.name": "recid", **QUICK_LINK}

    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    settings = FairnessSettings.from_dict(exported_settings(folder))
    assert (
        settings.computation()
        == FairnessSettings(
            source=BuiltinSource("recid"),
            penalties=("ccdcov",),
            lambdas=(0.0, 10.0),
            seeds=2,
            n_permutations=19,
            epochs=5,
        ).resolve(BuiltinSource("recid").load())[0]
    )
    done = rerun_script(folder, timeout=600)
    assert done.returncode == 0, done.stderr
    assert same_tables(folder) == {}
    names = {p.stem for p in (folder / "tables").glob("*.csv")}
    assert {"tradeoff_test", "tradeoff_validation", "runs", "models", "cells_unregularised", "fairlearn_gaps"} <= names

    again = linked(PAGE, link, timeout=300)  # a reload: a new session from the same URL
    assert_clean(again)
    assert RESULT_HEADERS <= _headers(again) and _job_id(again) == _job_id(at)
    assert again.sidebar.selectbox(key="fair-builtin").value == BUILTIN_TABLES["recid"].name
    assert again.text_input(key="fair-grid").value == "0, 10" and again.number_input(key="fair-seeds").value == 2
    assert again.query_params == at.query_params
    pd.testing.assert_frame_equal(_table(again, "independence test"), models)


def test_bad_link_values_give_a_message_and_the_defaults() -> None:
    at = linked(
        PAGE,
        {
            "source": "builtin",
            "source.name": "insurance",
            "model": "forest",
            "penalties": '["gini"]',
            "target": '"no such column"',
            "fairness_job": "not a job of this server",
            **{k: v for k, v in QUICK_LINK.items() if k != "penalties"},
        },
        timeout=300,
    )
    assert not at.exception and not at.error
    notes = [w.value for w in at.warning]
    assert any(n.startswith("The link's Model was not used") and "'linear'" in n for n in notes)
    assert any(n.startswith("The link's Penalties was not used") for n in notes)
    assert any("Target: the table has no usable column 'no such column'" in n for n in notes)
    assert _job_id(at) != "not a job of this server"  # the built-in table's own sweep replaced it
    assert widget(at.selectbox, "Target").value == "Claims" and widget(at.selectbox, "Exposure").value == "Holders"
    assert "model" not in at.query_params and "target" not in at.query_params


def test_an_upload_exports_reruns_from_its_file_and_its_reload_finds_the_private_job(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A binary hiring table with a continuous protected attribute mixed with a categorical one (the O(b²) penalty)
    and the V-statistic; nothing is submitted before Run (uploads are private and may be large)."""
    downloads = Downloads(monkeypatch)
    frame = _people()
    data = frame.to_csv(index=False).encode()
    at = _upload(frame, "people.csv", **{"fair-baseline": False})
    widget(at.multiselect, "Protected").set_value(["sex", "age"]).run()
    widget(at.selectbox, "Penalty statistic").set_value("V").run()
    assert_clean(at)
    assert JOB not in at.query_params and not at.progress
    at.button(key="fair-run").click().run()
    job_id = _job_id(at)
    assert not jobs.info(job_id).public
    _until_done(at)
    assert_clean(at)
    table = _table(at, "jsd_sd")
    assert set(table["lambda"]) == {0.0, 10.0} and (table["jsd"] >= 0).all()
    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    (folder / "people.csv").write_bytes(data)
    done = rerun_script(folder, timeout=600)
    assert done.returncode == 0, done.stderr
    assert same_tables(folder) == {}
    (folder / "people.csv").write_bytes(data.replace(b"\nm,", b"\nf,", 1))
    refused = rerun_script(folder, timeout=600)
    assert refused.returncode == 1 and "differs from the one" in refused.stderr and "Traceback" not in refused.stderr

    link = dict(at.query_params)
    assert link["source"] == "upload" and link["statistic"] == "V" and link[JOB] == job_id
    reopened = linked(PAGE, link, timeout=300)
    assert not reopened.exception
    assert "This link was made for 'people.csv'" in reopened.info[0].value
    reopened.sidebar.get("file_uploader")[0].set_value(("people.csv", data, "text/csv"))
    reopened.run()
    assert_clean(reopened)
    assert RESULT_HEADERS <= _headers(reopened) and _job_id(reopened) == job_id
    assert widget(reopened.selectbox, "Penalty statistic").value == "V"


# --------------------------------------------------------------------------- column roles and bad input


def test_uploaded_recidivism_table_gets_usable_defaults_and_leak_warnings() -> None:
    at = _page(**{"fair-origin": "Upload"}).run()
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
    assert len(leaks) == 2 and any("'is_recid'" in w and "left out of the default features" in w for w in leaks)
    texts = [t.value for t in at.text]
    assert "id: identifier-like: 1,200 distinct values in 1,200 rows" in texts and "dob: a date or time" in texts
    widget(at.multiselect, "Features").select("is_recid").run()
    assert_clean(at)
    assert any("The feature 'is_recid' looks like a leak of the target 'two_year_recid'" in w.value for w in at.warning)


def test_uploaded_motor_portfolio_counts_claims_with_the_exposure_and_never_the_policy_id() -> None:
    at = _upload(motor(1500), "freMTPL2freq.csv")
    assert_clean(at)
    assert widget(at.selectbox, "Target").value == "ClaimNb"
    assert widget(at.selectbox, "Task").value == "counts"
    assert widget(at.selectbox, "Exposure").value == "Exposure"
    assert "IDpol" not in widget(at.multiselect, "Features").value


def test_counts_with_exposure_on_the_insurance_table() -> None:
    at = _page(**{"fair-builtin": BUILTIN_TABLES["insurance"].name}).run()
    assert_clean(at)
    assert widget(at.selectbox, "Exposure").value == "Holders"
    assert widget(at.selectbox, "Task").value == "counts"


def test_uploaded_csv_with_text_features_and_missing_targets() -> None:
    at = _upload(_people())
    widget(at.multiselect, "Protected").set_value(["sex", "region", "age"]).run()
    assert_clean(at)
    assert widget(at.selectbox, "Task").value == "binary"
    notes = " ".join(t.value for t in at.text)
    assert "Dropped 3 rows with a missing target 'hired'" in notes
    assert "one-hot encoded: team (2 levels)" in notes
    assert "'age' is continuous" in notes


def test_one_level_protected_attribute_is_a_clear_error() -> None:
    frame = _people()
    frame.insert(0, "site", "HQ")
    at = _upload(frame)
    widget(at.multiselect, "Protected").set_value(["sex", "site"]).run()
    assert not at.exception
    assert len(at.error) == 1 and "single level" in at.error[0].value and "site" in at.error[0].value


def test_dependent_protected_attributes_warn_under_jdcov() -> None:
    frame = _people()
    frame.insert(0, "title", np.where(frame["sex"] == "f", "Ms", "Mr"))
    at = _upload(frame, **{"fair-penalties": ["jdcov"]})
    widget(at.multiselect, "Protected").set_value(["sex", "title"]).run()
    assert not at.exception
    assert any("JdCov is then positive" in w.value for w in at.warning)


def test_recid_features_leave_out_what_restates_the_target() -> None:
    at = _page(**{"fair-builtin": BUILTIN_TABLES["recid"].name}).run()
    features = set(widget(at.multiselect, "Features").value)
    assert not features & {"cens", "durat", "ldurat", "recidivist"}
    assert {"priors", "tserved"} <= features


def test_quadratic_dependence_statistics_say_they_use_a_subsample(monkeypatch: pytest.MonkeyPatch) -> None:
    import covwb.fairness.analysis

    monkeypatch.setattr(covwb.fairness.analysis, "DEPENDENCE_ROWS", 40)
    monkeypatch.setattr(covwb.fairness.metrics, "DEPENDENCE_ROWS", 40)
    at = _upload(_people())
    widget(at.multiselect, "Protected").set_value(["sex", "age"]).run()
    assert_clean(at)
    assert any("seeded subsample of 40 of the" in t.value for t in at.text)
