"""covwb.explore: the explorer's one call, checked against direct calls and references, on realistic inputs."""

from __future__ import annotations

import dataclasses
import warnings

import mne
import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import OAS

import covwb.explore
from covwb.covariance.estimators import covariances
from covwb.datasets.simulated_eeg import simulate_motor_imagery
from covwb.datasets.types import EEGDataset, SPDStack, TableDataset
from covwb.eeg.epochs import EpochSettings, extract_epochs
from covwb.errors import ParameterError
from covwb.explore import ExplorerSettings, RecordingExploration, StackExploration, TableExploration, explore
from covwb.plots.explorer import explorer_figures
from covwb.sources import SIMULATED_EEG, BuiltinSource

POTTERY = ExplorerSettings(source=BuiltinSource("pottery"))


class CountingMemo:
    """A dict memo that counts what it computed, by step name."""

    def __init__(self) -> None:
        self.values: dict = {}
        self.computed: list[str] = []

    def __call__(self, key, compute):
        if key not in self.values:
            self.computed.append(key[0])
            self.values[key] = compute()
        return self.values[key]


def table_with_gaps() -> TableDataset:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(80, 4)) @ rng.normal(size=(4, 4)), columns=["w", "x", "y", "z"])
    frame.loc[[3, 17, 40], "x"] = np.nan
    frame["site"] = ["a", "b"] * 40
    return TableDataset(name="gaps", frame=frame, source="test")


def test_table_covariance_matches_scikit_learn_on_complete_rows() -> None:
    data = table_with_gaps()
    result = explore(POTTERY.replace(columns=("w", "x", "z"), estimator="oas"), data)
    assert isinstance(result, TableExploration) and result.stopped is None
    complete = data.frame[["w", "x", "z"]].dropna().to_numpy()
    np.testing.assert_allclose(result.covariance, OAS().fit(complete).covariance_, rtol=1e-12)
    assert (result.n_rows, result.n_complete) == (80, 77)
    assert result.warnings == (
        "3 of 80 rows have a missing value in the chosen columns and were left out (complete-case analysis); "
        "fewer columns keep more rows.",
    )
    tables = result.tables()
    assert list(tables["covariance"].columns) == ["w", "x", "z"]
    assert tables["covariance_summary"].iloc[0]["rows_used"] == 77
    assert list(tables["summary"].index) == ["w", "x", "y", "z", "site"]


def test_automatic_values_are_made_explicit_and_foreign_ones_replaced() -> None:
    data = table_with_gaps()
    resolved, notes = POTTERY.replace(epochs=EpochSettings(tmin=1.0), channels=("C3",)).resolve(data)
    assert resolved == POTTERY.replace(columns=("w", "x", "y", "z"))
    assert notes == ()
    resolved, notes = POTTERY.replace(columns=("w", "Al2O3")).resolve(data)
    assert resolved.columns == ("w", "x", "y", "z")
    assert notes == ("The table has no numeric column 'Al2O3'; the page uses its first numeric columns.",)
    with pytest.raises(ParameterError, match="no numeric column 'Al2O3'"):
        explore(POTTERY.replace(columns=("w", "Al2O3")), data)


def test_p_larger_than_n_with_the_sample_estimator_is_flagged_not_hidden() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.poisson(0.3, size=(20, 64)).astype(float), columns=[f"{i}" for i in range(64)])
    data = TableDataset(name="counts", frame=frame, source="test")
    columns = tuple(frame.columns)
    sample = explore(POTTERY.replace(columns=columns), data)
    assert not sample.spectrum.is_positive_definite
    assert any("ill-conditioned (condition number up to infinite (singular)" in w for w in sample.warnings)
    shrunk = explore(POTTERY.replace(columns=columns, estimator="oas"), data)
    assert shrunk.spectrum.is_positive_definite and shrunk.warnings == ()


def test_a_table_without_two_numeric_columns_stops_with_the_reason() -> None:
    frame = pd.DataFrame({"name": ["a", "b", "c"], "value": [1.0, 2.0, 4.0]})
    result = explore(POTTERY, TableDataset(name="t", frame=frame, source="test"))
    assert result.stopped == "This table has fewer than two numeric columns, so there is no covariance to show."
    assert list(result.tables()) == ["summary"]


def test_changing_one_setting_recomputes_only_the_steps_that_read_it() -> None:
    memo = CountingMemo()
    data = POTTERY.source.load()
    first = explore(POTTERY, data, memo=memo)
    again = explore(POTTERY, data, memo=memo)
    assert memo.computed == ["summary", "covariance"]
    np.testing.assert_array_equal(first.covariance, again.covariance)
    explore(POTTERY.replace(estimator="ledoit_wolf"), data, memo=memo)
    assert memo.computed == ["summary", "covariance", "covariance"]


@pytest.fixture(scope="module")
def small_recording() -> EEGDataset:
    return simulate_motor_imagery(seed=1, n_trials_per_class=6, n_sessions=1, trial_duration=2.0)


def test_recording_epochs_and_covariances_follow_the_settings(small_recording: EEGDataset) -> None:
    settings = ExplorerSettings(
        source=BuiltinSource(SIMULATED_EEG, seed=1),
        epochs=EpochSettings(tmin=0.25, tmax=1.75, band=(8.0, 30.0)),
        estimator="ledoit_wolf",
        metrics=("logeuclid", "euclid"),
    )
    memo = CountingMemo()
    result = explore(settings, small_recording, memo=memo)
    assert isinstance(result, RecordingExploration) and result.stopped is None and result.warnings == ()
    assert result.settings.epochs.classes == ("left_hand", "right_hand") and result.settings.channels == (
        "C3",
        "Cz",
        "C4",
    )
    assert result.settings.epochs.channels == tuple(small_recording.raw.ch_names)
    epochs = extract_epochs(
        small_recording.raw, classes=["left_hand", "right_hand"], tmin=0.25, tmax=1.75, band=(8, 30)
    )
    np.testing.assert_array_equal(result.covariances, covariances(epochs.X, "ledoit_wolf"))
    assert list(result.geometry) == ["logeuclid", "euclid"]
    tables = result.tables()
    assert tables["epoch_covariances_uV2"].shape == (12 * 22, 2 + 22)
    assert tables["traces_uV"].shape == (5 * 250, 4) and list(tables["psd_uV2_per_Hz"].columns) == [
        "frequency_hz",
        "C3",
        "Cz",
        "C4",
    ]
    np.testing.assert_array_equal(tables["distances_euclid"].to_numpy(), result.geometry["euclid"].distances)
    assert set(explorer_figures(result)) >= {"traces", "psd", "epoch-covariance", "mds-euclid", "means"}
    # A wider band refilters; the spectra and events are reused.
    explore(settings.replace(epochs=settings.epochs.replace(band=(8.0, 35.0))), small_recording, memo=memo)
    assert memo.computed.count("psd") == 1 and memo.computed.count("events") == 1
    assert memo.computed.count("epochs") == 2


def test_a_64_channel_recording_with_short_epochs_says_what_the_sample_estimator_does() -> None:
    """64 channels and 0.3 s epochs at 160 Hz: 49 samples, so the sample covariances are singular."""
    sfreq, n_trials = 160.0, 12
    info = mne.create_info([f"EEG{i:03d}" for i in range(64)], sfreq, "eeg")
    rng = np.random.default_rng(3)
    raw = mne.io.RawArray(rng.normal(scale=1e-5, size=(64, int(60 * sfreq))), info, verbose="error")
    onsets = np.arange(n_trials) * 4.0 + 2.0
    raw.set_annotations(mne.Annotations(onsets, 2.0, ["T1", "T2"] * (n_trials // 2)))
    data = EEGDataset(name="64 channels", raw=raw, source="test")
    settings = ExplorerSettings(epochs=EpochSettings(tmin=0.0, tmax=0.3), metrics=("riemann",))
    sample = explore(settings, data)
    assert sample.covariances.shape == (12, 64, 64) and sample.mean is None
    assert "not positive definite" in sample.stopped
    assert any("12 of 12 epoch covariances are ill-conditioned" in w for w in sample.warnings)
    shrunk = explore(settings.replace(estimator="oas"), data)
    assert shrunk.stopped is None and shrunk.warnings == () and shrunk.geometry["riemann"].distances.shape == (12, 12)


def test_a_recording_without_events_keeps_its_signals_and_says_why_it_stopped() -> None:
    info = mne.create_info(["C3", "Cz", "C4"], 250.0, "eeg")
    raw = mne.io.RawArray(np.random.default_rng(4).normal(scale=1e-5, size=(3, 2500)), info, verbose="error")
    result = explore(ExplorerSettings(), EEGDataset(name="no events", raw=raw, source="test"))
    assert result.covariances is None and "event" in result.stopped.lower()
    assert set(result.tables()) == {"traces_uV", "psd_uV2_per_Hz"}


def test_a_mean_that_does_not_converge_is_reported(monkeypatch: pytest.MonkeyPatch, small_recording) -> None:
    real = covwb.explore.mean_covariance

    def slow_mean(covs, metric):
        warnings.warn("Convergence not reached", UserWarning, stacklevel=2)
        return real(covs, metric)

    monkeypatch.setattr(covwb.explore, "mean_covariance", slow_mean)
    result = explore(ExplorerSettings(metrics=()), small_recording)
    assert result.warnings == (
        "The affine-invariant mean of the epochs: it stopped before converging (Convergence not reached); treat it "
        "as approximate.",
    )


def test_the_geometry_means_warnings_reach_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    real = covwb.covariance.geometry.mean_covariance

    def slow_mean(covs, metric):
        warnings.warn("Convergence not reached", UserWarning, stacklevel=2)
        return real(covs, metric)

    monkeypatch.setattr(covwb.covariance.geometry, "mean_covariance", slow_mean)
    a = np.random.default_rng(6).normal(size=(6, 4, 30))
    stack = SPDStack(name="s", matrices=a @ a.transpose(0, 2, 1) / 30, labels=None, source="test")
    result = explore(ExplorerSettings(metrics=("riemann",)), stack)
    assert len(result.warnings) == 1
    assert "stopped before converging (Convergence not reached)" in result.warnings[0]


def test_a_stack_shows_the_chosen_matrix_and_its_geometry() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(6, 4, 30))
    matrices = a @ a.transpose(0, 2, 1) / 30
    stack = SPDStack(name="s", matrices=matrices, labels=np.array(["x", "y"] * 3), source="test")
    result = explore(ExplorerSettings(matrix=2, metrics=("riemann",)), stack)
    assert isinstance(result, StackExploration)
    np.testing.assert_array_equal(result.covariance, matrices[2])
    assert list(result.tables()["embedding_riemann"]["label"]) == ["x", "y"] * 3
    _, notes = ExplorerSettings(matrix=9).resolve(stack)
    assert notes == ("Matrix 9 does not exist (there are 6); the page shows matrix 0.",)


def test_what_reading_the_data_doubted_comes_first_in_the_warnings() -> None:
    doubt = "Line 1 of 'gaps.csv' was read as data; if it names the columns, choose the header option."
    data = dataclasses.replace(table_with_gaps(), warnings=(doubt,))
    result = explore(POTTERY.replace(columns=("w", "x")), data)
    assert result.warnings[0] == doubt and "rows have a missing value" in result.warnings[1]


def test_epoch_windows_past_the_next_event_are_warned_about_in_the_result() -> None:
    from tests.eeg.test_epochs import _rest_and_task_raw

    data = EEGDataset(name="rest and task", raw=_rest_and_task_raw(), source="test")
    settings = ExplorerSettings(epochs=EpochSettings(classes=("T0", "T1"), tmax=2.5), metrics=())
    result = explore(settings, data)
    assert result.stopped is None
    assert [w for w in result.warnings if "runs past the next event in 8 of 12 epochs" in w]
    short = explore(settings.replace(epochs=settings.epochs.replace(tmax=1.2)), data)
    assert not [w for w in short.warnings if "next event" in w]
    epochs = extract_epochs(data.raw, **result.settings.epochs.as_kwargs())
    np.testing.assert_array_equal(result.covariances, covariances(epochs.X, "sample"))
