"""Static security checks of the product code (app.py, ui.py, pages/, lib/covwb/), on its syntax tree.

What is refused, wherever it appears:

* unpickling: importing ``pickle``, ``cPickle``, ``dill``, ``cloudpickle``, ``shelve`` or ``marshal``;
  ``joblib.load``, ``pandas.read_pickle`` (``joblib.Parallel`` is fine: it pickles the app's own work); ``numpy.load`` with ``allow_pickle`` other than a literal False;
  ``torch.load`` without a literal ``weights_only=True``;
* HTML from the app: ``unsafe_allow_html`` other than a literal False, ``st.html`` or
  ``components.html`` with text that is not a literal;
* writes outside a temporary directory: ``open``/``Path.open`` in a writing mode, ``Path.write_*``,
  ``touch``/``mkdir``, pandas ``to_*`` with a path, ``savefig``, ``numpy.save*``, plotly ``write_*``,
  ``shutil`` copies and moves, ``os`` renames and ``makedirs``; a write is allowed only when its target
  is derived (by assignment, ``/``, calls, loops) from the name bound by ``with
  tempfile.TemporaryDirectory() as name`` or from an in-memory ``io.BytesIO``/``io.StringIO``;
* ``subprocess`` with ``shell`` other than a literal False, ``os.system``, ``os.popen``;
* ``eval``, ``exec`` and ``compile`` of text.

Each rule is proved able to fail on a small bad snippet, and not to fire on its safe twin.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal"}
UNPICKLING_CALLS = {"joblib.load", "joblib.numpy_pickle.load", "pandas.read_pickle", "pd.read_pickle"}
WRITE_METHODS_ON_TARGET = {"write_text", "write_bytes", "touch", "mkdir", "symlink_to", "hardlink_to"}
WRITE_METHODS_FIRST_ARG = {
    "to_csv",
    "to_excel",
    "to_json",
    "to_parquet",
    "to_pickle",
    "to_hdf",
    "to_feather",
    "to_html",
    "to_latex",
    "to_markdown",
    "to_stata",
    "to_xml",
    "to_orc",
    "to_sql",
    "savefig",
    "write_image",
    "write_html",
    "write_json",
}
WRITE_FUNCTIONS_FIRST_ARG = {
    "numpy.save",
    "numpy.savez",
    "numpy.savez_compressed",
    "numpy.savetxt",
    "numpy.ndarray.tofile",
    "os.makedirs",
    "os.mkdir",
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "shutil.rmtree",
    "os.truncate",
    "scipy.io.savemat",
    "torch.save",
}
WRITE_FUNCTIONS_SECOND_ARG = {
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
    "os.rename",
    "os.replace",
    "os.link",
    "os.symlink",
}
IN_MEMORY = {"io.BytesIO", "io.StringIO"}
TEMP_DIRECTORIES = {"tempfile.TemporaryDirectory"}


@dataclass(frozen=True)
class Violation:
    """One finding: file, line and which rule."""

    path: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}"


def product_files() -> list[Path]:
    """Every Python file of the running app."""
    files = [REPO / "app.py", REPO / "ui.py", *sorted((REPO / "pages").glob("*.py"))]
    files += sorted((REPO / "lib").rglob("*.py"))
    return files


class _Checker(ast.NodeVisitor):
    """Walks one module; ``violations`` collects the findings."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.aliases: dict[str, str] = {}
        self.violations: list[Violation] = []
        self.safe_names: list[set[str]] = [set()]

    # ------------------------------------------------------------------ names

    def flag(self, node: ast.AST, rule: str) -> None:
        self.violations.append(Violation(self.path, getattr(node, "lineno", 0), rule))

    def dotted(self, node: ast.AST) -> str | None:
        """Full dotted name of a Name/Attribute chain, with import aliases resolved."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            root = alias.name.split(".")[0]
            if root in PICKLE_MODULES:
                self.flag(node, f"imports {alias.name} (unpickling)")
            self.aliases[alias.asname or root] = alias.name if alias.asname else root
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] in PICKLE_MODULES:
            self.flag(node, f"imports from {module} (unpickling)")
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name
        self.generic_visit(node)

    # ------------------------------------------------------------------ scopes and taint

    def _visit_scope(self, node: ast.AST) -> None:
        self.safe_names.append(self._safe_names_of(node))
        self.generic_visit(node)
        self.safe_names.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_scope

    def visit_Module(self, node: ast.Module) -> None:
        self.safe_names = [self._safe_names_of(node)]
        self.generic_visit(node)

    def _is_source(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self.dotted(node.func) in TEMP_DIRECTORIES | IN_MEMORY

    def _safe_names_of(self, scope: ast.AST) -> set[str]:
        """Names in ``scope`` bound to a temporary directory or in-memory buffer, or derived from one."""
        safe: set[str] = set()
        body = list(ast.walk(scope))
        for node in body:
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if self._is_source(item.context_expr) and isinstance(item.optional_vars, ast.Name):
                        safe.add(item.optional_vars.id)
        changed = True
        while changed:
            changed = False
            for node in body:
                pairs: list[tuple[ast.AST, ast.AST]] = []
                if isinstance(node, ast.Assign):
                    pairs = [(target, node.value) for target in node.targets]
                elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                    pairs = [(node.target, node.value)]
                elif isinstance(node, (ast.For, ast.comprehension)):
                    pairs = [(node.target, node.iter)]
                elif isinstance(node, ast.NamedExpr):
                    pairs = [(node.target, node.value)]
                for target, value in pairs:
                    if not (self._is_source(value) or self._mentions(value, safe)):
                        continue
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name) and name.id not in safe:
                            safe.add(name.id)
                            changed = True
        return safe

    @staticmethod
    def _mentions(node: ast.AST, names: set[str]) -> bool:
        return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))

    def _check_target(self, call: ast.Call, target: ast.AST | None, what: str) -> None:
        if target is None:
            return
        if self._is_source(target) or self._mentions(target, self.safe_names[-1]):
            return
        self.flag(call, f"{what} writes outside a temporary directory")

    # ------------------------------------------------------------------ calls

    def visit_Call(self, node: ast.Call) -> None:
        name = self.dotted(node.func) or ""
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        self._check_unpickling(node, name, keywords)
        self._check_html(node, name, keywords)
        self._check_writes(node, name, keywords)
        self._check_processes(node, name, keywords)
        self.generic_visit(node)

    @staticmethod
    def _is_literal(value: ast.AST | None, expected: object) -> bool:
        return isinstance(value, ast.Constant) and value.value is expected

    def _check_unpickling(self, node: ast.Call, name: str, keywords: dict[str, ast.AST]) -> None:
        if name in UNPICKLING_CALLS or name.endswith("read_pickle") or name.split(".")[0] in PICKLE_MODULES:
            self.flag(node, f"{name} unpickles")
        pickle_flag = keywords.get("allow_pickle")
        if name in {"numpy.load", "np.load"} and pickle_flag is not None and not self._is_literal(pickle_flag, False):
            self.flag(node, "numpy.load with allow_pickle not literally False")
        if name == "torch.load" and not self._is_literal(keywords.get("weights_only"), True):
            self.flag(node, "torch.load without weights_only=True")

    def _check_html(self, node: ast.Call, name: str, keywords: dict[str, ast.AST]) -> None:
        if "unsafe_allow_html" in keywords and not self._is_literal(keywords["unsafe_allow_html"], False):
            self.flag(node, "unsafe_allow_html")
        if name in {"streamlit.html", "streamlit.components.v1.html", "streamlit.components.v1.iframe"}:
            text = node.args[0] if node.args else keywords.get("body", keywords.get("html"))
            if not (isinstance(text, ast.Constant) and isinstance(text.value, str)):
                self.flag(node, f"{name} with text that is not a literal")

    def _check_writes(self, node: ast.Call, name: str, keywords: dict[str, ast.AST]) -> None:
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else None
        if name in {"open", "io.open", "os.open", "codecs.open"}:
            mode = node.args[1] if len(node.args) > 1 else keywords.get("mode", keywords.get("flags"))
            if name == "os.open" or self._writing_mode(mode):
                target = node.args[0] if node.args else keywords.get("file")
                self._check_target(node, target, f"{name}() in a writing mode")
            return
        if method == "open":
            modes = [a for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if any(self._writing_mode(m) for m in [*modes, keywords.get("mode")]):
                self._check_target(node, func.value, ".open() in a writing mode")
            return
        if method in WRITE_METHODS_ON_TARGET:
            self._check_target(node, func.value, f".{method}()")
        elif method in WRITE_METHODS_FIRST_ARG and (node.args or keywords):
            target = (
                node.args[0] if node.args else keywords.get("path_or_buf", keywords.get("path", keywords.get("fname")))
            )
            if target is not None and not self._is_literal(target, None):
                self._check_target(node, target, f".{method}()")
        elif name in WRITE_FUNCTIONS_FIRST_ARG or name.replace("np.", "numpy.", 1) in WRITE_FUNCTIONS_FIRST_ARG:
            self._check_target(node, node.args[0] if node.args else keywords.get("file"), f"{name}()")
        elif name in WRITE_FUNCTIONS_SECOND_ARG:
            self._check_target(node, node.args[1] if len(node.args) > 1 else keywords.get("dst"), f"{name}()")

    @staticmethod
    def _writing_mode(mode: ast.AST | None) -> bool:
        """Whether an open() mode writes: any non-literal, or a literal with w, a, x or +."""
        if mode is None:
            return False
        return not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)) or bool(
            set(mode.value) & set("wax+")
        )

    def _check_processes(self, node: ast.Call, name: str, keywords: dict[str, ast.AST]) -> None:
        if "shell" in keywords and not self._is_literal(keywords["shell"], False):
            self.flag(node, f"{name} with shell not literally False")
        if name in {"os.system", "os.popen", "os.execl", "os.execlp", "os.spawnl", "commands.getoutput"}:
            self.flag(node, f"{name} runs a shell command")
        if name in {"eval", "exec", "compile", "builtins.eval", "builtins.exec", "builtins.compile"}:
            self.flag(node, f"{name}() of text")


def find_violations(source: str, path: str = "<snippet>") -> list[Violation]:
    """Every finding of the rules above in one module's source."""
    checker = _Checker(path)
    checker.visit(ast.parse(source, filename=path))
    return checker.violations


# --------------------------------------------------------------------------- the product code


COMMAND_LINE_WRITERS = {"lib/covwb/batch.py"}
"""Command-line tools that write their results where their user says (``--output``), never run by the app: the
temporary-directory rule, which is about the running server, does not apply to them; every other rule does."""


def test_product_code_has_no_violation() -> None:
    files = product_files()
    assert len(files) > 30
    found = [v for path in files for v in find_violations(path.read_text(), str(path.relative_to(REPO)))]
    found = [v for v in found if not (v.path in COMMAND_LINE_WRITERS and "writes outside" in v.rule)]
    assert not found, "\n".join(map(str, found))


def test_upload_names_are_reduced_in_one_place() -> None:
    """One sanitiser of upload names (covwb.io.uploads.safe_basename): no other product file filters names itself."""
    owner = REPO / "lib" / "covwb" / "io" / "uploads.py"
    assert ".isprintable()" in owner.read_text()
    others = [str(p.relative_to(REPO)) for p in product_files() if p != owner and ".isprintable()" in p.read_text()]
    assert not others, f"reduce upload names with covwb.io.uploads.safe_basename instead: {others}"


def test_the_known_temporary_directory_write_is_recognised() -> None:
    """lib/covwb/io/eeg.py stages BrainVision/EEGLAB files in a TemporaryDirectory: allowed, and seen."""
    source = (REPO / "lib" / "covwb" / "io" / "eeg.py").read_text()
    assert "TemporaryDirectory" in source and "write_bytes" in source
    without_tempdir = source.replace("tempfile.TemporaryDirectory(", "contextlib.nullcontext(")
    assert any("writes outside" in v.rule for v in find_violations(without_tempdir))


def test_shared_caches_are_bounded_and_keyed_by_plain_values() -> None:
    """Every st.cache_data/st.cache_resource has max_entries and ttl, and takes only str/int/float/bool.

    Plain parameters are hashed whole; arrays and frames would be hashed by Streamlit's sampling and
    would hold user data across sessions. Uploaded data go through ui.session_cached instead.
    """
    found = []
    for path in product_files():
        for violation in find_cache_violations(path.read_text(), str(path.relative_to(REPO))):
            found.append(str(violation))
    assert not found, "\n".join(found)


def find_cache_violations(source: str, path: str = "<snippet>") -> list[Violation]:
    """Shared Streamlit caches without limits or keyed by anything but plain scalars."""
    violations = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            func = call.func if call else decorator
            if not (isinstance(func, ast.Attribute) and func.attr in {"cache_data", "cache_resource", "cache"}):
                continue
            given = {k.arg for k in call.keywords} if call else set()
            for limit in ("max_entries", "ttl"):
                if limit not in given:
                    violations.append(Violation(path, node.lineno, f"{node.name}: shared cache without {limit}"))
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            for argument in arguments:
                annotation = ast.unparse(argument.annotation) if argument.annotation else ""
                if argument.arg.startswith("_"):
                    continue
                if annotation not in {"str", "int", "float", "bool"}:
                    violations.append(
                        Violation(path, node.lineno, f"{node.name}: parameter {argument.arg} is not a plain scalar")
                    )
    return violations


# --------------------------------------------------------------------------- each rule can fail

BAD_SNIPPETS = {
    "pickle import": "import pickle\npickle.loads(data)\n",
    "pickle from-import": "from pickle import loads\n",
    "joblib": "import joblib\nmodel = joblib.load(path)\n",
    "joblib from-import": "from joblib import load\nmodel = load(path)\n",
    "pandas read_pickle": "import pandas as pd\nframe = pd.read_pickle(path)\n",
    "numpy allow_pickle True": "import numpy as np\nx = np.load(buf, allow_pickle=True)\n",
    "numpy allow_pickle variable": "import numpy\nx = numpy.load(buf, allow_pickle=flag)\n",
    "numpy load alias": "from numpy import load\nx = load(buf, allow_pickle=True)\n",
    "torch.load bare": "import torch\nstate = torch.load(path)\n",
    "torch.load weights_only False": "import torch\nstate = torch.load(path, weights_only=False)\n",
    "unsafe_allow_html True": "import streamlit as st\nst.markdown(name, unsafe_allow_html=True)\n",
    "unsafe_allow_html variable": "import streamlit as st\nst.write(name, unsafe_allow_html=allow)\n",
    "st.html with user text": "import streamlit as st\nst.html(f'<b>{name}</b>')\n",
    "components.html": "import streamlit.components.v1 as components\ncomponents.html(page)\n",
    "open for writing": "with open(path, 'w') as handle:\n    handle.write(text)\n",
    "open append keyword": "handle = open(file=path, mode='ab')\n",
    "open with variable mode": "handle = open(path, mode)\n",
    "Path.open write": "from pathlib import Path\nPath(name).open('wb')\n",
    "Path.write_text": "from pathlib import Path\nPath('out.txt').write_text(text)\n",
    "to_csv to a path": "frame.to_csv('result.csv')\n",
    "savefig": "fig.savefig(name + '.png')\n",
    "np.save": "import numpy as np\nnp.save('x.npy', array)\n",
    "plotly write_image": "fig.write_image(f'/srv/{name}.png')\n",
    "shutil copy": "import shutil\nshutil.copy(src, '/srv/out')\n",
    "mkdtemp is not removed": (
        "import tempfile\nfrom pathlib import Path\nroot = Path(tempfile.mkdtemp())\n(root / 'a').write_bytes(b'')\n"
    ),
    "write beside a temp dir": (
        "import tempfile\nfrom pathlib import Path\n"
        "with tempfile.TemporaryDirectory() as tmp:\n    Path(name).write_bytes(data)\n"
    ),
    "subprocess shell": "import subprocess\nsubprocess.run(command, shell=True)\n",
    "subprocess shell variable": "import subprocess as sp\nsp.Popen(command, shell=use_shell)\n",
    "os.system": "import os\nos.system('ls ' + name)\n",
    "eval": "value = eval(text)\n",
    "exec": "exec(code, {})\n",
}

GOOD_SNIPPETS = {
    "numpy allow_pickle False": "import numpy as np\nx = np.load(buf, allow_pickle=False)\n",
    "numpy default": "import numpy as np\nx = np.load(io.BytesIO(data))\n",
    "torch.load weights_only": "import torch\nstate = torch.load(path, weights_only=True)\n",
    "markdown without html": "import streamlit as st\nst.markdown(text)\nst.markdown(text, unsafe_allow_html=False)\n",
    "st.html literal": "import streamlit as st\nst.html('<hr>')\n",
    "open for reading": "with open(path) as a, open(path, 'rb') as b, open(path, mode='r') as c:\n    pass\n",
    "zip member read": "with archive.open(info) as member:\n    member.read()\n",
    "to_csv to text": "text = frame.to_csv(index=False)\n",
    "np.save in memory": "import io\nimport numpy as np\nbuffer = io.BytesIO()\nnp.save(buffer, x)\n",
    "write in a temporary directory": (
        "import tempfile\nfrom pathlib import Path\n"
        "def stage(files):\n"
        "    with tempfile.TemporaryDirectory(prefix='x-') as tmp:\n"
        "        root = Path(tmp)\n"
        "        for name, data in files.items():\n"
        "            target = root / name\n"
        "            target.write_bytes(data)\n"
        "            with open(target, 'w') as handle:\n"
        "                handle.write('')\n"
        "        frame.to_csv(root / 'table.csv')\n"
    ),
    "subprocess argument list": "import subprocess\nsubprocess.run([exe, '-I', '-c', code], shell=False, check=False)\n",
    "model.eval method": "network.eval()\nmodel.eval()\n",
    "joblib parallel": "from joblib import Parallel, delayed\nParallel(n_jobs=2)(delayed(f)(x) for x in xs)\n",
}


@pytest.mark.parametrize("label", list(BAD_SNIPPETS))
def test_each_rule_flags_its_bad_snippet(label: str) -> None:
    assert find_violations(textwrap.dedent(BAD_SNIPPETS[label])), label


@pytest.mark.parametrize("label", list(GOOD_SNIPPETS))
def test_safe_twins_are_not_flagged(label: str) -> None:
    assert find_violations(textwrap.dedent(GOOD_SNIPPETS[label])) == [], label


def test_a_comment_or_string_does_not_satisfy_or_trip_the_checks() -> None:
    source = "# torch.load(path, weights_only=True)\ntext = 'eval(x) pickle unsafe_allow_html=True'\n"
    assert find_violations(source) == []
    assert find_violations(source + "import torch\ntorch.load(path)  # weights_only=True\n")


def test_cache_rule_flags_unbounded_and_array_keyed_caches() -> None:
    bad = (
        "import streamlit as st\n"
        "@st.cache_data\ndef a(frame): ...\n"
        "@st.cache_resource(max_entries=4)\ndef b(seed: int): ...\n"
        "@st.cache_data(max_entries=4, ttl=60)\ndef c(values: np.ndarray): ...\n"
    )
    rules = [v.rule for v in find_cache_violations(bad)]
    assert any("a: shared cache without max_entries" in r for r in rules)
    assert any("b: shared cache without ttl" in r for r in rules)
    assert any("c: parameter values" in r for r in rules)
    good = "import streamlit as st\n@st.cache_resource(max_entries=4, ttl=60)\ndef d(seed: int, key: str): ...\n"
    assert find_cache_violations(good) == []
