"""Distance covariance and correlation in numpy: V- and U-statistics, exact O(n log n) in one dimension.

Definitions (Székely, Rizzo & Bakirov 2007) with ``a_kl = ‖x_k − x_l‖`` and ``b_kl = ‖y_k − y_l‖``:

- V-statistic ``dCov²_n = (1/n²) Σ A_kl B_kl`` with double-centred ``A``, ``B`` (always ≥ 0);
- U-statistic ``dCov²_U = Σ_{k≠l} Ã_kl B̃_kl / (n(n−3))`` with U-centred ``Ã``, ``B̃`` (unbiased, may be < 0).

Both are written through the raw sums ``S = Σ_kl a_kl b_kl``, the row sums ``a_k·``, ``b_k·`` and the totals::

    V = S/n² − 2 Σ_k a_k· b_k· / n³ + a_·· b_·· / n⁴
    U = (S − 2 Σ_k a_k· b_k· / (n−2) + a_·· b_·· / ((n−1)(n−2))) / (n(n−3))

In one dimension the row sums come from one sort and ``S`` from a bottom-up merge sort that counts,
for every point, the points before it in ``x`` order with a larger ``y`` rank (Huo & Székely 2016 in
spirit): O(n log n) time and O(n) memory, every merge level vectorised. Otherwise ``S`` and the row sums
are accumulated over row blocks of the distance matrices: O(n²) time, O(block · n) memory.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from covwb.errors import ParameterError

_BLOCK = 2048


def _as_samples(values: np.ndarray, what: str) -> np.ndarray:
    """``values`` as a float64 array of shape (n, p), rejecting NaN and infinities."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ParameterError(f"The {what} must be a vector or a matrix with one row per sample, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"The {what} contain missing or infinite values; remove those rows first.")
    return arr


def _checked_pair(x: np.ndarray, y: np.ndarray, unbiased: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validated (n, p) and (n, q) float64 samples of equal length."""
    xs, ys = _as_samples(x, "first sample"), _as_samples(y, "second sample")
    if xs.shape[0] != ys.shape[0]:
        raise ParameterError(f"The two samples have {xs.shape[0]} and {ys.shape[0]} rows; they must be paired.")
    if unbiased and xs.shape[0] < 4:
        raise ParameterError("The unbiased distance covariance needs at least 4 samples.")
    if xs.shape[0] < 2:
        raise ParameterError("A distance covariance needs at least 2 samples.")
    return xs, ys


def row_sums_1d(values: np.ndarray) -> np.ndarray:
    """Row sums ``Σ_l |v_k − v_l|`` of the distance matrix of a 1-D sample, in O(n log n).

    Parameters
    ----------
    values : ndarray, shape (n,)
        The sample.

    Returns
    -------
    ndarray, shape (n,)
        ``Σ_l |v_k − v_l|`` for each ``k``.
    """
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    s = v[order]
    n = s.size
    below = np.concatenate(([0.0], np.cumsum(s)[:-1]))
    rank = np.arange(n, dtype=np.float64)
    sums = s * (2.0 * rank - n) + (s.sum() - below) - below
    out = np.empty(n)
    out[order] = sums
    return out


def _cross_sum_1d(x: np.ndarray, y: np.ndarray) -> float:
    """``Σ_kl |x_k − x_l| |y_k − y_l|`` in O(n log n) for 1-D samples.

    With the points in ``x`` order, ``Σ_{i<j} (x_j − x_i)|y_j − y_i| = T − 2 T_inv`` where
    ``T = Σ_{i<j} (x_j − x_i)(y_j − y_i) = n Σ x y − Σ x Σ y`` and ``T_inv`` is the same sum over the
    pairs whose ``y`` order is inverted. A bottom-up merge sort over ``y`` ranks finds, at each level, the
    inverted pairs between a left run and its right run: a point now at merged index ``m`` and at index
    ``m'`` in the previous level (its rank within its own run) has ``|m − m'|`` inverted partners,
    and the sums of ``x`` and ``y`` over the larger left points come from two running sums.
    """
    order = np.argsort(x, kind="stable")
    xs = x[order] - x.mean()
    ys = y[order] - y.mean()
    n = xs.size
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(ys, kind="stable")] = np.arange(n)
    merged = np.arange(n, dtype=np.int64)
    x_m, y_m, rank_m = xs, ys, rank
    index = np.arange(n, dtype=np.int64)
    cum_x = np.zeros(n + 1)
    cum_y = np.zeros(n + 1)
    inverted = 0.0
    level = 0
    while (1 << level) < n:
        width = 1 << level
        step = np.argsort(((merged >> (level + 1)) * n) + rank_m, kind="stable")
        merged, x_m, y_m, rank_m = merged[step], x_m[step], y_m[step], rank_m[step]
        left = ((merged >> level) & 1) == 0
        np.cumsum(np.where(left, x_m, 0.0), out=cum_x[1:])
        np.cumsum(np.where(left, y_m, 0.0), out=cum_y[1:])
        right = np.flatnonzero(~left)
        stop = np.minimum(((right >> (level + 1)) << (level + 1)) + 2 * width, n)
        larger_x = cum_x[stop] - cum_x[right + 1]
        larger_y = cum_y[stop] - cum_y[right + 1]
        inverted += float(np.dot(x_m * y_m, np.abs(index - step)))
        inverted -= float(np.dot(x_m[right], larger_y) + np.dot(y_m[right], larger_x))
        level += 1
    total = n * float(np.dot(xs, ys)) - float(xs.sum()) * float(ys.sum())
    return 2.0 * (total - 2.0 * inverted)


def _blocked_sums(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """``Σ a_kl b_kl`` and the row sums of ``a`` and ``b``, over row blocks of the distance matrices."""
    n = x.shape[0]
    cross = 0.0
    rows_a = np.empty(n)
    rows_b = np.empty(n)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        a = cdist(x[start:stop], x)
        b = cdist(y[start:stop], y)
        cross += float(np.einsum("kl,kl->", a, b))
        rows_a[start:stop] = a.sum(axis=1)
        rows_b[start:stop] = b.sum(axis=1)
    return cross, rows_a, rows_b


def _combine(cross: float, rows_a: np.ndarray, rows_b: np.ndarray, unbiased: bool) -> float:
    """V- or U-statistic from the raw cross sum and the row sums."""
    n = rows_a.size
    inner = float(np.dot(rows_a, rows_b))
    product = float(rows_a.sum()) * float(rows_b.sum())
    if unbiased:
        return (cross - 2.0 * inner / (n - 2) + product / ((n - 1) * (n - 2))) / (n * (n - 3))
    return cross / n**2 - 2.0 * inner / n**3 + product / n**4


def distance_covariance_sq(x: np.ndarray, y: np.ndarray, *, unbiased: bool = False, method: str = "auto") -> float:
    """Squared distance covariance of two paired samples.

    Parameters
    ----------
    x : ndarray, shape (n,) or (n, p)
        First sample.
    y : ndarray, shape (n,) or (n, q)
        Second sample, paired with ``x`` row by row.
    unbiased : bool, default False
        False: the V-statistic ``dCov²_n`` (≥ 0, as ``dcor.distance_covariance_sqr``); True: the
        U-statistic (unbiased, may be negative, as ``dcor.u_distance_covariance_sqr``; needs n ≥ 4).
    method : {"auto", "fast", "blocked"}
        ``"fast"``: the exact O(n log n) algorithm (1-D samples only); ``"blocked"``: O(n²) time in
        O(2048 · n) memory; ``"auto"``: fast when both samples are 1-D.

    Returns
    -------
    float
        ``dCov²`` in the product of the units of ``x`` and ``y``.

    Raises
    ------
    ParameterError
        For unpaired, non-finite or too short samples, an unknown method, or ``"fast"`` on
        multivariate samples.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> round(distance_covariance_sq(x, x**2), 4), distance_covariance_sq(x, np.ones(5))
    (7.296, 0.0)
    """
    xs, ys = _checked_pair(x, y, unbiased)
    one_d = xs.shape[1] == 1 and ys.shape[1] == 1
    if method not in ("auto", "fast", "blocked"):
        raise ParameterError(f"Unknown method '{method}'; choose auto, fast or blocked.")
    if method == "fast" and not one_d:
        raise ParameterError("The fast O(n log n) distance covariance needs two one-dimensional samples.")
    if one_d and method != "blocked":
        a, b = xs[:, 0], ys[:, 0]
        return _combine(_cross_sum_1d(a, b), row_sums_1d(a), row_sums_1d(b), unbiased)
    return _combine(*_blocked_sums(xs, ys), unbiased)


def distance_correlation_sq(x: np.ndarray, y: np.ndarray, *, unbiased: bool = False) -> float:
    """Squared distance correlation: ``dCov²(x, y) / √(dVar²(x) dVar²(y))``, 0 when a variance is 0.

    Parameters
    ----------
    x : ndarray, shape (n,) or (n, p)
        First sample.
    y : ndarray, shape (n,) or (n, q)
        Second sample.
    unbiased : bool, default False
        True gives the bias-corrected version (``dcor.u_distance_correlation_sqr``), from U-statistics.

    Returns
    -------
    float
        In [0, 1] for the V-statistic; the bias-corrected version may be slightly negative.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> round(distance_correlation_sq(x, x**2), 4)  # nonlinear dependence, close to 1
    0.974
    """
    xs, ys = _checked_pair(x, y, unbiased)
    cov = distance_covariance_sq(xs, ys, unbiased=unbiased)
    var_x = distance_covariance_sq(xs, xs, unbiased=unbiased)
    var_y = distance_covariance_sq(ys, ys, unbiased=unbiased)
    denominator = np.sqrt(var_x * var_y) if var_x > 0 and var_y > 0 else 0.0
    return float(cov / denominator) if denominator > 0 else 0.0
