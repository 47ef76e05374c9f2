"""Compiled kernels for the per-step penalty weights of :mod:`lib.fairness.batch_penalty`.

A training step needs, for predictions ``v`` of one batch, the weights
``w_i = f · Σ_j sign(v_i − v_j) C_ij`` of a constant symmetric matrix ``C`` (see that module). The
kernels below compute them exactly, with ``sign(0) = 0`` for tied predictions (the subgradient that
autograd gives ``|v_i − v_j|`` at zero), in one call and without any b × b temporary:

- :func:`grouped_weights`: ``C_ij = T_{g_i g_j} / 2`` for cells ``g``: one sort and a running sum over
  cells, O(b log b + bK);
- :func:`sorted_weights`: ``C_ij = |z_i − z_j| + u_i + u_j + τ`` for one continuous attribute ``z``: one
  sort and a Fenwick tree over the prediction ranks, swept in ``z`` order, O(b log b);
- :func:`dense_weights`: ``C_ij = D_ij + u_i + u_j + τ`` for any symmetric ``D``, one pass over the
  upper triangle, O(b²).

Numba compiles each kernel on its first call in a process (about a second; nothing is written to disk).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True)
def grouped_weights(values: np.ndarray, cells: np.ndarray, matrix: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Weights of a grouped term: ``w_i = Σ_{v_j < v_i} T_{g_i g_j} + (T_{g_i g_i} + Σ_{v_j = v_i} T_{g_i g_j}) / 2 + s_i``.

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
        a = (less_count - more_count) - (later_less_count - later_more_count)
        s = (less_z - more_z) - (later_less_z - later_more_z)
        r = count_below[rank] - above_count
        t = u_below[rank] - (total_u - u_below[rank] - u_sum[rank])
        weights[index[position]] = factor * (z[position] * a - s + (u[position] + level) * r + t)
        node = rank + 1
        while node <= n_ranks:
            tree_count[node] += 1.0
            tree_z[node] += z[position]
            node += node & -node
        seen_count += 1.0
        seen_z += z[position]
    return weights


@njit(nogil=True)
def dense_weights(values: np.ndarray, matrix: np.ndarray, u: np.ndarray, level: float, factor: float) -> np.ndarray:
    """Weights of a dense term: ``w_i = f · Σ_j sign(v_i − v_j)(D_ij + u_i + u_j + τ)``.

    Parameters
    ----------
    values : ndarray of float64, shape (b,)
        Predictions of the batch.
    matrix : ndarray of float64, shape (b, b)
        Symmetric ``D`` (only the upper triangle is read).
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
    pairs = np.zeros(b)
    signs = np.zeros(b)
    for i in range(b):
        for j in range(i + 1, b):
            gap = values[i] - values[j]
            sign = np.sign(gap)
            pairs[i] += sign * (matrix[i, j] + u[j])
            pairs[j] -= sign * (matrix[i, j] + u[i])
            signs[i] += sign
            signs[j] -= sign
    weights = np.empty(b)
    for i in range(b):
        weights[i] = factor * (pairs[i] + (u[i] + level) * signs[i])
    return weights
