"""Forward+backward time of one SPD batch-norm layer, batch 30 of 30 x 30, float64, one thread.

Baseline, in the same run: a straightforward AIRM batch norm (Brooks et al. 2019): Karcher mean
from the arithmetic mean with one step, detached, ``B^1/2 G^-1/2 X G^-1/2 B^1/2``, no dispersion
step. Each layer of :mod:`covwb.spd.batchnorm` is timed in training mode as configured by default
(tangent-space step at the running mean, no barycentre iteration), with one barycentre iteration
(``mean_iterations=1``, the published GBWBN's single step) and with the barycentre iterated to a
relative change of 1e-8. In each of 5 rounds, every layer runs its repeats alternately with the
baseline, step by step on the same batches; a layer's ratio is the median over the rounds of
(median time of its repeats) / (median time of the baseline's repeats beside them), as
wall-clock and as process CPU time. The targets use the CPU time, which equals the wall-clock
time of this one-thread process on an idle machine and does not count the time other processes
take the core away on a shared one. The targets of issue 4 are BW and GBW BN at most 1.5x the
baseline: the last two lines are ``target <key> = <ratio>``.

Run: ``python benchmarks/spd_bn_bench.py [--repeats 50]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from covwb.runtime import limit_threads

limit_threads()

import torch
from torch import nn

from covwb.spd.batchnorm import BATCHNORM_METRICS, SPDBatchNorm, karcher_mean_torch
from covwb.spd.matrix_functions import sqrtm_invsqrtm, sym
from covwb.spd.parameters import SPDParameter

torch.set_num_threads(1)
N, n = 30, 30


class BrooksBatchNorm(nn.Module):
    """Riemannian batch norm as in Brooks et al. (2019): one Karcher step, no dispersion."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.bias = SPDParameter(n)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            G = karcher_mean_torch(X, max_iter=1)[0]
            inv_root_g = sqrtm_invsqrtm(G)[1]
        root_b = self.bias.power(0.5)
        T = root_b @ inv_root_g
        return sym(T @ X @ T.T)


def batch(seed: int) -> torch.Tensor:
    """30 SPD matrices of 30 x 30: random rotations, log-spaced spectra (condition number about 1e3)."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(N, n, n, generator=g, dtype=torch.float64))
    eigvals = torch.logspace(0, -3, n, dtype=torch.float64) * torch.exp(
        0.3 * torch.randn(N, n, generator=g, dtype=torch.float64)
    )
    return sym((Q * eigvals[:, None, :]) @ Q.transpose(-1, -2))


def _one_step(layer: nn.Module, X: torch.Tensor, weight: torch.Tensor) -> tuple[float, float]:
    """Wall and CPU seconds of one forward + backward (outputs times a fixed weight)."""
    Xg = X.clone().requires_grad_(True)
    start, start_cpu = time.perf_counter(), time.process_time()
    (layer(Xg) * weight).sum().backward()
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    layer.zero_grad()
    return wall, cpu


def time_paired(
    baseline: nn.Module, layer: nn.Module, batches: list[torch.Tensor], repeats: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) seconds of the baseline and of the layer, run alternately step by step.

    Alternating the two layers on the same batches makes them share whatever load the machine
    carries at that moment, so their ratio stays meaningful on a shared machine.
    """
    weight = torch.randn(batches[0].shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    times: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
    for i in range(repeats + 2):
        for k, module in enumerate((baseline, layer)):
            times[k].append(_one_step(module, batches[i % len(batches)], weight))
    return tuple(
        (statistics.median(w for w, _ in times[k][2:]), statistics.median(c for _, c in times[k][2:])) for k in (0, 1)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    batches = [batch(seed) for seed in range(8)]
    baseline = BrooksBatchNorm(n)
    layers: dict[str, nn.Module] = {}
    for metric in BATCHNORM_METRICS:
        layers[metric] = SPDBatchNorm(n, metric)
        layers[f"{metric}_1iter"] = SPDBatchNorm(n, metric, mean_iterations=1)
        layers[f"{metric}_converged"] = SPDBatchNorm(n, metric, mean_iterations=100, mean_tol=1e-8)
    base: list[tuple[float, float]] = []
    rounds: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in layers}
    for _ in range(5):
        for name, layer in layers.items():
            (base_w, base_c), (wall, cpu) = time_paired(baseline, layer, batches, args.repeats // 5 + 1)
            base.append((base_w, base_c))
            rounds[name].append((wall, cpu, wall / base_w, cpu / base_c))
    base_wall, base_cpu = statistics.median(w for w, _ in base), statistics.median(c for _, c in base)
    print(f"{'layer':<16} {'wall ms':>8} {'x Brooks':>9} {'CPU ms':>8} {'x Brooks':>9}")
    print(f"{'brooks_airm':<16} {base_wall * 1e3:8.2f} {1:9.2f} {base_cpu * 1e3:8.2f} {1:9.2f}")
    ratio: dict[str, float] = {}
    for name, values in rounds.items():
        wall, cpu = (statistics.median(v[k] for v in values) for k in (0, 1))
        wall_ratio, ratio[name] = (statistics.median(v[k] for v in values) for k in (2, 3))
        print(f"{name:<16} {wall * 1e3:8.2f} {wall_ratio:9.2f} {cpu * 1e3:8.2f} {ratio[name]:9.2f}")
    for name, key in (("wasserstein", "bw"), ("gbw", "gbw")):
        print(f"target {key}_over_airm = {ratio[name]:.3f}")


if __name__ == "__main__":
    main()
