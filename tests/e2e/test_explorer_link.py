"""Real browser: a shared explorer link reopens its view, the URL follows the widgets, the analysis downloads."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.test_browser import _wait_for_app, browser, page, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

LINK = "source=builtin&source.name=pottery&estimator=oas&columns=%5B%22Al2O3%22%2C%22CaO%22%5D"


def choose(tab: object, box: object, option: str) -> None:
    """Pick ``option`` in a select box; retried while a rerun redraws the box and closes its list."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(4):
        box.click()
        try:
            tab.get_by_role("option", name=option).click(timeout=15_000)
            return
        except PlaywrightTimeout:
            tab.keyboard.press("Escape")
            _wait_for_app(tab)
    raise AssertionError(f"could not choose {option!r}")


def test_link_reopens_the_view_and_the_analysis_downloads(server: str, page: object, tmp_path: Path) -> None:  # noqa: F811
    page.goto(f"{server}/Dataset_explorer?{LINK}")
    _wait_for_app(page)
    page.get_by_text("Romano-British pottery (9 oxides)").first.wait_for()
    from playwright.sync_api import expect

    boxes = page.locator('[data-testid="stSelectbox"] input')
    expect(boxes).to_have_count(2, timeout=120_000)
    expect(boxes.nth(0)).to_have_value("Romano-British pottery (9 oxides)")
    expect(boxes.nth(1)).to_have_value("Oracle approximating shrinkage (OAS)")
    _wait_for_app(page)
    assert not page.locator('[data-testid="stException"]').count()
    query = parse_qs(urlparse(page.url).query)
    assert query["estimator"] == ["oas"] and query["columns"] == ['["Al2O3","CaO"]']

    choose(page, boxes.nth(1), "Ledoit-Wolf shrinkage")
    expect(page).to_have_url(re.compile(r"estimator=ledoit_wolf"), timeout=120_000)
    _wait_for_app(page)

    with page.expect_download(timeout=120_000) as download_info:
        page.get_by_role("button", name="Export analysis").click()
    target = tmp_path / "analysis.zip"
    download_info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        assert {"analysis.py", "analysis.ipynb", "provenance.json", "report.html"} <= set(archive.namelist())
        settings = json.loads(archive.read("provenance.json"))["settings"]
    assert settings["estimator"] == "ledoit_wolf" and settings["columns"] == ["Al2O3", "CaO"]
