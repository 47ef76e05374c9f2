"""Tests of covwb.jobs.plan: plans, references, stages, progress, cancellation, local processes."""

from __future__ import annotations

import dataclasses
import operator
from functools import partial

import numpy as np
import pytest

from covwb.errors import ParameterError
from covwb.jobs.plan import Cancelled, Failed, Plan, ProgressTracker, Ref, Task, merge_plans, run_plan


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


def test_processes_start_tasks_in_the_plans_order() -> None:
    """joblib's automatic batching grouped the quick first tasks and started later ones out of order."""
    from tests.jobs.tasks import farthest_inversion, stamp_plan

    run_plan(stamp_plan(4, 0.0), n_jobs=2)  # warm workers: a worker's first task waits for its imports
    out = run_plan(stamp_plan(40, 0.02), n_jobs=2)
    assert farthest_inversion([start for _, start in out]) <= 2


def test_time_left_is_shared_by_the_workers_and_at_least_the_heaviest_task() -> None:
    tasks = tuple(Task(str(i), operator.add, (i, 0), weight=w) for i, w in enumerate([1, 1, 1, 1, 8]))
    seen: list[str] = []
    tracker = ProgressTracker(Plan(tasks, combine=dict), lambda f, text: seen.append(text), workers=4)
    tracker.finished(tasks[0], seconds=2.0)  # 2 s per unit of weight
    assert tracker.remaining_s() == pytest.approx(16.0)  # the heaviest task (8 units) outlasts 11 units / 4 workers
    tracker.finished(tasks[4], seconds=16.0)
    assert tracker.remaining_s() == pytest.approx(2.0)  # 3 tasks of 1 unit for 4 workers
    assert seen[-1] == "4 done (2/5, about 2 s left)"


def test_time_left_without_task_times_extrapolates_the_throughput() -> None:
    tasks = tuple(Task(str(i), operator.add, (i, 0)) for i in range(4))
    tracker = ProgressTracker(Plan(tasks, combine=dict), None, workers=2)
    assert np.isnan(tracker.remaining_s())
    tracker.finished(tasks[0])
    assert 0 <= tracker.remaining_s() < 1


def _failing_square(x: int) -> int:
    if x < 0:
        raise ParameterError(f"{x} is negative; give a positive number.")
    return x * x


def _squares(values: list[int], stages: int = 1) -> Plan:
    tasks = tuple(
        Task(f"v{i}", _square_at, (Ref("values"), i), weight=1.0 + i, label=f"value {i}") for i in range(len(values))
    )

    def combine(results: dict[str, int]) -> object:
        total = sum(results.values())
        if stages == 1:
            return total
        return Plan((Task("again", _failing_square, (total,)),), combine=lambda r: r["again"], progress_span=(0.5, 1))

    return Plan(tasks, combine=combine, data={"values": values}, progress_span=(0.0, 0.5 if stages > 1 else 1.0))


def _square_at(values: list[int], i: int) -> int:
    return _failing_square(values[i])


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_merged_plans_give_each_plan_its_own_result_and_isolate_bad_input(n_jobs: int) -> None:
    plans = {"a": _squares([1, 2, 3]), "b": _squares([4, -5]), "c": _squares([2, 2], stages=2)}
    seen: list[float] = []
    merged = merge_plans(plans, name="squares", finish=lambda out: {k: out[k] for k in sorted(out)})
    assert {t.key for t in merged.tasks} == {"a/v0", "a/v1", "a/v2", "b/v0", "b/v1", "c/v0", "c/v1"}
    assert merged.tasks[0].label == "a: value 0"
    out = run_plan(merged, n_jobs=n_jobs, progress=lambda f, _: seen.append(f))
    assert out == {"a": 14, "b": Failed("-5 is negative; give a positive number."), "c": 64}
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_merged_plans_interleave_by_the_share_of_each_plans_weight() -> None:
    big = Plan(tuple(Task(f"b{i}", operator.add, (i, 0), weight=10.0) for i in range(3)), combine=dict)
    small = Plan(tuple(Task(f"s{i}", operator.add, (i, 0), weight=1.0) for i in range(3)), combine=dict)
    merged = merge_plans({"big": big, "small": small})
    assert [t.key for t in merged.tasks] == ["big/b0", "small/s0", "big/b1", "small/s1", "big/b2", "small/s2"]
    with pytest.raises(ParameterError, match="without '/'"):
        merge_plans({"a/b": big})
