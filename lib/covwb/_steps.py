"""The steps of a page analysis: each one reported to a progress callback and kept in the caller's memo.

A page analysis (the explorer's, and the compositional, SPD, EEG and fairness pages') computes in named steps. The
caller passes a memo (the page's cache) so that changing one setting recomputes only the steps that read it: a
step's key is its name, the fingerprint of the data source (unless the step reads no data) and what else it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from covwb.jobs.plan import Progress

T = TypeVar("T")

Memo = Callable[[tuple[Hashable, ...], Callable[[], Any]], Any]
"""A cache: ``memo(key, compute)`` returns ``compute()``, or what it returned before for the same key."""


class Steps:
    """Runs the steps of one analysis through ``memo`` (when given), reporting each to ``progress`` (when given).

    Parameters
    ----------
    source : Hashable
        Fingerprint of the analysis's data source; part of every key of a step that reads the data.
    memo : Memo or None
        The caller's cache; None computes every step.
    progress : Progress or None
        Told ``(done, label)`` as each step starts.
    namespace : tuple
        Prefix of every key, where one memo serves several analyses.
    """

    def __init__(
        self, source: Hashable, memo: Memo | None, progress: Progress | None, namespace: tuple[Hashable, ...] = ()
    ) -> None:
        self.source = source
        self.memo = memo
        self.progress = progress
        self.namespace = namespace

    def __call__(
        self,
        name: str,
        key: tuple[Hashable, ...],
        compute: Callable[[], T],
        done: float,
        label: str,
        *,
        data_free: bool = False,
    ) -> T:
        """``compute()`` once per ``(name, source, *key)``; ``data_free`` steps leave the source out of the key."""
        if self.progress is not None:
            self.progress(done, label)
        if self.memo is None:
            return compute()
        return self.memo((*self.namespace, name, *(() if data_free else (self.source,)), *key), compute)
