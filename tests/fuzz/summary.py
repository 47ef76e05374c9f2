"""The fuzz outcome counts of this pytest run, and their table for the terminal summary."""

from __future__ import annotations

from collections import Counter

from tests.fuzz.harness import OUTCOMES

RESULTS: dict[str, tuple[Counter[tuple[str, str]], float]] = {}
"""Per uploader: counts by (kind, outcome) and the seconds the inputs took."""


def record(uploader: str, counts: Counter[tuple[str, str]], seconds: float) -> None:
    """Keep the counts of one uploader's run for :func:`lines`."""
    RESULTS[uploader] = (Counter(counts), seconds)


def lines() -> list[str]:
    """One table per fuzzed uploader: a row per kind of input, a column per outcome, then totals."""
    out: list[str] = []
    for uploader, (counts, seconds) in RESULTS.items():
        kinds = list(dict.fromkeys(kind for kind, _ in counts))
        width = max(len(k) for k in [*kinds, "total"])
        total = sum(counts.values())
        out.append(f"uploader '{uploader}': {total} inputs in {seconds:.1f} s")
        out.append(" " * width + " | " + " | ".join(OUTCOMES))
        for kind in [*kinds, "total"]:
            cells = [
                sum(n for (k, o), n in counts.items() if o == outcome and (kind == "total" or k == kind))
                for outcome in OUTCOMES
            ]
            out.append(kind.ljust(width) + " | " + " | ".join(str(c).rjust(len(o)) for c, o in zip(cells, OUTCOMES)))
        out.append("")
    return out
