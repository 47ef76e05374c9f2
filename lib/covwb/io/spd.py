"""Read an uploaded stack of SPD matrices (covariances) from .npy, .npz, .csv or .mat.

A 3-D array that is not a stack of square matrices is read as raw trials (trials x
channels x samples, or MATLAB's channels x samples x trials) and returned as a
:class:`~covwb.datasets.types.TrialStack` by :func:`read_spd_or_trials`;
:func:`trial_covariances` turns it into covariances with one of the estimators of
:mod:`covwb.covariance.estimators` (OAS by default: well defined whatever the number of
samples per channel, where the sample covariance of many channels is singular or nearly so).

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
from pandas.api.types import is_numeric_dtype

from covwb.covariance.estimators import ESTIMATORS, covariances
from covwb.covariance.geometry import check_spd_stack
from covwb.datasets.types import SPDStack, TrialStack
from covwb.errors import SPDInputError, TableFormatError
from covwb.io.isolated import run_isolated, stopped_reason
from covwb.io.uploads import UploadedBytes, safe_basename

MAX_ARRAY_BYTES = 512 * 1024 * 1024
SPD_SUFFIXES: tuple[str, ...] = (".npy", ".npz", ".csv", ".mat")
"""File extensions :func:`read_spd_stack` reads (for an uploader's ``type=``)."""

DEFAULT_TRIAL_ESTIMATOR = "oas"
"""Estimator :func:`trial_covariances` uses unless told otherwise (a key of ``ESTIMATORS``)."""
ILL_CONDITIONED = 1e10
"""Condition number above which covariances estimated from trials carry a warning."""

_MATRIX_NAMES = ("covs", "covariances", "cov", "c", "x", "trials", "epochs", "data")
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
    warnings: tuple[str, ...] = ()


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
                    "(or raw trials under 'trials', and optional labels under 'y')."
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


def _read_csv(upload: UploadedBytes, base: str, header: str = "auto") -> _Raw:
    """Read a .csv file: one flattened p x p matrix per row, optional label column."""
    from covwb.io.tables import parse_table

    try:
        parsed = parse_table(upload, header=header)
    except TableFormatError as exc:
        raise SPDInputError(str(exc)) from exc
    frame, lines = parsed.dataset.frame, parsed.lines
    report = list(parsed.dataset.report)
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
    return _Raw(values.reshape(-1, p, p), labels, report, f"The table in '{base}'", warnings=parsed.dataset.warnings)


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
            "(p x p x n) or raw trials as 'trials', and optional labels as 'y'."
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
            f"{raw.origin} has shape {arr.shape}, which is not a stack of square matrices but looks like raw "
            "trials (trials x channels x samples); read it with covwb.io.read_spd_or_trials and estimate "
            "covariances with covwb.io.trial_covariances (the workbench's uploader offers this)."
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


def _read_raw(upload: UploadedBytes, header: str) -> tuple[str, _Raw]:
    """The upload's shown name and what its format reader found."""
    base = safe_basename(upload.name)
    if upload.suffix == ".csv":
        return base, _read_csv(upload, base, header)
    readers = {".npy": _read_npy, ".npz": _read_npz, ".mat": _read_mat}
    reader = readers.get(upload.suffix)
    if reader is None:
        raise SPDInputError(f"File '{base}' has an unsupported extension; upload one of {', '.join(SPD_SUFFIXES)}.")
    return base, reader(upload, base)


def _are_trials(arr: np.ndarray) -> bool:
    """Whether a non-empty array is 3-D without a pair of equal axes that could hold square matrices."""
    return arr.ndim == 3 and arr.size > 0 and arr.shape[1] != arr.shape[2] and arr.shape[0] != arr.shape[1]


def _spd_stack(raw: _Raw, base: str) -> SPDStack:
    """Orient, validate and describe the matrices a format reader found."""
    stack = _orient(raw)
    labels = _labels(raw.labels, stack.shape[0], base)
    _check_scale(stack, base)
    matrices = check_spd_stack(stack, name=f"matrices in '{base}'", min_matrices=1)
    n, p, _ = matrices.shape
    report = (f"Read {n} matrices of size {p} x {p}.", *raw.report)
    if labels is not None:
        report += (f"{np.unique(labels).size} distinct labels.",)
    return SPDStack(
        name=base, matrices=matrices, labels=labels, source=f"upload: {base}", report=report, warnings=raw.warnings
    )


def _trial_stack(raw: _Raw, base: str) -> TrialStack:
    """Read a 3-D array of raw trials as (trials, channels, samples), choosing between two axis orders.

    NumPy and MNE write trials x channels x samples; MATLAB (EEGLAB's ``EEG.data``) writes
    channels x samples x trials. The order that gives at least as many samples as channels
    is taken, the NumPy order when both or neither do.
    """
    arr = raw.array
    matlab = np.moveaxis(arr, 2, 0)
    use_matlab = arr.shape[1] > arr.shape[2] and matlab.shape[1] <= matlab.shape[2]
    trials = np.ascontiguousarray(matlab if use_matlab else arr, dtype=np.float64)
    n, n_channels, n_samples = trials.shape
    order = "channels x samples x trials (MATLAB order)" if use_matlab else "trials x channels x samples"
    report = [
        f"Read {n} raw trials of {n_channels} channels x {n_samples} samples, not covariance matrices.",
        *raw.report,
        f"Shape {arr.shape} read as {order}: the other order would give fewer samples than channels."
        if use_matlab or n_channels <= n_samples < arr.shape[1]
        else f"Shape {arr.shape} read as {order}.",
    ]
    if n_samples < 2:
        raise SPDInputError(
            f"{raw.origin} has shape {arr.shape}: read as {n} trials of {n_channels} channels x {n_samples} "
            "sample, which cannot give a covariance; save raw trials as (trials, channels, samples)."
        )
    labels = _labels(raw.labels, n, base)
    if labels is not None:
        report.append(f"{np.unique(labels).size} distinct labels.")
    return TrialStack(
        name=base,
        trials=trials,
        labels=labels,
        source=f"upload: {base}",
        report=tuple(report),
        warnings=raw.warnings,
    )


def read_spd_or_trials(upload: UploadedBytes, *, header: str = "auto") -> SPDStack | TrialStack:
    """Read an uploaded stack of SPD matrices, or of raw trials to estimate covariances from.

    Parameters
    ----------
    upload : UploadedBytes
        As for :func:`read_spd_stack`; a 3-D array whose axes cannot hold square matrices
        (``.npy``, ``.npz`` or ``.mat``) is read as raw trials.
    header : {"auto", "first_row", "none"}, default "auto"
        How the first row of a ``.csv`` is read (see :func:`covwb.io.tables.read_table`);
        ignored for other formats.

    Returns
    -------
    SPDStack or TrialStack
        Validated SPD matrices (n, p, p), or trials (n_trials, n_channels, n_samples) float64
        with their labels; pass the latter to :func:`trial_covariances`.

    Raises
    ------
    SPDInputError
        As :func:`read_spd_stack`, except for arrays of raw trials.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from covwb.io import UploadedBytes, read_spd_or_trials, trial_covariances
    >>> buffer = io.BytesIO()
    >>> np.save(buffer, np.random.default_rng(0).standard_normal((45, 8, 250)))
    >>> trials = read_spd_or_trials(UploadedBytes("trials.npy", buffer.getvalue()))
    >>> type(trials).__name__, trials.trials.shape
    ('TrialStack', (45, 8, 250))
    >>> trial_covariances(trials).matrices.shape
    (45, 8, 8)
    """
    base, raw = _read_raw(upload, header)
    if _are_trials(raw.array):
        return _trial_stack(raw, base)
    return _spd_stack(raw, base)


def read_spd_stack(upload: UploadedBytes, *, header: str = "auto") -> SPDStack:
    """Read and validate an uploaded stack of SPD matrices.

    Parameters
    ----------
    upload : UploadedBytes
        A ``.npy`` (array (n, p, p) or (p, p)), ``.npz`` (``covs``/``X`` and optional
        ``y``/``labels``), ``.csv`` (one flattened p x p matrix per row, optional
        ``label``/``labels``/``class``/``y`` column) or ``.mat`` (MATLAB v4-v7, a variable
        named like ``covs``/``C``/``X``, p x p x n or n x p x p, optional ``y``) file.
    header : {"auto", "first_row", "none"}, default "auto"
        How the first row of a ``.csv`` is read (see :func:`covwb.io.tables.read_table`);
        ignored for other formats.

    Returns
    -------
    SPDStack
        Matrices (n, p, p) float64, labels (n,) str or None, source and report.

    Raises
    ------
    SPDInputError
        Unknown extension, unreadable or pickled/object content, no values, wrong shapes
        (raw trials among them: read those with :func:`read_spd_or_trials`), label count
        mismatch, matrices that are not symmetric positive definite, or entries of
        magnitude beyond 1e50 (or all below 1e-50) in a matrix.
    """
    base, raw = _read_raw(upload, header)
    return _spd_stack(raw, base)


def read_covariances(
    upload: UploadedBytes,
    *,
    header: str = "auto",
    trial_estimator: str = DEFAULT_TRIAL_ESTIMATOR,
    trial_shrinkage: float = 0.1,
) -> SPDStack:
    """Read an upload as covariance matrices: its SPD matrices, or one covariance per raw trial.

    This is the upload reader of the workbench's covariance uploader (``"spd"`` in
    :data:`covwb.sources.READERS`): every choice the page offers about the file is one of its
    options, so a recorded :class:`~covwb.sources.UploadSource` rereads the same matrices.

    Parameters
    ----------
    upload : UploadedBytes
        As for :func:`read_spd_or_trials`.
    header : {"auto", "first_row", "none"}, default "auto"
        How the first row of a ``.csv`` is read; ignored for other formats.
    trial_estimator : {"oas", "ledoit_wolf", "shrinkage", "sample"}, default "oas"
        For raw trials, the covariance estimator of :func:`trial_covariances`; ignored for matrices.
    trial_shrinkage : float, default 0.1
        For raw trials and the ``"shrinkage"`` estimator, its intensity in [0, 1]; ignored otherwise.

    Returns
    -------
    SPDStack
        What :func:`read_spd_stack` returns for a stack of matrices, what :func:`trial_covariances`
        returns for raw trials (its ``description`` says which estimator ran and why).

    Raises
    ------
    SPDInputError
        As :func:`read_spd_or_trials` and :func:`trial_covariances`.
    ParameterError
        Unknown header choice or estimator, or a shrinkage outside [0, 1].

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from covwb.io import UploadedBytes, read_covariances
    >>> buffer = io.BytesIO()
    >>> np.save(buffer, np.random.default_rng(0).standard_normal((45, 8, 250)))
    >>> stack = read_covariances(UploadedBytes("trials.npy", buffer.getvalue()), trial_estimator="ledoit_wolf")
    >>> stack.matrices.shape, stack.description.startswith("Covariances estimated from raw trials with Ledoit")
    ((45, 8, 8), True)
    """
    data = read_spd_or_trials(upload, header=header)
    if isinstance(data, TrialStack):
        return trial_covariances(data, trial_estimator, trial_shrinkage)
    return data


def trial_covariances(trials: TrialStack, estimator: str = DEFAULT_TRIAL_ESTIMATOR, shrinkage: float = 0.1) -> SPDStack:
    """Estimate one covariance matrix per raw trial, saying which estimator ran and why.

    Parameters
    ----------
    trials : TrialStack
        Trials of shape (n_trials, n_channels, n_samples) in a unit ``u``.
    estimator : {"oas", "ledoit_wolf", "shrinkage", "sample"}, default "oas"
        One of :data:`covwb.covariance.estimators.ESTIMATORS`. OAS, the default, is well
        defined whatever the number of samples per channel; the sample covariance is
        singular when trials have fewer samples than channels or rank-deficient data
        (common average reference, ICA), and is then refused.
    shrinkage : float, default 0.1
        Intensity in [0, 1] of the ``"shrinkage"`` estimator; ignored by the others.

    Returns
    -------
    SPDStack
        Matrices (n_trials, n_channels, n_channels) float64 in ``u**2``, the trials' labels;
        ``description`` and the last ``report`` sentence say which estimator ran and why;
        ``warnings`` holds a sentence when a matrix's condition number exceeds 1e10.

    Raises
    ------
    SPDInputError
        When the sample covariance of a trial is singular, a matrix is not positive definite
        (a trial of zeros), the values overflow, or the matrices would not fit in memory.
    ParameterError
        Unknown estimator, shrinkage outside [0, 1], or NaN/infinite samples.
    """
    n, n_channels, n_samples = trials.trials.shape
    needed = n * n_channels * n_channels * 8
    if needed > MAX_ARRAY_BYTES:
        raise SPDInputError(
            f"The covariances of {n} trials of {n_channels} channels in '{trials.name}' would take "
            f"{needed / 2**20:.0f} MiB, more than the {MAX_ARRAY_BYTES // 2**20} MiB accepted; "
            "upload fewer trials or channels."
        )
    with np.errstate(over="ignore", invalid="ignore"):
        covs = covariances(trials.trials, estimator, shrinkage)
    if not np.isfinite(covs).all():
        raise SPDInputError(
            f"The covariances of the trials in '{trials.name}' overflow floating-point range; "
            "rescale the trials (for example, change their unit)."
        )
    _check_scale(covs, trials.name)
    eigenvalues = np.linalg.eigvalsh(covs)
    condition = _condition_numbers(eigenvalues)
    singular = np.flatnonzero(~np.isfinite(condition))
    shape = f"{n_channels} channels x {n_samples} samples"
    if estimator == "sample" and singular.size:
        raise SPDInputError(
            f"The sample covariance of {singular.size} of {n} trials in '{trials.name}' is singular "
            f"(trial {singular[0] + 1} first; {shape} per trial"
            f"{', fewer samples than channels' if n_samples <= n_channels else ', rank-deficient data'}); "
            "choose a shrinkage estimator (OAS or Ledoit-Wolf), which is well defined here."
        )
    matrices = check_spd_stack(covs, name=f"covariances of the trials in '{trials.name}'", min_matrices=1)
    why = _why(estimator, trials.trials, condition)
    report = (
        *trials.report,
        f"Covariances of {n} trials x {shape} estimated with {ESTIMATORS[estimator]}"
        + (f" (intensity {shrinkage:g})" if estimator == "shrinkage" else "")
        + f", one per trial: {why}",
    )
    worst = float(condition.max())
    warnings = trials.warnings
    if worst > ILL_CONDITIONED:
        warnings += (
            f"The covariances are ill-conditioned (condition number up to {worst:.2g}, above "
            f"{ILL_CONDITIONED:.0e}): distances and means then depend on their smallest eigenvalues, "
            "which are noise; choose OAS or Ledoit-Wolf shrinkage.",
        )
    return SPDStack(
        name=trials.name,
        matrices=matrices,
        labels=trials.labels,
        source=f"{trials.source}, covariances by {ESTIMATORS[estimator]}",
        licence=trials.licence,
        description=f"Covariances estimated from raw trials with {ESTIMATORS[estimator]}: {why}",
        report=report,
        builtin=trials.builtin,
        warnings=warnings,
    )


def _condition_numbers(eigenvalues: np.ndarray) -> np.ndarray:
    """Largest over smallest eigenvalue of each matrix, ``inf`` where the smallest is not positive.

    ``eigenvalues`` (n, p) in ascending order; positive means above ``p * eps`` times the largest.
    """
    top = eigenvalues[:, -1]
    bottom = eigenvalues[:, 0]
    positive = bottom > eigenvalues.shape[1] * np.finfo(np.float64).eps * np.abs(top)
    with np.errstate(divide="ignore"):
        return np.where(positive, top / np.where(positive, bottom, 1.0), np.inf)


def _why(estimator: str, trials: np.ndarray, condition: np.ndarray) -> str:
    """Why this estimator suits these trials, with the sample covariance's conditioning for comparison."""
    if estimator == "sample":
        return (
            f"as chosen, unbiased and without shrinkage (condition numbers up to {float(condition.max()):.2g}; "
            f"above {ILL_CONDITIONED:.0e} a shrinkage estimator is safer)."
        )
    sample = _condition_numbers(np.linalg.eigvalsh(covariances(trials, "sample")))
    worst = float(sample.max())
    sample_phrase = (
        "be singular for some trials" if not np.isfinite(worst) else f"have condition numbers up to {worst:.2g}"
    )
    chosen = "the default for raw trials" if estimator == DEFAULT_TRIAL_ESTIMATOR else "as chosen"
    return (
        f"{chosen}; shrinkage towards a scaled identity is well defined whatever the number of samples "
        f"per channel and keeps every matrix positive definite (condition numbers up to {float(condition.max()):.2g}), "
        f"where the sample covariance would {sample_phrase}."
    )
