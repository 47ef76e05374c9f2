"""Encoding of protected attributes of mixed types for the distance-covariance penalties.

Scaling (the distances between encoded rows are what dCov sees, so it is part of the method):

- **categorical** (text, or any attribute the user marks categorical) with K ≥ 3 levels: one-hot, K
  columns, so two different levels are √2 apart (as the authors' ``_reg_ccd``);
- **binary** (exactly two levels, text or numeric): one 0/1 column, the two levels 1 apart; the
  level coded 1 is the larger number or the later text in sort order;
- **continuous** (numeric with more than two values): min–max scaled to [0, 1] on the whole table, so
  that its full range is as far as two levels of a binary attribute; the authors' scaling of age is
  unverified (method note §1), this is our documented choice.

Intersectional cells cross the levels of every attribute; a continuous attribute enters the cells
through ``bins`` quantile bins (for tables, metrics and plots only; its penalty stays continuous).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from covwb.errors import ParameterError

KINDS: tuple[str, ...] = ("categorical", "binary", "continuous")
"""The kinds of protected attribute."""


@dataclass(frozen=True)
class ProtectedAttribute:
    """How one protected attribute is encoded.

    Parameters
    ----------
    name : str
        Column name.
    kind : {"categorical", "binary", "continuous"}
        Its kind, which sets the encoding.
    levels : tuple of str
        Levels in code order (categorical, binary) or bin labels (continuous).
    low, high : float
        Range used for min–max scaling (continuous); 0 and 1 otherwise.
    """

    name: str
    kind: str
    levels: tuple[str, ...]
    low: float = 0.0
    high: float = 1.0


@dataclass(frozen=True)
class ProtectedEncoding:
    """Encoded protected attributes and their intersectional cells.

    Parameters
    ----------
    attributes : tuple of ProtectedAttribute
        One per protected column, in the order given.
    blocks : tuple of ndarray, each of shape (n, p_m)
        The encoded attributes, float64.
    codes : ndarray of int64, shape (n, d)
        Per attribute: the level (or bin) index of each row.
    cells : ndarray of int64, shape (n,)
        Index of each row's intersectional cell in ``cell_labels``.
    cell_labels : tuple of str
        One label per cell, ``"gender=female · ethnicity=cauc"``.
    cell_blocks : tuple of ndarray, each of shape (K, p_m)
        Encoding of each cell per attribute; exact only when ``exact_cells``.
    exact_cells : bool
        True when no attribute is continuous, so the cells determine the encoding and the exact grouped
        penalty applies.
    notes : tuple of str
        Sentences on the kinds found and the scaling applied.
    """

    attributes: tuple[ProtectedAttribute, ...]
    blocks: tuple[np.ndarray, ...]
    codes: np.ndarray
    cells: np.ndarray
    cell_labels: tuple[str, ...]
    cell_blocks: tuple[np.ndarray, ...]
    exact_cells: bool
    notes: tuple[str, ...]

    @property
    def matrix(self) -> np.ndarray:
        """All blocks side by side, shape (n, Σ p_m): the CCdCov input."""
        return np.concatenate(self.blocks, axis=1)

    def subset(self, rows: np.ndarray) -> ProtectedEncoding:
        """The same encoding restricted to ``rows`` (cells keep their global indices)."""
        return ProtectedEncoding(
            attributes=self.attributes,
            blocks=tuple(block[rows] for block in self.blocks),
            codes=self.codes[rows],
            cells=self.cells[rows],
            cell_labels=self.cell_labels,
            cell_blocks=self.cell_blocks,
            exact_cells=self.exact_cells,
            notes=self.notes,
        )


def infer_kind(column: pd.Series) -> str:
    """``"binary"`` for two distinct values, ``"continuous"`` for other numbers, else ``"categorical"``."""
    distinct = column.dropna().nunique()
    if distinct == 2:
        return "binary"
    numeric = pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)
    return "continuous" if numeric else "categorical"


def _levels(column: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Level index per row and the level labels; ordered categoricals keep their order."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = [c for c in column.cat.categories if (column == c).any()]
        labels = tuple(str(c) for c in present)
        mapping = {value: i for i, value in enumerate(present)}
        codes = column.map(mapping).to_numpy(dtype=np.int64)
        return codes, labels
    if pd.api.types.is_numeric_dtype(column):
        values, codes = np.unique(column.to_numpy(dtype=np.float64), return_inverse=True)
        return codes.astype(np.int64), tuple(f"{v:g}" for v in values)
    values, codes = np.unique(column.astype(str).to_numpy(), return_inverse=True)
    return codes.astype(np.int64), tuple(str(v) for v in values)


def _bins(values: np.ndarray, bins: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Quantile bins of a continuous attribute: index per row and ``"[lo, hi]"`` labels."""
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)))
    codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, max(edges.size - 2, 0))
    labels = tuple(f"{edges[i]:.4g}–{edges[i + 1]:.4g}" for i in range(max(edges.size - 1, 1)))
    return codes.astype(np.int64), labels


def encode_protected(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    kinds: Mapping[str, str] | None = None,
    bins: int = 3,
) -> ProtectedEncoding:
    """Encode protected attributes (one-hot, 0/1, min–max) and cross them into intersectional cells.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n, ...)
        The table, without missing values in ``columns``.
    columns : sequence of str
        The protected columns.
    kinds : mapping of str to str, optional
        Override the inferred kind of some columns (``{"age": "categorical"}``).
    bins : int, default 3
        Quantile bins of continuous attributes in the cells.

    Returns
    -------
    ProtectedEncoding

    Raises
    ------
    ParameterError
        For no column, an unknown column or kind, missing values, a one-level attribute, or a
        continuous attribute that is not numeric.
    """
    if not columns:
        raise ParameterError("Choose at least one protected attribute.")
    if bins < 2:
        raise ParameterError("Continuous protected attributes need at least 2 bins for the cell tables.")
    overrides = dict(kinds or {})
    attributes, blocks, codes, notes = [], [], [], []
    for name in columns:
        if name not in frame.columns:
            raise ParameterError(f"The protected attribute '{name}' is not a column of the table.")
        column = frame[name]
        if column.isna().any():
            raise ParameterError(f"The protected attribute '{name}' has {int(column.isna().sum())} missing values.")
        if column.nunique() < 2:
            raise ParameterError(
                f"The protected attribute '{name}' has a single level ({column.iloc[0]!s}); fairness with respect "
                "to it is undefined, so drop it."
            )
        kind = overrides.get(name, infer_kind(column))
        if kind not in KINDS:
            raise ParameterError(f"Unknown kind '{kind}' for '{name}'; choose one of {', '.join(KINDS)}.")
        if kind == "continuous":
            if not pd.api.types.is_numeric_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype):
                raise ParameterError(f"The protected attribute '{name}' is not numeric, so it cannot be continuous.")
            values = column.to_numpy(dtype=np.float64)
            low, high = float(values.min()), float(values.max())
            blocks.append(((values - low) / (high - low))[:, None])
            code, labels = _bins(values, bins)
            attributes.append(ProtectedAttribute(name, kind, labels, low, high))
            notes.append(f"'{name}' is continuous: min–max scaled from [{low:g}, {high:g}] to [0, 1].")
        else:
            code, labels = _levels(column)
            if kind == "binary" and len(labels) != 2:
                raise ParameterError(f"'{name}' has {len(labels)} levels, so it cannot be binary.")
            if kind == "binary":
                blocks.append(code[:, None].astype(np.float64))
                notes.append(f"'{name}' is binary: {labels[0]} → 0, {labels[1]} → 1.")
            else:
                blocks.append(np.eye(len(labels))[code])
                notes.append(f"'{name}' is categorical with {len(labels)} levels: one-hot, levels √2 apart.")
            attributes.append(ProtectedAttribute(name, kind, labels))
        codes.append(code)
    code_matrix = np.stack(codes, axis=1)
    unique, cells = np.unique(code_matrix, axis=0, return_inverse=True)
    cells = cells.reshape(-1).astype(np.int64)
    first = np.zeros(unique.shape[0], dtype=np.int64)
    first[cells[::-1]] = np.arange(cells.size)[::-1]
    labels = tuple(" · ".join(f"{a.name}={a.levels[c]}" for a, c in zip(attributes, row)) for row in unique)
    exact = all(a.kind != "continuous" for a in attributes)
    return ProtectedEncoding(
        attributes=tuple(attributes),
        blocks=tuple(blocks),
        codes=code_matrix,
        cells=cells,
        cell_labels=labels,
        cell_blocks=tuple(block[first] for block in blocks),
        exact_cells=exact,
        notes=tuple(notes),
    )
