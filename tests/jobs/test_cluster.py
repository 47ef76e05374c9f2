"""The embedded local cluster: where it runs, what its workers are, and that it never outlives its server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest

from covwb.jobs import cluster


def test_the_local_cluster_has_single_threaded_workers_with_one_blas_thread_on_loopback(dask_client: Any) -> None:
    info = dask_client.scheduler_info()
    assert info["address"].startswith("tcp://127.0.0.1:")
    assert len(info["workers"]) == 2
    assert all(w["nthreads"] == 1 and w["host"] == "127.0.0.1" for w in info["workers"].values())
    env = dask_client.run(lambda: {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    assert all(v == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"} for v in env.values())
    # the workers are not children of this process (see covwb.jobs.cluster: spawn would re-run a page script)
    assert os.getpid() not in set(dask_client.run(os.getppid).values())
    assert cluster.describe() == "Jobs run on a local Dask cluster of 2 worker processes on this machine."


def test_the_scheduler_setting_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "_settings", {"scheduler": None, "n_workers": None})
    monkeypatch.setenv(cluster.SCHEDULER_ENV, " tcp://10.0.0.5:8786 ")
    assert cluster.scheduler_address() == "tcp://10.0.0.5:8786"
    cluster._settings["scheduler"] = "tls://scheduler:8786"
    assert cluster.scheduler_address() == "tls://scheduler:8786"
    monkeypatch.delenv(cluster.SCHEDULER_ENV)
    cluster._settings["scheduler"] = None
    assert cluster.scheduler_address() is None


def test_the_local_cluster_stops_when_its_server_process_is_killed() -> None:
    code = (
        "import os, signal\n"
        "from covwb.jobs import cluster\n"
        "cluster.configure(n_workers=1)\n"
        "cluster.get_client()\n"
        "print(cluster._helper.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop(cluster.SCHEDULER_ENV, None)
    server = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    helper = int(server.stdout.split()[0])
    deadline = time.monotonic() + 30
    while _alive(helper):
        assert time.monotonic() < deadline, "the local cluster outlived its server"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has finished
        return stat.read().split()[2] != "Z"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("print('a warning on stdout'); print('{\"address\": \"tcp://127.0.0.1:1234\"}')", "tcp://127.0.0.1:1234"),
        ("print('a warning on stdout'); raise SystemExit(3)", "exit code 3"),
    ],
)
def test_the_helper_announces_its_address_or_its_failure(script: str, expected: str) -> None:
    helper = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert cluster._announced_address(helper) == expected
    except cluster.ClusterUnavailable as error:
        assert expected in str(error) and "could not start" in str(error)
    finally:
        helper.wait(timeout=10)
