"""Fixtures for the compositional tests: the Roman cups reference table and small simulated compositions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CUPS_PARTS = ["Si", "Al", "Fe", "Mg", "Ca", "Na", "K", "Ti", "P", "Mn", "Sb"]


@pytest.fixture(scope="session")
def cups(shared_data: Path) -> pd.DataFrame:
    """The 47 x 11 Roman cups oxides (reference table from easyCODA), as read by pandas."""
    return pd.read_csv(shared_data / "coda" / "cups.csv")


@pytest.fixture(scope="session")
def cups_values(cups: pd.DataFrame) -> np.ndarray:
    return cups[CUPS_PARTS].to_numpy(dtype=np.float64)


def reference_matrix(shared_data: Path, name: str) -> np.ndarray:
    """A D x D reference matrix from R, rows and columns in the cups order."""
    frame = pd.read_csv(shared_data / "coda" / name, index_col=0)
    return frame.loc[CUPS_PARTS, CUPS_PARTS].to_numpy(dtype=np.float64)


def logistic_normal(n: int, D: int, seed: int) -> np.ndarray:
    """Strictly positive compositions: closed exp of correlated Gaussians, shape (n, D)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((D, D)) / np.sqrt(D)
    L = rng.standard_normal((n, D)) @ A + rng.normal(0, 1, D)
    P = np.exp(L)
    return P / P.sum(axis=1, keepdims=True)
