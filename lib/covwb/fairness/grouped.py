"""The exact full-data penalty for categorical and intersectional protected attributes: O(n log n + nK).

When the protected attributes are categorical, every row ``i`` belongs to one of ``K`` cells ``g_i`` and the
(U- or double-) centred distance matrix of the attributes is a ``K × K`` matrix ``M`` indexed by cells. For
the U-statistic, with cell encodings ``e_k``, ``Δ_kl = ‖e_k − e_l‖``, counts ``n_l``, ``ρ_k = Σ_l n_l Δ_kl``
and ``t = Σ_k n_k ρ_k``::

    M_kl = Δ_kl − (ρ_k + ρ_l)/(n−2) + t/((n−1)(n−2)),   P = Σ_i Σ_j |ŷ_i − ŷ_j| M_{g_i g_j} / (n(n−3))

(V-statistic: ``/n``, ``t/n²`` and ``/n²``). Given the order of ŷ, ``P`` is linear in ŷ:
``P = Σ_i ŷ_i w_i`` with ``w_i = 2 Σ_j sign(ŷ_i − ŷ_j) M_{g_i g_j}``, one running sum of the rows of ``M``
over the sorted rows (:func:`covwb.fairness.weight_kernels.grouped_weights`, the kernel the training loop
uses), so one sort and O(nK) work give the value, and the gradient is exact: the weights are constants
for autograd, which sees one dot product. JdCov uses ``M = −W̃``, the U-centred (V: double-
centred) cell matrix of ``W = ∏_m (c − M^(m))``, plus a constant; ``dcov`` sums the matrices of the single
attributes. :func:`combine_cells` builds ``M`` for many sets of cell counts at once (one per mini-batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from covwb.errors import ParameterError
from covwb.fairness.torch_penalties import PENALTIES

if TYPE_CHECKING:
    import torch


def cell_distances(encoding: np.ndarray) -> np.ndarray:
    """Distances ``Δ_kl = ‖e_k − e_l‖`` between the encodings of the cells, shape (K, p) → (K, K)."""
    from scipy.spatial.distance import cdist

    return cdist(encoding, encoding)


def centred_cells(delta: np.ndarray, counts: np.ndarray, unbiased: bool) -> np.ndarray:
    """Centred distance matrix per pair of cells, for one or many sets of cell counts.

    Parameters
    ----------
    delta : ndarray, shape (K, K)
        Distances between the cell encodings (:func:`cell_distances`).
    counts : ndarray, shape (..., K)
        Rows per cell in each set.
    unbiased : bool
        U-centring (True) or double centring.

    Returns
    -------
    ndarray, shape (..., K, K)
        ``Δ_kl − (ρ_k + ρ_l)/(n−2) + t/((n−1)(n−2))`` (U) or ``Δ_kl − (ρ_k + ρ_l)/n + t/n²`` (V), with
        ``ρ = Δ counts`` and ``t = counts · ρ``.
    """
    n = counts.sum(axis=-1)[..., None, None]
    rho = counts @ delta
    total = np.einsum("...k,...k->...", counts, rho)[..., None, None]
    ends = rho[..., :, None] + rho[..., None, :]
    if unbiased:
        return delta - ends / (n - 2) + total / ((n - 1) * (n - 2))
    return delta - ends / n + total / n**2


def combine_cells(
    kind: str, deltas: Sequence[np.ndarray], counts: np.ndarray, *, c: float = 1.0, unbiased: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Cell matrices and constants of a penalty, for one or many sets of cell counts (vectorised).

    Parameters
    ----------
    kind : {"dcov", "jdcov", "ccdcov"}
        The penalty.
    deltas : sequence of ndarray, each of shape (K, K)
        Cell distances: one per attribute (``dcov``, ``jdcov``) or one of the concatenation (``ccdcov``).
    counts : ndarray, shape (..., K)
        Rows per cell in each set, float64.
    c : float, default 1.0
        JdCov constant.
    unbiased : bool, default True
        U- or V-statistic.

    Returns
    -------
    M : ndarray, shape (..., K, K)
        Weights of ``|ŷ_i − ŷ_j|`` by the cells of ``i`` and ``j`` (before normalisation).
    constant : ndarray, shape (...)
        Added to the normalised sum (non-zero for JdCov only).
    """
    n = counts.sum(axis=-1)
    zero = np.zeros(n.shape)
    if kind == "ccdcov":
        return centred_cells(deltas[0], counts, unbiased), zero
    if kind == "dcov":
        return sum(centred_cells(delta, counts, unbiased) for delta in deltas), zero
    weight = np.ones(counts.shape + counts.shape[-1:])
    for delta in deltas:
        weight = weight * (c - centred_cells(delta, counts, unbiased))
    power = len(deltas) + 1
    rows = np.einsum("...kl,...l->...k", weight, counts)
    if unbiased:
        rows = rows - np.diagonal(weight, axis1=-2, axis2=-1)
        total = np.einsum("...k,...k->...", counts, rows)
        centred = weight - (rows[..., :, None] + rows[..., None, :]) / (n - 2)[..., None, None]
        centred = centred + (total / ((n - 1) * (n - 2)))[..., None, None]
        return -centred, c * total / (n * (n - 3)) - c**power * (n - 1) / (n - 3)
    total = np.einsum("...k,...k->...", counts, rows)
    centred = weight - (rows[..., :, None] + rows[..., None, :]) / n[..., None, None] + (total / n**2)[..., None, None]
    return -centred, c * total / n**2 - c**power


def penalty_deltas(kind: str, cell_blocks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The cell distances a penalty needs: of the concatenation (``ccdcov``) or of each attribute.

    Parameters
    ----------
    kind : {"dcov", "jdcov", "ccdcov"}
        The penalty.
    cell_blocks : sequence of ndarray, each of shape (K, p_m)
        Encoding of each cell per attribute.

    Returns
    -------
    list of ndarray, each of shape (K, K)
    """
    if kind not in PENALTIES:
        raise ParameterError(f"Unknown penalty '{kind}'; choose one of {', '.join(PENALTIES)}.")
    if kind == "ccdcov":
        return [cell_distances(np.concatenate(cell_blocks, axis=1))]
    return [cell_distances(block) for block in cell_blocks]


def cell_weights(
    kind: str,
    cell_blocks: Sequence[np.ndarray],
    counts: np.ndarray,
    *,
    c: float = 1.0,
    unbiased: bool = True,
) -> tuple[np.ndarray, float]:
    """Cell matrix ``M`` and additive constant of a penalty on a set with the given cell counts.

    Parameters
    ----------
    kind : {"dcov", "jdcov", "ccdcov"}
        The penalty.
    cell_blocks : sequence of ndarray, each of shape (K, p_m)
        Encoding of each cell, per protected attribute.
    counts : ndarray, shape (K,)
        Number of rows of each cell in the set (zeros allowed).
    c : float, default 1.0
        JdCov constant.
    unbiased : bool, default True
        U- or V-statistic (JdCov: Chakraborty & Zhang's U- or V-statistic).

    Returns
    -------
    M : ndarray, shape (K, K)
        Weights of ``|ŷ_i − ŷ_j|`` by the cells of ``i`` and ``j``, before the ``1/(n(n−3))`` (U) or
        ``1/n²`` (V) normalisation.
    constant : float
        Added to the normalised sum (non-zero for JdCov only).
    """
    counts = np.asarray(counts, dtype=np.float64)
    n = float(counts.sum())
    if n < (4 if unbiased else 2):
        raise ParameterError(f"The grouped penalty needs at least {4 if unbiased else 2} rows, got {int(n)}.")
    if kind == "jdcov" and c <= 0:
        raise ParameterError(f"The JdCov constant c must be positive, got {c}.")
    matrix, constant = combine_cells(kind, penalty_deltas(kind, cell_blocks), counts, c=c, unbiased=unbiased)
    return matrix, float(constant)


def grouped_penalty(
    predictions: torch.Tensor,
    cells: np.ndarray,
    cell_blocks: Sequence[np.ndarray],
    kind: str = "ccdcov",
    *,
    c: float = 1.0,
    unbiased: bool = True,
) -> torch.Tensor:
    """Exact dCov / JdCov / CCdCov between predictions and categorical attributes, in O(n log n + nK).

    Parameters
    ----------
    predictions : Tensor, shape (n,)
        Model outputs (with or without gradient).
    cells : ndarray or Tensor of int, shape (n,)
        Intersectional cell of each row, in ``0 … K−1``.
    cell_blocks : sequence of ndarray, each of shape (K, p_m)
        Encoding of each cell per attribute (:attr:`ProtectedEncoding.cell_blocks`).
    kind : {"dcov", "jdcov", "ccdcov"}
        The penalty.
    c : float, default 1.0
        JdCov constant.
    unbiased : bool, default True
        U- or V-statistic.

    Returns
    -------
    Tensor, shape ()
        Equal to :func:`covwb.fairness.torch_penalties.penalty` on the same rows, differentiable: the
        weights are computed without gradient, so the graph holds one dot product.
    """
    import torch

    n = predictions.shape[0]
    codes = cells.cpu().numpy() if isinstance(cells, torch.Tensor) else np.asarray(cells)
    if codes.shape != (n,):
        raise ParameterError("Give one cell per prediction.")
    from covwb.fairness.weight_kernels import grouped_weights

    k = cell_blocks[0].shape[0]
    counts = np.bincount(codes, minlength=k)
    matrix, constant = cell_weights(kind, cell_blocks, counts, c=c, unbiased=unbiased)
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    shifts = -2.0 * (matrix @ counts)[codes] - 2.0 * np.diagonal(matrix)[codes]
    values = np.ascontiguousarray(predictions.detach().cpu().numpy(), dtype=np.float64)
    weights = grouped_weights(values, codes, 4.0 * matrix, shifts)
    scale = n * (n - 3) if unbiased else n * n
    weights_t = torch.from_numpy(weights).to(dtype=predictions.dtype, device=predictions.device)
    return (predictions * weights_t).sum() / scale + constant


def grouped_statistic(
    predictions: np.ndarray,
    cells: np.ndarray,
    cell_blocks: Sequence[np.ndarray],
    kind: str = "ccdcov",
    *,
    c: float = 1.0,
    unbiased: bool = True,
) -> float:
    """:func:`grouped_penalty` on numpy input, in float64, as a float (for evaluation)."""
    import torch

    value = grouped_penalty(
        torch.tensor(np.asarray(predictions, dtype=np.float64)),
        np.asarray(cells, dtype=np.int64),
        cell_blocks,
        kind,
        c=c,
        unbiased=unbiased,
    )
    return float(value)


def grouped_distance_variance(cells: np.ndarray, cell_blocks: Sequence[np.ndarray]) -> float:
    """V-statistic distance variance ``dVar²_n`` of the concatenated encodings, from the cells only.

    Parameters
    ----------
    cells : ndarray of int, shape (n,)
        Cell of each row.
    cell_blocks : sequence of ndarray, each of shape (K, p_m)
        Encoding of each cell per attribute.

    Returns
    -------
    float
        ``Σ_gh n_g n_h B_gh² / n²`` with the double-centred cell matrix ``B``.
    """
    counts = np.bincount(np.asarray(cells), minlength=cell_blocks[0].shape[0]).astype(np.float64)
    matrix = centred_cells(cell_distances(np.concatenate(cell_blocks, axis=1)), counts, False)
    n = counts.sum()
    return float(counts @ (matrix**2) @ counts) / n**2
