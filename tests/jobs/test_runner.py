"""The Dask runner on a real LocalCluster (two worker processes): results, data, progress, errors, cancel, loss."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from covwb.errors import ParameterError
from covwb.jobs import Cancelled, DaskRunner, run_plan
from tests.jobs.tasks import failing_plan, farthest_inversion, search_plan, sleepy_plan, stamp_plan

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (``tests`` is imported from it)."""


class CountingClient:
    """Forwards to a real client and counts scatter calls."""

    def __init__(self, client: Any) -> None:
        self._client, self.scattered = client, 0

    def scatter(self, data: Any, **kwargs: Any) -> Any:
        self.scattered += 1
        return self._client.scatter(data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _name(key: Any) -> str:
    """A Dask key's name: the first element of the runner's tuple keys."""
    return str(key[0]) if isinstance(key, tuple) else str(key)


def _keys_on_cluster(client: Any) -> set[str]:
    return {_name(key) for keys in client.has_what().values() for key in keys} | {
        _name(key) for keys in client.processing().values() for key in keys
    }


def _wait_released(client: Any, prefix: str, timeout: float = 10.0) -> set[str]:
    deadline = time.monotonic() + timeout
    while (left := {k for k in _keys_on_cluster(client) if k.startswith(prefix)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_two_stages_on_dask_equal_the_local_run_and_send_the_data_once(dask_client: Any) -> None:
    X = np.random.default_rng(0).normal(size=(8, 64))
    client = CountingClient(dask_client)
    seen: list[tuple[float, str]] = []
    keys_during_run: set[str] = set()

    def progress(fraction: float, text: str) -> None:
        seen.append((fraction, text))
        keys_during_run.update(_keys_on_cluster(dask_client))

    result = DaskRunner(client).run(search_plan(X, 0.05), prefix="covwb-test-stages", progress=progress)
    assert result == run_plan(search_plan(X))
    assert client.scattered == 1  # one entry, sent once for 8 + 1 tasks in two stages
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == pytest.approx(1.0)
    assert sum("done" in text for _, text in seen) == len(X) + 1
    assert any("left" in text for _, text in seen)
    assert keys_during_run and all(k.startswith("covwb-test-stages-") for k in keys_during_run)
    assert _wait_released(dask_client, "covwb-test-stages") == set()


def test_a_preview_follows_the_finished_tasks(dask_client: Any) -> None:
    X = np.random.default_rng(1).normal(size=(5, 8))
    shown: list[list[str]] = []
    plan = dataclasses.replace(search_plan(X), preview=sorted)
    result = DaskRunner(dask_client).run(plan, prefix="covwb-test-preview", preview=shown.append)
    assert result == run_plan(search_plan(X))
    assert [len(keys) for keys in shown] == [1, 2, 3, 4, 5] and shown[-1] == [str(i) for i in range(5)]


def test_a_user_error_in_a_task_fails_the_run_with_its_sentence(dask_client: Any) -> None:
    with pytest.raises(ParameterError, match="band 40-30 Hz is empty"):
        DaskRunner(dask_client).run(failing_plan("workbench", delay=0.5), prefix="covwb-test-usererror")
    assert _wait_released(dask_client, "covwb-test-usererror") == set()


def test_another_error_in_a_task_is_raised_as_it_is(dask_client: Any) -> None:
    with pytest.raises(KeyError):
        DaskRunner(dask_client).run(failing_plan("bug"), prefix="covwb-test-bug")


def test_cancel_stops_the_run_and_releases_its_tasks(dask_client: Any) -> None:
    runner = DaskRunner(dask_client)
    done: list[str] = []

    def progress(fraction: float, text: str) -> None:
        if " done (" in text:
            done.append(text)
            runner.cancel("covwb-test-cancel")

    with pytest.raises(Cancelled):
        runner.run(sleepy_plan(20, 0.3), prefix="covwb-test-cancel", progress=progress)
    assert 1 <= len(done) < 20
    assert _wait_released(dask_client, "covwb-test-cancel") == set()


def test_a_worker_that_dies_in_a_task_has_it_rerun_and_the_result_is_unchanged(dask_client: Any, tmp_path) -> None:
    X = np.random.default_rng(1).normal(size=(6, 32))
    marker = tmp_path / "died"
    result = DaskRunner(dask_client).run(search_plan(X, 0.05, exit_marker=str(marker)), prefix="covwb-test-workerdeath")
    assert marker.exists()  # a worker process did exit in the middle of the job
    assert result == run_plan(search_plan(X))
    dask_client.wait_for_workers(2, timeout=180)  # the nanny restarts it (slow on a loaded machine)


def test_data_lost_with_its_only_worker_are_sent_again(dask_client: Any) -> None:
    """Kill the worker holding the scattered data before any task ran: the runner re-scatters and resubmits."""
    X = np.random.default_rng(2).normal(size=(5, 16))
    client = CountingClient(dask_client)
    killed: list[str] = []

    def progress(fraction: float, text: str) -> None:
        if killed or "started" not in text:
            return
        holders = {
            a for key, addrs in dask_client.who_has().items() if _name(key).startswith("covwb-test-lost") for a in addrs
        }
        [address] = holders
        pid = dask_client.run(os.getpid, workers=[address])[address]
        os.kill(pid, signal.SIGKILL)
        killed.append(address)
        deadline = time.monotonic() + 20
        while address in dask_client.scheduler_info()["workers"] and time.monotonic() < deadline:
            time.sleep(0.05)

    result = DaskRunner(client).run(search_plan(X), prefix="covwb-test-lost", progress=progress)
    assert killed
    assert result == run_plan(search_plan(X))
    assert client.scattered >= 2
    dask_client.wait_for_workers(2, timeout=180)  # the nanny restarts it (slow on a loaded machine)


def test_a_task_that_keeps_killing_its_workers_ends_the_job_with_a_sentence() -> None:
    """Dask gives up on a task after allowed-failures worker deaths (KilledWorker); the job says what to do."""
    import threading

    from distributed.scheduler import KilledWorker

    from covwb.jobs.plan import Task
    from covwb.jobs.runner import JobError, _Run

    class Dead:
        def exception(self) -> BaseException:
            return KilledWorker("covwb-x-0-a-0", None, 3)

    run = _Run(None, "covwb-x", None, threading.Event(), 3)
    with pytest.raises(JobError, match="task 'fold 2' stopped its Dask worker several times.*more memory"):
        run._raise_task_error(Dead(), Task("a", sum, label="fold 2"))


def test_workers_start_tasks_in_the_plans_order_and_share_them(dask_client: Any) -> None:
    """Plans list cheap tasks first and then the heaviest: Dask must keep that order and use both workers."""
    n = 16
    # a worker restarted by an earlier test imports the task module in its first task, which then starts late
    dask_client.wait_for_workers(2, timeout=180)
    dask_client.run(lambda: __import__("tests.jobs.tasks"))
    out = DaskRunner(dask_client).run(stamp_plan(n, 0.15), prefix="covwb-test-order")
    # each worker's first task also fetches the plan's data, so it may start late: order is checked on the rest
    firsts = {pid: i for i, (pid, _) in reversed(list(enumerate(out)))}
    starts = [start for i, (_, start) in enumerate(out) if i not in firsts.values()]
    # two workers may take neighbours in either order; nothing starts further ahead of an earlier task
    assert farthest_inversion(starts) <= 2, out
    per_worker = sorted(Counter(pid for pid, _ in out).values())
    assert len(per_worker) == 2 and per_worker[0] >= n // 4, per_worker


def test_time_left_accounts_for_the_workers(dask_client: Any) -> None:
    seen: list[str] = []
    DaskRunner(dask_client).run(sleepy_plan(8, 0.3), prefix="covwb-test-eta", progress=lambda f, t: seen.append(t))
    first = next(text for text in seen if "(1/8" in text)
    # 7 tasks of 0.3 s left for 2 workers: about 1 s, not the 2 s or more of extrapolating the first task alone
    assert "about 1 s left" in first, first


def test_tasks_run_with_one_blas_thread_where_the_process_had_more() -> None:
    """execute() limits a process to one BLAS thread before its first task, and the limit holds for later tasks.

    Run in a fresh interpreter without the thread variables, whose BLAS pools are first set to two threads: the
    job layer's own clusters (and loky) already start their workers with the variables set, so only a process
    that had more threads can show a missing limit.
    """
    import subprocess
    import sys

    from covwb.runtime import _THREAD_VARIABLES

    script = (
        "from threadpoolctl import threadpool_limits; threadpool_limits(limits=2)\n"
        "from covwb.jobs import Task\n"
        "from covwb.jobs.plan import execute\n"
        "from tests.jobs.tasks import blas_threads\n"
        "print(blas_threads(0), *(execute(Task(str(i), blas_threads, (i,)), {})[1] for i in range(3)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in _THREAD_VARIABLES}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    before, *during = map(int, out.stdout.split())
    assert before == 2  # the check below can fail: the process had two threads
    assert during == [1, 1, 1]
