"""covwb.export.analysis: the zip that reruns a page's analysis, run as a researcher would run it."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from covwb.errors import ExportError
from covwb.explore import ExplorerSettings, explore
from covwb.export import export_analysis
from covwb.export.provenance import git_commit
from covwb.io.uploads import UploadedBytes
from covwb.plots.explorer import explorer_figures
from covwb.sources import BuiltinSource, UploadSource

REPO = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert(1)</script>"
MEMBERS = {"analysis.py", "analysis.ipynb", "provenance.json", "report.html"}


def unpack(data: bytes, folder: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        archive.extractall(folder)
    return folder


def run_script(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python analysis.py`` in a fresh interpreter, from the unpacked folder."""
    return subprocess.run(
        [sys.executable, "analysis.py", *args], cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )


def same_tables(folder: Path, results: str = "results") -> list[str]:
    """Names of the page's tables (``tables/``); asserts the script wrote byte-identical files."""
    page = sorted((folder / "tables").glob("*.csv"))
    assert page
    for path in page:
        assert (folder / results / path.name).read_bytes() == path.read_bytes(), path.name
    assert {p.name for p in (folder / results).glob("*.csv")} == {p.name for p in page}
    return [p.stem for p in page]


def hostile_table() -> tuple[UploadedBytes, UploadSource]:
    """An upload whose file and column names try to break out of HTML, Markdown and Python."""
    lines = [f'a,"{HOSTILE}",b\'"""c,d'] + [f"{i},{(i * 7) % 11},{(i * i) % 13},{i % 5}" for i in range(40)]
    upload = UploadedBytes(f"{HOSTILE}'\"x.csv", ("\n".join(lines) + "\n").encode())
    return upload, UploadSource.of("table", [upload])


def test_builtin_table_reruns_byte_identically_and_documents_itself(tmp_path: Path) -> None:
    settings = ExplorerSettings(source=BuiltinSource("fgl"), estimator="oas")
    data = settings.source.load()
    result = explore(settings, data)
    file = export_analysis(
        result.settings, result, call=explore, title="Dataset explorer", figures=explorer_figures(result), data=data
    )
    assert (file.file_name, file.mime) == ("Dataset_explorer_analysis.zip", "application/zip")
    folder = unpack(file.data, tmp_path / "export")
    assert MEMBERS <= {p.name for p in folder.iterdir()}
    done = run_script(folder)
    assert done.returncode == 0, done.stderr
    assert same_tables(folder) == ["correlation", "covariance", "covariance_summary", "eigenvalues", "summary"]
    record = json.loads((folder / "provenance.json").read_text())
    assert record["call"] == "covwb.explore.explore" and record["page"] == "Dataset explorer"
    assert ExplorerSettings.from_dict(record["settings"]) == result.settings
    assert record["settings_fingerprint"] == result.settings.fingerprint()
    assert record["data"]["source"] == {"type": "builtin", "name": "fgl", "seed": 0}
    assert len(record["data"]["content_fingerprint"]) == 64
    assert {"covwb", "numpy", "pandas", "pyriemann"} <= set(record["packages"])
    assert record["tables"]["covariance"] == {
        "rows": 9,
        "columns": 9,
        "csv_sha256": __import__("hashlib").sha256((folder / "tables" / "covariance.csv").read_bytes()).hexdigest(),
    }
    assert record["git_commit"] == expected_commit()
    source = (folder / "analysis.py").read_text()
    assert "import streamlit" not in source and "covwb." in source
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "E,F,W,I", "--line-length", "120", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout


def expected_commit() -> str | None:
    git = shutil.which("git")
    if git is None:
        return git_commit()
    done = subprocess.run([git, "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def test_the_notebook_runs_and_writes_the_same_tables(tmp_path: Path) -> None:
    from nbclient import NotebookClient

    settings = ExplorerSettings(source=BuiltinSource("pottery"), estimator="ledoit_wolf", columns=("Al2O3", "CaO"))
    result = explore(settings)
    folder = unpack(export_analysis(settings, result, call=explore, title="Dataset explorer").data, tmp_path)
    notebook = nbformat.read(folder / "analysis.ipynb", as_version=4)
    nbformat.validate(notebook)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds.count("markdown") == 5 and kinds[0] == "markdown"
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    assert same_tables(folder) == ["correlation", "covariance", "covariance_summary", "eigenvalues", "summary"]


def test_an_upload_reruns_from_its_file_and_a_changed_file_is_refused(tmp_path: Path) -> None:
    upload, source = hostile_table()
    data = source.read([upload])
    result = explore(ExplorerSettings(source=source, estimator="shrinkage", shrinkage=0.25), data)
    assert result.settings.columns == ("a", HOSTILE, 'b\'"""c', "d")
    file = export_analysis(result.settings, result, call=explore, title="Dataset explorer", data=data)
    folder = unpack(file.data, tmp_path / "export")
    missing = run_script(folder)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "is not in" in missing.stderr and source.files[0].sha256[:12] in missing.stderr
    elsewhere = tmp_path / "data"
    elsewhere.mkdir()
    stored = elsewhere / source.files[0].base_name  # what a browser would have sent: the name without folders
    stored.write_bytes(upload.data)
    done = run_script(folder, "--data", str(elsewhere), "--out", "again")
    assert done.returncode == 0, done.stderr
    same_tables(folder, "again")
    stored.write_bytes(upload.data.replace(b"\n3,", b"\n4,", 1))
    changed = run_script(folder, "--data", str(elsewhere))
    assert changed.returncode == 1 and "Traceback" not in changed.stderr
    assert "differs from the one these settings were made with" in changed.stderr


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sources: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.sources += [value for name, value in attrs if name in ("src", "href")]
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def test_the_report_is_self_contained_and_escapes_every_name(tmp_path: Path) -> None:
    upload, source = hostile_table()
    data = source.read([upload])
    result = explore(ExplorerSettings(source=source), data)
    figures = explorer_figures(result)
    file = export_analysis(result.settings, result, call=explore, title="Dataset explorer", figures=figures)
    folder = unpack(file.data, tmp_path)
    page = (folder / "report.html").read_text()
    parser = _Elements()
    parser.feed(page)
    # plotly.js once, the settings block, one script per figure: no script came from a name.
    assert len(parser.scripts) == 2 + len(figures)
    assert not any("alert(1)" in script and "<script>" in script for script in parser.scripts)
    assert parser.sources == [] and "link" not in parser.tags  # nothing is fetched
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()[:400]) == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert parser.tags.count("script") == len(parser.scripts)
    notebook = (folder / "analysis.ipynb").read_text()
    markdown = [c.source for c in nbformat.reads(notebook, as_version=4).cells if c.cell_type == "markdown"]
    assert not any("alert" in text for text in markdown)
    compile((folder / "analysis.py").read_text(), "analysis.py", "exec")


def test_only_public_covwb_calls_can_be_exported() -> None:
    settings = ExplorerSettings(source=BuiltinSource("pottery"))
    result = explore(settings)
    for call in (pd.read_csv, lambda settings, data: result):
        with pytest.raises(ExportError, match="public covwb function"):
            export_analysis(settings, result, call=call, title="x")


def test_git_commit_is_read_without_git(tmp_path: Path) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "repo"
    (repo / ".git" / "refs" / "heads").mkdir(parents=True)
    (repo / "lib").mkdir()
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / ".git" / "packed-refs").write_text(f"# pack-refs with: peeled\n{commit} refs/heads/main\n")
    assert git_commit(repo / "lib") == commit
    (repo / ".git" / "refs" / "heads" / "main").write_text("f" * 40 + "\n")
    assert git_commit(repo / "lib") == "f" * 40
    worktree = tmp_path / "worktree"
    gitdir = repo / ".git" / "worktrees" / "wt"
    gitdir.mkdir(parents=True)
    (gitdir / "HEAD").write_text(commit + "\n")
    (gitdir / "commondir").write_text("../..\n")
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {gitdir}\n")
    assert git_commit(worktree) == commit
    (gitdir / "HEAD").write_text("ref: refs/heads/main\n")
    assert git_commit(worktree) == "f" * 40
    (repo / ".git" / "HEAD").write_text("garbage\n")
    assert git_commit(repo) is None
    assert git_commit(Path("/")) is None
