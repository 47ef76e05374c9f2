"""The job helpers in a real browser: the fragment polls by itself, a widget change keeps the job, reload finds it.

AppTest runs whole scripts on demand and never fires ``st.fragment(run_every=…)``; this test does, with
Debian's Chromium through Playwright against ``streamlit run tests/jobs/job_page.py`` on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, _free_port, _require

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def job_server() -> Iterator[str]:
    """A Streamlit server for the job test page, stopped (with its local Dask cluster) after the module."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "lib"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("COVWB_DASK_SCHEDULER", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "tests/jobs/job_page.py", "--server.address", "127.0.0.1"]
        + ["--server.port", str(port), "--server.headless", "true"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "the Streamlit server did not come up"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Headless Debian Chromium through Playwright (as tests/e2e)."""
    _require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None, "Debian's chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        _require(False, "playwright is not installed")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def tab(chromium: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _set_number(page: object, label: str, value: str) -> None:
    field = page.get_by_label(label)
    field.fill(value)
    field.press("Enter")


def test_progress_polls_itself_survives_a_widget_change_and_a_reload(job_server: str, tab: object) -> None:
    page = tab
    page.goto(job_server)
    page.get_by_text("Press Run.").wait_for()
    _set_number(page, "Seconds per task", "2.5")
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Demo sums:").wait_for()
    assert "demo_job=" in page.url
    job_url = page.url
    _set_number(page, "Tasks", "5")  # another setting while the job runs: it goes on
    page.get_by_text("computes the settings from when it was started").wait_for()
    _set_number(page, "Tasks", "4")
    page.get_by_text("Result: 66").wait_for(timeout=120_000)  # no click: the fragment noticed the end
    page.goto(job_url)  # a reload is a new session; the id in the URL finds the job
    page.get_by_text("Result: 66").wait_for()
