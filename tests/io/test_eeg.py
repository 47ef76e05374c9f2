"""Tests of covwb.io.eeg: every supported format, companions, grouping, errors, fuzzing."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import mne
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covwb.datasets.types import EEGDataset
from covwb.errors import EEGFormatError
from covwb.io.eeg import (
    SUPPORTED_EEG_SUFFIXES,
    eeg_suffix,
    group_recordings,
    read_eeg,
)
from covwb.io.uploads import UploadedBytes, safe_basename
from tests.io.eeg_files import (
    NAMES,
    SFREQ,
    brainvision_files,
    edf_bytes,
    eeglab_files,
    fif_bytes,
    gdf_bytes,
)
from tests.io.eeg_files import raw_array as _raw
from tests.io.eeg_files import signal as _signal


def _shared_uploads(folder: Path, *names: str) -> list[UploadedBytes]:
    return [UploadedBytes(n, (folder / n).read_bytes()) for n in names]


# --- the reference files -------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_edf_plus_with_annotations(shared_data: Path) -> None:
    ds = read_eeg(_shared_uploads(shared_data / "eeg", "test_reduced.edf"))
    raw = ds.raw
    assert isinstance(ds, EEGDataset) and raw.preload
    assert raw.info["nchan"] == 139 and raw.info["sfreq"] == 512.0
    assert Counter(raw.get_channel_types()) == {"eeg": 138, "stim": 1}
    assert raw.n_times / raw.info["sfreq"] == pytest.approx(6.0)
    counts = Counter(raw.annotations.description)
    assert counts["type A"] == 3 and counts["type B"] == 1
    reference = mne.io.read_raw_edf(shared_data / "eeg" / "test_reduced.edf", preload=True, verbose="error")
    np.testing.assert_array_equal(raw.get_data(), reference.get_data())
    assert ds.name == "test_reduced" and ds.source == "upload: test_reduced.edf"
    text = " ".join(ds.report)
    assert "139 channels: 138 eeg, 1 stim" in text and "512 Hz" in text and "6.00 s" in text


@pytest.mark.shared_data
def test_bdf_with_stim_channel(shared_data: Path) -> None:
    raw = read_eeg(_shared_uploads(shared_data / "eeg", "test_bdf_stim_channel.bdf")).raw
    assert raw.info["nchan"] == 4 and raw.info["sfreq"] == 500.0
    assert raw.get_channel_types() == ["eeg", "eeg", "eeg", "stim"]
    assert raw.n_times / raw.info["sfreq"] == pytest.approx(10.0)
    events = mne.find_events(raw, stim_channel="Status", shortest_event=1, verbose="error")
    assert np.count_nonzero(events[:, 2] == 1) == 7


@pytest.mark.shared_data
def test_eeglab_set_with_fdt(shared_data: Path) -> None:
    ds = read_eeg(_shared_uploads(shared_data / "eeg", "test_raw.fdt", "test_raw.set"))
    raw = ds.raw
    assert raw.info["nchan"] == 32 and raw.info["sfreq"] == 128.0
    assert set(raw.get_channel_types()) == {"eeg"}
    assert raw.n_times / raw.info["sfreq"] == pytest.approx(238.3125)
    assert Counter(raw.annotations.description) == {"square": 80, "rt": 74}
    reference = mne.io.read_raw_eeglab(shared_data / "eeg" / "test_raw.set", preload=True, verbose="error")
    np.testing.assert_array_equal(raw.get_data(), reference.get_data())
    assert ds.source == "upload: test_raw.set + test_raw.fdt"
    assert any("microvolts" in line for line in ds.report)


@pytest.mark.shared_data
def test_eeglab_set_holding_its_data(shared_data: Path) -> None:
    from scipy.io import loadmat, savemat

    folder = shared_data / "eeg"
    content = loadmat(folder / "test_raw.set", struct_as_record=True, squeeze_me=False)
    eeg = content["EEG"]
    n_chan, n_times = int(eeg["nbchan"][0, 0].item()), int(eeg["pnts"][0, 0].item())
    samples = np.fromfile(folder / "test_raw.fdt", dtype="<f4").reshape(n_times, n_chan).T
    eeg["data"][0, 0] = samples
    buffer = io.BytesIO()
    savemat(buffer, {"EEG": eeg}, appendmat=False)
    raw = read_eeg([UploadedBytes("embedded.set", buffer.getvalue())]).raw
    reference = mne.io.read_raw_eeglab(folder / "test_raw.set", preload=True, verbose="error")
    np.testing.assert_allclose(raw.get_data(), reference.get_data(), rtol=1e-6, atol=0)
    assert len(raw.annotations) == 154


@pytest.mark.shared_data
def test_eeglab_missing_or_renamed_fdt(shared_data: Path) -> None:
    folder = shared_data / "eeg"
    with pytest.raises(EEGFormatError, match=r"\.set given but the \.fdt file it names, 'test_raw\.fdt', was not"):
        read_eeg(_shared_uploads(folder, "test_raw.set"))
    renamed = [*_shared_uploads(folder, "test_raw.set"), UploadedBytes("other.fdt", b"\0" * 16)]
    with pytest.raises(EEGFormatError, match=r"uploaded instead: 'other\.fdt'"):
        read_eeg(renamed)


@pytest.mark.shared_data
def test_group_recordings_of_the_reference_files(shared_data: Path) -> None:
    folder = shared_data / "eeg"
    uploads = _shared_uploads(folder, "test_raw.fdt", "test_reduced.edf", "test_raw.set", "test_bdf_stim_channel.bdf")
    groups = group_recordings(uploads)
    assert [[u.name for u in g] for g in groups] == [
        ["test_raw.fdt", "test_raw.set"],
        ["test_reduced.edf"],
        ["test_bdf_stim_channel.bdf"],
    ]
    assert [read_eeg(g).raw.info["nchan"] for g in groups] == [32, 139, 4]


# --- round trips written here --------------------------------------------------------------------------------


def test_fif_round_trip_plain_and_gzipped() -> None:
    data = _signal()
    raw = _raw(data)
    raw.set_annotations(mne.Annotations([0.5, 1.5], [0.0, 0.5], ["left", "right"]))
    for name in ("rec_raw.fif", "rec_raw.fif.gz"):
        ds = read_eeg([UploadedBytes(name, fif_bytes(raw, name))])
        np.testing.assert_allclose(ds.raw.get_data(), raw.get_data(), rtol=1e-6)
        assert list(ds.raw.annotations.description) == ["left", "right"]
        assert ds.name == "rec_raw"
        assert not any("naming" in line for line in ds.report)


def test_brainvision_round_trip() -> None:
    data = _signal()
    ds = read_eeg(brainvision_files(data))
    np.testing.assert_allclose(ds.raw.get_data(), data * 1e-6, rtol=1e-6, atol=1e-12)
    assert ds.raw.ch_names == list(NAMES)
    onsets = ds.raw.annotations.onset[ds.raw.annotations.description != "New Segment/"]
    np.testing.assert_allclose(onsets, [0.5, 1.5])
    assert ds.source == "upload: rec.vhdr + rec.eeg + rec.vmrk"


def test_brainvision_companions_named_by_the_header_not_the_stem() -> None:
    files = brainvision_files(_signal(), stem="run1", data_name="payload.eeg", marker_name="marks.vmrk")
    ds = read_eeg(files[::-1])
    assert ds.raw.info["nchan"] == 3


def test_edf_round_trip_written_by_hand() -> None:
    data = _signal()
    ds = read_eeg([UploadedBytes("hand.edf", edf_bytes(data, annotations=[(0.5, 0, "left"), (1.25, 0.5, "right")]))])
    step = (data.max(axis=1) - data.min(axis=1) + 4.0) / 65535.0
    np.testing.assert_allclose(ds.raw.get_data() * 1e6, data, rtol=0, atol=float(step.max()))
    assert list(ds.raw.annotations.description) == ["left", "right"]
    np.testing.assert_allclose(ds.raw.annotations.onset, [0.5, 1.25])
    assert ds.raw.info["sfreq"] == SFREQ


def test_eegbci_labels_padded_with_dots_are_standardised(tmp_path: Path) -> None:
    """PhysioNet EEGMMIDB EDF files pad labels with dots: 'Fc5.', 'C3..'; they get MNE's standard names."""
    data = np.vstack([_signal(480, seed=k) for k in range(2)])[:5]
    dotted = ("Fc5.", "C3..", "Cz..", "C4..", "Fp1.")
    ds = read_eeg([UploadedBytes("S001R04.edf", edf_bytes(data, names=dotted, annotations=[(0.5, 4.1, "T1")]))])
    (tmp_path / "reference.edf").write_bytes(edf_bytes(data, names=dotted))
    reference = mne.io.read_raw_edf(tmp_path / "reference.edf", preload=True, verbose="error")
    mne.datasets.eegbci.standardize(reference)
    assert ds.raw.ch_names == reference.ch_names == ["FC5", "C3", "Cz", "C4", "Fp1"]
    assert (
        "5 channel labels ended in dots, as PhysioNet EEGMMIDB (eegbci) writes them; renamed as MNE's "
        "mne.datasets.eegbci.standardize does: 'Fc5.' -> 'FC5', 'C3..' -> 'C3', 'Cz..' -> 'Cz', 'C4..' -> 'C4' "
        "and 1 more." in ds.report
    )
    assert "Positions from the standard 10-20 montage were set for 5 of 5 channels." in ds.report
    positions = ds.raw.get_montage().get_positions()["ch_pos"]
    assert positions["C3"][0] < 0 < positions["C4"][0]  # left and right of the midline


def test_labels_without_trailing_dots_are_left_alone() -> None:
    ds = read_eeg([UploadedBytes("plain.edf", edf_bytes(_signal(), names=("Fz.x", "cz", "EOG left")))])
    assert ds.raw.ch_names == ["Fz.x", "cz", "EOG left"]
    assert not any("ended in dots" in line for line in ds.report)
    assert ds.raw.get_montage() is None


def test_gdf_round_trip_written_by_hand() -> None:
    data = _signal()
    ds = read_eeg([UploadedBytes("hand.gdf", gdf_bytes(data, events=[(50, 769), (150, 770)]))])
    np.testing.assert_allclose(ds.raw.get_data() * 1e6, data, rtol=1e-6, atol=1e-4)
    assert list(ds.raw.annotations.description) == ["769", "770"]
    np.testing.assert_allclose(ds.raw.annotations.onset, [0.5, 1.5])


def test_truncated_edf_data_is_read_with_a_report_sentence() -> None:
    whole = edf_bytes(_signal(400))
    ds = read_eeg([UploadedBytes("cut.edf", whole[: len(whole) - 500])])
    assert ds.raw.n_times == 300
    assert any("does not match the file size" in line for line in ds.report)


# --- names and the private folder ----------------------------------------------------------------------------


def test_suffixes_and_safe_basenames() -> None:
    assert ".fif.gz" in SUPPORTED_EEG_SUFFIXES and ".vhdr" in SUPPORTED_EEG_SUFFIXES
    assert eeg_suffix("A.FIF.GZ") == ".fif.gz" and eeg_suffix("x.EDF") == ".edf" and eeg_suffix(".edf") == ""
    assert safe_basename("../../etc/passwd") == "passwd"
    assert safe_basename("C:\\Users\\me\\run.vhdr") == "run.vhdr"
    assert safe_basename("..") == "upload" and safe_basename("a\x00b.edf") == "ab.edf"
    assert safe_basename("x" * 400 + ".edf").endswith(".edf") and len(safe_basename("x" * 400 + ".edf")) <= 150


def test_uploaded_paths_are_reduced_to_basenames() -> None:
    raw = _raw(_signal())
    ds = read_eeg([UploadedBytes("../../outside_raw.fif", fif_bytes(raw))])
    assert ds.source == "upload: outside_raw.fif"


def test_private_folder_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    read_eeg(brainvision_files(_signal()))
    with pytest.raises(EEGFormatError):
        read_eeg([UploadedBytes("bad.edf", b"0       garbage")])
    with pytest.raises(EEGFormatError):
        read_eeg(brainvision_files(_signal())[:2])
    assert list(tmp_path.iterdir()) == []


# --- errors --------------------------------------------------------------------------------------------------


def test_unknown_extension_lists_the_supported_ones() -> None:
    with pytest.raises(EEGFormatError, match=r"'notes\.txt' has an unsupported extension.*\.vhdr.*\.set"):
        read_eeg([UploadedBytes("notes.txt", b"hello")])


def test_nothing_uploaded() -> None:
    with pytest.raises(EEGFormatError, match="no file was uploaded"):
        read_eeg([])


def test_brainvision_missing_companions() -> None:
    header, marker, data = brainvision_files(_signal(), stem="x")
    message = (
        r"\.vhdr given but the \.eeg file it names, 'x\.eeg', was not uploaded; upload the \.vhdr, \.vmrk and \.eeg"
    )
    with pytest.raises(EEGFormatError, match=message):
        read_eeg([header, marker])
    with pytest.raises(EEGFormatError, match=r"the \.vmrk file it names, 'x\.vmrk', was not uploaded"):
        read_eeg([header, data])
    renamed = UploadedBytes("y.eeg", data.data)
    with pytest.raises(EEGFormatError, match=r"uploaded instead: 'y\.eeg'"):
        read_eeg([header, marker, renamed])


def test_brainvision_header_without_data_file_or_with_a_folder_path() -> None:
    header, marker, data = brainvision_files(_signal(), stem="x")
    no_data = UploadedBytes("x.vhdr", header.data.replace(b"DataFile=x.eeg", b""))
    with pytest.raises(EEGFormatError, match="no 'DataFile=' line"):
        read_eeg([no_data, marker, data])
    escaping = UploadedBytes("x.vhdr", header.data.replace(b"DataFile=x.eeg", b"DataFile=../../x.eeg"))
    with pytest.raises(EEGFormatError, match="not a plain .eeg file name"):
        read_eeg([escaping, marker, data])


def test_companion_without_header_stray_file_and_duplicates() -> None:
    header, marker, data = brainvision_files(_signal(), stem="x")
    with pytest.raises(EEGFormatError, match=r"'x\.eeg' is a companion file without its \.vhdr file"):
        read_eeg([data])
    with pytest.raises(EEGFormatError, match=r"'extra\.fdt' does not belong to the BrainVision recording 'x\.vhdr'"):
        read_eeg([header, marker, data, UploadedBytes("extra.fdt", b"\0")])
    with pytest.raises(EEGFormatError, match=r"both named 'x\.eeg'"):
        read_eeg([header, marker, data, data])


def test_several_recordings_are_refused() -> None:
    edf = edf_bytes(_signal())
    with pytest.raises(EEGFormatError, match=r"several recordings were uploaded together \('a\.edf', 'b\.edf'\)"):
        read_eeg([UploadedBytes("a.edf", edf), UploadedBytes("b.edf", edf)])


def test_corrupt_file_names_the_file_and_keeps_the_cause() -> None:
    with pytest.raises(EEGFormatError, match=r"'broken\.fif' could not be read as FIF") as info:
        read_eeg([UploadedBytes("broken.fif", b"\x00\x01" * 500)])
    assert info.value.__cause__ is not None


def test_truncated_edf_header_is_refused() -> None:
    with pytest.raises(EEGFormatError, match=r"'cut\.edf' could not be read as EDF"):
        read_eeg([UploadedBytes("cut.edf", edf_bytes(_signal())[:300])])


def test_matlab_73_set_is_refused() -> None:
    with pytest.raises(EEGFormatError, match="MATLAB v7.3"):
        read_eeg([UploadedBytes("new.set", b"MATLAB 7.3 MAT-file, Platform: GLNXA64" + bytes(600))])


def test_no_eeg_channels() -> None:
    raw = _raw(_signal(), types="misc")
    with pytest.raises(EEGFormatError, match=r"'misc_raw\.fif' has no EEG channels \(its channels are 3 misc\)"):
        read_eeg([UploadedBytes("misc_raw.fif", fif_bytes(raw))])


def test_nan_samples_are_refused_naming_the_channel() -> None:
    data = _signal()
    data[1, 120:] = np.nan
    with pytest.raises(EEGFormatError, match=r"NaN or infinite\) samples in channel 'Cz' from 1\.200 s"):
        read_eeg([UploadedBytes("nan_raw.fif", fif_bytes(_raw(data)))])


# --- grouping ------------------------------------------------------------------------------------------------


def test_group_recordings_by_header_reference_then_stem() -> None:
    run1 = brainvision_files(_signal(), stem="run1", data_name="payload.eeg", marker_name="marks.vmrk")
    run2 = brainvision_files(_signal(seed=1), stem="run2")
    fif = UploadedBytes("rest_raw.fif", fif_bytes(_raw(_signal())))
    orphan = UploadedBytes("lonely.fdt", b"\0")
    notes = UploadedBytes("notes.txt", b"x")
    uploads = [run2[2], run1[0], fif, orphan, run2[0], run1[2], notes, run1[1], run2[1]]
    groups = group_recordings(uploads)
    assert [[u.name for u in g] for g in groups] == [
        ["run2.eeg", "run2.vhdr", "run2.vmrk"],
        ["run1.vhdr", "payload.eeg", "marks.vmrk"],
        ["rest_raw.fif"],
        ["lonely.fdt"],
        ["notes.txt"],
    ]
    assert [read_eeg(g).raw.info["nchan"] for g in groups[:3]] == [3, 3, 3]
    for group in groups[3:]:
        with pytest.raises(EEGFormatError):
            read_eeg(group)


def test_group_recordings_falls_back_to_stems_for_unreadable_headers() -> None:
    header = UploadedBytes("a.vhdr", b"not a header")
    data = UploadedBytes("a.eeg", b"\0" * 8)
    assert [[u.name for u in g] for g in group_recordings([data, header])] == [["a.eeg", "a.vhdr"]]
    assert group_recordings([]) == []


# --- fuzzing: only EEGFormatError or a valid dataset ---------------------------------------------------------

_FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_SMALL_EDF = edf_bytes(_signal(200), annotations=[(0.5, 0, "go")])
_EDF_FIELDS = [
    (0, 8, 1), (8, 80, 1), (88, 80, 1), (168, 8, 1), (176, 8, 1), (184, 8, 1), (192, 44, 1), (236, 8, 1),
    (244, 8, 1), (252, 4, 1), (256, 16, 4), (320, 80, 4), (640, 8, 4), (672, 8, 4), (704, 8, 4), (736, 8, 4),
    (768, 8, 4), (800, 80, 4), (1120, 8, 4),
]  # fmt: skip
"""Fixed and per-signal header fields of the 4-signal EDF: (offset, width, number of signals)."""


def _read_or_refuse(files: list[UploadedBytes]) -> None:
    """Reading gives a valid dataset or an EEGFormatError with a sentence; nothing else."""
    try:
        ds = read_eeg(files)
    except EEGFormatError as error:
        assert str(error).endswith(".") and len(str(error)) > 20
        return
    data = ds.raw.get_data()
    assert data.ndim == 2 and data.shape[1] > 0 and np.isfinite(data).all()
    assert "eeg" in ds.raw.get_channel_types()


@_FUZZ
@given(cut=st.integers(min_value=0, max_value=len(_SMALL_EDF) - 1))
def test_fuzz_truncated_edf(cut: int) -> None:
    _read_or_refuse([UploadedBytes("cut.edf", _SMALL_EDF[:cut])])


@_FUZZ
@given(
    data=st.binary(min_size=0, max_size=3000),
    suffix=st.sampled_from([".edf", ".bdf", ".gdf", ".fif", ".fif.gz", ".set", ".vhdr"]),
)
def test_fuzz_random_bytes(data: bytes, suffix: str) -> None:
    _read_or_refuse([UploadedBytes("random" + suffix, data)])


@_FUZZ
@given(
    field=st.sampled_from(_EDF_FIELDS),
    signal=st.integers(min_value=0, max_value=3),
    text=st.one_of(
        st.text(alphabet="0123456789+-.eE ", max_size=8),
        st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
        st.sampled_from(["-1", "0", "99999999", "1e9", "nan", "inf", "-32768", "EDF+D"]),
    ),
)
def test_fuzz_edf_header_fields(field: tuple[int, int, int], signal: int, text: str) -> None:
    offset, width, count = field
    start = offset + width * (signal % count)
    value = text.encode("latin-1")[:width].ljust(width, b" ")[:width]
    mutated = _SMALL_EDF[:start] + value + _SMALL_EDF[start + width :]
    _read_or_refuse([UploadedBytes("edited.edf", mutated)])


@_FUZZ
@given(
    line=st.sampled_from(
        ["DataFile=rec.eeg", "NumberOfChannels=3", "SamplingInterval=10000", "BinaryFormat=IEEE_FLOAT_32",
         "DataOrientation=MULTIPLEXED", "Ch2=Cz,,1,µV", "MarkerFile=rec.vmrk"]
    ),
    replacement=st.text(max_size=30),
)  # fmt: skip
def test_fuzz_brainvision_header_lines(line: str, replacement: str) -> None:
    header, marker, data = brainvision_files(_signal())
    text = header.data.decode("utf-8").replace(line, replacement)
    _read_or_refuse([UploadedBytes("rec.vhdr", text.encode("utf-8", "surrogatepass")), marker, data])


# --- found by the upload fuzzer (tests/fuzz) -----------------------------------------------------------------


def _crashing_set() -> bytes:
    """An EEGLAB .set whose first double element has a bad type code: SciPy's MAT reader segfaults on it."""
    data = bytearray(eeglab_files(_signal(256), compress=False)[0].data)
    data[data.index(b"\x09\x00\x00\x00\x08\x00\x00\x00")] = 0x2D
    return bytes(data)


def test_eeglab_set_that_crashes_scipy_is_refused_in_isolation() -> None:
    data = _crashing_set()
    probe = "import io, sys; from scipy.io import loadmat; loadmat(io.BytesIO(sys.stdin.buffer.read()))"
    crashed = subprocess.run([sys.executable, "-c", probe], input=data, capture_output=True, check=False).returncode < 0
    with pytest.raises(EEGFormatError, match=r"'crash\.set' is not a readable EEGLAB \.set file") as info:
        read_eeg([UploadedBytes("crash.set", data)])
    if crashed:  # the SciPy bug is still there: the message says the reader crashed
        assert "crashed with signal" in str(info.value)
    assert group_recordings([UploadedBytes("crash.set", data)]) == [[UploadedBytes("crash.set", data)]]


def test_eeglab_files_are_parsed_outside_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.io

    files = eeglab_files(_signal(300, seed=3), events=((50, "left"), (150, "right"), (250, "left")))
    with tempfile.TemporaryDirectory() as tmp:
        for upload in files:
            (Path(tmp) / upload.name).write_bytes(upload.data)
        reference = mne.io.read_raw_eeglab(Path(tmp) / files[0].name, preload=True, verbose="error")

    def refuse(*args, **kwargs):
        raise AssertionError("a MAT file was parsed in the server process")

    monkeypatch.setattr(scipy.io, "loadmat", refuse)
    monkeypatch.setattr(scipy.io.matlab, "loadmat", refuse)
    monkeypatch.setattr(mne.io, "read_raw_eeglab", refuse)
    raw = read_eeg(files).raw
    np.testing.assert_array_equal(raw.get_data(), reference.get_data())
    assert list(raw.annotations.description) == ["left", "right", "left"]
    np.testing.assert_allclose(raw.annotations.onset, reference.annotations.onset)
    assert raw.ch_names == reference.ch_names and raw.info["sfreq"] == reference.info["sfreq"]


def test_eeglab_data_file_name_is_looked_up_once_per_content(monkeypatch: pytest.MonkeyPatch) -> None:
    from covwb.io import eeg as eeg_module

    files = eeglab_files(_signal(seed=7), stem="once")
    calls = []
    real = eeg_module.run_isolated

    def counting(code, *args, **kwargs):
        calls.append(code is eeg_module._SET_REFERENCE_READER)
        return real(code, *args, **kwargs)

    monkeypatch.setattr(eeg_module, "run_isolated", counting)
    groups = group_recordings(files)
    read_eeg(groups[0])
    group_recordings(files)
    assert calls.count(True) == 1 and calls.count(False) == 1


def test_brainvision_header_with_a_long_blank_run_is_parsed_in_linear_time() -> None:
    # 'DataFile=(.*?)[ \t]*\r?$' backtracked over every blank of a long run: O(n^2).
    header, marker, data = brainvision_files(_signal(), stem="x")
    padded = header.data.replace(b"DataFile=x.eeg", b"DataFile=x.eeg" + b" " * 200_000 + b"y")
    start = time.perf_counter()
    with pytest.raises(EEGFormatError, match="not a plain .eeg file name"):
        read_eeg([UploadedBytes("x.vhdr", padded), marker, data])
    assert time.perf_counter() - start < 5.0
    blanks = header.data.replace(b"DataFile=x.eeg", b"DataFile= \t x.eeg \t\r")
    assert read_eeg([UploadedBytes("x.vhdr", blanks), marker, data]).raw.info["nchan"] == 3
