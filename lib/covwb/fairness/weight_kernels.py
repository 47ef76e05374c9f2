"""Compiled kernels for the per-step penalty weights of :mod:`covwb.fairness.batch_penalty`.

A training step needs, for predictions ``v`` of one batch, the weights
``w_i = f · Σ_j sign(v_i − v_j) C_ij`` of a constant symmetric matrix ``C`` (see that module). The
kernels below compute them exactly, with ``sign(0) = 0`` for tied predictions (the subgradient that
autograd gives ``|v_i − v_j|`` at zero), in one call and without any b × b temporary:

- :func:`grouped_weights`: ``C_ij = T_{g_i g_j} / 2`` for cells ``g``: one sort and a running sum over
  cells, O(b log b + bK);
- :func:`sorted_weights`: ``C_ij = |z_i − z_j| + u_i + u_j + τ`` for one continuous attribute ``z``: one
  sort and a Fenwick tree over the prediction ranks, swept in ``z`` order, O(b log b);
- :func:`dense_weights`: ``C_ij = D_ij + u_i + u_j + τ`` for any symmetric ``D``, one pass over ``D``,
  O(b²); :func:`dense_matrix` builds ``D`` and its row sums for a batch, once per batch and epoch.

:func:`centred_dot` turns weights into the value. Numba compiles each kernel on its first call in a
process (about 3 s for all of them; nothing is written to disk).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_SUMS_IN_ANY_ORDER = {"reassoc"}
"""LLVM may reorder the O(b²) sums to vectorise them; no other IEEE rule is relaxed."""


@njit(nogil=True)
def grouped_weights(values: np.ndarray, cells: np.ndarray, matrix: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Weights of a grouped term.

    ``w_i = Σ_{v_j < v_i} T_{g_i g_j} + (T_{g_i g_i} + Σ_{v_j = v_i} T_{g_i g_j}) / 2 + s_i``.

    With ``s_i = −Σ_j T_{g_i g_j} / 2 − T_{g_i g_i} / 2`` this is ``Σ_j sign(v_i − v_j) T_{g_i g_j} / 2``.

    Parameters
    ----------
    values : ndarray of float64, shape (b,)
        Predictions of the batch.
    cells : ndarray of int64, shape (b,)
        Cell of each row, in [0, K).
    matrix : ndarray of float64, shape (K, K)
        Symmetric cell matrix ``T``.
    shifts : ndarray of float64, shape (b,)
        ``s``, the part of each weight that does not depend on the order of the predictions.

    Returns
    -------
    ndarray of float64, shape (b,)
    """
    b = values.size
    k = matrix.shape[0]
    order = np.argsort(values)
    below = np.zeros(k)
    tied = np.zeros(k)
    weights = np.empty(b)
    start = 0
    while start < b:
        stop = start + 1
        while stop < b and values[order[stop]] == values[order[start]]:
            stop += 1
        for position in range(start, stop):
            row = cells[order[position]]
            for cell in range(k):
                tied[cell] += matrix[row, cell]
        for position in range(start, stop):
            i = order[position]
            g = cells[i]
            weights[i] = below[g] + 0.5 * (tied[g] + matrix[g, g]) + shifts[i]
        for cell in range(k):
            below[cell] += tied[cell]
            tied[cell] = 0.0
        start = stop
    return weights


@njit(nogil=True)
def sorted_weights(
    values: np.ndarray, index: np.ndarray, u: np.ndarray, z: np.ndarray, level: float, factor: float
) -> np.ndarray:
    """Weights of a sorted term: ``w_i = f · Σ_j sign(v_i − v_j)(|z_i − z_j| + u_i + u_j + τ)``.

    In ``z`` order ``|z_i − z_j| = sign(i − j)(z_i − z_j)``, so the distance part is
    ``z_i A_i − B_i`` with ``A_i = Σ_j σ_ij``, ``B_i = Σ_j σ_ij z_j`` and
    ``σ_ij = sign(v_i − v_j) sign(i − j)``. Sweeping the rows in ``z`` order, a Fenwick tree over the
    ranks of ``v`` gives the counts and ``z`` sums of the earlier rows below and above ``v_i``; the later
    rows follow from the totals per rank.

    Parameters
    ----------
    values : ndarray of float64, shape (b,)
        Predictions of the batch, in batch order.
    index : ndarray of int64, shape (b,)
        Batch positions in increasing order of ``z``.
    u : ndarray of float64, shape (b,)
        ``u`` in ``z`` order.
    z : ndarray of float64, shape (b,)
        The attribute in increasing order (best centred: the result does not depend on a shift).
    level : float
        ``τ``.
    factor : float
        ``f``.

    Returns
    -------
    ndarray of float64, shape (b,)
        In batch order.
    """
    b = index.size
    v = np.empty(b)
    for position in range(b):
        v[position] = values[index[position]]
    order = np.argsort(v)
    ranks = np.empty(b, np.int64)
    n_ranks = 0
    for position in range(b):
        if position > 0 and v[order[position]] != v[order[position - 1]]:
            n_ranks += 1
        ranks[order[position]] = n_ranks
    n_ranks += 1
    count = np.zeros(n_ranks)
    z_sum = np.zeros(n_ranks)
    u_sum = np.zeros(n_ranks)
    for position in range(b):
        count[ranks[position]] += 1.0
        z_sum[ranks[position]] += z[position]
        u_sum[ranks[position]] += u[position]
    count_below = np.empty(n_ranks)
    z_below = np.empty(n_ranks)
    u_below = np.empty(n_ranks)
    total_count = total_z = total_u = 0.0
    for rank in range(n_ranks):
        count_below[rank] = total_count
        z_below[rank] = total_z
        u_below[rank] = total_u
        total_count += count[rank]
        total_z += z_sum[rank]
        total_u += u_sum[rank]
    tree_count = np.zeros(n_ranks + 1)
    tree_z = np.zeros(n_ranks + 1)
    seen_count = seen_z = 0.0
    weights = np.empty(b)
    for position in range(b):
        rank = ranks[position]
        less_count = less_z = 0.0
        node = rank
        while node > 0:
            less_count += tree_count[node]
            less_z += tree_z[node]
            node -= node & -node
        upto_count = upto_z = 0.0
        node = rank + 1
        while node > 0:
            upto_count += tree_count[node]
            upto_z += tree_z[node]
            node -= node & -node
        more_count = seen_count - upto_count
        more_z = seen_z - upto_z
        above_count = total_count - count_below[rank] - count[rank]
        above_z = total_z - z_below[rank] - z_sum[rank]
        later_less_count = count_below[rank] - less_count
        later_less_z = z_below[rank] - less_z
        later_more_count = above_count - more_count
        later_more_z = above_z - more_z
        crossed_count = (less_count - more_count) - (later_less_count - later_more_count)
        crossed_z = (less_z - more_z) - (later_less_z - later_more_z)
        signs = count_below[rank] - above_count
        signed_u = u_below[rank] - (total_u - u_below[rank] - u_sum[rank])
        weights[index[position]] = factor * (
            z[position] * crossed_count - crossed_z + (u[position] + level) * signs + signed_u
        )
        node = rank + 1
        while node <= n_ranks:
            tree_count[node] += 1.0
            tree_z[node] += z[position]
            node += node & -node
        seen_count += 1.0
        seen_z += z[position]
    return weights


@njit(nogil=True, fastmath=_SUMS_IN_ANY_ORDER)
def dense_weights(values: np.ndarray, matrix: np.ndarray, u: np.ndarray, level: float, factor: float) -> np.ndarray:
    """Weights of a dense term: ``w_i = f · Σ_j sign(v_i − v_j)(D_ij + u_i + u_j + τ)``.

    Parameters
    ----------
    values : ndarray of float64, shape (b,)
        Predictions of the batch.
    matrix : ndarray of float64, shape (b, b)
        Symmetric ``D``.
    u : ndarray of float64, shape (b,)
    level : float
        ``τ``.
    factor : float
        ``f``.

    Returns
    -------
    ndarray of float64, shape (b,)
    """
    b = values.size
    weights = np.empty(b)
    for i in range(b):
        pairs = 0.0
        signs = 0.0
        for j in range(b):
            gap = values[i] - values[j]
            sign = (gap > 0.0) * 1.0 - (gap < 0.0) * 1.0
            pairs += sign * (matrix[i, j] + u[j])
            signs += sign
        weights[i] = factor * (pairs + (u[i] + level) * signs)
    return weights


@njit(nogil=True)
def centred_dot(values: np.ndarray, weights: np.ndarray) -> float:
    """``Σ_i (v_i − v̄) w_i``: a term's value from its weights (it is positively homogeneous of degree one).

    The weights sum to zero, so centring changes nothing but the rounding when the predictions share a
    large offset.

    Parameters
    ----------
    values, weights : ndarray of float64, shape (b,)

    Returns
    -------
    float
    """
    mean = values.mean()
    total = 0.0
    for i in range(values.size):
        total += (values[i] - mean) * weights[i]
    return total


@njit(nogil=True, fastmath=_SUMS_IN_ANY_ORDER)
def _distances_from(x: np.ndarray, i: int, levels: bool, out: np.ndarray) -> None:
    """Distances of row i to every row, into ``out``: √2 between distinct levels, else ``|x_i − x_j|``."""
    if levels:
        for j in range(x.size):
            out[j] = np.sqrt(2.0) * (x[j] != x[i])
    else:
        for j in range(x.size):
            out[j] = abs(x[i] - x[j])


@njit(nogil=True, fastmath=_SUMS_IN_ANY_ORDER)
def dense_matrix(
    rows: np.ndarray, columns: np.ndarray, levels: np.ndarray, jdcov: bool, c: float, unbiased: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The raw matrix of a dense term over some rows, and its row sums.

    CCdCov: ``D_ij`` is the Euclidean distance between the rows' encodings (one-hot levels √2 apart).
    JdCov: ``D_ij = −Π_k (c − Ũ^k_ij)`` with ``Ũ^k`` the U-centred (``unbiased``, zero diagonal) or
    double-centred distance matrix of attribute k, and a zero diagonal when ``unbiased``.

    Parameters
    ----------
    rows : ndarray of int64, shape (b,)
        Rows of the batch.
    columns : ndarray of float64, shape (n, a)
        Per attribute, its level codes (``levels[k]``) or its single encoded column, for all n rows.
    levels : ndarray of bool, shape (a,)
        Which attributes are one-hot encoded levels.
    jdcov : bool
        JdCov product instead of joint distances.
    c : float
        JdCov constant.
    unbiased : bool
        U- or double centring (JdCov only).

    Returns
    -------
    matrix : ndarray of float64, shape (b, b)
        Symmetric ``D``.
    rows_sum : ndarray of float64, shape (b,)
        ``Σ_j D_ij``.
    """
    b = rows.size
    a = columns.shape[1]
    x = np.empty((a, b))
    for i in range(b):
        for k in range(a):
            x[k, i] = columns[rows[i], k]
    distances = np.empty(b)
    centring = np.zeros((a, b))
    if jdcov:
        divisor, grand = (b - 2.0, (b - 1.0) * (b - 2.0)) if unbiased else (float(b), float(b) * b)
        for k in range(a):
            for i in range(b):
                _distances_from(x[k], i, levels[k], distances)
                centring[k, i] = distances.sum()
            shift = 0.5 * centring[k].sum() / grand
            for i in range(b):
                centring[k, i] = centring[k, i] / divisor - shift
    matrix = np.empty((b, b))
    rows_sum = np.empty(b)
    for i in range(b):
        row = matrix[i]
        row[:] = -1.0 if jdcov else 0.0
        for k in range(a):
            _distances_from(x[k], i, levels[k], distances)
            if jdcov:
                for j in range(b):
                    row[j] *= c - (distances[j] - centring[k, i] - centring[k, j])
            else:
                for j in range(b):
                    row[j] += distances[j] * distances[j]
        if not jdcov:
            for j in range(b):
                row[j] = np.sqrt(row[j])
        elif unbiased:
            row[i] = 0.0
        rows_sum[i] = row.sum()
    return matrix, rows_sum
