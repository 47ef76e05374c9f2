"""Tests of covwb.jobs.plan: plans, references, stages, progress, cancellation, local processes."""

from __future__ import annotations

import dataclasses
import operator
from functools import partial

import numpy as np
import pytest

from covwb.errors import ParameterError
from covwb.jobs.plan import Cancelled, Plan, Ref, Task, run_plan


def _row_sum(X: np.ndarray, row: int) -> float:
    return float(X[row].sum())


def _second_stage(results: dict[str, float], X: np.ndarray) -> Plan:
    best = max(results, key=results.get)
    return Plan(
        tasks=(Task(key="refit", fn=_row_sum, args=(Ref("X"), int(best))),),
        combine=lambda second: {"best_row": int(best), "refit": second["refit"]},
        data={"X": X},
        name="refit",
        progress_span=(0.8, 1.0),
    )


def _search_plan(X: np.ndarray) -> Plan:
    return Plan(
        tasks=tuple(Task(key=str(i), fn=_row_sum, args=(Ref("X"), i), label=f"row {i}") for i in range(len(X))),
        combine=partial(_second_stage, X=X),
        data={"X": X},
        name="search",
        progress_span=(0.0, 0.8),
    )


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_two_stages_give_the_same_result_in_process_and_in_workers(n_jobs: int) -> None:
    X = np.random.default_rng(0).normal(size=(6, 50))
    seen: list[tuple[float, str]] = []
    result = run_plan(_search_plan(X), n_jobs=n_jobs, progress=lambda f, text: seen.append((f, text)))
    best = int(np.argmax(X.sum(axis=1)))
    assert result == {"best_row": best, "refit": pytest.approx(X[best].sum())}
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == pytest.approx(1.0)
    assert any(f == pytest.approx(0.8) for f in fractions)
    assert sum("done" in text for _, text in seen) == len(X) + 1
    assert "left" in seen[1][1]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_preview_shows_the_finished_tasks_of_its_stage_after_each_one(n_jobs: int) -> None:
    X = np.random.default_rng(0).normal(size=(6, 50))
    shown: list[list[str]] = []
    result = run_plan(dataclasses.replace(_search_plan(X), preview=sorted), n_jobs=n_jobs, preview=shown.append)
    assert result == run_plan(_search_plan(X))
    assert [len(keys) for keys in shown] == [1, 2, 3, 4, 5, 6]  # the refit stage has no preview
    assert shown[-1] == [str(i) for i in range(6)]
    assert run_plan(_search_plan(X), preview=shown.append) == result and len(shown) == 6


def test_progress_counts_weight_not_tasks() -> None:
    tasks = (Task("a", operator.add, (1, 1), weight=3.0), Task("b", operator.add, (1, 2), weight=1.0))
    seen: list[float] = []
    run_plan(Plan(tasks, combine=dict), progress=lambda f, _: seen.append(f))
    assert seen == [0.0, 0.75, 1.0]


def test_should_stop_cancels_between_tasks() -> None:
    calls: list[str] = []
    tasks = tuple(Task(str(i), operator.add, (i, 0)) for i in range(5))
    with pytest.raises(Cancelled, match="2 of 5"):
        run_plan(Plan(tasks, combine=dict), progress=lambda f, t: calls.append(t), should_stop=lambda: len(calls) > 2)


@pytest.mark.parametrize(
    ("tasks", "data", "message"),
    [
        ((Task("a", operator.add, (1, 2)), Task("a", operator.add, (1, 2))), {}, "repeat keys"),
        ((Task("a", operator.add, (Ref("X"), 2)),), {}, "lacks"),
        ((Task("a", operator.add, (1, 2), weight=0.0),), {}, "positive"),
    ],
)
def test_malformed_plans_are_refused(tasks: tuple[Task, ...], data: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        Plan(tasks, combine=dict, data=data)
