"""Tests of covwb.io.uploads: the one sanitiser of upload names, used alike by every reader."""

from __future__ import annotations

import io

import numpy as np
import pytest

from covwb.io.eeg import read_eeg
from covwb.io.spd import read_spd_stack
from covwb.io.tables import read_table
from covwb.io.uploads import MAX_NAME_CHARS, UploadedBytes, safe_basename
from tests.io.eeg_files import edf_bytes, signal

HOSTILE = ("../../etc/.x\x07y", "C:\\Users\\me\\ .x\x07y", "a/b\\..\\.x\x07y")


@pytest.mark.parametrize("name", HOSTILE)
def test_every_reader_names_its_upload_with_the_one_sanitiser(name: str) -> None:
    covs = np.stack([np.eye(3) * (k + 1) for k in range(4)])
    buffer = io.BytesIO()
    np.save(buffer, covs)
    table = read_table(UploadedBytes(f"{name}.csv", b"a,b\n1,2\n3,5\n"))
    stack = read_spd_stack(UploadedBytes(f"{name}.npy", buffer.getvalue()))
    recording = read_eeg([UploadedBytes(f"{name}.edf", edf_bytes(signal(300)))])
    assert table.name == safe_basename(f"{name}.csv") == "xy.csv"
    assert stack.name == safe_basename(f"{name}.npy") == "xy.npy"
    assert recording.source == "upload: xy.edf"


def test_safe_basename_keeps_the_end_of_long_names() -> None:
    long = "x" * 400 + ".csv"
    assert safe_basename(long).endswith(".csv") and len(safe_basename(long)) == MAX_NAME_CHARS
    assert read_table(UploadedBytes(long, b"a\n1\n")).name == safe_basename(long)
    assert safe_basename("\x00\x1b") == safe_basename("...") == safe_basename(" / ") == "upload"
