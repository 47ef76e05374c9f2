"""Speed of the distance-covariance fairness code, against dcor and against training without a penalty.

Measures, in one process with one thread (medians of repeats):

1. exact 1-D ``dCov²`` for n = 10⁶: :func:`lib.fairness.distance_covariance.distance_covariance_sq` against
   dcor 0.7's fastest method (``mergesort``; ``avl`` is also timed), JIT warmed on a small input first;
2. the exact grouped CCdCov penalty with its gradient on 678,000 rows × 20 intersectional cells;
3. forward + backward of the O(b²) mini-batch CCdCov penalty (continuous + categorical attributes), and of
   the grouped one, for b = 256 … 4096;
4. training time per epoch (20,000 rows, batches of 256) without and with the penalty, for the linear
   model and an MLP, with categorical attributes (exact grouped penalty) and with a continuous one (O(b²)).

Run: ``python benchmarks/dcov_bench.py`` (dcor must be installed; its import compiles numba code, ~15 s).
Ends with one line per target: ``target <key> = <number>``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lib.runtime import limit_threads

limit_threads()

import numpy as np
import pandas as pd
import torch

torch.set_num_threads(1)


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_dimensional(n: int = 1_000_000, repeats: int = 5) -> dict[str, float]:
    """Seconds for exact 1-D dCov² (V) by ours and by dcor's O(n log n) methods, same data."""
    import dcor

    from lib.fairness.distance_covariance import distance_covariance_sq

    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    y = x + rng.standard_normal(n)
    for method in ("mergesort", "avl"):
        dcor.distance_covariance_sqr(x[:1000], y[:1000], method=method)
    ours = distance_covariance_sq(x, y)
    theirs = dcor.distance_covariance_sqr(x, y, method="mergesort")
    assert abs(ours - theirs) <= 1e-9 * abs(theirs), (ours, theirs)
    return {
        "ours": median_seconds(lambda: distance_covariance_sq(x, y), repeats),
        "dcor_mergesort": median_seconds(lambda: dcor.distance_covariance_sqr(x, y, method="mergesort"), repeats),
        "dcor_avl": median_seconds(lambda: dcor.distance_covariance_sqr(x, y, method="avl"), repeats),
    }


def grouped_full_data(n: int = 678_000, k: int = 20, repeats: int = 5) -> float:
    """Seconds for the exact grouped CCdCov penalty + backward on n rows and k cells (gender × 10 regions)."""
    from lib.fairness.grouped import grouped_penalty

    rng = np.random.default_rng(1)
    cells = rng.integers(0, k, n)
    blocks = [np.eye(2)[np.arange(k) % 2], np.eye(k // 2)[np.arange(k) // 2]]
    base = torch.tensor(rng.standard_normal(n) + 0.1 * cells)

    def run() -> None:
        predictions = base.clone().requires_grad_(True)
        grouped_penalty(predictions, cells, blocks, "ccdcov").backward()

    return median_seconds(run, repeats)


def mini_batch(sizes: tuple[int, ...] = (256, 512, 1024, 2048, 4096)) -> pd.DataFrame:
    """Seconds for forward + backward of the O(b²) and the grouped penalty per batch size."""
    from lib.fairness.grouped import grouped_penalty
    from lib.fairness.torch_penalties import penalty

    rng = np.random.default_rng(2)
    rows = []
    for b in sizes:
        cells = rng.integers(0, 20, b)
        cell_blocks = [np.eye(2)[np.arange(20) % 2], np.eye(10)[np.arange(20) // 2]]
        blocks = [torch.tensor(block[cells]) for block in cell_blocks] + [torch.tensor(rng.uniform(size=(b, 1)))]
        base = torch.tensor(rng.standard_normal(b))

        def quadratic(base: torch.Tensor = base, blocks: list[torch.Tensor] = blocks) -> None:
            predictions = base.clone().requires_grad_(True)
            penalty("ccdcov", predictions, blocks).backward()

        def grouped(base: torch.Tensor = base, cells: np.ndarray = cells, cell_blocks: list = cell_blocks) -> None:
            predictions = base.clone().requires_grad_(True)
            grouped_penalty(predictions, cells, cell_blocks, "ccdcov").backward()

        repeats = 21 if b <= 1024 else 5
        rows.append({"b": b, "quadratic_ms": 1e3 * median_seconds(quadratic, repeats),
                     "grouped_ms": 1e3 * median_seconds(grouped, repeats)})
    return pd.DataFrame(rows)


def per_epoch(repeats: int = 3) -> pd.DataFrame:
    """Seconds per epoch without and with the CCdCov penalty (λ = 1), 20,000 rows, batch 256."""
    from lib.fairness.data import prepare_data
    from lib.fairness.models import TrainSettings, train_model

    rng = np.random.default_rng(3)
    n = 20_000
    frame = pd.DataFrame({f"x{i}": rng.standard_normal(n) for i in range(10)})
    frame["gender"] = rng.choice(["f", "m"], n)
    frame["region"] = rng.choice(list("abcdefghij"), n)
    frame["age"] = rng.uniform(18, 80, n)
    frame["y"] = frame["x0"] + (frame["gender"] == "m") + rng.standard_normal(n)
    rows = []
    for model, hidden in (("linear", ()), ("mlp", (32, 16))):
        for attributes, protected in (("categorical", ["gender", "region"]), ("continuous", ["gender", "age"])):
            data = prepare_data(frame, target="y", task="continuous", features=[f"x{i}" for i in range(10)],
                                protected=protected)
            seconds = {}
            for name in ("none", "ccdcov"):
                settings = TrainSettings(penalty=name, lam=1.0, hidden=hidden, epochs=3, batch_size=256,
                                         early_stopping=False)
                seconds[name] = median_seconds(lambda s=settings, d=data: train_model(d, s), repeats) / 3
            rows.append({"model": model, "attributes": attributes, "plain_s": seconds["none"],
                         "penalised_s": seconds["ccdcov"], "ratio": seconds["ccdcov"] / seconds["none"]})
    return pd.DataFrame(rows)


def main() -> None:
    """Run every measurement, print the tables, then the target lines."""
    pd.set_option("display.width", 200)
    timings = one_dimensional()
    print(f"exact 1-D dCov², n = 1e6: ours {timings['ours']:.3f} s, dcor mergesort {timings['dcor_mergesort']:.3f} s, "
          f"dcor avl {timings['dcor_avl']:.3f} s (medians of 5)")
    grouped = grouped_full_data()
    print(f"grouped CCdCov + gradient, 678,000 rows × 20 cells: {grouped:.3f} s (median of 5)")
    print("mini-batch penalty, forward + backward (ms, median):")
    print(mini_batch().to_string(index=False))
    epochs = per_epoch()
    print("seconds per epoch, 20,000 rows, batch 256 (includes the validation objective):")
    print(epochs.to_string(index=False))
    categorical = epochs[epochs["attributes"] == "categorical"]
    print(f"target dcov_1d_speedup_vs_dcor = {timings['dcor_mergesort'] / timings['ours']:.3f}")
    print(f"target categorical_penalty_grad_s = {grouped:.3f}")
    print(f"target penalty_overhead_per_epoch = {categorical['ratio'].max():.3f}")


if __name__ == "__main__":
    main()
