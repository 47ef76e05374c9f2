"""Closure and validation of compositions (rows = samples, columns = parts)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from covwb.errors import ParameterError, TableFormatError

MIN_PARTS = 3
"""Partial correlations between two parts given the rest need at least three parts."""


def closure(X: np.ndarray) -> np.ndarray:
    """Rescale every row to sum to one.

    Parameters
    ----------
    X : ndarray, shape (n, D)
        Non-negative amounts (counts, percentages, shares), no row of zeros.

    Returns
    -------
    ndarray, shape (n, D)
        Proportions, float64, each row summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> closure(np.array([[1.0, 1.0, 2.0], [5.0, 3.0, 2.0]]))
    array([[0.25, 0.25, 0.5 ],
           [0.5 , 0.3 , 0.2 ]])
    """
    X = np.asarray(X, dtype=np.float64)
    return X / X.sum(axis=1, keepdims=True)


def composition_matrix(frame: pd.DataFrame, parts: Sequence[str]) -> np.ndarray:
    """Validate the chosen part columns of a table and return them as a float64 matrix.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; rows are samples.
    parts : sequence of str
        Column names of the parts (at least three).

    Returns
    -------
    ndarray, shape (n, D)
        The amounts, non-negative and finite, with no row of zeros.

    Raises
    ------
    TableFormatError
        A column is not numeric, or holds missing, infinite or negative values, or a row is all zeros.
    ParameterError
        Fewer than three parts, or a part is named twice or missing from the table.
    """
    parts = list(parts)
    if len(parts) < MIN_PARTS:
        raise ParameterError(
            f"Choose at least {MIN_PARTS} parts: partial correlations of two parts need a third to condition on "
            f"(got {len(parts)})."
        )
    if len(set(parts)) != len(parts):
        raise ParameterError("Each part can be chosen once only; remove the repeated column names.")
    missing = [p for p in parts if p not in frame.columns]
    if missing:
        raise ParameterError(f"The table has no column named {missing[0]!r}; choose parts among its columns.")
    text = [p for p in parts if not pd.api.types.is_numeric_dtype(frame[p])]
    if text:
        raise TableFormatError(
            f"Column {text[0]!r} is not numeric, so it cannot be a part of a composition; leave it out."
        )
    X = frame[parts].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise TableFormatError(
            f"Column {parts[col]!r} has {int(bad[:, col].sum())} missing or infinite values (first in row {row + 1}); "
            "remove those rows or fill them before the analysis."
        )
    if (X < 0).any():
        row, col = np.argwhere(X < 0)[0]
        raise TableFormatError(
            f"Column {parts[col]!r} has a negative value in row {row + 1} ({X[row, col]:g}); parts of a composition "
            "are amounts and cannot be negative."
        )
    empty = np.flatnonzero(X.sum(axis=1) == 0)
    if empty.size:
        raise TableFormatError(
            f"{empty.size} row(s) have zeros in every chosen part (first: row {empty[0] + 1}); a composition needs "
            "a positive total, so remove those rows or choose other parts."
        )
    return X


def suggest_parts(frame: pd.DataFrame) -> list[str]:
    """Numeric columns that can be parts: all but row numbers.

    A column is left out when it counts rows (consecutive values increasing by one, such as a sample
    number). Columns with negative or missing values stay, so that the check explains them.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.

    Returns
    -------
    list of str
        Column names in table order.
    """
    chosen = []
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column):
            continue
        values = column.to_numpy(dtype=np.float64)
        if len(values) > 2 and np.all(np.diff(values) == 1):
            continue
        chosen.append(str(name))
    return chosen
