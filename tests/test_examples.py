"""The notebook-style examples (examples/*.py): one per method, public API only, each run in a fresh interpreter."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import covwb

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
METHODS = ("acm", "spd_batchnorm", "compositional_pcor", "fairness", "explorer")


def test_one_example_per_method() -> None:
    assert sorted(path.stem for path in EXAMPLES.glob("*.py")) == sorted(METHODS)


@pytest.mark.parametrize("name", METHODS)
def test_example_reads_as_a_notebook_and_uses_only_the_public_api(name: str) -> None:
    source = (EXAMPLES / f"{name}.py").read_text()
    tree = ast.parse(source)
    assert ast.get_docstring(tree), f"{name}.py says what it shows in its docstring"
    assert source.count("\n# %%\n") >= 3, f"{name}.py has fewer than three # %% cells"
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "covwb":
            parts = node.module.split(".")
            if len(parts) != 2 or parts[1] not in covwb.__all__:
                private.append(f"from {node.module} import ...")
                continue
            exported = importlib.import_module(node.module).__all__
            private += [f"{node.module}.{alias.name}" for alias in node.names if alias.name not in exported]
        elif isinstance(node, ast.Import):
            private += [alias.name for alias in node.names if alias.name.startswith("covwb.")]
    assert private == [], f"{name}.py uses names outside covwb's declared API"


@pytest.mark.parametrize("name", METHODS)
def test_example_runs_in_a_fresh_interpreter(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip(), f"{name}.py printed nothing"
    assert "Traceback" not in result.stderr
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == (["mds-riemann.html"] if name == "explorer" else []), "examples write only what they say"
