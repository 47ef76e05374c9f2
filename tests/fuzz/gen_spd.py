"""Malformed covariance-matrix files for the SPD uploader (names end in .npy, .npz, .csv or .mat)."""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
import zlib

import numpy as np
from scipy.io import savemat

from tests.fuzz.cases import junk, mutate

TRIPPED: list[str] = []
"""Tags of the pickled payloads that were unpickled; the reader must leave it empty."""

_MAT_HEADER = b"MATLAB 5.0 MAT-file, written by tests/fuzz/gen_spd.py".ljust(116, b" ")
_BOMB_BYTES = 520 * 2**20
"""Unpacked size of the zip-bomb member: just over the reader's 512 MiB cap."""


def tripwire(tag: str) -> str:
    """Called only if a pickled payload is unpickled: records ``tag`` in :data:`TRIPPED`."""
    TRIPPED.append(tag)
    return tag


class _Trap:
    """An object whose pickle calls :func:`tripwire` when it is loaded."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __reduce__(self) -> tuple:
        return tripwire, (self.tag,)


def _npy(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npz(compress: bool = False, **arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def _mat(arrays: dict, *, fmt: str = "5", compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    savemat(buffer, arrays, format=fmt, do_compression=compress, oned_as="row")
    data = buffer.getvalue()
    return _MAT_HEADER + data[len(_MAT_HEADER) :] if fmt == "5" else data


def _spd(rng: random.Random, n: int | None = None, p: int | None = None) -> np.ndarray:
    """A stack (n, p, p) of well-conditioned SPD matrices."""
    n = n if n is not None else rng.randint(1, 12)
    p = p if p is not None else rng.randint(1, 6)
    gen = np.random.default_rng(rng.getrandbits(64))
    a = gen.standard_normal((n, p, p + 3))
    return a @ a.transpose(0, 2, 1) / (p + 3) + 1e-3 * np.eye(p)


def _name(rng: random.Random, suffix: str) -> str:
    stem = rng.choice(("covs", "c", "stack", "../../covs", "<i>x</i>", "日本")) if rng.random() < 0.3 else "covs"
    return stem + suffix


def npy_valid(rng: random.Random) -> list[tuple[str, bytes]]:
    """Valid stacks in other dtypes, byte orders and layouts: float32/16, ints, big-endian, Fortran, (p, p, n)."""
    covs = _spd(rng)
    choice = rng.randrange(7)
    if choice == 0:
        arr = covs.astype(np.float32)
    elif choice == 1:
        arr = covs.astype(np.float16)
    elif choice == 2:
        arr = np.stack([np.eye(covs.shape[1], dtype=rng.choice((np.int8, np.int64, np.uint16))) * 3] * len(covs))
    elif choice == 3:
        arr = covs.astype(">f8")
    elif choice == 4:
        arr = np.asfortranarray(covs)
    elif choice == 5:
        arr = np.moveaxis(covs, 0, 2).copy()
    else:
        arr = covs[0]
    return [(_name(rng, ".npy"), _npy(arr))]


def _not_spd(rng: random.Random) -> np.ndarray:
    """An array that is not a valid SPD stack: wrong shape, asymmetric, indefinite, singular, NaN, extreme."""
    covs = _spd(rng, p=rng.randint(2, 5))
    n, p, _ = covs.shape
    choice = rng.randrange(14)
    if choice == 0:
        covs[rng.randrange(n), 0, 1] += 1.0
        return covs
    if choice == 1:
        covs[rng.randrange(n)] *= -1
        return covs
    if choice == 2:
        covs[rng.randrange(n)] = 0.0
        return covs
    if choice == 3:
        covs[rng.randrange(n), rng.randrange(p), rng.randrange(p)] = rng.choice((np.nan, np.inf, -np.inf))
        return covs
    if choice == 4:
        return covs * rng.choice((1e300, 1e-300, 1e200, 1e-320))
    if choice == 5:
        return np.zeros(rng.choice(((0, 0, 0), (0, 3, 3), (3, 3, 0), (2, 0, 0), (0, 0), (1, 0, 0), (0,))))
    if choice == 6:
        return np.ones((n, p, p + 1))
    if choice == 7:
        return np.ones((2, 2, 2, 2))
    if choice == 8:
        return np.arange(float(p))
    if choice == 9:
        return np.array(3.0)
    if choice == 10:
        return np.full((n, 1, 1), rng.choice((-1.0, 0.0, 1e-300, 1e300)))
    if choice == 11:
        v = np.ones((n, p, 1))
        return v @ v.transpose(0, 2, 1)
    if choice == 12:
        return np.ones((p, p, p))
    return np.full((n, p, p), np.finfo(np.float64).max)


def npy_not_spd(rng: random.Random) -> list[tuple[str, bytes]]:
    """.npy arrays that are not stacks of SPD matrices."""
    return [(_name(rng, ".npy"), _npy(_not_spd(rng)))]


def npy_dtypes(rng: random.Random) -> list[tuple[str, bytes]]:
    """Complex, boolean, text, bytes, datetime, void and structured arrays."""
    p = rng.randint(1, 4)
    choice = rng.randrange(7)
    if choice == 0:
        arr = np.stack([np.eye(p) + 1j * 0.0] * 3)
    elif choice == 1:
        arr = np.stack([np.eye(p, dtype=bool)] * 3)
    elif choice == 2:
        arr = np.full((3, p, p), "1.0")
    elif choice == 3:
        arr = np.full((3, p, p), b"1")
    elif choice == 4:
        arr = np.zeros((3, p, p), dtype="M8[s]")
    elif choice == 5:
        arr = np.zeros((3, p, p), dtype="V8")
    else:
        arr = np.zeros((3, p, p), dtype=[("a", "<f8"), ("b", "<i4")])
    return [(_name(rng, ".npy"), _npy(arr))]


def pickles(rng: random.Random) -> list[tuple[str, bytes]]:
    """Object arrays whose pickles call a tripwire when loaded, in .npy and inside .npz."""
    tag = f"pickle-{rng.getrandbits(32)}"
    arr = np.empty((1,) * rng.randint(1, 3), dtype=object)
    arr.flat[0] = _Trap(tag)
    payload = _npy(arr, allow_pickle=True)
    choice = rng.randrange(3)
    if choice == 0:
        return [(_name(rng, ".npy"), payload)]
    if choice == 1:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(rng.choice(("covs.npy", "y.npy", "x.npy")), payload)
        return [(_name(rng, ".npz"), buffer.getvalue())]
    structured = np.zeros(2, dtype=[("covs", "<f8"), ("obj", object)])
    structured["obj"][0] = _Trap(tag)
    return [(_name(rng, ".npy"), _npy(structured, allow_pickle=True))]


def _npy_header(header: bytes, version: tuple[int, int] = (1, 0)) -> bytes:
    size = struct.pack("<H", len(header)) if version[0] == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes(version) + size + header


def npy_headers(rng: random.Random) -> list[tuple[str, bytes]]:
    """Hostile .npy headers: bad magic or version, lying lengths, huge or negative shapes, bad dicts, code."""
    good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 3), }"
    body = np.stack([np.eye(3)] * 2).tobytes()
    headers = (
        good.replace("(2, 3, 3)", "(1000000, 100000, 100000)"),
        good.replace("(2, 3, 3)", "(-2, 3, 3)"),
        good.replace("(2, 3, 3)", "(2, 3.5, 3)"),
        good.replace("(2, 3, 3)", "'x'"),
        good.replace("'<f8'", "'<f16'"),
        good.replace("'<f8'", "'|O'"),
        good.replace("'<f8'", "'bogus'"),
        good.replace("'<f8'", "[('a', '|O')]"),
        good.replace("False", "'yes'"),
        good.replace("False", "True"),
        "{'descr': '<f8', 'shape': (2, 3, 3)}",
        "__import__('os').system('false')",
        "[1, 2, 3]",
        "{" * 5000,
        good + "\x00" * 10,
        good.replace("(2, 3, 3)", "(" + "1, " * 40 + ")"),
    )
    header = rng.choice(headers).ljust(118) + "\n"
    version = rng.choice(((1, 0), (1, 0), (2, 0), (3, 0), (0, 0), (255, 255)))
    data = _npy_header(header.encode("latin-1"), version) + body[: rng.choice((len(body), len(body) // 2, 0))]
    if rng.random() < 0.2:
        data = b"\x93NUMPX" + data[6:]
    if rng.random() < 0.2:
        data = data[:8] + struct.pack("<H", rng.choice((0, 1, 65535))) + data[10:]
    return [(_name(rng, ".npy"), data)]


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npz_hostile(rng: random.Random) -> list[tuple[str, bytes]]:
    """Broken archives: not a zip, truncated, odd member names, junk members, encrypted or unknown methods, bad labels."""
    covs = _spd(rng, n=rng.randint(2, 8))
    n = len(covs)
    choice = rng.randrange(14)
    if choice == 0:
        data = b"PK\x03\x04" + junk(rng, 0, 1024)
    elif choice == 1:
        whole = _npz(covs=covs)
        data = whole[: rng.randrange(len(whole))]
    elif choice == 2:
        data = _zip({rng.choice(("../covs.npy", "/abs/covs.npy", "covs", "dir/covs.npy", "covs.NPY")): _npy(covs)})
    elif choice == 3:
        data = _zip({"covs.npy": junk(rng, 0, 512)})
    elif choice == 4:
        data = bytearray(_zip({"covs.npy": _npy(covs)}))
        data[6] |= 1  # the local header says "encrypted"
        central = data.rindex(b"PK\x01\x02")
        data[central + 8] |= 1
        data = bytes(data)
    elif choice == 5:
        data = bytearray(_zip({"covs.npy": _npy(covs)}))
        central = data.rindex(b"PK\x01\x02")
        data[central + 10 : central + 12] = struct.pack("<H", rng.choice((1, 6, 12, 14, 99)))
        data = bytes(data)
    elif choice == 6:
        data = _npz(covs=covs, y=np.arange(n + rng.choice((-1, 1, 5))))
    elif choice == 7:
        data = _npz(covs=covs, y=np.ones((n, 2)))
    elif choice == 8:
        data = _npz(covs=covs, y=np.array([1 + 2j] * n))
    elif choice == 9:
        data = _npz(**{f"a{i}": covs for i in range(rng.randint(2, 4))})
    elif choice == 10:
        data = _zip({"covs.npy": _npz(covs=covs)})
    elif choice == 11:
        data = mutate(rng, _npz(compress=True, covs=covs, y=np.arange(n)), start=30)
    elif choice == 12:
        data = bytearray(_npz(compress=True, covs=covs))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(40, 60 + len(data) // 3)] ^= 1 << rng.randrange(8)
        data = bytes(data)
    else:
        data = bytearray(_zip({"covs.npy": junk(rng, 16, 512)}))
        data[8:10] = struct.pack("<H", 14)  # LZMA, over bytes that are not LZMA
        central = data.rindex(b"PK\x01\x02")
        data[central + 10 : central + 12] = struct.pack("<H", 14)
        data = bytes(data)
    return [(_name(rng, ".npz"), data)]


@functools.cache
def _bomb_member() -> bytes:
    """Deflated zeros of :data:`_BOMB_BYTES` bytes (about 0.5 MB compressed), made once."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(2**20)
    parts = [packer.compress(chunk) for _ in range(_BOMB_BYTES // len(chunk))]
    return b"".join(parts) + packer.flush()


def _stored_zip(name: str, deflated: bytes, size: int, crc: int) -> bytes:
    """A one-member zip whose member is given already deflated, with the declared size and CRC."""
    name_bytes = name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(deflated), size, len(name_bytes), 0)
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(deflated), size,
        len(name_bytes), 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    offset = len(local) + len(name_bytes) + len(deflated)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name_bytes), offset, 0)
    return local + name_bytes + deflated + central + name_bytes + end


def npz_bomb(rng: random.Random) -> list[tuple[str, bytes]]:
    """Zip bombs: a member unpacking past the cap, or one that lies about its size (small declared, huge real)."""
    deflated = _bomb_member()
    header = _npy_header(b"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }".ljust(117) + b"\n")
    if rng.random() < 0.5:
        data = _stored_zip("covs.npy", deflated, _BOMB_BYTES, 0)
    else:
        data = _stored_zip("covs.npy", deflated, rng.choice((len(header) + 8, 1024, 10 * 2**20)), 0)
    return [(_name(rng, ".npz"), data)]


def csv_matrices(rng: random.Random) -> list[tuple[str, bytes]]:
    """Flattened matrices in a CSV: non-square widths, text, gaps, labels, counting headers, asymmetric rows."""
    covs = _spd(rng, n=rng.randint(1, 8), p=rng.randint(1, 5))
    n, p, _ = covs.shape
    rows = covs.reshape(n, -1)
    choice = rng.randrange(9)
    header = [str(j) for j in range(p * p)] if rng.random() < 0.5 else [f"c{j}" for j in range(p * p)]
    lines = [[repr(v) for v in row] for row in rows]
    if choice == 0:
        lines = [row[:-1] for row in lines]
        header = header[:-1]
    elif choice == 1:
        lines[rng.randrange(n)][rng.randrange(p * p)] = rng.choice(("x", "", "NaN", "inf", "1,5"))
    elif choice == 2:
        header.append(rng.choice(("label", "class", "y", "labels")))
        for row in lines:
            row.append(rng.choice(("a", "b", "1", "2.5", "", "NaN")))
    elif choice == 3:
        lines[rng.randrange(n)][1 % (p * p)] = "123.0"
    elif choice == 4:
        header = []
    elif choice == 5:
        lines = [[repr(v * 1e300) for v in row] for row in rows]
    elif choice == 6:
        lines = [row * rng.randint(2, 30) for row in lines]
        header = header * (len(lines[0]) // len(header))
    elif choice == 7:
        lines = lines[:1]
    delimiter = rng.choice((",", ";", "\t"))
    text = "\n".join(delimiter.join(r) for r in ([header] if header else []) + lines)
    if choice == 8:
        text = mutate(rng, text.encode()).decode("latin-1")
    return [(_name(rng, ".csv"), text.encode("utf-8", "surrogatepass"))]


def _tag_positions(data: bytes, code: int) -> list[int]:
    """Offsets of 8-byte-aligned MAT5 element tags of type ``code`` (full-size tags)."""
    return [i for i in range(128, len(data) - 8, 8) if data[i : i + 4] == struct.pack("<I", code)]


def mat_hostile(rng: random.Random) -> list[tuple[str, bytes]]:
    """MAT files: bad element type codes (SciPy crashes on these), random edits, truncation, bad zlib, v7.3, v4."""
    covs = _spd(rng, n=rng.randint(1, 6), p=rng.randint(1, 4))
    choice = rng.randrange(8)
    if choice in (0, 1):
        data = bytearray(_mat({"covs": np.moveaxis(covs, 0, 2)}, compress=False))
        tags = _tag_positions(bytes(data), 9) or _tag_positions(bytes(data), 14)
        data[rng.choice(tags)] = rng.choice((0, 2, 0x2D, 19, 200, 255))
        data = bytes(data)
    elif choice == 2:
        data = mutate(rng, _mat({"covs": covs, "y": np.arange(len(covs))}, compress=rng.random() < 0.5), start=128)
    elif choice == 3:
        whole = _mat({"covs": covs})
        data = whole[: rng.randrange(len(whole))]
    elif choice == 4:
        data = _MAT_HEADER[:116] + bytes(8) + b"\x00\x01IM" + struct.pack("<II", 15, 64) + junk(rng, 64, 64)
    elif choice == 5:
        data = b"MATLAB 7.3 MAT-file".ljust(116) + bytes(8) + b"\x00\x02IM" + junk(rng, 0, 256)
    elif choice == 6:
        data = _mat({"covs": covs[0]}, fmt="4")
        data = mutate(rng, data) if rng.random() < 0.5 else data
    else:
        data = _MAT_HEADER[:116] + bytes(8) + b"\x00\x01IM" + junk(rng, 0, 512)
    return [(_name(rng, ".mat"), data)]


def mat_contents(rng: random.Random) -> list[tuple[str, bytes]]:
    """Well-formed MAT files with the wrong contents: text, cells, structs, sparse, complex, logical, 4-D, labels."""
    covs = _spd(rng, n=rng.randint(1, 6), p=rng.randint(1, 4))
    n = len(covs)
    choice = rng.randrange(9)
    if choice == 0:
        arrays = {"covs": np.array(["a", "b"])}
    elif choice == 1:
        arrays = {"covs": np.array([covs[0], "x"], dtype=object)}
    elif choice == 2:
        arrays = {"EEG": {"covs": covs, "y": np.arange(n)}}
    elif choice == 3:
        from scipy.sparse import csc_matrix

        arrays = {"covs": csc_matrix(covs[0])}
    elif choice == 4:
        arrays = {"covs": covs + 0j}
    elif choice == 5:
        arrays = {"covs": np.stack([np.eye(2, dtype=bool)] * 3)}
    elif choice == 6:
        arrays = {"covs": np.ones((2, 2, 2, 2))}
    elif choice == 7:
        arrays = {"covs": np.moveaxis(covs, 0, 2), "y": rng.choice((np.arange(n + 1), np.array(["a"] * n), covs))}
    else:
        arrays = {"C": np.moveaxis(covs, 0, 2), "X": covs, "labels": np.arange(n)}
    return [(_name(rng, ".mat"), _mat(arrays, compress=rng.random() < 0.5))]


def valid_labelled(rng: random.Random) -> list[tuple[str, bytes]]:
    """Valid stacks with labels (text, integers, fractions, bytes) in .npz, .mat and .csv."""
    covs = _spd(rng, n=rng.randint(2, 10), p=rng.randint(2, 4))
    n = len(covs)
    labels = rng.choice((np.arange(n) % 2, np.array(["left", "right"] * n)[:n], np.linspace(0, 1, n),
                         np.array([b"a", b"b"] * n)[:n]))  # fmt: skip
    suffix = rng.choice((".npz", ".mat", ".csv"))
    if suffix == ".npz":
        data = _npz(compress=rng.random() < 0.5, covs=covs, y=labels)
    elif suffix == ".mat":
        data = _mat({"covs": np.moveaxis(covs, 0, 2), "y": labels.astype(str) if labels.dtype.kind == "S" else labels})
    else:
        lines = [",".join([*(f"c{j}" for j in range(covs.shape[1] ** 2)), "label"])]
        lines += [",".join([*(repr(v) for v in c.ravel()), str(lab)]) for c, lab in zip(covs, labels)]
        data = "\n".join(lines).encode()
    return [(_name(rng, suffix), data)]


def binary_junk(rng: random.Random) -> list[tuple[str, bytes]]:
    """Random bytes, sometimes after a format's magic, under each accepted extension."""
    suffix = rng.choice((".npy", ".npz", ".csv", ".mat"))
    magic = rng.choice((b"", b"", b"\x93NUMPY", b"PK\x03\x04", b"MATLAB 5.0 MAT-file", b"\x1f\x8b"))
    return [(_name(rng, suffix), magic + junk(rng, 0, 4096))]


def empty(rng: random.Random) -> list[tuple[str, bytes]]:
    """Empty or nearly empty files under each accepted extension."""
    suffix = rng.choice((".npy", ".npz", ".csv", ".mat"))
    return [(_name(rng, suffix), rng.choice((b"", b"\n", b"\x00", b" " * 10)))]
