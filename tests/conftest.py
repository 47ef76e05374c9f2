"""Shared fixtures: thread limits, the reference-data folder, small uploads."""

from __future__ import annotations

import os
from pathlib import Path

from covwb.runtime import limit_threads

limit_threads()

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_report_header(config: pytest.Config) -> str | None:
    """One line at the top of the run when the reference files are absent, so the skips are not a surprise."""
    if SHARED_DATA.is_dir():
        return None
    return f"reference files absent ({SHARED_DATA}): the tests that compare against them are skipped (README, Set-up)"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder of reference files; skips the test where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def in_ci() -> bool:
    """True under CI (``CI=true``), where browser tests must not skip."""
    return os.environ.get("CI", "").lower() == "true"
