"""Tests of covwb.datasets.simulated_eeg: layout, montage, events, determinism, ERD and learnability."""

from __future__ import annotations

import time
import warnings

import mne
import numpy as np
import pytest

import covwb.datasets.simulated_eeg as simulated
from covwb.datasets.simulated_eeg import CHANNELS, CHANNELS_64, LAYOUTS, simulate_motor_imagery
from covwb.datasets.types import EEGDataset
from covwb.eeg.epochs import extract_epochs
from covwb.eeg.events import find_trial_events, trial_sessions
from covwb.errors import ParameterError

BCI_IV_2A = "Fz FC3 FC1 FCz FC2 FC4 C5 C3 C1 Cz C2 C4 C6 CP3 CP1 CPz CP2 CP4 P1 Pz P2 POz".split()


@pytest.fixture(scope="module")
def dataset() -> EEGDataset:
    return simulate_motor_imagery(seed=0)


def test_layout_rate_and_units(dataset: EEGDataset) -> None:
    raw = dataset.raw
    assert raw.ch_names == BCI_IV_2A == list(CHANNELS)
    assert raw.info["sfreq"] == 250.0 and set(raw.get_channel_types()) == {"eeg"}
    assert raw.preload and raw.get_data().dtype == np.float64
    std_uv = raw.get_data().std(axis=1) * 1e6
    assert np.all((std_uv > 5.0) & (std_uv < 60.0)), std_uv
    assert dataset.source == "simulated (seed 0)" and "Generative model" in simulated.__doc__


def test_montage_is_standard_1020(dataset: EEGDataset) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        montage = mne.channels.make_standard_montage("standard_1020")
    reference = mne.create_info(BCI_IV_2A, 250.0, "eeg").set_montage(montage)
    expected = np.array([ch["loc"][:3] for ch in reference["chs"]])
    locs = np.array([ch["loc"][:3] for ch in dataset.raw.info["chs"]])
    np.testing.assert_allclose(locs, expected, atol=1e-9)
    assert np.isfinite(locs).all() and np.all(np.linalg.norm(locs, axis=1) > 0.05)
    c3, c4 = BCI_IV_2A.index("C3"), BCI_IV_2A.index("C4")
    assert locs[c3, 0] < 0 < locs[c4, 0]


def test_annotations_per_class_and_session(dataset: EEGDataset) -> None:
    raw = dataset.raw
    events = find_trial_events(raw)
    assert events.counts == {"left_hand": 80, "right_hand": 80}
    sessions = trial_sessions(raw, events)
    labels = {code: label for label, code in events.event_id.items()}
    y = np.array([labels[c] for c in events.events[:, 2]])
    for session in ("1", "2"):
        for label in ("left_hand", "right_hand"):
            assert np.count_nonzero((sessions == session) & (y == label)) == 40
    first_session_2 = events.events[sessions == "2", 0].min()
    assert events.events[sessions == "1", 0].max() < first_session_2
    descriptions = list(raw.annotations.description)
    assert descriptions.count("BAD boundary") == 1 and descriptions.count("EDGE boundary") == 1
    trials = raw.annotations[np.isin(raw.annotations.description, ["left_hand", "right_hand"])]
    np.testing.assert_allclose(trials.duration, 4.0)
    assert np.all(np.diff(trials.onset) >= 4.0 + 2.0 - 1e-9)


def test_same_seed_same_bytes_other_seed_other_data(dataset: EEGDataset) -> None:
    again = simulate_motor_imagery(seed=0)
    assert again.raw.get_data().tobytes() == dataset.raw.get_data().tobytes()
    np.testing.assert_array_equal(again.raw.annotations.onset, dataset.raw.annotations.onset)
    other = simulate_motor_imagery(seed=1)
    n = min(other.raw.n_times, dataset.raw.n_times)
    assert not np.allclose(other.raw.get_data()[:, :n], dataset.raw.get_data()[:, :n])


def test_simulation_is_fast() -> None:
    best = np.inf
    for _ in range(2):
        start = time.perf_counter()
        simulate_motor_imagery(seed=3)
        best = min(best, time.perf_counter() - start)
    assert best < 2.0, f"simulation took {best:.2f} s (budget 1 s on an idle machine)"


def _band_power(dataset: EEGDataset, tmin: float, tmax: float) -> tuple[np.ndarray, np.ndarray]:
    """Log mu/beta (8-30 Hz) power at C3 and C4 per trial, and the labels."""
    epochs = extract_epochs(
        dataset.raw, classes=["left_hand", "right_hand"], tmin=tmin, tmax=tmax, band=(8.0, 30.0), picks=["C3", "C4"]
    )
    return np.log((epochs.X**2).mean(axis=2)), epochs.y


def test_contralateral_mu_beta_desynchronisation(dataset: EEGDataset) -> None:
    imagery, y = _band_power(dataset, 0.75, 3.75)
    rest, _ = _band_power(dataset, -1.75, -0.25)
    change = imagery - rest  # log power ratio imagery / rest, columns C3, C4
    right, left = y == "right_hand", y == "left_hand"
    # contralateral: C3 for the right hand, C4 for the left hand; amplitude -50% -> power about x0.25
    assert np.median(change[right, 0]) < np.log(0.6) and np.median(change[left, 1]) < np.log(0.6)
    # ipsilateral: no systematic change
    assert abs(np.median(change[right, 1])) < np.log(1.3) and abs(np.median(change[left, 0])) < np.log(1.3)
    lateral = imagery[:, 0] - imagery[:, 1]
    assert lateral[left].mean() - lateral[right].mean() > 0.8
    assert abs(rest[left, 0].mean() - rest[right, 0].mean()) < 0.2


def test_learnable_but_not_trivially(dataset: EEGDataset) -> None:
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    epochs = extract_epochs(dataset.raw, classes=["left_hand", "right_hand"], tmin=0.5, tmax=2.5, band=(8.0, 35.0))
    pipeline = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    auc = cross_val_score(pipeline, epochs.X, epochs.y == "right_hand", cv=folds, scoring="roc_auc").mean()
    assert 0.8 <= auc <= 0.995, auc


def test_second_session_gain(dataset: EEGDataset) -> None:
    raw = dataset.raw
    join = raw.annotations.onset[list(raw.annotations.description).index("EDGE boundary")]
    filtered = raw.copy().filter(8.0, 35.0, skip_by_annotation="edge", verbose="error").get_data()
    split = int(round(join * raw.info["sfreq"]))
    ratio = filtered[:, split + 2500 :].std(axis=1) / filtered[:, 500 : split - 2500].std(axis=1)
    assert 1.05 < np.median(ratio) < 1.3


def test_one_session_and_custom_sizes() -> None:
    ds = simulate_motor_imagery(seed=2, n_trials_per_class=5, n_sessions=1, sfreq=128.0, trial_duration=2.0)
    events = find_trial_events(ds.raw)
    assert events.counts == {"left_hand": 5, "right_hand": 5}
    assert set(trial_sessions(ds.raw, events)) == {"1"}
    assert "BAD boundary" not in ds.raw.annotations.description
    assert ds.raw.info["sfreq"] == 128.0


def test_built_in_recording_unchanged_by_the_layouts(dataset: EEGDataset) -> None:
    # Samples (µV) of the 22-channel recordings as generated before the 64-channel layout existed.
    data = dataset.raw.get_data()
    assert data.shape == (22, 262645)
    np.testing.assert_allclose(
        data[[0, 7, 11, 21], [0, 1000, 50000, 100000]] * 1e6,
        [-11.04832148, 4.99478056, -3.06555456, 3.0325046],
        rtol=1e-8,
    )
    other = simulate_motor_imagery(seed=7, n_trials_per_class=5, n_sessions=3, sfreq=160.0, trial_duration=2.0)
    np.testing.assert_allclose(
        other.raw.get_data()[[0, 7, 11, 21], [0, 1000, 3000, 5000]] * 1e6,
        [11.98788493, -8.31023704, 16.87363117, -3.4924235],
        rtol=1e-8,
    )


@pytest.fixture(scope="module")
def eegmmidb_like() -> EEGDataset:
    return simulate_motor_imagery(seed=0, n_trials_per_class=23, n_sessions=1, sfreq=160.0, layout="eegmmidb")


def test_64_channel_layout_is_eegmmidb_at_160_hz(eegmmidb_like: EEGDataset) -> None:
    from mne.datasets import eegbci

    raw = eegmmidb_like.raw
    assert raw.ch_names == list(CHANNELS_64) == list(LAYOUTS["eegmmidb"]) and len(set(raw.ch_names)) == 64
    # EEGMMIDB's own names ('Fc5.', 'Cz..') become these under MNE's standardisation.
    dotted = mne.create_info([f"{n[:1]}{n[1:].lower()}".ljust(4, ".") for n in CHANNELS_64], 160.0, "eeg")
    as_in_the_files = mne.io.RawArray(np.zeros((64, 2)), dotted, verbose="error")
    eegbci.standardize(as_in_the_files)
    assert as_in_the_files.ch_names == list(CHANNELS_64)
    assert raw.info["sfreq"] == 160.0 and "64 channels" in eegmmidb_like.name
    locs = np.array([ch["loc"][:3] for ch in raw.info["chs"]])
    assert np.isfinite(locs).all() and np.all(np.linalg.norm(locs, axis=1) > 0.05)
    assert find_trial_events(raw).counts == {"left_hand": 23, "right_hand": 23}
    again = simulate_motor_imagery(seed=0, n_trials_per_class=23, n_sessions=1, sfreq=160.0, layout="eegmmidb")
    assert again.raw.get_data().tobytes() == raw.get_data().tobytes()


def test_64_channel_sample_acms_are_ill_conditioned_as_real_recordings(eegmmidb_like: EEGDataset) -> None:
    from covwb.eeg.augmented import augmented_covariances

    X = extract_epochs(eegmmidb_like.raw, classes=["left_hand", "right_hand"], tmin=0.5, tmax=2.5).X[:10]
    assert X.shape == (10, 64, 321)
    # issue 12: condition numbers around 1e12-1e13 from order 3 on (m x C >= 192 rows, 321 samples)
    assert np.linalg.cond(augmented_covariances(X, 3, 5, "sample")).max() > 1e9
    assert np.linalg.cond(augmented_covariances(X, 3, 5, "oas")).max() < 1e5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layout": "biosemi"}, "unknown channel layout 'biosemi'"),
        ({"n_trials_per_class": 1}, "n_trials_per_class is 1"),
        ({"n_sessions": 0}, "n_sessions is 0"),
        ({"sfreq": 50.0}, "sfreq is 50 Hz"),
        ({"trial_duration": 0.5}, "trial_duration is 0.5 s"),
    ],
)
def test_parameter_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        simulate_motor_imagery(**kwargs)
