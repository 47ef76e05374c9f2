"""Bures-Wasserstein batch normalisation of SPD matrices in an SPDNet (Wang et al., CVPR 2025), beside AIRM and LEM.

A notebook-style script: run it with ``python examples/spd_batchnorm.py``, or cell by cell (``# %%``). It uses only
the public ``covwb`` API. The metric names are the workbench's one vocabulary (pyRiemann's): ``riemann`` (AIRM),
``logeuclid`` (LEM), ``wasserstein`` (BW) and the generalised ``gbw`` / ``gbw_theta``.
"""

# %%
# A batch of 30 SPD matrices of size 8 with condition numbers about 1e3, as real covariances often have.
import numpy as np
import torch

from covwb.covariance import NUMPY_METRICS, SPD_METRICS, covariances, karcher_mean
from covwb.datasets import simulate_motor_imagery
from covwb.eeg import extract_epochs
from covwb.jobs import run_plan
from covwb.spd import (
    BATCHNORM_METRICS,
    SPDBatchNorm,
    TrainConfig,
    bw_barycentre,
    distance,
    karcher_mean_torch,
    plan_training,
    summarise,
    synthetic_batch,
)

batch = torch.from_numpy(synthetic_batch(n_matrices=30, dim=8, log10_condition=3.0, seed=0).matrices)
print("metrics:", {name: metric.short for name, metric in SPD_METRICS.items()}, "numpy computes", list(NUMPY_METRICS))

# %%
# The means the batch norms centre on: the affine-invariant (Karcher) mean and the Bures-Wasserstein barycentre.
# There is one Karcher mean per backend: `karcher_mean_torch` (differentiable, inside the layers) and the numpy
# `covwb.covariance.karcher_mean` (Riemannian Newton, with a convergence report); they agree.
karcher, iterations = karcher_mean_torch(batch)
reference = karcher_mean(batch.numpy())
gap = np.abs(karcher.numpy() - reference.mean).max() / np.abs(reference.mean).max()
print(f"Karcher mean: torch {iterations} iterations, numpy converged {reference.converged}, relative gap {gap:.1e}")
bw = bw_barycentre(batch)
print(f"BW barycentre converged: {bw.converged} ({bw.n_iter} iterations)")
for metric, mean in (("riemann", karcher), ("wasserstein", bw.mean)):  # AIRM is unitless, BW in sqrt(unit)
    print(f"{metric:>11}: mean distance of the batch to its mean {float(distance(batch, mean, metric).mean()):.3f}")

# %%
# A batch-norm layer per metric: it moves the batch mean to the identity and rescales the dispersion. The BW
# exponential map can "fold" a matrix (leave the SPD cone); the layer counts how often that happened.
for metric in BATCHNORM_METRICS:
    layer = SPDBatchNorm(8, metric)
    with torch.no_grad():
        out = layer(batch)
    centred = float(distance(out, torch.eye(8, dtype=out.dtype), "riemann").mean())
    print(
        f"{metric:>11}: output {tuple(out.shape)}, mean AIRM distance to I {centred:.3f}, "
        f"folded {layer.last_fold_fraction:.0%}"
    )

# %%
# Training: SPDNet (BiMap -> batch norm -> ReEig -> LogEig -> linear) on the covariances of simulated EEG epochs,
# one run per batch-norm variant, described as a plan of independent tasks (`run_plan` runs it here; the app
# submits the same plan as a Dask job). `summarise` gives the test accuracy and how often each variant folded.
recording = simulate_motor_imagery(seed=1, n_trials_per_class=30, n_sessions=1)
channels = ["FC3", "C3", "CP3", "Cz", "FC4", "C4", "CP4", "Pz"]
epochs = extract_epochs(recording.raw, classes=["left_hand", "right_hand"], tmin=0.5, tmax=2.5, picks=channels)
covs = covariances(epochs.X, "oas")
plan = plan_training(
    covs,
    epochs.y,
    variants=("none", "riemann", "wasserstein"),
    config=TrainConfig(n_hidden=4, epochs=8, batch_size=15),
)
results = run_plan(plan)
runs = [run for variant_runs in results.values() for run in variant_runs]
table = summarise(runs)
print(table[["variant", "test accuracy mean (%)", "seconds per epoch", "runs that folded"]].to_string(index=False))
for run in runs:
    for warning in run.warnings:  # folding in the BW batch norms, said in words
        print(f"warning ({run.variant}):", warning)
