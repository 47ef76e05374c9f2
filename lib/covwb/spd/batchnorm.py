"""Riemannian batch normalisation of SPD matrices under five metrics of the workbench's vocabulary.

``SPDBatchNorm`` centres a batch at its Frechet mean, rescales its dispersion (mean squared
distance to the mean) to a learnable ``weight**2`` and moves it to a learnable SPD bias ``B``:

* ``"riemann"``: affine-invariant (Brooks et al. 2019, with the dispersion step of Kobler et al. 2022):
  ``B^1/2 exp(s / sqrt(v + eps) (L_i - mean L)) B^1/2`` with ``L_i = log(G^-1/2 X_i G^-1/2)``;
* ``"logeuclid"``: log-Euclidean: ``exp(s / sqrt(v + eps) (log X_i - mean log X) + log B)``;
* ``"wasserstein"``, ``"gbw"`` (learnable SPD metric ``M``) and ``"gbw_theta"`` (deformed by ``X -> X^theta``):
  Bures-Wasserstein BN (Wang et al. 2025). In the deformed coordinates
  ``X~ = M^-1/2 X^theta M^-1/2``: ``W_i = Gamma_{G->I} Log_G(X~_i)`` (exact BW parallel transport,
  ``G`` and ``I`` commute), centred ``W_i - mean W``, scaled by ``s / sqrt(v + eps)``, transported
  to the bias ``B~`` and mapped by ``Exp_B~``; the output is ``(M^1/2 O M^1/2)^(1/theta)``.

``G`` is the reference point: the batch barycentre after ``mean_iterations`` fixed-point
iterations (Karcher, or Alvarez-Esteban for BW) started from the running mean (the arithmetic
mean for the first batch). Whatever their number, subtracting the mean tangent vector makes the
outputs' Frechet mean exactly the bias and their dispersion exactly ``weight**2 v / (v + eps)``
(for the BW family: as long as no ``Exp`` folds, see ``last_fold_mask``); more iterations
only move the point where the batch is linearised closer to its true mean, where the
tangent-space step becomes the exact Riemannian centring. The running mean is updated with the
one-step estimate ``Exp_G(mean Log_G X_i)`` by geodesic interpolation. Batch statistics are
detached. The bias and ``M`` are :class:`~covwb.spd.parameters.SPDParameter` (spectral
parametrisation, any optimiser keeps them SPD); they start at the identity. The running
statistics lag behind changing parameters; :meth:`SPDBatchNorm.refit` recomputes them on a
given set (the training set before evaluation).

Cost of the BW family per matrix: one ``eigh`` (``(V^T X V)^1/2``, :mod:`covwb.spd.bw_fused`, with
its Daleckii-Krein backward and the rest of the step written out by hand) plus two more under
``theta != 1``; with ``mean_iterations = 0`` the running-mean update needs no matrix function,
since the geodesic from ``G`` to ``Exp_G(mean W)`` is ``t -> Exp_G(t mean W)``.

Differences from the published GBWBN code, on purpose: the dispersion ``v`` is measured about the
batch mean (``dispersion_about="identity"`` reproduces the published variance about ``I``);
scaling happens in the tangent space (no ``Exp_I``/``Log_I`` round trip that folds); the bias lives
in the deformed coordinates and the running mean in the original ones (so a changing ``M`` does
not invalidate it); ``X^theta`` is skipped at ``theta = 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from covwb.covariance.geometry import SPD_METRICS, check_metric
from covwb.errors import ParameterError, SPDInputError
from covwb.spd.bures_wasserstein import bw_barycentre, bw_geodesic
from covwb.spd.bw_fused import exp_at_bias, whitened_sqrt
from covwb.spd.geometry import metric_theta
from covwb.spd.matrix_functions import expm, logm, powm, sqrtm_invsqrtm, sym
from covwb.spd.parameters import SPDParameter

BATCHNORM_METRICS: dict[str, str] = {m.name: m.short for m in SPD_METRICS.values() if m.batch_norm}
"""Metrics of :class:`SPDBatchNorm` (names of :data:`~covwb.covariance.geometry.SPD_METRICS`) and their short labels."""

_BW_FAMILY = tuple(name for name in BATCHNORM_METRICS if SPD_METRICS[name].family == "wasserstein")


def karcher_mean_torch(
    X: torch.Tensor, *, tol: float = 1e-10, max_iter: int = 50, init: torch.Tensor | None = None
) -> tuple[torch.Tensor, int]:
    """Affine-invariant (Karcher) mean of SPD matrices (N, n, n) and the iterations it took.

    The package's one torch Karcher mean (the numpy one is :func:`covwb.covariance.karcher.karcher_mean`).
    Starts at ``init`` (the arithmetic mean by default);
    ``S <- S^1/2 exp(t mean log(S^-1/2 X S^-1/2)) S^1/2`` with step ``t = 1``, halved whenever the norm of
    the mean logarithm (the Riemannian gradient) did not decrease, as pyRiemann's ``mean_riemann`` does,
    until that Frobenius norm is below ``tol`` or ``max_iter`` iterations ran (``max_iter = 1`` is the
    single step of Brooks et al.'s batch norm). With a fixed step of 1 the iteration overshoots and
    diverges on spread-out batches (on the SPD page's default synthetic batch of 30 matrices of 8 × 8,
    condition number 1e4, the gradient norm grew from 1.7 to 4.1 in 50 iterations); the halving makes it
    converge there in 19.

    Examples
    --------
    >>> import torch
    >>> X = torch.stack([torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64)), torch.eye(2, dtype=torch.float64)])
    >>> mean, iterations = karcher_mean_torch(X)
    >>> mean.diagonal(), iterations
    (tensor([1., 2.], dtype=torch.float64), 2)
    """
    S = X.mean(0) if init is None else init
    step, previous = 1.0, math.inf
    for iteration in range(1, max_iter + 1):
        root, inv_root = sqrtm_invsqrtm(S)
        T = logm(inv_root @ X @ inv_root).mean(0)
        norm = float(torch.linalg.matrix_norm(T))
        if norm >= previous:
            step /= 2
        previous = norm
        S = sym(root @ expm(step * T) @ root)
        if norm < tol:
            return S, iteration
    return S, max_iter


class SPDBatchNorm(nn.Module):
    """Batch normalisation of SPD matrices (N, n, n) under AIRM, LEM, BW, GBW or power-deformed GBW (θ-GBW).

    Parameters
    ----------
    n : int
        Matrix size.
    metric : {"riemann", "logeuclid", "wasserstein", "gbw", "gbw_theta"}
        Geometry, see :data:`BATCHNORM_METRICS`.
    theta : float or None
        Power deformation of ``"gbw_theta"`` (default 0.5); must be 1 (or None) for the other metrics.
    momentum : float
        Weight of the batch statistics in the running statistics, in (0, 1].
    eps : float
        Added to the dispersion before the square root.
    dispersion_about : {"mean", "identity"}
        Where the BW-family dispersion is measured; ``"identity"`` is the published code's choice.
    mean_iterations : int
        Barycentre iterations (Karcher or Alvarez-Esteban) run from the reference point before
        the tangent-space step; 0 uses the reference point itself.
    mean_tol : float
        Those iterations stop early once the relative change is below ``mean_tol``.
    weight_init : float or None
        Initial dispersion weight ``s``; by default 1 for AIRM/LEM and 1/2 for the BW family, whose
        squared distance is a quarter of the affine-invariant one near the identity, so that every
        metric starts from the same spread (and BW's ``Exp`` does not fold at the start).
    dtype : torch.dtype
        Parameter dtype.

    Examples
    --------
    >>> import torch
    >>> X = torch.stack([torch.diag(torch.tensor([1.0, s, s * s], dtype=torch.float64)) for s in (0.5, 1.0, 2.0, 3.0)])
    >>> layer = SPDBatchNorm(3, "gbw_theta")  # power-deformed GBW, theta 0.5, learnable metric M
    >>> out = layer(X)
    >>> out.shape, layer.theta, layer.last_fold_mask.tolist()
    (torch.Size([4, 3, 3]), 0.5, [False, False, False, False])

    Attributes
    ----------
    last_fold_mask : Tensor of bool, shape (N,)
        BW family: which matrices of the last batch folded (``Exp`` past the end of its geodesic).
    last_fold_fraction : float
        The share of the last batch that folded.
    last_mean_iterations : int
        Barycentre iterations the last batch took (the tangent-space step not counted).
    last_mean_converged : bool
        Whether the last batch's barycentre met ``mean_tol`` (always for LEM, whose mean is closed-form;
        never when ``mean_iterations`` is 0 or 1 by design). The affine-invariant mean counts as unconverged
        when it used all ``mean_iterations``, even if its last one met the tolerance.
    """

    def __init__(
        self,
        n: int,
        metric: str = "wasserstein",
        theta: float | None = None,
        *,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dispersion_about: str = "mean",
        mean_iterations: int = 0,
        mean_tol: float = 1e-10,
        weight_init: float | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        check_metric(metric, BATCHNORM_METRICS)
        theta = metric_theta(metric, theta)
        if not 0.0 < momentum <= 1.0:
            raise ParameterError(f"The momentum must be in (0, 1], got {momentum}.")
        if dispersion_about not in ("mean", "identity"):
            raise ParameterError("dispersion_about must be 'mean' or 'identity'.")
        if mean_iterations < 0:
            raise ParameterError(f"mean_iterations must be 0 or more, got {mean_iterations}.")
        self.n, self.metric, self.theta = n, metric, theta
        self.momentum, self.eps, self.dispersion_about = momentum, eps, dispersion_about
        self.mean_iterations, self.mean_tol = mean_iterations, mean_tol
        self.bias = SPDParameter(n, dtype)
        if weight_init is None:
            weight_init = 0.5 if metric in _BW_FAMILY else 1.0
        self.weight = nn.Parameter(torch.full((), float(weight_init), dtype=dtype))
        self.metric_M = SPDParameter(n, dtype) if metric in ("gbw", "gbw_theta") else None
        self.register_buffer("running_mean", torch.eye(n, dtype=dtype))
        self.register_buffer("running_var", torch.ones((), dtype=dtype))
        self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long))
        self._last_step: torch.Tensor | None = None
        self.last_mean_iterations = 0
        self.last_mean_converged = True

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Normalise a batch of SPD matrices, shape (N, n, n) -> (N, n, n).

        Raises
        ------
        SPDInputError
            ``X`` is not of shape (N, n, n) or holds a NaN or infinite value.
        ParameterError
            Fewer than 2 matrices in training mode.
        """
        if X.ndim != 3 or X.shape[1:] != (self.n, self.n):
            raise SPDInputError(
                f"Batch normalisation of {self.n} x {self.n} matrices got a batch of shape {tuple(X.shape)}; "
                f"give matrices of shape (N, {self.n}, {self.n})."
            )
        if not math.isfinite(float(X.detach().sum())) and not bool(torch.isfinite(X).all()):
            raise SPDInputError("The batch holds a NaN or infinite value; check the input matrices.")
        if self.training and X.shape[0] < 2:
            raise ParameterError("Batch normalisation needs at least 2 matrices per batch in training mode.")
        if self.metric == "riemann":
            return self._riemann(X)
        if self.metric == "logeuclid":
            return self._logeuclid(X)
        return self._bw_family(X)

    def _update(self, var: torch.Tensor, towards: Callable[[float], torch.Tensor]) -> None:
        """Update the running statistics; ``towards(t)`` is the point at ``t`` on the geodesic
        from the running mean (``t = 0``) to the batch mean (``t = 1``, taken for the first batch)."""
        with torch.no_grad():
            if int(self.num_batches_tracked) == 0:
                self.running_mean.copy_(towards(1.0))
                self.running_var.copy_(var)
            else:
                self.running_mean.copy_(towards(self.momentum))
                self.running_var.lerp_(var, self.momentum)
            self.num_batches_tracked += 1

    def _scale(self, var: torch.Tensor) -> torch.Tensor:
        return self.weight / torch.sqrt(var + self.eps)

    def _start(self, X: torch.Tensor, running: torch.Tensor) -> torch.Tensor:
        """Reference point before the mean iterations: the running mean once there is one."""
        return X.mean(0) if int(self.num_batches_tracked) == 0 else running

    def _riemann(self, X: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():
                G, self.last_mean_iterations = karcher_mean_torch(
                    X.detach(),
                    tol=self.mean_tol,
                    max_iter=self.mean_iterations,
                    init=self._start(X.detach(), self.running_mean),
                )
            self.last_mean_converged = self.last_mean_iterations < self.mean_iterations
        else:
            G = self.running_mean
        root_g, inv_root = sqrtm_invsqrtm(G)
        L = logm(inv_root @ X @ inv_root)
        if self.training:
            with torch.no_grad():
                mean_log = L.detach().mean(0)
                var = ((L.detach() - mean_log) ** 2).sum((-1, -2)).mean()
                mean = sym(root_g @ expm(mean_log) @ root_g)
                self._update(var, _along(_riemann_geodesic, self.running_mean, mean))
            L = L - mean_log
        else:
            var = self.running_var
        root_b = self.bias.power(0.5)
        return sym(root_b @ expm(self._scale(var) * L) @ root_b)

    def _logeuclid(self, X: torch.Tensor) -> torch.Tensor:
        L = logm(X)
        if self.training:
            mean_log = L.detach().mean(0)
            var = ((L.detach() - mean_log) ** 2).sum((-1, -2)).mean()
            self.last_mean_iterations, self.last_mean_converged = 0, True
            self._update(var, _along(_logeuclid_geodesic, self.running_mean, expm(mean_log)))
        else:
            mean_log, var = logm(self.running_mean), self.running_var
        return expm(self._scale(var) * (L - mean_log) + self.bias.log())

    def _bw_family(self, X: torch.Tensor) -> torch.Tensor:
        """BW-family BN: one ``eigh`` per matrix (three under ``theta != 1``), closed-form backward.

        The congruences by ``M^-+1/2`` are folded into the eigenbases and the batched work goes
        through :func:`~covwb.spd.bw_fused.whitened_sqrt` and :func:`~covwb.spd.bw_fused.exp_at_bias`.
        """
        root_m, inv_root_m = self._metric_factors()
        Xp = X if self.theta == 1.0 else powm(X, self.theta)
        roots = (root_m, _detached(inv_root_m))
        reference = _deform(self.running_mean, roots[1], self.theta)
        G, Xt = reference, None
        if self.training:
            self.last_mean_iterations, self.last_mean_converged = 0, False
            if self.mean_iterations or self.dispersion_about == "identity" or not int(self.num_batches_tracked):
                with torch.no_grad():
                    Xt = Xp.detach() if inv_root_m is None else sym(roots[1] @ Xp.detach() @ roots[1])
                    result = bw_barycentre(
                        Xt, tol=self.mean_tol, max_iter=self.mean_iterations, init=self._start(Xt, reference)
                    )
                G, self.last_mean_iterations = result.mean, result.n_iter
                self.last_mean_converged = result.converged
        g, U = torch.linalg.eigh(G)
        g = g.clamp_min(torch.finfo(g.dtype).tiny)
        root_g = g.sqrt()
        transport = (2 * (g[:, None] + g[None, :])).sqrt()
        KR = whitened_sqrt(Xp, U * root_g, transport / (root_g[:, None] * root_g[None, :]), inv_root_m, roots[0])
        if self.training:
            with torch.no_grad():
                offset = KR.detach().mean(0)
                W_mean = offset - 2 * torch.diag(root_g)
            W_hat = KR - offset
            with torch.no_grad():
                if self.dispersion_about == "mean":
                    var = W_hat.detach().pow(2).sum() / (4 * len(X) * self.theta**2)
                else:
                    var = _bw_to_identity2(Xt).mean() / self.theta**2
                towards = self._bw_towards(U, g, W_mean / transport, roots, at_running_mean=G is reference)
                self._update(var, towards)
        else:
            var = self.running_var
            W_hat = KR - 2 * torch.diag(root_g)
        b, Q = self.bias.eig()
        out, step = exp_at_bias(W_hat, self._scale(var), b, Q, U, inv_root_m, root_m)
        self._last_step = step
        return out if self.theta == 1.0 else powm(out, 1.0 / self.theta)

    def _bw_towards(
        self,
        U: torch.Tensor,
        g: torch.Tensor,
        L_mean: torch.Tensor,
        roots: tuple[torch.Tensor | None, torch.Tensor | None],
        *,
        at_running_mean: bool,
    ) -> Callable[[float], torch.Tensor]:
        """Points on the geodesic from the running mean to the batch mean ``Exp_G(W_mean)``.

        ``G = U diag(g) U^T`` in the deformed coordinates and ``L_mean = L_G[W_mean]`` in the basis
        ``U``. ``I + L_mean`` is the mean of the optimal transport maps
        ``G^-1/2 (G^1/2 X_i G^1/2)^1/2 G^-1/2`` from ``G`` to the matrices, positive semi-definite,
        so when ``G`` is the (deformed) running mean the geodesic is ``t -> Exp_G(t W_mean)``
        and needs no matrix function.
        """

        def exp_step(t: float) -> torch.Tensor:
            return _undeform(_exp_in_eigenbasis(U, g, t * L_mean), roots[0], self.theta)

        if at_running_mean:
            return exp_step

        def geodesic(A: torch.Tensor, B: torch.Tensor, t: float) -> torch.Tensor:
            A, B = _deform(A, roots[1], self.theta), _deform(B, roots[1], self.theta)
            return _undeform(bw_geodesic(A, B, t), roots[0], self.theta)

        return _along(geodesic, self.running_mean, exp_step(1.0))

    @torch.no_grad()
    def refit(self, X: torch.Tensor, *, mean_iterations: int = 20) -> None:
        """Set the running statistics to those of ``X`` under the current parameters.

        The running mean and variance follow the batches with ``momentum``, so they lag behind
        parameters that keep changing (the batch norm's metric ``M``, the layers before it);
        evaluation then normalises with statistics the network no longer produces. Refitting on
        the whole training set before evaluating (as ``torch.optim.swa_utils.update_bn`` does for
        Euclidean batch norm) removes that lag.

        Parameters
        ----------
        X : Tensor, shape (N, n, n)
            SPD matrices as they reach this layer (e.g. every training matrix after the BiMap).
        mean_iterations : int
            Barycentre iterations from the current running mean (at least as many as in training).
        """
        momentum, iterations, training = self.momentum, self.mean_iterations, self.training
        self.momentum, self.mean_iterations = 1.0, max(mean_iterations, iterations)
        try:
            self.train()
            self(X)
        finally:
            self.momentum, self.mean_iterations = momentum, iterations
            self.train(training)

    @property
    def last_fold_mask(self) -> torch.Tensor:
        """BW family: which matrices of the last batch folded, bool tensor of shape (N,).

        Matrix ``i`` folds when the exponential map at the bias that produces its output,
        ``Exp_B(V_i) = (I + L_i) B (I + L_i)`` with ``L_i = L_B[V_i]`` (in the deformed coordinates
        of GBW and θ-GBW), runs past the end of its geodesic: ``I + L_i`` is not positive definite,
        i.e. :func:`~covwb.spd.bures_wasserstein.fold_margin` ``(B, V_i) <= 0``. The output is then
        still positive semi-definite but reflected back towards the bias (possibly singular), and
        the batch's mean and dispersion miss their targets. Checked by a Cholesky factorisation
        when read, so that training does not pay for it; empty for AIRM and LEM, which never fold,
        and before the first forward pass.
        """
        if self._last_step is None:
            return torch.zeros(0, dtype=torch.bool)
        return torch.linalg.cholesky_ex(self._last_step).info > 0

    @property
    def last_fold_fraction(self) -> float:
        """Share of the last batch that folded (see :attr:`last_fold_mask`), in [0, 1]; 0 for AIRM and LEM."""
        mask = self.last_fold_mask
        return float(mask.to(torch.float64).mean()) if mask.numel() else 0.0

    def _metric_factors(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``(M^1/2, M^-1/2)`` of the GBW metric matrix, or ``(None, None)`` for plain BW.

        Only ``M^-1/2`` carries a gradient: the fused steps take ``M^1/2`` as its inverse, so the
        gradient of ``M`` goes through one matrix power.
        """
        if self.metric_M is None:
            return None, None
        Q, inv_root_eigvals = self.metric_M.rotation(), (-0.5 * self.metric_M.log_eigvals).exp()
        inv_root = (Q * inv_root_eigvals) @ Q.T
        with torch.no_grad():
            root = (Q / inv_root_eigvals) @ Q.T
        return root, inv_root

    def bias_matrix(self) -> torch.Tensor:
        """The bias in the original coordinates (the target mean of the outputs), shape (n, n)."""
        if self.metric not in _BW_FAMILY:
            return self.bias.matrix()
        return _undeform(self.bias.matrix(), None if self.metric_M is None else self.metric_M.power(0.5), self.theta)


def _trace(X: torch.Tensor) -> torch.Tensor:
    return X.diagonal(dim1=-2, dim2=-1).sum(-1)


def _bw_to_identity2(X: torch.Tensor) -> torch.Tensor:
    eigvals = torch.linalg.eigvalsh(X).clamp_min(0)
    return (eigvals - 2 * eigvals.sqrt() + 1).sum(-1)


def _identity_plus(L: torch.Tensor) -> torch.Tensor:
    return torch.eye(L.shape[-1], dtype=L.dtype, device=L.device) + L


def _exp_in_eigenbasis(U: torch.Tensor, g: torch.Tensor, L: torch.Tensor) -> torch.Tensor:
    """``Exp_G(V) = U (I + L) diag(g) (I + L) U^T`` for ``G = U diag(g) U^T``, ``L = L_G[V]`` in that basis."""
    F = (U @ _identity_plus(L)) * g.sqrt()
    return sym(F @ F.T)


def _detached(M: torch.Tensor | None) -> torch.Tensor | None:
    return None if M is None else M.detach()


def _deform(A: torch.Tensor, inv_root: torch.Tensor | None, theta: float) -> torch.Tensor:
    """``M^-1/2 A^theta M^-1/2`` (``inv_root = M^-1/2``, None for the identity): original to deformed."""
    A = A if theta == 1.0 else powm(A, theta)
    return A if inv_root is None else sym(inv_root @ A @ inv_root)


def _undeform(B: torch.Tensor, root: torch.Tensor | None, theta: float) -> torch.Tensor:
    """``(M^1/2 B M^1/2)^(1/theta)`` (``root = M^1/2``, None for the identity): deformed to original."""
    if root is not None:
        B = sym(root @ B @ root)
    return B if theta == 1.0 else powm(B, 1.0 / theta)


def _along(
    geodesic: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor], start: torch.Tensor, end: torch.Tensor
) -> Callable[[float], torch.Tensor]:
    """``t -> geodesic(start, end, t)``, exactly ``end`` at ``t = 1``."""
    return lambda t: end if t == 1.0 else geodesic(start, end, t)


def _riemann_geodesic(A: torch.Tensor, B: torch.Tensor, t: float) -> torch.Tensor:
    root, inv_root = sqrtm_invsqrtm(A)
    return sym(root @ powm(inv_root @ B @ inv_root, t) @ root)


def _logeuclid_geodesic(A: torch.Tensor, B: torch.Tensor, t: float) -> torch.Tensor:
    return expm((1 - t) * logm(A) + t * logm(B))
