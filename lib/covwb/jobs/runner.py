"""Run a :class:`~covwb.jobs.plan.Plan` and its follow-up stages on a Dask cluster.

For each stage, :class:`DaskRunner`

1. scatters each :attr:`Plan.data` entry to the cluster once (an entry that is the same object as one
   scattered by an earlier stage of the same run is reused, not sent again);
2. submits one Dask task per :class:`~covwb.jobs.plan.Task` (``pure=False``), all of a stage in one graph,
   each receiving only the data entries its arguments refer to, with a priority that falls along the plan's
   order, so that workers start tasks in that order (tasks submitted one by one within Dask's ``fifo_timeout``
   of each other ran in any order, undoing a plan's cheap-first, heaviest-next order);
3. collects results with :class:`distributed.as_completed` (fetched concurrently), reporting progress through
   :class:`~covwb.jobs.plan.ProgressTracker` (fraction, step, time left for the cluster's worker threads)
   and, for a stage with a :attr:`Plan.preview`, what the finished tasks already show;
4. runs ``combine`` in the calling process, never on a worker.

Keys. A task's key is the tuple ``("<prefix>-<stage>-<n>", task key, attempt)`` and a data entry's
``("<prefix>-data-<n>", 0)``, so that a job's keys can be found on the scheduler by their first element and
each Dask task group (a key's first element) holds the tasks of one stage that use the same data entries.
With string keys every task of every job fell into one group (``covwb``) that also held the data; such a group
is not "root-ish" to the scheduler, which then assigned every task at submission to the worker holding the
data and left the others to steal work (on 2 workers, 16 tasks of 0.5 s took 5.2-5.7 s instead of 4 s, run
10 + 6 and in reverse order). A group of one stage and one data set, submitted whole, is root-ish once it holds
more than twice as many tasks as the cluster has threads: the scheduler queues it and hands each task to the
next free worker in priority order, fetching the data there once (the same 16 tasks: 4.2-4.4 s, 8 + 8, in
order).

Concurrent runs share the cluster fairly: task i of every run has the same priority, so runs interleave.

Failures:

* a task that raises ends the run with that exception (the remaining tasks are cancelled); a task that
  kills its worker more often than ``distributed.scheduler.allowed-failures`` allows (default 3) ends it
  with :class:`JobError`;
* a worker that dies while running tasks has them rerun elsewhere by the scheduler. Scattered data have
  no recipe to recompute them, so when the only worker holding an entry dies, the tasks that need it are
  cancelled by the scheduler ("lost dependencies"); the runner scatters the entry again from the copy it
  holds and resubmits those tasks, at most :attr:`DaskRunner.max_resubmits` times per task. Either way the
  result equals that of an uninterrupted run, since tasks are deterministic functions of their arguments.

Cancellation (:meth:`DaskRunner.cancel`, or the ``stop`` event) cancels the run's futures and makes
:meth:`DaskRunner.run` raise :class:`~covwb.jobs.plan.Cancelled`. Everything the run put on the cluster is
released when it ends.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

from covwb.errors import WorkbenchError
from covwb.jobs.plan import Cancelled, Plan, Preview, Progress, ProgressTracker, Ref, Task, execute

_LOG = logging.getLogger("covwb.jobs")


class JobError(WorkbenchError):
    """A job could not finish for a reason outside its own code: lost workers, lost data, a lost scheduler."""


class DaskRunner:
    """Runs plans on a :class:`distributed.Client`; one instance serves many runs at once.

    Parameters
    ----------
    client : distributed.Client or callable returning one, or None
        The client, or a function giving it when a run starts; None for
        :func:`covwb.jobs.cluster.get_client` (the process-wide cluster).
    max_resubmits : int
        How often a task cancelled by the loss of its input data is submitted again before the run
        fails.

    Examples
    --------
    >>> from operator import add
    >>> from distributed import Client, LocalCluster
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    >>> plan = Plan(tasks=(Task("a", add, (Ref("x"), 1)),), combine=lambda r: r["a"], data={"x": 41})
    >>> with Client(cluster) as client:
    ...     DaskRunner(client).run(plan, prefix="covwb-example")
    42
    >>> cluster.close()
    """

    def __init__(self, client: Any = None, *, max_resubmits: int = 3) -> None:
        self._client = client
        self.max_resubmits = int(max_resubmits)
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}

    def client(self) -> Any:
        """The client runs use now."""
        if self._client is None:
            from covwb.jobs.cluster import get_client

            return get_client()
        return self._client() if callable(self._client) else self._client

    def run(
        self,
        plan: Plan,
        *,
        prefix: str,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        preview: Preview | None = None,
    ) -> Any:
        """Run ``plan`` and its follow-up stages; return what the last ``combine`` returns.

        Parameters
        ----------
        plan : Plan
            The first stage.
        prefix : str
            Unique among the runs on the cluster; starts every Dask key of this run.
        progress : callable (fraction, text) or None
            Called when each stage starts and as each task finishes, from this thread.
        stop : threading.Event or None
            Set it (or call :meth:`cancel`) to stop the run.
        preview : callable or None
            Called, from this thread, with what :attr:`Plan.preview` returns as each task of a stage that has
            one finishes.

        Raises
        ------
        Cancelled
            The run was stopped.
        JobError
            Workers or data were lost beyond the retry limits.
        Exception
            Whatever a task or ``combine`` raised.
        """
        run = _Run(self.client(), prefix, progress, stop or threading.Event(), self.max_resubmits, preview)
        with self._lock:
            if prefix in self._runs:
                raise JobError(f"a run with the prefix {prefix!r} is already in progress; give each run its own.")
            self._runs[prefix] = run
        try:
            return run.all_stages(plan)
        finally:
            with self._lock:
                self._runs.pop(prefix, None)
            run.release()

    def cancel(self, prefix: str) -> None:
        """Stop the run with this prefix and cancel its futures; nothing happens if it is not running."""
        with self._lock:
            run = self._runs.get(prefix)
        if run is not None:
            run.cancel()


class _Run:
    """The state of one run: its futures, its scattered data and its stop flag."""

    def __init__(
        self,
        client: Any,
        prefix: str,
        progress: Progress | None,
        stop: threading.Event,
        max_resubmits: int,
        preview: Preview | None = None,
    ) -> None:
        self.client, self.prefix, self.progress, self.stop = client, prefix, progress, stop
        self.max_resubmits, self.preview = max_resubmits, preview
        self._lock = threading.Lock()
        self._futures: dict[Any, Task] = {}
        self._scattered: dict[int, tuple[Any, Any]] = {}  # id(value) -> (value, future), kept for the run
        self._n_scattered = 0

    def all_stages(self, plan: Plan) -> Any:
        current: Any = plan
        stage = 0
        while isinstance(current, Plan):
            self._check_stop()
            results = self._stage(current, stage)
            self._check_stop()
            current = current.combine(results)
            stage += 1
        return current

    def _stage(self, plan: Plan, stage: int) -> dict[str, Any]:
        from distributed import as_completed

        tracker = ProgressTracker(plan, self.progress, workers=self._threads())
        data = self._scatter(plan)
        tracker.started()
        attempts = dict.fromkeys((task.key for task in plan.tasks), 0)
        groups: dict[tuple[str, ...], str] = {}
        place = {}
        for index, task in enumerate(plan.tasks):
            refs = tuple(sorted({v.name for v in (*task.args, *task.kwargs.values()) if isinstance(v, Ref)}))
            group = groups.setdefault(refs, f"{self.prefix}-{stage}-{len(groups)}")
            place[task.key] = (group, -index)
        futures = self._submit_all(plan.tasks, place, data)
        # results arrive on the client's event loop, concurrently, not one round trip at a time in this thread
        pending = as_completed(futures, with_results=True, raise_errors=False, loop=self.client.loop)
        self._check_stop()
        results: dict[str, Any] = {}
        for future, outcome in pending:
            with self._lock:
                task = self._futures.pop(future, None)
            self._check_stop()
            if task is None:
                continue
            if future.status == "finished" and not isinstance(outcome, BaseException):
                key, value, seconds = outcome
                results[key] = value
                tracker.finished(task, seconds)
                if self.preview is not None and plan.preview is not None:
                    self.preview(plan.preview(dict(results)))
            elif future.status == "error":
                self._raise_task_error(future, task)
            elif self.client.status != "running":
                raise JobError(
                    "the connection to the Dask scheduler was lost during the job; check that the cluster is "
                    "running, then run the job again."
                )
            else:  # cancelled by the scheduler: its input data were lost with a worker
                attempts[task.key] += 1
                if attempts[task.key] > self.max_resubmits:
                    raise JobError(
                        f"the input data of task '{task.label or task.key}' were lost with their Dask workers "
                        f"{attempts[task.key]} times; check that the cluster's workers stay up, then run the job again."
                    )
                _LOG.warning("Job %s: task %s lost its inputs; submitting it again", self.prefix, task.key)
                data = self._scatter(plan)
                pending.add(self._submit(task, *place[task.key], attempts[task.key], data))
        return results

    def _threads(self) -> int:
        """Worker threads of the cluster now (at least 1)."""
        try:
            return max(1, sum(self.client.nthreads().values()))
        except (OSError, TimeoutError, AttributeError):
            return 1

    def _scatter(self, plan: Plan) -> dict[str, Any]:
        """A future per data entry: reused while it holds its value, scattered (again) otherwise."""
        futures = {}
        for name, value in plan.data.items():
            known = self._scattered.get(id(value))
            if known is not None and known[1].status == "finished":
                futures[name] = known[1]
                continue
            self._n_scattered += 1
            key = (f"{self.prefix}-data-{self._n_scattered}", 0)
            try:
                future = self.client.scatter({key: value}, hash=False)[key]
            except (OSError, TimeoutError) as error:
                raise JobError(
                    f"the job's data could not be sent to the Dask cluster ({type(error).__name__}); "
                    "check that its scheduler is running, then run the job again."
                ) from error
            self._scattered[id(value)] = (value, future)
            futures[name] = future
        return futures

    def _submit_all(self, tasks: tuple[Task, ...], place: dict[str, tuple[str, int]], data: dict[str, Any]) -> list:
        """Submit a stage's tasks in one graph (so that the scheduler sees each group whole from the start)."""
        import dask

        if not tasks:
            return []
        keys = [(place[task.key][0], task.key, 0) for task in tasks]
        priority = {key: place[task.key][1] for key, task in zip(keys, tasks)}
        needed = [self._needed(task, data) for task in tasks]
        with dask.annotate(priority=priority.get):
            futures = self.client.map(execute, tasks, needed, key=keys, pure=False, retries=0)
        with self._lock:
            self._futures.update(zip(futures, tasks))
        return futures

    @staticmethod
    def _needed(task: Task, data: dict[str, Any]) -> dict[str, Any]:
        return {v.name: data[v.name] for v in (*task.args, *task.kwargs.values()) if isinstance(v, Ref)}

    def _submit(self, task: Task, group: str, priority: int, attempt: int, data: dict[str, Any]) -> Any:
        future = self.client.submit(
            execute, task, self._needed(task, data), key=(group, task.key, attempt), priority=priority, pure=False
        )
        with self._lock:
            self._futures[future] = task
        return future

    def _raise_task_error(self, future: Any, task: Task) -> None:
        from distributed.scheduler import KilledWorker

        error = future.exception()
        if isinstance(error, KilledWorker):
            raise JobError(
                f"task '{task.label or task.key}' stopped its Dask worker several times (the scheduler's "
                "allowed-failures limit); it probably needs more memory than a worker has. Use lighter "
                "settings or workers with more memory."
            ) from error
        if not isinstance(error, WorkbenchError):
            where = "".join(traceback.format_tb(future.traceback()))
            _LOG.error("Job %s: task %s failed on a worker:\n%s%r", self.prefix, task.key, where, error)
        raise error

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise Cancelled(f"job {self.prefix} was cancelled")

    def cancel(self) -> None:
        self.stop.set()
        with self._lock:
            futures = list(self._futures)
        if futures:
            self.client.cancel(futures)

    def release(self) -> None:
        """Cancel whatever this run still holds on the cluster (unfinished tasks, scattered data)."""
        with self._lock:
            futures = [*self._futures, *(future for _, future in self._scattered.values())]
            self._futures.clear()
        self._scattered.clear()
        if futures and self.client.status == "running":
            try:
                self.client.cancel(futures)
            except Exception:  # the cluster is going away; nothing left to release
                _LOG.debug("Releasing the futures of job %s failed", self.prefix, exc_info=True)
