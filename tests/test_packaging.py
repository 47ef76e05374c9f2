"""The installable package: the wheel that ``pip`` builds from ``pyproject.toml`` holds exactly the library, under
the name ``covwb``, with metadata that declares every package the library imports."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import covwb

REPO = Path(__file__).resolve().parent.parent
LIB = REPO / "lib" / "covwb"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """``pip wheel`` of a copy of the sources (the checkout stays untouched: no build/ or egg-info there)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(LIB, source / "lib" / "covwb", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    result = subprocess.run(
        [*command, "-w", str(root / "dist"), str(source)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = (root / "dist").glob("covwb-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_every_library_module_and_nothing_else(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    expected = {f"covwb/{path.relative_to(LIB).as_posix()}" for path in LIB.rglob("*.py")}
    assert {name for name in names if name.endswith(".py")} == expected
    assert all(name.startswith(("covwb/", "covwb-")) for name in names), "only the package and its .dist-info"


def test_the_wheel_metadata_names_the_version_and_python(wheel: zipfile.ZipFile) -> None:
    (path,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    metadata = Parser().parsestr(wheel.read(path).decode())
    assert metadata["Name"] == "covwb"
    assert metadata["Version"] == covwb.__version__
    assert metadata["Requires-Python"] == ">=3.11"


def test_the_wheel_declares_every_package_the_library_imports(wheel: zipfile.ZipFile) -> None:
    (path,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    requires = Parser().parsestr(wheel.read(path).decode()).get_all("Requires-Dist") or []
    declared = {_normalise(re.match(r"[A-Za-z0-9_.\-]+", r).group()) for r in requires if "extra ==" not in r}
    imported: set[str] = set()
    for module in LIB.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"covwb"}
    assert {"numpy", "torch", "mne", "pyriemann"} <= third_party
    distributions = importlib.metadata.packages_distributions()
    undeclared = sorted(
        f"{module} ({', '.join(distributions.get(module, ['?']))})"
        for module in third_party
        if not {_normalise(d) for d in distributions.get(module, [module])} & declared
    )
    assert undeclared == [], "imported by covwb but missing from [project] dependencies in pyproject.toml"
    assert "streamlit" not in declared, "the library never needs streamlit (it is the 'app' extra)"


def test_the_installed_wheel_imports_outside_the_checkout(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """Installed from the wheel alone (no checkout on the path), ``covwb`` and a subpackage import from the install."""
    target = tmp_path / "site"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target)]
    installed = subprocess.run([*command, wheel.filename], capture_output=True, text=True, timeout=300, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"PYTHONPATH": str(target)}
    code = "import covwb, covwb.coda; print(covwb.__version__); print(covwb.__file__); print(covwb.coda.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    version, *files = result.stdout.split()
    assert version == covwb.__version__
    assert all(Path(file).is_relative_to(target) for file in files), files
