"""Spectral functions of symmetric matrices through ``eigh``, with a Daleckii-Krein backward.

For ``X = U diag(l) U^T`` and a scalar function ``f``, ``F(X) = U diag(f(l)) U^T``. The backward
pass is ``dX = U [K o (U^T sym(dF) U)] U^T`` with the Loewner matrix
``K_ij = (f(l_i) - f(l_j)) / (l_i - l_j)`` and ``K_ii = f'(l_i)``; where two eigenvalues are
closer than a relative gap (1e-7 in float64, 1e-4 in float32) the divided difference is replaced
by ``(f'(l_i) + f'(l_j)) / 2``, its limit, so equal eigenvalues give finite gradients; the
square root and inverse square root use exact closed forms (``1 / (sqrt l_i + sqrt l_j)``).
Several functions of one matrix share one ``eigh`` (:func:`spectral`).
Eigenvalues are clamped to ``max(l, floor * l_max)`` before ``sqrt``, ``log`` and powers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

ScalarFn = Callable[[torch.Tensor], torch.Tensor]
KernelFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
SpectralFn = tuple[ScalarFn, ScalarFn] | tuple[ScalarFn, ScalarFn, KernelFn]

_RELATIVE_FLOOR = {torch.float64: 1e-15, torch.float32: 1e-7}
_TIE_GAP = {torch.float64: 1e-7, torch.float32: 1e-4}


def sym(X: torch.Tensor) -> torch.Tensor:
    """Symmetric part ``(X + X^T) / 2`` of a batch of square matrices, shape (..., n, n)."""
    return (X + X.transpose(-1, -2)) / 2


def clamp_eigenvalues(eigvals: torch.Tensor) -> torch.Tensor:
    """Eigenvalues, shape (..., n), clamped to ``max(l, floor * max(l))``, floor 1e-15 (float64) or 1e-7 (float32)."""
    floor = _RELATIVE_FLOOR.get(eigvals.dtype, 1e-15)
    top = eigvals.amax(dim=-1, keepdim=True).clamp_min(torch.finfo(eigvals.dtype).tiny)
    return torch.maximum(eigvals, floor * top)


def loewner(eigvals: torch.Tensor, values: torch.Tensor, derivs: torch.Tensor) -> torch.Tensor:
    """Loewner matrix of divided differences, shape (..., n, n), safe at equal eigenvalues.

    Parameters
    ----------
    eigvals, values, derivs : Tensor, shape (..., n)
        Eigenvalues ``l``, ``f(l)`` and ``f'(l)``.
    """
    diff = eigvals[..., :, None] - eigvals[..., None, :]
    scale = eigvals.abs().amax(dim=-1, keepdim=True)[..., None].clamp_min(torch.finfo(eigvals.dtype).tiny)
    tied = diff.abs() <= _TIE_GAP.get(eigvals.dtype, 1e-7) * scale
    safe = torch.where(tied, torch.ones_like(diff), diff)
    divided = (values[..., :, None] - values[..., None, :]) / safe
    mean_deriv = (derivs[..., :, None] + derivs[..., None, :]) / 2
    return torch.where(tied, mean_deriv, divided)


class _Spectral(torch.autograd.Function):
    """``(F_1(X), ..., F_k(X))`` from one ``eigh``, with the Daleckii-Krein backward."""

    @staticmethod
    def forward(ctx, X: torch.Tensor, fns: tuple[SpectralFn, ...], clamp: bool):
        eigvals, U = torch.linalg.eigh(X)
        lam = clamp_eigenvalues(eigvals) if clamp else eigvals
        values = [fn[0](lam) for fn in fns]
        Ut = U.transpose(-1, -2)
        outputs = tuple((U * v[..., None, :]) @ Ut for v in values)
        if ctx.needs_input_grad[0]:
            ctx.fns = fns
            ctx.save_for_backward(U, eigvals, lam, *values)
        return outputs

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        U, eigvals, lam, *values = ctx.saved_tensors
        Ut = U.transpose(-1, -2)
        active = eigvals >= lam
        total = None
        for grad, fn, value in zip(grads, ctx.fns, values):
            if grad is None:
                continue
            if len(fn) == 3:
                kernel = fn[2](lam, value)
            else:
                kernel = loewner(lam, value, torch.where(active, fn[1](lam), torch.zeros_like(lam)))
            term = kernel * (Ut @ sym(grad) @ U)
            total = term if total is None else total + term
        if total is None:
            return None, None, None
        return U @ total @ Ut, None, None


def spectral(X: torch.Tensor, fns: Sequence[SpectralFn], *, clamp: bool = True) -> tuple[torch.Tensor, ...]:
    """Several spectral functions of a batch of symmetric matrices from one ``eigh``.

    Parameters
    ----------
    X : Tensor, shape (..., n, n)
        Symmetric matrices; as in ``torch.linalg.eigh`` only the lower triangle is read.
    fns : sequence of (f, f') or (f, f', kernel) tuples
        Scalar functions and their derivatives, applied elementwise to eigenvalues; ``kernel``,
        when given, returns the Loewner matrix from ``(l, f(l))`` in closed form (no tie handling
        needed, e.g. ``1 / (sqrt l_i + sqrt l_j)`` for the square root).
    clamp : bool
        Clamp eigenvalues to ``max(l, floor * l_max)`` first (needed before sqrt, log, powers).

    Returns
    -------
    tuple of Tensor, each shape (..., n, n)
        ``U diag(f(l)) U^T`` for each pair, symmetric, differentiable in ``X``.
    """
    return _Spectral.apply(X, tuple(fns), clamp)


def _power(p: float) -> tuple[ScalarFn, ScalarFn]:
    return (lambda x: x**p, lambda x: p * x ** (p - 1))


def _sqrt_kernel(lam: torch.Tensor, roots: torch.Tensor) -> torch.Tensor:
    return 1 / (roots[..., :, None] + roots[..., None, :])


def _invsqrt_kernel(lam: torch.Tensor, inv_roots: torch.Tensor) -> torch.Tensor:
    a, b = inv_roots[..., :, None], inv_roots[..., None, :]
    return -((a * b) ** 2) / (a + b)


SQRT = (torch.sqrt, lambda x: 0.5 * x**-0.5, _sqrt_kernel)
INVSQRT = (lambda x: x**-0.5, lambda x: -0.5 * x**-1.5, _invsqrt_kernel)
LOG: tuple[ScalarFn, ScalarFn] = (torch.log, torch.reciprocal)
EXP: tuple[ScalarFn, ScalarFn] = (torch.exp, torch.exp)


def sqrtm(X: torch.Tensor) -> torch.Tensor:
    """Principal square root ``X^(1/2)`` of SPD matrices, shape (..., n, n)."""
    return spectral(X, [SQRT])[0]


def invsqrtm(X: torch.Tensor) -> torch.Tensor:
    """Inverse square root ``X^(-1/2)`` of SPD matrices, shape (..., n, n)."""
    return spectral(X, [INVSQRT])[0]


def sqrtm_invsqrtm(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X^(1/2), X^(-1/2))`` from one ``eigh``, shape (..., n, n) each."""
    root, inv_root = spectral(X, [SQRT, INVSQRT])
    return root, inv_root


def powm(X: torch.Tensor, p: float) -> torch.Tensor:
    """Matrix power ``X^p`` of SPD matrices for a real exponent ``p``, shape (..., n, n)."""
    return spectral(X, [_power(float(p))])[0]


def logm(X: torch.Tensor) -> torch.Tensor:
    """Principal logarithm of SPD matrices, shape (..., n, n)."""
    return spectral(X, [LOG])[0]


def expm(X: torch.Tensor) -> torch.Tensor:
    """Exponential of symmetric matrices, shape (..., n, n) (no clamping)."""
    return spectral(X, [EXP], clamp=False)[0]


def rectify(X: torch.Tensor, threshold: float) -> torch.Tensor:
    """ReEig: eigenvalues ``max(l, threshold)``; gradient zero through the clamped ones."""
    eps = float(threshold)
    identity = (lambda x: torch.clamp_min(x, eps), lambda x: (x > eps).to(x.dtype))
    return spectral(X, [identity], clamp=False)[0]
