"""Differentiable mini-batch penalties in torch: dCov, JdCov and CCdCov between predictions and protected attributes.

All are U-statistics by default (unbiased, may be negative); each also has its V-statistic (≥ 0 for dCov and
CCdCov). Distances of the predictions use ``|ŷ_i − ŷ_j|`` in 1-D and ``torch.cdist`` (exact mode, not the matrix-product shortcut) otherwise — never
``sqrt`` of squared distances, whose gradient is NaN at zero distance. By the projection identity
``Σ Ã_kl B̃_kl = Σ a_kl B̃_kl`` only the raw distance matrix of ŷ carries a gradient; the centred matrices of
the protected attributes are built without it. Cost O(b²) per batch of b rows.

- ``dcov``: ``Σ_m dCov²(ŷ, Z_m)``, one term per attribute (pairwise: blind to intersections);
- ``ccdcov``: ``dCov²(ŷ, [Z_1, …, Z_d])``, zero iff ŷ is independent of the attributes jointly;
- ``jdcov``: ``JdCov²(ŷ, Z_1, …, Z_d; c)`` (Chakraborty & Zhang 2019), zero iff all are mutually
  independent, hence positive when the attributes depend on each other even if ŷ does not.

:mod:`covwb.fairness.batch_penalty` computes the same values faster inside training loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from covwb.errors import ParameterError

if TYPE_CHECKING:
    import torch

PENALTIES: dict[str, str] = {
    "dcov": "dCov (sum over attributes)",
    "jdcov": "JdCov (joint)",
    "ccdcov": "CCdCov (concatenated)",
}
"""The penalty kinds and their display names."""


def distances(values: torch.Tensor) -> torch.Tensor:
    """Euclidean distance matrix with finite gradients everywhere.

    Parameters
    ----------
    values : Tensor, shape (n,) or (n, p)
        Samples.

    Returns
    -------
    Tensor, shape (n, n)
        ``|v_i − v_j|`` for 1-D input, ``torch.cdist`` otherwise.
    """
    import torch

    if values.dim() == 1:
        return (values[:, None] - values[None, :]).abs()
    if values.shape[1] == 1:
        return (values - values.T).abs()
    return torch.cdist(values, values, compute_mode="donot_use_mm_for_euclid_dist")


def constant_distances(values: torch.Tensor) -> torch.Tensor:
    """Euclidean distance matrix of a constant (no gradient): scipy's exact ``cdist`` for p > 1.

    Parameters
    ----------
    values : Tensor, shape (n, p)
        Samples.

    Returns
    -------
    Tensor, shape (n, n)
        Same dtype and device as ``values``.
    """
    import torch
    from scipy.spatial.distance import cdist

    if values.dim() == 1 or values.shape[1] == 1:
        return distances(values.detach())
    array = values.detach().cpu().numpy()
    return torch.from_numpy(cdist(array, array)).to(dtype=values.dtype, device=values.device)


def u_centre(matrix: torch.Tensor) -> torch.Tensor:
    """U-centring of symmetric matrices with zero diagonal, shape (..., n, n) → (..., n, n); needs n ≥ 4."""
    n = matrix.shape[-1]
    rows = matrix.sum(dim=-1)
    total = rows.sum(dim=-1)[..., None, None]
    centred = matrix - rows[..., :, None] / (n - 2) - rows[..., None, :] / (n - 2) + total / ((n - 1) * (n - 2))
    centred.diagonal(dim1=-2, dim2=-1).zero_()
    return centred


def v_centre(matrix: torch.Tensor) -> torch.Tensor:
    """Double centring of symmetric matrices, shape (..., n, n) → (..., n, n)."""
    rows = matrix.mean(dim=-1)
    return matrix - rows[..., :, None] - rows[..., None, :] + rows.mean(dim=-1)[..., None, None]


def _check(predictions: torch.Tensor, blocks: Sequence[torch.Tensor], unbiased: bool) -> int:
    """Batch size after checking that predictions and blocks are paired."""
    n = predictions.shape[0]
    if not blocks:
        raise ParameterError("A fairness penalty needs at least one protected attribute.")
    if any(block.shape[0] != n for block in blocks):
        raise ParameterError("Every protected attribute must have one row per prediction.")
    if n < (4 if unbiased else 2):
        raise ParameterError(f"A batch of {n} rows is too small for the penalty; use at least 4.")
    return n


def dcov_sq(predictions: torch.Tensor, protected: torch.Tensor, *, unbiased: bool = True) -> torch.Tensor:
    """Squared distance covariance between predictions and one block of protected attributes.

    Parameters
    ----------
    predictions : Tensor, shape (n,) or (n, q)
        Model outputs (with gradient).
    protected : Tensor, shape (n, p)
        Encoded protected attributes (constant).
    unbiased : bool, default True
        U-statistic (True) or V-statistic.

    Returns
    -------
    Tensor, shape ()
        ``dCov²`` (U or V), differentiable in ``predictions``.
    """
    import torch

    n = _check(predictions, [protected], unbiased)
    with torch.no_grad():
        z = constant_distances(protected.to(predictions.dtype))
        centred = u_centre(z) if unbiased else v_centre(z)
    raw = distances(predictions)
    scale = n * (n - 3) if unbiased else n * n
    return (raw * centred).sum() / scale


def ccdcov_sq(predictions: torch.Tensor, blocks: Sequence[torch.Tensor], *, unbiased: bool = True) -> torch.Tensor:
    """CCdCov²: dCov² between predictions and the concatenated protected attributes.

    Parameters
    ----------
    predictions : Tensor, shape (n,)
        Model outputs.
    blocks : sequence of Tensor, each of shape (n, p_m)
        Encoded protected attributes.
    unbiased : bool, default True
        U-statistic (True) or V-statistic.

    Returns
    -------
    Tensor, shape ()
    """
    import torch

    _check(predictions, blocks, unbiased)
    return dcov_sq(predictions, torch.cat(list(blocks), dim=1), unbiased=unbiased)


def jdcov_sq(
    predictions: torch.Tensor, blocks: Sequence[torch.Tensor], *, c: float = 1.0, unbiased: bool = True
) -> torch.Tensor:
    """JdCov²(ŷ, Z_1, …, Z_d; c), the U- or V-statistic of Chakraborty & Zhang (2019).

    U-statistic: ``Σ_{k≠l} ∏_i (Ũ_i(k, l) + c) / (n(n−3)) − c^D (n−1)/(n−3)`` over the ``D = d + 1``
    variables, with ``Ũ_i = −`` the U-centred distance matrix of variable ``i``; with ``D = 2`` it equals
    the U-statistic dCov², in general ``c^{D−2} Σ_pairs dCov²_U`` plus the higher-order terms.
    V-statistic: ``Σ_{k,l} ∏_i (Û_i(k, l) + c) / n² − c^D`` with ``Û_i = −`` the double-centred distance
    matrix; it equals ``c^{D−2} Σ_pairs dCov²_n + c^{D−3} Σ_triples (1/n²) Σ_kl Û_i Û_j Û_m + …`` (the
    ``c^{D−1}`` term vanishes as double-centred matrices sum to 0), with ``D = 2`` the V-statistic dCov².

    Parameters
    ----------
    predictions : Tensor, shape (n,)
        Model outputs.
    blocks : sequence of Tensor, each of shape (n, p_m)
        Encoded protected attributes.
    c : float, default 1.0
        The JdCov constant (> 0), weighting lower-order against higher-order dependence.
    unbiased : bool, default True
        U-statistic (True) or V-statistic.

    Returns
    -------
    Tensor, shape ()
    """
    import torch

    if c <= 0:
        raise ParameterError(f"The JdCov constant c must be positive, got {c}.")
    n = _check(predictions, blocks, unbiased)
    centre = u_centre if unbiased else v_centre
    power = len(blocks) + 1
    with torch.no_grad():
        weight = torch.ones((n, n), dtype=predictions.dtype, device=predictions.device)
        for block in blocks:
            weight = weight * (c - centre(constant_distances(block.to(predictions.dtype))))
    own = c - centre(distances(predictions))
    if not unbiased:
        return (own * weight).sum() / (n * n) - c**power
    weight.diagonal().zero_()
    return (own * weight).sum() / (n * (n - 3)) - c**power * (n - 1) / (n - 3)


def penalty(
    kind: str, predictions: torch.Tensor, blocks: Sequence[torch.Tensor], *, c: float = 1.0, unbiased: bool = True
) -> torch.Tensor:
    """One of :data:`PENALTIES` on a mini-batch, differentiable in ``predictions``.

    Parameters
    ----------
    kind : {"dcov", "jdcov", "ccdcov"}
        ``dcov`` sums dCov² over the attributes.
    predictions : Tensor, shape (n,)
        Model outputs.
    blocks : sequence of Tensor, each of shape (n, p_m)
        Encoded protected attributes.
    c : float, default 1.0
        JdCov constant.
    unbiased : bool, default True
        U- or V-statistic.

    Returns
    -------
    Tensor, shape ()
    """
    if kind == "dcov":
        _check(predictions, blocks, unbiased)
        return sum(dcov_sq(predictions, block, unbiased=unbiased) for block in blocks)
    if kind == "ccdcov":
        return ccdcov_sq(predictions, blocks, unbiased=unbiased)
    if kind == "jdcov":
        return jdcov_sq(predictions, blocks, c=c, unbiased=unbiased)
    raise ParameterError(f"Unknown penalty '{kind}'; choose one of {', '.join(PENALTIES)}.")
