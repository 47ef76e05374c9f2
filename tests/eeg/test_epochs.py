"""Tests of covwb.eeg.epochs: epoch shapes, units, windows, filtering, spectra and every refusal."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from covwb.eeg.epochs import EpochData, EpochSettings, extract_epochs, power_spectrum
from covwb.eeg.events import TrialEvents
from covwb.errors import ParameterError

SFREQ = 160.0
DURATION = 40.0
ONSETS = np.array([3.0, 7.0, 11.0, 15.0, 19.0, 23.0, 27.0, 31.0])
LABELS = ["a", "b", "a", "b", "a", "b", "a", "c"]


def _raw(data_uv: np.ndarray | None = None, names=("C3", "Cz", "C4")) -> mne.io.RawArray:
    """A recording (volts) with annotations a x4, b x3, c x1 and a stim channel."""
    n_times = int(DURATION * SFREQ)
    if data_uv is None:
        data_uv = np.random.default_rng(1).normal(0.0, 10.0, (len(names), n_times))
    stim = np.zeros((1, n_times))
    info = mne.create_info([*names, "STI"], SFREQ, [*["eeg"] * len(names), "stim"])
    raw = mne.io.RawArray(np.vstack([data_uv * 1e-6, stim]), info, verbose="error")
    raw.set_annotations(mne.Annotations(ONSETS, np.full(len(ONSETS), 2.0), LABELS))
    return raw


def _sines(freqs_amps: list[tuple[float, float]], n_channels: int = 3) -> np.ndarray:
    """Sum of sinusoids (µV) on every channel, shape (n_channels, n_times)."""
    t = np.arange(int(DURATION * SFREQ)) / SFREQ
    one = sum(amp * np.sin(2 * np.pi * freq * t + 0.3) for freq, amp in freqs_amps)
    return np.tile(one, (n_channels, 1))


def test_shapes_labels_and_inclusive_tmax() -> None:
    ep = extract_epochs(_raw(), classes=["a", "b"], tmin=1.0, tmax=2.0)
    assert isinstance(ep, EpochData)
    assert ep.X.shape == (7, 3, 161) and ep.X.dtype == np.float64
    assert list(ep.y) == ["a", "b", "a", "b", "a", "b", "a"] and ep.y.dtype.kind == "U"
    assert ep.ch_names == ("C3", "Cz", "C4") and ep.sfreq == SFREQ
    np.testing.assert_allclose(ep.times, 1.0 + np.arange(161) / SFREQ)
    assert ep.settings["n_trials"] == {"a": 4, "b": 3}
    assert ep.settings["baseline"] is None and ep.settings["unit"] == "µV"
    assert ep.settings["events"] == "annotations" and ep.settings["band"] == (8.0, 35.0)


def test_microvolt_scaling_without_filter_and_without_baseline() -> None:
    data = np.random.default_rng(2).normal(0.0, 10.0, (3, int(DURATION * SFREQ))) + 50.0
    ep = extract_epochs(_raw(data), classes=["a", "b"], tmin=-0.5, tmax=1.5, band=None, picks=["C4", "C3"])
    starts = np.round((ONSETS[:7] - 0.5) * SFREQ).astype(int)
    expected = np.stack([data[[2, 0], s : s + 321] for s in starts])
    np.testing.assert_allclose(ep.X, expected, rtol=1e-12, atol=1e-9)
    assert ep.ch_names == ("C4", "C3")
    assert abs(ep.X.mean() - 50.0) < 1.0
    assert ep.settings["filter"] == "none"


def test_band_filter_keeps_in_band_and_removes_out_of_band_sinusoids() -> None:
    raw = _raw(_sines([(3.0, 40.0), (20.0, 10.0)]))
    ep = extract_epochs(raw, classes=["a", "b"], tmin=0.0, tmax=2.0, band=(8.0, 35.0))
    t = ep.times
    x = ep.X.reshape(-1, len(t))
    # amplitude of each sinusoid by least squares on sin/cos at its frequency
    for freq, _amp, low, high in ((3.0, 40.0, 0.0, 0.01 * 40.0), (20.0, 10.0, 0.97 * 10.0, 1.03 * 10.0)):
        basis = np.column_stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)])
        coef, *_ = np.linalg.lstsq(basis, x.T, rcond=None)
        measured = np.hypot(coef[0], coef[1])
        assert np.all((measured >= low) & (measured <= high)), (freq, measured)
    np.testing.assert_allclose(x.var(axis=1), 10.0**2 / 2, rtol=0.06)


def test_explicit_events_and_stim_origin() -> None:
    raw = _raw()
    events = np.array([[int(o * SFREQ), 0, 5 if i % 2 else 7] for i, o in enumerate(ONSETS)])
    given = TrialEvents(events=events, event_id={"7": 7, "5": 5}, origin="stim channel 'STI'", counts={"7": 4, "5": 4})
    ep = extract_epochs(raw, classes=["7", "5"], tmin=0.0, tmax=1.0, events=given)
    assert ep.X.shape[0] == 8 and set(ep.y) == {"7", "5"}
    assert ep.settings["events"] == "stim channel 'STI'"


def test_windows_off_the_recording_or_on_bad_spans_are_dropped_and_counted() -> None:
    raw = _raw()
    ep = extract_epochs(raw, classes=["a", "b"], tmin=0.0, tmax=17.0)
    assert ep.settings["dropped"] == {"a": 1, "b": 1}
    assert ep.settings["n_trials"] == {"a": 3, "b": 2}
    raw.set_annotations(raw.annotations + mne.Annotations([3.5], [0.2], ["BAD_blink"]))
    ep = extract_epochs(raw, classes=["a", "b"], tmin=0.0, tmax=1.0)
    assert ep.settings["dropped"] == {"a": 1, "b": 0}


def test_default_picks_skip_bad_channels() -> None:
    raw = _raw()
    raw.info["bads"] = ["Cz"]
    assert extract_epochs(raw, classes=["a", "b"], tmin=0.0, tmax=1.0).ch_names == ("C3", "C4")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"classes": ["a", "z"]}, r"unknown class 'z'; the recording's event labels are: a, b, c"),
        ({"classes": ["a"]}, r"choose at least two classes to compare; only 'a' is selected"),
        ({"classes": ["a", "a"]}, r"only 'a' is selected"),
        ({"classes": []}, r"none is selected"),
        ({"classes": ["a", "c"]}, r"class 'c' has 1 trial\(s\) in the recording; each class needs at least 2"),
        ({"band": (30.0, 10.0)}, r"the band 30-10 Hz is empty"),
        ({"band": (8.0, 80.0)}, r"strictly between 0 Hz and the Nyquist frequency \(80 Hz at 160 Hz sampling\)"),
        ({"band": (0.0, 30.0)}, r"strictly between 0 Hz"),
        ({"band": ("x", 3)}, r"not a pair of frequencies"),
        ({"tmin": 2.0, "tmax": 2.0}, r"the epoch window is empty: tmax \(2 s\) must be later than tmin \(2 s\)"),
        ({"tmin": np.nan}, r"not a pair of finite numbers"),
        ({"tmin": 100.0, "tmax": 101.0}, r"falls outside the recording .* for every trial"),
        ({"tmin": 0.0, "tmax": 30.0}, r"class 'a' has 1 trial\(s\) left after dropping"),
        ({"picks": ["C3", "Oz"]}, r"unknown channel 'Oz'; the recording's channels are: C3, Cz, C4, STI"),
        ({"picks": ["C3", "C3"]}, r"channel 'C3' is selected twice"),
        ({"picks": []}, r"no channel is selected"),
        ({"picks": ["C3", "STI"]}, r"channel 'STI' is a stim channel, not a voltage"),
    ],
)
def test_parameter_errors(kwargs: dict, message: str) -> None:
    arguments = {"classes": ["a", "b"], "tmin": 0.0, "tmax": 1.0, **kwargs}
    with pytest.raises(ParameterError, match=message):
        extract_epochs(_raw(), **arguments)


def test_flat_channel_is_named() -> None:
    data = np.random.default_rng(3).normal(0.0, 10.0, (3, int(DURATION * SFREQ)))
    data[1] = 7.0
    with pytest.raises(ParameterError, match=r"channel 'Cz' is flat \(no variation\) in 7 of 7 trial\(s\)"):
        extract_epochs(_raw(data), classes=["a", "b"], tmin=0.0, tmax=1.0)
    with pytest.raises(ParameterError, match=r"channel 'Cz' is flat"):
        extract_epochs(_raw(data), classes=["a", "b"], tmin=0.0, tmax=1.0, band=None)


def test_nan_samples_are_named() -> None:
    data = np.random.default_rng(4).normal(0.0, 10.0, (3, int(DURATION * SFREQ)))
    data[2, 800:] = np.nan
    with pytest.raises(ParameterError, match=r"channel 'C4' has NaN or infinite samples from 5\.000 s"):
        extract_epochs(_raw(data), classes=["a", "b"], tmin=0.0, tmax=1.0)


def test_power_spectrum_of_a_sinusoid_integrates_to_its_power() -> None:
    amplitude = 12.0
    raw = _raw(_sines([(10.0, amplitude)]) + np.random.default_rng(5).normal(0, 0.5, (3, int(DURATION * SFREQ))))
    freqs, psd = power_spectrum(raw, picks=["C3", "C4"], fmax=40.0)
    assert psd.shape == (2, len(freqs)) and freqs[0] == 0.0 and freqs[-1] <= 40.0
    np.testing.assert_allclose(np.diff(freqs), 0.5)
    assert np.all(freqs[np.argmax(psd, axis=1)] == 10.0)
    near = (freqs >= 8.0) & (freqs <= 12.0)
    power = psd[:, near].sum(axis=1) * 0.5
    np.testing.assert_allclose(power, amplitude**2 / 2, rtol=0.05)
    noise_density = 0.5**2 / (SFREQ / 2)
    np.testing.assert_allclose(np.median(psd[:, freqs > 20.0], axis=1), noise_density, rtol=0.2)


def test_power_spectrum_refusals() -> None:
    raw = _raw()
    with pytest.raises(ParameterError, match=r"fmax is 100 Hz; choose a frequency above 0 and at most the Nyquist"):
        power_spectrum(raw, picks=None, fmax=100.0)
    with pytest.raises(ParameterError, match="fmax is 0 Hz"):
        power_spectrum(raw, picks=None, fmax=0.0)
    with pytest.raises(ParameterError, match="unknown channel 'Oz'"):
        power_spectrum(raw, picks=["Oz"], fmax=30.0)
    freqs, psd = power_spectrum(raw, picks=None, fmax=80.0)
    assert psd.shape == (3, len(freqs)) and freqs[-1] == 80.0


def _rest_and_task_raw(n_blocks: int = 8, rest_s: float = 1.4, task_s: float = 4.1) -> mne.io.RawArray:
    """Alternating rest ('T0', ``rest_s`` long) and task ('T1'/'T2', ``task_s`` long) blocks, as in EEGMMIDB."""
    onsets, labels = [], []
    t = 1.0
    for k in range(n_blocks):
        onsets += [t, t + rest_s]
        labels += ["T0", ("T1", "T2")[k % 2]]
        t += rest_s + task_s
    n_times = int((t + 3.0) * SFREQ)
    data = np.random.default_rng(7).normal(0.0, 10.0, (3, n_times)) * 1e-6
    raw = mne.io.RawArray(data, mne.create_info(["C3", "Cz", "C4"], SFREQ, "eeg"), verbose="error")
    durations = [rest_s if label == "T0" else task_s for label in labels]
    raw.set_annotations(mne.Annotations(onsets, durations, labels))
    return raw


def test_a_window_past_the_next_event_is_warned_about() -> None:
    ep = extract_epochs(_rest_and_task_raw(), classes=["T0", "T1"], tmin=0.5, tmax=2.5)
    assert len(ep.y) == 12 and len(ep.warnings) == 1
    assert ep.warnings[0] == (
        "The window 0.5 to 2.5 s runs past the next event in 8 of 12 epochs ('T0' x8; the shortest gap to the "
        "next event is 1.40 s), so those epochs hold the start of what follows; end the window before 1.40 s, "
        "or leave those classes out."
    )


@pytest.mark.parametrize(
    ("classes", "tmax", "warned"),
    [(["T0", "T1"], 1.4, False), (["T1", "T2"], 2.5, False), (["T1", "T2"], 4.5, True)],
)
def test_the_next_event_of_any_class_bounds_the_window(classes: list[str], tmax: float, warned: bool) -> None:
    ep = extract_epochs(_rest_and_task_raw(), classes=classes, tmin=0.5, tmax=tmax)
    assert bool(ep.warnings) is warned
    if warned:
        assert (
            "gap to the next event is 4.10 s" in ep.warnings[0] and "7 of 8 epochs ('T1' x4, 'T2' x3" in ep.warnings[0]
        )


def test_spaced_trials_carry_no_warning() -> None:
    assert extract_epochs(_raw(), classes=["a", "b"], tmin=0.5, tmax=2.5).warnings == ()


def test_epoch_settings_are_one_settings_object_with_one_key_convention() -> None:
    settings = EpochSettings(classes=["a", "b"], tmin=1, tmax=2.0, band=[8, 30])
    assert settings == EpochSettings(classes=("a", "b"), tmin=1.0, tmax=2.0, band=(8.0, 30.0))
    assert settings.to_dict() == {
        "classes": ["a", "b"],
        "tmin": 1.0,
        "tmax": 2.0,
        "band": [8.0, 30.0],
        "channels": None,
    }
    assert EpochSettings.from_dict(settings.to_dict()) == settings
    ep = extract_epochs(_raw(), **settings.as_kwargs())
    assert ep.settings["classes"] == ["a", "b"] and ep.settings["band"] == (8.0, 30.0)
    with pytest.raises(ParameterError, match="Window end \\(s\\) must be between -60 and 3600"):
        EpochSettings(tmax=4000.0)


def test_epoch_settings_resolve_against_a_recording() -> None:
    raw = _raw(
        names=tuple(f"EEG{i:03d}" for i in range(64)), data_uv=np.random.default_rng(3).normal(0, 10, (64, 6400))
    )
    raw.info["bads"] = ["EEG005"]
    resolved, notes = EpochSettings().resolve(raw)
    assert resolved.classes == ("a", "b") and notes == ()
    assert len(resolved.channels) == 63 and "EEG005" not in resolved.channels and "STI" not in resolved.channels
    assert resolved.band == (8.0, 35.0)
    _, notes = EpochSettings(classes=("a", "z"), channels=("EEG001", "Oz"), band=(8.0, 90.0)).resolve(raw)
    assert notes == (
        "The recording has no events labelled 'z'; the page uses its first two labels.",
        "The recording has no channel 'Oz'; the epochs use its EEG channels.",
        "The band-pass 8-90 Hz does not fit this recording (Nyquist frequency 80 Hz); the page uses its default band.",
    )


def test_the_default_band_is_fitted_below_the_nyquist_frequency_without_a_note() -> None:
    info = mne.create_info(["C3", "Cz", "C4"], 50.0, "eeg")
    raw = mne.io.RawArray(np.random.default_rng(0).normal(0, 1e-5, (3, 5000)), info, verbose="error")
    raw.set_annotations(mne.Annotations([10.0, 20.0, 30.0, 40.0], 2.0, ["T1", "T2", "T1", "T2"]))
    resolved, notes = EpochSettings().resolve(raw)
    assert resolved.band == (8.0, 24.5) and notes == ()
    ep = extract_epochs(raw, **resolved.as_kwargs())
    assert ep.X.shape == (4, 3, 101)
    none, notes = EpochSettings(band=None).resolve(raw)
    assert none.band is None and notes == ()
