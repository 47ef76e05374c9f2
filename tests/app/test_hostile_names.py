"""Uploaded names reach Markdown elements (headers, captions, errors) with link and image syntax escaped."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

import ui
from tests.app.helpers import assert_clean

EXPLORER = str(Path(__file__).resolve().parents[2] / "pages" / "1_Dataset_explorer.py")
HOSTILE = "![x](https:example.invalid?p.png)"  # no slash: readers keep only the basename


def upload(name: str, data: bytes) -> AppTest:
    at = AppTest.from_file(EXPLORER, default_timeout=120).run()
    at.sidebar.radio(key="explorer-origin").set_value("Upload").run()
    at.sidebar.selectbox(key="explorer-kind").set_value("Table (CSV/TSV)").run()
    at.sidebar.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return at.run()


def test_plain_escapes_link_and_image_brackets() -> None:
    assert ui.plain(HOSTILE) == "!\\[x\\](https:example.invalid?p.png)"
    assert ui.plain("a\\[b]") == "a\\\\\\[b\\]"
    assert ui.plain("test_raw.set (32 channels)") == "test_raw.set (32 channels)"


def test_a_hostile_file_name_is_shown_escaped_in_the_header() -> None:
    at = upload(f"{HOSTILE}.csv", b"a,b\n1,2\n3,5\n4,4\n")
    assert_clean(at)
    assert at.subheader[0].value == ui.plain(f"{HOSTILE}.csv")
    assert "](" not in at.subheader[0].value.replace("\\](", "")


def test_a_hostile_file_name_is_shown_escaped_in_an_error() -> None:
    at = upload(f"{HOSTILE}.csv", b"")
    assert not at.exception
    assert at.error, "an empty file must give a typed error"
    shown = at.error[0].value
    assert HOSTILE not in shown and "\\[x\\]" in shown


def test_a_hostile_eeg_file_name_is_escaped_in_the_description() -> None:
    import numpy as np

    from tests.io.eeg_files import NAMES, SFREQ, edf_bytes

    samples = np.random.default_rng(0).standard_normal((len(NAMES), 12 * SFREQ)) * 10.0
    events = [(1.0 + 2.0 * i, 0.0, ("left", "right")[i % 2]) for i in range(5)]
    data = edf_bytes(samples, annotations=events)
    at = AppTest.from_file(EXPLORER, default_timeout=120).run()
    at.sidebar.radio(key="explorer-origin").set_value("Upload").run()
    at.sidebar.selectbox(key="explorer-kind").set_value("EEG recording").run()
    at.sidebar.get("file_uploader")[0].set_value((f"{HOSTILE}.edf", data, "application/octet-stream"))
    at = at.run()
    assert_clean(at)
    shown = [m.value for m in at.markdown if "recording uploaded as" in m.value]
    assert shown and all(HOSTILE not in text and "\\[x\\]" in text for text in shown)
