"""Tests of covwb.io.eeg_csv: EEG tables to volts in an mne RawArray, and their refusals."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from covwb.datasets.types import EEGDataset
from covwb.errors import EEGFormatError, ParameterError
from covwb.io.eeg_csv import UNIT_TO_VOLTS, read_eeg_csv
from covwb.io.uploads import UploadedBytes

CHANNELS = ["Fz", "Cz", "Pz", "Oz"]


def _table(n_samples: int = 300, seed: int = 0, scale: float = 20.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(scale=scale, size=(n_samples, len(CHANNELS))), columns=CHANNELS)


def _upload(frame: pd.DataFrame, name: str = "eeg.csv", **to_csv: object) -> UploadedBytes:
    return UploadedBytes(name, frame.to_csv(index=False, **to_csv).encode("utf-8"))


@pytest.mark.parametrize("unit", list(UNIT_TO_VOLTS))
def test_values_round_trip_to_volts(unit):
    frame = _table()
    dataset = read_eeg_csv(_upload(frame), sfreq=250.0, unit=unit)
    assert isinstance(dataset, EEGDataset)
    data = dataset.raw.get_data()
    assert data.shape == (4, 300)
    np.testing.assert_allclose(data, frame.to_numpy().T * UNIT_TO_VOLTS[unit], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(data, frame.to_numpy().T * UNIT_TO_VOLTS[unit])
    assert dataset.raw.ch_names == CHANNELS
    assert dataset.raw.info["sfreq"] == 250.0
    assert set(dataset.raw.get_channel_types()) == {"eeg"}
    assert dataset.source == "upload: eeg.csv"
    summary = f"4 EEG channels x 300 samples at 250 Hz (1.2 s); values in {unit} were converted to volts."
    assert summary in dataset.report


def test_semicolon_decimal_comma_table():
    frame = _table(50)
    dataset = read_eeg_csv(_upload(frame, sep=";", decimal=","), sfreq=100, unit="uV")
    np.testing.assert_allclose(dataset.raw.get_data(), frame.to_numpy().T * 1e-6, rtol=0, atol=1e-12)
    assert "delimiter ';', decimal ','" in dataset.report[0]


@pytest.mark.parametrize("name", ["time", "Time (s)", "t", "timestamp", "time_ms"])
def test_numeric_time_column_is_dropped(name):
    frame = _table(40)
    frame.insert(0, name, np.arange(40) / 200.0)
    dataset = read_eeg_csv(_upload(frame), sfreq=200)
    assert dataset.raw.ch_names == CHANNELS
    assert f"Dropped the time column '{name}': samples are taken as evenly spaced at 200 Hz." in dataset.report


def test_text_time_column_is_dropped():
    frame = _table(10)
    frame.insert(0, "Timestamp", [f"2024-01-01 00:00:0{i}" for i in range(10)])
    dataset = read_eeg_csv(_upload(frame), sfreq=1)
    assert dataset.raw.ch_names == CHANNELS
    np.testing.assert_allclose(dataset.raw.get_data(), frame[CHANNELS].to_numpy().T * 1e-6, rtol=0, atol=1e-12)


def test_text_column_is_refused_with_its_line():
    frame = _table(6).astype(object)
    frame["Cz"] = ["a", "b", 3.0, "d", "e", "f"]
    with pytest.raises(EEGFormatError, match=r"Column 'Cz' of 'eeg.csv' is text, not numbers \(line 2 reads 'a'\)"):
        read_eeg_csv(_upload(frame), sfreq=100)


def test_missing_values_are_refused_with_their_lines():
    frame = _table(10)
    frame.loc[[2, 6], "Pz"] = np.nan
    message = r"Channel 'Pz' of 'eeg.csv' has 2 missing or non-numeric values \(lines 4, 8\)"
    with pytest.raises(EEGFormatError, match=message):
        read_eeg_csv(_upload(frame), sfreq=100)


def test_a_non_number_in_a_channel_is_refused_with_its_line():
    text = "Fz,Cz\n1,2\n3,oops\n5,6\n7,8\n"
    with pytest.raises(EEGFormatError, match=r"Channel 'Cz' .* 1 missing or non-numeric value \(line 3\)"):
        read_eeg_csv(UploadedBytes("e.csv", text.encode()), sfreq=10)


def test_unreadable_table_is_an_eeg_format_error():
    with pytest.raises(EEGFormatError, match="Line 3 of 'e.csv' has 1 fields but line 1 has 2"):
        read_eeg_csv(UploadedBytes("e.csv", b"Fz,Cz\n1,2\n3\n"), sfreq=10)


def test_only_a_time_column_is_refused():
    with pytest.raises(EEGFormatError, match="no channel column"):
        read_eeg_csv(UploadedBytes("e.csv", b"time\n0\n1\n"), sfreq=10)


def test_one_sample_is_refused():
    with pytest.raises(EEGFormatError, match="at least 2 rows"):
        read_eeg_csv(UploadedBytes("e.csv", b"Fz,Cz\n1,2\n"), sfreq=10)


@pytest.mark.parametrize("sfreq", [0, -1.0, float("nan"), float("inf"), "fast", None, True])
def test_bad_sampling_frequency(sfreq):
    with pytest.raises(ParameterError, match="sampling frequency"):
        read_eeg_csv(_upload(_table(5)), sfreq=sfreq)


def test_bad_unit():
    with pytest.raises(ParameterError, match="Unit 'microvolt' is not accepted"):
        read_eeg_csv(_upload(_table(5)), sfreq=10, unit="microvolt")


def test_montage_is_set_when_names_match():
    frame = _table(20).rename(columns={"Oz": "EOG1"})
    dataset = read_eeg_csv(_upload(frame), sfreq=100)
    positions = dataset.raw.get_montage().get_positions()["ch_pos"]
    assert np.all(np.isfinite(positions["Fz"])) and np.linalg.norm(positions["Fz"]) > 0
    assert np.all(np.isnan(positions["EOG1"]))
    assert "Positions from the standard 10-20 montage were set for 3 of 4 channels." in dataset.report


def test_montage_matching_ignores_case():
    frame = _table(20).rename(columns=str.upper)
    dataset = read_eeg_csv(_upload(frame), sfreq=100)
    assert dataset.raw.get_montage() is not None
    assert "set for 4 of 4 channels" in " ".join(dataset.report)


def test_no_montage_without_matching_names():
    frame = _table(20).rename(columns=lambda c: f"ch{c}")
    dataset = read_eeg_csv(_upload(frame), sfreq=100)
    assert dataset.raw.get_montage() is None
    assert "No channel name is in the standard 10-20 montage, so channels have no positions." in dataset.report


def test_headerless_table_gets_generated_channel_names():
    frame = _table(20)
    upload = UploadedBytes("e.csv", frame.to_csv(index=False, header=False).encode())
    dataset = read_eeg_csv(upload, sfreq=100)
    assert dataset.raw.ch_names == ["column_1", "column_2", "column_3", "column_4"]


def test_implausible_amplitude_is_a_warning():
    dataset = read_eeg_csv(_upload(_table(20)), sfreq=100, unit="V")
    assert len(dataset.warnings) == 1 and "large for scalp EEG: check that the file is in V." in dataset.warnings[0]
    plausible = read_eeg_csv(_upload(_table(20)), sfreq=100, unit="uV")
    assert plausible.warnings == ()


def test_numbered_channels_and_the_header_choice():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.normal(0.0, 20.0, (500, 8)))
    numbered = read_eeg_csv(UploadedBytes("n.csv", frame.to_csv(index=False).encode()), sfreq=250)
    assert numbered.raw.ch_names == [str(j) for j in range(8)] and numbered.raw.n_times == 500
    assert numbered.warnings == ()
    headerless = UploadedBytes("h.csv", frame.to_csv(index=False, header=False).encode())
    assert read_eeg_csv(headerless, sfreq=250, header="first_row").raw.n_times == 499
    assert read_eeg_csv(headerless, sfreq=250, header="none").raw.n_times == 500


def test_dotted_eegbci_labels_are_standardised_and_positioned():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(0.0, 20.0, (300, 4)), columns=["Fc5.", "C3..", "Cz..", "C4.."])
    dataset = read_eeg_csv(UploadedBytes("s001.csv", frame.to_csv(index=False).encode()), sfreq=160)
    assert dataset.raw.ch_names == ["FC5", "C3", "Cz", "C4"]
    assert any("renamed as MNE's mne.datasets.eegbci.standardize does" in s for s in dataset.report)
    assert "Positions from the standard 10-20 montage were set for 4 of 4 channels." in dataset.report


# --- found by the upload fuzzer (tests/fuzz) -----------------------------------------------------------------


def test_a_header_with_a_long_blank_run_is_matched_in_linear_time() -> None:
    # The time-column pattern had '[\s_]*[\[(]?\s*': a run of blanks could be split between both,
    # so a header cell like 'time<100 000 blanks>x' took O(n^2) steps to fail.
    name = "time" + " " * 100_000 + "x"
    lines = [f"{name},Cz"] + [f"{i * 0.5:.1f},{i % 7 - 3:.1f}" for i in range(50)]
    start = time.perf_counter()
    ds = read_eeg_csv(UploadedBytes("blank.csv", "\n".join(lines).encode()), sfreq=100.0)
    assert time.perf_counter() - start < 5.0
    assert len(ds.raw.ch_names) == 2


@pytest.mark.parametrize("name", ["t", "time", "Time (s)", "time_s", "TIME[ms]", "times_s", "time sec", "time( s )"])
def test_time_column_names_are_still_recognised(name: str) -> None:
    lines = [f"{name},Cz"] + [f"{i / 100:.2f},{i % 7 - 3:.1f}" for i in range(50)]
    ds = read_eeg_csv(UploadedBytes("t.csv", "\n".join(lines).encode()), sfreq=100.0)
    assert ds.raw.ch_names == ["Cz"]
