"""The public API of covwb.fairness: every exported name resolves (tests/test_docstring_examples.py runs the
examples of every covwb module)."""

from __future__ import annotations

import covwb.fairness


def test_every_exported_name_resolves_and_is_listed_once() -> None:
    names = covwb.fairness.__all__
    assert len(names) == len(set(names)) and names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert all(getattr(covwb.fairness, name) is not None for name in names)
    assert {"FairClassifier", "FairRegressor", "FairPoissonRegressor", "plan_sweep", "propose_roles"} <= set(names)
