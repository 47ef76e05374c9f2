"""Structural rules: covwb (lib/covwb/) never imports streamlit, pages stay classic, the home page stays light."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_lib_never_imports_streamlit() -> None:
    modules = sorted(
        ".".join(path.relative_to(REPO / "lib").with_suffix("").parts)
        for path in (REPO / "lib" / "covwb").rglob("*.py")
        if path.name != "__init__.py"
    )
    assert len(modules) > 5
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    assert _run(code) == "False"


def test_home_page_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "print(sorted(m for m in ('mne', 'torch', 'sklearn', 'pyriemann', 'kaleido') if m in sys.modules))\n"
    )
    assert _run(code) == "[]"


def test_pages_are_classic_multipage_without_navigation() -> None:
    sources = [REPO / "app.py", REPO / "ui.py", *sorted((REPO / "pages").glob("*.py"))]
    assert len(sources) >= 3
    for path in sources:
        text = path.read_text()
        assert "st.navigation" not in text, path
        assert not re.search(r"unsafe_allow_html\s*=\s*True", text), path


def test_product_code_imports_the_package_as_covwb() -> None:
    sources = [REPO / "app.py", REPO / "ui.py", *(REPO / "pages").glob("*.py"), *(REPO / "benchmarks").glob("*.py")]
    sources += [*(REPO / "lib" / "covwb").rglob("*.py"), *(REPO / "tests").rglob("*.py")]
    offenders = [
        str(path.relative_to(REPO))
        for path in sources
        if re.search(r"^\s*(from|import) lib(\.|\s|$)", path.read_text(), flags=re.MULTILINE)
    ]
    assert offenders == []


def test_ruff_lint_and_format_are_clean() -> None:
    for command in (["check", "--quiet", "."], ["format", "--check", "--quiet", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
