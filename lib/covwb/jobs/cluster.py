"""The Dask cluster that jobs run on: an embedded local cluster, or an existing one by its address.

One :class:`distributed.Client` per process, created on first use by :func:`get_client`:

* **local default**: a :class:`distributed.LocalCluster` of worker processes, as many as the CPU cores
  this process may use (``dask.system.CPU_COUNT``, which respects CPU affinity and container quotas), one
  thread each and one BLAS/OpenMP thread each (the thread variables of :mod:`covwb.runtime` are set in
  the workers' environment before they start, and every task caps its thread pools again). The
  scheduler and workers listen on 127.0.0.1 only, without dashboards, and log errors only. Each worker
  runs under a nanny that restarts it if it dies. Workers inherit this process's environment and
  ``sys.path``, so they import the same ``covwb``.

  Deliberate deviation: the local cluster lives in a helper process (``python -m covwb.jobs._local_cluster``)
  rather than in this one. Its nannies start workers with multiprocessing's "spawn", which re-executes
  the file of ``sys.modules["__main__"]`` in every new worker; inside Streamlit that module is the page
  script that ran last, so every worker start (and restart after a crash) would run a page. The helper's
  main module is a small private one, whose import does nothing. The helper exits when its standard input closes,
  i.e. when this process closes the client or dies, so no cluster outlives the server.
* **existing cluster**: when :func:`configure` was given a scheduler address, or else the environment
  variable ``COVWB_DASK_SCHEDULER`` holds one (``tcp://host:8786``), the client connects to that
  scheduler instead. Its workers must have the same ``covwb`` installed (``pip install`` of the same
  version), since tasks refer to covwb's functions by name.

A Dask scheduler runs whatever code its clients send: bind it to loopback or a private network, or use
TLS (``tls://`` addresses and a :class:`distributed.security.Security`), see the README's "Jobs and
clusters". The client is closed, and a local cluster shut down, at interpreter exit or by
:func:`close_client`.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from typing import Any

from covwb.errors import WorkbenchError

SCHEDULER_ENV = "COVWB_DASK_SCHEDULER"
"""Environment variable holding the address of an existing Dask scheduler (``tcp://host:8786``)."""

CONNECT_TIMEOUT_S = 20.0
"""How long :func:`get_client` tries to reach a configured scheduler before giving up."""

START_TIMEOUT_S = 120.0
"""How long the local cluster may take to start."""

_LOG = logging.getLogger("covwb.jobs")
_LOCK = threading.RLock()
_settings: dict[str, Any] = {"scheduler": None, "n_workers": None}
_client: Any = None
_helper: Any = None


class ClusterUnavailable(WorkbenchError):
    """The configured Dask scheduler cannot be reached, or the local cluster cannot start."""


def configure(*, scheduler: str | None = None, n_workers: int | None = None) -> None:
    """Choose the cluster that the next :func:`get_client` connects to (closing the current client).

    Parameters
    ----------
    scheduler : str or None
        Address of an existing Dask scheduler (``tcp://10.0.0.5:8786``, ``tls://…``); takes precedence
        over ``COVWB_DASK_SCHEDULER``. None: the environment variable, else the embedded local cluster.
    n_workers : int or None
        Worker processes of the local cluster; None for one per CPU core. Ignored for a scheduler address.

    Examples
    --------
    >>> configure()  # the default: $COVWB_DASK_SCHEDULER if set, else a local cluster, one worker per core
    >>> describe()  # doctest: +ELLIPSIS
    'Jobs run on ...'
    """
    if n_workers is not None and (int(n_workers) != n_workers or n_workers < 1):
        raise WorkbenchError(f"the number of workers is {n_workers}; use a whole number of at least 1.")
    with _LOCK:
        close_client()
        _settings["scheduler"] = scheduler.strip() if scheduler else None
        _settings["n_workers"] = None if n_workers is None else int(n_workers)


def scheduler_address() -> str | None:
    """The scheduler jobs go to: the configured address, else ``$COVWB_DASK_SCHEDULER``, else None (local)."""
    return _settings["scheduler"] or os.environ.get(SCHEDULER_ENV, "").strip() or None


def local_worker_count() -> int:
    """Worker processes of the embedded local cluster: the configured count, else one per usable core."""
    from dask.system import CPU_COUNT

    return _settings["n_workers"] or max(1, int(CPU_COUNT))


def describe() -> str:
    """One sentence saying where jobs run, for pages and the command line."""
    address = scheduler_address()
    if address:
        return f"Jobs run on the Dask cluster whose scheduler is at {address}."
    n = local_worker_count()
    return f"Jobs run on a local Dask cluster of {n} worker process{'es' if n != 1 else ''} on this machine."


def get_client() -> Any:
    """The process-wide :class:`distributed.Client`, connecting or starting the cluster on first use.

    A client whose scheduler went away is replaced by a new one on the next call.

    Returns
    -------
    distributed.Client

    Raises
    ------
    ClusterUnavailable
        The configured scheduler does not answer within :data:`CONNECT_TIMEOUT_S` seconds, or the
        local cluster cannot start.
    """
    global _client, _helper
    with _LOCK:
        if _client is not None and _client.status == "running":
            return _client
        close_client()
        address = scheduler_address()
        _client, _helper = _connect(address) if address else _start_local()
        return _client


def _connect(address: str) -> tuple[Any, None]:
    """A client of the scheduler at ``address``."""
    from distributed import Client

    source = "configured" if _settings["scheduler"] else f"from {SCHEDULER_ENV}"
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterUnavailable(
            f"the Dask scheduler at {address} ({source}) did not answer within {CONNECT_TIMEOUT_S:g} s "
            f"({type(error).__name__}); start it with `dask scheduler`, check the address, or unset "
            f"{SCHEDULER_ENV} to use a local cluster."
        ) from error
    _LOG.info("Connected to the Dask scheduler at %s", address)
    return client, None


def _start_local() -> tuple[Any, subprocess.Popen]:
    """A local cluster in a helper process (see the module notes) and a client of it."""
    from distributed import Client

    from covwb.runtime import _THREAD_VARIABLES

    n_workers = local_worker_count()
    env = {
        **os.environ,
        **dict.fromkeys(_THREAD_VARIABLES, "1"),
        "PYTHONPATH": os.pathsep.join(path for path in sys.path if path),
    }
    helper = subprocess.Popen(
        [sys.executable, "-m", "covwb.jobs._local_cluster", str(n_workers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        address = _announced_address(helper)
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except BaseException:
        _stop_helper(helper)
        raise
    _LOG.info("Started a local Dask cluster of %d worker processes at %s", n_workers, address)
    return client, helper


def _announced_address(helper: subprocess.Popen) -> str:
    """The scheduler address the helper prints once its cluster runs (other lines on its stdout are skipped)."""
    assert helper.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([helper.stdout], [], [], left)
        line = helper.stdout.readline() if ready else ""
        if not line:  # timed out, or the helper ended
            break
        try:
            return str(json.loads(line)["address"])
        except (ValueError, KeyError, TypeError):
            continue
    try:
        state = f"exit code {helper.wait(timeout=1)}"
    except subprocess.TimeoutExpired:
        state = f"no answer in {START_TIMEOUT_S:g} s"
    raise ClusterUnavailable(
        f"the local Dask cluster could not start ({state}; details in the server log); "
        f"set {SCHEDULER_ENV} to use an existing cluster."
    )


def _stop_helper(helper: subprocess.Popen) -> None:
    """Close the helper's standard input (it shuts its cluster down), killing it if it lingers."""
    try:
        if helper.stdin is not None:
            helper.stdin.close()
        helper.wait(timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        helper.kill()
        helper.wait(timeout=5)


def close_client() -> None:
    """Close the process-wide client and shut down the local cluster, if any; the next use starts afresh."""
    global _client, _helper
    with _LOCK:
        client, cluster, _client, _helper = _client, _helper, None, None
    if client is not None:
        try:
            client.close()
        except Exception:  # shutting down: a half-closed client must not keep the cluster up
            _LOG.warning("Closing the Dask client failed", exc_info=True)
    if cluster is not None:
        _stop_helper(cluster)


atexit.register(close_client)
