"""Penalties inside a training loop: everything that does not depend on the predictions is prepared once.

Every penalty of :mod:`covwb.fairness.torch_penalties` (dCov, CCdCov, JdCov; U or V) on a set of rows is
``P = Σ_ij |ŷ_i − ŷ_j| C_ij / s + κ`` with a constant symmetric matrix ``C`` built from the protected
attributes only (projection identity), a scale ``s`` (``n(n−3)`` or ``n²``) and a constant ``κ`` (JdCov).
Given the order of ŷ, ``P = Σ_i ŷ_i w_i + κ`` with ``w_i = (2/s) Σ_j sign(ŷ_i − ŷ_j) C_ij``: the weights
are computed without gradient, so autograd sees one dot product and the gradient is exact.

:class:`PenaltyPlan` is built once per fit and splits the penalty into exact terms (``C`` is a sum):

- **grouped** (categorical / intersectional attributes): ``C_ij = M_{g_i g_j}`` with a K × K cell matrix
  per batch (:func:`covwb.fairness.grouped.combine_cells`, for a whole chunk of batches at once); a step
  sorts the b predictions and takes one running sum of ``M[g]``: O(b log b + bK);
- **sorted** (one continuous attribute ``z``, 1-D): ``C_ij = |z_i − z_j| + u_i + u_j + τ`` (``u`` from the
  row sums of ``|z_i − z_j|``, O(b log b) after sorting the batch by ``z`` once per epoch); a step sweeps
  the batch in ``z`` order with a Fenwick tree over the prediction ranks: O(b log b), and no distance
  matrix of ``z`` is ever built;
- **dense** (several attributes of which one is continuous, for CCdCov and JdCov): ``C`` from the b × b
  distance matrix of the batch, built when the batch is drawn from the level codes (one-hot levels are
  √2 apart) and the encoded columns; a step is one pass over it.

The weights come from the compiled kernels of :mod:`covwb.fairness.weight_kernels` (one call per term and
step), exact with ``sign(0) = 0`` at tied predictions, as autograd differentiates ``|ŷ_i − ŷ_j|``.

dCov (a sum over attributes) uses one grouped term for its categorical attributes and one sorted term
per continuous one; CCdCov and JdCov use one term (JdCov of a single attribute is its dCov). Values equal
:func:`covwb.fairness.torch_penalties.penalty` (tested against it and dcor).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from covwb.errors import ParameterError
from covwb.fairness.encoding import ProtectedEncoding
from covwb.fairness.grouped import combine_cells, penalty_deltas
from covwb.fairness.torch_penalties import PENALTIES

if TYPE_CHECKING:
    import torch

_CHUNK = 1 << 20


class Term(NamedTuple):
    """One exact term of a batch penalty.

    Parameters
    ----------
    method : {"grouped", "sorted", "dense"}
        How its weights are computed.
    matrix : ndarray or None
        Grouped: the cell matrix ``4M/s``, shape (K, K). Dense: the raw matrix ``D``, shape (b, b), with
        ``C_ij = D_ij + u_i + u_j + τ`` off the diagonal (the diagonal of ``C`` never matters). Sorted: None.
    index : ndarray of int64 or None, shape (b,)
        Grouped: the cell of each row. Sorted: the batch positions in increasing order of ``z``.
    vector : ndarray, shape (b,)
        Grouped: the part of each row's weight that does not depend on the order of ŷ. Dense: ``u``.
        Sorted: ``u`` in ``z`` order.
    values : ndarray or None, shape (b,)
        Sorted: ``z`` in increasing order, centred on its batch mean.
    level : float
        ``τ`` (dense, sorted).
    factor : float
        ``2/s`` (dense, sorted).
    """

    method: str
    matrix: np.ndarray | None
    index: np.ndarray | None
    vector: np.ndarray
    values: np.ndarray | None
    level: float
    factor: float


class BatchConstant(NamedTuple):
    """What a penalty needs from the protected attributes of one batch: its terms and ``κ``."""

    terms: tuple[Term, ...]
    offset: float


def _term_weights(values: np.ndarray, term: Term) -> np.ndarray:
    """``w`` of one term, shape (b,), for predictions ``values`` (float64, shape (b,))."""
    from covwb.fairness import weight_kernels

    if term.method == "grouped":
        return weight_kernels.grouped_weights(values, term.index, term.matrix, term.vector)
    if term.method == "sorted":
        return weight_kernels.sorted_weights(values, term.index, term.vector, term.values, term.level, term.factor)
    return weight_kernels.dense_weights(values, term.matrix, term.vector, term.level, term.factor)


class PenaltyPlan:
    """The protected attributes of a fit, prepared for fast per-batch penalties.

    Parameters
    ----------
    kind : {"dcov", "jdcov", "ccdcov"}
        The penalty.
    protected : ProtectedEncoding
        Encoded attributes of all rows (rows are indexed globally).
    c : float, default 1.0
        JdCov constant (> 0).
    unbiased : bool, default True
        U- or V-statistic.
    """

    def __init__(self, kind: str, protected: ProtectedEncoding, *, c: float = 1.0, unbiased: bool = True) -> None:
        if kind not in PENALTIES:
            raise ParameterError(f"Unknown penalty '{kind}'; choose one of {', '.join(PENALTIES)}.")
        if kind == "jdcov" and c <= 0:
            raise ParameterError(f"The JdCov constant c must be positive, got {c}.")
        self.kind, self.c, self.unbiased = kind, float(c), unbiased
        self._cells = protected.cells
        self._n_cells = protected.cell_blocks[0].shape[0]
        continuous = [a.kind == "continuous" for a in protected.attributes]
        categorical = [block for block, cont in zip(protected.cell_blocks, continuous) if not cont]
        self._deltas: list[np.ndarray] = []
        self._sorted: list[np.ndarray] = []
        self._dense_columns: np.ndarray | None = None
        self._dense_levels = np.zeros(0, dtype=bool)
        if not any(continuous):
            self._deltas = penalty_deltas(kind, protected.cell_blocks)
        elif kind == "dcov" or len(protected.blocks) == 1:
            self._deltas = penalty_deltas("dcov", categorical) if categorical else []
            self._sorted = [block[:, 0] for block, cont in zip(protected.blocks, continuous) if cont]
        else:
            self._dense_levels = np.array([a.kind == "categorical" for a in protected.attributes])
            self._dense_columns = np.column_stack(
                [
                    codes.astype(np.float64) if levels else block[:, 0]
                    for levels, block, codes in zip(self._dense_levels, protected.blocks, protected.codes.T)
                ]
            )

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods of the terms, e.g. ``("grouped", "sorted")``."""
        return (
            (("grouped",) if self._deltas else ())
            + ("sorted",) * len(self._sorted)
            + (("dense",) if self._dense_columns is not None else ())
        )

    def constant(self, rows: np.ndarray) -> BatchConstant:
        """The constant of one set of rows (e.g. the validation rows, once per fit).

        Parameters
        ----------
        rows : ndarray of int, shape (b,)
            Row indices, b ≥ 4 (U) or ≥ 2 (V).

        Returns
        -------
        BatchConstant
        """
        return next(self.constants([np.asarray(rows)]))

    def constants(self, batches: Sequence[np.ndarray]) -> Iterator[BatchConstant]:
        """The constants of many batches; grouped and sorted terms are built a chunk of batches at a time.

        Parameters
        ----------
        batches : sequence of ndarray of int
            Row indices of each batch.

        Yields
        ------
        BatchConstant
            One per batch, in order.
        """
        smallest = 4 if self.unbiased else 2
        if any(rows.size < smallest for rows in batches):
            raise ParameterError(f"A batch is too small for the penalty; use at least {smallest} rows.")
        start = 0
        while start < len(batches):
            size = batches[start].size
            limit = max(1, _CHUNK // (size * max(self._n_cells, 2))) if self._dense_columns is None else 1
            stop = start + 1
            while stop < len(batches) and stop - start < limit and batches[stop].size == size:
                stop += 1
            rows = np.stack(batches[start:stop])
            parts: list[list[Term]] = [[] for _ in range(stop - start)]
            offsets = np.zeros(stop - start)
            if self._deltas:
                terms, grouped_offsets = self._grouped(rows)
                for part, term in zip(parts, terms):
                    part.append(term)
                offsets += grouped_offsets
            for values in self._sorted:
                for part, term in zip(parts, self._sorted_terms(values, rows)):
                    part.append(term)
            if self._dense_columns is not None:
                term, offset = self._dense_term(rows[0])
                parts[0].append(term)
                offsets[0] += offset
            yield from (BatchConstant(tuple(part), float(offset)) for part, offset in zip(parts, offsets))
            start = stop

    def gradient(
        self, predictions: np.ndarray, constant: BatchConstant, weight: float = 1.0
    ) -> tuple[float, np.ndarray]:
        """The penalty of one batch times ``weight`` (λ) and its gradient in the predictions.

        The penalty is positively homogeneous of degree one in the predictions, so its value is the dot
        product of the (centred) predictions with its gradient: one kernel call per term gives both.

        Parameters
        ----------
        predictions : ndarray, shape (b,)
            Model outputs of the batch rows, in the order the constant was built for.
        constant : BatchConstant
            From :meth:`constants` or :meth:`constant`.
        weight : float, default 1.0
            Factor applied to value and gradient.

        Returns
        -------
        value : float
            ``weight · P``.
        gradient : ndarray of float64, shape (b,)
            ``weight · ∂P/∂ŷ``; tied predictions count with ``sign(0) = 0``, as autograd's gradient of
            ``|ŷ_i − ŷ_j|``.
        """
        from covwb.fairness import weight_kernels

        values = np.ascontiguousarray(predictions, dtype=np.float64)
        weights = _term_weights(values, constant.terms[0])
        for term in constant.terms[1:]:
            weights += _term_weights(values, term)
        if weight != 1.0:
            weights *= weight
        return weight_kernels.centred_dot(values, weights) + weight * constant.offset, weights

    def value(self, predictions: torch.Tensor, constant: BatchConstant, weight: float = 1.0) -> torch.Tensor:
        """The penalty of one batch times ``weight`` (λ), differentiable in the predictions.

        Parameters
        ----------
        predictions : Tensor, shape (b,)
            Model outputs of the batch rows, in the order the constant was built for.
        constant : BatchConstant
            From :meth:`constants` or :meth:`constant`.
        weight : float, default 1.0
            Factor applied to the penalty.

        Returns
        -------
        Tensor, shape ()
            ``weight · P``, with the gradient of :meth:`gradient` (autograd sees one dot product).
        """
        import torch

        value, weights = self.gradient(predictions.detach().cpu().numpy(), constant, weight)
        if not (torch.is_grad_enabled() and predictions.requires_grad):
            return torch.tensor(value, dtype=predictions.dtype, device=predictions.device)
        weights_t = torch.from_numpy(weights).to(dtype=predictions.dtype, device=predictions.device)
        result = torch.dot(predictions, weights_t)
        return result + weight * constant.offset if constant.offset else result

    def _scale(self, b: int) -> float:
        """``s``: ``b(b−3)`` for U-statistics, ``b²`` for V."""
        return float(b * (b - 3) if self.unbiased else b * b)

    def _grouped(self, rows: np.ndarray) -> tuple[list[Term], np.ndarray]:
        """Grouped terms of batches, shape (m, b) rows → m terms and their constants ``κ``."""
        m, b = rows.shape
        cells = self._cells[rows]
        flat = (cells + self._n_cells * np.arange(m)[:, None]).ravel()
        counts = np.bincount(flat, minlength=m * self._n_cells).reshape(m, self._n_cells).astype(np.float64)
        kind = self.kind if not self._sorted else "dcov"
        matrices, offsets = combine_cells(kind, self._deltas, counts, c=self.c, unbiased=self.unbiased)
        matrices = matrices * (2.0 / self._scale(b))
        totals = np.einsum("mkl,ml->mk", matrices, counts)
        per_cell = -totals - np.diagonal(matrices, axis1=1, axis2=2)
        shifts = np.take_along_axis(per_cell, cells, axis=1)
        matrices *= 2.0
        terms = [Term("grouped", matrices[i], cells[i], shifts[i], None, 0.0, 1.0) for i in range(m)]
        return terms, offsets

    def _sorted_terms(self, column: np.ndarray, rows: np.ndarray) -> list[Term]:
        """Sorted terms of batches for one continuous attribute, shape (m, b) rows → m terms."""
        m, b = rows.shape
        values = column[rows]
        order = np.argsort(values, axis=1)
        ordered = np.take_along_axis(values, order, axis=1)
        below = np.cumsum(ordered, axis=1) - ordered
        totals = ordered.sum(axis=1, keepdims=True)
        sums = ordered * (2.0 * np.arange(b) - b) + totals - 2.0 * below
        grand = sums.sum(axis=1)
        if self.unbiased:
            u, levels = sums / -(b - 2), grand / ((b - 1) * (b - 2))
        else:
            u, levels = sums / -b, grand / b**2
        centred = ordered - totals / b
        factor = 2.0 / self._scale(b)
        return [Term("sorted", None, order[i], u[i], centred[i], float(levels[i]), factor) for i in range(m)]

    def _dense_term(self, rows: np.ndarray) -> tuple[Term, float]:
        """The dense term of one batch (raw matrix, row sums, centring) and its constant ``κ``."""
        from covwb.fairness.weight_kernels import dense_matrix

        b = rows.size
        jdcov = self.kind == "jdcov"
        matrix, rows_sum = dense_matrix(rows, self._dense_columns, self._dense_levels, jdcov, self.c, self.unbiased)
        total = float(rows_sum.sum())
        offset = 0.0
        if jdcov:
            power = self._dense_levels.size + 1
            last = self.c**power * ((b - 1) / (b - 3) if self.unbiased else 1.0)
            offset = -self.c * total / self._scale(b) - last
        if self.unbiased:
            u, level = rows_sum / -(b - 2), total / ((b - 1) * (b - 2))
        else:
            u, level = rows_sum / -b, total / b**2
        return Term("dense", matrix, None, u, None, level, 2.0 / self._scale(b)), offset
