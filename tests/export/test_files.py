"""Tests of covwb.export's figure and table files: every format's signature, settings read back by independent readers."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from PIL import Image

from covwb import export
from covwb.errors import ExportError, WorkbenchError
from covwb.export import document, embed, renderer

HOSTILE = "</script><script>alert(1)</script>]]></metadata><script>alert(2)</script>"
SETTINGS = {"estimator": "oas", "window_s": 2.5, "channels": ("C3", "Cz"), "note": HOSTILE, "accent": "Fp1 é 中"}
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<?xml", "pdf": b"%PDF-", "html": b"<!doctype html>"}
FIXED_NOW = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
SVG_NS = "{http://www.w3.org/2000/svg}"

needs_browser = pytest.mark.skipif(not export.static_export_available(), reason="no Chromium for PNG/SVG/PDF")


def make_figure() -> go.Figure:
    """Small scatter figure with a user label."""
    fig = go.Figure(go.Scatter(x=[1.0, 2.0, 3.0], y=[3.0, 1.0, 2.0], mode="lines+markers", name="trial <1>"))
    fig.update_layout(title="Covariance & co")
    return fig


@pytest.fixture(scope="module", autouse=True)
def _stop_renderer_after_module():
    """Leave no browser running after this module."""
    yield
    export.stop_static_renderer()


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freeze the export timestamp."""
    monkeypatch.setattr(document, "utc_now", lambda: FIXED_NOW)


# --------------------------------------------------------------------------- independent readers


def png_settings(data: bytes) -> dict:
    """Settings read by Pillow after verifying every chunk's CRC."""
    Image.open(io.BytesIO(data)).verify()
    image = Image.open(io.BytesIO(data))
    image.load()
    return json.loads(image.text[export.SETTINGS_KEY])


def svg_root(data: bytes) -> ET.Element:
    """Parsed SVG document (raises on malformed XML)."""
    return ET.fromstring(data)


def svg_settings(data: bytes) -> dict:
    """Settings from the <metadata> child of the root element."""
    root = svg_root(data)
    metadata = root.find(f"{SVG_NS}metadata")
    assert metadata is not None and metadata.get("id") == export.SETTINGS_KEY
    return json.loads(metadata.text)


def pdf_info(data: bytes) -> dict[str, str]:
    """The document information dictionary, found through the last xref section."""
    last_xref = int(re.findall(rb"startxref\s+(\d+)\s+%%EOF", data)[-1])
    assert data[last_xref : last_xref + 4] == b"xref"
    trailer_at = data.index(b"trailer", last_xref)
    offsets: dict[int, int] = {}
    lines = data[last_xref + 4 : trailer_at].split(b"\n")
    rows = iter(line for line in lines if line.strip())
    for header in rows:
        first, count = map(int, header.split())
        for number in range(first, first + count):
            entry = next(rows)
            if entry.split()[2] == b"n":
                offsets[number] = int(entry.split()[0])
    trailer = data[trailer_at : data.index(b"startxref", trailer_at)]
    info_number = int(re.search(rb"/Info\s+(\d+)\s+0\s+R", trailer).group(1))
    at = offsets[info_number]
    assert data[at:].startswith(f"{info_number} 0 obj".encode())
    body = data[at : data.index(b"endobj", at)]
    info = {}
    for key, hexa in re.findall(rb"/(\w+)\s*<FEFF([0-9A-F]*)>", body):
        info[key.decode()] = bytes.fromhex(hexa.decode()).decode("utf-16-be")
    for key, literal in re.findall(rb"/(\w+)\s*\(([^)]*)\)", body):
        info[key.decode()] = literal.decode("latin-1")
    prev = int(re.search(rb"/Prev\s+(\d+)", trailer).group(1))
    info["_prev"] = str(prev)
    return info


class ScriptCollector(HTMLParser):
    """Collects <script> elements (attributes and text) as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._current = dict(attrs)
            self.scripts.append((self._current, ""))

    def handle_data(self, data):
        if self._current is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._current = None


def html_scripts(data: bytes) -> list[tuple[dict, str]]:
    """Every script element of an HTML page."""
    parser = ScriptCollector()
    parser.feed(data.decode("utf-8"))
    return parser.scripts


def html_settings(data: bytes) -> dict:
    """Settings from the application/json script block."""
    blocks = [text for attrs, text in html_scripts(data) if attrs.get("id") == export.SETTINGS_KEY]
    assert len(blocks) == 1
    return json.loads(blocks[0])


# --------------------------------------------------------------------------- names and settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Covariance matrix", "Covariance_matrix"),
        ("../../etc/passwd", "etc_passwd"),
        ("Électrode Fp1 é", "Electrode_Fp1_e"),
        ("", "export"),
        ("...", "export"),
        ("中文", "export"),
        ("con", "con_"),
        ("a" * 300, "a" * 100),
    ],
)
def test_safe_file_name_examples(text: str, expected: str) -> None:
    assert export.safe_file_name(text) == expected


@given(st.text(max_size=300))
@hyp_settings(max_examples=200, deadline=None)
def test_safe_file_name_properties(text: str) -> None:
    name = export.safe_file_name(text)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name)
    assert len(name) <= 101
    assert os.path.basename(name) == name and Path(name).name == name
    assert export.safe_file_name(name) == name


def test_file_name() -> None:
    assert export.file_name("Scores / run 1", "png") == "Scores_run_1.png"
    assert export.file_name("", "settings.json") == "export.settings.json"


def test_settings_json_document(fixed_clock: None) -> None:
    settings = {
        "n": np.int64(3),
        "alpha": np.float32(0.25),
        "flags": np.array([True, False]),
        "grid": np.arange(4.0).reshape(2, 2),
        "band": (8, 30),
        "tags": {"b", "a"},
        "path": Path("data/x.csv"),
        "bad": float("nan"),
        "nested": {1: {"deep": np.float64(-np.inf)}},
    }
    doc = json.loads(export.settings_json(settings, name="Result", kind="table"))
    assert doc["app"] == export.APP_NAME
    assert doc["name"] == "Result" and doc["kind"] == "table"
    assert doc["created_utc"] == "2024-05-06T07:08:09Z"
    assert doc["libraries"]["numpy"] == np.__version__
    assert doc["libraries"]["pandas"] == pd.__version__
    assert doc["settings"] == {
        "n": 3,
        "alpha": 0.25,
        "flags": [True, False],
        "grid": [[0.0, 1.0], [2.0, 3.0]],
        "band": [8, 30],
        "tags": ["a", "b"],
        "path": "data/x.csv",
        "bad": "nan",
        "nested": {"1": {"deep": "-inf"}},
    }


def test_settings_json_rejects_what_has_no_json_form() -> None:
    with pytest.raises(ExportError, match=r"settings\.model"):
        export.settings_json({"model": object()}, name="x", kind="table")
    with pytest.raises(ExportError, match="mapping"):
        export.settings_json([("a", 1)], name="x", kind="table")  # type: ignore[arg-type]
    assert issubclass(ExportError, WorkbenchError)


def test_settings_json_survives_lone_surrogates() -> None:
    doc = json.loads(export.settings_json({"file": "bad\udcff.csv"}, name="n\ud800", kind="table"))
    assert doc["settings"]["file"] == "bad?.csv" and doc["name"] == "n?"


def test_export_settings_sidecar(fixed_clock: None) -> None:
    sidecar = export.export_settings(SETTINGS, name="PCA scores / run 1")
    assert sidecar.file_name == "PCA_scores_run_1.settings.json"
    assert sidecar.mime == "application/json"
    doc = json.loads(sidecar.data.decode("utf-8"))
    assert doc["settings"]["note"] == HOSTILE and doc["settings"]["channels"] == ["C3", "Cz"]


# --------------------------------------------------------------------------- tables


def test_export_table_round_trip() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"value": rng.normal(size=5) / 3, "label": ["a", "b,c", 'q"t', "é", "x\ny"]})
    file = export.export_table(frame, name="scores", settings={"seed": 0, "note": HOSTILE})
    assert (file.file_name, file.mime) == ("scores.csv", "text/csv")
    back = pd.read_csv(io.BytesIO(file.data))
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert (file.sidecar.file_name, file.sidecar.mime) == ("scores.settings.json", "application/json")
    doc = json.loads(file.sidecar.data)
    assert doc["kind"] == "table" and doc["settings"] == {"seed": 0, "note": HOSTILE}


def test_export_table_keeps_a_meaningful_index() -> None:
    frame = pd.DataFrame(np.eye(2), index=pd.Index(["C3", "Cz"], name="channel"), columns=["C3", "Cz"])
    back = pd.read_csv(io.BytesIO(export.export_table(frame, name="cov", settings={}).data), index_col=0)
    pd.testing.assert_frame_equal(back, frame)


def test_export_table_rejects_non_frames() -> None:
    with pytest.raises(ExportError, match="DataFrame"):
        export.export_table(np.eye(2), name="x", settings={})  # type: ignore[arg-type]
    with pytest.raises(ExportError, match="JSON form"):
        export.export_table(pd.DataFrame({"a": [1]}), name="x", settings={"f": print})


# --------------------------------------------------------------------------- embedding without a browser


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=40), max_size=4))
@hyp_settings(max_examples=40, deadline=None)
def test_png_chunk_round_trips_any_text(settings: dict[str, str]) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), "white").save(buffer, format="PNG")
    payload = document.payload(settings, name="p", kind="figure")
    data = embed._png_with_settings(buffer.getvalue(), payload, go.Figure())
    assert data.startswith(SIGNATURES["png"]) and data.endswith(b"IEND\xaeB`\x82")
    assert png_settings(data)["settings"] == payload["settings"]


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=40), max_size=4))
@hyp_settings(max_examples=40, deadline=None)
def test_svg_metadata_round_trips_any_text(settings: dict[str, str]) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="1" height="1"/></svg>'
    payload = document.payload(settings, name="s", kind="figure")
    data = embed._svg_with_settings(svg, payload, go.Figure())
    assert svg_settings(data)["settings"] == payload["settings"]


def xref_stream_pdf() -> bytes:
    """A minimal valid PDF 1.5 whose cross-reference is a stream (no classic table)."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"]
    data = b"%PDF-1.5\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(data))
        data += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(data)
    rows = [(0, 0, 255)] + [(1, offset, 0) for offset in offsets] + [(1, xref_at, 0)]
    stream = b"".join(bytes([kind]) + offset.to_bytes(2, "big") + bytes([gen]) for kind, offset, gen in rows)
    head = f"3 0 obj\n<</Type/XRef/Size 4/Root 1 0 R/W[1 2 1]/ID[<AB><CD>]/Length {len(stream)}>>\nstream\n"
    data += head.encode() + stream + b"\nendstream\nendobj\n"
    return data + f"startxref\n{xref_at}\n%%EOF\n".encode()


def test_pdf_settings_after_a_cross_reference_stream() -> None:
    original = xref_stream_pdf()
    payload = document.payload(SETTINGS, name="x", kind="figure")
    data = embed._pdf_with_settings(original, payload, go.Figure())
    assert data.startswith(original)
    info = pdf_info(data)
    assert int(info["_prev"]) == original.index(b"3 0 obj")
    assert json.loads(info["Subject"])["settings"]["note"] == HOSTILE
    trailer = data[data.rindex(b"trailer") :]
    assert b"/Size 5" in trailer and b"/Root 1 0 R" in trailer and b"/ID[<AB><CD>]" in trailer


def test_html_without_browser_when_none_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(renderer, "find_browser", lambda: None)
    assert not export.static_export_available()
    for fmt in export.STATIC_FORMATS:
        with pytest.raises(ExportError, match="HTML export still works"):
            export.export_figure(make_figure(), fmt, name="f", settings=SETTINGS)
    page = export.export_figure(make_figure(), "html", name="f", settings=SETTINGS)
    assert page.data.startswith(SIGNATURES["html"])


def test_browser_path_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-chrome"
    monkeypatch.setenv("BROWSER_PATH", str(missing))
    assert export.find_browser() is None
    with pytest.raises(ExportError, match="BROWSER_PATH"):
        export.export_figure(make_figure(), "png", name="f", settings={})
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(fake))
    assert export.find_browser() == str(fake)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fmt": "jpeg"}, "not supported"),
        ({"width": 0}, "width"),
        ({"height": 1.5}, "height"),
        ({"scale": 100}, "scale"),
    ],
)
def test_export_figure_rejects_bad_options(kwargs: dict, match: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(renderer, "find_browser", lambda: None)
    call = {"fmt": "png", **kwargs}
    fmt = call.pop("fmt")
    with pytest.raises(ExportError, match=match):
        export.export_figure(make_figure(), fmt, name="f", settings={}, **call)


def test_export_figure_rejects_invalid_figure() -> None:
    with pytest.raises(ExportError, match="not a valid Plotly figure"):
        export.export_figure({"data": [{"type": "no-such-trace"}]}, "html", name="f", settings={})


# --------------------------------------------------------------------------- HTML


def test_html_is_self_contained_and_carries_settings(fixed_clock: None) -> None:
    file = export.export_figure(make_figure(), "html", name="Scores <b>", settings=SETTINGS)
    assert (file.file_name, file.mime) == ("Scores_b.html", "text/html")
    assert file.data.startswith(SIGNATURES["html"]) and b"<html" in file.data
    assert b"<title>Scores &lt;b&gt;</title>" in file.data
    scripts = html_scripts(file.data)
    assert not any("src" in attrs for attrs, _ in scripts)
    doc = html_settings(file.data)
    assert doc["settings"]["note"] == HOSTILE and doc["created_utc"] == "2024-05-06T07:08:09Z"
    plain_page = make_figure().to_html(include_plotlyjs=True, full_html=True).encode("utf-8")
    assert len(scripts) == len(html_scripts(plain_page)) + 1  # plotly's own scripts and the settings block


def test_html_figure_meta_holds_settings_without_touching_caller() -> None:
    fig = make_figure()
    before = fig.to_json()
    data = export.export_figure(fig, "html", name="m", settings=SETTINGS).data.decode("utf-8")
    assert fig.to_json() == before and fig.layout.meta is None
    scripts = [text for _, text in html_scripts(data.encode())]
    figure_script = next(text for text in scripts if text.lstrip().startswith("window.PLOTLYENV"))
    assert "estimator" in figure_script and "\\u003c\\u002fscript\\u003e" in figure_script
    labelled = make_figure().update_layout(meta=["keep me"])
    page = export.export_figure(labelled, "html", name="m", settings=SETTINGS).data.decode("utf-8")
    assert re.search(r'"meta":\s*\["keep me"\]', page)


# --------------------------------------------------------------------------- static formats (Chromium)


@needs_browser
def test_png(fixed_clock: None) -> None:
    file = export.export_figure(make_figure(), "png", name="fig", settings=SETTINGS, width=400, height=300, scale=2)
    assert file.data.startswith(SIGNATURES["png"]) and (file.file_name, file.mime) == ("fig.png", "image/png")
    assert Image.open(io.BytesIO(file.data)).size == (800, 600)
    doc = png_settings(file.data)
    assert doc["settings"]["note"] == HOSTILE and doc["settings"]["accent"] == "Fp1 é 中"
    assert doc["export"] == {"format": "png", "width": 400, "height": 300, "scale": 2.0}


@needs_browser
def test_svg(fixed_clock: None) -> None:
    file = export.export_figure(make_figure(), "svg", name="fig", settings=SETTINGS)
    assert file.data.startswith(SIGNATURES["svg"]) and b"<svg" in file.data[:200]
    root = svg_root(file.data)
    assert root.tag == f"{SVG_NS}svg" and root[0].tag == f"{SVG_NS}metadata"
    assert not list(root.iter(f"{SVG_NS}script")) and not list(root.iter("script"))
    assert svg_settings(file.data)["settings"]["note"] == HOSTILE
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    references = re.findall(rb"url\(['\"]?#([^)'\"]+)", file.data)
    assert references and all(ref.decode() in ids for ref in references)


@needs_browser
def test_pdf(fixed_clock: None) -> None:
    file = export.export_figure(make_figure(), "pdf", name="Fig é", settings=SETTINGS)
    assert file.data.startswith(SIGNATURES["pdf"]) and file.mime == "application/pdf"
    info = pdf_info(file.data)
    assert info["Title"] == "Fig é" and info["Keywords"] == export.SETTINGS_KEY
    assert info["CreationDate"] == "D:20240506070809Z"
    assert json.loads(info["Subject"])["settings"]["note"] == HOSTILE
    prev = int(info["_prev"])
    original = file.data[: file.data.index(b"%%EOF", prev) + 5]
    assert int(re.findall(rb"startxref\s+(\d+)", original)[-1]) == prev
    assert original[prev:].startswith(b"xref")


@needs_browser
def test_exports_are_deterministic_except_the_timestamp(fixed_clock: None) -> None:
    chrome_dates = re.compile(rb"\(D:\d{14}[^)]*\)")
    for fmt in export.FIGURE_FORMATS:
        first = export.export_figure(make_figure(), fmt, name="d", settings=SETTINGS).data
        second = export.export_figure(make_figure(), fmt, name="d", settings=SETTINGS).data
        assert chrome_dates.sub(b"", first) == chrome_dates.sub(b"", second), fmt


@needs_browser
def test_caller_figure_is_not_mutated() -> None:
    fig = make_figure()
    before = fig.to_json()
    for fmt in export.FIGURE_FORMATS:
        export.export_figure(fig, fmt, name="m", settings=SETTINGS)
    assert fig.to_json() == before


@needs_browser
def test_concurrent_exports_are_serialised(monkeypatch: pytest.MonkeyPatch) -> None:
    active, peak, guard = [0], [0], threading.Lock()
    original_call = renderer._Renderer._call

    def counting_call(self, coroutine, timeout):
        with guard:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            return original_call(self, coroutine, timeout)
        finally:
            with guard:
                active[0] -= 1

    monkeypatch.setattr(renderer._Renderer, "_call", counting_call)
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            fmt = ("png", "svg", "pdf", "png")[i]
            results[i] = export.export_figure(make_figure(), fmt, name=f"t{i}", settings={"thread": i}).data
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and len(results) == 4
    assert peak[0] == 1
    assert png_settings(results[0])["settings"] == {"thread": 0}
    assert svg_settings(results[1])["settings"] == {"thread": 1}


@needs_browser
def test_restart_after_stop_and_after_the_browser_died() -> None:
    export.export_figure(make_figure(), "png", name="a", settings={})
    export.stop_static_renderer()
    assert renderer._RENDERER.browser_pid() is None
    assert export.export_figure(make_figure(), "png", name="b", settings={}).data.startswith(SIGNATURES["png"])
    pid = renderer._RENDERER.browser_pid()
    os.killpg(pid, signal.SIGKILL)
    time.sleep(0.5)
    file = export.export_figure(make_figure(), "svg", name="c", settings={"after": "kill"})
    assert svg_settings(file.data)["settings"] == {"after": "kill"}
    assert renderer._RENDERER.browser_pid() not in (None, pid)


@needs_browser
def test_warm_png_export_is_fast() -> None:
    export.export_figure(make_figure(), "png", name="warm", settings={})
    started = time.perf_counter()
    export.export_figure(make_figure(), "png", name="warm", settings={})
    assert time.perf_counter() - started < 3.0


def test_browser_that_fails_to_start_twice_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    starts = []

    async def failing_open(browser: str):
        starts.append(browser)
        raise RuntimeError("The browser seemed to close immediately after starting.")

    export.stop_static_renderer()
    monkeypatch.setattr(renderer, "find_browser", lambda: "/opt/fake-chrome")
    monkeypatch.setattr(renderer, "_open_kaleido", failing_open)
    with pytest.raises(ExportError, match="stopped or hung twice.*close immediately"):
        export.export_figure(make_figure(), "pdf", name="x", settings={})
    assert starts == ["/opt/fake-chrome", "/opt/fake-chrome"]
    assert renderer._RENDERER.browser_pid() is None


def test_browser_that_hangs_raises_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    async def hanging_open(browser: str):
        await asyncio.sleep(3600)

    export.stop_static_renderer()
    monkeypatch.setattr(renderer, "find_browser", lambda: "/opt/fake-chrome")
    monkeypatch.setattr(renderer, "_open_kaleido", hanging_open)
    monkeypatch.setattr(renderer, "_START_TIMEOUT_S", 0.2)
    started = time.monotonic()
    with pytest.raises(ExportError, match="SVG export failed"):
        export.export_figure(make_figure(), "svg", name="x", settings={})
    assert time.monotonic() - started < 5


def test_import_loads_no_heavy_module() -> None:
    code = "import sys, covwb.export; print(sorted({'kaleido', 'choreographer', 'mne', 'torch'} & set(sys.modules)))"
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
