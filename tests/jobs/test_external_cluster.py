"""Jobs on an existing cluster: a `dask scheduler` and two `dask worker` processes started here, on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from covwb.jobs import JobRegistry, cluster, run_plan
from covwb.jobs.runner import DaskRunner
from tests.jobs.tasks import search_plan

REPO = Path(__file__).resolve().parents[2]


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def external_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A scheduler and two single-threaded workers without nannies (a killed worker stays dead); for this module."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "lib"), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    file = tmp_path_factory.mktemp("dask") / "scheduler.json"
    processes = [
        _start(
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
            env,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not file.exists():
            assert time.monotonic() < deadline and processes[0].poll() is None, "the scheduler did not start"
            time.sleep(0.05)
        time.sleep(0.1)  # the file is written at once; let it be complete
        address = json.loads(file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            processes.append(
                _start(
                    [
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                    ],
                    env,
                )
            )
        yield address, processes[1:]
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.fixture
def own_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let covwb.jobs.cluster make a new process-wide client here; the session's local one is restored after."""
    monkeypatch.setattr(cluster, "_client", None)
    monkeypatch.setattr(cluster, "_helper", None)
    monkeypatch.setattr(cluster, "_settings", {"scheduler": None, "n_workers": None})
    yield
    client = cluster._client
    if client is not None:
        client.close()


def test_a_registry_job_runs_on_the_configured_scheduler(
    external_cluster: tuple[str, list[subprocess.Popen]], own_client: None
) -> None:
    address, _ = external_cluster
    cluster.configure(scheduler=address)
    cluster.get_client().wait_for_workers(2, timeout=60)
    jobs = JobRegistry()
    X = np.random.default_rng(5).normal(size=(4, 8))
    job_id = jobs.submit(search_plan(X), owner="cli")
    assert jobs.wait(job_id, timeout=60).status == "done"
    assert jobs.result(job_id) == run_plan(search_plan(X))


def test_jobs_go_to_the_scheduler_named_by_the_environment_and_survive_a_killed_worker(
    external_cluster: tuple[str, list[subprocess.Popen]], own_client: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, workers = external_cluster  # runs last: it kills one of the two workers
    monkeypatch.setenv(cluster.SCHEDULER_ENV, address)
    assert cluster.describe() == f"Jobs run on the Dask cluster whose scheduler is at {address}."
    client = cluster.get_client()
    assert client.scheduler.address == address
    client.wait_for_workers(2, timeout=60)
    pids = client.run(os.getpid)
    X = np.random.default_rng(4).normal(size=(10, 40))
    killed: list[int] = []

    def progress(fraction: float, text: str) -> None:
        if killed or "(1/" not in text:
            return
        busy = [address for address, keys in client.processing().items() if keys] or list(pids)
        pid = pids[busy[0]]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    result = DaskRunner().run(search_plan(X, 0.25), prefix="covwb-test-external", progress=progress)
    assert killed and sum(w.poll() is not None for w in workers) == 1  # one worker died mid-job
    assert result == run_plan(search_plan(X))


def test_an_unreachable_scheduler_is_a_sentence(own_client: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    cluster.configure(scheduler="tcp://127.0.0.1:9")
    with pytest.raises(cluster.ClusterUnavailable, match=r"tcp://127.0.0.1:9 \(configured\) did not answer"):
        cluster.get_client()
