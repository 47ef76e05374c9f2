"""`python -m covwb.batch acm`: recordings on disk -> one Dask job -> a CSV in MOABB's results layout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd
import pytest

from covwb import batch
from covwb.datasets.simulated_eeg import simulate_motor_imagery
from covwb.eeg.evaluation import SearchGrid, evaluate
from covwb.eeg.events import find_trial_events
from covwb.eeg.sessions import combine_recordings, session_epochs
from covwb.jobs import cluster

FAST = ["--orders", "1-2", "--lags", "1,3", "--svm-c", "1", "--kernels", "linear", "--folds", "3", "--inner-folds", "2"]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two subjects' simulated recordings (22 channels, 250 Hz, 2 sessions of 2 x 12 trials) saved as FIF."""
    folder = tmp_path_factory.mktemp("BatchStudy")
    paths = []
    for subject in (1, 2):
        dataset = simulate_motor_imagery(seed=subject, n_trials_per_class=12, n_sessions=2)
        path = folder / f"sub-{subject:02d}_raw.fif"
        dataset.raw.save(path, verbose="error")
        paths.append(path)
    return paths


@pytest.fixture
def on_session_cluster(dask_client: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The address of the session's local cluster; the batch's own client and settings are undone after."""
    monkeypatch.setattr(cluster, "_client", None)
    monkeypatch.setattr(cluster, "_helper", None)
    monkeypatch.setattr(cluster, "_settings", {"scheduler": None, "n_workers": None})
    return dask_client.scheduler.address


def test_acm_batch_writes_moabb_rows_equal_to_evaluating_each_session(
    recordings: list[Path], on_session_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "results" / "acm.csv"
    argv = ["acm", str(recordings[1]), "--pipelines", "acm_ts_svm", "ts_svm", *FAST, "--output", str(out)]
    status = batch.main([*argv, "--scheduler", on_session_cluster])
    assert status == 0, capsys.readouterr().err
    frame = pd.read_csv(out, dtype={"subject": str, "session": str})
    assert list(frame.columns) == [*batch.MOABB_COLUMNS, *batch.EXTRA_COLUMNS]
    assert len(frame) == 2 * 2  # sessions x pipelines
    assert set(frame["subject"]) == {"sub-02_raw"} and set(frame["session"]) == {"1", "2"}
    assert (frame["samples"] == 24).all() and (frame["samples_test"] == 8).all()
    assert (frame["n_classes"] == 2).all() and (frame["channels"] == 22).all() and (frame["n_sessions"] == 2).all()
    assert (frame["dataset"] == recordings[0].parent.name).all() and (frame["metric"] == "roc_auc").all()
    assert frame["score"].between(0, 1).all() and (frame["time"] > 0).all()
    acm = frame[frame["pipeline"] == "ACM + TS + SVM"]
    assert acm["order"].isin([1, 2]).all() and acm["lag"].isin([1, 3]).all()
    assert frame.loc[frame["pipeline"] == "TS + SVM", ["order", "lag"]].isna().all().all()

    # Oracle: the public evaluate() on the second session alone, with the same settings.
    raw = [mne.io.read_raw_fif(recordings[1], preload=True, verbose="error")]
    recording = combine_recordings(raw, [], ["sub-02"])
    events = find_trial_events(recording.raw)
    epochs = session_epochs(recording, events, classes=["left_hand", "right_hand"], tmin=0.5, tmax=2.5, band=(8, 35))
    mask = epochs.sessions == "2"
    direct = evaluate(
        epochs.X[mask],
        epochs.y[mask],
        epochs.sessions[mask],
        ["acm_ts_svm", "ts_svm"],
        n_folds=3,
        grid=SearchGrid(orders=(1, 2), lags=(1, 3), svm_C=(1.0,), kernels=("linear",)),
        estimator="oas",
        inner_folds=2,
        seed=42,
    )
    mine = frame[(frame["subject"] == "sub-02_raw") & (frame["session"] == "2")].set_index("pipeline")
    for label, folds in direct.scores.groupby("pipeline"):
        assert mine.loc[label, "score"] == np.mean(folds["roc_auc"].to_numpy())  # exact: the same tasks ran
    acm = direct.scores[direct.scores["pipeline"] == "ACM + TS + SVM"]
    assert mine.loc["ACM + TS + SVM", "order"] == batch._most_chosen(acm["order"].to_numpy(float))

    settings = json.loads(out.with_name("acm.settings.json").read_text())["settings"]
    assert settings["estimator"] == "oas" and settings["orders"] == [1, 2] and settings["lags_samples"] == [1, 3]
    assert all(len(digest) == 64 for digest in settings["files"].values())


def test_cross_session_rows_name_the_test_session(
    recordings: list[Path], on_session_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "cross.csv"
    argv = ["acm", *map(str, recordings), "--pipelines", "ts_svm", *FAST, "--evaluation", "cross", "--output", str(out)]
    argv += ["--subjects", "A", "B", "--dataset", "Sim2", "--scheduler", on_session_cluster]
    assert batch.main(argv) == 0, capsys.readouterr().err
    frame = pd.read_csv(out, dtype={"subject": str, "session": str})
    assert sorted(zip(frame["subject"], frame["session"])) == [("A", "1"), ("A", "2"), ("B", "1"), ("B", "2")]
    assert (frame["samples"] == 24).all() and (frame["samples_test"] == 24).all() and (frame["dataset"] == "Sim2").all()


def test_recordings_of_one_subject_are_joined_with_their_session_labels(
    recordings: list[Path], on_session_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "joined.csv"
    argv = ["acm", *map(str, recordings), "--pipelines", "ts_svm", *FAST, "--evaluation", "cross"]
    argv += ["--subjects", "S", "S", "--sessions", "day1", "day2", "--output", str(out)]
    assert batch.main([*argv, "--scheduler", on_session_cluster]) == 0, capsys.readouterr().err
    frame = pd.read_csv(out, dtype={"subject": str, "session": str})
    assert sorted(frame["session"]) == ["day1", "day2"] and set(frame["subject"]) == {"S"}
    assert (frame["samples"] == 48).all() and (frame["samples_test"] == 48).all() and (frame["n_sessions"] == 2).all()


def test_an_evaluation_that_fails_on_its_data_is_listed_and_the_others_are_written(
    recordings: list[Path], on_session_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    small = tmp_path / "small_raw.fif"
    simulate_motor_imagery(seed=3, n_trials_per_class=3, n_sessions=1).raw.save(small, verbose="error")
    out = tmp_path / "within.csv"
    argv = ["acm", str(recordings[0]), str(small), "--pipelines", "ts_svm", *FAST, "--folds", "4", "--output", str(out)]
    assert batch.main([*argv, "--scheduler", on_session_cluster]) == 1
    err = capsys.readouterr().err
    assert "Not evaluated: subject small_raw, session 1: " in err and "Traceback" not in err
    frame = pd.read_csv(out, dtype={"subject": str, "session": str})
    assert set(frame["subject"]) == {"sub-01_raw"} and len(frame) == 2


def test_the_batch_is_one_plan_of_every_sessions_search_tasks(recordings: list[Path]) -> None:
    """The grain is plan_evaluation's (outer fold x order x lag), merged over sessions, not one task per session."""
    from covwb.eeg.evaluation import plan_evaluation
    from covwb.jobs import run_plan

    args = batch.build_parser().parse_args(["acm", *map(str, recordings), *FAST, "--pipelines", "acm_ts_svm"])
    subjects, failures = batch._epochs_by_subject(args, batch.recording_files(args.files))
    assert failures == [] and list(subjects) == ["sub-01_raw", "sub-02_raw"]
    grid = SearchGrid(orders=(1, 2), lags=(1, 3), svm_C=(1.0,), kernels=("linear",))
    options = {"pipelines": ["acm_ts_svm"], "n_folds": 3, "grid": grid, "inner_folds": 2, "seed": 42}
    plan = batch.plan_acm_batch(subjects, options=options, scheme="within", dataset="d", settings={})
    one = plan_evaluation(subjects["sub-01_raw"].X[:24], subjects["sub-01_raw"].y[:24], np.full(24, "1"), **options)
    units = ["subject sub-01_raw, session 1", "subject sub-01_raw, session 2", "subject sub-02_raw, session 1"]
    units.append("subject sub-02_raw, session 2")
    assert len(plan.tasks) == 4 * len(one.tasks)
    assert {t.key for t in plan.tasks} == {f"{u}/{t.key}" for u in units for t in one.tasks}
    assert [t.key.split("/")[0] for t in plan.tasks[:4]] == units  # every session's cheap first task comes first
    result = run_plan(plan)
    assert len(result.results) == 4 and result.failures == ()


def test_a_bad_file_is_one_sentence_and_the_others_are_evaluated(
    recordings: list[Path], on_session_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bogus = tmp_path / "notes.edf"
    bogus.write_bytes(b"0       not an EDF header at all" * 10)
    out = tmp_path / "some.csv"
    argv = ["acm", str(bogus), str(recordings[0]), "--pipelines", "ts_svm", *FAST, "--output", str(out)]
    assert batch.main([*argv, "--scheduler", on_session_cluster]) == 1
    err = capsys.readouterr().err
    named = [line for line in err.splitlines() if "notes.edf" in line]
    assert len(named) == 1 and named[0].startswith("Not evaluated: notes.edf: ") and "Traceback" not in err
    assert set(pd.read_csv(out, dtype={"subject": str})["subject"]) == {"sub-01_raw"}


def test_nothing_readable_is_exit_status_1_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not EEG")
    out = tmp_path / "never.csv"
    assert batch.main(["acm", str(bogus), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Not evaluated: notes.txt: " in err and "nothing was written" in err and not out.exists()


@pytest.mark.parametrize(
    ("extra", "status", "message"),
    [
        (["--subjects", "only-one"], 2, "covwb.batch: --subjects gives 1 labels for 2 recordings"),
        (["--classes", "left_hand", "tongue"], 1, "Not evaluated: subject sub-01_raw"),
    ],
)
def test_a_wrong_command_line_is_exit_status_2_and_unusable_data_1(
    recordings: list[Path], extra: list[str], status: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "never.csv"
    assert batch.main(["acm", *map(str, recordings), *extra, "--output", str(out)]) == status
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_a_missing_file_is_a_wrong_command_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert batch.main(["acm", str(tmp_path / "missing.edf")]) == 2
    assert "missing.edf' is not a file" in capsys.readouterr().err


def test_help_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "covwb.batch", "acm", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert "MOABB's results layout" in result.stdout and "--scheduler ADDRESS" in result.stdout
    assert "exit status: 0 every recording was evaluated" in result.stdout
