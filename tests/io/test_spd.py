"""Reading uploaded SPD stacks: formats, orientation, labels, refusals, random bytes."""

from __future__ import annotations

import io
import pickle
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest
import scipy.io
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covwb.covariance.estimators import covariances
from covwb.covariance.geometry import check_spd_stack
from covwb.datasets.types import TrialStack
from covwb.errors import ParameterError, SPDInputError
from covwb.io.spd import SPDStack, read_spd_or_trials, read_spd_stack, trial_covariances
from covwb.io.uploads import UploadedBytes

UNPICKLED: list[str] = []


def trip(word: str) -> None:
    """Called by unpickling a :class:`Tripwire`."""
    UNPICKLED.append(word)


class Tripwire:
    """Records that it was unpickled."""

    def __reduce__(self):
        return (trip, ("unpickled",))


@pytest.fixture(scope="module")
def covs() -> np.ndarray:
    return covariances(np.random.default_rng(0).standard_normal((6, 3, 40)))


def npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, arr, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def mat_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, arrays)
    return buffer.getvalue()


def test_npy_stack(covs: np.ndarray) -> None:
    stack = read_spd_stack(UploadedBytes("covs.npy", npy_bytes(covs)))
    assert isinstance(stack, SPDStack)
    assert stack.matrices.dtype == np.float64
    np.testing.assert_array_equal(stack.matrices, covs)
    assert stack.labels is None
    assert stack.source == "upload: covs.npy"
    assert stack.report[0] == "Read 6 matrices of size 3 x 3."


def test_npy_single_matrix_and_float32(covs: np.ndarray) -> None:
    stack = read_spd_stack(UploadedBytes("one.NPY", npy_bytes(covs[0].astype(np.float32))))
    assert stack.matrices.shape == (1, 3, 3)
    np.testing.assert_allclose(stack.matrices[0], covs[0], rtol=1e-6)


def test_npz_with_labels(covs: np.ndarray) -> None:
    y = np.array([0, 1, 2, 0, 1, 2])
    stack = read_spd_stack(UploadedBytes("d.npz", npz_bytes(covs=covs, y=y)))
    np.testing.assert_array_equal(stack.matrices, covs)
    assert stack.labels.tolist() == ["0", "1", "2", "0", "1", "2"]
    assert "Labels taken from array 'y'." in stack.report


def test_npz_x_and_string_labels(covs: np.ndarray) -> None:
    labels = np.array(list("aabbcc"))
    stack = read_spd_stack(UploadedBytes("d.npz", npz_bytes(X=covs, labels=labels)))
    assert stack.labels.tolist() == list("aabbcc")


def test_npz_without_known_names(covs: np.ndarray) -> None:
    with pytest.raises(SPDInputError, match="'a', 'b'.*'covs'"):
        read_spd_stack(UploadedBytes("d.npz", npz_bytes(a=covs, b=covs)))
    stack = read_spd_stack(UploadedBytes("d.npz", npz_bytes(anything=covs)))
    assert stack.matrices.shape == (6, 3, 3)


def test_csv_with_header_and_label_column(covs: np.ndarray) -> None:
    frame = pd.DataFrame(covs.reshape(6, 9), columns=[f"c{i}" for i in range(9)])
    frame.insert(0, "Class", list("xyxyxy"))
    stack = read_spd_stack(UploadedBytes("t.csv", frame.to_csv(index=False).encode()))
    np.testing.assert_array_equal(stack.matrices, covs)
    assert stack.labels.tolist() == list("xyxyxy")


def test_csv_without_header_semicolons(covs: np.ndarray) -> None:
    text = pd.DataFrame(covs.reshape(6, 9)).to_csv(index=False, header=False, sep=";")
    stack = read_spd_stack(UploadedBytes("t.csv", text.encode()))
    np.testing.assert_array_equal(stack.matrices, covs)


def test_csv_numeric_header_from_pandas(covs: np.ndarray) -> None:
    text = pd.DataFrame(covs.reshape(6, 9)).to_csv(index=False)
    stack = read_spd_stack(UploadedBytes("t.csv", text.encode()))
    np.testing.assert_array_equal(stack.matrices, covs)
    assert (
        "Line 1 of 't.csv' (0, 1, 2, ..., 8) was read as the header: its numbers run from 0 to 8 "
        "and the rows below hold non-integers." in stack.report
    )
    assert stack.warnings == ()


def test_csv_header_choice_reaches_the_table_reader(covs: np.ndarray) -> None:
    single = pd.DataFrame(covs[:, :1, :1].reshape(6, 1)).to_csv(index=False)
    stack = read_spd_stack(UploadedBytes("one.csv", single.encode()))
    assert stack.matrices.shape == (6, 1, 1)
    assert len(stack.warnings) == 1 and "'No header row'" in stack.warnings[0]
    with pytest.raises(SPDInputError, match="Matrix 1 .* not positive definite|Matrix 1 .*positive"):
        read_spd_stack(UploadedBytes("one.csv", single.encode()), header="none")
    headerless = pd.DataFrame(covs.reshape(6, 9)).to_csv(index=False, header=False)
    assert read_spd_stack(UploadedBytes("t.csv", headerless.encode()), header="first_row").matrices.shape == (5, 3, 3)


def test_csv_errors(covs: np.ndarray) -> None:
    frame = pd.DataFrame(covs.reshape(6, 9)[:, :8])
    with pytest.raises(SPDInputError, match="8 numeric columns"):
        read_spd_stack(UploadedBytes("t.csv", frame.to_csv(index=False).encode()))
    frame = pd.DataFrame(covs.reshape(6, 9)).astype(object)
    frame.iloc[3, 4] = "oops"
    with pytest.raises(SPDInputError, match="Line 5, column '4' of 't.csv' is empty or not a"):
        read_spd_stack(UploadedBytes("t.csv", frame.to_csv(index=False).encode()))
    with pytest.raises(SPDInputError, match="does not look like a text table"):
        read_spd_stack(UploadedBytes("t.csv", b"\xff\xfe\x00a,b"))
    frame = pd.DataFrame(covs.reshape(6, 9), columns=list("abcdefghi"))
    frame["note"] = "text"
    with pytest.raises(SPDInputError, match="Column 'note' .* holds text"):
        read_spd_stack(UploadedBytes("t.csv", frame.to_csv(index=False).encode()))


def test_csv_numeric_y_column(covs: np.ndarray) -> None:
    frame = pd.DataFrame(covs.reshape(6, 9), columns=list("abcdefghi"))
    frame["y"] = [1, 2, 1, 2, 1, 2]
    stack = read_spd_stack(UploadedBytes("t.csv", frame.to_csv(index=False).encode()))
    assert stack.labels.tolist() == ["1", "2", "1", "2", "1", "2"]
    np.testing.assert_array_equal(stack.matrices, covs)


def test_mat_matlab_order(covs: np.ndarray) -> None:
    data = mat_bytes(C=np.moveaxis(covs, 0, 2), y=np.arange(6.0)[:, None])
    stack = read_spd_stack(UploadedBytes("m.mat", data))
    np.testing.assert_allclose(stack.matrices, covs)
    assert stack.labels.tolist() == ["0", "1", "2", "3", "4", "5"]
    assert any("MATLAB order" in line for line in stack.report)


def test_mat_python_order(covs: np.ndarray) -> None:
    stack = read_spd_stack(UploadedBytes("m.mat", mat_bytes(covs=covs)))
    np.testing.assert_allclose(stack.matrices, covs)


def test_ambiguous_cube_uses_symmetry() -> None:
    cube = covariances(np.random.default_rng(1).standard_normal((3, 3, 30)))
    from_npy = read_spd_stack(UploadedBytes("c.npy", npy_bytes(cube)))
    from_mat = read_spd_stack(UploadedBytes("c.mat", mat_bytes(covs=cube)))
    np.testing.assert_allclose(from_npy.matrices, cube)
    np.testing.assert_allclose(from_mat.matrices, cube)
    assert any("ambiguous" in line for line in from_mat.report)


def test_object_npy_is_refused_without_unpickling() -> None:
    payload = npy_bytes(np.array([Tripwire()], dtype=object), allow_pickle=True)
    pickle.loads(pickle.dumps(Tripwire()))
    assert UNPICKLED == ["unpickled"]
    UNPICKLED.clear()
    with pytest.raises(SPDInputError, match="pickled/object arrays are not accepted"):
        read_spd_stack(UploadedBytes("evil.npy", payload))
    with pytest.raises(SPDInputError, match="pickled/object arrays are not accepted"):
        read_spd_stack(UploadedBytes("evil.npz", npz_bytes(covs=np.array([Tripwire()]))))
    assert UNPICKLED == []


def test_object_labels_are_refused(covs: np.ndarray) -> None:
    data = npz_bytes(covs=covs, y=np.array([Tripwire()] * 6, dtype=object))
    with pytest.raises(SPDInputError, match="pickled/object arrays are not accepted"):
        read_spd_stack(UploadedBytes("evil.npz", data))
    assert UNPICKLED == []


def test_header_promising_huge_array_is_refused() -> None:
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**3, 10**3)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with pytest.raises(SPDInputError, match="MiB"):
        read_spd_stack(UploadedBytes("big.npy", buffer.getvalue() + b"\0" * 64))


def test_truncated_npy(covs: np.ndarray) -> None:
    with pytest.raises(SPDInputError, match="truncated"):
        read_spd_stack(UploadedBytes("t.npy", npy_bytes(covs)[:-8]))


def test_zip_bomb_member_is_refused(monkeypatch: pytest.MonkeyPatch, covs: np.ndarray) -> None:
    monkeypatch.setattr("covwb.io.spd.MAX_ARRAY_BYTES", 100)
    with pytest.raises(SPDInputError, match="unpacks to"):
        read_spd_stack(UploadedBytes("b.npz", npz_bytes(covs=covs)))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.txt", b"1,2", "unsupported extension"),
        ("noext", b"1,2", "unsupported extension"),
        ("x.npy", npy_bytes(np.ones((2, 3, 4))), r"shape \(2, 3, 4\).*not a stack of square"),
        ("x.npy", npy_bytes(np.ones((4,))), r"shape \(4,\)"),
        ("x.npy", npy_bytes(np.ones((2, 2, 2), dtype=complex)), "not real numbers"),
        ("x.npy", npy_bytes(np.array([np.eye(2), -np.eye(2)])), "Matrix 2 .* not positive definite"),
        ("x.npz", npz_bytes(covs=np.stack([np.eye(2)] * 3), y=np.arange(2)), "one label per matrix"),
        ("x.npz", b"PK\x03\x04garbage", "not a readable .npz"),
        ("x.mat", b"MATLAB 5.0 MAT-file" + b"\0" * 200, "MATLAB"),
        ("x.mat", mat_bytes(s=np.array(["text"])), "no numeric variables"),
    ],
)
def test_bad_uploads(name: str, data: bytes, message: str) -> None:
    with pytest.raises(SPDInputError, match=message):
        read_spd_stack(UploadedBytes(name, data))


def test_path_in_name_is_reduced_to_basename(covs: np.ndarray) -> None:
    stack = read_spd_stack(UploadedBytes("../../etc\\covs.npy", npy_bytes(covs)))
    assert stack.source == "upload: covs.npy"


@pytest.mark.shared_data
def test_mamem_trials_become_covariances_on_request(shared_data) -> None:
    data = (shared_data / "spd" / "mamem_U001.mat").read_bytes()
    upload = UploadedBytes("mamem_U001.mat", data)
    with pytest.raises(SPDInputError, match=r"'x_test'.*\(500, 8, 125\).*raw trials.*trial_covariances"):
        read_spd_stack(upload)
    trials = read_spd_or_trials(upload)
    assert isinstance(trials, TrialStack) and trials.trials.shape == (500, 8, 125)
    assert "Shape (500, 8, 125) read as trials x channels x samples." in trials.report
    content = scipy.io.loadmat(io.BytesIO(data))
    stack = trial_covariances(trials)
    np.testing.assert_allclose(stack.matrices, covariances(content["x_test"], "oas"), rtol=1e-12)
    assert sorted(set(stack.labels)) == ["0", "1", "2", "3", "4"]
    assert stack.report[-1].startswith(
        "Covariances of 500 trials x 8 channels x 125 samples estimated with Oracle approximating shrinkage (OAS)"
    )
    round_trip = read_spd_stack(UploadedBytes("c.mat", mat_bytes(covs=stack.matrices, y=content["y_test"])))
    np.testing.assert_allclose(round_trip.matrices, stack.matrices)


def eeg_like_trials(n_trials: int = 45, n_channels: int = 64, n_samples: int = 321, seed: int = 0) -> np.ndarray:
    """Trials shaped like a 64-channel, 160 Hz motor-imagery recording cut into 2 s epochs, in volts.

    Twelve correlated sources mixed into 64 channels plus sensor noise, then re-referenced to the
    common average, as preprocessing often does: every trial then has rank 63.
    """
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((n_channels, 12))
    sources = rng.standard_normal((n_trials, 12, n_samples)).cumsum(axis=2) * 0.2
    signals = mixing @ sources + 0.05 * rng.standard_normal((n_trials, n_channels, n_samples))
    return (signals - signals.mean(axis=1, keepdims=True)) * 1e-5


def test_realistic_trials_get_well_posed_shrinkage_covariances_by_default() -> None:
    trials_v = eeg_like_trials()
    labels = np.repeat(["left", "right", "left"], 15)
    trials = read_spd_or_trials(UploadedBytes("s001.npz", npz_bytes(trials=trials_v, y=labels)))
    assert isinstance(trials, TrialStack) and trials.trials.shape == (45, 64, 321)
    sample_condition = np.linalg.cond(covariances(trials_v, "sample"))
    assert sample_condition.min() > 1e12  # the sample covariance is singular up to rounding
    stack = trial_covariances(trials)
    np.testing.assert_allclose(stack.matrices, covariances(trials_v, "oas"), rtol=1e-12)
    assert check_spd_stack(stack.matrices).shape == (45, 64, 64)
    assert np.linalg.cond(stack.matrices).max() < 1e6
    assert stack.labels.tolist() == labels.tolist() and stack.warnings == ()
    why = stack.report[-1]
    assert why.startswith(
        "Covariances of 45 trials x 64 channels x 321 samples estimated with Oracle approximating shrinkage (OAS)"
    )
    assert "the default for raw trials" in why and "the sample covariance would be singular for some trials" in why
    assert stack.description.startswith("Covariances estimated from raw trials with Oracle approximating shrinkage")
    with pytest.raises(SPDInputError, match="sample covariance of 45 of 45 trials .* singular .*choose a shrinkage"):
        trial_covariances(trials, "sample")
    assert "as chosen" in trial_covariances(trials, "ledoit_wolf").report[-1]


def test_matlab_ordered_trials_are_turned_around() -> None:
    trials_v = eeg_like_trials(12, 16, 100)
    trials = read_spd_or_trials(UploadedBytes("eeg.mat", mat_bytes(data=np.moveaxis(trials_v, 0, 2))))
    np.testing.assert_allclose(trials.trials, trials_v)
    assert "Shape (16, 100, 12) read as channels x samples x trials (MATLAB order)" in trials.report[-1]
    assert read_spd_or_trials(UploadedBytes("eeg.npy", npy_bytes(trials_v))).trials.shape == (12, 16, 100)


def test_nearly_singular_sample_covariances_carry_a_warning() -> None:
    rng = np.random.default_rng(3)
    trials_v = rng.standard_normal((10, 4, 200))
    trials_v[:, 3] = trials_v[:, 2] + 1e-6 * rng.standard_normal((10, 200))
    trials = read_spd_or_trials(UploadedBytes("t.npy", npy_bytes(trials_v)))
    stack = trial_covariances(trials, "sample")
    assert len(stack.warnings) == 1 and "ill-conditioned (condition number up to" in stack.warnings[0]
    assert "choose OAS or Ledoit-Wolf" in stack.warnings[0]
    assert trial_covariances(trials).warnings == ()


@pytest.mark.parametrize(
    ("arr", "error", "message"),
    [
        (np.zeros((5, 3, 40)), SPDInputError, "not positive definite|positive definite"),
        (np.full((5, 3, 40), 1e200) * np.arange(40), SPDInputError, "overflow|rescale"),
        (np.where(np.arange(40) == 7, np.nan, 1.0) * np.ones((5, 3, 40)), ParameterError, "NaN or infinite"),
    ],
)
def test_bad_trials_give_one_sentence(arr: np.ndarray, error: type, message: str) -> None:
    trials = read_spd_or_trials(UploadedBytes("t.npy", npy_bytes(arr)))
    with pytest.raises(error, match=message):
        trial_covariances(trials)


def test_trials_that_would_not_fit_in_memory_are_refused() -> None:
    trials = TrialStack("big.npy", np.zeros((2, 3, 4)), None, "upload: big.npy")
    huge = TrialStack("big.npy", np.lib.stride_tricks.as_strided(np.zeros(1), (600, 3000, 2), (0, 0, 0)), None, "x")
    assert trials.trials.shape == (2, 3, 4)
    with pytest.raises(SPDInputError, match="would take .* MiB"):
        trial_covariances(huge)


PREFIXES = [b"", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", b"PK\x03\x04", b"a,b,c,d\n"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(PREFIXES),
    body=st.binary(max_size=300),
    suffix=st.sampled_from([".npy", ".npz", ".csv", ".bin"]),
)
def test_random_bytes_raise_only_spd_input_error(prefix: bytes, body: bytes, suffix: str) -> None:
    try:
        read_spd_stack(UploadedBytes(f"r{suffix}", prefix + body))
    except SPDInputError:
        pass


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), flips=st.integers(1, 6), truncate=st.booleans())
def test_corrupted_mat_files_raise_only_spd_input_error(seed: int, flips: int, truncate: bool) -> None:
    rng = np.random.default_rng(seed)
    data = np.frombuffer(mat_bytes(covs=np.stack([np.eye(3)] * 4), y=np.arange(4.0)), dtype=np.uint8).copy()
    data[rng.integers(116, data.size, flips)] = rng.integers(0, 256, flips, dtype=np.uint8)
    if truncate:
        data = data[: rng.integers(0, data.size)]
    try:
        read_spd_stack(UploadedBytes("r.mat", data.tobytes()))
    except SPDInputError:
        pass


def test_mat_that_crashes_scipy_is_refused_in_isolation() -> None:
    data = bytearray(mat_bytes(covs=np.stack([np.eye(3)] * 4)))
    tag = data.index(b"covs") + 4
    assert data[tag] == 9
    data[tag] = 0x2D
    with pytest.raises(SPDInputError, match="not a readable MATLAB .mat file"):
        read_spd_stack(UploadedBytes("crash.mat", bytes(data)))


def test_mat_v73_is_refused_with_advice() -> None:
    header = b"MATLAB 7.3 MAT-file".ljust(124, b" ") + b"\x00\x02IM"
    with pytest.raises(SPDInputError, match="v7.3 .*-v7"):
        read_spd_stack(UploadedBytes("new.mat", header + b"\x89HDF\r\n"))


def test_valid_zip_with_random_member_raises_spd_input_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("covs.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}    \n")
    with pytest.raises(SPDInputError):
        read_spd_stack(UploadedBytes("z.npz", buffer.getvalue()))


# --- found by the upload fuzzer (tests/fuzz) -----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(0, 0, 0), (0, 3, 3), (3, 3, 0), (2, 0, 0), (0, 0), (0,)])
def test_arrays_without_values_are_refused(shape: tuple[int, ...]) -> None:
    # (0, 0, 0) used to reach a max() over an empty array: a ValueError, not a typed error.
    with pytest.raises(SPDInputError):
        read_spd_stack(UploadedBytes("empty.npy", npy_bytes(np.zeros(shape))))


@pytest.mark.parametrize(
    "matrices",
    [np.full((3, 1, 1), 1e300), np.full((2, 2, 2), np.finfo(float).max) * np.eye(2), np.eye(3)[None] * 1e-300],
)
def test_magnitudes_that_overflow_the_geometry_are_refused(matrices: np.ndarray) -> None:
    # 1e300 passed check_spd_stack, then the Bures-Wasserstein distance overflowed to inf (pyRiemann
    # raised ValueError); the largest float made the symmetrisation itself overflow.
    with pytest.raises(SPDInputError, match="rescale the matrices"):
        read_spd_stack(UploadedBytes("huge.npy", npy_bytes(matrices)))


def test_large_but_safe_magnitudes_are_read(covs: np.ndarray) -> None:
    stack = read_spd_stack(UploadedBytes("big.npy", npy_bytes(covs * 1e40)))
    np.testing.assert_allclose(stack.matrices, covs * 1e40)


def _deflated_member_zip(declared_size: int, unpacked: bytes) -> bytes:
    """A one-member zip whose member 'covs.npy' inflates to ``unpacked`` but declares ``declared_size``."""
    import struct

    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(unpacked) + packer.flush()
    name = b"covs.npy"
    crc = zlib.crc32(unpacked)
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(deflated), declared_size, len(name), 0)
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(deflated), declared_size, len(name),
        0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    offset = len(local) + len(name) + len(deflated)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), offset, 0)
    return local + name + deflated + central + name + end


def test_npz_member_that_lies_about_its_size_inflates_no_more_than_it_declares() -> None:
    # The member was read with read(512 MiB + 1): zipfile then inflated up to 512 MiB whatever the
    # member declared, so a 60 kB upload cost 512 MiB of memory and seconds of CPU.
    import tracemalloc

    data = _deflated_member_zip(1024, bytes(64 * 2**20))
    tracemalloc.start()
    try:
        with pytest.raises(SPDInputError, match="not a readable .npz archive"):
            read_spd_stack(UploadedBytes("bomb.npz", data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20


def test_corrupt_deflate_stream_raises_spd_input_error(covs: np.ndarray) -> None:
    # zlib.error is not an OSError or ValueError: it escaped the reader.
    buffer = io.BytesIO()
    np.savez_compressed(buffer, covs=covs)
    data = bytearray(buffer.getvalue())
    start = 30 + len("covs.npy")
    data[start + 20] ^= 0xFF
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive, pytest.raises(zlib.error):
        archive.read("covs.npy")
    with pytest.raises(SPDInputError, match="not a readable .npz archive"):
        read_spd_stack(UploadedBytes("z.npz", bytes(data)))
