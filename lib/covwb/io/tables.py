"""Read an uploaded CSV/TSV/TXT table into a :class:`TableDataset`.

Reading is conservative and says what it did. The encoding is UTF-8 (with or
without a byte-order mark), else Windows-1252, else Latin-1. The delimiter is
sniffed among ``,`` ``;`` tab ``|`` and, failing those, runs of whitespace. The
decimal mark is ``.`` or ``,`` (``,`` only when it is not the delimiter).
Thousands separators are never guessed: ``1.234,5`` is not a number.

The header is chosen by the caller (``header="first_row"`` or ``"none"``) or detected
(``"auto"``): a first row without numbers is a header when the rows below hold numbers
or its names are distinct; a first row of distinct whole numbers (``0,1,2,...`` over a
microbiome count table, with or without a sample-ID column) is a header when the rows
below follow another pattern: a run of consecutive numbers, non-integers or mostly zeros
below, an empty first cell over a column of row names, text over numeric columns. Every
doubtful decision adds a sentence to ``warnings`` naming the doubt and the option that
settles it.

Every column becomes float64 when most of its cells are numbers (the other cells
become missing and are reported with their line numbers), otherwise it is kept as
text. Infinities become missing. Completely empty rows and columns are dropped.
Every change is one sentence of the returned ``report``. Bad input raises
:class:`~covwb.errors.TableFormatError` and nothing else.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from covwb.datasets.types import TableDataset
from covwb.errors import ParameterError, TableFormatError
from covwb.io.uploads import UploadedBytes, safe_basename

MISSING_TOKENS: frozenset[str] = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "?"})
"""Cell texts (compared in lower case, without surrounding spaces) read as missing values."""

HEADER_CHOICES: dict[str, str] = {
    "auto": "Automatic",
    "first_row": "First row is the header",
    "none": "No header row",
}
"""How the first row is read (the ``header`` argument of :func:`read_table`) and each choice's label."""

TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt")
"""File extensions :func:`read_table` is meant for (for an uploader's ``type=``)."""

_DELIMITERS = (",", ";", "\t", "|")
_WHITESPACE = " "
_ONE_COLUMN = "\x00"  # NUL bytes are refused before parsing, so each line is then a single field
_ROW_NAME_DELIMITERS = ("\t", _WHITESPACE)
_SAMPLE_LINES = 200
_SAMPLE_CHARS = 256 * 1024
_CHUNK_CELLS = 1_000_000
_MAX_LISTED = 5
_MAX_COLUMN_SENTENCES = 10
_CONTROL_SHARE = 0.01
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Each digit run can be matched in one way only (no ``[0-9]+.?[0-9]*``), so that a long run of
# digits followed by another character fails in linear, not quadratic, time.
_DOT_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COMMA_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:,[0-9]*)?|,[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_PATTERN_ROWS = 200
"""Rows below the first one that the header rule compares it with."""
_SPARSE_SHARE = 0.5
"""Share of zeros in the rows below above which they read as sparse counts."""
_LOOK_ALIKE_SHARE = 0.5
"""Share of rows below that look like a numeric first row (distinct whole numbers) above which it is data."""
_CONFIDENT_CELLS = 3
"""Fewest whole numbers in a first row read as a header without a warning."""
_MAX_PREVIEW_CHARS = 20


@dataclass(frozen=True)
class ParsedTable:
    """A read table and where each of its rows came from.

    Parameters
    ----------
    dataset : TableDataset
        The table, as :func:`read_table` returns it.
    lines : numpy.ndarray of int64, shape (n_rows,)
        1-based line of the file on which each row of ``dataset.frame`` starts, for
        messages that point at a cell.
    """

    dataset: TableDataset
    lines: np.ndarray


@dataclass(frozen=True)
class _Header:
    """Whether the first record is the header, a report sentence on why, and a doubt to warn about."""

    present: bool
    note: str | None = None
    doubt: str | None = None


@dataclass(frozen=True)
class _Dialect:
    """How the text is split: a delimiter (or whitespace, or none) and a decimal mark."""

    delimiter: str
    decimal: str


@dataclass(frozen=True)
class _Grid:
    """The non-empty records of the file as text, row-major, before any conversion."""

    cells: pd.Series
    width: int
    lines: np.ndarray
    n_blank: int
    rownames: bool


@dataclass(frozen=True)
class _Cells:
    """Every cell of the grid as a number, with what could not be one.

    ``text`` is row-major and flat (n_records * width); the arrays are (n_records, width).
    """

    text: pd.Series
    values: np.ndarray
    missing: np.ndarray
    bad: np.ndarray


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Names of the numeric (not boolean) columns of a table, in order.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_rows, n_columns)
        Any table.

    Returns
    -------
    list of str
        The columns whose dtype is numeric and not boolean.
    """
    return [
        str(name)
        for name in frame.columns
        if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name])
    ]


def read_table(
    upload: UploadedBytes, *, header: str = "auto", max_rows: int = 1_000_000, max_columns: int = 50_000
) -> TableDataset:
    r"""Read an uploaded CSV/TSV/TXT table.

    Parameters
    ----------
    upload : UploadedBytes
        The file; its name is only shown in messages and ``source``.
    header : {"auto", "first_row", "none"}, default "auto"
        Whether the first non-blank row names the columns: detected (see the module notes),
        always, or never (columns are then named ``column_1``, ``column_2``...). See
        :data:`HEADER_CHOICES`.
    max_rows : int, default 1_000_000
        Largest number of data rows accepted.
    max_columns : int, default 50_000
        Largest number of columns accepted.

    Returns
    -------
    TableDataset
        ``frame`` of shape (n_rows, n_columns) with a RangeIndex, float64 numeric columns
        and string text columns; ``report`` starts with
        ``"Read 47 rows x 11 columns, delimiter ',', decimal '.', header on line 1."``;
        ``source`` is ``"upload: <name>"``; ``warnings`` holds a sentence when the
        automatic header decision is doubtful.

    Raises
    ------
    TableFormatError
        When the file is not a text table, is empty or holds only a header, has rows with
        different numbers of fields or an unclosed quote, or exceeds the limits.
    ParameterError
        When a limit is smaller than 1 or ``header`` is not one of :data:`HEADER_CHOICES`.

    Examples
    --------
    A count table whose columns are numbered, as microbiome tables often are:

    >>> from covwb.io import UploadedBytes, read_table
    >>> text = "sample,0,1,2\nS1,0,4,0\nS2,7,0,0\nS3,0,0,1\n"
    >>> table = read_table(UploadedBytes("otu.csv", text.encode()))
    >>> table.frame.columns.tolist()
    ['sample', '0', '1', '2']
    >>> read_table(UploadedBytes("otu.csv", text.encode()), header="none").frame.shape
    (4, 4)
    """
    return parse_table(upload, header=header, max_rows=max_rows, max_columns=max_columns).dataset


def parse_table(
    upload: UploadedBytes, *, header: str = "auto", max_rows: int = 1_000_000, max_columns: int = 50_000
) -> ParsedTable:
    """Read an uploaded table like :func:`read_table`, and keep the line of each row.

    Parameters
    ----------
    upload : UploadedBytes
        The file.
    header : {"auto", "first_row", "none"}, default "auto"
        As for :func:`read_table`.
    max_rows : int, default 1_000_000
        Largest number of data rows accepted.
    max_columns : int, default 50_000
        Largest number of columns accepted.

    Returns
    -------
    ParsedTable
        The dataset and, for each of its n_rows rows, the 1-based line it starts on.

    Raises
    ------
    TableFormatError
        As :func:`read_table`.
    ParameterError
        When a limit is smaller than 1 or ``header`` is not one of :data:`HEADER_CHOICES`.
    """
    if max_rows < 1 or max_columns < 1:
        raise ParameterError(
            f"The row and column limits must be at least 1 (got {max_rows} rows, {max_columns} columns)."
        )
    if header not in HEADER_CHOICES:
        raise ParameterError(
            f"Unknown header choice {header!r}; choose one of {', '.join(repr(k) for k in HEADER_CHOICES)}."
        )
    shown = safe_basename(upload.name)
    text, notes = _decode(upload.data, shown)
    dialect = _sniff(text)
    grid = _read_grid(text, dialect.delimiter, shown, max_rows, max_columns)
    cells = _to_numbers(grid, dialect.decimal)
    decision = _header(grid, cells, shown, header)
    header_present = decision.present
    n_data = len(grid.lines) - int(header_present)
    if n_data > max_rows:
        raise TableFormatError(
            f"'{shown}' has {n_data} data rows, more than the limit of {max_rows}; "
            "upload fewer rows (a subset or an aggregate)."
        )
    raw_names = _raw_names(grid, cells, header_present)
    names, renamed = _unique_names(raw_names)
    frame, column_notes = _columns(cells, grid, names, int(header_present))
    if frame.shape[1] == 0:
        raise TableFormatError(
            f"'{shown}' has no column with any value; check that the data rows hold numbers or text."
        )
    report = [
        _summary(frame.shape, dialect, int(grid.lines[0]) if header_present else None),
        *([decision.note] if decision.note else []),
        *notes,
        *_grid_notes(grid, renamed),
        *column_notes,
    ]
    dataset = TableDataset(
        name=shown,
        frame=frame,
        source=f"upload: {shown}",
        report=tuple(report),
        warnings=(decision.doubt,) if decision.doubt else (),
    )
    return ParsedTable(dataset=dataset, lines=grid.lines[int(header_present) :].copy())


def _summary(shape: tuple[int, int], dialect: _Dialect, header_line: int | None) -> str:
    """The first sentence of the report: size, delimiter, decimal mark, header."""
    layout = (
        f"header on line {header_line}"
        if header_line is not None
        else "no header row (columns named column_1, column_2, ...)"
    )
    return (
        f"Read {_count(shape[0], 'row')} x {_count(shape[1], 'column')}, "
        f"delimiter {_delimiter_label(dialect.delimiter)}, decimal '{dialect.decimal}', {layout}."
    )


def _grid_notes(grid: _Grid, renamed: list[str]) -> list[str]:
    """Report sentences on row names, renamed header names and dropped empty rows."""
    notes = []
    if grid.rownames:
        notes.append(
            "The header has one name fewer than the data rows (as R's write.table writes row names): "
            "the first column was named 'row_names'."
        )
    if renamed:
        notes.append(f"Header names were filled in or made unique: {_listed(renamed)}.")
    if grid.n_blank:
        notes.append(f"Dropped {_count(grid.n_blank, 'empty row')}.")
    return notes


def _delimiter_label(delimiter: str) -> str:
    """The delimiter as messages name it: ``','``, ``tab``, ``whitespace``, ``none (one column)``."""
    if delimiter == "\t":
        return "tab"
    if delimiter == _WHITESPACE:
        return "whitespace"
    if delimiter == _ONE_COLUMN:
        return "none (one column)"
    return f"'{delimiter}'"


def _decode(data: bytes, shown: str) -> tuple[str, list[str]]:
    """Decode the bytes as UTF-8, else Windows-1252, else Latin-1; refuse binary content."""
    if b"\x00" in data:
        hint = ""
        if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            hint = " It looks like UTF-16 ('Unicode text'): save it again as 'CSV UTF-8'."
        raise TableFormatError(
            f"'{shown}' contains NUL bytes and does not look like a text table; upload a CSV or TSV text file.{hint}"
        )
    notes: list[str] = []
    body = data
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8) :]
        notes.append("Skipped the UTF-8 byte-order mark at the start of the file.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text, encoding = body.decode("cp1252"), "Windows-1252 (cp1252)"
        except UnicodeDecodeError:
            text, encoding = body.decode("latin-1"), "Latin-1 (ISO-8859-1)"
        notes.append(
            f"The file is not valid UTF-8, so it was read as {encoding}; "
            "if accented text looks wrong, save the file as 'CSV UTF-8'."
        )
    text = text.rstrip("\x1a")
    if not text.strip():
        raise TableFormatError(f"'{shown}' is empty; upload a table with a header row and at least one data row.")
    n_control = sum(1 for _ in _CONTROL.finditer(text))
    if n_control > _CONTROL_SHARE * len(text):
        raise TableFormatError(
            f"'{shown}' does not look like a text table ({n_control} of {len(text)} characters "
            "are control characters); upload a CSV or TSV text file."
        )
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, notes


def _physical_lines(text: str) -> Iterator[str]:
    """Yield the lines of ``text``, each with its ``\\n`` (without copying the whole text)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _records(lines: Iterable[str], delimiter: str, shown: str, *, strict: bool) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line where the record starts, fields)`` for every record, blank ones included."""
    if delimiter == _WHITESPACE:
        lines = (line.replace("\t", " ").strip() for line in lines)
        reader = csv.reader(lines, delimiter=" ", skipinitialspace=True, strict=strict)
    else:
        reader = csv.reader(lines, delimiter=delimiter, strict=strict)
    previous = 0
    try:
        for fields in reader:
            yield previous + 1, fields
            previous = reader.line_num
    except csv.Error as error:
        start = previous + 1
        if "unexpected end of data" in str(error):
            message = (
                f"Line {start} of '{shown}' opens a quoted field that is never closed; check the quotes on that line."
            )
        else:
            reason = str(error)
            if "expected after" in reason:
                reason = "a closing quote is followed by other characters"
            where = f"line {start}" if start == reader.line_num else f"lines {start} to {reader.line_num}"
            message = (
                f"Line {reader.line_num} of '{shown}' cannot be read ({reason}); "
                f"check the quotes and the delimiter on {where}."
            )
        raise TableFormatError(message) from error


def _is_number(cell: str, comma_decimal: bool) -> bool:
    """Whether a cell of the sample reads as a number with a ``.`` (or a ``,``) decimal mark."""
    cell = cell.strip()
    return bool(_DOT_NUMBER.fullmatch(cell) or (comma_decimal and _COMMA_NUMBER.fullmatch(cell)))


def _sample(text: str) -> list[str]:
    """The first lines of the text: up to 200 lines, fewer (at least 3) past 256 KiB."""
    lines: list[str] = []
    size = 0
    for line in _physical_lines(text):
        lines.append(line)
        size += len(line)
        if len(lines) >= _SAMPLE_LINES or (size >= _SAMPLE_CHARS and len(lines) >= 3):
            break
    return lines


def _sample_rows(lines: Sequence[str], delimiter: str) -> list[list[str]] | None:
    """Non-blank records of the sample split by ``delimiter``; None if they cannot be split."""
    try:
        records = list(_records(lines, delimiter, "", strict=False))
    except TableFormatError:
        return None
    return [fields for _, fields in records if "".join(fields).strip()]


def _score(rows: list[list[str]], delimiter: str) -> tuple[bool, float, float, int] | None:
    """How well a delimiter splits the sample: (consistent, numeric share, agreement, width).

    With tab or whitespace delimiters, a first row one field short of all the others (R's
    ``write.table`` header over row names) counts as consistent.
    """
    if not rows:
        return None
    counts = Counter(len(r) for r in rows)
    width = max(counts, key=lambda w: (counts[w], w))
    if width < 2:
        return None
    agreeing = counts[width] + int(delimiter in _ROW_NAME_DELIMITERS and len(rows[0]) == width - 1)
    agreement = agreeing / len(rows)
    cells = [c for r in rows[1:] if len(r) == width for c in r]
    comma_decimal = delimiter != ","
    numeric = sum(_is_number(c, comma_decimal) for c in cells) / len(cells) if cells else 0.0
    return agreement == 1.0, numeric, agreement, width


def _sniff(text: str) -> _Dialect:
    """Pick the delimiter and the decimal mark from the first lines of the text."""
    lines = _sample(text)
    scored: list[tuple[tuple[bool, float, float, int], str, list[list[str]]]] = []
    for delimiter in _DELIMITERS:
        rows = _sample_rows(lines, delimiter)
        if rows is None:
            continue
        if not rows:
            return _Dialect(delimiter=delimiter, decimal=".")
        score = _score(rows, delimiter)
        if score is not None:
            scored.append((score, delimiter, rows))
    consistent = [s for s in scored if s[0][0]]
    if consistent:
        _, delimiter, rows = max(consistent, key=lambda s: (s[0][1], s[0][3]))
    else:
        spaced = _sample_rows(lines, _WHITESPACE)
        spaced_score = _score(spaced, _WHITESPACE) if spaced is not None else None
        single = _sample_rows(lines, _ONE_COLUMN) or []
        if spaced is not None and spaced_score is not None and spaced_score[0]:
            delimiter, rows = _WHITESPACE, spaced
        elif _comma_decimal_column(single):
            delimiter, rows = _ONE_COLUMN, single
        elif scored:
            _, delimiter, rows = max(scored, key=lambda s: (s[0][2], s[0][1], s[0][3]))
        else:
            delimiter, rows = _ONE_COLUMN, single
    return _Dialect(delimiter=delimiter, decimal=_sniff_decimal(rows, delimiter))


def _comma_decimal_column(rows: list[list[str]]) -> bool:
    """Whether the rows below a comma-free first row are single numbers, some with a decimal comma."""
    cells = [c.strip() for r in rows[1:] for c in r]
    numbers = [c for c in cells if c.lower() not in MISSING_TOKENS]
    return (
        bool(numbers)
        and "," not in "".join(rows[0])
        and any("," in c for c in numbers)
        and all(_COMMA_NUMBER.fullmatch(c) for c in numbers)
    )


def _sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    """``','`` when the sample's numbers mostly use a decimal comma, else ``'.'``."""
    if delimiter == ",":
        return "."
    body = rows[1:] if len(rows) > 1 else rows
    cells = [c.strip() for r in body for c in r]
    commas = sum(1 for c in cells if "," in c and _COMMA_NUMBER.fullmatch(c))
    dots = sum(1 for c in cells if "." in c and _DOT_NUMBER.fullmatch(c))
    return "," if commas > dots else "."


def _read_grid(text: str, delimiter: str, shown: str, max_rows: int, max_columns: int) -> _Grid:
    """Split the whole text into equally long records, dropping blank ones."""
    chunks: list[pd.Series] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    width, n_blank, rownames, chunk_rows = 0, 0, False, 2
    for line, fields in _records(_physical_lines(text), delimiter, shown, strict=True):
        if not "".join(fields).strip():
            n_blank += 1
            continue
        if not lines:
            width = len(fields)
            chunk_rows = max(2, _CHUNK_CELLS // width)
        elif len(fields) == width + 1 and len(lines) == 1 and delimiter in _ROW_NAME_DELIMITERS:
            rownames, width = True, width + 1
            rows[0].insert(0, "row_names")
        elif len(fields) != width:
            raise TableFormatError(
                f"Line {line} of '{shown}' has {len(fields)} fields but line {lines[0]} has "
                f"{width - int(rownames)}; check the delimiter ({_delimiter_label(delimiter)}) "
                f"and the quotes on line {line}."
            )
        if width > max_columns:
            raise TableFormatError(
                f"'{shown}' has {width} columns, more than the limit of {max_columns}; upload fewer columns."
            )
        if len(lines) > max_rows:
            raise TableFormatError(
                f"'{shown}' has more than {max_rows} data rows (the limit); "
                "upload fewer rows (a subset or an aggregate)."
            )
        rows.append(fields)
        lines.append(line)
        if len(rows) >= chunk_rows:
            chunks.append(pd.Series(list(itertools.chain.from_iterable(rows)), dtype="str"))
            rows = []
    if not lines:
        raise TableFormatError(
            f"'{shown}' has no values, only delimiters or blank lines; upload a table with data rows."
        )
    if rows:
        chunks.append(pd.Series(list(itertools.chain.from_iterable(rows)), dtype="str"))
    cells = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return _Grid(cells, width, np.asarray(lines, dtype=np.int64), n_blank, rownames)


def _to_numbers(grid: _Grid, decimal: str) -> _Cells:
    """Read every cell as a float64; mark missing tokens and cells that are not numbers."""
    stripped = grid.cells.str.strip()
    candidate = stripped.str.replace(",", ".", regex=False) if decimal == "," else stripped
    values = np.concatenate([_floats(candidate.iloc[: grid.width]), _floats(candidate.iloc[grid.width :])])
    nan = np.isnan(values)
    missing = np.zeros(values.shape, dtype=bool)
    where = np.flatnonzero(nan)
    if where.size:
        missing[where] = stripped.iloc[where].str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
    shape = (len(grid.lines), grid.width)
    return _Cells(
        text=stripped,
        values=values.reshape(shape),
        missing=missing.reshape(shape),
        bad=(nan & ~missing).reshape(shape),
    )


def _floats(texts: pd.Series) -> np.ndarray:
    """Strict float64 parse of stripped texts; NaN where a text is not a number."""
    try:
        return texts.astype("float64").to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        return pd.to_numeric(texts, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _header(grid: _Grid, cells: _Cells, shown: str, choice: str) -> _Header:
    """Whether the first record is the header: as chosen, or detected (module notes)."""
    names = _first_record(grid, cells)
    single = len(grid.lines) == 1
    if choice == "first_row" and single:
        _refuse_header_only(grid, shown)
    if choice == "none" and grid.rownames:
        _refuse_row_names(grid, shown)
    if choice != "auto":
        return _Header(choice == "first_row", f"Header row as chosen: {HEADER_CHOICES[choice].lower()}.")
    first_has_number = bool(np.isfinite(cells.values[0]).any())
    if single:
        if first_has_number:
            return _Header(False)
        _refuse_header_only(grid, shown)
    present = (~cells.missing[1:]).sum(axis=0)
    numeric_below = (present > 0) & (2 * cells.bad[1:].sum(axis=0) < present)
    if first_has_number:
        decision = _numeric_first_row(cells, names, numeric_below, shown, int(grid.lines[0]))
    else:
        distinct_names = all(names) and len(set(names)) == len(names)
        decision = _Header(bool(numeric_below.any()) or distinct_names)
    if grid.rownames and not decision.present:
        _refuse_row_names(grid, shown)
    return decision


def _refuse_header_only(grid: _Grid, shown: str) -> None:
    """TableFormatError for a table whose only record is its header."""
    raise TableFormatError(
        f"'{shown}' has a header row (line {grid.lines[0]}) but no data rows; upload the table with its data."
    )


def _refuse_row_names(grid: _Grid, shown: str) -> None:
    """TableFormatError for a first record one field short that cannot be a header."""
    raise TableFormatError(
        f"Line {grid.lines[1]} of '{shown}' has {grid.width} fields but line {grid.lines[0]} "
        f"has {grid.width - 1}; check the delimiter and the quotes on line {grid.lines[1]}."
    )


def _numeric_first_row(cells: _Cells, names: list[str], numeric_below: np.ndarray, shown: str, line: int) -> _Header:
    """Decide on a first record that holds numbers: a numbered header, or data (module notes)."""
    first = cells.values[0]
    numbers = np.flatnonzero(np.isfinite(first))
    body = slice(1, 1 + _PATTERN_ROWS)
    values, missing = cells.values[body], cells.missing[body]
    text_over_numeric = [
        j for j in np.flatnonzero(numeric_below) if not cells.missing[0, j] and not np.isfinite(first[j])
    ]
    preview = _preview(names)
    where = f"Line {line} of '{shown}' ({preview})"
    use_header = f"if it names the columns, choose the header option '{HEADER_CHOICES['first_row']}'"
    use_data = f"if it is a row of data, choose the header option '{HEADER_CHOICES['none']}'"
    mixed = (
        f"{where} holds numbers but also text above numeric columns "
        f"({_listed(_quoted([names[j] for j in text_over_numeric]))}), and was read as data; {use_header}."
    )
    whole = all(_INTEGER.fullmatch(names[j]) for j in numbers)
    distinct = np.unique(first[numbers]).size == numbers.size
    if not (whole and distinct):
        if text_over_numeric:
            return _Header(False, doubt=mixed)
        if _increasing_unlike_below(first[numbers], values[:, numbers]):
            return _Header(
                False,
                doubt=f"{where} increases steadily, like column labels (wavelengths, positions), unlike the "
                f"rows below, and was read as data; {use_header}.",
            )
        return _Header(False)
    block = values[:, numbers]
    look_alike = np.isfinite(block).all(axis=1) & (block == np.round(block)).all(axis=1)
    sorted_block = np.sort(block, axis=1)
    look_alike &= (np.diff(sorted_block, axis=1) != 0).all(axis=1)
    share = float(look_alike.mean()) if len(block) else 1.0
    run = numbers.size >= 2 and bool((np.diff(first[numbers]) == 1).all())
    reasons = []
    if run:
        reasons.append(f"its numbers run from {first[numbers][0]:.0f} to {first[numbers][-1]:.0f}")
    finite = block[np.isfinite(block)]
    if finite.size and (finite != np.round(finite)).any():
        reasons.append("the rows below hold non-integers")
    if finite.size and np.mean(finite == 0) > _SPARSE_SHARE and np.count_nonzero(first[numbers] == 0) <= 1:
        reasons.append("the rows below are mostly zeros")
    row_names = [
        j
        for j in np.flatnonzero(~numeric_below)
        if cells.missing[0, j] and not missing[:, j].any() and j not in numbers
    ]
    if row_names:
        reasons.append("its empty first cell heads a column of row names")
    if text_over_numeric:
        reasons.append("it holds text above numeric columns")
    if share >= _LOOK_ALIKE_SHARE:
        if run and numbers.size >= _CONFIDENT_CELLS:
            return _Header(
                False,
                doubt=f"{where} numbers the columns in a run, but {share:.0%} of the rows below are also "
                f"distinct whole numbers, so it was read as data; {use_header}.",
            )
        return _Header(False, doubt=mixed if text_over_numeric else None)
    if not reasons:
        if numbers.size < _CONFIDENT_CELLS:
            return _Header(False)
        return _Header(
            False,
            doubt=f"{where} holds distinct whole numbers while most rows below repeat values, so it may be a "
            f"numbered header; it was read as data; {use_header}.",
        )
    note = f"{where} was read as the header: {_joined(reasons)}."
    confident = len(reasons) >= 2 and numbers.size >= _CONFIDENT_CELLS and len(block) >= 2
    if confident:
        return _Header(True, note=note)
    return _Header(True, note=note, doubt=f"{where} was read as the header because {_joined(reasons)}; {use_data}.")


def _increasing_unlike_below(first: np.ndarray, below: np.ndarray) -> bool:
    """Whether at least three numbers of the first row increase strictly while most rows below do not."""
    if first.size < _CONFIDENT_CELLS or not (np.diff(first) > 0).all():
        return False
    increasing = (np.diff(below, axis=1) > 0).all(axis=1)
    return not len(below) or float(increasing.mean()) < _LOOK_ALIKE_SHARE


def _preview(names: Sequence[str]) -> str:
    """``0, 1, 2, ..., 126``: the first three and the last cell of a record."""
    shown = [(n if len(n) <= _MAX_PREVIEW_CHARS else n[: _MAX_PREVIEW_CHARS - 3] + "...") or "(empty)" for n in names]
    if len(shown) <= 5:
        return ", ".join(shown)
    return ", ".join(shown[:3]) + ", ..., " + shown[-1]


def _joined(phrases: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _raw_names(grid: _Grid, cells: _Cells, header: bool) -> list[str]:
    """Header texts, or empty names (filled in later) when there is no header."""
    return _first_record(grid, cells) if header else [""] * grid.width


def _first_record(grid: _Grid, cells: _Cells) -> list[str]:
    """The stripped texts of the first record."""
    return [str(c) for c in cells.text.iloc[: grid.width]]


def _unique_names(raw: Sequence[str]) -> tuple[list[str], list[str]]:
    """Fill empty names with ``column_<j>`` and suffix repeats with ``_2``, ``_3``...

    Returns the names and, for the report, one phrase per header name that changed
    (none when there was no header).
    """
    names: list[str] = []
    changed: list[str] = []
    used: set[str] = set()
    any_named = any(raw)
    for j, name in enumerate(raw):
        base = name or f"column_{j + 1}"
        candidate, k = base, 2
        while candidate in used:
            candidate, k = f"{base}_{k}", k + 1
        used.add(candidate)
        names.append(candidate)
        if candidate != name and any_named:
            changed.append(f"column {j + 1} '{name}' became '{candidate}'")
    return names, changed


def _columns(cells: _Cells, grid: _Grid, names: list[str], start: int) -> tuple[pd.DataFrame, list[str]]:
    """Build the frame from the data records and say what was converted or dropped."""
    lines = grid.lines[start:]
    missing = cells.missing[start:]
    bad = cells.bad[start:]
    values = np.where(bad, np.nan, cells.values[start:])
    infinite = np.isinf(values)
    values[infinite] = np.nan
    present = (~missing).sum(axis=0)
    numeric = (present > 0) & (2 * bad.sum(axis=0) < present)
    no_finite = numeric & np.isnan(values).all(axis=0)
    empty = [names[j] for j in np.flatnonzero(present == 0)]
    unusable = [names[j] for j in np.flatnonzero(no_finite)]
    text_columns = list(np.flatnonzero(~numeric & (present > 0)))
    kept = np.flatnonzero((numeric & ~no_finite) | (~numeric & (present > 0)))
    notes: list[str] = []
    if empty:
        notes.append(f"Dropped {_count(len(empty), 'empty column')}: {_listed(_quoted(empty))}.")
    notes.extend(_cell_notes(names, np.flatnonzero(numeric), bad, infinite, lines))
    if unusable:
        notes.append(f"Dropped {_count(len(unusable), 'column')} with no finite number: {_listed(_quoted(unusable))}.")
    if text_columns:
        notes.append(
            f"Kept {_count(len(text_columns), 'mostly-text column')} as text: "
            f"{_listed(_quoted([names[j] for j in text_columns]))}."
        )
    numeric_kept = [j for j in kept if numeric[j]]
    frame = pd.DataFrame(values[:, numeric_kept], columns=[names[j] for j in numeric_kept])
    if text_columns:
        rows = np.arange(start, len(grid.lines)) * grid.width
        text = {
            names[j]: pd.Series(
                np.where(missing[:, j], None, cells.text.iloc[rows + j].to_numpy(dtype=object)), dtype="str"
            )
            for j in text_columns
        }
        frame = pd.concat([frame, pd.DataFrame(text)], axis=1)[[names[j] for j in kept]]
    return frame.reset_index(drop=True), notes


def _cell_notes(
    names: list[str], numeric: np.ndarray, bad: np.ndarray, infinite: np.ndarray, lines: np.ndarray
) -> list[str]:
    """Sentences on the cells of numeric columns that became missing, for the first ten such columns."""
    sentences: list[str] = []
    n_columns = 0
    for j in numeric:
        n_bad, n_infinite = int(bad[:, j].sum()), int(infinite[:, j].sum())
        if not n_bad and not n_infinite:
            continue
        n_columns += 1
        if n_columns > _MAX_COLUMN_SENTENCES:
            continue
        if n_bad:
            sentences.append(_cell_sentence(names[j], n_bad, lines[bad[:, j]], "not numbers"))
        if n_infinite:
            sentences.append(_cell_sentence(names[j], n_infinite, lines[infinite[:, j]], "infinite"))
    if n_columns > _MAX_COLUMN_SENTENCES:
        more = n_columns - _MAX_COLUMN_SENTENCES
        sentences.append(f"Cells of {_count(more, 'more column')} also became missing.")
    return sentences


def _cell_sentence(name: str, n: int, lines: np.ndarray, what: str) -> str:
    """``column 'x': 3 cells were not numbers (lines 4, 9, 12) and became missing``."""
    where = _lines_phrase(lines)
    if what == "infinite":
        values = "1 infinite value" if n == 1 else f"{n} infinite values"
        return f"column '{name}': {values} ({where}) became missing."
    subject = "1 cell was not a number" if n == 1 else f"{n} cells were not numbers"
    return f"column '{name}': {subject} ({where}) and became missing."


def _lines_phrase(lines: np.ndarray) -> str:
    """``line 4`` / ``lines 4, 9, 12`` / ``lines 4, 9, 12, 15, 20 and 7 more``."""
    shown = ", ".join(str(int(v)) for v in lines[:_MAX_LISTED])
    more = f" and {len(lines) - _MAX_LISTED} more" if len(lines) > _MAX_LISTED else ""
    return f"line {shown}" if len(lines) == 1 else f"lines {shown}{more}"


def _quoted(names: Sequence[str]) -> list[str]:
    """Each name in single quotes."""
    return [f"'{n}'" for n in names]


def _listed(items: Sequence[str]) -> str:
    """Up to five items joined by commas, then ``and N more``."""
    head = ", ".join(items[:_MAX_LISTED])
    return head + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def _count(n: int, noun: str) -> str:
    """``1 empty row`` / ``3 empty rows``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
