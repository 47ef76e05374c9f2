"""The declared public API of covwb: light top-level import, ``__all__`` everywhere, one home per public name,
no public name only behind a private module, and every public estimator under scikit-learn's checks."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

import covwb

REPO = Path(__file__).resolve().parent.parent
LIB = REPO / "lib" / "covwb"

HEAVY = ("numpy", "pandas", "scipy", "sklearn", "torch", "mne", "pyriemann", "plotly", "numba", "dask")

# Where each public scikit-learn estimator runs sklearn.utils.estimator_checks (parametrize_with_checks).
ESTIMATOR_CHECKS = {
    "AugmentedCovariances": "tests/eeg/test_classifiers.py",
    "TakensAugmentedCovariances": "tests/eeg/test_classifiers.py",
    "NestedACMClassifier": "tests/eeg/test_classifiers.py",
    "TakensACMClassifier": "tests/eeg/test_classifiers.py",
    "CompositionalPartialCorrelation": "tests/coda/test_estimator.py",
    "FairClassifier": "tests/fairness/test_estimators.py",
    "FairRegressor": "tests/fairness/test_estimators.py",
    "FairPoissonRegressor": "tests/fairness/test_estimators.py",
}


def _public_modules() -> dict[str, ModuleType]:
    """Every subpackage and module that ``covwb.__all__`` declares, imported."""
    return {name: importlib.import_module(f"covwb.{name}") for name in covwb.__all__ if name != "__version__"}


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO.parent, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_covwb_is_light_and_gives_the_version() -> None:
    code = f"import sys, covwb; print(covwb.__version__, sorted(m for m in {HEAVY!r} if m in sys.modules))"
    assert _run(code) == f"{covwb.__version__} []"
    assert re.fullmatch(r"\d+\.\d+\.\d+", covwb.__version__)


def test_subpackages_load_on_first_use() -> None:
    code = (
        "import sys\n"
        "import covwb\n"
        "before = 'covwb.coda' in sys.modules\n"
        "est = covwb.coda.CompositionalPartialCorrelation\n"
        "print(before, 'covwb.coda' in sys.modules, 'covwb.spd' in sys.modules, 'coda' in dir(covwb))\n"
    )
    assert _run(code) == "False True False True"
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        covwb.nonexistent  # noqa: B018


def test_top_level_declares_every_public_subpackage_and_module() -> None:
    modules = {path.stem for path in LIB.glob("*.py") if not path.name.startswith("_")}
    packages = {
        path.name for path in LIB.iterdir() if (path / "__init__.py").is_file() and not path.name.startswith("_")
    }
    found = modules | packages
    assert set(covwb.__all__) - {"__version__"} == found


@pytest.mark.parametrize("name", [n for n in covwb.__all__ if n != "__version__"])
def test_each_module_declares_all_and_every_name_resolves(name: str) -> None:
    module = importlib.import_module(f"covwb.{name}")
    names = module.__all__
    assert names, f"covwb.{name}.__all__ is empty"
    assert len(names) == len(set(names)), f"covwb.{name}.__all__ lists a name twice"
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == [], f"covwb.{name}.__all__ names what it does not define: {missing}"


def test_every_exported_name_has_one_home() -> None:
    """A name exported by two subpackages (``evaluate``, ``karcher_mean`` before) is ambiguous in a script."""
    homes: dict[str, list[str]] = defaultdict(list)
    for name, module in _public_modules().items():
        for exported in module.__all__:
            homes[exported].append(f"covwb.{name}")
    duplicates = {exported: where for exported, where in homes.items() if len(where) > 1}
    assert duplicates == {}, f"names exported by more than one module: {duplicates}"
    assert len(homes) > 300


def test_no_public_name_lives_only_in_a_private_module() -> None:
    """Functions and classes exported publicly are defined in public modules, so their documented path is public."""
    private = []
    for name, module in _public_modules().items():
        for exported in module.__all__:
            obj = getattr(module, exported)
            home = getattr(obj, "__module__", "") if inspect.isclass(obj) or inspect.isfunction(obj) else ""
            if any(part.startswith("_") for part in home.split(".")):
                private.append(f"covwb.{name}.{exported} ({home})")
    assert private == []


def test_private_modules_are_used_only_inside_their_package() -> None:
    """``covwb.eeg._search`` and ``covwb.jobs._local_cluster`` are implementation: no page, script or sibling
    package imports them."""
    private = {
        ".".join(path.relative_to(REPO / "lib").with_suffix("").parts)
        for path in LIB.rglob("_*.py")
        if path.name != "__init__.py"
    }
    assert private, "no private module found"
    sources = [REPO / "app.py", REPO / "ui.py", *(REPO / "pages").glob("*.py"), *(REPO / "benchmarks").glob("*.py")]
    sources += [*(REPO / "examples").glob("*.py"), *LIB.rglob("*.py")]
    offenders = []
    for path in sources:
        text = path.read_text()
        for dotted in private:
            package, _, leaf = dotted.rpartition(".")
            inside = path.is_relative_to(REPO / "lib" / Path(*package.split(".")))
            if not inside and re.search(rf"\b{re.escape(package)}(\.{leaf}\b| import {leaf}\b)", text):
                offenders.append(f"{path.relative_to(REPO)} uses {dotted}")
    assert offenders == []


def test_one_metric_vocabulary_for_both_backends() -> None:
    from covwb.covariance import NUMPY_METRICS, SPD_METRICS, check_metric
    from covwb.spd import BATCHNORM_METRICS, VARIANTS

    assert set(NUMPY_METRICS) <= set(SPD_METRICS) and set(BATCHNORM_METRICS) <= set(SPD_METRICS)
    assert list(NUMPY_METRICS) == ["riemann", "logeuclid", "wasserstein", "euclid"]  # pyRiemann's names
    assert set(VARIANTS) - {"none"} == set(BATCHNORM_METRICS)
    with pytest.raises(covwb.errors.ParameterError, match="now called 'riemann'"):
        check_metric("airm")


def test_one_karcher_mean_per_backend_with_the_same_answer() -> None:
    import numpy as np
    import torch

    from covwb.covariance import karcher_mean
    from covwb.spd import karcher_mean_torch

    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 4, 40))
    covs = A @ A.transpose(0, 2, 1) / 40
    numpy_mean = karcher_mean(covs).mean
    torch_mean, _ = karcher_mean_torch(torch.from_numpy(covs), tol=1e-12, max_iter=100)
    np.testing.assert_allclose(torch_mean.numpy(), numpy_mean, rtol=1e-7, atol=1e-10)


def _is_estimator(obj: object) -> bool:
    from sklearn.base import BaseEstimator

    return inspect.isclass(obj) and issubclass(obj, BaseEstimator)


def _checked_in(path: Path) -> set[str]:
    """Names called inside the ``@parametrize_with_checks(...)`` decorators of a test file, following module-level
    assignments (``FAIR = (FairClassifier(), ...)`` then ``@parametrize_with_checks(list(FAIR))``)."""
    tree = ast.parse(path.read_text())
    assigned = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    called: set[str] = set()

    def visit(expr: ast.AST, depth: int) -> None:
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                called.add(sub.func.id)
            elif isinstance(sub, ast.Name) and sub.id in assigned and depth < 3:
                visit(assigned[sub.id], depth + 1)

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "parametrize_with_checks":
                    visit(decorator, 0)
    return called


def test_every_public_estimator_runs_scikit_learns_checks() -> None:
    estimators = {
        exported
        for module in _public_modules().values()
        for exported in module.__all__
        if _is_estimator(getattr(module, exported))
    }
    assert estimators == set(ESTIMATOR_CHECKS), "a public estimator is missing from ESTIMATOR_CHECKS (or is gone)"
    unchecked = [f"{name} ({path})" for name, path in ESTIMATOR_CHECKS.items() if name not in _checked_in(REPO / path)]
    assert unchecked == [], "not under parametrize_with_checks"


def _api_section() -> str:
    """The README's "Public API" section, up to the next second-level heading."""
    text = (REPO / "README.md").read_text()
    start = text.index("\n## Public API\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_documented_api_lists_every_public_name_once_under_its_module() -> None:
    section = _api_section()
    parts = re.split(r"\n#### `(covwb\.\w+)`", section)
    documented = {
        parts[i]: re.findall(r"^\| `(\w+)` \|", parts[i + 1], flags=re.MULTILINE) for i in range(1, len(parts), 2)
    }
    expected = {f"covwb.{name}": list(module.__all__) for name, module in _public_modules().items()}
    assert {k: sorted(v) for k, v in documented.items()} == {k: sorted(v) for k, v in expected.items()}


def test_the_documented_examples_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", _api_section(), flags=re.DOTALL)
    assert len(blocks) >= 5, "one example per method"
    script = "\n".join(f"def example_{i}():\n" + textwrap.indent(block, "    ") for i, block in enumerate(blocks))
    script += "\n" + "\n".join(f"example_{i}()" for i in range(len(blocks))) + "\n"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
