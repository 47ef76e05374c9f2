"""The augmented-covariance page as a person uses it: jobs on built-in data and uploads, links, exports, bad input.

The evaluation runs as a background job on the local Dask cluster: a test presses Run, sees the page return
with a progress bar, and reruns the page (as its polling fragment does) until the result is shown.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from covwb import jobs
from covwb.eeg.analysis import ACMSettings, UploadedRecordings
from covwb.sources import BuiltinSource
from tests.app.exports import Downloads, rerun_script
from tests.app.helpers import assert_clean, charts, widget

REPO = Path(__file__).resolve().parents[2]
PAGE = str(REPO / "pages" / "2_EEG_augmented_covariance.py")
ZIP_NAME = "EEG_augmented_covariance_analysis.zip"
JOB = "acm_job"
FEW_CHANNELS = ["FC3", "C3", "CP3", "Cz", "FC4", "C4", "CP4", "Pz"]
TIMING_COLUMNS = ("seconds",)
"""Columns that hold compute times: the only numbers of the tables that differ between two runs."""


def _page(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params.update(query)
    return at.run()


def _small(at: AppTest, pipelines: list[str], *, channels: list[str] | None = FEW_CHANNELS) -> None:
    """A quick configuration: few channels, 1 s epochs, a 2 x 2 grid, one SVM setting, 3 x 2 folds."""
    if channels is not None:
        widget(at.multiselect, "Channels").set_value(channels)
        at.number_input(key="acm-tmax").set_value(1.5)
    at.multiselect(key="acm-pipelines").set_value(pipelines)
    at.slider(key="acm-orders").set_value((1, 2))
    at.slider(key="acm-lags").set_value((1, 2))
    at.multiselect(key="acm-svmc").set_value([1.0])
    at.multiselect(key="acm-kernels").set_value(["linear"])
    at.number_input(key="acm-folds").set_value(3)
    at.number_input(key="acm-inner").set_value(2)


def _headers(at: AppTest) -> list[str]:
    return [h.value for h in at.header]


def _run_until_done(at: AppTest, timeout: float = 400) -> AppTest:
    """Rerun the page, as its polling fragment does, until the result shows; fail on an error or after timeout."""
    deadline = time.monotonic() + timeout
    while "Scores" not in _headers(at):
        assert_clean(at)
        assert time.monotonic() < deadline, [str(getattr(e, "value", "")) for e in at.main]
        time.sleep(0.5)
        at.run()
    assert_clean(at)
    return at


def _job(at: AppTest) -> str:
    value = at.query_params[JOB]
    return value[0] if isinstance(value, list) else value


def _upload(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    at.sidebar.radio(key="acm-origin").set_value("Upload").run()
    uploader = at.sidebar.get("file_uploader")[0]
    uploader.set_value([(name, data, "application/octet-stream") for name, data in files])
    return at.run()


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def _exported_settings(folder: Path) -> ACMSettings:
    return ACMSettings.from_dict(json.loads((folder / "provenance.json").read_text())["settings"])


def _assert_same_tables(folder: Path) -> set[str]:
    """The script's tables against the page's: byte-identical but for compute times (returned: tables with them)."""
    page = sorted((folder / "tables").glob("*.csv"))
    assert page and {p.name for p in (folder / "results").glob("*.csv")} == {p.name for p in page}
    timed = set()
    for path in page:
        if (folder / "results" / path.name).read_bytes() == path.read_bytes():
            continue
        left, right = pd.read_csv(path), pd.read_csv(folder / "results" / path.name)
        assert list(left.columns) == list(right.columns), path.name
        times = [c for c in TIMING_COLUMNS if c in left.columns]
        assert times, f"{path.name} differs and holds no compute time"
        pd.testing.assert_frame_equal(left.drop(columns=times), right.drop(columns=times), check_exact=True)
        timed.add(path.stem)
    return timed


# --------------------------------------------------------------------------- built-in data


def test_builtin_recording_runs_as_a_job_exports_and_reopens_from_its_link(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    downloads = Downloads(monkeypatch)
    at = _page()
    assert_clean(at)
    assert "Run evaluation" in at.info[0].value
    assert at.selectbox(key="acm-est").value == "oas"
    _small(at, ["acm_ts_svm", "ts_svm", "csp_lda"])
    at.run()
    assert_clean(at)
    assert any(c.startswith("160 epochs × 8 channels × 251 samples in 2 session(s)") for c in _captions(at))

    # Run returns at once with the job's progress; the job id goes into the link
    at.button(key="acm-run").click().run()
    assert_clean(at)
    job_id = _job(at)
    (bar,) = at.get("progress")
    assert bar.proto.text.startswith("ACM evaluation: ") and "Scores" not in _headers(at)
    # another setting neither cancels the job nor starts one; the page says the job computes the earlier settings
    at.number_input(key="acm-seed").set_value(43).run()
    assert _job(at) == job_id and jobs.info(job_id).status != "cancelled"
    at.number_input(key="acm-seed").set_value(42).run()
    _run_until_done(at)
    assert _job(at) == job_id and jobs.info(job_id).status == "done"

    # what ran and why, nothing to warn about with OAS on the built-in recording
    (note,) = [
        c for c in _captions(at) if c.startswith("Covariances: Oracle approximating shrinkage (OAS), the default.")
    ]
    assert "so every order of the grid gives well-conditioned SPD matrices: the largest matrices have 16 rows" in note
    assert not at.warning
    assert {"Scores", "Order × lag search", "Takens curves", "Predictions", "Covariance views"} <= set(_headers(at))
    summary = at.dataframe[0].value
    assert list(summary["pipeline"]) == ["ACM + TS + SVM", "TS + SVM", "CSP + LDA"]
    assert (summary["roc_auc_mean"] > 0.8).all()
    assert len(at.tabs) == 3  # one confusion matrix per pipeline

    # the export reruns to the same tables in a fresh interpreter
    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    settings = _exported_settings(folder)
    assert settings.source == BuiltinSource("simulated_eeg") and settings.orders == (1, 2)
    assert settings.epochs.channels == tuple(FEW_CHANNELS) and settings.epochs.classes == ("left_hand", "right_hand")
    done = rerun_script(folder, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _assert_same_tables(folder) == {"fold_scores"}
    report = (folder / "report.html").read_text()
    assert report.count('class="figure"') == charts(at) >= 9

    # the link reopens the same view: a new session finds the job and shows its result without pressing Run
    link = dict(at.query_params)
    assert link["source"] == "builtin" and link[JOB] == job_id and link["orders"] == "[1,2]"
    again = _page(**link)
    assert_clean(again)
    assert "Scores" in _headers(again)
    pd.testing.assert_frame_equal(again.dataframe[0].value, summary)
    assert widget(again.multiselect, "Channels").value == FEW_CHANNELS
    assert again.query_params == at.query_params
    assert _exported_settings(downloads.analysis(ZIP_NAME, tmp_path / "again")) == settings


def _progress(at: AppTest) -> tuple[int, str]:
    """The job's progress bar: percent done and the step it names."""
    (bar,) = at.get("progress")
    return bar.proto.value, bar.proto.text


def test_a_reload_finds_a_running_job_whose_progress_moves_and_cancel_ends_it() -> None:
    """The default evaluation (minutes of work): reloaded while it runs, its bar moves, cancelled from both sessions."""
    at = _page()
    at.button(key="acm-run").click().run()
    assert_clean(at)
    job_id = _job(at)
    reloaded = _page(**dict(at.query_params))  # a new session, as after a browser reload
    assert_clean(reloaded)
    assert _job(reloaded) == job_id and reloaded.get("progress")
    assert "Choose the settings" not in " ".join(i.value for i in reloaded.info)

    # the bar moves within seconds of the start, naming the search's finished step and the time left
    seen = [_progress(reloaded)]
    deadline = time.monotonic() + 90
    while len({text for _, text in seen if " done (" in text}) < 2:
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)
        seen.append(_progress(reloaded.run()))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] > 0, seen
    step = seen[-1][1]
    assert step.startswith("ACM evaluation: order × lag search: outer fold ") and " left)" in step, step

    for session in (at, reloaded):  # a built-in job goes on while any session that started it wants it
        session.button(key="acm-job-cancel").click().run()
        assert any("was cancelled" in i.value for i in session.info)
        assert JOB not in session.query_params
    assert jobs.default_registry().wait(job_id, timeout=60).status == "cancelled"
    at.run()
    assert not at.get("progress") and "Scores" not in _headers(at)
    assert any("press **Run evaluation**" in i.value for i in at.info)


def test_means_that_stop_without_converging_are_shown_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's result replaced by the same settings' result whose view means stalled (forced here, in-process)."""
    import warnings

    import covwb.eeg.evaluation as evaluation
    from covwb.eeg.analysis import analyse_acm

    at = _page()
    _small(at, ["mdm"])
    at.number_input(key="acm-folds").set_value(2)
    at.button(key="acm-run").click().run()
    _run_until_done(at)
    assert not at.warning
    job_id = _job(at)
    original_means, original_result = evaluation.class_means, jobs.result

    def stalling(covs, y):
        warnings.warn(
            "Karcher mean: gradient norm 1.00e-06 > tol 1e-08 after 50 evaluations.", RuntimeWarning, stacklevel=2
        )
        return original_means(covs, y)

    monkeypatch.setattr(evaluation, "class_means", stalling)
    stalled = analyse_acm(original_result(job_id).settings)
    monkeypatch.setattr(jobs, "result", lambda i: stalled if i == job_id else original_result(i))
    at.run()
    assert_clean(at)
    (note,) = [w.value for w in at.warning]
    assert "Riemannian means of the covariance views (class means, tangent map) stopped without converging" in note
    assert "treat those views as approximate. Choose a lower order, or check the recording" in note


def test_bad_link_values_give_a_message_and_the_defaults() -> None:
    at = _page(
        **{
            "estimator": "lda",
            "orders": "[0,99]",
            "scheme": "sideways",
            "epochs.tmax": "oops",
            "seed": "7",
            JOB: "not-a-job",
        }
    )
    assert not at.exception and not at.error
    notes = [w.value for w in at.warning]
    assert len(notes) == 4, notes
    assert notes[0].startswith("The link's Epochs was not used") and "Window end" in notes[0]
    assert "Covariance estimator" in notes[1] and "'oas'" in notes[1]
    assert "Orders m" in notes[2] and "Evaluation" in notes[3]
    assert at.selectbox(key="acm-est").value == "oas" and at.slider(key="acm-orders").value == (1, 4)
    assert at.number_input(key="acm-seed").value == 7 and at.number_input(key="acm-tmax").value == 2.5
    assert any("The job in this page's link is gone" in i.value for i in at.info)
    assert JOB not in at.query_params and "estimator" not in at.query_params and at.query_params["seed"] == "7"
    at.run()
    assert not at.warning


def test_a_window_past_the_next_event_is_a_warning_before_any_run() -> None:
    """Trials of the built-in recording start every 6.0-7.0 s: a window to 7 s holds the start of the next one."""
    at = _page()
    assert not at.warning
    at.number_input(key="acm-tmax").set_value(7.0).run()
    assert_clean(at)
    notes = [w.value for w in at.warning]
    assert len(notes) == 2 and [n[:13] for n in notes] == ["Session '1': ", "Session '2': "], notes
    assert all("runs past the next event in 79 of 79 epochs" in n and "end the window before 6.0" in n for n in notes)
    assert JOB not in at.query_params


def test_single_class_is_a_clear_message() -> None:
    at = _page()
    widget(at.multiselect, "Classes").set_value(["left_hand"]).run()
    assert not at.exception
    assert len(at.error) == 1 and "two classes" in at.error[0].value


def test_window_outside_the_recording_is_a_clear_message() -> None:
    at = _page()
    at.number_input(key="acm-tmin").set_value(1000.0)
    at.number_input(key="acm-tmax").set_value(1002.0).run()
    assert not at.exception
    assert len(at.error) == 1


def test_epochs_too_short_for_the_grid_is_a_clear_message_before_any_job() -> None:
    at = _page()
    at.number_input(key="acm-tmin").set_value(0.5)
    at.number_input(key="acm-tmax").set_value(0.6)
    at.multiselect(key="acm-pipelines").set_value(["acm_mdm"])
    at.slider(key="acm-orders").set_value((1, 10))
    at.slider(key="acm-lags").set_value((10, 10))
    at.button(key="acm-run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "too short" in at.error[0].value
    assert JOB not in at.query_params


def test_orders_with_more_rows_than_samples_are_refused_only_for_the_sample_estimator() -> None:
    at = _page()
    widget(at.multiselect, "Channels").set_value(FEW_CHANNELS)
    at.number_input(key="acm-tmin").set_value(0.5)
    at.number_input(key="acm-tmax").set_value(0.7)
    at.multiselect(key="acm-pipelines").set_value(["acm_mdm"])
    at.selectbox(key="acm-est").set_value("sample")
    at.slider(key="acm-orders").set_value((4, 4))
    at.slider(key="acm-lags").set_value((5, 5))
    at.button(key="acm-run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "31 samples for 32 rows; choose the OAS estimator" in at.error[0].value
    at.selectbox(key="acm-est").set_value("oas")
    at.number_input(key="acm-folds").set_value(2)
    at.number_input(key="acm-inner").set_value(2)
    at.button(key="acm-run").click().run()
    _run_until_done(at)
    assert list(at.dataframe[1].value["order"]) == [4, 4]


# --------------------------------------------------------------------------- uploads


def _edf_run(seed: int, *, dotted: bool = False) -> bytes:
    """One run of the simulated recording (8 trials per class) written as EDF+ with its annotations.

    ``dotted``: channel labels padded with dots to four characters, as PhysioNet EEGMMIDB writes them ('Fc3.').
    """
    from covwb.datasets.simulated_eeg import simulate_motor_imagery
    from tests.io.eeg_files import edf_bytes

    raw = simulate_motor_imagery(seed=seed, n_trials_per_class=8, n_sessions=1).raw
    if dotted:
        raw.rename_channels({c: (c[0] + c[1:].lower()).ljust(4, ".") for c in raw.ch_names})
    sfreq = int(raw.info["sfreq"])
    n_times = raw.n_times // sfreq * sfreq
    annotations = [
        (float(onset), float(duration), str(text))
        for onset, duration, text in zip(raw.annotations.onset, raw.annotations.duration, raw.annotations.description)
    ]
    return edf_bytes(raw.get_data()[:, :n_times] * 1e6, raw.ch_names, sfreq, annotations)


def test_edf_labels_padded_with_dots_are_standardised_and_said() -> None:
    at = _upload(_page(), [("S001R04.edf", _edf_run(1, dotted=True))])
    assert_clean(at)
    channels = widget(at.multiselect, "Channels")
    assert set(FEW_CHANNELS) <= set(channels.options) and not any(c.endswith(".") for c in channels.options)
    report = " ".join(t.value for t in at.text)
    assert "22 channel labels ended in dots" in report and "'Fcz.' -> 'FCz'" in report
    assert "Positions from the standard 10-20 montage were set for 22 of 22 channels" in report
    _small(at, ["mdm"])
    at.run()
    assert_clean(at)
    assert any(c.startswith("16 epochs × 8 channels") for c in _captions(at))


def test_two_uploaded_edf_runs_as_sessions_export_rerun_from_their_files_and_reopen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    downloads = Downloads(monkeypatch)
    files = [("run1.edf", _edf_run(1)), ("run2.edf", _edf_run(2))]
    at = _upload(_page(), files)
    assert_clean(at)
    at.text_input(key="acm-session-1").set_value("2")
    at.radio(key="acm-scheme").set_value("cross")
    _small(at, ["acm_mdm", "ts_svm"])
    at.button(key="acm-run").click().run()
    _run_until_done(at)
    folds = at.dataframe[1].value
    assert sorted(folds["test_session"].unique()) == ["1", "2"]
    link = dict(at.query_params)
    assert link["source"] == "recordings" and link["scheme"] == "cross" and '"run2.edf"' in link["source.runs"]

    folder = downloads.analysis(ZIP_NAME, tmp_path / "export")
    settings = _exported_settings(folder)
    assert isinstance(settings.source, UploadedRecordings) and settings.source.sessions == ("1", "2")
    assert "uploaded file" in (folder / "analysis.py").read_text()
    for name, data in files:
        (folder / name).write_bytes(data)
    done = rerun_script(folder, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _assert_same_tables(folder) == {"fold_scores"}
    changed = bytearray(files[1][1])
    changed[len(changed) // 2] ^= 1  # one bit of one sample
    (folder / "run2.edf").write_bytes(bytes(changed))
    refused = rerun_script(folder, timeout=600)
    assert refused.returncode == 1 and "differs from the one" in refused.stderr and "Traceback" not in refused.stderr

    # the link waits for the same files, then finds the (private) job by its id and shows the result
    reopened = _page(**link)
    assert not reopened.exception
    assert reopened.sidebar.radio(key="acm-origin").value == "Upload"
    assert "This link was made for 'run1.edf'" in reopened.sidebar.info[0].value
    reopened.sidebar.get("file_uploader")[0].set_value([(n, d, "application/octet-stream") for n, d in files])
    reopened.run()
    assert_clean(reopened)
    assert reopened.text_input(key="acm-session-1").value == "2"
    assert "Scores" in _headers(reopened)
    pd.testing.assert_frame_equal(reopened.dataframe[1].value, folds)


def test_ill_conditioned_64_channel_upload_shows_a_warning_with_what_to_do(tmp_path: Path) -> None:
    from covwb.datasets.simulated_eeg import simulate_motor_imagery

    raw = simulate_motor_imagery(seed=4, n_trials_per_class=8, n_sessions=1, sfreq=160.0, layout="eegmmidb").raw
    path = tmp_path / "sixty_four.fif"
    raw.save(path, verbose="error")
    at = _upload(_page(), [(path.name, path.read_bytes())])
    assert_clean(at)
    at.selectbox(key="acm-est").set_value("sample")
    at.multiselect(key="acm-pipelines").set_value(["acm_ts_svm"])
    at.slider(key="acm-orders").set_value((4, 4))
    at.slider(key="acm-lags").set_value((5, 5))
    at.multiselect(key="acm-svmc").set_value([1.0])
    at.multiselect(key="acm-kernels").set_value(["linear"])
    at.number_input(key="acm-folds").set_value(2)
    at.number_input(key="acm-inner").set_value(2)
    at.button(key="acm-run").click().run()
    _run_until_done(at)
    assert any(c.startswith("Covariances: Sample (unbiased), as chosen") for c in _captions(at))
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2, warnings
    (conditioning,) = [w for w in warnings if "ill-conditioned" in w]
    assert "at order 4, lag 5" in conditioning and "use the OAS estimator" in conditioning
    (estimator,) = [w for w in warnings if w.startswith("Covariances: Sample")]
    assert "256 rows estimated from 301 samples" in estimator and "use OAS" in estimator


@pytest.mark.shared_data
def test_eeglab_upload_square_vs_rt(shared_data: Path) -> None:
    at = _page()
    at = _upload(at, [(n, (shared_data / "eeg" / n).read_bytes()) for n in ("test_raw.set", "test_raw.fdt")])
    assert_clean(at)
    widget(at.multiselect, "Classes").set_value(["square", "rt"])
    at.number_input(key="acm-tmin").set_value(0.0)
    at.number_input(key="acm-tmax").set_value(1.0)
    _small(at, ["acm_ts_svm", "mdm"], channels=None)
    at.button(key="acm-run").click().run()
    _run_until_done(at)
    assert len(at.dataframe[0].value) == 2


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["test_reduced.edf", "test_bdf_stim_channel.bdf"])
def test_recordings_with_too_few_trials_explain_why(shared_data: Path, name: str) -> None:
    at = _upload(_page(), [(name, (shared_data / "eeg" / name).read_bytes())])
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    assert "trial" in at.error[0].value


def test_results_of_an_upload_stay_with_the_session_that_submitted_them(tmp_path: Path) -> None:
    """Another session uploading the same file and pressing Run gets a job of its own, not the first one's."""
    files = [("run1.edf", _edf_run(3))]
    first = _upload(_page(), files)
    _small(first, ["mdm"])
    first.number_input(key="acm-folds").set_value(2)
    first.button(key="acm-run").click().run()
    _run_until_done(first)
    second = _upload(_page(), files)
    _small(second, ["mdm"])
    second.number_input(key="acm-folds").set_value(2)
    second.run()
    assert "Scores" not in _headers(second)  # the same settings: nothing shown before this session's own Run
    second.button(key="acm-run").click().run()
    assert _job(second) != _job(first)
    _run_until_done(second)
    np.testing.assert_array_equal(second.dataframe[0].value.to_numpy(), first.dataframe[0].value.to_numpy())
