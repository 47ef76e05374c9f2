"""The analysis as code: one list of cells, written as a runnable script and as a Jupyter notebook.

The cells are: a title, the imports, where the data and the output go, the settings object (its
:meth:`~covwb.settings.Settings.to_python`), loading the data (:meth:`load` of the settings' source, which
checks uploaded files against their SHA-256), the page's one library call, and writing its tables as CSV
with :func:`covwb.export.table_csv` (the writer the page's downloads use). Markdown cells say what each step does; the script carries them as
comments. Where the two differ, the script reads its folders from the command line and turns a missing or
changed data file into a one-line message instead of a traceback; the notebook uses its working folder.

No user-provided text (file, column or channel names) goes into a Markdown cell: it appears only inside
Python string literals, written by ``repr``, so it can neither break the code nor be rendered as HTML.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from covwb.settings import Settings

_COMMENT_WIDTH = 100


@dataclass(frozen=True)
class Cell:
    """One step of the exported analysis.

    Parameters
    ----------
    kind : {"markdown", "code"}
        What the cell holds.
    text : str
        Markdown, or the notebook's code.
    script : str or None
        The script's code, where it differs from the notebook's.
    """

    kind: str
    text: str
    script: str | None = None


def analysis_cells(
    settings: Settings,
    *,
    call: Callable[..., Any],
    title: str,
    created: str,
    version: str,
    steps: Sequence[str] = (),
    reports_stop: bool = False,
) -> list[Cell]:
    """The cells of an exported analysis.

    Parameters
    ----------
    settings : Settings
        The page's settings; must have a ``source`` with a ``load(folder)`` method.
    call : callable
        The public library call, ``call(settings, data)``, returning an object with ``warnings`` and ``tables()``.
    title : str
        The page's name (the workbench's own text).
    created : str
        Date and time of the export, UTC.
    version : str
        The workbench's version.
    steps : sequence of str
        Markdown sentences, one per step of the call (the workbench's own text).
    reports_stop : bool
        Whether the result has a ``stopped`` attribute to print.

    Returns
    -------
    list of Cell
    """
    name = call.__name__
    imports = [f"from {call.__module__} import {name}", *settings.python_imports()]
    builtin = getattr(settings.source, "tag", "") != "upload"  # built-in or generated from settings (synthetic)
    data_text = (
        "Built-in data, loaded by name or generated from the settings: generated again from its seed or read "
        "from a data package; "
        "nothing is downloaded."
        if builtin
        else "The uploaded file(s), read from `DATA_DIR` under the names they were uploaded with (copy them there). "
        "Each file's SHA-256 is checked against the one recorded at upload: a missing or different file stops "
        "the analysis with a message saying which."
    )
    step_list = "".join(f"\n- {step}" for step in steps)
    report = '\nif result.stopped:\n    print("Stopped:", result.stopped)' if reports_stop else ""
    return [
        Cell(
            "markdown",
            f"# {title}: the analysis as code\n\n"
            f"Exported from Covariance Workbench {version} on {created} UTC. This reruns what the page computed, "
            "with the public `covwb` API: the same data, the same settings (seeds included) and the same call, and "
            "writes the same tables as CSV files. The page's own tables are in `tables/` beside this file; "
            "`provenance.json` records the data's digests and the package versions.",
        ),
        Cell(
            "code",
            "from pathlib import Path\n\n"
            + _import_lines(
                ["from covwb.export import file_name, table_csv", "from covwb.runtime import limit_threads", *imports]
            )
            + "\n\nlimit_threads()  # one BLAS thread, as on the page: the same arithmetic in the same order",
            script="import argparse\nimport sys\nfrom pathlib import Path\n\n"
            + _import_lines(
                [
                    "from covwb.errors import WorkbenchError",
                    "from covwb.export import file_name, table_csv",
                    "from covwb.runtime import limit_threads",
                    *imports,
                ]
            )
            + "\n\nlimit_threads()  # one BLAS thread, as on the page: the same arithmetic in the same order",
        ),
        Cell(
            "code",
            'DATA_DIR = Path.cwd()  # where the uploaded files are\nOUT_DIR = Path("results")  # where the tables go',
            script='parser = argparse.ArgumentParser(description="Rerun the exported analysis; write its tables as CSV.")\n'
            "parser.add_argument(\n"
            '    "--data",\n'
            "    type=Path,\n"
            "    default=Path(__file__).resolve().parent,\n"
            '    help="folder of the uploaded files (default: the folder of this script)",\n'
            ")\n"
            'parser.add_argument("--out", type=Path, default=Path("results"), help="folder of the tables (default: results)")\n'
            "args = parser.parse_args()\n"
            "DATA_DIR, OUT_DIR = args.data, args.out",
        ),
        Cell(
            "markdown",
            "## Settings\n\n"
            "The page's settings as one frozen object: the argument of the call below, its cache key "
            "(`settings.fingerprint()`) and the settings recorded in `provenance.json`. Values are checked when "
            "the object is made; `settings.replace(name=value)` makes a changed copy.",
        ),
        Cell("code", f"settings = {settings.to_python()}"),
        Cell("markdown", f"## Data\n\n{data_text}"),
        Cell(
            "code",
            "data = settings.source.load(DATA_DIR)",
            script="try:\n    data = settings.source.load(DATA_DIR)\n"
            'except WorkbenchError as error:\n    sys.exit(f"analysis.py: {error}")',
        ),
        Cell(
            "markdown",
            f"## Analysis\n\nOne call, `{name}(settings, data)`, the one the page makes:{step_list}\n\n"
            "The result's `warnings` say what may make its numbers misleading, and what to do.",
        ),
        Cell(
            "code",
            f'result = {name}(settings, data)\nfor warning in result.warnings:\n    print("Warning:", warning){report}',
        ),
        Cell(
            "markdown",
            "## Tables\n\n"
            "Every table of the result, written as CSV to `OUT_DIR` by the workbench's one CSV writer (full float "
            "precision), under the names of the page's tables in `tables/`.",
        ),
        Cell(
            "code",
            "OUT_DIR.mkdir(parents=True, exist_ok=True)\n"
            "for name, table in result.tables().items():\n"
            '    path = OUT_DIR / file_name(name, "csv")\n'
            '    path.write_text(table_csv(table), encoding="utf-8", newline="")\n'
            '    print("Wrote", path)',
        ),
    ]


def analysis_script(cells: Sequence[Cell]) -> str:
    """The cells as a Python script: the first Markdown cell is its docstring, the others comments.

    Parameters
    ----------
    cells : sequence of Cell
        From :func:`analysis_cells`.

    Returns
    -------
    str
        Source of ``analysis.py``.
    """
    first, *rest = cells
    docstring = first.text.removeprefix("# ").replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = [f'"""{_wrapped(docstring)}\n"""']
    for cell in rest:
        if cell.kind == "markdown":
            text = _wrapped(cell.text.removeprefix("## "))
            lines.append("\n".join(f"# {line}".rstrip() for line in text.splitlines()))
        else:
            lines.append(cell.script if cell.script is not None else cell.text)
    return "\n\n".join(lines) + "\n"


def analysis_notebook(cells: Sequence[Cell]) -> str:
    """The cells as a Jupyter notebook (nbformat 4, Python 3 kernel, no outputs).

    Parameters
    ----------
    cells : sequence of Cell
        From :func:`analysis_cells`.

    Returns
    -------
    str
        JSON of ``analysis.ipynb``, validated against the nbformat schema.
    """
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
    )
    for index, cell in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if cell.kind == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(cell.text, id=f"cell-{index}"))
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def _import_lines(lines: Sequence[str]) -> str:
    """``from module import name`` lines merged per module and sorted as isort does (classes before functions)."""
    names: dict[str, set[str]] = {}
    for line in lines:
        module, _, imported = line.removeprefix("from ").partition(" import ")
        names.setdefault(module, set()).update(n.strip() for n in imported.split(","))

    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    return "\n".join(f"from {module} import {', '.join(sorted(names[module], key=order))}" for module in sorted(names))


def _wrapped(markdown: str) -> str:
    """Markdown with its paragraphs wrapped for comments (list items and headings kept on their lines)."""
    out = []
    for line in markdown.splitlines():
        if len(line) <= _COMMENT_WIDTH - 2 or line.startswith("#"):
            out.append(line)
        else:
            indent = "  " if line.startswith("- ") else ""
            out.append(textwrap.fill(line, _COMMENT_WIDTH - 2, subsequent_indent=indent, break_on_hyphens=False))
    return "\n".join(out)
