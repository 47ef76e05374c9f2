"""covwb.sources: built-in data by name, uploads by name and SHA-256, read the same way on the page and in a script."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from covwb.datasets import names as builtin_names
from covwb.datasets.fingerprint import fingerprint
from covwb.datasets.simulated_eeg import simulate_motor_imagery
from covwb.datasets.tables import load_builtin_table
from covwb.datasets.types import EEGDataset, SPDStack, TableDataset
from covwb.errors import DataSourceError, ParameterError
from covwb.io.uploads import UploadedBytes, safe_basename
from covwb.sources import SIMULATED_EEG, BuiltinSource, SourceFile, UploadSource


def otu_counts(rows: int = 60, taxa: int = 127, seed: int = 0) -> bytes:
    """A microbiome-like count table: taxa named by their IDs, most cells zero."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.gamma(0.3, 20.0, taxa), size=(rows, taxa)) * (rng.random((rows, taxa)) < 0.25)
    lines = [",".join(f"OTU{i}" for i in range(1000, 1000 + taxa))] + [",".join(map(str, row)) for row in counts]
    return ("\n".join(lines) + "\n").encode()


def test_builtin_sources_load_the_same_data_as_the_dataset_modules() -> None:
    assert builtin_names()[0] == SIMULATED_EEG and "pottery" in builtin_names()
    table = BuiltinSource("pottery").load()
    assert isinstance(table, TableDataset) and table.builtin
    assert fingerprint(table) == fingerprint(load_builtin_table("pottery"))
    recording = BuiltinSource(SIMULATED_EEG, seed=3).load()
    assert isinstance(recording, EEGDataset)
    assert fingerprint(recording.raw) == fingerprint(simulate_motor_imagery(seed=3).raw)
    assert BuiltinSource(SIMULATED_EEG, seed=3).describe() == (
        "the built-in dataset 'Simulated motor-imagery EEG' (seed 3), loaded by name"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "iris"}, "There is no built-in dataset named 'iris'"),
        ({"name": "pottery", "seed": 2}, "is not generated, so it takes no seed"),
        ({"name": SIMULATED_EEG, "seed": -1}, "Simulation seed must be between 0 and"),
    ],
)
def test_bad_builtin_sources_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        BuiltinSource(**kwargs)


def test_an_upload_is_recorded_by_name_and_sha256_of_its_bytes_and_read_back() -> None:
    data = otu_counts()
    upload = UploadedBytes("otu table (2).csv", data)
    source = UploadSource.of("table", [upload])
    assert source.files == (SourceFile("otu table (2).csv", hashlib.sha256(data).hexdigest()),)
    table = source.read([upload])
    assert table.frame.shape == (60, 127) and list(table.frame.columns[:2]) == ["OTU1000", "OTU1001"]
    changed = data.replace(b"\n0,", b"\n1,", 1)
    assert changed != data
    with pytest.raises(DataSourceError, match=r"differs from the one these settings were made with \(SHA-256"):
        source.read([UploadedBytes("otu table (2).csv", changed)])
    with pytest.raises(DataSourceError, match="is missing; provide it under that name"):
        source.read([UploadedBytes("other.csv", data)])


def test_load_reads_files_by_base_name_from_a_folder(tmp_path: Path) -> None:
    data = otu_counts(rows=12, taxa=5)
    source = UploadSource.of("table", [UploadedBytes("../../etc/counts.csv", data)])
    assert source.files[0].base_name == "counts.csv"
    with pytest.raises(DataSourceError, match=r"is not in .*copy the file you uploaded"):
        source.load(tmp_path)
    (tmp_path / "counts.csv").write_bytes(data)
    assert source.load(tmp_path).frame.shape == (12, 5)
    (tmp_path / "counts.csv").write_bytes(data + b"1,2,3,4,5\n")
    with pytest.raises(DataSourceError, match="use the original file"):
        source.load(tmp_path)


def test_reader_options_are_recorded_and_checked() -> None:
    rows = "\n".join(",".join(f"{v:.3f}" for v in row) for row in np.random.default_rng(1).normal(size=(600, 3)))
    upload = UploadedBytes("rec.csv", ("C3,Cz,C4\n" + rows + "\n").encode())
    source = UploadSource.of("eeg_csv", [upload], sfreq=200.0, unit="uV")
    assert source.options == (("sfreq", 200.0), ("unit", "uV"))
    recording = source.read([upload])
    assert recording.raw.info["sfreq"] == 200.0 and recording.raw.ch_names == ["C3", "Cz", "C4"]
    files = source.files
    with pytest.raises(ParameterError, match="reader needs the option 'sfreq'"):
        UploadSource(reader="eeg_csv", files=files)
    with pytest.raises(ParameterError, match="has no option 'delimiter'; its options are sfreq, unit"):
        UploadSource(reader="eeg_csv", files=files, options=(("sfreq", 1.0), ("delimiter", ";")))
    with pytest.raises(ParameterError, match="reads one file, got 2"):
        UploadSource(reader="spd", files=(*files, SourceFile("b.npy", files[0].sha256)))
    with pytest.raises(ParameterError, match="File type must be one of"):
        UploadSource(reader="xlsx", files=files)


def test_several_files_of_one_recording_are_checked_together() -> None:
    covs = np.stack([np.eye(3) * (i + 1) for i in range(4)])
    import io

    buffer = io.BytesIO()
    np.save(buffer, covs)
    upload = UploadedBytes("covs.npy", buffer.getvalue())
    stack = UploadSource.of("spd", [upload]).read([upload])
    assert isinstance(stack, SPDStack) and stack.matrices.shape == (4, 3, 3)
    with pytest.raises(ParameterError, match="Two uploaded files have the same name"):
        UploadSource(reader="eeg", files=(SourceFile("a.vhdr", "0" * 64), SourceFile("a.vhdr", "1" * 64)))


def test_builtin_sources_load_through_the_one_loader_of_builtin_data(monkeypatch: pytest.MonkeyPatch) -> None:
    import covwb.datasets

    calls = []
    real = covwb.datasets.load

    def spy(name, **options):
        calls.append((name, options))
        return real(name, **options)

    monkeypatch.setattr(covwb.datasets, "load", spy)
    BuiltinSource("pottery").load()
    BuiltinSource(SIMULATED_EEG, seed=2).load()
    assert calls == [("pottery", {}), (SIMULATED_EEG, {"seed": 2})]


@pytest.mark.parametrize("name", ["../../etc/.x\x07y.csv", "C:\\Users\\me\\ .x\x07y.csv"])
def test_a_file_is_looked_up_under_the_name_the_readers_give_it(name: str, tmp_path: Path) -> None:
    data = otu_counts(rows=5, taxa=3)
    upload = UploadedBytes(name, data)
    source = UploadSource.of("table", [upload])
    assert source.files[0].base_name == safe_basename(name) == source.read([upload]).name == "xy.csv"
    (tmp_path / "xy.csv").write_bytes(data)
    assert source.load(tmp_path).frame.shape == (5, 3)


def test_raw_trials_uploaded_as_covariances_record_their_estimator(tmp_path: Path) -> None:
    import io

    from covwb.io.spd import read_spd_or_trials, trial_covariances
    from tests.io.test_spd import eeg_like_trials

    buffer = io.BytesIO()
    np.save(buffer, eeg_like_trials(n_trials=12))
    upload = UploadedBytes("s001.npy", buffer.getvalue())
    source = UploadSource.of("spd", [upload], trial_estimator="shrinkage", trial_shrinkage=0.3)
    assert source.options == (("trial_estimator", "shrinkage"), ("trial_shrinkage", 0.3))
    (tmp_path / "s001.npy").write_bytes(upload.data)
    stack = source.load(tmp_path)
    expected = trial_covariances(read_spd_or_trials(upload), "shrinkage", 0.3)
    np.testing.assert_array_equal(stack.matrices, expected.matrices)
    assert stack.description == expected.description
    default = UploadSource.of("spd", [upload]).read([upload])
    assert "the default for raw trials" in default.description
    with pytest.raises(ParameterError, match="has no option 'estimator'; its options are header, trial_estimator"):
        UploadSource(reader="spd", files=source.files, options=(("estimator", "oas"),))


def test_the_header_choice_is_a_reader_option() -> None:
    upload = UploadedBytes("wavelengths.csv", b"400.5,401.5,402.5\n0.3,0.1,0.2\n0.5,0.2,0.7\n0.4,0.3,0.1\n")
    guessed = UploadSource.of("table", [upload], header="auto").read([upload])
    assert guessed.frame.shape == (4, 3) and guessed.warnings
    chosen = UploadSource.of("table", [upload], header="first_row").read([upload])
    assert list(chosen.frame.columns) == ["400.5", "401.5", "402.5"] and chosen.frame.shape == (3, 3)
    assert not chosen.warnings
