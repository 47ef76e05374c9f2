"""The helper process of the embedded local cluster: ``python -m covwb.jobs._local_cluster N_WORKERS``.

Starts a :class:`distributed.LocalCluster` of ``N_WORKERS`` single-threaded worker processes (one BLAS thread
each) on 127.0.0.1, without dashboards, printing ``{"address": …}`` as one JSON line once it runs; shuts it
down when standard input closes (its parent, :mod:`covwb.jobs.cluster`, closed the pipe or died). Importing
this module does nothing, so that the workers' "spawn" start, which imports the main module again, is cheap.
"""

from __future__ import annotations

import json
import logging
import sys


def serve(n_workers: int) -> None:
    """Run the local cluster until standard input closes."""
    from distributed import LocalCluster

    from covwb.runtime import _THREAD_VARIABLES

    with LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
        env=dict.fromkeys(_THREAD_VARIABLES, "1"),
    ) as cluster:
        print(json.dumps({"address": cluster.scheduler_address}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
