"""Faults on the pages: the page recovers and says what happened.

A reader that fails half-way with an unexpected error, an export whose headless
browser is killed or cannot start, an upload over the size limit, and a computation
interrupted by a rerun: each shows a clear message (never a traceback), leaves no
poisoned cache entry, and the next input works.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

import covwb.io.tables
import ui
from covwb import export
from covwb.errors import ExportError
from covwb.export import renderer
from tests.app.helpers import assert_clean, charts

REPO = Path(__file__).resolve().parents[2]
EXPLORER = str(REPO / "pages" / "1_Dataset_explorer.py")
TABLE = "Table (CSV/TSV)"


def table_csv(columns: list[str], seed: int, rows: int = 30) -> bytes:
    """A small numeric CSV with the given header."""
    values = np.random.default_rng(seed).normal(size=(rows, len(columns))).round(4)
    lines = [",".join(columns)] + [",".join(f"{v:.4f}" for v in row) for row in values]
    return ("\n".join(lines) + "\n").encode()


def explorer_with_upload_form() -> AppTest:
    """The explorer switched to the table uploader, before any upload."""
    at = AppTest.from_file(EXPLORER, default_timeout=180).run()
    at.sidebar.radio(key="explorer-origin").set_value("Upload").run()
    at.sidebar.selectbox(key="explorer-kind").set_value(TABLE).run()
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """Put one file in the sidebar uploader and rerun."""
    at.sidebar.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return at.run()


def failing_reader(error: BaseException, calls: list[str]) -> Callable:
    """A table reader that starts reading, then raises ``error`` (with the real reader's signature, for its options)."""

    @functools.wraps(covwb.io.tables.read_table)
    def read(upload, **options):
        calls.append(upload.name)
        upload.data[: len(upload.data) // 2].decode("utf-8", "replace").splitlines()
        raise error

    return read


# --------------------------------------------------------------------------- a reader that raises mid-way


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (RuntimeError("parser state corrupted at byte 512"), "details are in the server log"),
        (MemoryError(), "ran out of memory"),
    ],
)
def test_reader_failing_midway_shows_a_message_and_the_next_upload_works(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, error: BaseException, words: str
) -> None:
    calls: list[str] = []
    real_reader = covwb.io.tables.read_table
    monkeypatch.setattr(covwb.io.tables, "read_table", failing_reader(error, calls))
    at = explorer_with_upload_form()
    with caplog.at_level(logging.ERROR, logger="covariance_workbench"):
        upload(at, "first.csv", table_csv(["a1", "a2", "a3"], seed=1))
    assert not at.exception, [e.value for e in at.exception]
    assert calls == ["first.csv"]
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith(ui.UNEXPECTED_ERROR_PREFIX) and type(error).__name__ in message and words in message
    assert "Traceback" not in message and "byte 512" not in message
    assert charts(at) == 0
    assert at.session_state[ui.UNEXPECTED_ERRORS_KEY] == [type(error).__name__]
    logged = [r for r in caplog.records if r.name == "covariance_workbench"]
    assert logged and logged[0].exc_info and logged[0].exc_info[0] is type(error)

    monkeypatch.setattr(covwb.io.tables, "read_table", real_reader)
    upload(at, "second.csv", table_csv(["b1", "b2", "b3"], seed=2))
    assert_clean(at)
    assert at.subheader[0].value == "second.csv" and charts(at) == 3
    # The file that failed is read afresh: the failure left nothing in the session cache.
    upload(at, "first.csv", table_csv(["a1", "a2", "a3"], seed=1))
    assert_clean(at)
    assert at.subheader[0].value == "first.csv" and charts(at) == 3


# --------------------------------------------------------------------------- an upload over the limit


def test_upload_limit_matches_the_server_setting() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == ui.MAX_UPLOAD_MB


def test_upload_over_the_limit_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_reader = covwb.io.tables.read_table

    @functools.wraps(real_reader)
    def spy(upload, **options):
        calls.append(upload.name)
        return real_reader(upload, **options)

    monkeypatch.setattr(covwb.io.tables, "read_table", spy)
    monkeypatch.setattr(ui, "MAX_UPLOAD_MB", 1)
    at = explorer_with_upload_form()
    big = table_csv([f"c{i}" for i in range(8)], seed=3, rows=20_000)
    assert len(big) > 2**20
    upload(at, "big.csv", big)
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "'big.csv'" in message and "upload limit of 1 MiB" in message and f"{len(big) / 2**20:.1f} MiB" in message
    assert calls == [] and charts(at) == 0
    upload(at, "small.csv", table_csv(["x", "y", "z"], seed=4))
    assert_clean(at)
    assert calls == ["small.csv"] and charts(at) == 3


def test_several_files_over_the_limit_together_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui, "MAX_UPLOAD_MB", 1)
    at = AppTest.from_file(EXPLORER, default_timeout=180).run()
    at.sidebar.radio(key="explorer-origin").set_value("Upload").run()
    at.sidebar.selectbox(key="explorer-kind").set_value("EEG recording").run()
    part = bytes(700 * 1024)
    at.sidebar.get("file_uploader")[0].set_value(
        [("rec.vhdr", part, "application/octet-stream"), ("rec.eeg", part, "application/octet-stream")]
    )
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "These 2 files are 1.4 MiB" in at.error[0].value


# --------------------------------------------------------------------------- a computation interrupted by a rerun


def test_session_cache_keeps_nothing_from_a_failed_or_interrupted_computation() -> None:
    def script() -> None:
        import streamlit as st
        from streamlit.runtime.scriptrunner_utils.exceptions import StopException

        import ui

        calls = st.session_state.setdefault("calls", [])

        def compute(kind: str) -> str:
            calls.append(kind)
            if kind == "raises":
                raise RuntimeError("half-way")
            if kind == "interrupted":
                raise StopException()
            return f"value of {kind}"

        kind = st.session_state.get("kind", "ok")
        with ui.user_errors():
            st.write(ui.session_cached(("k", kind), lambda: compute(kind)))

    at = AppTest.from_function(script, default_timeout=60)
    for kind in ("raises", "interrupted"):
        at.session_state["kind"] = kind
        at.run()
        at.run()
        assert at.session_state["calls"].count(kind) == 2, kind
        assert not at.exception
    at.session_state["kind"] = "ok"
    at.run()
    at.run()
    assert at.session_state["calls"].count("ok") == 1
    assert at.markdown[0].value == "value of ok"
    assert len(at.error) == 0


def test_upload_interrupted_by_a_rerun_shows_only_the_new_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new input arrives while the last one is being read: Streamlit stops that run and starts over.

    The reader of ``second.csv`` is interrupted the first time (a rerun raised inside it, as
    Streamlit does at its next checkpoint when the browser sends a new input); the page must then
    read the file again, not use a half-built result, and show the second file only.
    """
    calls: list[str] = []
    real_reader = covwb.io.tables.read_table

    @functools.wraps(real_reader)
    def interrupted_once(upload, **options):
        import streamlit as st

        calls.append(upload.name)
        if upload.name == "second.csv" and calls.count("second.csv") == 1:
            upload.data.decode("utf-8").splitlines()
            st.rerun()
        return real_reader(upload, **options)

    monkeypatch.setattr(covwb.io.tables, "read_table", interrupted_once)
    at = explorer_with_upload_form()
    upload(at, "first.csv", table_csv(["first_a", "first_b", "first_c"], seed=5))
    assert_clean(at)
    upload(at, "second.csv", table_csv(["second_a", "second_b", "second_c"], seed=6))
    assert_clean(at)
    assert calls == ["first.csv", "second.csv", "second.csv"]
    assert at.subheader[0].value == "second.csv"
    columns = next(w for w in at.multiselect if w.label == "Columns").value
    assert columns == ["second_a", "second_b", "second_c"]
    for chart in at.get("plotly_chart"):
        assert "first_" not in chart.proto.spec


# --------------------------------------------------------------------------- a killed or broken export


class DeferredSpy:
    """Records the deferred download callables the page registers, by file name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.callables: dict[str, Callable[[], bytes]] = {}
        original = MediaFileManager.add_deferred

        def add_deferred(manager, data_callable, mimetype, coordinates, file_name=None, **kwargs):
            self.callables[file_name] = data_callable
            return original(manager, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

        monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)


def pottery_explorer(monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, DeferredSpy]:
    """The explorer on a built-in table (three figures), with the download callables recorded."""
    from covwb.datasets.tables import BUILTIN_TABLES

    spy = DeferredSpy(monkeypatch)
    at = AppTest.from_file(EXPLORER, default_timeout=180).run()
    at.sidebar.selectbox(key="explorer-builtin").set_value(BUILTIN_TABLES["pottery"].name).run()
    assert_clean(at)
    assert {"covariance.png", "covariance.svg", "covariance.html", "summary.csv"} <= set(spy.callables)
    return at, spy


def test_export_that_cannot_start_its_browser_says_so_and_the_next_one_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken_open(browser: str):
        raise RuntimeError("The browser seemed to close immediately after starting.")

    at, spy = pottery_explorer(monkeypatch)
    export.stop_static_renderer()
    monkeypatch.setattr(renderer, "find_browser", lambda: "/opt/fake-chrome")
    monkeypatch.setattr(renderer, "_open_kaleido", broken_open)
    with pytest.raises(ExportError, match="stopped or hung twice"):
        spy.callables["covariance.png"]()
    at.run()
    assert not at.exception and not at.error
    assert len(at.warning) == 1
    notice = at.warning[0].value
    assert notice.startswith("The last PNG download of this item failed") and "stopped or hung twice" in notice
    # The notice is shown once, and a later download of the same figure works.
    at.run()
    assert not at.warning
    assert spy.callables["covariance.html"]().startswith(b"<!doctype html>")
    at.run()
    assert not at.warning


def test_unexpected_failure_of_a_table_download_is_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    at, spy = pottery_explorer(monkeypatch)

    def broken_table(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export, "export_table", broken_table)
    with pytest.raises(OSError):
        spy.callables["summary.csv"]()
    at.run()
    assert len(at.warning) == 1 and "OSError" in at.warning[0].value and "disk full" not in at.warning[0].value


@pytest.mark.skipif(not export.static_export_available(), reason="no Chromium for PNG/SVG/PDF")
def test_export_after_the_browser_was_killed_works(monkeypatch: pytest.MonkeyPatch) -> None:
    at, spy = pottery_explorer(monkeypatch)
    try:
        assert spy.callables["covariance.png"]().startswith(b"\x89PNG\r\n\x1a\n")
        pid = renderer._RENDERER.browser_pid()
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)
        time.sleep(0.3)
        assert spy.callables["correlation.svg"]().lstrip().startswith(b"<?xml")
        assert renderer._RENDERER.browser_pid() not in (None, pid)
        at.run()
        assert_clean(at)
        assert not at.warning
    finally:
        export.stop_static_renderer()
