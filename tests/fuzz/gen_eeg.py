"""Malformed EEG recordings for the EEG-file uploader: EDF, BDF, GDF, FIF, BrainVision and EEGLAB."""

from __future__ import annotations

import gzip
import random
import struct

import mne
import numpy as np

from tests.fuzz.cases import junk, mutate
from tests.io.eeg_files import (
    brainvision_files,
    edf_bytes,
    eeglab_files,
    fif_bytes,
    gdf_bytes,
    raw_array,
)

SFREQ = 128
CHANNELS = ("C3", "Cz", "C4")
_SECONDS = 10
_EDF_FIXED = ((0, 8), (8, 80), (88, 80), (168, 8), (176, 8), (184, 8), (192, 44), (236, 8), (244, 8), (252, 4))
"""(offset, width) of the fixed EDF/BDF header fields."""
_EDF_SIGNAL_WIDTHS = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)
"""Widths of the per-signal EDF/BDF header fields: label, transducer, unit, physical min/max,
digital min/max, prefiltering, samples per record, reserved."""
_NUMBER_TEXTS = ("-1", "0", "1", "99999999", "1e9", "nan", "inf", "-32768", "abc", "", " 1 ", "1,5", "0x10", "3.5")
_PRIMARY = (".edf", ".bdf", ".gdf", ".fif", ".fif.gz", ".vhdr", ".set")
_COMPANION = (".eeg", ".vmrk", ".fdt")


def _signal(rng: random.Random, n_ch: int = 3, seconds: int = _SECONDS, sfreq: int = SFREQ) -> np.ndarray:
    """Alpha and beta rhythms plus noise, in µV, shape (n_ch, seconds * sfreq)."""
    gen = np.random.default_rng(rng.getrandbits(64))
    t = np.arange(seconds * sfreq) / sfreq
    freqs = gen.uniform(8.0, 30.0, (n_ch, 1))
    return 20.0 * np.sin(2 * np.pi * freqs * t) + gen.normal(0.0, 5.0, (n_ch, t.size))


def _events(seconds: int = _SECONDS) -> list[tuple[float, str]]:
    """Alternating 'left'/'right' events one second apart, inside the recording."""
    return [(float(k), "left" if k % 2 else "right") for k in range(1, seconds - 2)]


def _edf(rng: random.Random, *, bdf: bool = False) -> bytes:
    return edf_bytes(
        _signal(rng), names=CHANNELS, sfreq=SFREQ, annotations=[(t, 0, lab) for t, lab in _events()], bdf=bdf
    )


def _edf_field(data: bytes, field: int, signal: int, text: bytes) -> bytes:
    """Replace one header field (fixed fields 0-9, then per-signal fields 10-19) with ``text``."""
    ns = int(data[252:256])
    if field < len(_EDF_FIXED):
        offset, width = _EDF_FIXED[field]
    else:
        k = field - len(_EDF_FIXED)
        width = _EDF_SIGNAL_WIDTHS[k]
        offset = 256 + ns * sum(_EDF_SIGNAL_WIDTHS[:k]) + (signal % ns) * width
    value = text[:width].ljust(width, b" ")
    return data[:offset] + value + data[offset + width :]


def _edf_like(rng: random.Random, bdf: bool) -> tuple[str, bytes]:
    """One EDF or BDF file damaged in one of several ways."""
    data = _edf(rng, bdf=bdf)
    name = "rec.bdf" if bdf else "rec.edf"
    header = int(data[184:192])
    ns = int(data[252:256])
    n_records = int(data[236:244])
    choice = rng.randrange(6)
    if choice == 0:
        return name, data[: rng.randint(0, header)]
    if choice == 1:
        return name, data[: rng.randint(header, len(data) - 1)]
    if choice == 2:
        wrong = rng.choice((-1, 0, 1, n_records - 1, n_records + 1, n_records * 100, 10**7))
        text = rng.choice((str(wrong), rng.choice(_NUMBER_TEXTS)))
        return name, _edf_field(data, 7, 0, text.encode())
    if choice == 3:
        per_record = rng.choice((0, -5, 1, SFREQ - 1, SFREQ + 1, 10**6, 99999999))
        return name, _edf_field(data, len(_EDF_FIXED) + 8, rng.randrange(ns), str(per_record).encode())
    if choice == 4:
        text = rng.choice((str(rng.choice((0, 1, ns + 1, 99, -1))), rng.choice(_NUMBER_TEXTS)))
        field = rng.choice((9, 5))
        return name, _edf_field(data, field, 0, text.encode())
    field = rng.randrange(len(_EDF_FIXED) + len(_EDF_SIGNAL_WIDTHS))
    text = rng.choice(
        (rng.choice(_NUMBER_TEXTS).encode(), rng.randbytes(rng.randint(0, 16)), "é∑".encode(), b"EDF+D", b"BDF+D")
    )
    return name, _edf_field(data, field, rng.randrange(ns), text)


def edf(rng: random.Random) -> list[tuple[str, bytes]]:
    """EDF+: truncated headers and data, wrong record and sample counts, junk in any header field."""
    return [_edf_like(rng, bdf=False)]


def bdf(rng: random.Random) -> list[tuple[str, bytes]]:
    """BDF+ (24-bit): the same damage as :func:`edf`."""
    return [_edf_like(rng, bdf=True)]


def gdf(rng: random.Random) -> list[tuple[str, bytes]]:
    """GDF 1.25: truncation, random edits, a wrong version string or record count, a broken event table."""
    events = [(int(t * SFREQ), 769 if lab == "left" else 770) for t, lab in _events()]
    data = gdf_bytes(_signal(rng), events=events, names=CHANNELS, sfreq=SFREQ)
    choice = rng.randrange(5)
    if choice == 0:
        data = data[: rng.randrange(len(data))]
    elif choice == 1:
        data = mutate(rng, data, start=8)
    elif choice == 2:
        data = rng.choice((b"GDF 2.20", b"GDF 9.99", b"GDF 0.00", b"GDF x.yz", b"GDF 1.9 ")) + data[8:]
    elif choice == 3:
        offset = 236
        data = data[:offset] + struct.pack("<q", rng.choice((-1, 0, 10**12, 2))) + data[offset + 8 :]
    else:
        data = data[:-8] + junk(rng, 0, 64)
    return [("rec.gdf", data)]


def _fif(rng: random.Random, data_uv: np.ndarray | None = None, types: str = "eeg", seconds: int = _SECONDS) -> bytes:
    data_uv = _signal(rng, seconds=seconds) if data_uv is None else data_uv
    raw = raw_array(data_uv, types=types, names=CHANNELS[: len(data_uv)], sfreq=SFREQ)
    events = [(t, lab) for t, lab in _events(seconds)]
    raw.set_annotations(mne.Annotations([t for t, _ in events], [0.0] * len(events), [lab for _, lab in events]))
    return _fixed_ids(fif_bytes(raw))


def _fixed_ids(data: bytes) -> bytes:
    """FIF bytes with every id structure's machine id and time zeroed, so the same recording gives the same bytes."""
    out = bytearray(data)
    marker = struct.pack(">ii", 31, 20)  # FIFFT_ID_STRUCT, 20 bytes
    pos = out.find(marker)
    while pos >= 0:
        start = pos + 12  # after type and size, the 'next' field, then version
        out[start + 4 : start + 20] = bytes(16)
        pos = out.find(marker, pos + 8)
    return bytes(out)


def fif(rng: random.Random) -> list[tuple[str, bytes]]:
    """FIF and gzipped FIF: truncated, edited, junk behind a gzip header, a truncated gzip stream."""
    data = _fif(rng, seconds=4)
    choice = rng.randrange(5)
    if choice == 0:
        return [("rec_raw.fif", data[: rng.randrange(len(data))])]
    if choice == 1:
        return [("rec_raw.fif", mutate(rng, data, edits=rng.randint(1, 12)))]
    if choice == 2:
        return [("rec_raw.fif.gz", gzip.compress(data[: rng.randrange(len(data))], mtime=0))]
    if choice == 3:
        zipped = gzip.compress(data, mtime=0)
        return [("rec_raw.fif.gz", zipped[: rng.randrange(len(zipped))])]
    return [("rec_raw.fif.gz", b"\x1f\x8b\x08\x00" + junk(rng, 0, 2048))]


_VHDR_LINES = (
    "DataFile=rec.eeg", "MarkerFile=rec.vmrk", "DataFormat=BINARY", "DataOrientation=MULTIPLEXED",
    f"NumberOfChannels={len(CHANNELS)}", f"SamplingInterval={1e6 / SFREQ:g}", "BinaryFormat=IEEE_FLOAT_32",
    "Ch2=Cz,,1,µV", "[Common Infos]", "[Channel Infos]", "Codepage=UTF-8",
)  # fmt: skip
_VHDR_VALUES = (
    "", "0", "-1", "nan", "1e12", "VECTORIZED", "INT_16", "UINT_8", "ASCII", "../../rec.eeg", "rec.EEG",
    "C:\\data\\rec.eeg", "ANSI", "Ch2=,,,", "Ch9=X,,1,µV", "[Binary Infos]", "NumberOfChannels=1000000",
)  # fmt: skip


def brainvision(rng: random.Random) -> list[tuple[str, bytes]]:
    """BrainVision: damaged header lines, wrong data sizes and formats, junk markers, missing companions."""
    markers = [(int(t * SFREQ), "S  1" if lab == "left" else "S  2") for t, lab in _events()]
    header, marker, data = brainvision_files(_signal(rng), markers=markers, names=CHANNELS, sfreq=SFREQ)
    files = {"vhdr": header.data, "vmrk": marker.data, "eeg": data.data}
    choice = rng.randrange(6)
    if choice == 0:
        line = rng.choice(_VHDR_LINES)
        key = line.split("=")[0] + "=" if "=" in line else ""
        files["vhdr"] = files["vhdr"].replace(line.encode("utf-8"), (key + rng.choice(_VHDR_VALUES)).encode("utf-8"))
    elif choice == 1:
        files["eeg"] = files["eeg"][: rng.randrange(len(files["eeg"]))] + junk(rng, 0, 3)
    elif choice == 2:
        files["vmrk"] = rng.choice((junk(rng, 0, 512), mutate(rng, files["vmrk"]), b""))
    elif choice == 3:
        files["vhdr"] = mutate(rng, files["vhdr"], edits=rng.randint(1, 10))
    elif choice == 4:
        files["vhdr"] = files["vhdr"].decode("utf-8").encode("latin-1", "replace").replace(b"UTF-8", b"ANSI")
        files["vmrk"] = files["vmrk"].replace(b"S  1", "S\xe9 1".encode("latin-1"))
    else:
        del files[rng.choice(("vmrk", "eeg", "vhdr"))]
    return [(f"rec.{ext}", content) for ext, content in files.items()]


def _pairs(uploads: list) -> list[tuple[str, bytes]]:
    return [(u.name, u.data) for u in uploads]


def _set_edits(rng: random.Random, data_uv: np.ndarray) -> list[tuple[str, bytes]]:
    """An EEGLAB recording whose structure is valid MAT but wrong for EEGLAB."""
    import io

    from scipy.io import savemat

    choice = rng.randrange(6)
    if choice == 0:
        set_file, fdt = eeglab_files(data_uv, names=CHANNELS, sfreq=SFREQ)
        return [(set_file.name, set_file.data), (fdt.name, fdt.data[: rng.randrange(len(fdt.data))])]
    if choice == 1:
        return _pairs(eeglab_files(data_uv[:, : rng.choice((1, 2, 100))], names=CHANNELS, sfreq=SFREQ, embedded=True))
    if choice == 2:
        events = [(rng.choice((-50, 0, 10**9, 128)), "left"), (100, ""), (200, "right")]
        return _pairs(eeglab_files(data_uv, names=CHANNELS, sfreq=SFREQ, events=events))
    if choice == 3:
        sfreq = rng.choice((0.0, -128.0, float("nan"), 1e-9, 1e9))
        return _pairs(eeglab_files(data_uv, names=CHANNELS, sfreq=sfreq))
    if choice == 4:
        buffer = io.BytesIO()
        content = rng.choice(({"EEG": 5.0}, {"EEG": {"data": "x.fdt"}}, {"data": np.ones((2, 2))}, {"ALLEEG": 1.0}))
        savemat(buffer, content)
        return [("rec.set", b"MATLAB 5.0 MAT-file".ljust(116) + buffer.getvalue()[116:])]
    set_file, _ = eeglab_files(data_uv[:2], names=CHANNELS, sfreq=SFREQ)
    _, fdt = eeglab_files(data_uv, names=CHANNELS, sfreq=SFREQ)
    return [(set_file.name, set_file.data), (fdt.name, fdt.data)]


def eeglab(rng: random.Random) -> list[tuple[str, bytes]]:
    """EEGLAB .set: hostile MAT headers and element tags (SciPy crashes on some), junk, truncation, bad structures."""
    data_uv = _signal(rng, seconds=4)
    choice = rng.randrange(6)
    if choice == 5:
        return _set_edits(rng, data_uv)
    set_file, fdt = eeglab_files(data_uv, names=CHANNELS, sfreq=SFREQ, compress=choice != 0)
    data = set_file.data
    if choice == 0:
        raw = bytearray(data)
        tags = [
            i
            for i in range(128, len(raw) - 8, 8)
            if raw[i] in (1, 2, 4, 5, 6, 9, 14, 16) and raw[i + 1 : i + 4] == b"\0\0\0"
        ]
        for pos in rng.sample(tags, min(len(tags), rng.randint(1, 2))):
            raw[pos] = rng.choice((0, 3, 8, 11, 0x2D, 19, 200, 255))
        data = bytes(raw)
    elif choice == 1:
        data = mutate(rng, data, start=rng.choice((0, 116, 128)))
    elif choice == 2:
        data = data[: rng.randrange(len(data))]
    elif choice == 3:
        data = rng.choice((b"MATLAB 7.3 MAT-file".ljust(116), b"MATLAB 5.0 MAT-file".ljust(116))) + bytes(8)
        data += rng.choice((b"\x00\x01IM", b"\x00\x02IM", b"\x01\x00MI", b"IM\x00\x01")) + junk(rng, 0, 512)
    else:
        data = data[:128] + struct.pack("<II", 15, rng.randint(0, 4096)) + junk(rng, 0, 512)
    return [("rec.set", data), (fdt.name, fdt.data)]


def binary_junk(rng: random.Random) -> list[tuple[str, bytes]]:
    """Random bytes, sometimes after a format's magic, under each EEG extension."""
    suffix = rng.choice(_PRIMARY)
    magic = rng.choice((b"", b"0       ", b"\xffBIOSEMI", b"GDF 1.25", b"\x1f\x8b\x08", b"MATLAB 5.0 MAT-file"))
    return [("rec" + suffix, magic + junk(rng, 0, 4096))]


def empty(rng: random.Random) -> list[tuple[str, bytes]]:
    """Empty files of each kind, alone or with empty companions."""
    suffix = rng.choice(_PRIMARY + _COMPANION)
    files = [("rec" + suffix, b"")]
    if suffix == ".vhdr":
        files += [("rec.eeg", b""), ("rec.vmrk", b"")]
    if suffix == ".set" and rng.random() < 0.5:
        files.append(("rec.fdt", b""))
    return files


def combos(rng: random.Random) -> list[tuple[str, bytes]]:
    """Wrong file sets: companions alone, two recordings, duplicates, strays, names with folders or odd text."""
    edf_data = _edf(rng)
    choice = rng.randrange(6)
    if choice == 0:
        return [("rec" + rng.choice(_COMPANION), junk(rng, 1, 256))]
    if choice == 1:
        return [("a.edf", edf_data), ("b.edf", edf_data)]
    if choice == 2:
        return [("rec.edf", edf_data), ("rec.edf", edf_data)]
    if choice == 3:
        return [("rec.edf", edf_data), ("rec" + rng.choice(_COMPANION), b"\0" * 8)]
    if choice == 4:
        stem = rng.choice(("../../etc/rec", "..\\..\\rec", "<img src=x>", "rec\u202e", "名前", "a" * 400, "...", " "))
        return [(stem + ".edf", edf_data)]
    header, marker, data = brainvision_files(_signal(rng), stem="run", names=CHANNELS, sfreq=SFREQ)
    return [(header.name, header.data), ("other.vmrk", marker.data), ("other.eeg", data.data)]


def valid_variants(rng: random.Random) -> list[tuple[str, bytes]]:
    """Readable recordings with awkward content: NaN or flat channels, one channel, no EEG, extreme rates or events."""
    choice = rng.randrange(9)
    if choice == 0:
        data_uv = _signal(rng)
        data_uv[rng.randrange(3), rng.randrange(data_uv.shape[1]) :] = rng.choice((np.nan, np.inf))
        return [("nan_raw.fif", _fif(rng, data_uv))]
    if choice == 1:
        data_uv = _signal(rng)
        data_uv[rng.randrange(3)] = 0.0
        return [("flat_raw.fif", _fif(rng, data_uv))]
    if choice == 2:
        return [("one_raw.fif", _fif(rng, _signal(rng, n_ch=1)))]
    if choice == 3:
        return [("misc_raw.fif", _fif(rng, types=rng.choice(("misc", "stim", "ecg"))))]
    if choice == 4:
        sfreq = rng.choice((1, 10, 50, 2048))
        data_uv = _signal(rng, seconds=rng.choice((1, 3, 10)), sfreq=sfreq)
        return [("rate.edf", edf_bytes(data_uv, names=CHANNELS, sfreq=sfreq, annotations=[(0.5, 0, "a")]))]
    if choice == 5:
        labels = rng.choice((("BAD_x", "EDGE"), ("1", "2"), ("é∑", "日本"), ("x" * 60, "y"), ("left", "left")))
        annotations = [(float(k), 0, labels[k % 2]) for k in range(1, 8)]
        return [("labels.edf", edf_bytes(_signal(rng), names=CHANNELS, sfreq=SFREQ, annotations=annotations))]
    if choice == 6:
        annotations = [(rng.choice((-5.0, 9.9, 500.0, 0.0)), rng.choice((0, 100)), "left") for _ in range(4)]
        return [("outside.edf", edf_bytes(_signal(rng), names=CHANNELS, sfreq=SFREQ, annotations=annotations))]
    if choice == 7:
        return [("none.edf", edf_bytes(_signal(rng), names=CHANNELS, sfreq=SFREQ))]
    events = [(int(t * SFREQ), lab) for t, lab in _events()]
    return _pairs(eeglab_files(_signal(rng), names=CHANNELS, sfreq=SFREQ, events=events))
