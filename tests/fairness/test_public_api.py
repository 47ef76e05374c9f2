"""The public API of covwb.fairness: every exported name resolves and every docstring example runs."""

from __future__ import annotations

import doctest
import importlib

import pytest

import covwb.fairness

MODULES = (
    "covwb.fairness",
    "covwb.fairness.analysis",
    "covwb.fairness.baselines",
    "covwb.fairness.calibration",
    "covwb.fairness.data",
    "covwb.fairness.estimators",
    "covwb.fairness.metrics",
    "covwb.fairness.roles",
)


def test_every_exported_name_resolves_and_is_listed_once() -> None:
    names = covwb.fairness.__all__
    assert len(names) == len(set(names)) and names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert all(getattr(covwb.fairness, name) is not None for name in names)
    assert {"FairClassifier", "FairRegressor", "FairPoissonRegressor", "plan_sweep", "propose_roles"} <= set(names)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0 and result.attempted > 0
