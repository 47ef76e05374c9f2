"""Several recordings as one, with a session label per file."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from covwb.datasets.simulated_eeg import CLASSES, simulate_motor_imagery
from covwb.eeg.events import find_trial_events
from covwb.eeg.sessions import combine_recordings, event_sessions, session_epochs
from covwb.errors import ParameterError


@pytest.fixture(scope="module")
def runs() -> list:
    return [simulate_motor_imagery(seed=s, n_trials_per_class=4, n_sessions=1).raw for s in (1, 2, 3)]


def test_files_keep_their_session_labels(runs: list) -> None:
    recording = combine_recordings(runs, ["a", "a", "b"], ["r1", "r2", "r3"])
    assert recording.raw.n_times == sum(r.n_times for r in runs)
    events = find_trial_events(recording.raw)
    sessions = event_sessions(recording, events)
    assert list(sessions) == ["a"] * 16 + ["b"] * 8
    ep = session_epochs(recording, events, classes=list(CLASSES), tmin=0.5, tmax=1.5)
    assert ep.X.shape == (24, 22, 251)
    assert list(np.unique(ep.sessions, return_counts=True)[1]) == [16, 8]
    assert ep.settings["sessions"]["b"]["n_trials"] == {"left_hand": 4, "right_hand": 4}


def test_single_recording_takes_sessions_from_annotations() -> None:
    raw = simulate_motor_imagery(seed=0, n_trials_per_class=3, n_sessions=2).raw
    recording = combine_recordings([raw], [], ["sim"])
    events = find_trial_events(raw)
    assert list(np.unique(event_sessions(recording, events))) == ["1", "2"]


def test_stim_channel_recordings_get_their_file_session() -> None:
    rng = np.random.default_rng(0)
    raws = []
    for _ in range(2):
        data = rng.standard_normal((3, 2000)) * 1e-5
        stim = np.zeros((1, 2000))
        stim[0, [200, 600, 1000, 1400]] = [1, 2, 1, 2]
        info = mne.create_info(["C3", "C4", "Cz", "STI"], 250.0, ["eeg", "eeg", "eeg", "stim"])
        raws.append(mne.io.RawArray(np.vstack([data, stim]), info, verbose="error"))
    recording = combine_recordings(raws, ["x", "y"], ["f1", "f2"])
    events = find_trial_events(recording.raw)
    assert list(event_sessions(recording, events)) == ["x"] * 4 + ["y"] * 4


def test_different_channels_are_refused(runs: list) -> None:
    other = runs[1].copy().drop_channels(["Fz"])
    with pytest.raises(ParameterError, match="same channels"):
        combine_recordings([runs[0], other], ["1", "2"], ["a.fif", "b.fif"])


def test_empty_session_label_is_refused(runs: list) -> None:
    with pytest.raises(ParameterError, match="session label of 'b.fif'"):
        combine_recordings(runs[:2], ["1", " "], ["a.fif", "b.fif"])


def test_session_epochs_carry_the_window_warning_of_each_session() -> None:
    from tests.eeg.test_epochs import _rest_and_task_raw

    recording = combine_recordings([_rest_and_task_raw(), _rest_and_task_raw(4)], ["1", "2"], ["r1", "r2"])
    events = find_trial_events(recording.raw)
    ep = session_epochs(recording, events, classes=["T0", "T1"], tmin=0.5, tmax=2.5)
    assert len(ep.warnings) == 2
    assert ep.warnings[0].startswith("Session '1': The window 0.5 to 2.5 s runs past the next event in 8 of 12")
    assert ep.warnings[1].startswith("Session '2': The window 0.5 to 2.5 s runs past the next event in 4 of 6")
    single = combine_recordings([_rest_and_task_raw()], ["1"], ["r1"])
    alone = session_epochs(single, find_trial_events(single.raw), classes=["T0", "T1"], tmin=0.5, tmax=2.5)
    assert len(alone.warnings) == 1 and alone.warnings[0].startswith("The window 0.5 to 2.5 s")
