"""Malformed text tables for the table and EEG-as-CSV uploaders (names end in .csv, .tsv or .txt)."""

from __future__ import annotations

import codecs
import random

from tests.fuzz.cases import junk, mutate

_SUFFIXES = (".csv", ".tsv", ".txt")
_HOSTILE_STEMS = (
    "../../etc/passwd",
    "..\\..\\boot",
    "<script>alert(1)</script>",
    "名前 データ",
    "a" * 300,
    " .hidden",
    "x\u202e",
    "COM1",
    "",
)
_MISSING = ("", "NA", "n/a", "nan", "NaN", "null", "None", "#N/A", "?", "-", ".")
_WORDS = ("red", "green", "blue", "Ω", "naïve", "x y", "12abc", "TRUE", "false", "2020-01-01", "1/2")
_CHANNELS = ("Fp1", "Fp2", "F3", "F4", "C3", "Cz", "C4", "P3", "P4", "O1", "O2", "T7", "T8", "Pz", "Fz")


def _name(rng: random.Random, suffixes: tuple[str, ...] = _SUFFIXES) -> str:
    """An upload name: mostly plain, sometimes hostile (folders, markup, very long, unicode)."""
    stem = rng.choice(_HOSTILE_STEMS) if rng.random() < 0.15 else rng.choice(("data", "table", "t", "values"))
    return stem + rng.choice(suffixes)


def _number(rng: random.Random, decimal: str = ".") -> str:
    """A number as text, in one of several everyday spellings."""
    value = rng.gauss(0.0, 10.0 ** rng.randint(-3, 4))
    form = rng.randrange(6)
    if form == 0:
        text = str(int(value))
    elif form == 1:
        text = f"{value:.{rng.randint(0, 6)}f}"
    elif form == 2:
        text = f"{value:.3e}"
    elif form == 3:
        text = repr(value)
    elif form == 4:
        text = f" {value:.2f} "
    else:
        text = f"{value:+.1f}"
    return text.replace(".", decimal) if decimal != "." else text


def _cell(rng: random.Random) -> str:
    """A number, a missing-value token or a word."""
    draw = rng.random()
    if draw < 0.75:
        return _number(rng)
    if draw < 0.9:
        return rng.choice(_MISSING)
    return rng.choice(_WORDS)


def _header(rng: random.Random, n_cols: int) -> list[str]:
    """Distinct column names."""
    return [f"{rng.choice(('x', 'var', 'col', 'Si', 'Fe'))}{j}" for j in range(n_cols)]


def _table(
    rng: random.Random,
    n_rows: int,
    n_cols: int,
    *,
    delimiter: str = ",",
    decimal: str = ".",
    header: bool = True,
    cell=None,
) -> str:
    """A rectangular table as text, numeric by default."""
    make = cell or (lambda r: _number(r, decimal))
    lines = [delimiter.join(_header(rng, n_cols))] if header else []
    lines += [delimiter.join(make(rng) for _ in range(n_cols)) for _ in range(n_rows)]
    return "\n".join(lines) + rng.choice(("\n", "", "\n\n"))


def _small(rng: random.Random) -> str:
    """A small valid numeric table with a header."""
    return _table(rng, rng.randint(2, 40), rng.randint(2, 6))


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def empty(rng: random.Random) -> list[tuple[str, bytes]]:
    """Empty files and files of blanks, delimiters, a lone BOM or a header only."""
    body = rng.choice(
        (b"", b"\n", b"\r\n\r\n", b"   \n\t\n", b",,,\n,,,\n", b";;\n", b"\t\t\n", codecs.BOM_UTF8,
         codecs.BOM_UTF8 + b"\n", b"\x1a", b"a,b,c\n", b"a,b,c", b'""\n', b"#\n", b" ")
    )  # fmt: skip
    return [(_name(rng), body)]


def binary_junk(rng: random.Random) -> list[tuple[str, bytes]]:
    """Random bytes, with or without NUL bytes, under a table name."""
    data = junk(rng, 1, 8192)
    if rng.random() < 0.5:
        data = data.replace(b"\x00", b"\x01")
    return [(_name(rng), data)]


def magic_junk(rng: random.Random) -> list[tuple[str, bytes]]:
    """Other formats' magic bytes (zip, npy, MAT, gzip, PDF, PNG, BDF, EDF) then junk, named .csv."""
    magic = rng.choice(
        (b"PK\x03\x04", b"\x93NUMPY\x01\x00", b"MATLAB 5.0 MAT-file", b"\x1f\x8b\x08", b"%PDF-1.4\n",
         b"\x89PNG\r\n\x1a\n", b"\xffBIOSEMI", b"0       ", b"GDF 2.20", b"\xef\xbb\xbf\x00")
    )  # fmt: skip
    return [(_name(rng), magic + junk(rng, 0, 2048))]


def one_row(rng: random.Random) -> list[tuple[str, bytes]]:
    """A header alone, one data row alone, or a header with one data row."""
    n_cols = rng.randint(1, 8)
    names = ",".join(_header(rng, n_cols))
    row = ",".join(_cell(rng) for _ in range(n_cols))
    body = rng.choice((names, row, f"{names}\n{row}", f"\n\n{names}\n\n{row}\n\n"))
    return [(_name(rng), _encode(body))]


def one_column(rng: random.Random) -> list[tuple[str, bytes]]:
    """A single column of numbers (dot or comma decimals), words or a mixture."""
    decimal = rng.choice((".", ","))
    values = [_number(rng, decimal) if rng.random() < 0.8 else _cell(rng) for _ in range(rng.randint(1, 60))]
    lines = ([rng.choice(("value", "x", "", "1"))] if rng.random() < 0.7 else []) + values
    return [(_name(rng), _encode("\n".join(lines)))]


def duplicate_headers(rng: random.Random) -> list[tuple[str, bytes]]:
    """Repeated, empty and suffix-colliding header names."""
    pool = ("a", "a", "a_2", "", "b", "B", " a", "a ", "column_1", "row_names", "label")
    n_cols = rng.randint(2, 8)
    names = [rng.choice(pool) for _ in range(n_cols)]
    rows = [",".join(_number(rng) for _ in range(n_cols)) for _ in range(rng.randint(1, 20))]
    return [(_name(rng), _encode("\n".join([",".join(names), *rows])))]


def non_utf8(rng: random.Random) -> list[tuple[str, bytes]]:
    """Latin-1, Windows-1252, UTF-16 (with NULs) or stray invalid UTF-8 bytes."""
    text = "température;Größe;naïve\n" + _table(rng, rng.randint(1, 20), 3, delimiter=";", header=False)
    choice = rng.randrange(5)
    if choice == 0:
        data = text.encode("latin-1")
    elif choice == 1:
        data = (text.replace("naïve", "€uro“q”")).encode("cp1252")
    elif choice == 2:
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif choice == 3:
        data = text.encode("utf-16-be")
    else:
        raw = bytearray(text.encode("utf-8"))
        for _ in range(rng.randint(1, 10)):
            raw.insert(rng.randrange(len(raw)), rng.choice((0x80, 0xC3, 0xFF, 0xFE, 0xED, 0xA0)))
        data = bytes(raw)
    return [(_name(rng), data)]


def boms(rng: random.Random) -> list[tuple[str, bytes]]:
    """UTF-8 byte-order marks at the start, twice, inside a header or a cell."""
    text = _small(rng)
    choice = rng.randrange(4)
    if choice == 0:
        data = codecs.BOM_UTF8 + _encode(text)
    elif choice == 1:
        data = codecs.BOM_UTF8 * 2 + _encode(text)
    elif choice == 2:
        data = _encode(text.replace(",", ",\ufeff", 1))
    else:
        lines = text.split("\n")
        lines[rng.randrange(len(lines))] = "\ufeff" + lines[0]
        data = codecs.BOM_UTF8 + _encode("\n".join(lines))
    return [(_name(rng), data)]


def decimal_commas(rng: random.Random) -> list[tuple[str, bytes]]:
    """Decimal commas mixed with decimal points and thousands separators, under several delimiters."""
    delimiter = rng.choice((";", "\t", ",", " "))
    spellings = ("1,5", "1.5", "1.234,5", "1,234.5", "-0,25", ",5", "3,", "1 234,5", "2,5e3", "7")

    def cell(r: random.Random) -> str:
        return r.choice(spellings) if r.random() < 0.5 else _number(r, r.choice((",", ".")))

    return [(_name(rng), _encode(_table(rng, rng.randint(1, 30), rng.randint(1, 5), delimiter=delimiter, cell=cell)))]


def ragged_rows(rng: random.Random) -> list[tuple[str, bytes]]:
    """Rows with fields missing or added, trailing delimiters, a row-name column."""
    n_cols = rng.randint(2, 6)
    lines = [",".join(_header(rng, n_cols - int(rng.random() < 0.3)))]
    for _ in range(rng.randint(1, 30)):
        width = n_cols + (rng.choice((-2, -1, 1, 2)) if rng.random() < 0.3 else 0)
        lines.append(",".join(_number(rng) for _ in range(max(width, 1))) + ("," if rng.random() < 0.1 else ""))
    delimiter = rng.choice((",", "\t", " "))
    return [(_name(rng), _encode("\n".join(lines).replace(",", delimiter)))]


def numbers_as_text(rng: random.Random) -> list[tuple[str, bytes]]:
    """Numbers quoted, spaced, with units, signs, hex, underscores or non-ASCII digits."""
    spellings = (
        '"1.5"', '" 2 "', "1 234", "1e", "0x1F", "1_000", "+-3", "½", "١٢٣", "１２", "∞", "(12)", "12%", "$5",
        "1.2.3", "--1", "1e+", "e5", "1d3", "0b101", "٫5", "′3", "1,5e3", "TRUE",
    )  # fmt: skip

    def cell(r: random.Random) -> str:
        return r.choice(spellings) if r.random() < 0.6 else _number(r)

    return [(_name(rng), _encode(_table(rng, rng.randint(1, 30), rng.randint(1, 5), cell=cell)))]


def huge_numbers(rng: random.Random) -> list[tuple[str, bytes]]:
    """Values at and past the float64 range, sub-normals and very long digit strings."""
    spellings = (
        "1e308", "1.7976931348623157e308", "1e309", "-1e999", "4e-324", "1e-400", "9" * 400, "-0", "0e0",
        "123456789012345678901234567890", "-1.7976931348623157e308", "2.2250738585072014e-308",
    )  # fmt: skip

    def cell(r: random.Random) -> str:
        return r.choice(spellings) if r.random() < 0.5 else _number(r)

    return [(_name(rng), _encode(_table(rng, rng.randint(1, 30), rng.randint(1, 6), cell=cell)))]


def nan_inf(rng: random.Random) -> list[tuple[str, bytes]]:
    """NaN and infinity spellings: sprinkled, whole columns or the whole table."""
    tokens = ("nan", "NaN", "-nan", "inf", "-inf", "Infinity", "INF", "+inf", "1.#INF", "#N/A", "NA", "null", "None")
    share = rng.choice((0.1, 0.5, 0.9, 1.0))

    def cell(r: random.Random) -> str:
        return r.choice(tokens) if r.random() < share else _number(r)

    return [(_name(rng), _encode(_table(rng, rng.randint(1, 30), rng.randint(1, 6), cell=cell)))]


def wide(rng: random.Random) -> list[tuple[str, bytes]]:
    """Hundreds of columns over a few rows."""
    n_cols = rng.choice((100, 300, 600))
    return [(_name(rng), _encode(_table(rng, rng.randint(1, 5), n_cols, header=rng.random() < 0.7)))]


def quotes(rng: random.Random) -> list[tuple[str, bytes]]:
    """Unclosed quotes, quotes inside fields, doubled quotes, line breaks inside quotes."""
    lines = _small(rng).split("\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        line = lines[i]
        pos = rng.randint(0, len(line))
        lines[i] = line[:pos] + rng.choice(('"', '""', '"a\nb"', "'", '"x"y', '\\"')) + line[pos:]
    return [(_name(rng), _encode("\n".join(lines)))]


def control_chars(rng: random.Random) -> list[tuple[str, bytes]]:
    """Old Mac line ends, mixed line ends, form feeds, vertical tabs, end-of-file marks, escapes."""
    text = _small(rng)
    choice = rng.randrange(4)
    if choice == 0:
        text = text.replace("\n", "\r")
    elif choice == 1:
        text = "".join(ch if ch != "\n" else rng.choice(("\n", "\r\n", "\r")) for ch in text)
    elif choice == 2:
        chars = list(text)
        for _ in range(rng.randint(1, 40)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(("\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x08")))
        text = "".join(chars)
    else:
        text = text + "\x1a" * rng.randint(1, 3)
    return [(_name(rng), _encode(text))]


def mutated_valid(rng: random.Random) -> list[tuple[str, bytes]]:
    """A valid table with random byte edits and truncation."""
    return [(_name(rng), mutate(rng, _encode(_small(rng))))]


def random_structure(rng: random.Random) -> list[tuple[str, bytes]]:
    """Random delimiter, width, cell kinds, blank lines and header presence."""
    delimiter = rng.choice((",", ";", "\t", "|", " ", "  ", ":", ", "))
    n_cols = rng.randint(1, 8)
    lines = []
    if rng.random() < 0.6:
        lines.append(delimiter.join(_header(rng, n_cols)))
    for _ in range(rng.randint(0, 40)):
        if rng.random() < 0.05:
            lines.append("")
            continue
        lines.append(delimiter.join(_cell(rng) for _ in range(n_cols)))
    return [(_name(rng), _encode("\n".join(lines)))]


def constant_columns(rng: random.Random) -> list[tuple[str, bytes]]:
    """Constant, all-zero and collinear columns: valid tables with a singular covariance."""
    n_rows, n_cols = rng.randint(2, 30), rng.randint(2, 5)
    base = [rng.gauss(0, 1) for _ in range(n_rows)]
    columns = []
    for _ in range(n_cols):
        kind = rng.randrange(3)
        if kind == 0:
            columns.append([1.0] * n_rows)
        elif kind == 1:
            columns.append([0.0] * n_rows)
        else:
            scale = rng.choice((1.0, -2.0, 1e-12, 1e12))
            columns.append([scale * v for v in base])
    lines = [",".join(_header(rng, n_cols))] + [",".join(repr(c[i]) for c in columns) for i in range(n_rows)]
    return [(_name(rng), _encode("\n".join(lines)))]


def huge_cell(rng: random.Random) -> list[tuple[str, bytes]]:
    """One cell of tens of thousands of characters (digits or letters) in a small table."""
    lines = _small(rng).split("\n")
    filler = rng.choice(("9", "a", "1,", "é", " "))
    big = filler * rng.randint(20_000, 120_000)
    i = rng.randrange(len(lines))
    lines[i] = big + "," + lines[i]
    return [(_name(rng), _encode("\n".join(lines)))]


def tall(rng: random.Random) -> list[tuple[str, bytes]]:
    """Thousands of rows over two to four numeric columns."""
    return [(_name(rng), _encode(_table(rng, rng.choice((2000, 5000, 10000)), rng.randint(2, 4))))]


def _eeg_table(rng: random.Random, cell=None) -> tuple[list[str], list[list[str]]]:
    """Channel names (maybe with a time column) and sample rows of an EEG table."""
    n_ch = rng.randint(1, 6)
    names = rng.sample(_CHANNELS, n_ch)
    if rng.random() < 0.4:
        names.insert(0, rng.choice(("time", "Time (s)", "t", "timestamp", "TIME[ms]", "times_s")))
    make = cell or (lambda r: f"{r.gauss(0, 20):.3f}")
    rows = [[make(rng) for _ in names] for _ in range(rng.choice((1, 2, 3, 50, 600)))]
    return names, rows


def _eeg_text(names: list[str], rows: list[list[str]], delimiter: str = ",") -> bytes:
    return _encode("\n".join([delimiter.join(names), *(delimiter.join(r) for r in rows)]))


def eeg_like(rng: random.Random) -> list[tuple[str, bytes]]:
    """A plausible EEG table (10-20 names, optional time column), from 1 to 600 samples."""
    names, rows = _eeg_table(rng)
    return [(_name(rng), _eeg_text(names, rows, rng.choice((",", ";", "\t"))))]


def eeg_gaps(rng: random.Random) -> list[tuple[str, bytes]]:
    """EEG tables with missing, non-numeric or infinite samples."""
    bad = ("", "NaN", "inf", "x", "-", "1e999", "#VALUE!")

    def cell(r: random.Random) -> str:
        return r.choice(bad) if r.random() < 0.05 else f"{r.gauss(0, 20):.3f}"

    names, rows = _eeg_table(rng, cell)
    return [(_name(rng), _eeg_text(names, rows))]


def eeg_amplitudes(rng: random.Random) -> list[tuple[str, bytes]]:
    """EEG tables with constant, tiny, huge or overflowing amplitudes."""
    scale = rng.choice((0.0, 1e-30, 1e-12, 1e6, 1e15, 1e300))
    names, rows = _eeg_table(rng, lambda r: repr(r.gauss(0, 1) * scale))
    return [(_name(rng), _eeg_text(names, rows))]


def eeg_names(rng: random.Random) -> list[tuple[str, bytes]]:
    """EEG tables whose channel names are duplicated, empty, long, numeric or odd unicode."""
    pool = ("Cz", "Cz", "cz", "", "1", "0", "Channel with a very long name indeed", "C3 ", "名", "a\tb", "time", "T")
    n_ch = rng.randint(1, 6)
    names = [rng.choice(pool) for _ in range(n_ch)]
    rows = [[f"{rng.gauss(0, 20):.3f}" for _ in names] for _ in range(rng.choice((2, 40, 300)))]
    return [(_name(rng), _eeg_text(names, rows))]
