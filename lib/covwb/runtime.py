"""Process-wide runtime settings: one BLAS/OpenMP thread per process.

On a 2-core machine, two BLAS threads per process make batched small
eigendecompositions 10-80x slower; parallelism goes through processes instead.
"""

from __future__ import annotations

import os

__all__ = ["limit_threads"]

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def limit_threads() -> None:
    """Use one BLAS/OpenMP thread in this process and in the processes it starts.

    Sets the usual environment variables (read by libraries loaded later and by
    child processes) and caps the thread pools of libraries already loaded.
    Idempotent and cheap; call it at the top of every entry point.
    """
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
