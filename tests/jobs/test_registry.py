"""Jobs in the background: life cycle, results, errors, cancellation, sharing, privacy and retention."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import numpy as np
import pytest

from covwb.errors import ParameterError
from covwb.jobs import JobNotDone, JobNotFound, JobRegistry, Plan, run_plan
from covwb.jobs.plan import Cancelled
from tests.jobs.tasks import GATE, failing_plan, gated_preview_plan, search_plan, sleepy_plan


class InProcess:
    """Runs plans in the job's thread (run_plan); enough to test the registry without a cluster."""

    def __init__(self) -> None:
        self.cancelled: list[str] = []

    def run(self, plan: Plan, *, prefix: str, progress: Any, stop: threading.Event, preview: Any = None) -> Any:
        return run_plan(plan, progress=progress, should_stop=stop.is_set, preview=preview)

    def cancel(self, prefix: str) -> None:
        self.cancelled.append(prefix)


class Gate(InProcess):
    """Holds every run until ``release`` is set, so that tests see jobs queued and running."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def run(self, plan: Plan, *, prefix: str, progress: Any, stop: threading.Event, preview: Any = None) -> Any:
        progress(0.25, "waiting at the gate")
        while not self.release.wait(0.01):
            if stop.is_set():
                raise Cancelled("stopped at the gate")
        return super().run(plan, prefix=prefix, progress=progress, stop=stop, preview=preview)


def _wait_status(jobs: JobRegistry, job_id: str, status: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while jobs.info(job_id).status != status:
        assert time.monotonic() < deadline, jobs.info(job_id)
        time.sleep(0.01)


def test_submit_returns_at_once_and_the_job_runs_on_the_dask_cluster(dask_client: Any) -> None:
    jobs = JobRegistry()
    X = np.random.default_rng(3).normal(size=(6, 20))
    start = time.perf_counter()
    job_id = jobs.submit(lambda: search_plan(X, 0.5), owner="alice", name="search")  # 2 s of work
    assert time.perf_counter() - start < 0.5
    assert jobs.info(job_id).status in ("queued", "running")
    with pytest.raises(JobNotDone, match="has no result"):
        jobs.result(job_id)
    info = jobs.wait(job_id, timeout=60)
    assert (info.status, info.fraction, info.error) == ("done", 1.0, "")
    assert info.started is not None and info.finished is not None and info.created <= info.started <= info.finished
    assert jobs.result(job_id) == run_plan(search_plan(X))


def test_progress_is_visible_while_the_job_runs() -> None:
    runner = Gate()
    jobs = JobRegistry(runner)
    job_id = jobs.submit(sleepy_plan(3, 0.0), owner="alice")
    _wait_status(jobs, job_id, "running")
    deadline = time.monotonic() + 5
    while jobs.info(job_id).step != "waiting at the gate":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert jobs.info(job_id).fraction == 0.25
    runner.release.set()
    assert jobs.wait(job_id, timeout=10).status == "done"
    assert jobs.result(job_id) == sum(range(9))


def test_a_running_job_shows_the_preview_of_its_finished_tasks_and_drops_it_at_the_end() -> None:
    jobs = JobRegistry(InProcess())
    GATE.clear()
    job_id = jobs.submit(gated_preview_plan(), owner="alice")
    deadline = time.monotonic() + 10
    while jobs.preview(job_id) is None:
        assert time.monotonic() < deadline, jobs.info(job_id)
        time.sleep(0.01)
    assert jobs.preview(job_id) == ["a"] and jobs.info(job_id).status == "running"
    GATE.set()
    assert jobs.wait(job_id, timeout=10).status == "done"
    assert jobs.result(job_id) == 3.0 and jobs.preview(job_id) is None
    assert jobs.preview(jobs.submit(sleepy_plan(2, 0.0), owner="alice")) is None  # no preview in the plan
    with pytest.raises(JobNotFound):
        jobs.preview("no-such-job")


def test_job_ids_are_long_random_and_not_the_dask_keys() -> None:
    jobs = JobRegistry(InProcess())
    ids = {jobs.submit(sleepy_plan(1, 0.0), owner="alice") for _ in range(3)}
    assert len(ids) == 3 and all(len(i) >= 32 for i in ids)
    for job_id in ids:
        job = jobs._jobs[job_id]
        assert job_id not in job.tag and job.tag.startswith("covwb-")


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("workbench", "^the band 40-30 Hz is empty; choose a low edge below the high edge.$"),
        ("bug", r"^Unexpected error \(KeyError\) in this job; .*server log"),
    ],
)
def test_a_failing_task_fails_the_job_with_a_sentence(kind: str, message: str, dask_client: Any) -> None:
    jobs = JobRegistry()
    job_id = jobs.submit(failing_plan(kind), owner="alice")
    info = jobs.wait(job_id, timeout=60)
    assert info.status == "failed"
    assert info.fraction < 1.0
    assert re.search(message, info.error), info.error
    with pytest.raises(JobNotDone, match=re.escape(info.error[:30])):
        jobs.result(job_id)


def test_an_error_while_building_the_plan_fails_the_job() -> None:
    def build() -> Plan:
        raise ParameterError("the window 3-2 s is empty; make the end later than the start.")

    jobs = JobRegistry(InProcess())
    info = jobs.wait(jobs.submit(build, owner="alice"), timeout=10)
    assert (info.status, info.error) == ("failed", "the window 3-2 s is empty; make the end later than the start.")


def test_cancel_on_dask_ends_a_running_job(dask_client: Any) -> None:
    jobs = JobRegistry()
    job_id = jobs.submit(sleepy_plan(40, 0.5), owner="alice")  # 10 s of work on two workers
    _wait_status(jobs, job_id, "running")
    time.sleep(0.3)
    start = time.perf_counter()
    jobs.cancel(job_id, owner="alice")
    info = jobs.wait(job_id, timeout=10)
    assert info.status == "cancelled" and time.perf_counter() - start < 5.0
    with pytest.raises(JobNotDone, match="cancelled"):
        jobs.result(job_id)


def test_a_queued_job_waits_for_a_slot_and_can_be_cancelled_before_it_starts() -> None:
    runner = Gate()
    jobs = JobRegistry(runner, max_running=1)
    first = jobs.submit(sleepy_plan(1, 0.0), owner="alice")
    second = jobs.submit(sleepy_plan(2, 0.0), owner="bob")
    third = jobs.submit(sleepy_plan(3, 0.0), owner="bob")
    _wait_status(jobs, first, "running")
    assert jobs.info(second).status == jobs.info(third).status == "queued"
    assert jobs.cancel(third, owner="bob").status == "cancelled"
    runner.release.set()
    assert jobs.wait(first, timeout=10).status == jobs.wait(second, timeout=10).status == "done"
    assert jobs.info(third).status == "cancelled" and jobs.info(third).started is None


def test_public_jobs_are_shared_by_key_and_cancelled_only_when_nobody_wants_them() -> None:
    runner = Gate()
    jobs = JobRegistry(runner)
    a = jobs.submit(sleepy_plan(2, 0.0), owner="alice", public=True, key=("builtin", 2))
    b = jobs.submit(sleepy_plan(2, 0.0), owner="bob", public=True, key=("builtin", 2))
    assert a == b
    assert jobs.cancel(a, owner="alice").status in ("queued", "running")  # bob still wants it
    assert [i.id for i in jobs.jobs("alice")] == [] and [i.id for i in jobs.jobs("bob")] == [a]
    assert jobs.cancel(a, owner="bob").status in ("cancelled", "running")
    assert jobs.wait(a, timeout=10).status == "cancelled"
    again = jobs.submit(sleepy_plan(2, 0.0), owner="alice", public=True, key=("builtin", 2))
    assert again != a  # a cancelled job is not reused
    runner.release.set()
    assert jobs.wait(again, timeout=10).status == "done"
    assert jobs.submit(sleepy_plan(2, 0.0), owner="carol", public=True, key=("builtin", 2)) == again


def test_private_jobs_are_never_shared_listed_or_found_by_other_owners() -> None:
    jobs = JobRegistry(InProcess())
    mine = jobs.submit(sleepy_plan(2, 0.0), owner="alice", key=("upload", "digest"))
    assert jobs.submit(sleepy_plan(2, 0.0), owner="alice", key=("upload", "digest")) == mine
    theirs = jobs.submit(sleepy_plan(2, 0.0), owner="mallory", key=("upload", "digest"))
    assert theirs != mine
    public = jobs.submit(sleepy_plan(2, 0.0), owner="mallory", public=True, key=("upload", "digest"))
    assert public not in (mine, theirs)
    assert {i.id for i in jobs.jobs("mallory")} == {theirs, public}
    assert mine not in repr(jobs.jobs("mallory"))
    for guess in (mine[:-1], mine.upper(), "", "../" + mine):
        with pytest.raises(JobNotFound, match="not on the server"):
            jobs.info(guess)


def test_a_reloaded_session_finds_its_private_job_by_id_and_may_attach_to_it() -> None:
    jobs = JobRegistry(InProcess())
    job_id = jobs.submit(sleepy_plan(2, 0.0), owner="tab-before-reload")
    assert jobs.attach(job_id, owner="tab-after-reload").id == job_id
    assert [i.id for i in jobs.jobs("tab-after-reload")] == [job_id]
    assert jobs.wait(job_id, timeout=10).status == "done"
    assert jobs.result(job_id) == sum(range(6))


def test_finished_jobs_expire_after_the_ttl_and_beyond_the_count() -> None:
    jobs = JobRegistry(InProcess(), keep_finished=2)
    ids = []
    for _ in range(3):  # one after the other, so that they also finish in this order
        ids.append(jobs.submit(sleepy_plan(1, 0.0), owner="alice"))
        jobs.wait(ids[-1], timeout=10)
    jobs.jobs("alice")
    with pytest.raises(JobNotFound):
        jobs.info(ids[0])
    assert jobs.info(ids[2]).status == "done"
    jobs.ttl_s = 0.0
    time.sleep(0.01)
    assert jobs.jobs("alice") == []


def test_one_owner_may_not_flood_the_server() -> None:
    runner = Gate()
    jobs = JobRegistry(runner, max_active_per_owner=2)
    for n in range(2):
        jobs.submit(sleepy_plan(n + 1, 0.0), owner="alice")
    with pytest.raises(ParameterError, match="already have 2 jobs"):
        jobs.submit(sleepy_plan(5, 0.0), owner="alice")
    jobs.submit(sleepy_plan(5, 0.0), owner="bob")
    runner.release.set()
