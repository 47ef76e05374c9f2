"""Every ``>>>`` example of every covwb module runs as written (CI runs ``tests/`` only, not ``--doctest-modules``),
and the public estimators and main functions have one."""

from __future__ import annotations

import doctest
import importlib
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

LIB = Path(__file__).resolve().parent.parent / "lib"
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

MODULES = sorted(
    ".".join(
        path.relative_to(LIB).parent.parts
        if path.name == "__init__.py"
        else path.relative_to(LIB).with_suffix("").parts
    )
    for path in (LIB / "covwb").rglob("*.py")
)

# The public estimators and the main function(s) of each subpackage: each has an example in its own docstring.
WITH_EXAMPLES = {
    "covwb.coda": [
        "CompositionalPartialCorrelation",
        "analyse",
        "basis_shrinkage_pcor",
        "closure",
        "clr",
        "partial_correlations",
        "replace_zeros",
        "variation_array",
    ],
    "covwb.covariance": [
        "covariances",
        "karcher_mean",
        "mean_covariance",
        "pairwise_distances",
        "summarise_geometry",
    ],
    "covwb.datasets": ["load", "simulate_motor_imagery"],
    "covwb.eeg": [
        "AugmentedCovariances",
        "NestedACMClassifier",
        "TakensACMClassifier",
        "TakensAugmentedCovariances",
        "analyse_acm",
        "augmented_covariances",
        "build_pipeline",
        "evaluate",
        "extract_epochs",
        "find_trial_events",
        "plan_acm",
        "plan_evaluation",
        "select_order_lag",
    ],
    "covwb.explore": ["explore"],
    "covwb.export": ["export_analysis", "export_figure", "export_table"],
    "covwb.fairness": [
        "FairClassifier",
        "FairPoissonRegressor",
        "FairRegressor",
        "analyse_fairness",
        "distance_correlation_sq",
        "distance_covariance_sq",
        "evaluate_predictions",
        "plan_sweep",
        "propose_roles",
    ],
    "covwb.io": ["read_covariances", "read_eeg", "read_table"],
    "covwb.jobs": ["Plan", "run_plan"],
    "covwb.settings": ["Settings"],
    "covwb.sources": ["BuiltinSource", "UploadSource"],
    "covwb.spd": [
        "BiMap",
        "LogEig",
        "ReEig",
        "SPDBatchNorm",
        "SPDNet",
        "bw_barycentre",
        "distance",
        "karcher_mean_torch",
        "pairwise_distances_torch",
        "train_spdnet",
    ],
}


def _fixed_print_options() -> None:
    """numpy's (and torch's) default print options, whatever an earlier test set."""
    np.set_printoptions(
        precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False, nanstr="nan", infstr="inf", sign="-"
    )
    np.set_printoptions(floatmode="maxprec", legacy=False)
    if "torch" in sys.modules:
        sys.modules["torch"].set_printoptions(profile="default")


def test_every_module_is_collected() -> None:
    assert len(MODULES) > 80 and "covwb" in MODULES and "covwb.eeg.classifiers" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    saved = np.get_printoptions()
    try:
        for test in tests:
            _fixed_print_options()
            runner.run(test, out=report.append)
    finally:
        np.set_printoptions(**saved)
    assert runner.failures == 0, "".join(report)


@pytest.mark.parametrize("package", sorted(WITH_EXAMPLES))
def test_public_estimators_and_main_functions_have_examples(package: str) -> None:
    module = importlib.import_module(package)
    without = [name for name in WITH_EXAMPLES[package] if ">>>" not in (inspect.getdoc(getattr(module, name)) or "")]
    assert without == [], f"{package}: no >>> example in the docstring of {without}"
    assert set(WITH_EXAMPLES[package]) <= set(module.__all__)
