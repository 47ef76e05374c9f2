"""Long computations as plans of independent tasks, and the local runner that executes them.

A long computation (an ACM evaluation, a fairness λ sweep, SPD training of several variants × seeds, a batch
over recordings) is described as a :class:`Plan`: independent :class:`Task` s plus a ``combine`` function that
turns their results into the final result, or into the next :class:`Plan` (a stage that depends on the one
before, such as refitting the winners of a grid search). A task is a module-level function with plain,
picklable arguments, so the same plan runs unchanged

* in this process or in joblib (loky) worker processes, with :func:`run_plan`;
* as Dask tasks on a local or remote cluster, with the job layer of :mod:`covwb.jobs`.

Large inputs shared by many tasks (the epochs of a recording, a design matrix) are given once in
:attr:`Plan.data` and referenced from task arguments by :class:`Ref`; a runner sends each of them to a
worker once instead of once per task. ``combine`` always runs in the calling process, never on a worker.

Progress is measured in task weight (an estimate of each task's cost, in arbitrary units): the fraction done
is the weight of the finished tasks over the stage's total, mapped into the stage's
:attr:`Plan.progress_span`. The time left is the weight left divided by the speed of one worker (the weight of
the finished tasks over their own compute seconds) and by the number of workers that still have a task to run,
and at least the time of the heaviest task left; so several workers do not inflate the estimate while their
first tasks run. Runners start tasks in the order the plan lists them (joblib one task per dispatch, Dask by
task priority), so a plan builder that wants early progress and an early time estimate lists a few cheap tasks
first, and a plan that lists the heaviest tasks next keeps the tail of the run short.

:func:`merge_plans` runs several plans side by side as one (a batch over recordings: one job, one progress bar),
each keeping its own stages, order and data.

A plan may also say what its finished tasks already show (:attr:`Plan.preview`: the learning curves of
the training runs done so far, say); runners hand that preview to whoever watches the run, so a page can
draw partial results while the job goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from covwb.errors import ParameterError, WorkbenchError

Progress = Callable[[float, str], None]
"""Progress callback: overall fraction done in [0, 1] and a sentence saying what runs now."""
Preview = Callable[[Any], None]
"""Preview callback: receives what :attr:`Plan.preview` returned after a task finished."""


class Cancelled(Exception):
    """Raised by a runner when its ``should_stop`` callback asked it to stop."""


@dataclass(frozen=True)
class Ref:
    """A reference, inside a task's arguments, to one entry of :attr:`Plan.data`.

    Parameters
    ----------
    name : str
        Key in :attr:`Plan.data`.
    """

    name: str


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(*args, **kwargs)`` with every :class:`Ref` replaced by its data.

    Parameters
    ----------
    key : str
        Unique within its plan; results are handed to ``combine`` under this key.
    fn : callable
        A module-level function (picklable by reference), free of global state.
    args : tuple
        Positional arguments: plain values, arrays or :class:`Ref` s (at the top level of ``args``).
    kwargs : mapping
        Keyword arguments, likewise.
    label : str
        What the task does, for progress messages ("outer fold 2, order 3, lag 5").
    weight : float
        Estimated cost relative to the plan's other tasks (> 0).
    """

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    weight: float = 1.0


@dataclass(frozen=True)
class Plan:
    """Independent tasks and what to make of their results.

    Parameters
    ----------
    tasks : tuple of Task
        Run in any order, possibly at the same time; started in the order given.
    combine : callable
        ``combine(results)`` with ``results`` a dict from task key to result; returns the final result or
        the next :class:`Plan`. Runs in the calling process.
    data : mapping
        Inputs shared by several tasks, referenced by :class:`Ref`.
    name : str
        What the stage does, for progress messages ("nested order × lag search").
    progress_span : (float, float)
        The part of the whole computation's progress this stage covers, e.g. (0.0, 0.9) for a search
        followed by a short refit stage spanning (0.9, 1.0).
    preview : callable or None
        ``preview(results)`` with the results of the stage's tasks finished so far (task key to result, in
        the order they finished) returns what they already show, for display while the stage runs; called
        in the calling process after each finished task, like ``combine``. None: no preview.

    Examples
    --------
    >>> from operator import add
    >>> plan = Plan(
    ...     tasks=tuple(Task(key=str(i), fn=add, args=(Ref("offset"), i)) for i in range(3)),
    ...     combine=lambda results: sorted(results.values()),
    ...     data={"offset": 10},
    ... )
    >>> run_plan(plan)
    [10, 11, 12]
    """

    tasks: tuple[Task, ...]
    combine: Callable[[dict[str, Any]], Any]
    data: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    progress_span: tuple[float, float] = (0.0, 1.0)
    preview: Callable[[dict[str, Any]], Any] | None = None

    def __post_init__(self) -> None:
        keys = [task.key for task in self.tasks]
        if len(set(keys)) != len(keys):
            raise ParameterError(f"the tasks of plan {self.name!r} repeat keys; each task needs its own key.")
        for task in self.tasks:
            if not task.weight > 0:
                raise ParameterError(f"task {task.key!r} has weight {task.weight}; weights must be positive.")
            for value in (*task.args, *task.kwargs.values()):
                if isinstance(value, Ref) and value.name not in self.data:
                    raise ParameterError(f"task {task.key!r} refers to {value.name!r}, which the plan's data lacks.")
        low, high = self.progress_span
        if not 0.0 <= low <= high <= 1.0:
            raise ParameterError(f"progress span {self.progress_span} is not within [0, 1].")

    @property
    def total_weight(self) -> float:
        """Sum of the tasks' weights."""
        return float(sum(task.weight for task in self.tasks))


def resolve(task: Task, data: Mapping[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The task's arguments with every :class:`Ref` replaced by ``data[ref.name]``."""
    args = tuple(data[a.name] if isinstance(a, Ref) else a for a in task.args)
    kwargs = {k: data[v.name] if isinstance(v, Ref) else v for k, v in task.kwargs.items()}
    return args, kwargs


_THREADS_LIMITED = False
"""Whether :func:`execute` already limited this process to one BLAS/OpenMP thread."""


def execute(task: Task, data: Mapping[str, Any]) -> tuple[str, Any, float]:
    """Run one task on ``data`` (in whichever process calls it); returns ``(task.key, result, seconds)``.

    ``seconds`` is the task's own wall time in the process that ran it (for the time estimate and benchmarks).
    The process is limited to one BLAS/OpenMP thread before its first task (:func:`covwb.runtime.limit_threads`,
    about 10 ms, so not before every task: the thread variables it sets also hold for libraries loaded later).
    """
    global _THREADS_LIMITED
    if not _THREADS_LIMITED:
        from covwb.runtime import limit_threads

        limit_threads()
        _THREADS_LIMITED = True
    args, kwargs = resolve(task, data)
    start = time.perf_counter()
    value = task.fn(*args, **kwargs)
    return task.key, value, time.perf_counter() - start


class ProgressTracker:
    """Turns finished tasks of one stage into an overall fraction and a sentence with a time estimate.

    Parameters
    ----------
    plan : Plan
        The stage being run.
    progress : callable or None
        Receives ``(fraction, text)``.
    workers : int
        Tasks that run at the same time (worker processes or threads); the time left assumes that each
        of them runs tasks at the speed measured so far until fewer tasks than workers are left.

    Examples
    --------
    Four workers, eight tasks of 10 s each: when the first finishes, the other three are about done too,
    and four tasks are left for four workers.

    >>> plan = Plan(tuple(Task(str(i), abs, (i,)) for i in range(8)), combine=dict)
    >>> seen = []
    >>> tracker = ProgressTracker(plan, lambda fraction, text: seen.append(text), workers=4)
    >>> tracker.finished(plan.tasks[0], seconds=10.0)
    >>> seen[-1]
    '0 done (1/8, about 18 s left)'
    """

    def __init__(self, plan: Plan, progress: Progress | None, *, workers: int = 1) -> None:
        self._plan, self._progress = plan, progress
        self._workers = max(1, int(workers))
        self._total = plan.total_weight or 1.0
        self._done = 0.0
        self._n_done = 0
        self._busy_s = 0.0  # compute seconds of the finished tasks whose time is known
        self._timed_weight = 0.0  # their weight
        self._left = sorted((task.weight for task in plan.tasks), reverse=True)
        self._start = time.perf_counter()

    def started(self) -> None:
        """Say that the stage started, and with how many tasks."""
        n = len(self._plan.tasks)
        self._emit(f"{self._plan.name or 'running'}: {n} task{'s' if n != 1 else ''} started")

    def finished(self, task: Task, seconds: float | None = None) -> None:
        """Count ``task`` as done (it took ``seconds`` of compute, when known) and report."""
        self._done += task.weight
        self._n_done += 1
        self._left.remove(task.weight)
        if seconds is not None and seconds >= 0:
            self._busy_s += seconds
            self._timed_weight += task.weight
        eta = f", about {_duration(self.remaining_s())} left" if self._left else ""
        what = f"{self._plan.name}: " if self._plan.name else ""
        self._emit(f"{what}{task.label or task.key} done ({self._n_done}/{len(self._plan.tasks)}{eta})")

    def remaining_s(self) -> float:
        """Estimated seconds until the stage's last task finishes (NaN before any task finished)."""
        if not self._left:
            return 0.0
        if self._timed_weight > 0 and self._busy_s > 0:
            per_weight = self._busy_s / self._timed_weight  # seconds per unit of weight on one worker
            parallel = min(self._workers, len(self._left))
            return per_weight * max(sum(self._left) / parallel, self._left[0])
        if not self._done:
            return float("nan")
        elapsed = time.perf_counter() - self._start  # task times unknown: the throughput since the start
        return elapsed * (self._total - self._done) / self._done

    @property
    def fraction(self) -> float:
        """Overall fraction done, within the plan's progress span."""
        low, high = self._plan.progress_span
        return low + (high - low) * min(self._done / self._total, 1.0)

    def _emit(self, text: str) -> None:
        if self._progress is not None:
            self._progress(self.fraction, text)


def _duration(seconds: float) -> str:
    """'40 s', '3 min', '1.5 h'."""
    if seconds != seconds:  # NaN: nothing finished yet
        return "an unknown time"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _local_results(plan: Plan, n_jobs: int) -> Iterator[tuple[str, Any, float]]:
    """(key, result, seconds) of each task as it finishes, in this process or in joblib loky processes.

    In processes, each task is its own dispatch (``batch_size=1``): joblib's automatic batching would group
    the quick first tasks, and later heavy ones, and start them out of the plan's order on one worker.
    """
    if n_jobs == 1 or len(plan.tasks) < 2:
        for task in plan.tasks:
            yield execute(task, plan.data)
        return
    from joblib import Parallel, delayed

    runner = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered", batch_size=1)
    yield from runner(delayed(execute)(task, plan.data) for task in plan.tasks)


def run_plan(
    plan: Plan,
    *,
    n_jobs: int = 1,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    preview: Preview | None = None,
) -> Any:
    """Run a plan and its follow-up stages in this process (``n_jobs=1``) or in joblib processes.

    Parameters
    ----------
    plan : Plan
        The first stage.
    n_jobs : int
        Worker processes (loky); 1 runs every task in this process.
    progress : callable (fraction, text) or None
        Called when each stage starts and as each task finishes.
    should_stop : callable or None
        Checked as each task finishes; when it returns True the run stops and :class:`Cancelled` is raised.
    preview : callable or None
        Called as each task of a stage with a :attr:`Plan.preview` finishes, with what that preview returns.

    Returns
    -------
    The value the last stage's ``combine`` returns.

    Raises
    ------
    Cancelled
        ``should_stop`` returned True.

    Examples
    --------
    >>> plan = Plan(tasks=(Task(key="a", fn=pow, args=(2, 10)), Task(key="b", fn=pow, args=(3, 2))), combine=dict)
    >>> run_plan(plan)
    {'a': 1024, 'b': 9}
    """
    if int(n_jobs) != n_jobs or n_jobs < 1:
        raise ParameterError(f"n_jobs is {n_jobs}; use a whole number of at least 1.")
    current: Any = plan
    while isinstance(current, Plan):
        tracker = ProgressTracker(current, progress, workers=int(n_jobs))
        tracker.started()
        by_key = {task.key: task for task in current.tasks}
        results: dict[str, Any] = {}
        for key, value, seconds in _local_results(current, int(n_jobs)):
            results[key] = value
            tracker.finished(by_key[key], seconds)
            if preview is not None and current.preview is not None:
                preview(current.preview(dict(results)))
            if should_stop is not None and should_stop():
                raise Cancelled(f"stopped after {len(results)} of {len(current.tasks)} tasks of {current.name!r}")
        current = current.combine(results)
    return current


# -- several plans as one ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failed:
    """What a plan of :func:`merge_plans` gave when one of its tasks or ``combine`` steps raised a workbench error.

    Parameters
    ----------
    message : str
        The error's sentence.
    """

    message: str


def merge_plans(
    plans: Mapping[str, Plan],
    *,
    name: str = "",
    finish: Callable[[dict[str, Any]], Any] | None = None,
) -> Plan:
    """Several plans run side by side as one plan: one job, one progress bar, one balanced queue of tasks.

    Stage k of the merged plan holds stage k of every plan still running: task keys, data names and labels
    are prefixed by the plan's name (``"S01/search/fold1/order3/lag5"``), so the plans' tasks never mix.
    Each plan's tasks keep their relative order; the plans are interleaved so that each has started the same
    fraction of its weight at any point (every plan's cheap first tasks come first, and every plan's heavy
    tasks start early). When a stage finishes, each plan's ``combine`` gets its own results; plans that
    return their result leave, the others go on in the next merged stage.

    A task or ``combine`` that raises a :class:`~covwb.errors.WorkbenchError` (bad input, such as
    matrices that are not positive definite) ends only its own plan, whose result becomes a :class:`Failed`
    holding the sentence; other exceptions end the whole run, as in any plan.

    Parameters
    ----------
    plans : mapping of str to Plan
        The plans, by a name without ``/`` that is unique among them.
    name : str
        What the merged plan does, for progress messages.
    finish : callable or None
        Applied to the final ``{name: result or Failed}`` dict (in the order of ``plans``); None returns it.

    Returns
    -------
    Plan

    Examples
    --------
    >>> def powers(base):
    ...     tasks = (Task("square", pow, (Ref("x"), 2)), Task("cube", pow, (Ref("x"), 3)))
    ...     return Plan(tasks, combine=lambda r: r["square"] + r["cube"], data={"x": base})
    >>> merged = merge_plans({"a": powers(2), "b": powers(3)})
    >>> [task.key for task in merged.tasks]
    ['a/square', 'b/square', 'a/cube', 'b/cube']
    >>> run_plan(merged)
    {'a': 12, 'b': 36}
    """
    for label in plans:
        if not label or "/" in label:
            raise ParameterError(f"plan name {label!r} must be non-empty and without '/'.")
    weights = {label: plan.total_weight or 1.0 for label, plan in plans.items()}
    return _merged_stage(dict(plans), dict.fromkeys(plans), weights, name, finish)


def _merged_stage(
    active: dict[str, Plan],
    outcome: dict[str, Any],
    weights: dict[str, float],
    name: str,
    finish: Callable[[dict[str, Any]], Any] | None,
) -> Plan:
    """One merged stage of the ``active`` plans; ``outcome`` holds the results of the plans already finished."""
    data: dict[str, Any] = {}
    queues: dict[str, list[Task]] = {}
    for label, plan in active.items():
        data.update({f"{label}/{key}": value for key, value in plan.data.items()})
        queues[label] = [_prefixed(task, label) for task in plan.tasks]
    total = sum(weights.values())
    low = sum(weights[k] * (active[k].progress_span[0] if k in active else 1.0) for k in weights) / total
    high = sum(weights[k] * (active[k].progress_span[1] if k in active else 1.0) for k in weights) / total
    return Plan(
        tasks=_interleaved(queues),
        combine=partial(_merged_combine, active=active, outcome=outcome, weights=weights, name=name, finish=finish),
        data=data,
        name=name,
        progress_span=(low, high),
    )


def _guarded(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or :class:`Failed` with the sentence of a workbench error it raised."""
    try:
        return fn(*args, **kwargs)
    except WorkbenchError as error:
        return Failed(str(error))


def _prefixed(task: Task, label: str) -> Task:
    """``task`` under ``label/``: key, references and label prefixed, errors of the workbench caught."""

    def rename(value: Any) -> Any:
        return Ref(f"{label}/{value.name}") if isinstance(value, Ref) else value

    return Task(
        key=f"{label}/{task.key}",
        fn=_guarded,
        args=(task.fn, *map(rename, task.args)),
        kwargs={k: rename(v) for k, v in task.kwargs.items()},
        label=f"{label}: {task.label or task.key}",
        weight=task.weight,
    )


def _interleaved(queues: dict[str, list[Task]]) -> tuple[Task, ...]:
    """The queues' tasks, each queue in its order, always taking next from the queue least far along (by weight)."""
    import heapq

    totals = {label: sum(t.weight for t in queue) or 1.0 for label, queue in queues.items()}
    heap = [(0.0, i, label) for i, label in enumerate(queues) if queues[label]]
    position = dict.fromkeys(queues, 0)
    ordered = []
    while heap:
        started, i, label = heapq.heappop(heap)
        task = queues[label][position[label]]
        ordered.append(task)
        position[label] += 1
        if position[label] < len(queues[label]):
            heapq.heappush(heap, (started + task.weight / totals[label], i, label))
    return tuple(ordered)


def _merged_combine(
    results: dict[str, Any],
    *,
    active: dict[str, Plan],
    outcome: dict[str, Any],
    weights: dict[str, float],
    name: str,
    finish: Callable[[dict[str, Any]], Any] | None,
) -> Any:
    """Hand each plan its own results; the next merged stage, or the final outcome."""
    mine: dict[str, dict[str, Any]] = {label: {} for label in active}
    for key, value in results.items():
        label, own = key.split("/", 1)
        mine[label][own] = value
    outcome = dict(outcome)
    following: dict[str, Plan] = {}
    for label, plan in active.items():
        failed = next((v for v in mine[label].values() if isinstance(v, Failed)), None)
        if failed is not None:
            outcome[label] = failed
            continue
        try:
            value = plan.combine(mine[label])
        except WorkbenchError as error:
            value = Failed(str(error))
        if isinstance(value, Plan):
            following[label] = value
        else:
            outcome[label] = value
    if following:
        return _merged_stage(following, outcome, weights, name, finish)
    return outcome if finish is None else finish(outcome)
