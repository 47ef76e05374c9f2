"""Jobs: plans submitted to run in the background, with status, progress, result and cancellation.

:func:`submit` returns a job id at once; a background thread of this process drives the job (its plan
runs on the Dask cluster of :mod:`covwb.jobs.cluster`, its ``combine`` steps in that thread) while the
caller polls :func:`info` (and :func:`preview`, what the finished tasks of a plan with a
:attr:`~covwb.jobs.plan.Plan.preview` already show) and finally fetches :func:`result`. A job is ``queued`` until one of the
registry's driver slots is free, then ``running``, and ends ``done``, ``failed`` (with a sentence saying
why) or ``cancelled``. Finished jobs are kept for :attr:`JobRegistry.ttl_s` seconds, and at most
:attr:`JobRegistry.keep_finished` of them (the oldest go first); running jobs are never dropped.

Privacy model
-------------
* A job id is 192 random bits (:func:`secrets.token_urlsafe`): a capability. Whoever holds it may
  read the job's status and result and cancel it; that is how a reloaded browser page (a new session)
  finds its job again from the id in its URL. Ids are never listed to anyone but the job's owners,
  never used as Dask keys (tasks carry a separate tag derived from the id by SHA-256, which cannot be
  turned back into it) and never written to logs.
* ``owner`` is an opaque name for who submitted the job (a browser session, a command-line run).
  :func:`jobs` lists only the caller's own jobs.
* Private jobs (anything derived from uploaded data) are deduplicated only within their owner: the same
  ``key`` submitted again by the same owner while the job is queued, running or done returns the same
  id; another owner submitting the same key gets a job of their own.
* Public jobs (derived from built-in data and settings only, ``public=True``) are shared: the same
  ``key`` from any owner returns the same job, so built-in results are computed once. Each owner who
  submitted it may cancel their interest; the job is cancelled when no owner is left.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

from covwb.errors import ParameterError, WorkbenchError
from covwb.jobs.plan import Cancelled, Plan

Status = Literal["queued", "running", "done", "failed", "cancelled"]
"""Life cycle of a job: queued -> running -> done | failed | cancelled (a queued job may be cancelled)."""

ACTIVE: frozenset[str] = frozenset({"queued", "running"})
"""Statuses of jobs that have not finished."""

UNEXPECTED_ERROR_PREFIX = "Unexpected error"
"""How the message of a failure that is not a :class:`~covwb.errors.WorkbenchError` starts (a bug)."""

_LOG = logging.getLogger("covwb.jobs")


class JobNotFound(WorkbenchError):
    """No job has this id on this server (never submitted, expired, or the server restarted)."""


class JobNotDone(WorkbenchError):
    """The job has no result: it is still running, or it failed or was cancelled."""


@dataclass(frozen=True)
class JobInfo:
    """A snapshot of one job.

    Parameters
    ----------
    id : str
        The job id (a capability: see the module notes).
    name : str
        What the job computes, for display.
    status : {"queued", "running", "done", "failed", "cancelled"}
        Where the job is in its life cycle.
    fraction : float
        Progress in [0, 1].
    step : str
        What runs now, with an estimate of the time left (from :class:`~covwb.jobs.plan.ProgressTracker`).
    error : str
        For a failed job, a sentence saying why; else empty.
    created, started, finished : float or None
        Unix times in seconds of submission, start of running and end.
    public : bool
        Whether the job derives from built-in data only and may be shared between owners.
    key : hashable or None
        The deduplication key it was submitted with.
    """

    id: str
    name: str
    status: Status
    fraction: float
    step: str
    error: str
    created: float
    started: float | None
    finished: float | None
    public: bool
    key: Hashable | None

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    def elapsed_s(self, now: float | None = None) -> float:
        """Seconds since the job started running (up to its end); 0 while queued."""
        if self.started is None:
            return 0.0
        end = self.finished if self.finished is not None else (time.time() if now is None else now)
        return max(0.0, end - self.started)


@dataclass(eq=False)
class _Job:
    id: str
    name: str
    plan: Plan | Callable[[], Plan]
    public: bool
    key: Hashable | None
    owners: set[str]
    created: float
    status: Status = "queued"
    fraction: float = 0.0
    step: str = "waiting for a free slot"
    error: str = ""
    started: float | None = None
    finished: float | None = None
    result: Any = None
    preview: Any = None
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def tag(self) -> str:
        """The prefix of the job's Dask keys: derived from the id, but not revealing it."""
        return "covwb-" + hashlib.sha256(self.id.encode()).hexdigest()[:16]

    def snapshot(self) -> JobInfo:
        return JobInfo(
            id=self.id,
            name=self.name,
            status=self.status,
            fraction=self.fraction,
            step=self.step,
            error=self.error,
            created=self.created,
            started=self.started,
            finished=self.finished,
            public=self.public,
            key=self.key,
        )


class JobRegistry:
    """The jobs of one process: submits them, drives them in background threads, keeps their results.

    Parameters
    ----------
    runner : object with ``run(plan, *, prefix, progress, stop, preview)`` and ``cancel(prefix)``, or None
        Executes plans (``preview`` as in :meth:`~covwb.jobs.runner.DaskRunner.run`); None for a
        :class:`~covwb.jobs.runner.DaskRunner` on the process-wide cluster.
    max_running : int
        Jobs driven at the same time; later ones wait as ``queued``.
    max_active_per_owner : int
        Queued or running jobs one owner may have; more are refused with a sentence.
    keep_finished : int
        Finished jobs kept (the oldest are dropped first).
    ttl_s : float
        Seconds a finished job is kept.

    Examples
    --------
    >>> from operator import add
    >>> from covwb.jobs.plan import Task
    >>> class InProcess:  # any object with run() and cancel(); the default runs on Dask
    ...     def run(self, plan, *, prefix, progress, stop, preview=None):
    ...         from covwb.jobs.plan import run_plan
    ...         return run_plan(plan, progress=progress, should_stop=stop.is_set, preview=preview)
    ...     def cancel(self, prefix):
    ...         pass
    >>> jobs = JobRegistry(InProcess())
    >>> job_id = jobs.submit(Plan((Task("a", add, (1, 2)),), combine=dict), owner="me")
    >>> jobs.wait(job_id).status
    'done'
    >>> jobs.result(job_id)
    {'a': 3}
    """

    def __init__(
        self,
        runner: Any = None,
        *,
        max_running: int = 4,
        max_active_per_owner: int = 4,
        keep_finished: int = 64,
        ttl_s: float = 6 * 3600.0,
    ) -> None:
        if runner is None:
            from covwb.jobs.runner import DaskRunner

            runner = DaskRunner()
        self.runner = runner
        self.max_active_per_owner = int(max_active_per_owner)
        self.keep_finished = int(keep_finished)
        self.ttl_s = float(ttl_s)
        self._slots = threading.BoundedSemaphore(int(max_running))
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._by_key: dict[tuple[Any, ...], str] = {}

    # -- submitting -------------------------------------------------------------------------------------------

    def submit(
        self,
        plan: Plan | Callable[[], Plan],
        *,
        owner: str,
        public: bool = False,
        key: Hashable | None = None,
        name: str = "",
    ) -> str:
        """Start a job in the background and return its id at once.

        Parameters
        ----------
        plan : Plan or callable returning a Plan
            The work. A callable is called in the job's thread, so a slow set-up (reading, epoching)
            does not hold the caller; the errors it raises fail the job like any other.
        owner : str
            Who submits (an opaque, non-empty name, e.g. a browser session's random token).
        public : bool
            True only when the result derives from built-in data and settings alone (shared, see the
            module notes); False for anything derived from an upload.
        key : hashable or None
            Complete description of the inputs and settings; a job already queued, running or done
            under the same key (the owner's own, or a public one) is returned instead of a new one.
        name : str
            What the job computes, for display.

        Returns
        -------
        str
            The job id.

        Raises
        ------
        ParameterError
            The owner already has :attr:`max_active_per_owner` active jobs, or ``owner`` is empty.
        """
        if not owner:
            raise ParameterError("a job needs an owner; give the session or user that submits it.")
        dedup = None if key is None else (("public",) if public else ("private", owner)) + (key,)
        with self._lock:
            self._forget_expired()
            if dedup is not None and dedup in self._by_key:
                job = self._jobs.get(self._by_key[dedup])
                if job is not None and job.status in ("queued", "running", "done"):
                    job.owners.add(owner)
                    return job.id
            active = sum(1 for j in self._jobs.values() if owner in j.owners and j.status in ACTIVE)
            if active >= self.max_active_per_owner:
                raise ParameterError(
                    f"you already have {active} jobs queued or running, the most one session may have; "
                    "wait for one to finish or cancel one."
                )
            job = _Job(
                id=secrets.token_urlsafe(24),
                name=name,
                plan=plan,
                public=bool(public),
                key=key,
                owners={owner},
                created=time.time(),
            )
            self._jobs[job.id] = job
            if dedup is not None:
                self._by_key[dedup] = job.id
        threading.Thread(target=self._drive, args=(job,), name=f"covwb-job-{job.tag}", daemon=True).start()
        return job.id

    # -- reading ----------------------------------------------------------------------------------------------

    def info(self, job_id: str) -> JobInfo:
        """The job's current status and progress.

        Raises
        ------
        JobNotFound
            No job has this id here (anymore).
        """
        with self._lock:
            return self._get(job_id).snapshot()

    def result(self, job_id: str) -> Any:
        """What the job computed (the value its last ``combine`` returned); treat it as read-only.

        Raises
        ------
        JobNotFound
            No job has this id here (anymore).
        JobNotDone
            The job is queued, running, failed (the message says why) or cancelled.
        """
        with self._lock:
            job = self._get(job_id)
            if job.status == "done":
                return job.result
            if job.status == "failed":
                raise JobNotDone(job.error)
            raise JobNotDone(f"the job '{job.name or 'job'}' is {job.status}; it has no result.")

    def preview(self, job_id: str) -> Any:
        """What the finished tasks of the running job already show (see :attr:`~covwb.jobs.plan.Plan.preview`).

        Returns
        -------
        object or None
            The latest value of the running stage's ``preview``; None before its first task finished, for a
            plan without a preview, and once the job has ended (its result, if any, holds everything).

        Raises
        ------
        JobNotFound
            No job has this id here (anymore).
        """
        with self._lock:
            return self._get(job_id).preview

    def jobs(self, owner: str) -> list[JobInfo]:
        """The jobs ``owner`` submitted or attached to, newest first; nobody else's."""
        with self._lock:
            self._forget_expired()
            mine = [job.snapshot() for job in self._jobs.values() if owner in job.owners]
        return sorted(mine, key=lambda info: info.created, reverse=True)

    def attach(self, job_id: str, *, owner: str) -> JobInfo:
        """Make ``owner`` (e.g. the new session of a reloaded page) an owner of the job it holds the id of.

        Raises
        ------
        JobNotFound
            No job has this id here (anymore).
        """
        with self._lock:
            job = self._get(job_id)
            job.owners.add(owner)
            return job.snapshot()

    def wait(self, job_id: str, timeout: float | None = None, poll_s: float = 0.05) -> JobInfo:
        """Block until the job has finished or ``timeout`` seconds have passed; return its status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.info(job_id)
            if not info.active or (deadline is not None and time.monotonic() >= deadline):
                return info
            time.sleep(poll_s)

    # -- cancelling -------------------------------------------------------------------------------------------

    def cancel(self, job_id: str, *, owner: str) -> JobInfo:
        """Cancel the job for ``owner``: a private job ends; a public one ends when no other owner is left.

        Cancelling a finished job changes nothing. Returns the job's status after the request (a running
        job turns ``cancelled`` as soon as its driver notices, within moments).

        Raises
        ------
        JobNotFound
            No job has this id here (anymore).
        """
        with self._lock:
            job = self._get(job_id)
            if job.status not in ACTIVE:
                return job.snapshot()
            if job.public and job.owners - {owner}:
                job.owners.discard(owner)
                return job.snapshot()
            job.stop.set()
            if job.status == "queued":
                self._end(job, "cancelled", step="cancelled before it started")
                return job.snapshot()
        self.runner.cancel(job.tag)
        return self.info(job_id)

    def shutdown(self) -> None:
        """Cancel every active job (at server exit)."""
        with self._lock:
            active = [job for job in self._jobs.values() if job.status in ACTIVE]
            for job in active:
                job.stop.set()
        for job in active:
            self.runner.cancel(job.tag)

    # -- internals --------------------------------------------------------------------------------------------

    def _get(self, job_id: str) -> _Job:
        job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise JobNotFound(
                "this job is not on the server: it finished more than "
                f"{self.ttl_s / 3600:g} h ago, the server restarted, or the link is incomplete; run it again."
            )
        return job

    def _drive(self, job: _Job) -> None:
        """The job's driver thread: wait for a slot, run the plan, record the outcome."""
        with self._slots:
            with self._lock:
                if job.stop.is_set():
                    return
                job.status, job.started, job.step = "running", time.time(), "starting"
            try:
                plan = job.plan() if not isinstance(job.plan, Plan) else job.plan
                value = self.runner.run(
                    plan,
                    prefix=job.tag,
                    progress=lambda f, t: self._progress(job, f, t),
                    stop=job.stop,
                    preview=lambda shown: self._preview(job, shown),
                )
            except Cancelled:
                with self._lock:
                    self._end(job, "cancelled", step="cancelled")
            except WorkbenchError as error:
                with self._lock:
                    self._end(job, "failed", step="failed", error=str(error))
            except Exception as error:
                _LOG.exception("Job %s (%s) failed", job.tag, job.name)
                message = (
                    f"{UNEXPECTED_ERROR_PREFIX} ({type(error).__name__}) in this job; nothing of it was kept and "
                    "the details are in the server log. Change the input or the settings and try again."
                )
                with self._lock:
                    self._end(job, "failed", step="failed", error=message)
            else:
                with self._lock:
                    job.result = value
                    self._end(job, "done", step="done", fraction=1.0)
            finally:
                job.plan = _released

    def _progress(self, job: _Job, fraction: float, text: str) -> None:
        with self._lock:
            if job.status == "running":
                job.fraction, job.step = min(max(float(fraction), 0.0), 1.0), text

    def _preview(self, job: _Job, shown: Any) -> None:
        with self._lock:
            if job.status == "running":
                job.preview = shown

    def _end(self, job: _Job, status: Status, *, step: str, error: str = "", fraction: float | None = None) -> None:
        """Record the end of a job (call with the lock held)."""
        job.status, job.step, job.error, job.finished = status, step, error, time.time()
        job.preview = None
        if fraction is not None:
            job.fraction = fraction

    def _forget_expired(self) -> None:
        """Drop finished jobs older than the TTL, then the oldest beyond the count (call with the lock held)."""
        now = time.time()
        finished = sorted(
            (job for job in self._jobs.values() if job.status not in ACTIVE), key=lambda job: job.finished or 0.0
        )
        expired = [job for job in finished if now - (job.finished or now) > self.ttl_s]
        expired += [job for job in finished if job not in expired][: max(0, len(finished) - self.keep_finished)]
        for job in expired:
            del self._jobs[job.id]
        if expired:
            self._by_key = {k: v for k, v in self._by_key.items() if v in self._jobs}


def _released() -> Plan:
    """Stands in for a plan once its job has ended, so the plan's data can be freed."""
    raise JobNotDone("this job has already run.")


_DEFAULT: JobRegistry | None = None
_DEFAULT_LOCK = threading.Lock()


def default_registry() -> JobRegistry:
    """The process-wide registry (created on first use), running jobs on :func:`covwb.jobs.cluster.get_client`."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = JobRegistry()
            atexit.register(_DEFAULT.shutdown)
        return _DEFAULT


def submit(
    plan: Plan | Callable[[], Plan],
    *,
    owner: str,
    public: bool = False,
    key: Hashable | None = None,
    name: str = "",
) -> str:
    """Submit ``plan`` to the process-wide registry; see :meth:`JobRegistry.submit`."""
    return default_registry().submit(plan, owner=owner, public=public, key=key, name=name)


def info(job_id: str) -> JobInfo:
    """Status of a job of the process-wide registry; see :meth:`JobRegistry.info`."""
    return default_registry().info(job_id)


def result(job_id: str) -> Any:
    """Result of a job of the process-wide registry; see :meth:`JobRegistry.result`."""
    return default_registry().result(job_id)


def cancel(job_id: str, *, owner: str) -> JobInfo:
    """Cancel a job of the process-wide registry; see :meth:`JobRegistry.cancel`."""
    return default_registry().cancel(job_id, owner=owner)


def preview(job_id: str) -> Any:
    """What the finished tasks of a running job of the process-wide registry show; see :meth:`JobRegistry.preview`."""
    return default_registry().preview(job_id)


def jobs(owner: str) -> list[JobInfo]:
    """The owner's jobs in the process-wide registry; see :meth:`JobRegistry.jobs`."""
    return default_registry().jobs(owner)


def attach(job_id: str, *, owner: str) -> JobInfo:
    """Attach an owner to a job of the process-wide registry; see :meth:`JobRegistry.attach`."""
    return default_registry().attach(job_id, owner=owner)
