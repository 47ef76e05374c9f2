"""EEG files written by hand for the reader tests and the upload fuzzer.

EDF/BDF/GDF/BrainVision/EEGLAB bytes are built field by field (no exporter package
needed); FIF comes from MNE's own writer.
"""

from __future__ import annotations

import io
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path

import mne
import numpy as np

from covwb.io.uploads import UploadedBytes

SFREQ = 100
NAMES = ("Fz", "Cz", "Pz")
_MAT_HEADER = b"MATLAB 5.0 MAT-file, written by tests/io/eeg_files.py".ljust(116, b" ")
"""Fixed descriptive text of a MAT file header (SciPy writes the time of day there)."""


def signal(n_times: int = 300, seed: int = 0, sfreq: float = SFREQ) -> np.ndarray:
    """Smooth random test signal in µV, shape (3, n_times)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / sfreq
    return 20.0 * np.sin(2 * np.pi * np.array([[5.0], [10.0], [12.5]]) * t) + rng.normal(0, 3.0, (3, n_times))


def _field(value: float | str | bytes, width: int) -> bytes:
    """An ASCII header field, left-justified and space-padded."""
    text = value if isinstance(value, bytes) else str(value).encode("ascii")
    assert len(text) <= width, (value, width)
    return text.ljust(width, b" ")


def _number(value: float, width: int = 8) -> tuple[bytes, float]:
    """A number written into an EDF field, and the value the field really holds."""
    text = f"{value:.{width}g}"
    while len(text) > width:
        text = f"{float(text):.{len(text) - 2}g}" if "e" not in text else f"{value:.1e}"
    return _field(text, width), float(text)


def edf_bytes(
    data_uv: np.ndarray,
    names: Sequence[str] = NAMES,
    sfreq: int = SFREQ,
    annotations: Sequence[tuple[float, float, str]] = (),
    *,
    bdf: bool = False,
) -> bytes:
    """An EDF+ (or BDF+) file written by hand: 1 s records and an annotation signal.

    Parameters
    ----------
    data_uv : ndarray, shape (n_channels, n_times)
        Samples in µV; n_times a multiple of sfreq.
    names : sequence of str
        Channel labels (at most 16 characters each).
    sfreq : int
        Samples per second (and per record).
    annotations : sequence of (onset_s, duration_s, text)
        Written as TALs in the first record.
    bdf : bool
        Write BioSemi BDF+ (24-bit samples) instead of EDF+ (16-bit samples).
    """
    n_ch, n_times = data_uv.shape
    n_records = n_times // sfreq
    width, digital_max = (3, 2**23 - 1) if bdf else (2, 2**15 - 1)
    first_tal = b"".join(f"+{o:g}\x15{d:g}\x14{text}\x14\x00".encode() for o, d, text in annotations)
    ann_words = max(60, -(-(len(first_tal) + 16) // width))
    ann_bytes = ann_words * width
    pmins, pmaxs, digital = [], [], []
    for row in data_uv:
        lo_field, lo = _number(np.floor(row.min()) - 1.0)
        hi_field, hi = _number(np.ceil(row.max()) + 1.0)
        pmins.append(lo_field)
        pmaxs.append(hi_field)
        codes = np.round((row - lo) / (hi - lo) * (2 * digital_max + 1) - digital_max - 1).astype("<i4")
        digital.append(codes)
    labels = [*names, "BDF Annotations" if bdf else "EDF Annotations"]
    ns = n_ch + 1
    head = b"".join(
        [
            _field(b"\xffBIOSEMI" if bdf else b"0", 8),
            _field("X X X X", 80),
            _field("Startdate 01-JAN-2020 X X X", 80),
            _field("01.01.20", 8),
            _field("00.00.00", 8),
            _field(256 * (ns + 1), 8),
            _field("BDF+C" if bdf else "EDF+C", 44),
            _field(n_records, 8),
            _field(1, 8),
            _field(ns, 4),
        ]
    )
    head += b"".join(_field(label, 16) for label in labels)
    head += b"".join(_field("", 80) for _ in labels)
    head += b"".join(_field(unit, 8) for unit in [*["uV"] * n_ch, ""])
    head += b"".join([*pmins, _field(-1, 8)])
    head += b"".join([*pmaxs, _field(1, 8)])
    head += b"".join(_field(-digital_max - 1, 8) for _ in labels)
    head += b"".join(_field(digital_max, 8) for _ in labels)
    head += b"".join(_field("", 80) for _ in labels)
    head += b"".join(_field(n, 8) for n in [*[sfreq] * n_ch, ann_words])
    head += b"".join(_field("", 32) for _ in labels)
    records = []
    for k in range(n_records):
        tal = f"+{k}\x14\x14\x00".encode() + (first_tal if k == 0 else b"")
        samples = b"".join(_packed(d[k * sfreq : (k + 1) * sfreq], width) for d in digital)
        records.append(samples + tal.ljust(ann_bytes, b"\x00"))
    return head + b"".join(records)


def _packed(codes: np.ndarray, width: int) -> bytes:
    """Little-endian integers of ``width`` bytes (2 for EDF, 3 for BDF)."""
    return codes.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :width].tobytes()


def gdf_bytes(
    data_uv: np.ndarray,
    events: Sequence[tuple[int, int]] = (),
    names: Sequence[str] = NAMES,
    sfreq: int = SFREQ,
) -> bytes:
    """A GDF 1.25 file written by hand (float32 samples in µV, 1 s records, an event table).

    Parameters
    ----------
    data_uv : ndarray, shape (n_channels, n_times)
        Samples in µV; n_times a multiple of sfreq.
    events : sequence of (sample, code)
        Event positions (0-based samples) and type codes.
    """
    n_ch, n_times = data_uv.shape
    n_records = n_times // sfreq
    fixed = (
        b"GDF 1.25"
        + b"X X".ljust(80)
        + b"test".ljust(80)
        + b"2020010100000000"
        + struct.pack("<q", 256 * (n_ch + 1))
        + bytes(24)
        + bytes(20)
        + struct.pack("<qIII", n_records, 1, 1, n_ch)
    )
    assert len(fixed) == 256
    variable = b"".join(
        [
            b"".join(n.encode().ljust(16) for n in names),
            bytes(80 * n_ch),
            b"".join(b"uV".ljust(8) for _ in names),
            np.full(n_ch, -1000.0, "<f8").tobytes(),
            np.full(n_ch, 1000.0, "<f8").tobytes(),
            np.full(n_ch, -1000, "<i8").tobytes(),
            np.full(n_ch, 1000, "<i8").tobytes(),
            bytes(80 * n_ch),
            np.full(n_ch, sfreq, "<i4").tobytes(),
            np.full(n_ch, 16, "<i4").tobytes(),
            bytes(32 * n_ch),
        ]
    )
    body = b"".join(data_uv[:, k * sfreq : (k + 1) * sfreq].astype("<f4").tobytes() for k in range(n_records))
    pos = np.array([s + 1 for s, _ in events], "<u4")
    typ = np.array([c for _, c in events], "<u2")
    table = bytes([1]) + struct.pack("<I", sfreq)[:3] + struct.pack("<I", len(pos)) + pos.tobytes() + typ.tobytes()
    return fixed + variable + body + table


def brainvision_files(
    data_uv: np.ndarray,
    stem: str = "rec",
    data_name: str | None = None,
    marker_name: str | None = None,
    markers: Sequence[tuple[int, str]] = ((50, "S  1"), (150, "S  2")),
    names: Sequence[str] = NAMES,
    sfreq: float = SFREQ,
) -> list[UploadedBytes]:
    """A BrainVision recording written by hand: .vhdr, .vmrk and float32 multiplexed .eeg (µV)."""
    data_name = data_name or f"{stem}.eeg"
    marker_name = marker_name or f"{stem}.vmrk"
    channels = "\n".join(f"Ch{i + 1}={name},,1,µV" for i, name in enumerate(names))
    vhdr = (
        "Brain Vision Data Exchange Header File Version 1.0\n; written by the test\n\n[Common Infos]\n"
        f"Codepage=UTF-8\nDataFile={data_name}\nMarkerFile={marker_name}\nDataFormat=BINARY\n"
        f"DataOrientation=MULTIPLEXED\nNumberOfChannels={len(names)}\nSamplingInterval={1e6 / sfreq:g}\n\n"
        f"[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n\n[Channel Infos]\n{channels}\n"
    )
    marks = "\n".join(f"Mk{i + 2}=Stimulus,{text},{sample + 1},1,0" for i, (sample, text) in enumerate(markers))
    vmrk = (
        "Brain Vision Data Exchange Marker File, Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\n"
        f"DataFile={data_name}\n\n[Marker Infos]\nMk1=New Segment,,1,1,0\n{marks}\n"
    )
    return [
        UploadedBytes(f"{stem}.vhdr", vhdr.encode("utf-8")),
        UploadedBytes(marker_name, vmrk.encode("utf-8")),
        UploadedBytes(data_name, data_uv.T.astype("<f4").tobytes()),
    ]


def raw_array(
    data_uv: np.ndarray, types: str | list[str] = "eeg", names: Sequence[str] = NAMES, sfreq: float = SFREQ
) -> mne.io.RawArray:
    """A RawArray in volts from µV samples of shape (n_channels, n_times)."""
    info = mne.create_info(list(names[: len(data_uv)]), sfreq, types)
    return mne.io.RawArray(data_uv * 1e-6, info, verbose="error")


def fif_bytes(raw: mne.io.BaseRaw, name: str = "rec_raw.fif") -> bytes:
    """Bytes of ``raw`` saved as FIF by MNE (``name`` decides compression)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        raw.save(path, verbose="error")
        return path.read_bytes()


def eeglab_files(
    data_uv: np.ndarray,
    stem: str = "rec",
    *,
    names: Sequence[str] = NAMES,
    sfreq: float = SFREQ,
    events: Sequence[tuple[int, str]] = ((50, "left"), (150, "right")),
    embedded: bool = False,
    compress: bool = True,
) -> list[UploadedBytes]:
    """An EEGLAB recording written with SciPy: the ``.set`` MAT file and, unless embedded, its ``.fdt``.

    Parameters
    ----------
    data_uv : ndarray, shape (n_channels, n_times)
        Samples in µV (EEGLAB's implicit unit).
    events : sequence of (sample, type)
        Events at 0-based samples.
    embedded : bool
        Store the samples inside the ``.set`` instead of a ``.fdt`` file.
    compress : bool
        Write compressed MAT elements (as MATLAB's ``-v7``).
    """
    from scipy.io import savemat

    n_ch, n_times = data_uv.shape
    chanlocs = np.zeros((1, n_ch), dtype=[("labels", object), ("type", object)])
    for i, name in enumerate(names[:n_ch]):
        chanlocs[0, i] = (name, "EEG")
    event = np.zeros((1, len(events)), dtype=[("type", object), ("latency", object), ("duration", object)])
    for i, (sample, kind) in enumerate(events):
        event[0, i] = (kind, float(sample + 1), 0.0)
    fdt = f"{stem}.fdt"
    with np.errstate(divide="ignore", invalid="ignore"):
        step_s = np.float64(1.0) / np.float64(sfreq)
    eeg = {
        "setname": stem,
        "filename": f"{stem}.set",
        "filepath": "",
        "nbchan": float(n_ch),
        "trials": 1.0,
        "pnts": float(n_times),
        "srate": float(sfreq),
        "xmin": 0.0,
        "xmax": (n_times - 1) * step_s,
        "times": np.arange(n_times) * 1000.0 * step_s,
        "data": data_uv.astype(np.float32) if embedded else fdt,
        "icawinv": np.zeros((0, 0)),
        "icasphere": np.zeros((0, 0)),
        "icaweights": np.zeros((0, 0)),
        "icachansind": np.zeros((0, 0)),
        "chanlocs": chanlocs,
        "urchanlocs": np.zeros((0, 0)),
        "chaninfo": {"plotrad": np.zeros((0, 0))},
        "ref": "common",
        "event": event,
        "urevent": np.zeros((0, 0)),
        "epoch": np.zeros((0, 0)),
        "etc": {},
    }
    buffer = io.BytesIO()
    savemat(buffer, {"EEG": eeg}, appendmat=False, do_compression=compress, oned_as="row")
    content = _MAT_HEADER + buffer.getvalue()[len(_MAT_HEADER) :]
    files = [UploadedBytes(f"{stem}.set", content)]
    if not embedded:
        files.append(UploadedBytes(fdt, data_uv.T.astype("<f4").tobytes()))
    return files
