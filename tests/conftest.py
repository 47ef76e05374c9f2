"""Shared fixtures: thread limits, the reference-data folder, small uploads."""

from __future__ import annotations

import os
from pathlib import Path

from lib.runtime import limit_threads

limit_threads()

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


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
