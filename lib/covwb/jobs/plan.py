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
:attr:`Plan.progress_span`, and the remaining time is extrapolated from the weight done so far. Runners start
tasks in the order the plan lists them, so a plan builder that wants early progress and an early time
estimate lists a few cheap tasks first.

A plan may also say what its finished tasks already show (:attr:`Plan.preview`: the learning curves of
the training runs done so far, say); runners hand that preview to whoever watches the run, so a page can
draw partial results while the job goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from covwb.errors import ParameterError

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


def execute(task: Task, data: Mapping[str, Any]) -> tuple[str, Any]:
    """Run one task on ``data`` (in whichever process calls it); returns ``(task.key, result)``."""
    from covwb.runtime import limit_threads

    limit_threads()
    args, kwargs = resolve(task, data)
    return task.key, task.fn(*args, **kwargs)


class ProgressTracker:
    """Turns finished tasks of one stage into an overall fraction and a sentence with a time estimate.

    Parameters
    ----------
    plan : Plan
        The stage being run.
    progress : callable or None
        Receives ``(fraction, text)``.
    """

    def __init__(self, plan: Plan, progress: Progress | None) -> None:
        self._plan, self._progress = plan, progress
        self._total = plan.total_weight or 1.0
        self._done = 0.0
        self._n_done = 0
        self._start = time.perf_counter()

    def started(self) -> None:
        """Say that the stage started, and with how many tasks."""
        n = len(self._plan.tasks)
        self._emit(f"{self._plan.name or 'running'}: {n} task{'s' if n != 1 else ''} started")

    def finished(self, task: Task) -> None:
        """Count ``task`` as done and report."""
        self._done += task.weight
        self._n_done += 1
        elapsed = time.perf_counter() - self._start
        remaining = elapsed * (self._total - self._done) / self._done if self._done else float("nan")
        eta = f", about {_duration(remaining)} left" if self._done < self._total else ""
        what = f"{self._plan.name}: " if self._plan.name else ""
        self._emit(f"{what}{task.label or task.key} done ({self._n_done}/{len(self._plan.tasks)}{eta})")

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


def _local_results(plan: Plan, n_jobs: int) -> Iterator[tuple[str, Any]]:
    """(key, result) of each task as it finishes, in this process or in joblib loky processes."""
    if n_jobs == 1 or len(plan.tasks) < 2:
        for task in plan.tasks:
            yield execute(task, plan.data)
        return
    from joblib import Parallel, delayed

    runner = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
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
        tracker = ProgressTracker(current, progress)
        tracker.started()
        by_key = {task.key: task for task in current.tasks}
        results: dict[str, Any] = {}
        for key, value in _local_results(current, int(n_jobs)):
            results[key] = value
            tracker.finished(by_key[key])
            if preview is not None and current.preview is not None:
                preview(current.preview(dict(results)))
            if should_stop is not None and should_stop():
                raise Cancelled(f"stopped after {len(results)} of {len(current.tasks)} tasks of {current.name!r}")
        current = current.combine(results)
    return current
