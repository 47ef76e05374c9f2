"""Tests of covwb.eeg.events: trial events from annotations or a trigger channel, sessions."""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covwb.eeg.events import TrialEvents, find_trial_events, trial_sessions
from covwb.errors import EEGFormatError

SFREQ = 100.0


def _raw(n_times: int = 2000, stim: np.ndarray | None = None) -> mne.io.RawArray:
    """Two EEG channels of noise (volts), plus a stim channel when given."""
    rng = np.random.default_rng(0)
    data = [*rng.normal(0.0, 1e-5, (2, n_times))]
    names, types = ["C3", "C4"], ["eeg", "eeg"]
    if stim is not None:
        data.append(stim)
        names.append("STI 014")
        types.append("stim")
    return mne.io.RawArray(np.array(data), mne.create_info(names, SFREQ, types), verbose="error")


def test_annotations_skip_bad_and_edge_and_use_an_explicit_id() -> None:
    raw = _raw()
    onsets = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    labels = ["right", "left", "BAD_muscle", "left", "EDGE boundary", "bad blink", "edge", "left", "right"]
    raw.set_annotations(mne.Annotations(onsets, np.zeros(len(onsets)), labels))
    found = find_trial_events(raw)
    assert isinstance(found, TrialEvents)
    assert found.origin == "annotations"
    assert found.event_id == {"left": 1, "right": 2}
    assert found.counts == {"left": 3, "right": 2}
    expected = [(100, 2), (200, 1), (400, 1), (800, 1), (900, 2)]
    assert [(int(s), int(c)) for s, _, c in found.events] == expected
    assert found.events.shape == (5, 3) and found.events.dtype.kind == "i"


def test_numeric_annotation_labels_keep_their_codes() -> None:
    raw = _raw()
    raw.set_annotations(mne.Annotations([1.0, 2.0, 3.0], [0, 0, 0], ["770", "769", "1023"]))
    found = find_trial_events(raw)
    assert found.event_id == {"1023": 1023, "769": 769, "770": 770}
    assert list(found.events[:, 2]) == [770, 769, 1023]


def test_annotations_relative_to_a_cropped_recording() -> None:
    raw = _raw()
    raw.set_annotations(mne.Annotations([3.0, 5.5], [0, 0], ["a", "b"]))
    cropped = raw.copy().crop(2.0, 15.0)
    found = find_trial_events(cropped)
    assert cropped.first_samp == 200
    assert list(found.events[:, 0]) == [300, 550]


def test_stim_channel_with_one_sample_pulses() -> None:
    stim = np.zeros(2000)
    stim[[100, 400, 700]] = 1
    stim[[250, 900]] = 2
    found = find_trial_events(_raw(stim=stim))
    assert found.origin == "stim channel 'STI 014'"
    assert found.event_id == {"1": 1, "2": 2}
    assert found.counts == {"1": 3, "2": 2}
    assert list(found.events[:, 0]) == [100, 250, 400, 700, 900]


def test_only_bad_annotations_fall_back_to_the_stim_channel() -> None:
    stim = np.zeros(2000)
    stim[500:510] = 3
    raw = _raw(stim=stim)
    raw.set_annotations(mne.Annotations([1.0], [0.5], ["BAD_segment"]))
    found = find_trial_events(raw)
    assert found.origin == "stim channel 'STI 014'" and found.counts == {"3": 1}


def test_no_events_at_all() -> None:
    with pytest.raises(EEGFormatError, match="no events: the recording has neither annotations nor a trigger channel"):
        find_trial_events(_raw())
    with pytest.raises(EEGFormatError, match=r"trigger channel\(s\) 'STI 014' never change value"):
        find_trial_events(_raw(stim=np.zeros(2000)))


def test_sessions_from_annotation_extras() -> None:
    raw = _raw()
    raw.set_annotations(
        mne.Annotations(
            [1.0, 2.0, 3.0, 4.0, 5.0],
            [0, 0, 0, 0, 0],
            ["a", "b", "BAD x", "a", "b"],
            extras=[{"session": "1"}, {"session": "1"}, {}, {"session": "2"}, {"session": 2}],
        )
    )
    found = find_trial_events(raw)
    assert list(trial_sessions(raw, found)) == ["1", "1", "2", "2"]


def test_sessions_default_to_one() -> None:
    raw = _raw()
    raw.set_annotations(mne.Annotations([1.0, 2.0], [0, 0], ["a", "b"]))
    sessions = trial_sessions(raw, find_trial_events(raw))
    assert sessions.dtype.kind == "U" and list(sessions) == ["1", "1"]
    stim = np.zeros(2000)
    stim[[100, 300]] = 1
    stim_raw = _raw(stim=stim)
    assert list(trial_sessions(stim_raw, find_trial_events(stim_raw))) == ["1", "1"]


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.sampled_from(["a", "b", "c", "BAD_x", "EDGE y", "bad", "edge"]), min_size=1, max_size=15),
)
def test_counts_match_the_kept_annotations(labels: list[str]) -> None:
    raw = _raw()
    onsets = 0.5 + np.arange(len(labels))
    raw.set_annotations(mne.Annotations(onsets, np.zeros(len(labels)), labels))
    kept = [label for label in labels if label in {"a", "b", "c"}]
    if not kept:
        with pytest.raises(EEGFormatError):
            find_trial_events(raw)
        return
    found = find_trial_events(raw)
    assert found.counts == {label: kept.count(label) for label in sorted(set(kept))}
    labels_of = {code: label for label, code in found.event_id.items()}
    assert [labels_of[c] for c in found.events[:, 2]] == kept


@pytest.mark.shared_data
def test_reference_files(shared_data: Path) -> None:
    folder = shared_data / "eeg"
    edf = mne.io.read_raw_edf(folder / "test_reduced.edf", preload=True, verbose="error")
    found = find_trial_events(edf)
    assert found.origin == "annotations"
    assert found.counts["type A"] == 3 and found.counts["type B"] == 1
    bdf = mne.io.read_raw_bdf(folder / "test_bdf_stim_channel.bdf", preload=True, verbose="error")
    found = find_trial_events(bdf)
    assert found.origin == "stim channel 'Status'" and found.counts["1"] == 7
    eeglab = mne.io.read_raw_eeglab(folder / "test_raw.set", preload=True, verbose="error")
    assert find_trial_events(eeglab).counts == {"rt": 74, "square": 80}
