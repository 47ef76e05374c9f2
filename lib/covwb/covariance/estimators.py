"""Covariance estimators, one matrix or a batch of them, and what their spectra say.

This is the project's one covariance helper. The estimators are

* ``"sample"``: the unbiased sample covariance (denominator ``n - 1``), as ``np.cov``;
* ``"ledoit_wolf"`` and ``"oas"``: scikit-learn's ``ledoit_wolf`` and ``oas``
  (``assume_centered=False``, so built on the biased empirical covariance, denominator ``n``),
  written as closed forms vectorised over a batch of matrices;
* ``"shrinkage"``: ``(1 - a) S + a mu I`` with ``S`` the unbiased sample covariance and
  ``mu = tr(S) / p``, as scikit-learn's ``shrunk_covariance(S, a)``.

All four are functions of the centred scatter matrix ``sum_t (x_t - m)(x_t - m)^T``, the number of
samples and, for Ledoit-Wolf, the fourth moment ``sum_t ||x_t - m||^4``: :func:`shrink_scatter` turns
these into the estimate, so that callers with a cheaper way to the scatter (the augmented covariances
of :mod:`covwb.eeg.augmented`, from shared lagged products) get every estimator without stacking.

Units: a covariance carries the squared unit of the data; correlations are unitless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covwb.errors import ParameterError

ESTIMATORS: dict[str, str] = {
    "sample": "Sample (unbiased)",
    "ledoit_wolf": "Ledoit-Wolf shrinkage",
    "oas": "Oracle approximating shrinkage (OAS)",
    "shrinkage": "Fixed shrinkage towards scaled identity",
}


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Eigen-summary of a symmetric matrix.

    Parameters
    ----------
    eigenvalues : ndarray, shape (p,)
        Eigenvalues in descending order, in the squared unit of the data.
    condition_number : float
        Largest over smallest eigenvalue; ``inf`` when the smallest is not positive.
    rank : int
        Numerical rank: eigenvalues above ``p * eps * max|eigenvalue|``.
    is_positive_definite : bool
        True when every eigenvalue is above that tolerance.
    """

    eigenvalues: np.ndarray
    condition_number: float
    rank: int
    is_positive_definite: bool


def _check_estimator(estimator: str, shrinkage: float) -> None:
    """Raise :class:`ParameterError` for an unknown estimator or a shrinkage outside [0, 1]."""
    if estimator not in ESTIMATORS:
        known = ", ".join(repr(k) for k in ESTIMATORS)
        raise ParameterError(f"Unknown covariance estimator {estimator!r}; choose one of {known}.")
    if estimator == "shrinkage" and not (np.isfinite(shrinkage) and 0.0 <= shrinkage <= 1.0):
        raise ParameterError(
            f"The shrinkage intensity must be between 0 and 1, got {shrinkage!r}; "
            "pick a value in [0, 1] (0 = sample covariance, 1 = scaled identity)."
        )


def _as_real_float(X: np.ndarray, what: str) -> np.ndarray:
    """Return ``X`` as float64, or raise :class:`ParameterError` when it is not real numbers."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise ParameterError(
            f"The {what} must hold real numbers, got values of type {arr.dtype}; keep only numeric columns or channels."
        )
    return arr.astype(np.float64, copy=False)


def _add_to_diagonal(C: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Add ``values`` (shape ``(n,)``) to the diagonals of ``C`` (shape ``(n, p, p)``) in place."""
    p = C.shape[-1]
    C.reshape(C.shape[0], p * p)[:, :: p + 1] += values[:, None]
    return C


def shrink_scatter(
    scatter: np.ndarray,
    n_samples: int,
    estimator: str,
    shrinkage: float = 0.1,
    fourth_moment: np.ndarray | None = None,
) -> np.ndarray:
    """Covariance estimates from centred scatter matrices.

    Parameters
    ----------
    scatter : ndarray, shape (n, p, p)
        ``sum_t (x_t - m)(x_t - m)^T`` of each of ``n`` sets of samples (``m`` the set's mean), in ``u**2``.
    n_samples : int
        Samples per set (>= 2).
    estimator : {"sample", "ledoit_wolf", "oas", "shrinkage"}
        Estimator, see :data:`ESTIMATORS`.
    shrinkage : float
        Intensity of the ``"shrinkage"`` estimator.
    fourth_moment : ndarray, shape (n,), optional
        ``sum_t ||x_t - m||^4`` of each set; required by ``"ledoit_wolf"`` only.

    Returns
    -------
    ndarray, shape (n, p, p)
        The estimates in ``u**2`` (not symmetrised; ``scatter`` is assumed symmetric).

    Examples
    --------
    >>> X = np.random.default_rng(0).standard_normal((1, 50, 4))
    >>> Xc = X - X.mean(axis=1, keepdims=True)
    >>> scatter = np.swapaxes(Xc, 1, 2) @ Xc
    >>> bool(np.allclose(shrink_scatter(scatter, 50, "sample")[0], np.cov(X[0], rowvar=False)))
    True
    """
    _check_estimator(estimator, shrinkage)
    p = scatter.shape[-1]
    if estimator in ("sample", "shrinkage"):
        S = scatter / (n_samples - 1)
        if estimator == "sample":
            return S
        mu = np.einsum("npp->n", S) / p
        return _add_to_diagonal((1.0 - shrinkage) * S, shrinkage * mu)
    emp = scatter / n_samples
    if p == 1:
        return emp
    mu = np.einsum("npp->n", emp) / p
    sum_sq = np.einsum("npq,npq->n", emp, emp)
    if estimator == "ledoit_wolf":
        if fourth_moment is None:
            raise ParameterError("the Ledoit-Wolf estimator needs the fourth moment of the samples.")
        beta = (fourth_moment / n_samples - sum_sq) / (p * n_samples)
        delta = (sum_sq - p * mu * mu) / p
        beta = np.minimum(beta, delta)
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(beta == 0.0, 0.0, beta / delta)
    else:
        mean_sq = sum_sq / (p * p)
        num = mean_sq + mu * mu
        den = (n_samples + 1) * (mean_sq - mu * mu / p)
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(den == 0.0, 1.0, np.minimum(num / den, 1.0))
    return _add_to_diagonal((1.0 - alpha)[:, None, None] * emp, alpha * mu)


def _batched(X: np.ndarray, estimator: str, shrinkage: float) -> np.ndarray:
    """Estimate covariances of trials ``X`` of shape (n, T, p) (samples by features); no checks."""
    Xc = X - X.mean(axis=1, keepdims=True)
    scatter = np.swapaxes(Xc, 1, 2) @ Xc
    fourth = None
    if estimator == "ledoit_wolf":
        sq_norms = np.einsum("ntp,ntp->nt", Xc, Xc)
        fourth = np.einsum("nt,nt->n", sq_norms, sq_norms)
    return shrink_scatter(scatter, X.shape[1], estimator, shrinkage, fourth)


def covariance(X: np.ndarray, estimator: str = "sample", shrinkage: float = 0.1) -> np.ndarray:
    """Estimate the covariance of a table of samples.

    Rows holding a NaN are left out (complete-case analysis).

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        Samples in rows, variables in columns, in any unit ``u``.
    estimator : {"sample", "ledoit_wolf", "oas", "shrinkage"}
        Estimator, see :data:`ESTIMATORS` and the module notes.
    shrinkage : float
        Intensity ``a`` in [0, 1] of the ``"shrinkage"`` estimator; ignored by the others.

    Returns
    -------
    ndarray, shape (n_features, n_features)
        Symmetric covariance matrix, float64, in ``u**2``.

    Raises
    ------
    ParameterError
        Unknown estimator, shrinkage outside [0, 1], data not 2-D or not numeric, an
        infinite value, or fewer than 2 complete rows.
    """
    _check_estimator(estimator, shrinkage)
    arr = _as_real_float(X, "table")
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ParameterError(
            f"Expected a table of shape (samples, variables), got shape {arr.shape}; "
            "pass one row per sample and one column per variable."
        )
    if np.isinf(arr).any():
        row, col = np.argwhere(np.isinf(arr))[0]
        raise ParameterError(f"Row {row + 1}, column {col + 1} is infinite; replace or remove that value.")
    complete = arr[~np.isnan(arr).any(axis=1)]
    if complete.shape[0] < 2:
        raise ParameterError(
            f"A covariance needs at least 2 complete rows, but only {complete.shape[0]} of "
            f"{arr.shape[0]} rows have no missing value; remove mostly-empty columns or add rows."
        )
    C = _batched(complete[None], estimator, shrinkage)[0]
    return (C + C.T) / 2.0


def covariances(X: np.ndarray, estimator: str = "sample", shrinkage: float = 0.1) -> np.ndarray:
    """Estimate one channel covariance per trial, the whole batch at once.

    Parameters
    ----------
    X : ndarray, shape (n_matrices, n_channels, n_times)
        Trials of multichannel signals in any unit ``u`` (EEG: µV or V).
    estimator : {"sample", "ledoit_wolf", "oas", "shrinkage"}
        Estimator, see :data:`ESTIMATORS`; each trial's time points are its samples.
    shrinkage : float
        Intensity in [0, 1] of the ``"shrinkage"`` estimator; ignored by the others.

    Returns
    -------
    ndarray, shape (n_matrices, n_channels, n_channels)
        Symmetric covariance matrices, float64, in ``u**2``.

    Raises
    ------
    ParameterError
        Unknown estimator, bad shrinkage, not 3-D, not finite, or fewer than 2 time points.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((20, 64, 100))  # 20 trials, 64 channels, 100 samples
    >>> covs = covariances(X, "oas")  # well-posed although 100 samples hardly exceed 64 channels
    >>> covs.shape, bool(np.all(np.linalg.eigvalsh(covs) > 0))
    ((20, 64, 64), True)
    """
    _check_estimator(estimator, shrinkage)
    arr = _as_real_float(X, "trials")
    if arr.ndim != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(
            f"Expected trials of shape (n_matrices, n_channels, n_times), got shape {arr.shape}; "
            "epoch the signal first."
        )
    if arr.shape[2] < 2:
        raise ParameterError(
            f"Each trial has {arr.shape[2]} time point(s), but a covariance needs at least 2; "
            "lengthen the epoch window."
        )
    finite = np.isfinite(arr)
    if not finite.all():
        trial, channel, _ = np.argwhere(~finite)[0]
        raise ParameterError(
            f"Trial {trial + 1}, channel {channel + 1} holds a NaN or infinite value; "
            "drop that trial or interpolate the channel."
        )
    C = _batched(arr.transpose(0, 2, 1), estimator, shrinkage)
    return (C + C.transpose(0, 2, 1)) / 2.0


def correlation(C: np.ndarray) -> np.ndarray:
    """Turn a covariance matrix into a correlation matrix.

    Parameters
    ----------
    C : ndarray, shape (p, p)
        Symmetric covariance matrix in ``u**2``.

    Returns
    -------
    ndarray, shape (p, p)
        ``D^-1/2 C D^-1/2`` with ``D = diag(C)``: unitless, unit diagonal, entries in [-1, 1].

    Raises
    ------
    ParameterError
        ``C`` is not square, not finite, or a variance is not positive.
    """
    arr = _as_real_float(C, "covariance matrix")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ParameterError(f"Expected a square covariance matrix, got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ParameterError("The covariance matrix holds NaN or infinite values; re-estimate it.")
    var = np.diag(arr)
    if (var <= 0).any():
        idx = int(np.flatnonzero(var <= 0)[0])
        raise ParameterError(
            f"Variable {idx + 1} has variance {var[idx]:.3g}, so its correlations are undefined; "
            "drop constant variables first."
        )
    scale = 1.0 / np.sqrt(var)
    R = np.clip(arr * scale[:, None] * scale[None, :], -1.0, 1.0)
    np.fill_diagonal(R, 1.0)
    return (R + R.T) / 2.0


def spectrum(C: np.ndarray) -> Spectrum:
    """Eigenvalues, condition number, numerical rank and definiteness of a symmetric matrix.

    Parameters
    ----------
    C : ndarray, shape (p, p)
        Symmetric matrix (a covariance, in ``u**2``).

    Returns
    -------
    Spectrum
        Eigenvalues in descending order and what they imply.

    Raises
    ------
    ParameterError
        ``C`` is not square or not finite.
    """
    arr = _as_real_float(C, "matrix")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ParameterError(f"Expected a non-empty square matrix, got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ParameterError("The matrix holds NaN or infinite values; re-estimate it.")
    eig = np.linalg.eigvalsh((arr + arr.T) / 2.0)[::-1].copy()
    p = eig.size
    tol = p * np.finfo(np.float64).eps * float(np.max(np.abs(eig)))
    rank = int(np.count_nonzero(eig > tol))
    positive = bool(eig[-1] > tol)
    condition = float(eig[0] / eig[-1]) if positive else float("inf")
    return Spectrum(eigenvalues=eig, condition_number=condition, rank=rank, is_positive_definite=positive)
