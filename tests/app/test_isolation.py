"""Two browser sessions on the same page never see each other's data or results.

Two AppTest sessions (each its own session state, as two browser tabs of two people) use
the dataset explorer in turn, uploading different tables, one of them under the same file
name as the other. Everything each page sends to its browser (every element's protobuf:
headers, tables, figures, widgets) is searched for the other session's markers: file
name, column names and a marker value. Each session's covariance is checked against its
own data, and each session's cache holds only its own uploads. The built-in data shared
by all sessions are not changed by the pages that use them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

import ui
from covwb.datasets.fingerprint import fingerprint
from covwb.datasets.tables import BUILTIN_TABLES
from covwb.io.uploads import UploadedBytes
from covwb.sources import SIMULATED_EEG, BuiltinSource
from tests.app.helpers import assert_clean, charts

REPO = Path(__file__).resolve().parents[2]
EXPLORER = str(REPO / "pages" / "1_Dataset_explorer.py")
ACM = str(REPO / "pages" / "2_EEG_augmented_covariance.py")
SESSION_CACHE = "_workbench_session_cache"


def marked_table(tag: str, marker: float, seed: int) -> tuple[bytes, np.ndarray]:
    """A CSV whose column names carry ``tag`` and whose first cell is ``marker``; and its values."""
    values = np.random.default_rng(seed).normal(size=(40, 3)).round(3)
    values[0, 0] = marker
    columns = [f"{tag}_alpha", f"{tag}_beta", f"{tag}_gamma"]
    text = pd.DataFrame(values, columns=columns).to_csv(index=False, float_format="%.3f")
    return text.encode(), values


def page_bytes(at: AppTest) -> bytes:
    """Everything the last run sent to the browser, as bytes (every element's protobuf)."""
    chunks: list[bytes] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            chunks.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return b"\n".join(chunks)


def upload_table(at: AppTest, name: str, data: bytes) -> AppTest:
    at.sidebar.radio(key="explorer-origin").set_value("Upload").run()
    at.sidebar.selectbox(key="explorer-kind").set_value("Table (CSV/TSV)").run()
    at.sidebar.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return at.run()


def condition_number(at: AppTest) -> float:
    return float(at.metric[0].value)


def sample_condition(values: np.ndarray) -> float:
    eig = np.linalg.eigvalsh(np.cov(values, rowvar=False))
    return float(eig[-1] / eig[0])


def test_two_sessions_uploading_different_files_stay_apart() -> None:
    data_a, values_a = marked_table("anna", 424242.125, seed=1)
    data_b, values_b = marked_table("bruno", -737373.5, seed=2)
    # File name, column names and the marker value as the float64 bytes the tables carry.
    markers = {
        "a": [b"anna_alpha", b"anna_gamma", b"anna-results.csv", np.float64(424242.125).tobytes()],
        "b": [b"bruno_alpha", b"bruno_gamma", b"bruno-results.csv", np.float64(-737373.5).tobytes()],
    }
    a = AppTest.from_file(EXPLORER, default_timeout=180).run()
    b = AppTest.from_file(EXPLORER, default_timeout=180).run()

    def check(at: AppTest, own: str, other: str, values: np.ndarray, name: str) -> None:
        assert_clean(at)
        sent = page_bytes(at)
        assert all(m in sent for m in markers[own]), own
        leaked = [m for m in markers[other] if m in sent]
        assert not leaked, f"session {own} was sent {leaked}"
        assert at.subheader[0].value == name
        assert np.isclose(condition_number(at), sample_condition(values), rtol=5e-3)
        cache = at.session_state[SESSION_CACHE]
        names = {getattr(v, "name", None) for v in cache.values()}
        assert name in names

    upload_table(a, "anna-results.csv", data_a)
    check(a, "a", "b", values_a, "anna-results.csv")
    upload_table(b, "bruno-results.csv", data_b)
    check(b, "b", "a", values_b, "bruno-results.csv")
    # Interleaved reruns with changed settings: each keeps its own data and results.
    a.selectbox(key="table-estimator").set_value("ledoit_wolf").run()
    assert_clean(a)
    b.run()
    check(b, "b", "a", values_b, "bruno-results.csv")
    a.selectbox(key="table-estimator").set_value("sample").run()
    check(a, "a", "b", values_a, "anna-results.csv")
    digest_a = UploadedBytes("anna-results.csv", data_a).digest
    digest_b = UploadedBytes("bruno-results.csv", data_b).digest
    keys_a, keys_b = repr(list(a.session_state[SESSION_CACHE])), repr(list(b.session_state[SESSION_CACHE]))
    assert digest_a in keys_a and digest_b not in keys_a
    assert digest_b in keys_b and digest_a not in keys_b
    assert charts(a) == charts(b) == 3


def test_same_file_name_with_different_content_is_not_confused() -> None:
    """Two people upload 'data.csv': the cache key is the content digest, not the name."""
    data_a, values_a = marked_table("first", 11.5, seed=3)
    data_b, values_b = marked_table("second", 22.5, seed=4)
    a = upload_table(AppTest.from_file(EXPLORER, default_timeout=180).run(), "data.csv", data_a)
    b = upload_table(AppTest.from_file(EXPLORER, default_timeout=180).run(), "data.csv", data_b)
    for at, own, other, values in ((a, b"first_", b"second_", values_a), (b, b"second_", b"first_", values_b)):
        assert_clean(at)
        sent = page_bytes(at)
        assert own in sent and other not in sent
        assert np.isclose(condition_number(at), sample_condition(values), rtol=5e-3)
    # Session a uploads b's content under the same name: it now sees b's numbers, from its own cache.
    a.sidebar.get("file_uploader")[0].set_value(("data.csv", data_b, "text/csv"))
    a.run()
    assert np.isclose(condition_number(a), sample_condition(values_b), rtol=5e-3)


def test_built_in_data_shared_by_sessions_are_not_changed_by_the_pages() -> None:
    """The read-only objects in st.cache_resource keep their content after pages used them."""
    recording = ui.simulated_eeg(0)
    pottery = ui._builtin_table("pottery")
    before = (fingerprint(recording.raw), fingerprint(pottery.frame))
    explorer = AppTest.from_file(EXPLORER, default_timeout=180).run()
    assert_clean(explorer)
    explorer.sidebar.selectbox(key="explorer-builtin").set_value(BUILTIN_TABLES["pottery"].name).run()
    assert_clean(explorer)
    acm = AppTest.from_file(ACM, default_timeout=180).run()
    assert not acm.exception
    assert ui.simulated_eeg(0) is recording and ui._builtin_table("pottery") is pottery
    assert (fingerprint(recording.raw), fingerprint(pottery.frame)) == before


def test_results_of_built_in_data_are_computed_once_for_all_sessions() -> None:
    """A second session reuses the first one's results on built-in data; uploads stay out of that cache."""
    shared = ui._public_results()
    explorer = AppTest.from_file(EXPLORER, default_timeout=180).run()
    assert_clean(explorer)
    recording_id = BuiltinSource(SIMULATED_EEG).fingerprint()
    public_keys = [key for key in shared._values if recording_id in key]
    assert {key[0] for key in public_keys} >= {"epochs", "covariances", "mean", "geometry"}
    stored = {key: shared._values[key] for key in public_keys}
    second = AppTest.from_file(EXPLORER, default_timeout=180).run()
    assert_clean(second)
    assert all(shared._values[key] is value for key, value in stored.items())
    assert SESSION_CACHE not in second.session_state
    data, _ = marked_table("private", 31337.25, seed=5)
    upload_table(second, "private.csv", data)
    assert_clean(second)
    digest = UploadedBytes("private.csv", data).digest
    assert digest in repr(list(second.session_state[SESSION_CACHE]))
    assert digest not in repr(list(shared._values))


def test_public_results_are_computed_once_when_sessions_ask_together() -> None:
    """Threads asking for the same public key at once wait for one computation; a failure stores nothing."""
    import threading
    import time

    store = ui._SharedResults(entries=2)
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 7

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(store.get(("k",), slow))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [7] * 5 and len(calls) == 1

    def broken() -> int:
        raise RuntimeError("boom")

    try:
        store.get(("bad",), broken)
    except RuntimeError:
        pass
    assert ("bad",) not in store._values
    assert store.get(("bad",), lambda: 3) == 3
    store.get(("c",), lambda: 4)
    assert list(store._values) == [("bad",), ("c",)]
