"""The Dask cluster that jobs run on: an embedded local cluster, or an existing one by its address.

One :class:`distributed.Client` per process, created on first use by :func:`get_client`:

* **local default**: a :class:`distributed.LocalCluster` of worker processes, as many as the CPU cores
  this process may use (``dask.system.CPU_COUNT``, which respects CPU affinity and container quotas), one
  thread each and one BLAS/OpenMP thread each (the thread variables of :mod:`covwb.runtime` are set in
  the workers' environment before they start, and every task caps its thread pools again). The
  scheduler and workers listen on 127.0.0.1 only, without dashboards, and log errors only. Each worker
  runs under a nanny that restarts it if it dies. Workers are started by this process and inherit its
  environment and ``sys.path``, so they import the same ``covwb``.
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
import logging
import os
import threading
from typing import Any

from covwb.errors import WorkbenchError

SCHEDULER_ENV = "COVWB_DASK_SCHEDULER"
"""Environment variable holding the address of an existing Dask scheduler (``tcp://host:8786``)."""

CONNECT_TIMEOUT_S = 20.0
"""How long :func:`get_client` tries to reach a configured scheduler before giving up."""

_LOG = logging.getLogger("covwb.jobs")
_LOCK = threading.RLock()
_settings: dict[str, Any] = {"scheduler": None, "n_workers": None}
_client: Any = None
_cluster: Any = None


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
    global _client, _cluster
    with _LOCK:
        if _client is not None and _client.status == "running":
            return _client
        close_client()
        address = scheduler_address()
        _client, _cluster = _connect(address) if address else _start_local()
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


def _start_local() -> tuple[Any, Any]:
    """A local cluster of single-threaded worker processes and its client."""
    from distributed import Client, LocalCluster

    from covwb.runtime import _THREAD_VARIABLES

    n_workers = local_worker_count()
    try:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env=dict.fromkeys(_THREAD_VARIABLES, "1"),
        )
    except (OSError, RuntimeError, TimeoutError) as error:
        raise ClusterUnavailable(
            f"the local Dask cluster could not start ({type(error).__name__}: {error}); "
            f"set {SCHEDULER_ENV} to use an existing cluster."
        ) from error
    _LOG.info("Started a local Dask cluster of %d worker processes at %s", n_workers, cluster.scheduler_address)
    return Client(cluster, set_as_default=False), cluster


def close_client() -> None:
    """Close the process-wide client and shut down the local cluster, if any; the next use starts afresh."""
    global _client, _cluster
    with _LOCK:
        client, cluster, _client, _cluster = _client, _cluster, None, None
    for closable in (client, cluster):
        if closable is not None:
            try:
                closable.close()
            except Exception:  # shutting down: a half-closed cluster must not stop the rest
                _LOG.warning("Closing %s failed", type(closable).__name__, exc_info=True)


atexit.register(close_client)
