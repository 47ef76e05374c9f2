"""SPDNet layers (Huang & Van Gool 2017): BiMap, ReEig, LogEig, and a small classifier around a batch norm.

``BiMap`` maps ``X -> W^T X W`` with ``W`` on the Stiefel manifold (orthonormal columns); the
optimiser wrapper :class:`StiefelAdam` projects its gradient on the tangent space and retracts by
QR after each step, so the weights do move and stay orthonormal.
"""

from __future__ import annotations

import torch
from torch import nn

from covwb.errors import ParameterError
from covwb.spd.batchnorm import SPDBatchNorm
from covwb.spd.matrix_functions import logm, rectify
from covwb.spd.parameters import project_stiefel_grad_, retract_stiefel_


class BiMap(nn.Module):
    """Bilinear map ``W^T X W``: (N, n_in, n_in) -> (N, n_out, n_out), ``W`` Stiefel (n_in, n_out).

    Examples
    --------
    >>> import torch
    >>> layer = BiMap(4, 2, generator=torch.Generator().manual_seed(0))
    >>> W = layer.weight  # (n_in, n_out), orthonormal columns
    >>> layer(torch.eye(4, dtype=torch.float64).expand(3, 4, 4)).shape, torch.allclose(W.T @ W, torch.eye(2, dtype=W.dtype))
    (torch.Size([3, 2, 2]), True)
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        if not 1 <= n_out <= n_in:
            raise ParameterError(f"BiMap needs 1 <= n_out <= n_in, got {n_in} -> {n_out}.")
        W = torch.randn(n_in, n_out, generator=generator, dtype=dtype)
        retract_stiefel_(W)
        self.weight = nn.Parameter(W)
        self.weight.stiefel = True

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.weight.T @ X @ self.weight


class ReEig(nn.Module):
    """Eigenvalue rectification ``max(l, threshold)`` (N, n, n) -> (N, n, n).

    Examples
    --------
    >>> import torch
    >>> ReEig(threshold=0.5)(torch.diag(torch.tensor([0.1, 2.0], dtype=torch.float64))[None])
    tensor([[[0.5000, 0.0000],
             [0.0000, 2.0000]]], dtype=torch.float64)
    """

    def __init__(self, threshold: float = 1e-4) -> None:
        super().__init__()
        self.threshold = threshold

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return rectify(X, self.threshold)


class LogEig(nn.Module):
    """Matrix logarithm and half-vectorisation (off-diagonals times sqrt 2): (N, n, n) -> (N, n(n+1)/2).

    Examples
    --------
    >>> import math, torch
    >>> LogEig()(torch.diag(torch.tensor([1.0, math.e], dtype=torch.float64))[None])  # log: diag(0, 1)
    tensor([[0., 0., 1.]], dtype=torch.float64)
    """

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        L = logm(X)
        n = L.shape[-1]
        rows, cols = torch.triu_indices(n, n)
        weights = torch.full(rows.shape, 2.0, dtype=L.dtype, device=L.device).sqrt()
        weights[rows == cols] = 1.0
        return L[..., rows, cols] * weights


class SPDNet(nn.Module):
    """BiMap -> (batch norm) -> ReEig -> LogEig -> Linear.

    Parameters
    ----------
    n_in, n_hidden, n_classes : int
        Input matrix size, BiMap output size, number of classes.
    batchnorm : str or None
        A key of :data:`covwb.spd.batchnorm.BATCHNORM_METRICS`, or None for no batch norm.
    theta : float or None
        Power deformation for ``"gbw_theta"``.
    seed : int
        Seed of the weight initialisation.
    bn_options : dict
        Further keyword arguments of :class:`SPDBatchNorm`.

    Examples
    --------
    >>> import torch
    >>> net = SPDNet(4, 3, 2, batchnorm="wasserstein", seed=0)  # 4 x 4 inputs, 3 x 3 hidden, 2 classes
    >>> X = torch.stack([torch.eye(4, dtype=torch.float64) * s for s in (1.0, 2.0, 3.0)])
    >>> net(X).shape  # class scores (logits)
    torch.Size([3, 2])
    """

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_classes: int,
        batchnorm: str | None = "wasserstein",
        *,
        theta: float | None = None,
        seed: int = 0,
        **bn_options: object,
    ) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.bimap = BiMap(n_in, n_hidden, generator=generator)
        self.batchnorm = None if batchnorm is None else SPDBatchNorm(n_hidden, batchnorm, theta, **bn_options)
        self.reeig = ReEig()
        self.logeig = LogEig()
        self.linear = nn.Linear(n_hidden * (n_hidden + 1) // 2, n_classes, dtype=torch.float64)
        with torch.no_grad():
            bound = self.linear.in_features**-0.5
            self.linear.weight.copy_(
                (torch.rand(self.linear.weight.shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            )
            self.linear.bias.zero_()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Class scores (logits), shape (N, n_classes), for SPD inputs (N, n_in, n_in)."""
        H = self.bimap(X)
        if self.batchnorm is not None:
            H = self.batchnorm(H)
        return self.linear(self.logeig(self.reeig(H)))

    @torch.no_grad()
    def refit_batchnorm(self, X: torch.Tensor) -> None:
        """Refit the batch norm's running statistics on inputs ``X`` (N, n_in, n_in); no-op without one."""
        if self.batchnorm is not None:
            self.batchnorm.refit(self.bimap(X))


class StiefelAdam(torch.optim.Adam):
    """Adam whose parameters flagged ``stiefel`` get a projected gradient and a QR retraction."""

    @torch.no_grad()
    def step(self, closure=None):
        stiefel = [p for group in self.param_groups for p in group["params"] if getattr(p, "stiefel", False)]
        for p in stiefel:
            project_stiefel_grad_(p)
        loss = super().step(closure)
        for p in stiefel:
            retract_stiefel_(p)
        return loss
