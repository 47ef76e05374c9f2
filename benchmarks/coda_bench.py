"""Speed of compositional partial correlations (issue 5).

Measures, with one BLAS thread (``covwb.runtime.limit_threads``), on simulated logistic-normal counts:

1. n = 200 samples and p ∈ {500, 1000, 2000, 4000} parts: basis-shrinkage partial correlations through the
   Woodbury closed form (``covwb.coda.shrinkage.basis_shrinkage_pcor``) against the baseline propr recipe in
   numpy: corpcor ``cov.shrink`` of the log-proportions as a dense p × p matrix, the clr covariance
   ``G B G`` and ``numpy.linalg.pinv`` of it, then ``cor2pcor``. Medians of repeats; agreement is the largest
   absolute difference between the two partial-correlation matrices. The public estimator
   (``CompositionalPartialCorrelation(store_covariance=False)``, the same computation plus validation) is
   timed beside it.
2. p = 20,000 parts, n = 300, in a child process: wall time and peak resident memory.
3. The page, as AppTest runs it, on an uploaded table of 300 samples × 200 parts.
4. When ``../shared/data/coda`` is present: the largest absolute error against the R reference values.

Run ``python benchmarks/coda_bench.py`` (about 10 minutes on a 2-core machine; ``--quick`` skips p = 4000
and the 20,000-part run, ``--target-only`` runs p = 2000 and 4000 without the 20,000-part run). Ends with one ``target <key> = <number>`` line per target.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

from covwb.runtime import limit_threads

limit_threads()

from covwb.coda.estimator import CompositionalPartialCorrelation
from covwb.coda.shrinkage import basis_shrinkage_pcor, cov_shrink
from covwb.coda.zeros import replace_zeros


def simulate_counts(n: int, p: int, seed: int, depth: int = 100_000) -> np.ndarray:
    """Logistic-normal counts: rank-10 plus diagonal Gaussian log-abundances, multinomial sampling, shape (n, p)."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(0.0, 1.5, p)
    L = mean + rng.standard_normal((n, 10)) @ rng.normal(0.0, 0.5, (10, p)) + rng.normal(0.0, 0.5, (n, p))
    P = np.exp(L - L.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return rng.multinomial(depth, P).astype(np.float64)


def positive(counts: np.ndarray) -> np.ndarray:
    """Zeros replaced by the smallest non-zero count, as propr does before ``pcor.bshrink``."""
    names = [str(k) for k in range(counts.shape[1])]
    return replace_zeros(counts, names, "minimum").values


def baseline_pinv(P: np.ndarray) -> np.ndarray:
    """propr ``pcor.bshrink`` as written, in numpy: dense cov.shrink, G B G, numpy.linalg.pinv, cor2pcor."""
    logp = np.log(P / P.sum(axis=1, keepdims=True))
    B, _, _ = cov_shrink(logp)
    B -= B.mean(axis=0, keepdims=True)
    B -= B.mean(axis=1, keepdims=True)  # G B G without forming G
    omega = np.linalg.pinv(B, hermitian=True)
    d = 1.0 / np.sqrt(np.diag(omega))
    rho = -omega * d[:, None] * d[None, :]
    np.fill_diagonal(rho, 1.0)
    return rho


def timed(function, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def large_run(n: int, p: int) -> tuple[float, float]:
    """Wall seconds and peak resident GB of basis shrinkage for (n, p), in a fresh process."""
    code = (
        "import resource, sys, time\n"
        f"sys.path.insert(0, {str(REPO / 'benchmarks')!r})\n"
        "from coda_bench import basis_shrinkage_pcor, positive, simulate_counts\n"
        f"P = positive(simulate_counts({n}, {p}, seed=7))\n"
        "start = time.perf_counter()\n"
        "result = basis_shrinkage_pcor(P)\n"
        "seconds = time.perf_counter() - start\n"
        "print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, result.settings['route'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=1200)
    seconds, peak_gb, route = out.stdout.split()
    print(f"n={n} p={p}: {float(seconds):.1f} s, peak resident {float(peak_gb):.2f} GB, route {route}")
    return float(seconds), float(peak_gb)


def page_seconds(n: int, p: int, repeats: int = 3) -> float:
    """Median seconds of the page's first run after a table of n × p counts is uploaded (AppTest)."""
    from streamlit.testing.v1 import AppTest

    if str(REPO) not in sys.path:  # the page imports ui.py from the repository root
        sys.path.insert(0, str(REPO))
    counts = simulate_counts(n, p, seed=3, depth=20_000)
    lines = [",".join(f"otu{k}" for k in range(p))] + [",".join(f"{v:g}" for v in row) for row in counts]
    data = "\n".join(lines).encode()
    times = []
    for _ in range(repeats):
        at = AppTest.from_file(str(REPO / "pages" / "4_Compositional_partial_correlations.py"), default_timeout=300)
        at.run()
        at.sidebar.radio(key="coda-origin").set_value("Upload").run()
        at.sidebar.get("file_uploader")[0].set_value(("counts.csv", data, "text/csv"))
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception and not at.error, (at.exception, at.error)
    return statistics.median(times)


def reference_error() -> float | None:
    """Largest absolute error against the R reference values (exact and pcor.bshrink), or None without data."""
    import pandas as pd

    from covwb.coda.partial_correlation import partial_correlations

    folder = REPO.parent / "shared" / "data" / "coda"
    if not folder.is_dir():
        return None
    cups = pd.read_csv(folder / "cups.csv")
    parts = [c for c in cups.columns if c != "cup"]
    X = cups[parts].to_numpy(dtype=np.float64)
    errors = []
    for name, result in (
        ("cups_pcor_reference.csv", partial_correlations(X, parts)),
        ("cups_pcor_bshrink_reference.csv", basis_shrinkage_pcor(X, parts, route="dense")),
        ("cups_pcor_bshrink_reference.csv", basis_shrinkage_pcor(X, parts, route="woodbury")),
    ):
        reference = pd.read_csv(folder / name, index_col=0).loc[parts, parts].to_numpy()
        errors.append(float(np.max(np.abs(result.pcor - reference))))
    print(f"max abs error vs R: exact {errors[0]:.2e}, bshrink dense {errors[1]:.2e}, bshrink woodbury {errors[2]:.2e}")
    return max(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip p = 4000 and the 20,000-part run")
    parser.add_argument(
        "--target-only", action="store_true", help="only p = 2000 and 4000 and the page; no 20,000-part run"
    )
    args = parser.parse_args()
    sizes = (500, 1000, 2000) if args.quick else (2000, 4000) if args.target_only else (500, 1000, 2000, 4000)
    large = not (args.quick or args.target_only)
    n = 200
    print(f"{'p':>6} {'ours (s)':>10} {'estimator':>10} {'pinv (s)':>10} {'speed-up':>9} {'max |diff|':>11}")
    speedups, agreement = {}, 0.0
    for p in sizes:
        P = positive(simulate_counts(n, p, seed=p))
        ours_s, ours = timed(lambda P=P: basis_shrinkage_pcor(P), repeats=5)
        estimator_s, _ = timed(
            lambda P=P: CompositionalPartialCorrelation(method="basis-shrinkage", store_covariance=False).fit(P),
            repeats=5,
        )
        base_s, base = timed(lambda P=P: baseline_pinv(P), repeats=3 if p <= 1000 else 1)
        diff = float(np.max(np.abs(ours.pcor - base)))
        agreement = max(agreement, diff)
        speedups[p] = base_s / ours_s
        print(
            f"{p:>6} {ours_s:>10.3f} {estimator_s:>10.3f} {base_s:>10.2f} {speedups[p]:>8.1f}x {diff:>11.2e}"
            f"  (λ = {ours.settings['lambda']:.3f}, route {ours.settings['route']})"
        )
    error = reference_error()
    page = page_seconds(300, 200)
    print(f"page, 300 samples × 200 parts uploaded: {page:.2f} s (median of 3 AppTest runs)")
    if large:
        seconds, peak = large_run(300, 20_000)
    top = max(sizes)
    print(f"measure max_abs_diff_vs_pinv = {agreement:.3g}")
    if error is not None:
        print(f"measure max_abs_error_vs_r = {error:.3g}")
    if large:
        print(f"measure peak_gb_p20000_n300 = {peak:.2f}")
    print(f"target pcor_speedup_p{top} = {speedups[top]:.1f}")
    print(f"target page_seconds_p200 = {page:.2f}")
    if large:
        print(f"target seconds_p20000_n300 = {seconds:.1f}")


if __name__ == "__main__":
    main()
