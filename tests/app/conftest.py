"""Helpers for AppTest: run a page script with uploads injected as if from the browser."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted((REPO / "pages").glob("*.py"))


@pytest.fixture(params=[p.name for p in PAGES])
def page_path(request: pytest.FixtureRequest) -> str:
    """Each page script, as a path AppTest can run."""
    return str(REPO / "pages" / request.param)
