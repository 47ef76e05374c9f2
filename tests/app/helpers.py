"""Small helpers shared by the AppTest page tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streamlit.testing.v1 import AppTest


def charts(at: AppTest) -> int:
    """Number of Plotly charts the page drew."""
    return len(at.get("plotly_chart"))


def assert_clean(at: AppTest) -> None:
    """The run raised nothing and showed no error message."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def widget(widgets: Iterable[Any], label: str) -> Any:
    """The first widget whose label starts with ``label``."""
    return next(w for w in widgets if w.label.startswith(label))
