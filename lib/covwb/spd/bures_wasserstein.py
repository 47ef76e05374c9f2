"""Bures-Wasserstein (BW) geometry of SPD matrices in torch, its generalised (GBW) and power-deformed forms.

Formulas (``L_P[V]`` solves ``P L + L P = V``):

* distance ``d^2(X, Y) = tr X + tr Y - 2 tr (X^1/2 Y X^1/2)^1/2``;
* ``Exp_P(V) = (I + L) P (I + L)`` with ``L = L_P[V]``; it follows the geodesic only while
  ``I + L`` is positive definite, past that it folds back (:func:`fold_margin`);
* ``Log_P(X) = (P X)^1/2 + (X P)^1/2 - 2 P`` with ``(P X)^1/2 = P^1/2 (P^1/2 X P^1/2)^1/2 P^-1/2``;
* geodesic ``(1 - t)^2 P + t^2 X + t (1 - t) [(P X)^1/2 + (X P)^1/2]``;
* parallel transport between commuting points ``P = U diag(p) U^T``, ``Q = U diag(q) U^T``:
  ``U [sqrt((q_i + q_j) / (p_i + p_j)) o U^T V U] U^T``;
* barycentre by the Alvarez-Esteban fixed point ``S <- S^-1/2 (sum w_i (S^1/2 X_i S^1/2)^1/2)^2 S^-1/2``;
* GBW with SPD ``M``: the pullback of BW by ``X -> M^-1/2 X M^-1/2``;
* power deformation ``d_theta(X, Y) = d_M(X^theta, Y^theta) / |theta|`` (theta -> 0: a quarter of
  the log-Euclidean distance, squared).

All functions take batches (..., n, n), are differentiable, and work in the input dtype
(float64 recommended). Distances are in the square root of the matrices' unit (covariances in
``u^2`` give BW distances in ``u``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from covwb.errors import ParameterError
from covwb.spd.matrix_functions import invsqrtm, powm, sqrtm, sqrtm_invsqrtm, sym


def _eye_like(X: torch.Tensor) -> torch.Tensor:
    return torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)


def _trace(X: torch.Tensor) -> torch.Tensor:
    return X.diagonal(dim1=-2, dim2=-1).sum(-1)


def bw_distance2(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Squared BW distance, shape (...); ``X``, ``Y`` of shape (..., n, n), broadcast.

    ``tr (X^1/2 Y X^1/2)^1/2`` is computed as the nuclear norm of ``X^1/2 Y^1/2``: singular
    values keep the square roots of tiny eigenvalues accurate (a ridge of 1e-8 in a rank-deficient
    covariance), where the eigenvalues of the product lose them to rounding.
    """
    cross = torch.linalg.svdvals(sqrtm(X) @ sqrtm(Y)).sum(-1)
    return (_trace(X) + _trace(Y) - 2 * cross).clamp_min(0)


def bw_distance(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """BW distance ``sqrt(tr X + tr Y - 2 tr (X^1/2 Y X^1/2)^1/2)``, shape (...)."""
    return bw_distance2(X, Y).sqrt()


def lyapunov(P: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Solve ``P L + L P = V`` for symmetric ``L`` with one ``eigh`` of ``P``.

    Parameters
    ----------
    P : Tensor, shape (..., n, n)
        SPD matrices.
    V : Tensor, shape (..., n, n)
        Symmetric right-hand sides (broadcast against ``P``).
    """
    p, U = torch.linalg.eigh(P)
    Ut = U.transpose(-1, -2)
    return U @ ((Ut @ V @ U) / (p[..., :, None] + p[..., None, :])) @ Ut


def bw_exp(P: torch.Tensor, V: torch.Tensor, *, strict: bool = False) -> torch.Tensor:
    """BW exponential map ``Exp_P(V) = (I + L) P (I + L)`` with ``L = L_P[V]``.

    Parameters
    ----------
    P : Tensor, shape (..., n, n)
        Base points (SPD).
    V : Tensor, shape (..., n, n)
        Symmetric tangent vectors.
    strict : bool
        Raise :class:`~covwb.errors.ParameterError` when some ``I + L`` is not positive definite,
        i.e. the result has folded back past the end of the geodesic.
    """
    L = lyapunov(P, V)
    if strict:
        margin = torch.linalg.eigvalsh(_eye_like(L) + L).amin(-1)
        if bool((margin <= 0).any()):
            raise ParameterError(
                f"{int((margin <= 0).sum())} tangent vector(s) reach past the end of their Bures-Wasserstein "
                "geodesic (I + L_P[V] is not positive definite), so Exp folds back; shorten them."
            )
    IL = _eye_like(L) + L
    return sym(IL @ P @ IL)


def fold_margin(P: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Smallest eigenvalue of ``I + L_P[V]``, shape (...); ``<= 0`` means ``Exp_P(V)`` folds."""
    L = lyapunov(P, V)
    return torch.linalg.eigvalsh(_eye_like(L) + L).amin(-1)


def bw_log(P: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """BW logarithm ``Log_P(X) = (P X)^1/2 + (X P)^1/2 - 2 P``, shape (..., n, n)."""
    root, inv_root = sqrtm_invsqrtm(P)
    T = root @ sqrtm(root @ X @ root) @ inv_root
    return T + T.transpose(-1, -2) - 2 * P


def bw_geodesic(P: torch.Tensor, X: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Point at ``t`` on the BW geodesic from ``P`` (t = 0) to ``X`` (t = 1), shape (..., n, n)."""
    root, inv_root = sqrtm_invsqrtm(P)
    T = root @ sqrtm(root @ X @ root) @ inv_root
    return sym((1 - t) ** 2 * P + t**2 * X + t * (1 - t) * (T + T.transpose(-1, -2)))


def bw_transport(P: torch.Tensor, Q: torch.Tensor, V: torch.Tensor, *, rtol: float = 1e-8) -> torch.Tensor:
    """Exact BW parallel transport of ``V`` from ``P`` to a commuting ``Q`` along their geodesic.

    Parameters
    ----------
    P, Q : Tensor, shape (n, n)
        Commuting SPD matrices (``P Q = Q P``), e.g. any SPD matrix and the identity.
    V : Tensor, shape (..., n, n)
        Symmetric tangent vectors at ``P``.
    rtol : float
        Relative tolerance of the commutation check.

    Raises
    ------
    ParameterError
        ``P`` and ``Q`` do not commute (this closed form only holds for commuting points).
    """
    mix = 0.5772156649 * torch.linalg.matrix_norm(P) / torch.linalg.matrix_norm(Q)
    _, U = torch.linalg.eigh(P + mix * Q)
    Ut = U.transpose(-1, -2)
    Pr, Qr = Ut @ P @ U, Ut @ Q @ U
    p, q = Pr.diagonal(dim1=-2, dim2=-1), Qr.diagonal(dim1=-2, dim2=-1)
    for R, r in ((Pr, p), (Qr, q)):
        if float((R - torch.diag_embed(r)).abs().max()) > rtol * float(R.abs().max()):
            raise ParameterError("Parallel transport in closed form needs commuting matrices (P Q = Q P).")
    ratio = ((q[:, None] + q[None, :]) / (p[:, None] + p[None, :])).sqrt()
    return U @ (ratio * (Ut @ V @ U)) @ Ut


def gbw_pullback(X: torch.Tensor, M: torch.Tensor | None = None, theta: float = 1.0) -> torch.Tensor:
    """Deformed coordinates ``M^-1/2 X^theta M^-1/2`` (``M = None`` means the identity)."""
    Xt = X if theta == 1.0 else powm(X, theta)
    if M is None:
        return Xt
    inv_root = invsqrtm(M)
    return sym(inv_root @ Xt @ inv_root)


def gbw_distance2(X: torch.Tensor, Y: torch.Tensor, M: torch.Tensor | None = None, theta: float = 1.0) -> torch.Tensor:
    """Squared power-deformed GBW distance ``d_BW(phi X^theta, phi Y^theta)^2 / theta^2``, shape (...).

    Parameters
    ----------
    X, Y : Tensor, shape (..., n, n)
        SPD matrices (broadcast).
    M : Tensor, shape (n, n), or None
        SPD metric parameter; None is the identity (plain BW).
    theta : float
        Power deformation, non-zero; 1 is no deformation.
    """
    if theta == 0:
        raise ParameterError("The power deformation theta must be non-zero; use a small value such as 0.01.")
    return bw_distance2(gbw_pullback(X, M, theta), gbw_pullback(Y, M, theta)) / theta**2


@dataclass(frozen=True, eq=False)
class BarycentreResult:
    """A BW barycentre and how the fixed point got there.

    Parameters
    ----------
    mean : Tensor, shape (n, n)
        The barycentre (detached from autograd only if the input was).
    n_iter : int
        Fixed-point iterations run.
    converged : bool
        Whether the relative step fell below the tolerance within the cap.
    steps : ndarray, shape (n_iter,)
        Relative change ``||S_k+1 - S_k||_F / ||S_k||_F`` at each iteration.
    """

    mean: torch.Tensor
    n_iter: int
    converged: bool
    steps: np.ndarray


def bw_barycentre(
    X: torch.Tensor,
    weights: torch.Tensor | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
    init: torch.Tensor | None = None,
    method: str = "alvarez-esteban",
) -> BarycentreResult:
    """Weighted BW barycentre (Frechet mean) of a batch of SPD matrices.

    Parameters
    ----------
    X : Tensor, shape (N, n, n)
        SPD matrices.
    weights : Tensor, shape (N,), or None
        Non-negative weights (normalised to sum 1); uniform when None.
    tol : float
        Stop when the relative Frobenius change of an iteration is below ``tol``.
    max_iter : int
        Iteration cap (``max_iter = 1`` is one step, as the published GBWBN layer does).
    init : Tensor, shape (n, n), or None
        Starting point; the weighted arithmetic mean when None.
    method : {"alvarez-esteban", "naive"}
        ``S <- S^-1/2 (sum w_i (S^1/2 X_i S^1/2)^1/2)^2 S^-1/2`` (Alvarez-Esteban et al. 2016) or the
        slow ``S <- sum w_i (S^1/2 X_i S^1/2)^1/2``.

    Returns
    -------
    BarycentreResult

    Examples
    --------
    >>> import torch
    >>> X = torch.stack([torch.diag(torch.tensor(d, dtype=torch.float64)) for d in ([1.0, 4.0], [9.0, 16.0])])
    >>> result = bw_barycentre(X)  # commuting matrices: the square of the mean square root
    >>> result.mean, result.converged
    (tensor([[4., 0.],
            [0., 9.]], dtype=torch.float64), True)
    """
    if method not in ("alvarez-esteban", "naive"):
        raise ParameterError(f"Unknown barycentre iteration {method!r}; use 'alvarez-esteban' or 'naive'.")
    n_mat = X.shape[0]
    w = (
        torch.full((n_mat,), 1.0 / n_mat, dtype=X.dtype, device=X.device)
        if weights is None
        else weights / weights.sum()
    )
    S = (w[:, None, None] * X).sum(0) if init is None else init
    steps = []
    converged = False
    for _ in range(max_iter):
        root, inv_root = sqrtm_invsqrtm(S)
        T = (w[:, None, None] * sqrtm(root @ X @ root)).sum(0)
        new = sym(T) if method == "naive" else sym(inv_root @ T @ T @ inv_root)
        step = float(torch.linalg.matrix_norm(new - S) / torch.linalg.matrix_norm(S))
        S = new
        steps.append(step)
        if step < tol:
            converged = True
            break
    return BarycentreResult(mean=S, n_iter=len(steps), converged=converged, steps=np.asarray(steps))


def gbw_barycentre(
    X: torch.Tensor, M: torch.Tensor | None = None, theta: float = 1.0, **kwargs: object
) -> BarycentreResult:
    """Barycentre under the power-deformed GBW metric: deform, BW barycentre, undeform.

    ``kwargs`` go to :func:`bw_barycentre`; the returned mean is in the original coordinates.
    """
    result = bw_barycentre(gbw_pullback(X, M, theta), **kwargs)
    mean = result.mean
    if M is not None:
        root = sqrtm(M)
        mean = sym(root @ mean @ root)
    if theta != 1.0:
        mean = powm(mean, 1.0 / theta)
    return BarycentreResult(mean=mean, n_iter=result.n_iter, converged=result.converged, steps=result.steps)
