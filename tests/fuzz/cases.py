"""Seeded fuzz cases: what one generated input is, and how a list of them is made."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Files = tuple[tuple[str, bytes], ...]
"""The uploaded files of one input: (name as the browser sends it, content)."""

Family = Callable[[random.Random], list[tuple[str, bytes]]]
"""A generator of one kind of malformed input, drawing everything from the given ``random.Random``."""


@dataclass(frozen=True)
class Case:
    """One generated input for one uploader.

    Parameters
    ----------
    index : int
        Position in the generated list (with the seed, enough to regenerate it).
    family : str
        Name of the generator (the kind of malformation).
    files : tuple of (str, bytes)
        The files uploaded together.
    """

    index: int
    family: str
    files: Files

    @property
    def label(self) -> str:
        """``'#12 ragged_rows: a.csv (230 B)'``, for failure messages."""
        shown = ", ".join(f"{name!r} ({len(data)} B)" for name, data in self.files)
        return f"#{self.index} {self.family}: {shown}"


def generate(families: Mapping[str, Family], n: int, seed: int) -> list[Case]:
    """``n`` cases drawn round-robin from ``families``, case ``i`` from ``random.Random(seed * 1_000_003 + i)``.

    Parameters
    ----------
    families : mapping of str to Family
        The generators, by name; each gets ``n // len(families)`` cases or one more.
    n : int
        Number of cases.
    seed : int
        Seed of the whole list; the same seed gives the same bytes.

    Returns
    -------
    list of Case
        In index order.
    """
    names = list(families)
    cases = []
    for i in range(n):
        family = names[i % len(names)]
        rng = random.Random(seed * 1_000_003 + i)
        cases.append(Case(i, family, tuple(families[family](rng))))
    return cases


def junk(rng: random.Random, low: int = 0, high: int = 4096) -> bytes:
    """Random bytes, a length drawn between ``low`` and ``high``."""
    return rng.randbytes(rng.randint(low, high))


def mutate(rng: random.Random, data: bytes, start: int = 0, edits: int | None = None) -> bytes:
    """Random byte edits after offset ``start``: replace, insert, delete, duplicate a span, or truncate."""
    out = bytearray(data)
    for _ in range(edits if edits is not None else rng.randint(1, 6)):
        if len(out) <= start + 1:
            break
        pos = rng.randrange(start, len(out))
        action = rng.choice(("replace", "replace", "insert", "delete", "span", "truncate"))
        if action == "replace":
            out[pos] = rng.randrange(256)
        elif action == "insert":
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif action == "delete":
            del out[pos : pos + rng.randint(1, 8)]
        elif action == "span":
            end = min(len(out), pos + rng.randint(1, 64))
            out[pos:pos] = out[pos:end]
        else:
            del out[pos:]
    return bytes(out)
