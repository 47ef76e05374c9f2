"""The ``>>>`` examples of the ACM modules' public API run as written (CI runs ``tests/`` only)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "covwb.covariance.estimators",
    "covwb.datasets.simulated_eeg",
    "covwb.eeg.augmented",
    "covwb.eeg.classifiers",
    "covwb.eeg.evaluation",
    "covwb.eeg.takens",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
