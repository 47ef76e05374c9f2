"""Takens-style choice of the ACM lag and order without a grid search.

* **Lag**: the first local minimum of the auto-mutual information (AMI) of each channel with
  its delayed copy, averaged over channels and epochs (Fraser & Swinney 1986). The AMI of a
  series uses a joint histogram of ``n_bins`` equal-width bins over that series' range, in nats.
* **Order**: Cao's (1997) averaged false-neighbour ratio ``E1(d) = E(d+1) / E(d)``, where
  ``E(d)`` is the mean over points of ``||y_i(d+1) - y_n(d+1)|| / ||y_i(d) - y_n(d)||`` (maximum
  norm, ``n`` the nearest neighbour of ``i`` in dimension ``d``, identical points excluded), computed per
  channel and epoch and averaged. The order is the first ``d`` where E1 saturates: the first
  ``d`` whose next increase ``E1(d+1) - E1(d)`` is below ``threshold``.

Both curves come from the training epochs only (:class:`TakensAugmentedCovariances` selects in
``fit``). Cao's curve uses at most ``max_series`` (epoch, channel) series drawn with ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from covwb.eeg.augmented import DEFAULT_ESTIMATOR, augmented_covariances
from covwb.errors import ParameterError

_SERIES_CHUNK = 16
_MIN_KEPT_SAMPLES = 8


@dataclass(frozen=True, eq=False)
class TakensSelection:
    """Lag and order chosen from the AMI and Cao curves.

    Parameters
    ----------
    lag : int
        First local minimum of the averaged AMI, in samples.
    order : int
        Embedding order where Cao's E1 saturates.
    lags : ndarray of int, shape (max_lag + 1,)
        Lags of the AMI curve, 0 .. max_lag samples.
    ami : ndarray, shape (max_lag + 1,)
        Averaged auto-mutual information at each lag, in nats.
    orders : ndarray of int, shape (max_order,)
        Dimensions d = 1 .. max_order of the E1 curve.
    e1 : ndarray, shape (max_order,)
        Averaged Cao ratio E1(d).
    """

    lag: int
    order: int
    lags: np.ndarray
    ami: np.ndarray
    orders: np.ndarray
    e1: np.ndarray


def _series(X: np.ndarray) -> np.ndarray:
    """Epochs (n, C, T) as finite float64 series (n*C, T); ParameterError otherwise."""
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise ParameterError("sparse input is not supported; pass epochs as a dense array.")
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(f"expected epochs of shape (n_trials, n_channels, n_times), got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ParameterError("the epochs hold NaN or infinite samples; repair the recording first.")
    return arr.reshape(-1, arr.shape[2])


def auto_mutual_information(X: np.ndarray, max_lag: int, n_bins: int = 16) -> np.ndarray:
    """Auto-mutual information at lags 0 .. max_lag, averaged over channels and epochs.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Epochs.
    max_lag : int
        Largest lag in samples, below ``n_times - 1``.
    n_bins : int
        Equal-width bins per series for the histograms.

    Returns
    -------
    ndarray, shape (max_lag + 1,)
        Mutual information in nats between ``x(t)`` and ``x(t + lag)``.
    """
    series = _series(X)
    n_series, T = series.shape
    if int(max_lag) != max_lag or not 1 <= max_lag <= T - 2:
        raise ParameterError(f"the largest lag {max_lag} must be a whole number from 1 to {T - 2} samples.")
    low = series.min(axis=1, keepdims=True)
    span = series.max(axis=1, keepdims=True) - low
    span[span == 0] = 1.0
    codes = np.minimum((n_bins * (series - low) / span).astype(np.int64), n_bins - 1)
    offsets = (np.arange(n_series) * n_bins * n_bins)[:, None]
    ami = np.empty(int(max_lag) + 1)
    for lag in range(int(max_lag) + 1):
        joint_index = offsets + codes[:, : T - lag] * n_bins + codes[:, lag:]
        joint = np.bincount(joint_index.ravel(), minlength=n_series * n_bins * n_bins)
        joint = joint.reshape(n_series, n_bins, n_bins) / (T - lag)
        outer = joint.sum(axis=2, keepdims=True) * joint.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(joint > 0, joint * np.log(joint / outer), 0.0)
        ami[lag] = terms.sum(axis=(1, 2)).mean()
    return ami


def first_minimum(curve: np.ndarray) -> int:
    """Index (>= 1) of the first local minimum of a curve; its global minimum past 0 when none.

    Parameters
    ----------
    curve : ndarray, shape (n,), n >= 2

    Returns
    -------
    int
    """
    values = np.asarray(curve, dtype=np.float64)
    inner = np.flatnonzero((values[1:-1] < values[:-2]) & (values[1:-1] <= values[2:])) + 1
    return int(inner[0]) if inner.size else int(np.argmin(values[1:]) + 1)


def _cao_e(series: np.ndarray, lag: int, max_order: int) -> np.ndarray:
    """Cao's E(d) for d = 1 .. max_order + 1 per series, shape (n_series, max_order + 1)."""
    n_series, T = series.shape
    n_points = T - (max_order + 1) * lag
    rows = np.arange(n_points)
    E = np.empty((n_series, max_order + 1))
    for start in range(0, n_series, _SERIES_CHUNK):
        block = series[start : start + _SERIES_CHUNK]
        first = block[:, :n_points]
        dist = np.abs(first[:, :, None] - first[:, None, :])
        for d in range(1, max_order + 2):
            masked = np.where(dist > 0, dist, np.inf)
            masked[:, rows, rows] = np.inf
            nearest = np.argmin(masked, axis=2)
            near_dist = np.take_along_axis(masked, nearest[:, :, None], axis=2)[:, :, 0]
            shifted = block[:, d * lag : d * lag + n_points]
            extra = np.abs(shifted - np.take_along_axis(shifted, nearest, axis=1))
            with np.errstate(invalid="ignore"):
                ratio = np.maximum(near_dist, extra) / near_dist
            E[start : start + _SERIES_CHUNK, d - 1] = np.nanmean(np.where(np.isfinite(ratio), ratio, np.nan), axis=1)
            dist = np.maximum(dist, np.abs(shifted[:, :, None] - shifted[:, None, :]))
    return E


def cao_e1(X: np.ndarray, lag: int, max_order: int, *, max_series: int = 64, seed: int = 0) -> np.ndarray:
    """Cao's ratio E1(d) = E(d+1) / E(d) for d = 1 .. max_order, averaged over channels and epochs.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Epochs.
    lag : int
        Delay in samples.
    max_order : int
        Largest dimension d.
    max_series : int
        At most this many (epoch, channel) series, drawn without replacement with ``seed``.
    seed : int
        Seed of the draw.

    Returns
    -------
    ndarray, shape (max_order,)
        Averaged E1 (unitless; near 1 once the dimension suffices).
    """
    series = _series(X)
    T = series.shape[1]
    if (max_order + 1) * lag > T - _MIN_KEPT_SAMPLES:
        raise ParameterError(
            f"epochs of {T} samples are too short for Cao's test up to order {max_order} at lag {lag}; "
            "lower the largest order or lengthen the window."
        )
    if len(series) > max_series:
        series = series[np.sort(np.random.default_rng(seed).choice(len(series), max_series, replace=False))]
    E = _cao_e(series, int(lag), int(max_order))
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = E[:, 1:] / E[:, :-1]
    return np.nanmean(np.where(np.isfinite(e1), e1, np.nan), axis=0)


def saturation_order(e1: np.ndarray, threshold: float = 0.05) -> int:
    """First dimension d (1-based) whose next increase of E1 is below ``threshold``; the last d when none."""
    steps = np.diff(np.asarray(e1, dtype=np.float64))
    flat = np.flatnonzero(steps < threshold)
    return int(flat[0] + 1) if flat.size else len(e1)


def select_order_lag(
    X: np.ndarray,
    *,
    max_lag: int = 30,
    max_order: int = 10,
    n_bins: int = 16,
    threshold: float = 0.05,
    max_series: int = 64,
    seed: int = 0,
    full_rank: bool = False,
) -> TakensSelection:
    """Choose the ACM lag (first AMI minimum) and order (Cao E1 saturation) from training epochs.

    The lag search is capped so that the embedding at ``max_order`` keeps samples, and the
    order is capped so that ``T - order * lag`` keeps at least 8 samples and, with ``full_rank``,
    more samples than the ``order * n_channels`` rows of the ACM (needed by the sample covariance
    to be SPD; shrinkage estimators are SPD without it).

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Training epochs.
    max_lag, max_order : int
        Largest lag (samples) and order examined.
    n_bins : int
        Histogram bins of the AMI.
    threshold : float
        Saturation threshold of E1.
    max_series : int
        Series used for Cao's curve.
    seed : int
        Seed of the series draw.
    full_rank : bool
        Cap the order so that the sample ACM has more samples than rows (the sample estimator).

    Returns
    -------
    TakensSelection

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(300) / 100.0  # 3 s at 100 Hz
    >>> X = np.sin(2 * np.pi * 10 * t + rng.uniform(0, 6, (8, 2, 1))) + 0.1 * rng.standard_normal((8, 2, 300))
    >>> selection = select_order_lag(X, max_lag=10, max_order=5)  # a 10 Hz rhythm: lag near a quarter period
    >>> selection.lag, selection.order
    (2, 5)
    """
    T = np.asarray(X).shape[-1]
    max_lag = int(min(max_lag, max(1, (T - _MIN_KEPT_SAMPLES) // (max_order + 2))))
    if max_lag < 1 or T < _MIN_KEPT_SAMPLES + 3:
        raise ParameterError(f"epochs of {T} samples are too short for the Takens selection; lengthen the window.")
    ami = auto_mutual_information(X, max(max_lag, 2), n_bins)[: max_lag + 1]
    lag = first_minimum(ami) if len(ami) > 2 else 1
    top = int(min(max_order, (T - _MIN_KEPT_SAMPLES) // lag - 1))
    e1 = cao_e1(X, lag, top, max_series=max_series, seed=seed)
    n_channels = np.asarray(X).shape[1]
    rows = n_channels if full_rank else 0
    fits = [m for m in range(1, top + 1) if T - m * lag >= max(_MIN_KEPT_SAMPLES, m * rows + 1)]
    order = min(saturation_order(e1, threshold), max(fits, default=1))
    return TakensSelection(
        lag=lag, order=max(order, 1), lags=np.arange(len(ami)), ami=ami, orders=np.arange(1, top + 1), e1=e1
    )


class TakensAugmentedCovariances(TransformerMixin, BaseEstimator):
    """ACM transformer whose order and lag are chosen in ``fit`` by :func:`select_order_lag`.

    Parameters
    ----------
    max_lag, max_order : int
        Search ranges.
    estimator : str
        Covariance estimator of :func:`covwb.eeg.augmented.augmented_covariances` (OAS by default); with
        ``"sample"`` the order is capped so that the ACM has more samples than rows.
    seed : int
        Seed of Cao's series draw.

    Attributes
    ----------
    selection_ : TakensSelection
        Curves and choice on the training epochs.

    Examples
    --------
    >>> X = np.random.default_rng(0).standard_normal((4, 2, 200))
    >>> step = TakensAugmentedCovariances(max_lag=10, max_order=4).fit(X)
    >>> 1 <= step.selection_.order <= 4, step.transform(X).shape[0]
    (True, 4)
    """

    def __init__(
        self, max_lag: int = 30, max_order: int = 10, estimator: str = DEFAULT_ESTIMATOR, seed: int = 0
    ) -> None:
        self.max_lag = max_lag
        self.max_order = max_order
        self.estimator = estimator
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> TakensAugmentedCovariances:
        """Choose order and lag on the training epochs ``X`` (n, C, T)."""
        _series(X)
        self.selection_ = select_order_lag(
            X, max_lag=self.max_lag, max_order=self.max_order, seed=self.seed, full_rank=self.estimator == "sample"
        )
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """ACMs with the chosen order and lag, shape (n, order*C, order*C)."""
        return augmented_covariances(X, self.selection_.order, self.selection_.lag, self.estimator)
