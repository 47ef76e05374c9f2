"""Fixtures of the fairness tests: dcor (imported once: ~15 s of numba compilation) and a small table."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def dcor(in_ci: bool) -> ModuleType:
    """The ``dcor`` package, the independent reference; required under CI, skipped elsewhere when absent."""
    if in_ci:
        import dcor as module

        return module
    return pytest.importorskip("dcor", minversion="0.7")


@pytest.fixture(scope="session")
def table() -> pd.DataFrame:
    """400 rows: a proxy feature of gender, two neutral features, region (3 levels), age and three targets."""
    rng = np.random.default_rng(0)
    n = 400
    gender = rng.choice(["female", "male"], n)
    region = rng.choice(["north", "south", "west"], n)
    age = rng.uniform(18, 70, n)
    proxy = (gender == "male") + 0.5 * rng.standard_normal(n)
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    score = 1.5 * proxy + x1 - 0.5 * x2
    exposure = rng.uniform(0.2, 1.0, n)
    return pd.DataFrame(
        {
            "gender": gender,
            "region": region,
            "age": age,
            "proxy": proxy,
            "x1": x1,
            "x2": x2,
            "job": rng.choice(["a", "b"], n),
            "wage": score + 0.5 * rng.standard_normal(n),
            "hired": np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-score)), "yes", "no"),
            "claims": rng.poisson(exposure * np.exp(0.3 * score - 1.0)).astype(float),
            "exposure": exposure,
        }
    )
