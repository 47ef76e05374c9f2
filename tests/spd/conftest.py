"""Small SPD batches shared by the tests of :mod:`covwb.spd`."""

from __future__ import annotations

import numpy as np


def random_spd(n_matrices: int, n: int, seed: int, *, samples: int | None = None) -> np.ndarray:
    """Wishart-like SPD matrices, shape (n_matrices, n, n), float64."""
    rng = np.random.default_rng(seed)
    t = samples or 2 * n
    A = rng.standard_normal((n_matrices, n, t))
    return A @ A.transpose(0, 2, 1) / t
