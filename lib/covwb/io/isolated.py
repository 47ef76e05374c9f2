"""Run a parser on untrusted bytes in a separate, memory-capped Python process.

Some readers of uploaded formats (SciPy's MAT reader, used for ``.mat`` covariance files
and by MNE for EEGLAB ``.set`` files) are not hardened against crafted files and can
crash the interpreter (a segmentation fault) or allocate without bound. Running them in
a child process started with ``python -I`` (no user site, no environment paths) under an
address-space limit confines such a crash to the child: the caller sees a return code
and raises its typed error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

_PREAMBLE = r"""
import sys
try:
    import resource
    _cap = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (_cap, _cap))
except (ImportError, ValueError, OSError):
    pass
del sys.argv[1]
"""
_SINGLE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_isolated(
    code: str,
    args: Sequence[str] = (),
    data: bytes = b"",
    *,
    memory_bytes: int,
    timeout_s: float,
) -> subprocess.CompletedProcess[bytes]:
    """Run Python ``code`` in a fresh isolated interpreter with a memory cap.

    Parameters
    ----------
    code : str
        Source of the script; it sees ``sys.argv[1:] == list(args)`` and reads ``data``
        from ``sys.stdin.buffer``.
    args : sequence of str
        Command-line arguments for the script.
    data : bytes
        Sent to the child's standard input.
    memory_bytes : int
        Address-space limit of the child (``RLIMIT_AS``), in bytes; where the platform has
        no such limit the child runs without it.
    timeout_s : float
        Wall-clock limit in seconds; the child is killed when it runs longer.

    Returns
    -------
    subprocess.CompletedProcess of bytes
        ``returncode`` (negative: killed by that signal, e.g. -11 for a segmentation
        fault), ``stdout`` and ``stderr``.

    Raises
    ------
    subprocess.TimeoutExpired
        When the child ran longer than ``timeout_s`` (it has been killed).
    """
    env = {**os.environ, **dict.fromkeys(_SINGLE_THREAD, "1")}
    command = [sys.executable, "-I", "-c", _PREAMBLE + code, str(int(memory_bytes)), *args]
    return subprocess.run(command, input=data, capture_output=True, timeout=timeout_s, check=False, env=env)


def stopped_reason(done: subprocess.CompletedProcess[bytes]) -> str:
    """Why an isolated child failed, as a short phrase for an error sentence.

    Parameters
    ----------
    done : subprocess.CompletedProcess of bytes
        A finished child with a non-zero return code.

    Returns
    -------
    str
        ``'the reader crashed with signal 11'`` for a child killed by a signal, ``'it needed
        more memory than allowed'`` for a MemoryError, else the last line of its error output.
    """
    if done.returncode < 0:
        return f"the reader crashed with signal {-done.returncode}"
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    last = lines[-1].strip() if lines else ""
    if last.startswith("MemoryError") or "Cannot allocate memory" in last:
        return "it needed more memory than allowed"
    if not last:
        return f"the reader stopped with code {done.returncode}"
    return last if len(last) <= 160 else last[:157] + "..."
