"""Read one EEG recording uploaded as one or several files.

Supported formats and the files that make up one recording:

* EDF/EDF+ (``.edf``), BDF (``.bdf``), GDF (``.gdf``), FIF (``.fif``, ``.fif.gz``): one file;
* BrainVision: the ``.vhdr`` header with the ``.eeg`` data and ``.vmrk`` marker files it names;
* EEGLAB: the ``.set`` file, with the ``.fdt`` data file it names unless the data are inside the ``.set``.

The uploaded bytes are written under safe basenames into a private temporary
directory, read there with MNE and the directory is removed before returning;
the returned recording is preloaded and no longer refers to any file. EEGLAB files
are MATLAB files, and SciPy's MAT reader (which MNE uses for them) can crash on crafted
input, so they are parsed, and converted to FIF, in a separate memory-capped process
(:mod:`covwb.io.isolated`); this process only reads the FIF that MNE wrote.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from covwb.datasets.types import EEGDataset
from covwb.errors import EEGFormatError, WorkbenchError
from covwb.io.channels import set_standard_positions, standardise_dotted_names
from covwb.io.isolated import run_isolated, stopped_reason
from covwb.io.uploads import UploadedBytes, safe_basename

SUPPORTED_EEG_SUFFIXES: tuple[str, ...] = (
    ".edf",
    ".bdf",
    ".gdf",
    ".fif",
    ".fif.gz",
    ".vhdr",
    ".vmrk",
    ".eeg",
    ".set",
    ".fdt",
)
"""Every file extension :func:`read_eeg` accepts, headers and companions (for an uploader's ``type=``)."""

_FORMAT_OF_PRIMARY: dict[str, str] = {
    ".edf": "EDF",
    ".bdf": "BDF",
    ".gdf": "GDF",
    ".fif": "FIF",
    ".fif.gz": "FIF",
    ".vhdr": "BrainVision",
    ".set": "EEGLAB",
}
_HEADER_OF_COMPANION: dict[str, str] = {".eeg": ".vhdr", ".vmrk": ".vhdr", ".fdt": ".set"}
_UPLOAD_TOGETHER: dict[str, str] = {
    ".vhdr": "upload the .vhdr, .vmrk and .eeg together",
    ".set": "upload the .set and .fdt together",
}
_MAX_VALUES = 400_000_000
"""Largest recording read, in samples times channels (3.2 GB as float64)."""
_IGNORED_WARNINGS = ("naming conventions",)
_UNITS_ASSUMED: dict[str, str] = {
    "EDF": "samples were scaled to volts from the physical units and ranges in the EDF header",
    "BDF": "samples were scaled to volts from the physical units and ranges in the BDF header",
    "GDF": "samples were scaled to volts from the physical units and ranges in the GDF header",
    "FIF": "samples are in the SI units stored in the FIF file (volts for EEG)",
    "BrainVision": "samples were scaled to volts from the per-channel resolution and unit in the .vhdr",
    "EEGLAB": "EEGLAB stores no unit, so samples were taken as microvolts and converted to volts",
}


def eeg_suffix(name: str) -> str:
    """Lower-case extension of a file name, with ``.fif.gz`` kept whole.

    Parameters
    ----------
    name : str
        File name (a basename; any folder part is ignored).

    Returns
    -------
    str
        ``'.edf'``, ``'.fif.gz'``..., or ``''`` when the name has no extension.
    """
    base = safe_basename(name).lower()
    if base.endswith(".fif.gz") and len(base) > len(".fif.gz"):
        return ".fif.gz"
    stem, dot, ext = base.rpartition(".")
    return f".{ext}" if dot and stem else ""


def _stem(name: str) -> str:
    """Basename without its (possibly double) extension."""
    base = safe_basename(name)
    suffix = eeg_suffix(base)
    return base[: len(base) - len(suffix)] if suffix else base


def _supported_sentence() -> str:
    """The supported formats, as a phrase for error messages."""
    return (
        "EDF (.edf), BDF (.bdf), GDF (.gdf), FIF (.fif, .fif.gz), BrainVision (.vhdr + .vmrk + .eeg) "
        "or EEGLAB (.set, with its .fdt)"
    )


def _decode_text(data: bytes) -> str:
    """Decode a text header as UTF-8, falling back to Latin-1 like MNE does."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _brainvision_references(upload: UploadedBytes) -> dict[str, str]:
    """Companion files named by a BrainVision header.

    Parameters
    ----------
    upload : UploadedBytes
        The ``.vhdr`` file.

    Returns
    -------
    dict of str to str
        ``{".eeg": DataFile}`` plus ``{".vmrk": MarkerFile}`` when the header names one.

    Raises
    ------
    EEGFormatError
        When the header names no data file.
    """
    params = _decode_text(upload.data).split("[Comment]")[0]
    refs: dict[str, str] = {}
    for key, role in (("DataFile", ".eeg"), ("MarkerFile", ".vmrk")):
        # The value is taken whole and stripped in Python: a lazy group followed by optional
        # blanks would backtrack quadratically over a long run of blanks.
        found = re.search(rf"^[ \t]*{key}[ \t]*=([^\n]*)$", params, re.IGNORECASE | re.MULTILINE)
        value = found.group(1).strip(" \t\r") if found else ""
        if value:
            refs[role] = value
    if ".eeg" not in refs:
        raise EEGFormatError(
            f"'{safe_basename(upload.name)}' is not a readable BrainVision header: it has no 'DataFile=' line "
            "naming its .eeg file; upload the .vhdr written by the recording software."
        )
    return refs


_SET_REFERENCE_READER = r"""
import io, json, sys
from scipy.io import loadmat
from scipy.io.matlab import mat_struct
data = sys.stdin.buffer.read()
try:
    content = loadmat(io.BytesIO(data), squeeze_me=True, struct_as_record=False, variable_names=["EEG", "data"])
except Exception as exc:
    lines = str(exc).strip().splitlines()
    json.dump({"error": (lines[0] if lines else "") or type(exc).__name__}, sys.stdout)
    sys.exit(0)
eeg = content.get("EEG")
if isinstance(eeg, mat_struct):
    data = getattr(eeg, "data", None)
elif eeg is None:
    data = content.get("data")
else:
    data = None
json.dump({"found": data is not None, "reference": str(data) if isinstance(data, str) else None}, sys.stdout)
"""
_SET_READER = r"""
import json, sys, warnings
source, target, max_values = sys.argv[1], sys.argv[2], int(sys.argv[3])
import mne
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        raw = mne.io.read_raw_eeglab(source, preload=False, verbose="warning")
        shape = [int(raw.info["nchan"]), int(raw.n_times)]
        if shape[0] * shape[1] > max_values:
            json.dump({"too_big": shape}, sys.stdout)
            sys.exit(0)
        raw.load_data(verbose="warning")
        messages = [str(w.message) for w in caught]
        for channel in raw.info["chs"]:
            channel["cal"], channel["range"] = 1.0, 1.0
        raw.save(target, fmt="double", overwrite=True, verbose="error")
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        json.dump({"error": (lines[0] if lines else "") or type(exc).__name__}, sys.stdout)
        sys.exit(0)
json.dump({"warnings": messages}, sys.stdout)
"""
_SET_MEMORY_BYTES = 2 * 8 * _MAX_VALUES + 2**31
"""Address-space cap of the processes that parse EEGLAB files (two float64 copies of the largest recording)."""
_SET_REFERENCE_TIMEOUT_S = 120
_SET_READ_TIMEOUT_S = 600
_SET_CONVERTED = "eeglab_converted_raw.fif"
_SET_REFERENCES: OrderedDict[str, str | None] = OrderedDict()
_SET_REFERENCES_LOCK = threading.Lock()
_SET_REFERENCES_KEPT = 64


def _eeglab_reference(upload: UploadedBytes) -> str | None:
    """Data file named by an EEGLAB ``.set`` file, or ``None`` when the data are inside it.

    The MAT structure is parsed by SciPy in a separate, memory-capped process (see
    :mod:`covwb.io.isolated`): SciPy's MAT reader can crash on crafted files. Results are
    kept per content digest (the last 64), so regrouping the same upload is instant.

    Parameters
    ----------
    upload : UploadedBytes
        The ``.set`` file (a MATLAB v5/v7 file holding the ``EEG`` structure).

    Returns
    -------
    str or None
        Name in ``EEG.data`` (usually ``'<stem>.fdt'``), or ``None`` for embedded data.

    Raises
    ------
    EEGFormatError
        When the file is not a MATLAB file holding an EEGLAB structure, is a v7.3 (HDF5)
        file, or crashes or exhausts the isolated reader.
    """
    name = safe_basename(upload.name)
    if upload.data[:128].startswith(b"MATLAB 7.3"):
        raise EEGFormatError(
            f"'{name}' is a MATLAB v7.3 (HDF5) file, which cannot be read without the pymatreader package; "
            "save it again from EEGLAB with the 'MATLAB v7' option or export the recording as EDF."
        )
    digest = hashlib.sha256(upload.data).hexdigest()
    with _SET_REFERENCES_LOCK:
        if digest in _SET_REFERENCES:
            _SET_REFERENCES.move_to_end(digest)
            return _SET_REFERENCES[digest]
    reference = _parse_eeglab_reference(upload.data, name)
    with _SET_REFERENCES_LOCK:
        _SET_REFERENCES[digest] = reference
        while len(_SET_REFERENCES) > _SET_REFERENCES_KEPT:
            _SET_REFERENCES.popitem(last=False)
    return reference


def _parse_eeglab_reference(data: bytes, name: str) -> str | None:
    """Run the isolated ``EEG.data`` lookup for :func:`_eeglab_reference`."""
    unreadable = f"'{name}' is not a readable EEGLAB .set file ({{}}); upload the .set (and .fdt) saved by EEGLAB."
    result = _run_child(_SET_REFERENCE_READER, (), data, timeout_s=_SET_REFERENCE_TIMEOUT_S, message=unreadable)
    if "error" in result:
        raise EEGFormatError(unreadable.format(_short(str(result["error"]))))
    if not result.get("found"):
        raise EEGFormatError(
            f"'{name}' holds no EEGLAB 'EEG' structure with data; upload the .set (and .fdt) saved by EEGLAB."
        )
    reference = result.get("reference")
    return str(reference) if isinstance(reference, str) else None


def _run_child(code: str, args: tuple[str, ...], data: bytes, *, timeout_s: float, message: str) -> dict[str, Any]:
    """Run an isolated EEGLAB reader; the JSON object it printed, or ``{"error": ...}`` when it printed none.

    ``message`` is the typed error's sentence with one ``{}`` for the reason, raised when the
    child times out, crashes, exhausts its memory or exits with an error.
    """
    try:
        done = run_isolated(code, args, data, memory_bytes=_SET_MEMORY_BYTES, timeout_s=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise EEGFormatError(message.format(f"reading it took longer than {timeout_s:g} s")) from exc
    if done.returncode != 0:
        raise EEGFormatError(message.format(stopped_reason(done)))
    try:
        result = json.loads(done.stdout.decode("utf-8", "replace"))
    except ValueError:
        return {"error": "the reader gave no result"}
    return result if isinstance(result, dict) else {"error": "the reader gave no result"}


def _eeglab_as_fif(source: Path, shown: str) -> tuple[Path, list[str]]:
    """Read a staged EEGLAB recording with MNE in an isolated process; save it as FIF beside it.

    MNE's EEGLAB reader parses the ``.set`` with SciPy's MAT reader, which can crash on
    crafted files; the child converts the recording to FIF (float64 volts with unit
    calibration, so the samples come back bit for bit; annotations, channel types and
    positions kept), which this process then reads with MNE's FIF reader.

    Parameters
    ----------
    source : pathlib.Path
        The ``.set`` file inside the private folder (its ``.fdt`` beside it).
    shown : str
        The uploaded name, for messages.

    Returns
    -------
    tuple of (pathlib.Path, list of str)
        The FIF file written in the same private folder, and MNE's warnings while reading.

    Raises
    ------
    EEGFormatError
        When MNE cannot read the recording, it is larger than the workbench reads, or the
        reader crashes, exhausts its memory or times out.
    """
    target = source.parent / _SET_CONVERTED
    corrupt = (
        f"'{shown}' could not be read as EEGLAB, it looks truncated or corrupt ({{}}); "
        "export the recording again and upload the complete files."
    )
    result = _run_child(
        _SET_READER, (str(source), str(target), str(_MAX_VALUES)), b"", timeout_s=_SET_READ_TIMEOUT_S, message=corrupt
    )
    if "too_big" in result:
        n_channels, n_times = result["too_big"]
        raise EEGFormatError(
            f"'{shown}' declares {n_channels} channels x {n_times} samples, "
            f"more than the {_MAX_VALUES:,} values this workbench reads; crop the recording first."
        )
    if "error" in result or not target.is_file():
        raise EEGFormatError(corrupt.format(_short(str(result.get("error", "no recording was produced")))))
    return target, [str(m) for m in result.get("warnings", [])]


def _reason(exc: BaseException) -> str:
    """First line of an exception's message, short, for inclusion in one sentence."""
    return _short(str(exc)) or type(exc).__name__


def _short(message: str) -> str:
    """First line of a message without its final period, at most 160 characters."""
    lines = message.strip().splitlines()
    text = lines[0].strip().rstrip(".") if lines else ""
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass(frozen=True)
class _Plan:
    """What to write into the private folder and which file MNE should open."""

    fmt: str
    primary: str
    files: dict[str, bytes]
    order: tuple[str, ...]


def _required_companions(primary: UploadedBytes) -> dict[str, str]:
    """Companion names a header requires, by role suffix (may raise EEGFormatError)."""
    suffix = eeg_suffix(primary.name)
    if suffix == ".vhdr":
        return _brainvision_references(primary)
    if suffix == ".set":
        ref = _eeglab_reference(primary)
        if ref is None or ref == safe_basename(primary.name):
            return {}
        return {".fdt": ref}
    return {}


def _plan(files: Sequence[UploadedBytes]) -> _Plan:
    """Check that the uploads form exactly one complete recording; decide the file names to write."""
    if not files:
        raise EEGFormatError(f"no file was uploaded; upload one EEG recording: {_supported_sentence()}.")
    by_name: dict[str, UploadedBytes] = {}
    for upload in files:
        base = safe_basename(upload.name)
        if eeg_suffix(base) not in SUPPORTED_EEG_SUFFIXES:
            raise EEGFormatError(f"'{base}' has an unsupported extension; upload {_supported_sentence()}.")
        if base in by_name:
            raise EEGFormatError(f"two uploaded files are both named '{base}'; upload each file once.")
        by_name[base] = upload
    primaries = [base for base in by_name if eeg_suffix(base) in _FORMAT_OF_PRIMARY]
    if len(primaries) > 1:
        raise EEGFormatError(
            f"several recordings were uploaded together ({', '.join(repr(p) for p in primaries)}); "
            "read one recording at a time."
        )
    if not primaries:
        companion = next(iter(by_name))
        header = _HEADER_OF_COMPANION[eeg_suffix(companion)]
        raise EEGFormatError(
            f"'{companion}' is a companion file without its {header} file; {_UPLOAD_TOGETHER[header]}."
        )
    primary = primaries[0]
    suffix = eeg_suffix(primary)
    required = _required_companions(by_name[primary])
    for role, ref in required.items():
        if safe_basename(ref) != ref or eeg_suffix(ref) != role:
            raise EEGFormatError(
                f"'{primary}' names its {role} file as '{ref}', which is not a plain {role} file name; "
                "export the recording again so that the header names its files without folders."
            )
        if ref not in by_name:
            uploaded = [b for b in by_name if eeg_suffix(b) == role]
            hint = f" (uploaded instead: {', '.join(repr(u) for u in uploaded)})" if uploaded else ""
            raise EEGFormatError(
                f"{suffix} given but the {role} file it names, '{ref}', was not uploaded{hint}; "
                f"{_UPLOAD_TOGETHER[suffix]} under their original names."
            )
    strays = [b for b in by_name if b != primary and b not in required.values()]
    if strays:
        raise EEGFormatError(
            f"'{strays[0]}' does not belong to the {_FORMAT_OF_PRIMARY[suffix]} recording '{primary}'; "
            "read it separately (one recording at a time)."
        )
    written = _stem(primary) + suffix
    files_out = {written: by_name[primary].data}
    files_out.update({ref: by_name[ref].data for ref in required.values()})
    return _Plan(_FORMAT_OF_PRIMARY[suffix], written, files_out, (primary, *required.values()))


@contextmanager
def _staged(files: Mapping[str, bytes]) -> Iterator[Path]:
    """Write files into a private temporary directory that is removed on exit.

    Parameters
    ----------
    files : mapping of str to bytes
        Safe basenames and their contents.

    Yields
    ------
    pathlib.Path
        The directory holding the files.
    """
    with tempfile.TemporaryDirectory(prefix="workbench-eeg-") as tmp:
        root = Path(tmp)
        for name, data in files.items():
            target = root / name
            if target.parent != root or name != safe_basename(name):
                raise EEGFormatError(f"'{name}' is not a plain file name; rename the file and upload it again.")
            target.write_bytes(data)
        yield root


def _mne_reader(fmt: str) -> Any:
    """The MNE reader function for a format name (EEGLAB is converted to FIF first)."""
    import mne

    return {
        "EDF": mne.io.read_raw_edf,
        "BDF": mne.io.read_raw_bdf,
        "GDF": mne.io.read_raw_gdf,
        "FIF": mne.io.read_raw_fif,
        "BrainVision": mne.io.read_raw_brainvision,
    }[fmt]


def _read_staged(plan: _Plan) -> tuple[Any, list[str]]:
    """Read the planned files with MNE; return the preloaded raw and MNE's warnings."""
    shown = plan.order[0]
    child_warnings: list[str] = []
    with _staged(plan.files) as root, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if plan.fmt == "EEGLAB":
                path, child_warnings = _eeglab_as_fif(root / plan.primary, shown)
                raw = _mne_reader("FIF")(path, preload=False, verbose="warning")
            else:
                raw = _mne_reader(plan.fmt)(root / plan.primary, preload=False, verbose="warning")
            n_values = int(raw.info["nchan"]) * int(raw.n_times)
            if n_values > _MAX_VALUES:
                raise EEGFormatError(
                    f"'{shown}' declares {raw.info['nchan']} channels x {raw.n_times} samples, "
                    f"more than the {_MAX_VALUES:,} values this workbench reads; crop the recording first."
                )
            raw.load_data(verbose="warning")
        except WorkbenchError:
            raise
        except Exception as exc:
            raise EEGFormatError(
                f"'{shown}' could not be read as {plan.fmt}, it looks truncated or corrupt ({_reason(exc)}); "
                "export the recording again and upload the complete files."
            ) from exc
    messages = [_short(m) for m in child_warnings] + [_reason(w.message) for w in caught]
    kept = [m for m in dict.fromkeys(messages) if not any(s in m for s in _IGNORED_WARNINGS)]
    return raw, kept


def _check_samples(raw: Any, shown: str) -> None:
    """Raise EEGFormatError for a recording without samples, EEG channels or with non-finite samples."""
    import mne

    if raw.n_times == 0 or raw.info["nchan"] == 0:
        raise EEGFormatError(f"'{shown}' holds no samples; upload a recording with data.")
    if len(mne.pick_types(raw.info, eeg=True, exclude=[])) == 0:
        types = _type_counts(raw)
        raise EEGFormatError(
            f"'{shown}' has no EEG channels (its channels are {types}); "
            "upload a recording whose EEG channels are typed as EEG."
        )
    finite = np.isfinite(raw.get_data())
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        first = int(np.argmin(finite[bad_rows[0]]))
        others = f" and {len(bad_rows) - 1} other channel(s)" if len(bad_rows) > 1 else ""
        raise EEGFormatError(
            f"'{shown}' has missing (NaN or infinite) samples in channel '{raw.ch_names[bad_rows[0]]}' "
            f"from {raw.times[first]:.3f} s{others}; interpolate or remove them before uploading."
        )


def _type_counts(raw: Any) -> str:
    """``'138 eeg, 1 stim'``: channel counts by type."""
    types, counts = np.unique(np.asarray(raw.get_channel_types()), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return ", ".join(f"{counts[i]} {types[i]}" for i in order)


def _report(raw: Any, plan: _Plan, mne_warnings: list[str]) -> tuple[str, ...]:
    """Human sentences on what was read and what was assumed."""
    sfreq = float(raw.info["sfreq"])
    lines = [
        f"{plan.fmt} recording read from {' + '.join(repr(n) for n in plan.order)}.",
        f"{raw.info['nchan']} channels: {_type_counts(raw)}.",
        f"Sampling rate {sfreq:g} Hz; duration {raw.n_times / sfreq:.2f} s ({raw.n_times} samples).",
        f"Units: {_UNITS_ASSUMED[plan.fmt]}.",
    ]
    descriptions = raw.annotations.description
    if len(descriptions):
        labels, counts = np.unique(descriptions, return_counts=True)
        shown = ", ".join(f"'{lab}' x{n}" for lab, n in zip(labels, counts))
        lines.append(f"{len(descriptions)} annotations: {shown}.")
    else:
        lines.append("No annotations.")
    stim = [name for name, kind in zip(raw.ch_names, raw.get_channel_types()) if kind == "stim"]
    if stim:
        lines.append(f"Trigger (stim) channel(s), typed from their names by MNE: {', '.join(stim)}.")
    if raw.info["bads"]:
        lines.append(f"Channels marked bad in the file: {', '.join(raw.info['bads'])}.")
    lines.extend(f"MNE noted: {message}." for message in mne_warnings)
    return tuple(lines)


def read_eeg(files: Sequence[UploadedBytes]) -> EEGDataset:
    """Read one EEG recording uploaded as one file or a header with its companion files.

    Parameters
    ----------
    files : sequence of UploadedBytes
        The files of ONE recording: a single ``.edf``/``.bdf``/``.gdf``/``.fif``/``.fif.gz``;
        a ``.vhdr`` with the ``.eeg`` and ``.vmrk`` it names; or a ``.set`` with the ``.fdt``
        it names (or alone when it holds its data). Companions must carry the names
        their header gives them.

    Returns
    -------
    EEGDataset
        ``raw`` is a preloaded ``mne.io.BaseRaw`` in volts, shape (n_channels, n_times);
        ``report`` says channel counts and types, sampling rate (Hz), duration (s),
        annotations and what was assumed or changed: labels padded with dots (``'Fc5.'``,
        ``'C3..'``, as PhysioNet EEGMMIDB writes them) are standardised as
        :func:`mne.datasets.eegbci.standardize` does and given standard 10-20 positions.

    Raises
    ------
    EEGFormatError
        Unsupported extension, missing or stray companion, several recordings,
        truncated or corrupt file, no EEG channel, or NaN/infinite samples.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import mne, numpy as np
    >>> from covwb.io import UploadedBytes
    >>> signals = np.random.default_rng(0).standard_normal((2, 500)) * 1e-5
    >>> raw = mne.io.RawArray(signals, mne.create_info(["C3", "C4"], 100.0, "eeg"), verbose=False)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "recording_raw.fif"
    ...     _ = raw.save(path, verbose=False)
    ...     dataset = read_eeg([UploadedBytes(path.name, path.read_bytes())])
    >>> dataset.raw.ch_names, dataset.raw.info["sfreq"], dataset.report[1]
    (['C3', 'C4'], 100.0, '2 channels: 2 eeg.')
    """
    plan = _plan(files)
    raw, mne_warnings = _read_staged(plan)
    shown = plan.order[0]
    _check_samples(raw, shown)
    names = _standard_names(raw)
    return EEGDataset(
        name=_stem(shown),
        raw=raw,
        source="upload: " + " + ".join(plan.order),
        description=f"{plan.fmt} recording uploaded as {' + '.join(plan.order)}.",
        report=_report(raw, plan, mne_warnings) + names,
    )


def _standard_names(raw: Any) -> tuple[str, ...]:
    """Standardise labels padded with dots (EEGMMIDB) and give them template positions; report sentences."""
    renamed = standardise_dotted_names(raw)
    if renamed is None:
        return ()
    montage = raw.get_montage()
    positions = montage.get_positions()["ch_pos"] if montage is not None else {}
    if any(np.isfinite(xyz).all() and np.any(xyz != 0) for xyz in positions.values()):
        return (renamed,)
    return renamed, set_standard_positions(raw)


def _references_or_none(upload: UploadedBytes) -> dict[str, str]:
    """Companion names a header gives, or ``{}`` when the header cannot be parsed."""
    try:
        return _required_companions(upload)
    except EEGFormatError:
        return {}


def group_recordings(files: Sequence[UploadedBytes]) -> list[list[UploadedBytes]]:
    """Split a multi-file upload into the files of each recording.

    Companions go with the header that names them (BrainVision ``DataFile``/``MarkerFile``,
    EEGLAB ``EEG.data``), else with a header of the same stem. Companions that match no
    header and files with unsupported extensions form groups of their own, so that
    :func:`read_eeg` reports on them.

    Parameters
    ----------
    files : sequence of UploadedBytes
        Everything uploaded at once.

    Returns
    -------
    list of list of UploadedBytes
        One list per recording, in upload order of their first file; each is suitable for
        :func:`read_eeg`. Never raises: problems are reported when a group is read.
    """
    names = [safe_basename(f.name) for f in files]
    owner: list[int | None] = [None] * len(files)
    primaries = [i for i, n in enumerate(names) if eeg_suffix(n) in _FORMAT_OF_PRIMARY]
    for i in primaries:
        owner[i] = i
        for ref in _references_or_none(files[i]).values():
            for j, name in enumerate(names):
                if owner[j] is None and name == ref and eeg_suffix(name) in _HEADER_OF_COMPANION:
                    owner[j] = i
    for j, name in enumerate(names):
        header = _HEADER_OF_COMPANION.get(eeg_suffix(name))
        if owner[j] is None and header is not None:
            match = [i for i in primaries if eeg_suffix(names[i]) == header and _stem(names[i]) == _stem(name)]
            if match:
                owner[j] = match[0]
    groups: dict[int, list[UploadedBytes]] = {}
    for j, upload in enumerate(files):
        key = owner[j] if owner[j] is not None else j
        groups.setdefault(key, []).append(upload)
    return list(groups.values())
