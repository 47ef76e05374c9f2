"""The SPD batch-norm page's geometry panels as functions: numpy in, arrays and tables out.

Each panel normalises a batch with :class:`~covwb.spd.batchnorm.SPDBatchNorm` (training mode,
default parameters: bias ``I``, target dispersion ``weight**2``) and measures it before and
after, under the layer's own metric (:func:`covwb.spd.geometry.distance`, the workbench's metric
names). The affine-invariant mean offered as the GBW matrix ``M`` is the numpy Karcher mean,
:func:`covwb.covariance.karcher.karcher_mean`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from covwb.errors import ParameterError

M_CHOICES: dict[str, str] = {
    "identity": "Identity (plain BW)",
    "riemann_mean": "Affine-invariant mean of the batch",
    "diagonal": "Diagonal of the arithmetic mean",
}
"""Choices of the GBW metric matrix ``M`` on the page."""

PANEL_MEAN_ITERATIONS = 50
"""Barycentre iterations of a panel's batch norm at most (a tolerance of 1e-8 stops them earlier)."""


@dataclass(frozen=True, eq=False)
class PanelResult:
    """One metric's view of a batch before and after batch normalisation.

    Parameters
    ----------
    metric : str
        Key of :data:`covwb.spd.batchnorm.BATCHNORM_METRICS`.
    outputs : ndarray, shape (N, n, n)
        The normalised batch.
    eigvals_before, eigvals_after : ndarray, shape (N, n)
        Eigenvalues, ascending.
    log10_condition_before, log10_condition_after : ndarray, shape (N,)
        log10 of the condition numbers.
    distance_before, distance_after : ndarray, shape (N,)
        Distance of each matrix to the batch mean (before) or to the bias (after), in the metric.
    embedding_before, embedding_after : ndarray, shape (N, 2)
        Classical MDS of the pairwise distances in the metric.
    fold_fraction : float
        BW family: share of matrices whose ``Exp`` folded.
    mean_iterations : int
        Barycentre iterations the layer ran (0 for LEM, whose mean is closed-form).
    mean_converged : bool
        Whether they met their tolerance (1e-8) within :data:`PANEL_MEAN_ITERATIONS`.
    folded : ndarray of bool, shape (N,), or None
        BW family: which matrices folded (all False for AIRM and LEM, which never fold).
    settings : dict
        Metric, theta, choice of M, dispersion reference.
    """

    metric: str
    outputs: np.ndarray
    eigvals_before: np.ndarray
    eigvals_after: np.ndarray
    log10_condition_before: np.ndarray
    log10_condition_after: np.ndarray
    distance_before: np.ndarray
    distance_after: np.ndarray
    embedding_before: np.ndarray
    embedding_after: np.ndarray
    fold_fraction: float
    mean_iterations: int = 0
    mean_converged: bool = True
    folded: np.ndarray | None = None
    settings: dict = field(default_factory=dict)


def metric_matrix(covs: np.ndarray, choice: str) -> np.ndarray | None:
    """The GBW matrix ``M`` for a choice of :data:`M_CHOICES`, shape (n, n); None for the identity.

    The affine-invariant mean stops at a gradient norm of 1e-6: ``M`` only chooses the geometry, and
    batches with condition numbers near 1e10 stall just above pyRiemann's 1e-8.
    """
    if choice not in M_CHOICES:
        raise ParameterError(f"Unknown choice of M {choice!r}; choose one of {', '.join(M_CHOICES)}.")
    if choice == "identity":
        return None
    if choice == "diagonal":
        return np.diag(np.diag(covs.mean(0)))
    from covwb.covariance.karcher import karcher_mean

    return karcher_mean(covs, tol=1e-6).mean


def build_layer(
    n: int,
    metric: str,
    *,
    theta: float | None = None,
    M: np.ndarray | None = None,
    dispersion_about: str = "mean",
    mean_iterations: int = 20,
    dtype: str = "float64",
):
    """An :class:`SPDBatchNorm` with default parameters, ``M`` set when given (GBW family)."""
    import torch

    from covwb.spd.batchnorm import SPDBatchNorm

    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    layer = SPDBatchNorm(
        n,
        metric,
        theta if metric == "gbw_theta" else None,
        dispersion_about=dispersion_about,
        mean_iterations=mean_iterations,
        mean_tol=1e-8,
        dtype=torch_dtype,
    )
    if M is not None and layer.metric_M is not None:
        layer.metric_M.set_(torch.as_tensor(M, dtype=torch_dtype))
    return layer


def distances(
    A: np.ndarray, B: np.ndarray, metric: str, *, theta: float = 1.0, M: np.ndarray | None = None
) -> np.ndarray:
    """Distance between matching matrices of ``A`` and ``B`` (broadcast), shape (...), in a layer's metric.

    :func:`covwb.spd.geometry.distance` in float64 on numpy arrays; ``theta`` is used by ``gbw_theta``
    only and ``M`` by the GBW metrics only.
    """
    import torch

    from covwb.spd.geometry import distance

    At, Bt = torch.as_tensor(A, dtype=torch.float64), torch.as_tensor(B, dtype=torch.float64)
    gbw = metric in ("gbw", "gbw_theta")
    Mt = torch.as_tensor(M, dtype=torch.float64) if gbw and M is not None else None
    return distance(At, Bt, metric, M=Mt, theta=theta if metric == "gbw_theta" else None).numpy()


def pairwise(covs: np.ndarray, metric: str, *, theta: float = 1.0, M: np.ndarray | None = None) -> np.ndarray:
    """Pairwise distances of a batch (N, n, n) in a layer's metric, shape (N, N), symmetric, zero diagonal."""
    import torch

    from covwb.spd.geometry import pairwise_distances_torch

    gbw = metric in ("gbw", "gbw_theta")
    Mt = torch.as_tensor(M, dtype=torch.float64) if gbw and M is not None else None
    theta_used = theta if metric == "gbw_theta" else None
    return pairwise_distances_torch(torch.as_tensor(covs, dtype=torch.float64), metric, M=Mt, theta=theta_used).numpy()


def _log10_condition(eigvals: np.ndarray) -> np.ndarray:
    return np.log10(eigvals[:, -1] / np.maximum(eigvals[:, 0], np.finfo(float).tiny))


def geometry_panel(
    covs: np.ndarray,
    metric: str,
    *,
    theta: float = 0.5,
    m_choice: str = "identity",
    dispersion_about: str = "mean",
) -> PanelResult:
    """Normalise ``covs`` (N, n, n) with one metric and measure the batch before and after.

    Raises
    ------
    SPDInputError
        ``covs`` is not a stack of at least 3 SPD matrices.
    ParameterError
        Unknown metric, choice of M or dispersion reference.
    """
    import torch

    from covwb.covariance.geometry import check_metric, check_spd_stack, mds_embedding
    from covwb.spd.batchnorm import BATCHNORM_METRICS

    X = check_spd_stack(covs, name="matrices", min_matrices=3)
    check_metric(metric, BATCHNORM_METRICS)
    M = metric_matrix(X, m_choice) if metric in ("gbw", "gbw_theta") else None
    layer = build_layer(
        X.shape[1], metric, theta=theta, M=M, dispersion_about=dispersion_about, mean_iterations=PANEL_MEAN_ITERATIONS
    )
    with torch.no_grad():
        out = layer(torch.from_numpy(X)).numpy()
        bias = layer.bias_matrix().numpy()
        mean = layer.running_mean.numpy()
        mask = layer.last_fold_mask
    th = layer.theta
    before, after = np.linalg.eigvalsh(X), np.linalg.eigvalsh(out)
    return PanelResult(
        metric=metric,
        outputs=out,
        eigvals_before=before,
        eigvals_after=after,
        log10_condition_before=_log10_condition(before),
        log10_condition_after=_log10_condition(after),
        distance_before=distances(X, mean, metric, theta=th, M=M),
        distance_after=distances(out, bias, metric, theta=th, M=M),
        embedding_before=mds_embedding(pairwise(X, metric, theta=th, M=M)),
        embedding_after=mds_embedding(pairwise(out, metric, theta=th, M=M)),
        fold_fraction=layer.last_fold_fraction,
        mean_iterations=layer.last_mean_iterations,
        mean_converged=layer.last_mean_converged,
        folded=np.zeros(len(X), dtype=bool) if not mask.numel() else mask.numpy(),
        settings={
            "metric": metric,
            "theta": th,
            "m_choice": m_choice if M is not None else "identity",
            "dispersion_about": dispersion_about,
            "target_dispersion": float(layer.weight.detach()) ** 2,
        },
    )


def panel_summary(panels: dict[str, PanelResult]) -> pd.DataFrame:
    """One row per panel: median log10 condition number before/after, dispersion after, target, folds (%)."""
    return pd.DataFrame(
        [
            {
                "metric": label,
                "median log10 κ before": float(np.median(p.log10_condition_before)),
                "median log10 κ after": float(np.median(p.log10_condition_after)),
                "dispersion after": float(np.mean(p.distance_after**2)),
                "target dispersion": p.settings["target_dispersion"],
                "folded (%)": 100 * p.fold_fraction,
            }
            for label, p in panels.items()
        ]
    )


def mean_residuals(covs: np.ndarray, *, max_iter: int = 40) -> pd.DataFrame:
    """Relative error ``||S_k - S*||_F / ||S*||_F`` of BW barycentre iterates, per iteration.

    Both the Alvarez-Esteban and the naive fixed point start at the arithmetic mean (iteration 0);
    ``S*`` is the Alvarez-Esteban limit at a relative step of 1e-13. Columns: ``iteration``,
    ``method``, ``relative_error``.
    """
    import torch

    from covwb.covariance.geometry import check_spd_stack
    from covwb.spd.bures_wasserstein import bw_barycentre

    X = torch.from_numpy(check_spd_stack(covs, name="matrices", min_matrices=2))
    target = bw_barycentre(X, tol=1e-13, max_iter=1000).mean
    norm = float(torch.linalg.matrix_norm(target))
    rows = []
    for method in ("alvarez-esteban", "naive"):
        S = X.mean(0)
        for k in range(max_iter + 1):
            rows.append(
                {
                    "iteration": k,
                    "method": method,
                    "relative_error": float(torch.linalg.matrix_norm(S - target)) / norm,
                }
            )
            S = bw_barycentre(X, tol=0.0, max_iter=1, init=S, method=method).mean
    return pd.DataFrame(rows)


RIDGE_METRICS: dict[str, str] = {
    "riemann": "AIRM",
    "logeuclid": "LEM",
    "wasserstein": "BW",
    "gbw": "GBW (M = diag of the mean)",
    "gbw_theta": "θ-GBW (θ = 0.5)",
}
"""The metrics of the ridge panel and their labels there (short labels with the GBW settings used)."""


def ridge_sensitivity(
    dim: int = 20, rank: int = 5, *, ridges: tuple[float, float] = (1e-8, 1e-6), seed: int = 0
) -> pd.DataFrame:
    """How far changing the ridge of a rank-deficient covariance moves it, under each metric.

    ``C = Z Z^T / rank`` (Z standard normal, shape (dim, rank)); the shift is the distance between
    ``C + ridges[0] I`` and ``C + ridges[1] I``, the reference the distance from ``C + ridges[0] I``
    to an independent draw with the same ridge. Columns: ``metric``, ``shift``, ``reference``,
    ``shift_percent`` (shift over reference, in %).
    """
    from covwb.spd.synthetic import low_rank_covariance

    if not 1 <= rank < dim:
        raise ParameterError(f"The rank must be between 1 and dim - 1 = {dim - 1}, got {rank}.")
    rng = np.random.default_rng(seed)
    C = low_rank_covariance(dim, rank, 0.0, rng)
    other = low_rank_covariance(dim, rank, ridges[0], rng)
    A, B = C + ridges[0] * np.eye(dim), C + ridges[1] * np.eye(dim)
    M = np.diag(np.diag((A + other) / 2))
    rows = []
    for metric, label in RIDGE_METRICS.items():
        kwargs = {"theta": 0.5, "M": M}
        shift = float(distances(A, B, metric, **kwargs))
        reference = float(distances(A, other, metric, **kwargs))
        rows.append(
            {
                "metric": label,
                "shift": shift,
                "reference": reference,
                "shift_percent": 100 * shift / reference,
            }
        )
    return pd.DataFrame(rows)


def precision_failures(
    log10_conditions: np.ndarray,
    *,
    metrics: tuple[str, ...] = ("riemann", "logeuclid", "wasserstein", "gbw_theta"),
    dim: int = 8,
    n_matrices: int = 16,
    seed: int = 0,
    rtol: float = 1e-2,
) -> pd.DataFrame:
    """Share of a batch that batch normalisation gets wrong in float32 and float64, per condition number.

    A matrix fails when its output is not finite, not positive definite (Cholesky), or off the
    float64 output of the same layer by more than ``rtol`` in relative Frobenius norm (float32
    only); the whole batch fails when the layer raises. Columns: ``log10_condition``, ``metric``,
    ``dtype``, ``failure_rate``.
    """
    import torch

    from covwb.spd.synthetic import synthetic_batch

    rows = []
    for k in np.asarray(log10_conditions, dtype=float):
        X = synthetic_batch(n_matrices, dim, float(k), seed=seed).matrices
        for metric in metrics:
            reference = None
            for dtype in ("float64", "float32"):
                layer = build_layer(dim, metric, mean_iterations=20, dtype=dtype)
                torch_dtype = layer.weight.dtype
                try:
                    with torch.no_grad():
                        out = layer(torch.from_numpy(X).to(torch_dtype)).to(torch.float64)
                    bad = ~torch.isfinite(out).all((-1, -2))
                    bad |= torch.linalg.cholesky_ex(torch.nan_to_num(out)).info > 0
                    if reference is not None:
                        err = torch.linalg.matrix_norm(out - reference) / torch.linalg.matrix_norm(reference)
                        bad |= ~(err <= rtol)
                    else:
                        reference = out
                    rate = float(bad.to(torch.float64).mean())
                except (RuntimeError, torch.linalg.LinAlgError):
                    rate = 1.0
                rows.append({"log10_condition": float(k), "metric": metric, "dtype": dtype, "failure_rate": rate})
    return pd.DataFrame(rows)
