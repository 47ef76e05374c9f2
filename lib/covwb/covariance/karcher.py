"""Affine-invariant (Karcher) mean of SPD matrices, with the tangent vectors at the mean.

The mean minimises ``f(M) = 1/(2n) sum_i ||log(M^{-1/2} X_i M^{-1/2})||_F^2``. At ``M``, in
whitened coordinates, the Riemannian gradient is ``-J`` with
``J = (1/n) sum_i log(M^{-1/2} X_i M^{-1/2})``. The stopping rule is pyRiemann's
(``mean_riemann``): stop when ``||J||_F <= tol`` (default 1e-8), with ``J`` measured at the point
that is returned.

Method: Riemannian Newton with conjugate gradients. One batched ``eigh`` of the whitened stack,
``log W_i = V_i diag(a_i) V_i^T``, gives the cost, the gradient, the logarithms and the Hessian,
which acts on a symmetric direction ``D`` as

    H[D] = (1/n) sum_i V_i ((V_i^T D V_i) * K_i) V_i^T,   K_i[j, k] = g(a_ij - a_ik),  g(x) = (x/2) coth(x/2)

(the Jacobi-field factors of the nonpositively curved SPD manifold; ``H >= I``, and ``H = I``
gives the classical fixed-point step ``D = J``). Each Newton step solves ``H[D] = J`` by
conjugate gradients (an inexact Newton method: relative residual ``min(1e-3, max(1e-4, 0.01 ||J||))``,
loose while the step is limited by the curvature anyway, tighter near the mean, where it would
otherwise limit the step) and moves along the geodesic, ``M <- F exp(t D) F^T`` for ``M = F F^T``,
halving ``t`` while the step raises both the cost (Armijo) and the gradient norm. On the
ill-conditioned 88-220-dimensional augmented covariances of EEG this takes 4-6 evaluations where
pyRiemann's damped fixed-point iteration takes 10-18, and the logarithms at the returned mean are the
tangent vectors of the stack, so its tangent-space transform costs nothing more. The Hessian
products run in float32 (a quarter of the cost of an evaluation each; 5-8 per Newton step): they
only shape the search direction, while the cost, the gradient, the stopping rule, the mean and the
logarithms are float64.

Rounding floor (a deliberate deviation from pyRiemann's rule). The gradient is an average of matrix
logarithms of whitened matrices ``W_i = F^-1 X_i F^-T``; forming ``W_i`` with an ill-conditioned ``F``
and taking logarithms of ill-conditioned ``W_i`` loses about ``eps * cond`` of accuracy, so ``J`` has a
rounding floor. Sample augmented covariances of band-limited EEG reach condition numbers of 1e10
(order 10 of 22 channels): there the same mean gives gradients 1.5e-7 apart in two whitening frames,
so a tolerance of 1e-8 is out of reach; Newton gets to the floor in 4-5 evaluations and used to wander
there for all of ``maxiter``. (The Hessian's float32 products are not the cause: float64 products stall
at the same level.) So when a Newton step falls short of what Newton predicts (it fails to halve the
gradient norm, or ends more than 10 times above ``rtol ||J|| + c ||J||^2``, ``c`` the largest ratio
``||J+|| / ||J||^2`` of the earlier steps), or its full step is rejected, the gradient at the same point
is evaluated once more in a reflected frame ``R F`` (``R`` the Householder reflection along the
all-ones vector): if the two differ by at least a quarter of the norm, the gradient is rounding noise,
the mean is as accurate as float64 allows (within four times the noise, and ``H >= I`` bounds the
distance to the exact mean by the gradient norm), and the iteration stops with
:attr:`KarcherMean.converged` True and the measured :attr:`KarcherMean.gradient_noise`.
Well-conditioned stacks reach ``tol`` first and never take this extra evaluation. A mean of an
overlapping stack of the same matrices (the next inner fold of a cross-validation) may pass the noise
it measured as ``known_noise``: the iteration then stops as soon as the norm is within four times it,
without measuring again, which saves the step that would land on the floor and the measurement (at
order 10 of 22 channels, 3 evaluations instead of 6 for a warm-started fold); a step that falls short
still measures.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from covwb.errors import SPDInputError

_ARMIJO = 1e-4
_MIN_STEP = 1e-3
_CG_RTOL = 1e-2
_FORCING = 3e-3
_CG_RTOL_MIN = 1e-4
_CG_MAXITER = 50
_TINY_GAP = 1e-12
_STALL = 0.5
"""A Newton step that keeps more than this fraction of the gradient norm triggers the rounding check..."""
_SHORTFALL = 10.0
"""... and so does one that ends this many times above Newton's prediction (inexact solve + quadratic term)."""
_FLOOR = 0.25
"""The gradient is at the rounding floor when its measured noise is at least this fraction of its norm."""


@dataclass(frozen=True, eq=False)
class WhitenedLogs:
    """Eigendecompositions ``log(R^{-1/2} X_i R^{-1/2}) = V_i diag(a_i) V_i^T`` at a reference R.

    Parameters
    ----------
    values : ndarray, shape (n, p)
        Eigenvalue logarithms ``a_i`` (unitless).
    vectors : ndarray, shape (n, p, p)
        Orthonormal eigenvectors ``V_i`` (columns), in the frame of the symmetric ``R^{-1/2}``.
    """

    values: np.ndarray
    vectors: np.ndarray

    def matrices(self) -> np.ndarray:
        """The logarithms ``log(R^{-1/2} X_i R^{-1/2})``, shape (n, p, p)."""
        return (self.vectors * self.values[:, None, :]) @ np.swapaxes(self.vectors, -1, -2)


@dataclass(frozen=True, eq=False)
class KarcherMean:
    """An affine-invariant mean and the tangent vectors of its matrices.

    Parameters
    ----------
    mean : ndarray, shape (p, p)
        The mean ``M`` (SPD, unit of the matrices).
    logs : ndarray, shape (n, p, p)
        ``log(M^{-1/2} X_i M^{-1/2})`` with the symmetric ``M^{-1/2}`` (unitless), as pyRiemann's
        ``log_map_riemann(X, M)``.
    eigen : WhitenedLogs
        The eigendecompositions of ``logs``.
    n_iter : int
        Evaluations of the gradient (batched eigendecompositions of the stack).
    gradient_norm : float
        ``||mean_i logs[i]||_F`` at ``mean``.
    converged : bool
        True when ``gradient_norm`` reached ``tol``, or when it stopped decreasing at the rounding
        floor of float64 (``gradient_noise`` at least a quarter of it: matrices with condition numbers
        near 1e9 or more); False when ``maxiter`` ran out first.
    gradient_noise : float
        Rounding noise of the gradient measured at ``mean`` (module notes), or the ``known_noise``
        the call was given and stopped by; 0 when not measured
        (``tol`` was reached without stalling).
    """

    mean: np.ndarray
    logs: np.ndarray
    eigen: WhitenedLogs
    n_iter: int
    gradient_norm: float
    converged: bool = True
    gradient_noise: float = 0.0


@dataclass(frozen=True, eq=False)
class _Point:
    """What one batched eigendecomposition gives at ``M = F F^T``.

    ``inverse`` is ``F^-1``; ``log(F^-1 X_i F^-T) = V_i diag(a_i) V_i^T`` with ``vectors`` V (n, p, p)
    and ``log_values`` a (n, p); ``cost`` is f(M) and ``gradient`` (p, p) is the mean log J, minus
    the Riemannian gradient in whitened coordinates (float64).
    """

    inverse: np.ndarray
    vectors: np.ndarray
    log_values: np.ndarray
    cost: float
    gradient: np.ndarray


@dataclass(frozen=True, eq=False)
class _Hessian:
    """The Hessian at a :class:`_Point`, in float32 (it only shapes the search direction).

    ``vectors`` V (n, p, p), ``side_by_side`` ``[V_1 | ... | V_n]`` (p, n p) so that sums over the
    stack are single matrix products, ``factors`` the ``K_i`` (n, p, p).
    """

    vectors: np.ndarray
    side_by_side: np.ndarray
    factors: np.ndarray

    @classmethod
    def at(cls, point: _Point) -> _Hessian:
        """The Hessian at ``point``, from its eigendecomposition."""
        V = point.vectors.astype(np.float32)
        a = point.log_values.astype(np.float32)
        gaps = (a[:, :, None] - a[:, None, :]) / 2
        small = np.abs(gaps) < _TINY_GAP
        safe = np.where(small, np.float32(1), gaps)
        factors = np.where(small, np.float32(1), safe / np.tanh(safe))
        return cls(V, _side_by_side(V), factors)

    def __call__(self, direction: np.ndarray) -> np.ndarray:
        """``H[D]`` for a symmetric direction D (p, p), whitened coordinates."""
        V = self.vectors
        n, p, _ = V.shape
        moved = (direction @ self.side_by_side).reshape(p, n, p).transpose(1, 0, 2)
        rotated = V @ ((np.swapaxes(V, -1, -2) @ moved) * self.factors)
        return _side_by_side(rotated) @ self.side_by_side.T / n


def _spd_function(S: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``V f(w) V^T`` for symmetric ``S = V diag(w) V^T``, shape (..., p, p)."""
    w, V = np.linalg.eigh(S)
    return (V * function(w)[..., None, :]) @ np.swapaxes(V, -1, -2)


def _eigen(covs: np.ndarray, whitener: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalue logs (n, p) and eigenvectors (n, p, p) of ``G X_i G^T``; SPDInputError if not SPD."""
    w, V = np.linalg.eigh(whitener @ covs @ whitener.T)
    if not np.all(w > 0):
        raise SPDInputError("a matrix of the stack is not positive definite; regularise the covariances first.")
    return np.log(w), V


def _side_by_side(stack: np.ndarray) -> np.ndarray:
    """``[A_1 | ... | A_n]`` of a stack (n, p, q), shape (p, n q)."""
    n, p, q = stack.shape
    return stack.transpose(1, 0, 2).reshape(p, n * q)


def _evaluate(covs: np.ndarray, inverse: np.ndarray) -> _Point:
    """Cost and gradient at ``M = F F^T`` given ``F^-1``."""
    return _point(inverse, *_eigen(covs, inverse))


def _point(inverse: np.ndarray, a: np.ndarray, V: np.ndarray) -> _Point:
    """Cost and gradient from the eigendecomposed logs ``a`` (n, p), ``V`` (n, p, p) at ``F^-1``."""
    side = _side_by_side(V)
    gradient = (side * a.reshape(1, -1)) @ side.T / len(a)
    return _Point(inverse, V, a, 0.5 * float(np.mean(np.sum(a**2, axis=1))), (gradient + gradient.T) / 2)


def _reflect(A: np.ndarray) -> np.ndarray:
    """``R A`` with ``R = I - (2/p) 1 1^T``, the Householder reflection along the all-ones vector (p rows)."""
    return A - (2.0 / A.shape[0]) * A.sum(axis=0, keepdims=True)


def _gradient_noise(covs: np.ndarray, point: _Point) -> float:
    """Rounding noise of the gradient at ``point``: its difference from the gradient in the reflected frame."""
    reflected = _evaluate(covs, _reflect(point.inverse)).gradient
    back = _reflect(_reflect(reflected).T).T
    return float(np.linalg.norm(back - point.gradient))


def _newton_direction(point: _Point, rtol: float) -> np.ndarray:
    """Conjugate-gradient solution D of ``H[D] = J`` to relative residual ``rtol`` (float64 result)."""
    hessian = _Hessian.at(point)
    gradient = point.gradient.astype(np.float32)
    direction = np.zeros_like(gradient)
    residual = gradient.copy()
    search = residual.copy()
    rr = float(np.vdot(residual, residual))
    target = rtol**2 * rr
    for _ in range(_CG_MAXITER):
        if rr <= target:
            break
        product = hessian(search)
        alpha = rr / float(np.vdot(search, product))
        direction += np.float32(alpha) * search
        residual -= np.float32(alpha) * product
        rr_new = float(np.vdot(residual, residual))
        search = residual + np.float32(rr_new / rr) * search
        rr = rr_new
    direction = direction.astype(np.float64)
    return (direction + direction.T) / 2


def karcher_mean(
    covs: np.ndarray,
    *,
    tol: float = 1e-8,
    maxiter: int = 50,
    init: np.ndarray | None = None,
    init_logs: WhitenedLogs | None = None,
    known_noise: float = 0.0,
) -> KarcherMean:
    """Affine-invariant mean of SPD matrices and the logarithms of the matrices at the mean.

    Parameters
    ----------
    covs : ndarray, shape (n, p, p)
        SPD matrices (any unit u**2; float64).
    tol : float
        Stop when the Frobenius norm of the mean logarithm at the current point is at most
        ``tol`` (pyRiemann's ``mean_riemann`` default, 1e-8), or when it reached the rounding floor
        of float64 above ``tol`` (module notes).
    maxiter : int
        Most gradient evaluations; a ``RuntimeWarning`` says when neither was reached.
    init : ndarray, shape (p, p), optional
        SPD starting point; the arithmetic mean when omitted (as pyRiemann).
    init_logs : WhitenedLogs, optional
        The logs of ``covs`` at ``init`` (:func:`whitened_logs`), when already known (for example
        from the mean of an overlapping stack and its test matrices): saves the first evaluation.
    known_noise : float
        Rounding noise of the gradient measured by an earlier mean of an overlapping stack of the
        same matrices (its :attr:`KarcherMean.gradient_noise`); 0 (default) when unknown. The
        iteration then stops at the rounding floor once the gradient norm is at most four times it
        (module notes), and reports it as ``gradient_noise``.

    Returns
    -------
    KarcherMean
        ``mean`` (p, p), ``logs`` (n, p, p) in pyRiemann's whitened frame, ``n_iter``,
        ``gradient_norm``, ``converged``, ``gradient_noise``.

    Raises
    ------
    SPDInputError
        ``covs`` is not a non-empty stack of square matrices, a matrix (or ``init``) is not
        positive definite, or ``init_logs`` does not match ``covs`` or comes without ``init``.

    Examples
    --------
    >>> import numpy as np
    >>> result = karcher_mean(np.stack([np.diag([1.0, 1.0]), np.diag([4.0, 16.0])]))
    >>> result.mean.round(6), result.converged
    (array([[2., 0.],
           [0., 4.]]), True)
    """
    X = np.asarray(covs, dtype=np.float64)
    if X.ndim != 3 or X.shape[0] < 1 or X.shape[1] != X.shape[2]:
        raise SPDInputError(f"expected a stack of square matrices of shape (n, p, p), got shape {X.shape}.")
    start = X.mean(axis=0) if init is None else np.asarray(init, dtype=np.float64)
    try:
        factor = np.linalg.cholesky(start)
    except np.linalg.LinAlgError as exc:
        raise SPDInputError("the starting matrix of the mean is not positive definite; give an SPD one.") from exc
    if init_logs is not None:
        if init is None or init_logs.values.shape != X.shape[:2]:
            raise SPDInputError(
                f"init_logs holds {init_logs.values.shape[0]} decompositions of size {init_logs.values.shape[1]} for "
                f"{X.shape[0]} matrices of size {X.shape[1]}, or no init is given; pass the logs of covs at init."
            )
        w, U = np.linalg.eigh(start)
        factor = (U * np.sqrt(w)) @ U.T
        point, n_iter = _point((U / np.sqrt(w)) @ U.T, init_logs.values, init_logs.vectors), 0
    else:
        point, n_iter = _evaluate(X, np.linalg.inv(factor)), 1
    gradient = point.gradient
    norm = float(np.linalg.norm(gradient))
    noise = float(known_noise)
    at_floor = tol < norm <= noise / _FLOOR
    quadratic = np.inf  # largest |J+| / |J|^2 of the Newton steps so far
    while norm > tol and not at_floor and n_iter < maxiter:
        rtol = min(_CG_RTOL, max(_CG_RTOL_MIN, _FORCING * norm))
        direction = _newton_direction(point, rtol)
        decrease = _ARMIJO * float(np.vdot(gradient, direction))
        step = 1.0
        while True:
            w, U = np.linalg.eigh(step * direction / 2)
            half = (U * np.exp(w)) @ U.T
            trial = _evaluate(X, (U * np.exp(-w)) @ U.T @ point.inverse)
            trial_gradient = trial.gradient
            trial_norm = float(np.linalg.norm(trial_gradient))
            n_iter += 1
            accepted = trial.cost <= point.cost - step * decrease or trial_norm < norm
            if accepted or step < _MIN_STEP or n_iter >= maxiter:
                break
            if step == 1.0:
                noise, n_iter = _gradient_noise(X, point), n_iter + 1
                at_floor = noise >= _FLOOR * norm
                if at_floor:
                    break
            step /= 2
        if at_floor:
            break
        previous = norm
        factor, point, gradient, norm = factor @ half, trial, trial_gradient, trial_norm
        at_floor = tol < norm <= noise / _FLOOR
        predicted = rtol * previous + quadratic * previous**2
        if tol < norm and not at_floor and n_iter < maxiter and norm > min(_STALL * previous, _SHORTFALL * predicted):
            noise, n_iter = _gradient_noise(X, point), n_iter + 1
            at_floor = noise >= _FLOOR * norm
        if step == 1.0 and not at_floor:
            quadratic = norm / previous**2 if np.isinf(quadratic) else max(quadratic, norm / previous**2)
    converged = norm <= tol or at_floor
    if not converged:
        warnings.warn(
            f"Karcher mean: gradient norm {norm:.2e} > tol {tol:.0e} after {n_iter} evaluations.",
            RuntimeWarning,
            stacklevel=2,
        )
    mean = factor @ factor.T
    mean = (mean + mean.T) / 2
    rotation = _spd_function(mean, lambda w: 1 / np.sqrt(w)) @ factor
    eigen = WhitenedLogs(point.log_values, rotation @ point.vectors)
    return KarcherMean(
        mean=mean,
        logs=eigen.matrices(),
        eigen=eigen,
        n_iter=n_iter,
        gradient_norm=norm,
        converged=converged,
        gradient_noise=noise,
    )


def whitened_logs(covs: np.ndarray, reference: np.ndarray) -> WhitenedLogs:
    """Eigendecompositions of ``log(R^{-1/2} X_i R^{-1/2})``, symmetric ``R^{-1/2}``: one batched ``eigh``.

    Parameters
    ----------
    covs : ndarray, shape (n, p, p)
        SPD matrices.
    reference : ndarray, shape (p, p)
        SPD reference ``R``.

    Returns
    -------
    WhitenedLogs
    """
    whitener = _spd_function(np.asarray(reference, dtype=np.float64), lambda w: 1 / np.sqrt(w))
    return WhitenedLogs(*_eigen(np.asarray(covs, dtype=np.float64), whitener))


def riemann_logs(covs: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``log(R^{-1/2} X_i R^{-1/2})`` for every matrix, symmetric ``R^{-1/2}`` (pyRiemann's log map).

    Parameters
    ----------
    covs : ndarray, shape (n, p, p)
        SPD matrices.
    reference : ndarray, shape (p, p)
        SPD reference ``R`` (for example :attr:`KarcherMean.mean`).

    Returns
    -------
    ndarray, shape (n, p, p)
        Tangent vectors at ``R`` in whitened coordinates (unitless).
    """
    return whitened_logs(covs, reference).matrices()


def tangent_vectors(logs: np.ndarray) -> np.ndarray:
    """Upper triangles of symmetric matrices, off-diagonal entries times sqrt(2) (pyRiemann's ``upper``).

    With ``logs`` from :func:`karcher_mean` or :func:`riemann_logs` this is pyRiemann's
    ``tangent_space(X, M, metric="riemann")``, without importing pyRiemann (and PyTorch) in
    worker processes.

    Parameters
    ----------
    logs : ndarray, shape (n, p, p)
        Symmetric matrices.

    Returns
    -------
    ndarray, shape (n, p (p + 1) / 2)
        Row-major upper triangles; the Euclidean norm of a row is the Frobenius norm of its matrix.
    """
    p = logs.shape[-1]
    rows, cols = np.triu_indices(p)
    weights = np.where(rows == cols, 1.0, np.sqrt(2.0))
    return weights * logs[..., rows, cols]
