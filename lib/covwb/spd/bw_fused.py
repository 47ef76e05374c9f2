"""The two batched steps of Bures-Wasserstein batch normalisation, with closed-form backward passes.

Autograd through the same formulas records a node for every small operation, copies the batch
whenever a shared matrix multiplies it from the left and symmetrises repeatedly. These two
functions write out the backward pass (Daleckii-Krein in the eigenbasis, chain rule through the
congruences): the symmetry of the intermediate matrices keeps the batch on the left of every
product with a shared matrix (one ``(N n, n) @ (n, n)`` product, no copy), every gradient of a
shared ``n x n`` matrix is one ``(n, N n) @ (N n, n)`` product, and the gradients of the
parameter-derived factors (bias eigenvalues and eigenvectors, scale, ``M^-1/2``) need no
autograd nodes. Forward and backward together take one batched ``eigh`` and 18 batched
products for BW (19 for GBW), no batched copies beyond two transposes:

* :func:`whitened_sqrt`: ``R_i = (V^T X_i V)^1/2`` (optionally weighted elementwise and with a
  learnable left factor in ``V``), one ``eigh`` per matrix;
* :func:`exp_at_bias`: ``O_i = A (I + L_i) diag(b) (I + L_i) A^T``, the exponential map at the
  bias of scaled tangent vectors given at the identity, with the gradients of the bias
  eigenvalues and eigenvectors, the scale and ``M^-1/2`` written out as well.

Gradients with respect to the symmetric inputs ``X`` and ``W`` are returned symmetric, as for
:func:`~covwb.spd.matrix_functions.spectral`.
"""

from __future__ import annotations

import torch

from covwb.spd.matrix_functions import clamp_eigenvalues, sym


def _sum_of_products(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """``sum_i A_i^T B_i`` for batches (N, n, n) as one product, shape (n, n)."""
    n = A.shape[-1]
    return A.reshape(-1, n).mT @ B.reshape(-1, n)


class _WhitenedSqrt(torch.autograd.Function):
    """``K o (V'^T X_i V')^1/2`` with ``V' = N V`` from one batched ``eigh``, Daleckii-Krein backward."""

    @staticmethod
    def forward(ctx, X, V, K, N, N_inv):
        C = V if N is None else N @ V
        CtX = (X @ C).mT.contiguous()
        eigvals, U = torch.linalg.eigh(CtX @ C)
        roots = clamp_eigenvalues(eigvals).sqrt()
        needs_N = ctx.needs_input_grad[3]
        ctx.save_for_backward(U, roots, C, K, X if needs_N else None, N_inv if needs_N else None)
        R = (U * roots[..., None, :]) @ U.mT
        return R if K is None else R.mul_(K)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        U, roots, C, K, X, N_inv = ctx.saved_tensors
        if K is not None:
            grad = grad * K
        middle = sym(U.mT @ grad @ U) / (roots[..., :, None] + roots[..., None, :])
        CU = (U.mT @ C.mT).mT
        grad_X = CU @ middle @ CU.mT
        # d/dN of V'^T X V' with V' = N V: 2 sum_i X_i V' dY_i V^T = 2 (sum_i X_i dX_i) N^-T.
        grad_N = None if X is None else 2 * _sum_of_products(X, grad_X) @ N_inv.mT
        return grad_X if ctx.needs_input_grad[0] else None, None, None, grad_N, None


def whitened_sqrt(
    X: torch.Tensor,
    V: torch.Tensor,
    K: torch.Tensor | None = None,
    N: torch.Tensor | None = None,
    N_inv: torch.Tensor | None = None,
) -> torch.Tensor:
    """Square roots ``(V'^T X_i V')^1/2`` of a whitened batch, ``V' = N V``, differentiable in ``X`` and ``N``.

    Parameters
    ----------
    X : Tensor, shape (N, n, n)
        Symmetric positive semi-definite matrices.
    V : Tensor, shape (n, n)
        Constant congruence (no gradient), e.g. ``U diag(g)^1/2`` from the eigendecomposition of
        the reference point ``G = U diag(g) U^T``.
    K : Tensor, shape (n, n), or None
        Constant symmetric elementwise weights applied to every square root (no gradient).
    N : Tensor, shape (n, n), or None
        Invertible left factor of the congruence (e.g. ``M^-1/2`` of a GBW metric), with gradient;
        None is the identity.
    N_inv : Tensor, shape (n, n), or None
        ``N^-1`` (a value, no gradient); needed when ``N`` requires a gradient, which is then
        ``2 (sum_i X_i dX_i) N^-T`` from the gradient ``dX`` with respect to ``X``.

    Returns
    -------
    Tensor, shape (N, n, n)
        Principal square roots (times ``K`` elementwise when given), eigenvalues clamped as in
        :func:`~covwb.spd.matrix_functions.clamp_eigenvalues`; one ``eigh`` per matrix.
    """
    return _WhitenedSqrt.apply(X, V, K, N, N_inv)


class _ExpAtBias(torch.autograd.Function):
    """``A (I + L_i) diag(b) (I + L_i) A^T`` and ``I + L_i``, closed-form backward.

    Uses the symmetry of ``W_i`` and ``I + L_i`` to keep the batch on the left of every product
    with a shared matrix (one ``(N n, n) @ (n, n)`` product, no copies); ``Dt = D^T`` for
    ``D = A (I + L) diag(b)^1/2``.
    """

    @staticmethod
    def forward(ctx, W, s, b, Q, U, N, N_inv):
        P = Q.mT @ U
        A = Q if N is None else N_inv @ Q
        root_b = b.sqrt()
        factor = (2 * (b[:, None] + b[None, :])).rsqrt()
        scale = s * factor
        PW = (W @ P.mT).mT.contiguous()
        congruent = PW @ P.mT
        step = scale * congruent
        step.diagonal(dim1=-2, dim2=-1).add_(1)
        JAt = step @ A.mT
        Dt = JAt * root_b[:, None]
        ctx.save_for_backward(s, Q, U, N_inv, P, A, root_b, factor, PW, congruent, step, JAt, Dt)
        ctx.mark_non_differentiable(step)
        ctx.set_materialize_grads(False)
        return sym(Dt.mT @ Dt), step

    @staticmethod
    def backward(ctx, grad: torch.Tensor, _grad_step: torch.Tensor):
        if grad is None:
            return (None,) * 7
        s, Q, U, N_inv, P, A, root_b, factor, PW, congruent, step, JAt, Dt = ctx.saved_tensors
        needs_W, needs_s, needs_b, needs_Q, _, needs_N, _ = ctx.needs_input_grad
        grad_W = grad_s = grad_b = grad_Q = grad_N = None
        grad_Dt = Dt @ (grad + grad.mT)
        grad_step = (grad_Dt @ A) * root_b[:, None]
        scaled = s * grad_step
        grad_congruent = (scaled + scaled.mT) * (0.5 * factor)
        if needs_W:
            grad_W = (grad_congruent @ P).mT @ P
        if needs_s or needs_b:
            grad_scale = (grad_step * congruent).sum(0)
            grad_s = (grad_scale * factor).sum()
            cubed = grad_scale * factor**3
            grad_b = (JAt * grad_Dt).sum((0, 2)) / (2 * root_b) - s * (cubed.sum(0) + cubed.sum(1))
        if needs_Q or needs_N:
            grad_A = _sum_of_products(root_b[:, None] * step, grad_Dt).mT
            grad_P = 2 * _sum_of_products(grad_congruent, PW)
            grad_Q = U @ grad_P.mT + (grad_A if N_inv is None else N_inv.mT @ grad_A)
            if needs_N:
                # A = N^-1 Q and d(N^-1) = -N^-1 dN N^-1.
                grad_N = -N_inv.mT @ (grad_A @ Q.mT) @ N_inv.mT
        return grad_W, grad_s, grad_b, grad_Q, None, grad_N, None


def exp_at_bias(
    W: torch.Tensor,
    s: torch.Tensor,
    b: torch.Tensor,
    Q: torch.Tensor,
    U: torch.Tensor,
    N: torch.Tensor | None = None,
    N_inv: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move scaled tangent vectors from the identity to the bias and map them by its ``Exp``.

    With the bias ``B = Q diag(b) Q^T`` and ``P = Q^T U``:
    ``O_i = A (I + L_i) diag(b) (I + L_i) A^T`` where
    ``L_i = s / sqrt(2 (b_j + b_k)) o (P W_i P^T)`` (in the basis ``Q``: the BW transport of
    ``s U W_i U^T`` from ``I`` to ``B``, factor ``sqrt((b_j + b_k) / 2)``, then the Lyapunov
    solve ``L_B``, factor ``1 / (b_j + b_k)``) and ``A = N^-1 Q`` (``A = Q`` for plain BW).

    Parameters
    ----------
    W : Tensor, shape (N, n, n)
        Symmetric tangent vectors at the identity, in the basis ``U``.
    s : Tensor, shape ()
        Dispersion scale.
    b : Tensor, shape (n,)
        Bias eigenvalues (positive).
    Q : Tensor, shape (n, n)
        Bias eigenvectors (orthogonal).
    U : Tensor, shape (n, n)
        Orthogonal basis of ``W`` (constant, no gradient).
    N : Tensor, shape (n, n), or None
        ``M^-1/2`` of a GBW metric (with gradient); None for plain BW.
    N_inv : Tensor, shape (n, n), or None
        ``N^-1 = M^1/2`` (a value, no gradient); given with ``N``.

    Returns
    -------
    out : Tensor, shape (N, n, n)
        Symmetric outputs, differentiable in ``W``, ``s``, ``b``, ``Q`` and ``N``.
    step : Tensor, shape (N, n, n)
        ``I + L_i`` (no gradient); ``Exp`` has folded where it is not positive definite.
    """
    return _ExpAtBias.apply(W, s, b, Q, U, N, N_inv)
