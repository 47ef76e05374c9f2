"""From a table to a fairness problem: target, task, features, exposure, protected attributes, split.

Protected attributes are removed from the features and enter only the penalty and the metrics. Numeric
features are standardised on the training rows; text features are one-hot encoded (and the notes say so).
Rows with a missing target are dropped (and counted in the notes); so are rows with missing features,
exposure or protected attributes.

The rows are split three ways (:func:`split_rows`), seeded and stratified on the intersectional cells:
**training** rows fit the models, **validation** rows stop the training early and choose λ, and **test**
rows, used for nothing else, give the numbers that are reported. Each cell is split on its own, so every
cell with at least three rows appears in all three parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from covwb.errors import ParameterError
from covwb.fairness.encoding import ProtectedEncoding, encode_protected
from covwb.fairness.roles import leaking_columns

TASKS: dict[str, str] = {
    "binary": "Binary outcome (logistic)",
    "continuous": "Continuous outcome (linear)",
    "counts": "Counts with exposure (Poisson)",
}
"""The tasks and their display names."""


@dataclass(frozen=True)
class FairnessData:
    """A prepared fairness problem.

    Parameters
    ----------
    task : {"binary", "continuous", "counts"}
        The task.
    target : str
        Name of the target column.
    X : ndarray, shape (n, f)
        Features, float64: numeric standardised on the training rows, text one-hot.
    feature_names : tuple of str
        Name of each column of ``X``.
    y : ndarray, shape (n,)
        Target: 0/1 (binary), original units (continuous) or counts.
    exposure : ndarray, shape (n,)
        Exposure of each row (counts), ones otherwise.
    protected : ProtectedEncoding
        The encoded protected attributes of the same rows.
    train, validation, test : ndarray of int
        Sorted row indices of the three parts: fitting; early stopping and the choice of λ; reporting.
    notes : tuple of str
        What preparation did: dropped rows, encodings, level mapping.
    """

    task: str
    target: str
    X: np.ndarray
    feature_names: tuple[str, ...]
    y: np.ndarray
    exposure: np.ndarray
    protected: ProtectedEncoding
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    notes: tuple[str, ...]


def _target(column: pd.Series, task: str, name: str, notes: list[str]) -> np.ndarray:
    """The target as float64 for the task, with 0/1 coding of a binary outcome."""
    if task == "binary":
        levels = (
            sorted(column.unique(), key=str) if not pd.api.types.is_numeric_dtype(column) else sorted(column.unique())
        )
        if len(levels) != 2:
            raise ParameterError(f"A binary task needs a target with exactly two values; '{name}' has {len(levels)}.")
        notes.append(f"Target '{name}': {levels[0]} → 0, {levels[1]} → 1.")
        return (column == levels[1]).to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype):
        raise ParameterError(f"The target '{name}' is not numeric, so it cannot be a {TASKS[task].lower()}.")
    values = column.to_numpy(dtype=np.float64)
    if task == "counts" and np.any(values < 0):
        raise ParameterError(f"The count target '{name}' has negative values; counts must be ≥ 0.")
    if task == "continuous" and np.ptp(values) == 0:
        raise ParameterError(f"The target '{name}' is constant; there is nothing to predict.")
    return values


def _features(
    frame: pd.DataFrame, columns: Sequence[str], train: np.ndarray, notes: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Standardised numeric features and one-hot text features."""
    blocks, names, encoded = [], [], []
    for name in columns:
        column = frame[name]
        numeric = pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)
        if numeric:
            values = column.to_numpy(dtype=np.float64)
            scale = values[train].std()
            blocks.append(((values - values[train].mean()) / (scale if scale > 0 else 1.0))[:, None])
            names.append(name)
        else:
            levels = sorted(column.astype(str).unique())
            text = column.astype(str).to_numpy()
            blocks.append(np.stack([(text == level).astype(np.float64) for level in levels], axis=1))
            names.extend(f"{name}={level}" for level in levels)
            encoded.append(f"{name} ({len(levels)} levels)")
    if encoded:
        notes.append("Non-numeric features one-hot encoded: " + ", ".join(encoded) + ".")
    return np.concatenate(blocks, axis=1), names


def prepare_data(
    frame: pd.DataFrame,
    *,
    target: str,
    task: str,
    features: Sequence[str],
    protected: Sequence[str],
    exposure: str | None = None,
    kinds: Mapping[str, str] | None = None,
    bins: int = 3,
    validation: float = 0.2,
    test: float = 0.2,
    seed: int = 0,
) -> FairnessData:
    """Prepare a table for fair training: checks, dropped rows, encodings and a seeded split.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_rows, n_columns)
        The table.
    target : str
        Target column.
    task : {"binary", "continuous", "counts"}
        Binary (two values, coded 0/1), continuous, or counts with exposure.
    features : sequence of str
        Feature columns; protected attributes among them are removed.
    protected : sequence of str
        Protected attributes, of mixed types (see :mod:`covwb.fairness.encoding`).
    exposure : str, optional
        Exposure column (counts only), positive; without it every row has exposure 1.
    kinds : mapping of str to str, optional
        Kind overrides for protected attributes.
    bins : int, default 3
        Quantile bins of continuous protected attributes in the cells.
    validation : float, default 0.2
        Share of rows for early stopping and the choice of λ.
    test : float, default 0.2
        Share of rows held out for the reported numbers.
    seed : int, default 0
        Seed of the split.

    Returns
    -------
    FairnessData

    Raises
    ------
    ParameterError
        For an unknown task or column, a target among the features or protected attributes, no
        features, a target that does not fit the task, a non-positive exposure, a one-level protected
        attribute, or too few rows.
    """
    if task not in TASKS:
        raise ParameterError(f"Unknown task '{task}'; choose one of {', '.join(TASKS)}.")
    for name in [target, *features, *protected, *([exposure] if exposure else [])]:
        if name not in frame.columns:
            raise ParameterError(f"'{name}' is not a column of the table.")
    if target in protected:
        raise ParameterError(f"The target '{target}' cannot also be a protected attribute.")
    if not (0.05 <= validation <= 0.5 and 0.05 <= test <= 0.5 and validation + test <= 0.7):
        raise ParameterError(
            f"The validation and test shares must each be between 0.05 and 0.5 and leave at least 30% of the rows "
            f"for training; got {validation:g} and {test:g}."
        )
    notes: list[str] = []
    if task == "counts" and not exposure:
        notes.append("No exposure column: every row has exposure 1, so the model predicts counts per row.")
    dropped = [name for name in features if name in protected or name in (target, exposure)]
    if dropped:
        notes.append("Removed from the features (protected, target or exposure): " + ", ".join(dropped) + ".")
    features = [name for name in features if name not in dropped]
    if not features:
        raise ParameterError("Choose at least one feature that is not protected, the target or the exposure.")
    missing_target = int(frame[target].isna().sum())
    if missing_target == len(frame):
        raise ParameterError(f"The target '{target}' is missing in every row.")
    if missing_target:
        notes.append(f"Dropped {missing_target} rows with a missing target '{target}'.")
    table = frame[frame[target].notna()]
    used = [*features, *protected, *([exposure] if exposure else [])]
    incomplete = int(table[used].isna().any(axis=1).sum())
    if incomplete:
        notes.append(f"Dropped {incomplete} rows with missing features, exposure or protected attributes.")
    table = table[table[used].notna().all(axis=1)].reset_index(drop=True)
    if len(table) < 20:
        raise ParameterError(f"Only {len(table)} complete rows remain; fair training needs at least 20.")
    y = _target(table[target], task, target, notes)
    if exposure:
        weights = table[exposure]
        if not pd.api.types.is_numeric_dtype(weights) or np.any(weights.to_numpy(dtype=np.float64) <= 0):
            raise ParameterError(f"The exposure '{exposure}' must be positive numbers in every row.")
        weights = weights.to_numpy(dtype=np.float64)
    else:
        weights = np.ones(len(table))
    encoding = encode_protected(table, protected, kinds=kinds, bins=bins)
    train, held_out, tested = split_rows(encoding.cells, validation=validation, test=test, seed=seed)
    notes.extend(_split_notes(encoding, train, held_out, tested, seed))
    leaks = leaking_columns(table, target, features, task=task)
    if leaks:
        notes.append(
            "These features predict the target almost perfectly on their own and may restate it: "
            + "; ".join(f"{name} ({evidence})" for name, evidence in leaks.items())
            + "."
        )
    X, names = _features(table, features, train, notes)
    return FairnessData(
        task=task,
        target=target,
        X=X,
        feature_names=tuple(names),
        y=y,
        exposure=weights,
        protected=encoding,
        train=train,
        validation=held_out,
        test=tested,
        notes=tuple(notes) + encoding.notes,
    )


def split_rows(
    cells: np.ndarray, *, validation: float = 0.2, test: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded training / validation / test rows, stratified on the intersectional cells.

    Each cell's rows are shuffled and cut on their own: a cell of ``m ≥ 3`` rows gives
    ``max(1, round(m · test))`` rows to test and ``max(1, round(m · validation))`` to validation, and keeps
    at least one for training; a cell of two rows gives one to training and one to test (to validation
    when ``test`` is 0); a single row goes to training. A share of 0 gives no rows. So the parts' shares
    match the requested ones up to rounding within each cell.

    Parameters
    ----------
    cells : ndarray of int, shape (n,)
        Cell of each row.
    validation, test : float
        Shares of the rows for validation and for test.
    seed : int, default 0
        Seed of the shuffles.

    Returns
    -------
    train, validation, test : ndarray of int64
        Sorted row indices; together they are ``0 … n − 1`` exactly once.

    Examples
    --------
    >>> cells = np.repeat([0, 1], [10, 2])
    >>> train, validation, test = split_rows(cells, validation=0.2, test=0.2, seed=0)
    >>> len(train), len(validation), len(test)
    (7, 2, 3)
    >>> np.unique(cells[test]).tolist()
    [0, 1]
    """
    rng = np.random.default_rng(seed)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for cell in np.unique(cells):
        rows = rng.permutation(np.flatnonzero(cells == cell))
        n_test, n_validation = _cell_counts(rows.size, validation, test)
        parts[2].append(rows[:n_test])
        parts[1].append(rows[n_test : n_test + n_validation])
        parts[0].append(rows[n_test + n_validation :])
    train, held_out, tested = (np.sort(np.concatenate(part)).astype(np.int64) for part in parts)
    return train, held_out, tested


def _cell_counts(m: int, validation: float, test: float) -> tuple[int, int]:
    """Test and validation rows of a cell of ``m`` rows (a zero share gives none)."""
    if m >= 3:
        n_test = min(max(1, int(np.floor(m * test + 0.5))), m - 2) if test > 0 else 0
        n_validation = min(max(1, int(np.floor(m * validation + 0.5))), m - 1 - n_test) if validation > 0 else 0
        return n_test, n_validation
    if m == 2:
        return (1, 0) if test > 0 else (0, 1 if validation > 0 else 0)
    return 0, 0


def _split_notes(
    protected: ProtectedEncoding, train: np.ndarray, validation: np.ndarray, test: np.ndarray, seed: int
) -> list[str]:
    """Sentences on the split: sizes, stratification, and the cells too small for all three parts."""
    n = train.size + validation.size + test.size
    notes = [
        f"Rows split into {train.size} training, {validation.size} validation and {test.size} test rows "
        f"({100 * train.size / n:.0f}% / {100 * validation.size / n:.0f}% / {100 * test.size / n:.0f}%), "
        f"stratified on the {len(np.unique(protected.cells))} intersectional cells, seed {seed}. Training fits "
        "the models; validation stops them early and chooses λ; the reported numbers come from the test rows."
    ]
    counts = np.bincount(protected.cells, minlength=len(protected.cell_labels))
    small = [f"{protected.cell_labels[c]} (n = {counts[c]})" for c in np.flatnonzero((counts > 0) & (counts < 3))]
    if small:
        notes.append(
            "Cells with fewer than 3 rows cannot appear in all three parts (they are missing from validation, "
            "and from test when they have a single row): " + "; ".join(small) + "."
        )
    return notes
