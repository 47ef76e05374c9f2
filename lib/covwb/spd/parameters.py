"""Learnable SPD and Stiefel parameters for torch modules.

An SPD parameter is stored through its eigendecomposition, ``P = Q diag(exp(beta)) Q^T`` with
``Q = (I - S)^-1 (I + S)``, the Cayley transform of the skew-symmetric ``S = A - A^T``: every SPD
matrix is reachable (rotations with an eigenvalue -1 only as a limit, and eigenvector signs are
free), any optimiser keeps it SPD, and its eigenvalues and eigenvectors come without an ``eigh``
(so no gradient blow-up at equal eigenvalues, e.g. at the identity where it starts) and without a
matrix exponential (one small solve). A Stiefel parameter (orthonormal columns) is
an ordinary tensor that :func:`retract_stiefel_` moves back onto the manifold after each step.
"""

from __future__ import annotations

import torch
from torch import nn


class SPDParameter(nn.Module):
    """A learnable ``n x n`` SPD matrix, initialised at the identity.

    Parameters
    ----------
    n : int
        Matrix size.
    dtype : torch.dtype
        Parameter dtype (float64 by default).
    """

    def __init__(self, n: int, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.skew = nn.Parameter(torch.zeros(n, n, dtype=dtype))
        self.log_eigvals = nn.Parameter(torch.zeros(n, dtype=dtype))

    def rotation(self) -> torch.Tensor:
        """The orthogonal eigenvector matrix ``Q`` (Cayley transform of ``A - A^T``), shape (n, n)."""
        S = self.skew - self.skew.T
        eye = torch.eye(S.shape[0], dtype=S.dtype, device=S.device)
        return torch.linalg.solve(eye - S, eye + S)

    def eig(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Eigenvalues, shape (n,), and orthogonal eigenvectors, shape (n, n), in columns."""
        return self.log_eigvals.exp(), self.rotation()

    def power(self, p: float) -> torch.Tensor:
        """``P^p``, shape (n, n)."""
        return self.powers(p)[0]

    def powers(self, *exponents: float) -> tuple[torch.Tensor, ...]:
        """``(P^p1, P^p2, ...)`` from one eigenvector matrix, each shape (n, n)."""
        Q = self.rotation()
        return tuple((Q * (p * self.log_eigvals).exp()) @ Q.T for p in exponents)

    def matrix(self) -> torch.Tensor:
        """``P``, shape (n, n)."""
        return self.power(1.0)

    def log(self) -> torch.Tensor:
        """``log P``, shape (n, n)."""
        Q = self.rotation()
        return (Q * self.log_eigvals) @ Q.T

    @torch.no_grad()
    def set_(self, P: torch.Tensor) -> None:
        """Set the parameter to the SPD matrix ``P`` (shape (n, n)).

        Eigenvector signs are chosen to make ``Q`` a rotation close to the identity (non-negative
        diagonal, determinant +1), so that the inverse Cayley transform exists.
        """
        values, vectors = torch.linalg.eigh(P.to(self.skew.dtype))
        vectors = vectors * torch.where(vectors.diagonal() < 0, -1.0, 1.0).to(vectors.dtype)
        if torch.linalg.det(vectors) < 0:
            k = int(vectors.diagonal().abs().argmin())
            vectors[:, k] = -vectors[:, k]
        eye = torch.eye(len(values), dtype=vectors.dtype)
        S = torch.linalg.solve((vectors + eye).T, (vectors - eye).T).T
        self.skew.copy_((S - S.T) / 4)
        self.log_eigvals.copy_(values.log())


@torch.no_grad()
def retract_stiefel_(W: torch.Tensor) -> None:
    """Move ``W`` (shape (n, p), n >= p) onto the Stiefel manifold in place by the QR retraction.

    The signs are fixed so that ``R`` has a positive diagonal, which makes the retraction a
    smooth map and the identity on matrices that already have orthonormal columns.
    """
    Q, R = torch.linalg.qr(W)
    signs = torch.sign(torch.sign(R.diagonal()) + 0.5)
    W.copy_(Q * signs)


@torch.no_grad()
def project_stiefel_grad_(W: torch.Tensor) -> None:
    """Replace ``W.grad`` by its projection on the tangent space of the Stiefel manifold at ``W``.

    ``G - W sym(W^T G)`` (the Euclidean-metric Riemannian gradient).
    """
    if W.grad is None:
        return
    WtG = W.T @ W.grad
    W.grad.sub_(W @ ((WtG + WtG.T) / 2))
