"""Read an uploaded stack of SPD matrices (covariances) from .npy, .npz, .csv or .mat.

Nothing here unpickles: ``.npy`` headers are checked before loading (object arrays are
refused, sizes are checked against the bytes present) and arrays load with
``allow_pickle=False``; ``.npz`` members are read through :mod:`zipfile` with a cap on their
unpacked size; ``.mat`` files are parsed by SciPy in a separate, memory-capped process (its
reader crashes on some crafted files) and only numeric variables come back. Every bad input
raises :class:`covwb.errors.SPDInputError`.
"""

from __future__ import annotations

import io
import json
import lzma
import math
import struct
import subprocess
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from covwb.covariance.geometry import check_spd_stack
from covwb.datasets.types import SPDStack
from covwb.errors import SPDInputError, TableFormatError
from covwb.io.isolated import run_isolated, stopped_reason
from covwb.io.uploads import UploadedBytes, safe_basename

MAX_ARRAY_BYTES = 512 * 1024 * 1024
SPD_SUFFIXES: tuple[str, ...] = (".npy", ".npz", ".csv", ".mat")
"""File extensions :func:`read_spd_stack` reads (for an uploader's ``type=``)."""

_MATRIX_NAMES = ("covs", "covariances", "cov", "c", "x")
_LABEL_NAMES = ("y", "labels", "label", "class", "classes")
_MAX_SCALE = 1e50
"""Largest magnitude of a matrix's entries (and inverse of the smallest) that the reader accepts."""
_MAT_NUMERIC = {
    "double",
    "single",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
}


@dataclass
class _Raw:
    """What a format reader found before orientation and validation."""

    array: np.ndarray
    labels: np.ndarray | None
    report: list[str]
    origin: str
    matlab_order: bool = False


def _pick(names: list[str], wanted: tuple[str, ...], exclude: tuple[str, ...] = ()) -> str | None:
    """First of ``names`` whose lower-cased form, or stem before ``_``, is in ``wanted``."""
    for key in wanted:
        for name in names:
            low = name.lower()
            if low not in exclude and (low == key or low.split("_", 1)[0] == key):
                return name
    return None


def _check_real(arr: np.ndarray, where: str) -> np.ndarray:
    """Return ``arr`` as float64 when it holds real numbers, else raise SPDInputError."""
    if arr.dtype.kind not in "iuf":
        raise SPDInputError(f"{where} holds values of type {arr.dtype}, not real numbers; save a float array.")
    return arr.astype(np.float64)


def _read_npy_bytes(data: bytes, where: str) -> np.ndarray:
    """Load one .npy payload after checking its header; refuses object arrays, never unpickles."""
    buffer = io.BytesIO(data)
    try:
        major, _ = np.lib.format.read_magic(buffer)
        if major == 1:
            shape, _, dtype = np.lib.format.read_array_header_1_0(buffer)
        elif major == 2:
            shape, _, dtype = np.lib.format.read_array_header_2_0(buffer)
        else:
            raise ValueError(f"unsupported .npy version {major}")
    except Exception as exc:
        raise SPDInputError(f"{where} is not a valid .npy array ({exc}); save it with numpy.save.") from exc
    if dtype.hasobject:
        raise SPDInputError(
            f"{where} is an object array; pickled/object arrays are not accepted, "
            "save a plain float array (np.save with allow_pickle=False)."
        )
    needed = math.prod(shape) * dtype.itemsize
    if needed > MAX_ARRAY_BYTES:
        raise SPDInputError(
            f"{where} declares {needed / 2**20:.0f} MiB of data, more than the "
            f"{MAX_ARRAY_BYTES // 2**20} MiB accepted; upload fewer or smaller matrices."
        )
    if needed > len(data) - buffer.tell():
        raise SPDInputError(
            f"{where} is truncated: its header promises more data than the file holds; upload the complete file."
        )
    try:
        return np.asarray(np.load(io.BytesIO(data), allow_pickle=False))
    except (ValueError, TypeError, OSError, EOFError) as exc:
        raise SPDInputError(f"{where} cannot be read as a .npy array ({exc}).") from exc


def _read_npy(upload: UploadedBytes, base: str) -> _Raw:
    """Read a .npy file: one array of shape (n, p, p) or (p, p)."""
    where = f"File '{base}'"
    matrices = _check_real(_read_npy_bytes(upload.data, where), where)
    return _Raw(matrices, None, [], f"The array in '{base}'")


def _npz_member(archive: zipfile.ZipFile, name: str, base: str) -> np.ndarray:
    """Read one array of an .npz archive, refusing members that unpack too large."""
    where = f"Array '{name}' in '{base}'"
    info = archive.getinfo(f"{name}.npy")
    if info.file_size > MAX_ARRAY_BYTES:
        raise SPDInputError(
            f"{where} unpacks to {info.file_size / 2**20:.0f} MiB, more than the "
            f"{MAX_ARRAY_BYTES // 2**20} MiB accepted."
        )
    with archive.open(info) as member:
        # Ask for the declared size only: zipfile inflates up to the size asked for, so a
        # member that declares a few bytes but inflates to gigabytes costs no more than that.
        payload = member.read(info.file_size)
    return _read_npy_bytes(payload, where)


def _read_npz(upload: UploadedBytes, base: str) -> _Raw:
    """Read an .npz archive: matrices under covs/X (or its only array), labels under y/labels."""
    try:
        with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
            names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
            label_name = _pick(names, _LABEL_NAMES)
            matrix_name = _pick(names, _MATRIX_NAMES, exclude=_LABEL_NAMES)
            others = [n for n in names if n != label_name]
            if matrix_name is None and len(others) == 1:
                matrix_name = others[0]
            if matrix_name is None:
                found = ", ".join(repr(n) for n in names) or "no arrays"
                raise SPDInputError(
                    f"File '{base}' has {found}; store the matrices under the name 'covs' "
                    "(and optional labels under 'y')."
                )
            matrices = _check_real(_npz_member(archive, matrix_name, base), f"Array '{matrix_name}' in '{base}'")
            labels = None if label_name is None else _npz_member(archive, label_name, base)
    except SPDInputError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        KeyError,
        NotImplementedError,
        RuntimeError,
        ValueError,
        struct.error,
        zlib.error,
        lzma.LZMAError,
    ) as exc:
        raise SPDInputError(f"File '{base}' is not a readable .npz archive ({exc}); save it with numpy.savez.") from exc
    report = [f"Matrices taken from array '{matrix_name}'."]
    if label_name is not None:
        report.append(f"Labels taken from array '{label_name}'.")
    return _Raw(matrices, labels, report, f"Array '{matrix_name}' in '{base}'")


def _drop_counting_header(frame: pd.DataFrame, lines: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Read a first row ``0, 1, ..., k-1`` (or ``1..k``) under default names as column names.

    That is the header numpy and pandas write for unnamed columns; as data it would be a
    non-symmetric matrix.
    """
    default = [f"column_{j + 1}" for j in range(frame.shape[1])]
    if list(frame.columns) != default or frame.shape[0] < 2:
        return frame, lines, []
    first = frame.iloc[0].to_numpy()
    if not any(np.array_equal(first, np.arange(start, start + frame.shape[1])) for start in (0, 1)):
        return frame, lines, []
    names = [str(int(v)) for v in first]
    body = frame.iloc[1:].reset_index(drop=True).set_axis(names, axis=1)
    return body, lines[1:], [f"Line {lines[0]} ({', '.join(names[:3])}, ...) read as column names."]


def _read_csv(upload: UploadedBytes, base: str) -> _Raw:
    """Read a .csv file: one flattened p x p matrix per row, optional label column."""
    from covwb.io.tables import parse_table

    try:
        parsed = parse_table(upload)
    except TableFormatError as exc:
        raise SPDInputError(str(exc)) from exc
    frame, lines, report = _drop_counting_header(parsed.dataset.frame, parsed.lines)
    report.insert(0, parsed.dataset.report[0])
    label_cols = [c for c in frame.columns if str(c).lower() in _LABEL_NAMES][:1]
    labels = None
    if label_cols:
        column = frame[label_cols[0]]
        labels = (
            column.to_numpy(dtype=np.float64)
            if is_numeric_dtype(column)
            else np.asarray(column.astype(str).tolist(), dtype=str)
        )
        report.append(f"Labels taken from column '{label_cols[0]}'.")
    values_frame = frame.drop(columns=label_cols)
    text_cols = [c for c in values_frame.columns if not is_numeric_dtype(values_frame[c])]
    if text_cols:
        raise SPDInputError(
            f"Column '{text_cols[0]}' of '{base}' holds text, not numbers; each row must hold "
            "one flattened matrix, plus optionally a 'label' column."
        )
    values = values_frame.to_numpy(dtype=np.float64)
    missing = np.argwhere(np.isnan(values))
    if missing.size:
        row, col = missing[0]
        raise SPDInputError(
            f"Line {lines[row]}, column '{values_frame.columns[col]}' of '{base}' is empty or "
            "not a number; each row must hold one complete flattened matrix."
        )
    p = math.isqrt(values.shape[1])
    if p * p != values.shape[1] or p == 0:
        raise SPDInputError(
            f"File '{base}' has {values.shape[1]} numeric columns, which is not a square "
            "number p*p; each row must hold one p x p matrix flattened row by row."
        )
    report.insert(0, f"Each row read as a {p} x {p} matrix flattened row by row.")
    return _Raw(values.reshape(-1, p, p), labels, report, f"The table in '{base}'")


_MAT_READER = r"""
import io, json, math, sys
cap = int(sys.argv[1])
import numpy as np
import scipy.io
data = sys.stdin.buffer.read()
try:
    listing = scipy.io.whosmat(io.BytesIO(data))
except NotImplementedError:
    sys.exit(3)
numeric = set(sys.argv[2].split(","))
wanted, total = [], 0
for name, shape, cls in listing:
    size = math.prod(shape) * 8
    if cls in numeric and total + size <= cap:
        wanted.append(name)
        total += size
content = scipy.io.loadmat(io.BytesIO(data), variable_names=wanted) if wanted else {}
loaded = [n for n in wanted if n in content and np.asarray(content[n]).dtype.kind in "biuf"]
meta = {"whos": [[n, list(s), c] for n, s, c in listing], "loaded": loaded}
arrays = {f"v{i}": np.asarray(content[n]) for i, n in enumerate(loaded)}
arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
out = io.BytesIO()
np.savez(out, allow_pickle=False, **arrays)
sys.stdout.buffer.write(out.getvalue())
"""
_MAT_TIMEOUT_S = 120


def _load_mat_isolated(data: bytes, base: str) -> tuple[list, dict[str, np.ndarray]]:
    """List a .mat file and load its numeric variables in a separate, memory-capped process.

    SciPy's MAT reader is not hardened against crafted files (a bad element type code
    crashes it, scipy/scipy#25349); a crash or memory blow-up then ends only the child.

    Returns
    -------
    tuple
        The ``whosmat`` listing ``[[name, shape, class], ...]`` and the loaded variables by name.
    """
    from scipy.io.matlab import matfile_version

    try:
        major, _ = matfile_version(io.BytesIO(data))
    except Exception as exc:
        raise SPDInputError(f"File '{base}' is not a MATLAB .mat file ({exc}); save it with save(..., '-v7').") from exc
    if major == 2:
        raise SPDInputError(
            f"File '{base}' is a MATLAB v7.3 (HDF5) file, which is not supported; save it with save(..., '-v7')."
        )
    try:
        done = run_isolated(
            _MAT_READER,
            (str(MAX_ARRAY_BYTES), ",".join(sorted(_MAT_NUMERIC))),
            data,
            memory_bytes=3 * MAX_ARRAY_BYTES + 2**30,
            timeout_s=_MAT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise SPDInputError(f"Reading '{base}' took longer than {_MAT_TIMEOUT_S} s; upload a smaller file.") from exc
    if done.returncode == 3:
        raise SPDInputError(
            f"File '{base}' is a MATLAB v7.3 (HDF5) file, which is not supported; save it with save(..., '-v7')."
        )
    if done.returncode != 0:
        raise SPDInputError(
            f"File '{base}' is not a readable MATLAB .mat file ({stopped_reason(done)}); "
            "re-save it with save(..., '-v7')."
        )
    with zipfile.ZipFile(io.BytesIO(done.stdout)) as archive:
        meta = json.loads(_npz_member(archive, "meta", base).tobytes())
        content = {name: _npz_member(archive, f"v{i}", base) for i, name in enumerate(meta["loaded"])}
    return meta["whos"], content


def _read_mat(upload: UploadedBytes, base: str) -> _Raw:
    """Read a MATLAB v4-v7 .mat file: a 2-D/3-D numeric variable named like covs/C/X."""
    listing, content = _load_mat_isolated(upload.data, base)
    shapes = {name: tuple(shape) for name, shape, cls in listing if cls in _MAT_NUMERIC}
    names = [n for n, s in shapes.items() if len(s) in (2, 3)]
    label_name = _pick(list(shapes), _LABEL_NAMES)
    matrix_name = _pick(names, _MATRIX_NAMES, exclude=_LABEL_NAMES)
    candidates = [n for n in names if n != label_name]
    if matrix_name is None and len(candidates) == 1:
        matrix_name = candidates[0]
    if matrix_name is None:
        found = ", ".join(f"'{n}' {s}" for n, s in shapes.items()) or "no numeric variables"
        raise SPDInputError(
            f"File '{base}' has {found}; store the matrices as a 3-D variable named 'covs' "
            "(p x p x n) and optional labels as 'y'."
        )
    origin = f"Variable '{matrix_name}' in '{base}'"
    for name in (matrix_name, label_name):
        if name is not None and name not in content:
            raise SPDInputError(
                f"Variable '{name}' in '{base}' could not be loaded (larger than "
                f"{MAX_ARRAY_BYTES // 2**20} MiB in all, or unreadable); re-save a smaller file."
            )
    matrices = _check_real(content[matrix_name], origin)
    report = [f"Matrices taken from variable '{matrix_name}'."]
    labels = None
    if label_name is not None:
        labels = content[label_name]
        report.append(f"Labels taken from variable '{label_name}'.")
    return _Raw(matrices, labels, report, origin, matlab_order=True)


def _symmetric(stack: np.ndarray) -> bool:
    """True when every matrix of ``stack`` (n, p, p) is symmetric to a relative 1e-8."""
    scale = np.abs(stack).max()
    return bool(np.abs(stack - stack.transpose(0, 2, 1)).max() <= 1e-8 * scale)


def _orient(raw: _Raw) -> np.ndarray:
    """Turn the raw array into (n, p, p), detecting the MATLAB (p, p, n) order."""
    arr = raw.array
    if arr.size == 0:
        raise SPDInputError(
            f"{raw.origin} has shape {arr.shape} and holds no values; save at least one p x p matrix (n, p, p)."
        )
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
        raw.report.append("One matrix found.")
        return arr[None]
    if arr.ndim != 3:
        raise SPDInputError(
            f"{raw.origin} has shape {arr.shape}; expected (n, p, p) (or p x p x n from MATLAB, or one p x p matrix)."
        )
    leading = arr.shape[1] == arr.shape[2]
    trailing = arr.shape[0] == arr.shape[1]
    if not leading and not trailing:
        raise SPDInputError(
            f"{raw.origin} has shape {arr.shape}, which is not a stack of square matrices; "
            "if these are raw trials (trials x channels x samples), estimate covariances first."
        )
    matlab = np.moveaxis(arr, 2, 0)
    if leading and trailing:
        use_matlab = raw.matlab_order
        if _symmetric(arr) != _symmetric(matlab):
            use_matlab = _symmetric(matlab)
        chosen = matlab if use_matlab else arr
        order = "(p, p, n) MATLAB" if use_matlab else "(n, p, p)"
        raw.report.append(f"Shape {arr.shape} is ambiguous; read it in {order} order.")
        return chosen
    if trailing:
        raw.report.append(f"Shape {arr.shape} read in (p, p, n) MATLAB order.")
        return matlab
    return arr


def _check_scale(stack: np.ndarray, base: str) -> None:
    """Refuse matrices whose entries are so large or small that the geometry would overflow.

    Distances and means multiply matrices, their inverses and square roots: with entries
    beyond 1e50 in absolute value (or all below 1e-50), float64 overflows and results turn
    infinite. Matrices holding a NaN, infinity or only zeros are left to
    :func:`~covwb.covariance.geometry.check_spd_stack`, which says what is wrong with them.
    """
    finite = np.isfinite(stack).all(axis=(1, 2))
    scale = np.abs(np.where(finite[:, None, None], stack, 0.0)).max(axis=(1, 2))
    bad = finite & (scale > 0) & ((scale > _MAX_SCALE) | (scale < 1 / _MAX_SCALE))
    if bad.any():
        idx = int(np.flatnonzero(bad)[0])
        raise SPDInputError(
            f"Matrix {idx + 1} in '{base}' has entries of magnitude up to {scale[idx]:.3g}, outside "
            f"{1 / _MAX_SCALE:.0e} to {_MAX_SCALE:.0e} where the geometry stays within floating-point "
            "range; rescale the matrices (for example, change the unit of the data)."
        )


def _labels(raw_labels: np.ndarray | None, n: int, base: str) -> np.ndarray | None:
    """One string label per matrix, or None; integral numbers are written without decimals."""
    if raw_labels is None:
        return None
    arr = np.asarray(raw_labels)
    if arr.ndim == 0 or arr.size != n or (arr.ndim > 1 and max(arr.shape) != arr.size):
        raise SPDInputError(
            f"The labels in '{base}' have shape {arr.shape}, but there are {n} matrices; "
            "give exactly one label per matrix."
        )
    flat = arr.ravel()
    if flat.dtype.kind not in "biufUS":
        raise SPDInputError(f"The labels in '{base}' hold values of type {arr.dtype}; save them as numbers or text.")
    if flat.dtype.kind == "f" and np.all(np.abs(flat) < 2**53) and np.all(flat == np.round(flat)):
        flat = flat.astype(np.int64)
    if flat.dtype.kind == "S":
        return np.asarray([v.decode("utf-8", "replace") for v in flat], dtype=str)
    return flat.astype(str)


def read_spd_stack(upload: UploadedBytes) -> SPDStack:
    """Read and validate an uploaded stack of SPD matrices.

    Parameters
    ----------
    upload : UploadedBytes
        A ``.npy`` (array (n, p, p) or (p, p)), ``.npz`` (``covs``/``X`` and optional
        ``y``/``labels``), ``.csv`` (one flattened p x p matrix per row, optional
        ``label``/``labels``/``class``/``y`` column) or ``.mat`` (MATLAB v4-v7, a variable
        named like ``covs``/``C``/``X``, p x p x n or n x p x p, optional ``y``) file.

    Returns
    -------
    SPDStack
        Matrices (n, p, p) float64, labels (n,) str or None, source and report.

    Raises
    ------
    SPDInputError
        Unknown extension, unreadable or pickled/object content, no values, wrong shapes,
        label count mismatch, matrices that are not symmetric positive definite, or entries
        of magnitude beyond 1e50 (or all below 1e-50) in a matrix.
    """
    base = safe_basename(upload.name)
    readers = {".npy": _read_npy, ".npz": _read_npz, ".csv": _read_csv, ".mat": _read_mat}
    reader = readers.get(upload.suffix)
    if reader is None:
        raise SPDInputError(f"File '{base}' has an unsupported extension; upload one of {', '.join(SPD_SUFFIXES)}.")
    raw = reader(upload, base)
    stack = _orient(raw)
    labels = _labels(raw.labels, stack.shape[0], base)
    _check_scale(stack, base)
    matrices = check_spd_stack(stack, name=f"matrices in '{base}'", min_matrices=1)
    n, p, _ = matrices.shape
    report = (f"Read {n} matrices of size {p} x {p}.", *raw.report)
    if labels is not None:
        report += (f"{np.unique(labels).size} distinct labels.",)
    return SPDStack(name=base, matrices=matrices, labels=labels, source=f"upload: {base}", report=report)
