"""From a table to a fairness problem: target, task, features, exposure, protected attributes, split.

Protected attributes are removed from the features and enter only the penalty and the metrics. Numeric
features are standardised on the training rows; text features are one-hot encoded (and the notes say so).
Rows with a missing target are dropped (and counted in the notes); so are rows with missing features,
exposure or protected attributes. The validation split is stratified on the intersectional cells when
every cell has at least two rows, so that every cell is evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from covwb.errors import ParameterError
from covwb.fairness.encoding import ProtectedEncoding, encode_protected

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
    train, validation : ndarray of int
        Row indices of the two parts.
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
    validation: float = 0.3,
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
        Exposure column (counts only), positive.
    kinds : mapping of str to str, optional
        Kind overrides for protected attributes.
    bins : int, default 3
        Quantile bins of continuous protected attributes in the cells.
    validation : float, default 0.3
        Share of rows held out for early stopping and evaluation.
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
    if task == "counts" and not exposure:
        raise ParameterError("A count task needs an exposure column (use a column of ones for equal exposure).")
    if not 0.05 <= validation <= 0.5:
        raise ParameterError(f"The validation share must be between 0.05 and 0.5, got {validation}.")
    notes: list[str] = []
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
    train, held_out = _split(encoding.cells, validation, seed, notes)
    leaks = leaking_columns(table, target, features)
    if leaks:
        notes.append(
            "These features are almost perfectly correlated with the target and may restate it: "
            + ", ".join(leaks)
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
        notes=tuple(notes) + encoding.notes,
    )


def leaking_columns(frame: pd.DataFrame, target: str, columns: Sequence[str], *, threshold: float = 0.95) -> list[str]:
    """Numeric columns almost perfectly correlated with the target (|Pearson r| ≥ ``threshold``).

    Such a column usually restates the target (``cens`` for ``recidivist = 1 − cens``) and should not be a
    feature. A two-valued text target is coded 0/1 first; other text targets give no leak.

    Returns
    -------
    list of str
        The suspect columns, in the given order.
    """
    column = frame[target]
    if not pd.api.types.is_numeric_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype):
        if column.nunique() != 2:
            return []
        column = (column == sorted(column.dropna().astype(str).unique())[1]).astype(float).where(column.notna())
    found = []
    for name in columns:
        other = frame[name]
        if name == target or not pd.api.types.is_numeric_dtype(other) or isinstance(other.dtype, pd.CategoricalDtype):
            continue
        both = pd.concat([column.astype(float), other.astype(float)], axis=1).dropna().to_numpy()
        varies = len(both) > 2 and both[:, 0].std() > 0 and both[:, 1].std() > 0
        if varies and abs(np.corrcoef(both.T)[0, 1]) >= threshold:
            found.append(name)
    return found


def _split(cells: np.ndarray, validation: float, seed: int, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation rows, stratified on the cells when every cell has two rows or more."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(cells.size)
    counts = np.bincount(cells)
    present = counts[counts > 0]
    stratify = cells if present.min() >= 2 and present.size <= validation * cells.size else None
    if stratify is None:
        notes.append("Some intersectional cells have a single row, so the split is not stratified on the cells.")
    train, held_out = train_test_split(rows, test_size=validation, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(held_out)
