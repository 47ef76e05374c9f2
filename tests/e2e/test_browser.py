"""Real-browser test: Debian's Chromium driven by Playwright against a live server on 127.0.0.1.

Skips only outside CI when Chromium or Playwright is missing; under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PAGE_PATHS = sorted(p.stem.split("_", 1)[1] for p in (REPO / "pages").glob("*.py"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser test cannot run under CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A Streamlit server for the app, on a free loopback port, stopped after the module."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("the Streamlit server did not come up within 90 s")
        time.sleep(0.3)
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium through Playwright; never a downloaded browser."""
    _require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None, "Debian's chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        _require(False, "playwright is not installed")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


def _wait_for_app(page: object) -> None:
    """Wait until the script has finished running (no running indicator) and the main block exists."""
    page.wait_for_selector('[data-testid="stMain"]')
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


def test_home_page_shows_built_in_data(server: str, page: object) -> None:
    page.goto(server)
    page.get_by_role("heading", name="Covariance Workbench").wait_for()
    page.get_by_text("Simulated motor-imagery EEG").first.wait_for()
    assert not page.locator('[data-testid="stException"]').count()


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_page_opens_by_its_url(server: str, page: object, path: str) -> None:
    page.goto(f"{server}/{path}")
    _wait_for_app(page)
    page.locator("h1").first.wait_for()
    assert not page.locator('[data-testid="stException"]').count()
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Home", exact=True).wait_for()
    assert sidebar.get_by_text("Dataset explorer", exact=True).count() == 1
    assert sidebar.get_by_text("app", exact=True).count() == 0


def test_upload_csv_in_explorer_and_download_png(server: str, page: object, tmp_path: Path) -> None:
    csv = tmp_path / "measurements.csv"
    rows = ["a;b;c"] + [f"{i},5;{(i * 7) % 11},25;{(i * i) % 13},0" for i in range(40)]
    csv.write_text("\n".join(rows) + "\n")
    page.goto(f"{server}/Dataset_explorer")
    _wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Upload", exact=True).click()
    _wait_for_app(page)
    sidebar.locator('input[type="file"]').set_input_files(str(csv))
    page.get_by_text("measurements.csv").first.wait_for()
    _wait_for_app(page)
    chart = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first
    chart.wait_for()
    with page.expect_download(timeout=120_000) as download_info:
        page.get_by_role("button", name="PNG").first.click()
    target = tmp_path / "figure.png"
    download_info.value.save_as(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
