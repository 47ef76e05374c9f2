"""Task functions and small plans for the job-layer tests (module level, so Dask workers import them by name)."""

from __future__ import annotations

import os
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np

from covwb.errors import ParameterError
from covwb.jobs.plan import Plan, Ref, Task


def row_sum(X: np.ndarray, row: int, delay: float = 0.0) -> float:
    """Sum of one row of ``X``, after ``delay`` seconds."""
    time.sleep(delay)
    return float(X[row].sum())


def row_sum_or_exit(X: np.ndarray, row: int, marker: str, delay: float = 0.0) -> float:
    """Like :func:`row_sum`, but the first call anywhere (no file at ``marker`` yet) kills its own process."""
    time.sleep(delay)
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        os._exit(1)
    return float(X[row].sum())


def fail(kind: str) -> None:
    """Raise a user-facing error (``kind="workbench"``) or a bug-like one."""
    if kind == "workbench":
        raise ParameterError("the band 40-30 Hz is empty; choose a low edge below the high edge.")
    raise KeyError("missing")


def _refit(results: dict[str, float], X: np.ndarray, delay: float) -> Plan:
    best = max(results, key=results.get)
    return Plan(
        tasks=(Task(key="refit", fn=row_sum, args=(Ref("X"), int(best), delay)),),
        combine=lambda second: {"best_row": int(best), "refit": second["refit"], "sums": dict(sorted(results.items()))},
        data={"X": X},
        name="refit",
        progress_span=(0.8, 1.0),
    )


def search_plan(X: np.ndarray, delay: float = 0.0, *, exit_marker: str | None = None) -> Plan:
    """Two stages: the sum of every row of ``X`` (one task each), then the best row again.

    With ``exit_marker``, the task of row 1 kills its worker process the first time it runs.
    """
    tasks = []
    for i in range(len(X)):
        if exit_marker is not None and i == 1:
            tasks.append(Task(key=str(i), fn=row_sum_or_exit, args=(Ref("X"), i, exit_marker, delay), label=f"row {i}"))
        else:
            tasks.append(Task(key=str(i), fn=row_sum, args=(Ref("X"), i, delay), label=f"row {i}"))
    return Plan(
        tasks=tuple(tasks),
        combine=partial(_refit, X=X, delay=delay),
        data={"X": X},
        name="search",
        progress_span=(0.0, 0.8),
    )


def sleepy_plan(n_tasks: int, delay: float) -> Plan:
    """``n_tasks`` tasks of ``delay`` seconds each; the result is the sum of the row sums of a fixed matrix."""
    X = np.arange(n_tasks * 3, dtype=float).reshape(n_tasks, 3)
    return Plan(
        tasks=tuple(Task(key=str(i), fn=row_sum, args=(Ref("X"), i, delay), label=f"row {i}") for i in range(n_tasks)),
        combine=lambda results: sum(results.values()),
        data={"X": X},
        name="sleepy sums",
    )


def failing_plan(kind: str, n_ok: int = 3, delay: float = 0.0) -> Plan:
    """A few good tasks and one that fails (see :func:`fail`)."""
    X = np.ones((n_ok, 2))
    good = tuple(Task(key=f"ok{i}", fn=row_sum, args=(Ref("X"), i, delay)) for i in range(n_ok))
    return Plan(tasks=(Task(key="bad", fn=fail, args=(kind,)), *good), combine=dict, data={"X": X}, name="failing")


def stamp(X: np.ndarray, delay: float) -> tuple[int, float]:
    """The process id and the time (``time.time()``) at which this task started, after ``delay`` seconds of work."""
    start = time.time()
    time.sleep(delay)
    return os.getpid(), start


def stamp_plan(n_tasks: int, delay: float) -> Plan:
    """``n_tasks`` tasks named in reverse of the order the plan lists them (so that no name order helps)."""
    X = np.zeros((4, 1 << 16))  # 2 MB shared by every task
    tasks = tuple(Task(key=f"t{n_tasks - i:03d}", fn=stamp, args=(Ref("X"), delay)) for i in range(n_tasks))
    return Plan(tasks=tasks, combine=lambda results: [results[t.key] for t in tasks], data={"X": X}, name="stamps")


def farthest_inversion(starts: list[float]) -> int:
    """How many places a task started ahead of one listed before it (0 when they started in order)."""
    worst = 0
    for i, earlier in enumerate(starts):
        for j in range(i + 1, len(starts)):
            if starts[j] < earlier:
                worst = max(worst, j - i)
    return worst


def blas_threads(_: int) -> int:
    """The largest thread count of the BLAS/OpenMP pools loaded in this process."""
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info()), default=1)


GATE = threading.Event()
"""Holds :func:`after_gate` until set (for jobs whose tasks run in the test's own process)."""


def after_gate(value: float) -> float:
    """``value``, once :data:`GATE` is set (at most 30 s later)."""
    GATE.wait(30)
    return value


def gated_preview_plan() -> Plan:
    """Task "a" returns 1 at once, task "b" 2 once :data:`GATE` is set; the preview lists the finished tasks."""
    return Plan(
        tasks=(Task(key="a", fn=row_sum, args=(np.ones((1, 1)), 0)), Task(key="b", fn=after_gate, args=(2.0,))),
        combine=lambda results: sum(results.values()),
        name="gated",
        preview=sorted,
    )
