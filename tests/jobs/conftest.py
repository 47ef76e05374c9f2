"""Fixtures of the job-layer tests: the process-wide local Dask cluster (two workers), started once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """The process-wide client of :mod:`covwb.jobs.cluster`: a real LocalCluster of two worker processes."""
    from covwb.jobs import cluster

    saved = os.environ.pop(cluster.SCHEDULER_ENV, None)
    cluster.configure(n_workers=2)
    try:
        yield cluster.get_client()
    finally:
        cluster.configure()
        if saved is not None:
            os.environ[cluster.SCHEDULER_ENV] = saved
