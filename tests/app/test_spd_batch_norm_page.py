"""The SPD batch-norm page as a person uses it: synthetic batch, simulated EEG, uploads, training jobs, links, exports.

Training runs as a background job on the local Dask cluster (covwb.jobs); the tests poll the page as its fragment
would, with small settings (few epochs, small matrices, 2 variants × 1-2 seeds). Exported analyses are rerun in a
fresh interpreter and their tables compared with the page's: byte for byte (training included: it is seeded and
runs on one thread, on a Dask worker for the page and in the script's own process for the export), except the
wall times of ``training_time``, which are measurements.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from covwb import jobs
from covwb.spd.analysis import SPDSettings, SyntheticSource
from tests.app.exports import Downloads, rerun_script
from tests.app.helpers import assert_clean, charts, widget

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "pages" / "3_SPD_batch_norm.py")
GEOMETRY_CHARTS = 7  # spectra, condition numbers, distances, MDS, barycentre residuals, ridge, precision
ZIP_NAME = "SPD_batch_normalisation_analysis.zip"
JOB = "training_job"
TRAINED = "Test accuracy and folding over seeds"
MEASURED = {"training_time": ["seconds_per_epoch", "seconds"]}
"""Columns that are wall-time measurements, different in every run; the rest of their table must match."""


def _page(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params.update(params or {})
    return at.run()


def _upload(name: str, data: bytes) -> AppTest:
    at = _page()
    at.sidebar.radio(key="spd-source").set_value("Dataset").run()
    at.sidebar.radio(key="spd-origin").set_value("Upload").run()
    at.sidebar.selectbox(key="spd-kind").set_value("Covariance matrices (.npy, .npz, .csv, .mat)").run()
    at.sidebar.get("file_uploader")[0].set_value((name, data, "application/octet-stream"))
    return at.run()


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _small_training(at: AppTest, variants: list[str], seeds: int = 1, epochs: int = 2, hidden: int = 3) -> AppTest:
    at.multiselect(key="tr-variants").set_value(variants)
    at.number_input(key="tr-seeds").set_value(seeds)
    at.number_input(key="tr-epochs").set_value(epochs)
    at.number_input(key=next(w.key for w in at.number_input if w.key.startswith("tr-hidden-"))).set_value(hidden)
    return at.run()


def _job_id(at: AppTest) -> str:
    value = at.query_params[JOB]
    return value[0] if isinstance(value, list) else value


def _trained(at: AppTest) -> bool:
    return any(s.value == TRAINED for s in at.subheader)


def _run_until_trained(at: AppTest, timeout: float = 180) -> AppTest:
    """Rerun the page (as its polling fragment would) until the training's result shows."""
    deadline = time.monotonic() + timeout
    while not _trained(at):
        assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
        assert time.monotonic() < deadline, [getattr(e, "value", "") for e in at.main]
        time.sleep(0.3)
        at.run()
    assert_clean(at)
    return at


def _summary(at: AppTest) -> pd.DataFrame:
    """The training summary table the page shows (the dataframe after the subheader)."""
    return at.dataframe[1].value


def _exported_settings(folder: Path) -> SPDSettings:
    return SPDSettings.from_dict(json.loads((folder / "provenance.json").read_text())["settings"])


def _assert_same_tables(folder: Path) -> set[str]:
    """The script's tables against the page's: byte-identical, wall times aside; returns the table names."""
    page = {p.stem: p for p in (folder / "tables").glob("*.csv")}
    assert page and {p.stem for p in (folder / "results").glob("*.csv")} == set(page)
    for name, path in page.items():
        mine = folder / "results" / path.name
        if name not in MEASURED:
            assert mine.read_bytes() == path.read_bytes(), name
            continue
        left, right = pd.read_csv(path), pd.read_csv(mine)
        pd.testing.assert_frame_equal(left.drop(columns=MEASURED[name]), right.drop(columns=MEASURED[name]))
        assert (right[MEASURED[name]] > 0).all().all()
    return set(page)


# --------------------------------------------------------------------------- geometry


def test_synthetic_batch_shows_every_panel_with_its_warnings_and_its_link_reopens_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    downloads = Downloads(monkeypatch)
    at = _page()
    assert not at.exception and not at.error
    assert charts(at) == GEOMETRY_CHARTS
    summary = at.dataframe[0].value
    assert list(summary["metric"]) == ["AIRM", "LEM", "BW", "GBW", "θ-GBW"]
    assert summary["median log10 κ after"].max() < summary["median log10 κ before"].min()
    # The rank-deficient member folds in BW and GBW batch norm, and the page says so (issue 12 §7).
    folded = [w.value for w in at.warning if "batch norm of this batch folded 1 of 30" in w.value]
    assert [w[:3] for w in folded] == ["BW ", "GBW"]
    assert list(summary["folded (%)"].round(2)) == [0.0, 0.0, 3.33, 3.33, 0.0]
    assert any("class labels" in info.value for info in at.info)
    assert at.query_params == {"source": "synthetic"}

    at.sidebar.slider(key="syn-cond").set_value(10.0).run()
    at.toggle(key="bn-as-coded").set_value(True).run()
    at.selectbox(key="bn-m").set_value("riemann_mean").run()
    at.slider(key="bn-theta").set_value(0.25).run()
    assert not at.exception and not at.error
    assert charts(at) == GEOMETRY_CHARTS
    assert any("ill-conditioned (condition number up to" in w.value for w in at.warning)
    link = dict(at.query_params)
    assert link == {
        "source": "synthetic",
        "source.log10_condition": "10.0",
        "theta": "0.25",
        "m_choice": "riemann_mean",
        "dispersion_about": "identity",
    }
    settings = _exported_settings(downloads.analysis(ZIP_NAME, tmp_path / "first"))
    assert settings == SPDSettings(
        source=SyntheticSource(log10_condition=10.0), theta=0.25, m_choice="riemann_mean", dispersion_about="identity"
    )

    again = _page(link)
    assert not again.exception and not again.error
    assert again.sidebar.slider(key="syn-cond").value == 10.0 and again.toggle(key="bn-as-coded").value
    assert again.selectbox(key="bn-m").value == "riemann_mean" and again.slider(key="bn-theta").value == 0.25
    pd.testing.assert_frame_equal(again.dataframe[0].value, at.dataframe[0].value)
    assert again.query_params == at.query_params
    assert _exported_settings(downloads.analysis(ZIP_NAME, tmp_path / "second")) == settings


def test_bad_link_values_give_a_message_and_the_defaults() -> None:
    at = _page(
        {
            "source": "synthetic",
            "source.dim": "many",
            "theta": "7",
            "metrics": '["riemann","no such metric"]',
            "training.epochs": "0",
            "other": "kept for its owner",
        }
    )
    assert not at.exception and not at.error
    notes = [w.value for w in at.warning if w.icon == ":material/link:"]
    assert len(notes) == 4, notes
    assert any(n.startswith("The link's Matrices was not used: Dimension must be written as JSON") for n in notes)
    assert any(n.startswith("The link's θ (power deformation of θ-GBW) was not used") and "0.5" in n for n in notes)
    assert any("no such metric" in n for n in notes) and any("Epochs must be between 1 and 1000" in n for n in notes)
    assert at.slider(key="bn-theta").value == 0.5 and at.sidebar.slider(key="syn-dim").value == 8
    assert len(at.multiselect(key="bn-metrics").value) == 5
    assert at.query_params["other"] == "kept for its owner" and "theta" not in at.query_params
    at.run()
    assert not [w for w in at.warning if w.icon == ":material/link:"]


# --------------------------------------------------------------------------- training on the simulated EEG


def _simulated_eeg(params: dict[str, str] | None = None) -> AppTest:
    at = _page(params)
    if params is None:
        at.sidebar.radio(key="spd-source").set_value("Dataset").run()
        widget(at.multiselect, "Channels").set_value(["C3", "Cz", "C4", "Pz"]).run()
    return at


def test_simulated_eeg_trains_as_a_job_exports_and_its_link_reopens_the_trained_view(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    downloads = Downloads(monkeypatch)
    at = _simulated_eeg()
    assert_clean(at)
    assert at.selectbox(key="spd-estimator").value == "oas"  # the shared estimator controls, OAS by default
    assert any(c.value == "160 matrices of 4 × 4 (µV²)." for c in at.caption)
    at = _small_training(at, ["riemann", "wasserstein"], seeds=2)
    at.button(key="tr-run").click().run()
    assert not at.exception
    job_id = _job_id(at)
    _run_until_trained(at)
    assert _job_id(at) == job_id
    table = _summary(at)
    assert list(table["variant"]) == ["AIRM-BN", "BW-BN"] and list(table["seeds"]) == [2, 2]
    assert table["test accuracy mean (%)"].between(0, 100).all()
    assert charts(at) == GEOMETRY_CHARTS + 1
    # A panel's setting does not touch the training: its result stays on the page.
    at.slider(key="bn-theta").set_value(0.75).run()
    assert_clean(at)
    assert _trained(at) and _job_id(at) == job_id
    pd.testing.assert_frame_equal(_summary(at), table)
    link = dict(at.query_params)
    assert link["train"] == "true" and link["theta"] == "0.75" and link["training.epochs"] == "2"

    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    settings = _exported_settings(folder)
    assert settings.train and settings.variants == ("riemann", "wasserstein") and settings.seeds == 2
    assert settings.epochs.channels == ("C3", "Cz", "C4", "Pz") and settings.estimator == "oas"
    done = rerun_script(folder)
    assert done.returncode == 0, done.stderr
    tables = _assert_same_tables(folder)
    assert {"bn_summary", "bn_wasserstein", "training_curves", "training_folding", "training_summary"} <= tables
    curves = pd.read_csv(folder / "tables" / "training_curves.csv")
    assert len(curves) == 2 * 2 * 2 and {"folded_train", "folded_test_percent"} <= set(curves.columns)

    reloaded = _page(link)  # the same link, with its job id: a reload finds the finished job
    assert_clean(reloaded)
    assert _trained(reloaded) and widget(reloaded.multiselect, "Channels").value == ["C3", "Cz", "C4", "Pz"]
    pd.testing.assert_frame_equal(_summary(reloaded), table)
    shared = _page({k: v for k, v in link.items() if k != JOB})  # a shared link without the job: trains once
    _run_until_trained(shared)
    pd.testing.assert_frame_equal(_summary(shared), table)
    assert shared.query_params == {k: v for k, v in link.items() if k != JOB} | {JOB: job_id}  # built-in: shared job


def test_a_long_training_job_survives_widget_changes_until_cancelled() -> None:
    at = _simulated_eeg()
    at = _small_training(at, ["none", "riemann", "wasserstein", "gbw_theta"], seeds=3, epochs=30)
    start = time.perf_counter()
    at.button(key="tr-run").click().run()
    assert time.perf_counter() - start < 60  # the page returned long before 12 runs × 30 epochs
    assert not at.exception
    job_id = _job_id(at)
    assert jobs.info(job_id).status in ("queued", "running")
    assert at.progress[0].proto.text.startswith("SPDNet training: ")
    at.slider(key="bn-theta").set_value(0.75).run()  # a panel's setting: the job goes on
    at.number_input(key="tr-epochs").set_value(29).run()  # a training setting: the job goes on, unchanged
    assert _job_id(at) == job_id and jobs.info(job_id).status in ("queued", "running")
    assert any("computes the settings from when it was started" in c.value for c in at.caption)
    at.button(key="training-job-cancel").click().run()
    assert jobs.default_registry().wait(job_id, timeout=30).status == "cancelled"
    assert JOB not in at.query_params and any("was cancelled" in i.value for i in at.info)


class HeldAfterTheFirstRun:
    """Runs training plans in the job's thread and holds them once the first run finished (its preview shown)."""

    def __init__(self) -> None:
        self.first, self.release = threading.Event(), threading.Event()

    def run(self, plan: Any, *, prefix: str, progress: Any, stop: threading.Event, preview: Any = None) -> Any:
        def hold(shown: Any) -> None:
            preview(shown)
            self.first.set()
            self.release.wait(60)

        return jobs.run_plan(plan, progress=progress, should_stop=stop.is_set, preview=hold)

    def cancel(self, prefix: str) -> None:
        self.release.set()


def test_the_runs_already_finished_are_drawn_while_the_job_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from covwb.jobs import registry

    runner = HeldAfterTheFirstRun()
    monkeypatch.setattr(registry, "_DEFAULT", registry.JobRegistry(runner))
    at = _small_training(_simulated_eeg(), ["logeuclid", "wasserstein"])
    at.button(key="tr-run").click().run()
    assert runner.first.wait(60)
    at.run()
    assert_clean(at)
    assert not _trained(at) and charts(at) == GEOMETRY_CHARTS + 1
    assert any(c.value.startswith("Learning curves of the 1 run(s) finished so far") for c in at.caption)
    preview = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert {t["name"] for t in preview["data"] if t.get("showlegend") is not False} == {"LEM-BN"}
    runner.release.set()
    _run_until_trained(at)
    assert not any(c.value.startswith("Learning curves of the") for c in at.caption)
    assert list(_summary(at)["variant"]) == ["LEM-BN", "BW-BN"]


# --------------------------------------------------------------------------- uploads


def test_folding_is_shown_per_variant_beside_the_learning_curves() -> None:
    """Issue 12 §7: matrices with almost no power along one axis fold in BW batch norm; the page says so."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 4, 200))
    covs = a @ a.transpose(0, 2, 1) / 200
    scale = np.diag([1.5, 1.0, 1.0, 0.7])
    covs[20:] = scale @ covs[20:] @ scale
    shrink = np.diag([0.03, 1.0, 1.0, 1.0])
    covs[[0, 1, 20, 21]] = shrink @ covs[[0, 1, 20, 21]] @ shrink
    at = _upload("outliers.npz", _npz(covs=covs, y=np.repeat([0, 1], 20)))
    assert_clean(at)
    at = _small_training(at, ["riemann", "wasserstein"], hidden=4)
    at.button(key="tr-run").click().run()
    _run_until_trained(at)
    folding = [w.value for w in at.warning if "folding in" in w.value]
    assert len(folding) == 1 and folding[0].startswith("BW-BN, seed 0: folding in 2 of 2 epochs")
    assert "(1 of 1 seeds of BW-BN folded.)" in folding[0]
    table = _summary(at)
    assert list(table["runs that folded"]) == [0, 1] and table["most folded in a batch (%)"].iloc[1] > 0
    curves = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert "Folded in BW batch norm" in [a["text"] for a in curves["layout"]["annotations"]]
    (folded,) = [t for t in curves["data"] if t.get("xaxis") == "x3" and t["name"] == "BW-BN"]
    percent = np.frombuffer(base64.b64decode(folded["y"]["bdata"]), dtype=folded["y"]["dtype"])
    np.testing.assert_allclose(percent, 10.0)  # 3 of the 30 training matrices, in each epoch


def test_uploaded_raw_trials_train_export_and_rerun_from_their_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """64-channel raw trials (45, as a real motor-imagery run), labelled: OAS covariances, training, export, rerun."""
    from tests.io.test_spd import eeg_like_trials

    downloads = Downloads(monkeypatch)
    data = _npz(trials=eeg_like_trials(), y=np.repeat(["left", "right", "left"], 15))
    at = _upload("s001.npz", data)
    assert_clean(at)
    assert "45 raw trials of 64 channels × 321 samples" in at.sidebar.info[0].value
    assert at.sidebar.selectbox(key="spd-trial-estimator").value == "oas"
    assert any(c.value == "45 matrices of 64 × 64." for c in at.caption)
    at.multiselect(key="bn-metrics").set_value(["riemann", "gbw_theta"]).run()
    at = _small_training(at, ["none", "gbw_theta"], hidden=4)
    at.button(key="tr-run").click().run()
    _run_until_trained(at)
    assert at.query_params["source"] == "upload" and at.query_params["train"] == "true"
    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    (folder / "s001.npz").write_bytes(data)
    done = rerun_script(folder)
    assert done.returncode == 0, done.stderr
    assert {"bn_riemann", "bn_spectra_gbw_theta", "training_summary"} <= _assert_same_tables(folder)
    (folder / "s001.npz").write_bytes(data[:1000] + bytes([data[1000] ^ 1]) + data[1001:])
    refused = rerun_script(folder)
    assert refused.returncode == 1 and "differs from the one" in refused.stderr and "Traceback" not in refused.stderr

    reopened = _page({k: v for k, v in at.query_params.items() if k != JOB})
    assert not reopened.exception
    assert "This link was made for 's001.npz'" in reopened.info[0].value


def test_non_symmetric_upload_gives_a_clear_error() -> None:
    covs = np.stack([np.eye(3)] * 4)
    covs[1, 0, 2] = 0.5
    buffer = io.BytesIO()
    np.save(buffer, covs)
    at = _upload("bad.npy", buffer.getvalue())
    assert not at.exception
    assert len(at.error) == 1 and "symmetric" in at.error[0].value.lower()
