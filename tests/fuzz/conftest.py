"""Print the fuzz outcome tables (uploader x kind x outcome) at the end of the run."""

from __future__ import annotations

from typing import Any

from tests.fuzz import summary


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Write one table per fuzzed uploader when any was fuzzed in this run."""
    if not summary.RESULTS:
        return
    terminalreporter.section("upload fuzzing: inputs per uploader, kind and outcome")
    for line in summary.lines():
        terminalreporter.write_line(line)
