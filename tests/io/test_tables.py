"""Tests of covwb.io.tables: sniffing, conversion, reports, errors, and robustness to any bytes."""

from __future__ import annotations

import csv
import re
import string
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from covwb.datasets.types import TableDataset
from covwb.errors import ParameterError, TableFormatError
from covwb.io.tables import HEADER_CHOICES, numeric_columns, parse_table, read_table
from covwb.io.uploads import UploadedBytes

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _upload(content: str | bytes, name: str = "table.csv") -> UploadedBytes:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return UploadedBytes(name, data)


def _read(content: str | bytes, name: str = "table.csv", **options: int | str) -> TableDataset:
    return read_table(_upload(content, name), **options)


def _assert_valid(table: TableDataset, name: str = "table.csv") -> None:
    """The invariants every successful read keeps."""
    frame = table.frame
    assert isinstance(table, TableDataset)
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
    assert frame.shape[0] >= 1 and frame.shape[1] >= 1
    assert frame.columns.is_unique
    for column in frame.columns:
        assert isinstance(column, str) and column
        series = frame[column]
        if series.dtype == np.float64:
            assert not np.isinf(series.to_numpy()).any()
        else:
            assert pd.api.types.is_string_dtype(series), series.dtype
    n, m = frame.shape
    assert table.report[0].startswith(f"Read {n} row{'s' * (n != 1)} x {m} column{'s' * (m != 1)}, delimiter ")
    assert table.source == f"upload: {name}"
    assert all(isinstance(s, str) and s for s in table.report)


def _read_or_refuse(data: bytes) -> None:
    """Reading may refuse with TableFormatError only; a result must be valid."""
    try:
        table = read_table(_upload(data))
    except TableFormatError as error:
        assert str(error)
        return
    _assert_valid(table)


# ---------------------------------------------------------------------------- reference file


@pytest.mark.shared_data
def test_cups_reads_like_pandas(shared_data):
    path = shared_data / "coda" / "cups.csv"
    table = read_table(UploadedBytes("cups.csv", path.read_bytes()))
    expected = pd.read_csv(path).astype(np.float64)
    assert table.report == ("Read 47 rows x 12 columns, delimiter ',', decimal '.', header on line 1.",)
    pd.testing.assert_frame_equal(table.frame, expected, check_exact=True)
    assert numeric_columns(table.frame) == list(expected.columns)


# ---------------------------------------------------------------------------- sniffing


def test_semicolon_with_decimal_comma():
    table = _read("Fe;Mg;site\n1,5;0,25;A\n3,25;1,5;B\n-2,0e-3;7;C\n")
    assert table.report[0] == "Read 3 rows x 3 columns, delimiter ';', decimal ',', header on line 1."
    assert table.frame["Fe"].tolist() == [1.5, 3.25, -0.002]
    assert table.frame["Mg"].tolist() == [0.25, 1.5, 7.0]
    assert table.frame["site"].tolist() == ["A", "B", "C"]


def test_semicolon_with_decimal_comma_without_header():
    table = _read("1,5;2,5\n3,5;4,5\n")
    assert table.report[0].startswith("Read 2 rows x 2 columns, delimiter ';', decimal ','")
    assert "no header row" in table.report[0]
    assert table.frame.to_numpy().tolist() == [[1.5, 2.5], [3.5, 4.5]]


@pytest.mark.parametrize(
    ("content", "label"),
    [
        ("x\ty\n1.5\t2\n3\t4\n", "tab"),
        ("x|y\n1.5|2\n3|4\n", "'|'"),
        ("x,y\n1.5,2\n3,4\n", "','"),
        ("x;y\n1.5;2\n3;4\n", "';'"),
        ("x   y\n  1.5  2\n3\t 4\n", "whitespace"),
    ],
)
def test_delimiters(content, label):
    table = _read(content, "table.txt")
    assert table.report[0] == f"Read 2 rows x 2 columns, delimiter {label}, decimal '.', header on line 1."
    assert table.frame.columns.tolist() == ["x", "y"]
    assert table.frame.to_numpy().tolist() == [[1.5, 2.0], [3.0, 4.0]]


def test_one_column_without_delimiter():
    table = _read("value\n1.5\n2\n")
    assert table.report[0] == "Read 2 rows x 1 column, delimiter none (one column), decimal '.', header on line 1."
    assert table.frame["value"].tolist() == [1.5, 2.0]


def test_quoted_fields_keep_delimiters_and_newlines():
    table = _read('name,x\n"Smith, J",1\n"two\nlines",2\n"say ""hi""",3\n')
    assert table.frame["name"].tolist() == ["Smith, J", "two\nlines", 'say "hi"']
    assert table.frame["x"].tolist() == [1.0, 2.0, 3.0]


def test_r_write_table_row_names():
    table = _read('"a" "b"\n"r1" 1.5 2\n"r2" 3 4\n', "r.txt")
    assert table.frame.columns.tolist() == ["row_names", "a", "b"]
    assert table.frame["row_names"].tolist() == ["r1", "r2"]
    assert table.frame["b"].tolist() == [2.0, 4.0]
    assert any("row names" in s for s in table.report)


@pytest.mark.parametrize(
    ("content", "header", "columns"),
    [
        ("a,b\n1,2\n3,4\n", True, ["a", "b"]),
        ("1,2\n3,4\n", False, ["column_1", "column_2"]),
        ("a,2\n1,2\n3,4\n", False, ["column_1", "column_2"]),
        ("name,kind\nx,y\nz,w\n", True, ["name", "kind"]),
        ("x,x\ny,z\n", False, ["column_1", "column_2"]),
        (",b\n1,2\n", True, ["column_1", "b"]),
    ],
)
def test_header_detection(content, header, columns):
    table = _read(content)
    assert ("header on line 1" in table.report[0]) is header
    assert table.frame.columns.tolist() == columns


def _otu_counts(n_samples: int = 289, n_taxa: int = 127, seed: int = 0) -> pd.DataFrame:
    """A microbiome-like count table: overdispersed counts, about 85 % zeros, taxa numbered 0..n_taxa-1."""
    rng = np.random.default_rng(seed)
    counts = rng.negative_binomial(0.3, 0.05, size=(n_samples, n_taxa)) * (rng.random((n_samples, n_taxa)) < 0.25)
    return pd.DataFrame(counts.astype(np.float64))


def test_otu_table_with_a_numbered_header_keeps_every_sample():
    counts = _otu_counts()
    assert (counts.to_numpy() == 0).mean() > 0.8
    table = _read(counts.to_csv(index=False))
    assert table.frame.shape == (289, 127)
    assert table.frame.columns.tolist() == [str(j) for j in range(127)]
    pd.testing.assert_frame_equal(table.frame, counts.set_axis([str(j) for j in range(127)], axis=1))
    assert table.report[1] == (
        "Line 1 of 'table.csv' (0, 1, 2, ..., 126) was read as the header: its numbers run from 0 to 126 "
        "and the rows below are mostly zeros."
    )
    assert table.warnings == ()


@pytest.mark.parametrize("index_name", ["sample", None])
def test_otu_table_with_a_sample_id_column(index_name):
    counts = _otu_counts()
    ids = pd.Index([f"S{i:03d}" for i in range(289)], name=index_name)
    table = _read(counts.set_axis(ids).to_csv())
    first = index_name or "column_1"
    assert table.frame.shape == (289, 128)
    assert table.frame.columns.tolist() == [first, *(str(j) for j in range(127))]
    assert table.frame[first].tolist() == ids.tolist()
    np.testing.assert_array_equal(table.frame.iloc[:, 1:].to_numpy(), counts.to_numpy())
    assert "header on line 1" in table.report[0] and table.warnings == ()


def test_header_choice_overrides_the_detection():
    counts = _otu_counts(20, 12)
    text = counts.to_csv(index=False)
    as_data = _read(text, header="none")
    assert as_data.frame.shape == (21, 12)
    assert as_data.frame.iloc[0].tolist() == list(range(12))
    assert "no header row" in as_data.report[0]
    assert "Header row as chosen: no header row." in as_data.report
    named = _read(counts.to_csv(index=False, header=False), header="first_row")
    assert named.frame.shape == (19, 12) and "header on line 1" in named.report[0]
    assert "Header row as chosen: first row is the header." in named.report
    assert _read("1,2\n3,4\n", header="first_row").frame.columns.tolist() == ["1", "2"]
    assert _read("a,b\n1,2\n", header="none").frame.shape == (2, 2)


def test_header_choices_refuse_what_they_cannot_read():
    with pytest.raises(ParameterError, match="Unknown header choice 'yes'"):
        _read("a,b\n1,2\n", header="yes")
    with pytest.raises(TableFormatError, match="has a header row \\(line 1\\) but no data rows"):
        _read("1,2\n", header="first_row")
    with pytest.raises(TableFormatError, match="Line 2 of 'r.txt' has 3 fields but line 1 has 2"):
        _read('"a" "b"\n"r1" 1.5 2\n"r2" 3 4\n', "r.txt", header="none")
    assert set(HEADER_CHOICES) == {"auto", "first_row", "none"}


@pytest.mark.parametrize(
    ("content", "header", "doubt", "switch"),
    [
        ("a,2\n1,2\n3,4\n", False, "also text above numeric columns ('a')", "First row is the header"),
        ("0\n0.5\n1.25\n", True, "because the rows below hold non-integers", "No header row"),
        ("1,2,3\n4,6,5\n9,8,7\n", False, "100% of the rows below are also distinct whole numbers", "First row is"),
        ("400.5,401.5,402.5\n0.3,0.1,0.2\n0.5,0.2,0.7\n", False, "increases steadily", "First row is the header"),
        ("5,9,2,7\n3,3,1,1\n2,0,2,4\n", False, "may be a numbered header", "First row is the header"),
        ("10,11,12\n5,7,7\n8,8,1\n", True, "because its numbers run from 10 to 12", "No header row"),
    ],
)
def test_doubtful_headers_warn_and_name_the_switch(content, header, doubt, switch):
    table = _read(content)
    assert ("header on line 1" in table.report[0]) is header
    assert len(table.warnings) == 1
    assert doubt in table.warnings[0] and f"choose the header option '{switch}" in table.warnings[0]


@pytest.mark.parametrize(
    "content",
    ["a,b\n1,2\n", "1,2\n3,4\n", "1,1,0\n0,0,0\n", "name,kind\nx,y\n", "0.5,0.25\n1.5,2.5\n"],
)
def test_clear_headers_do_not_warn(content):
    assert _read(content).warnings == ()


_NUMBERED = st.integers(2, 8).flatmap(lambda width: st.tuples(st.just(width), st.integers(0, 1)))


@PROPERTY
@given(shape=_NUMBERED, n_rows=st.integers(2, 12), data=st.data())
def test_pandas_numbered_header_over_floats_round_trips(shape, n_rows, data):
    width, start = shape
    values = data.draw(
        arrays(np.float64, (n_rows, width), elements=st.floats(-1e6, 1e6, allow_nan=False).filter(lambda v: v % 1))
    )
    names = [str(j) for j in range(start, start + width)]
    written = pd.DataFrame(values, columns=names)
    table = _read(written.to_csv(index=False))
    pd.testing.assert_frame_equal(table.frame, written, check_exact=True)
    assert "header on line 1" in table.report[0]


def test_header_line_after_blank_lines():
    table = _read("\n\n  \na,b\n1,2\n")
    assert "header on line 4" in table.report[0]
    assert "Dropped 3 empty rows." in table.report


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_line_endings(ending):
    table = _read(ending.join(["a,b", "1,2", "3,4", ""]))
    assert table.frame.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_thousands_separators_are_not_guessed():
    table = _read("a;b\n1.234,5;1\n2,5;2\n3,5;3\n")
    assert table.frame["a"].isna().tolist() == [True, False, False]
    assert "column 'a': 1 cell was not a number (line 2) and became missing." in table.report


# ---------------------------------------------------------------------------- numbers


def test_numbers_read_equal_numbers_written():
    values = [0.1, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, 123456789.123456789, -2.5e-7, 3.0]
    table = _read("x\n" + "\n".join(repr(v) for v in values) + "\n")
    read = table.frame["x"].to_numpy()
    assert read.tolist() == values
    assert np.signbit(read[1])


_DIALECTS = [(",", "."), (";", "."), (";", ","), ("\t", "."), ("\t", ","), ("|", "."), ("|", ",")]


@pytest.mark.parametrize(("sep", "decimal"), _DIALECTS)
@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_NONNUMERIC, csv.QUOTE_ALL])
@pytest.mark.parametrize("lineterminator", ["\n", "\r\n"])
def test_pandas_dialects_round_trip(sep, decimal, quoting, lineterminator):
    rng = np.random.default_rng(7)
    written = pd.DataFrame(rng.normal(size=(30, 4)) * 10.0 ** rng.integers(-5, 5, size=(30, 4)), columns=list("wxyz"))
    written.iloc[3, 1] = np.nan
    text = written.to_csv(index=False, sep=sep, decimal=decimal, quoting=quoting, lineterminator=lineterminator)
    table = _read(text)
    assert f"decimal '{decimal}'" in table.report[0]
    pd.testing.assert_frame_equal(table.frame, written, check_exact=True)


def test_pandas_index_column_becomes_named_column():
    written = pd.DataFrame({"a": [1.5, 2.5], "b": [3.0, 4.0]})
    table = _read(written.to_csv())
    assert table.frame.columns.tolist() == ["column_1", "a", "b"]
    assert table.frame["column_1"].tolist() == [0.0, 1.0]
    assert "Header names were filled in or made unique: column 1 '' became 'column_1'." in table.report


_NAMES = st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=6), min_size=1, max_size=5, unique=True)


@PROPERTY
@given(
    names=_NAMES,
    n_rows=st.integers(1, 12),
    dialect=st.sampled_from(_DIALECTS),
    data=st.data(),
)
def test_random_float_frames_round_trip(names, n_rows, dialect, data):
    sep, decimal = dialect
    values = data.draw(
        arrays(np.float64, (n_rows, len(names)), elements=st.floats(allow_nan=False, allow_infinity=False))
    )
    written = pd.DataFrame(values, columns=names)
    table = _read(written.to_csv(index=False, sep=sep, decimal=decimal))
    _assert_valid(table)
    pd.testing.assert_frame_equal(table.frame, written, check_exact=True)


# ---------------------------------------------------------------------------- conversions and reports


def test_a_few_non_numbers_become_missing_and_are_reported():
    rows = ["x,y"] + [f"{i},{i * 2}" for i in range(1, 14)]
    for line in (4, 9, 12):
        rows[line - 1] = f"oops{line},{line}"
    table = _read("\n".join(rows) + "\n")
    assert table.frame["x"].dtype == np.float64
    assert np.flatnonzero(table.frame["x"].isna()).tolist() == [2, 7, 10]
    assert "column 'x': 3 cells were not numbers (lines 4, 9, 12) and became missing." in table.report


def test_long_lists_of_lines_are_shortened():
    rows = ["x"] + [str(i) for i in range(30)] + ["bad"] * 7
    table = _read("\n".join(rows))
    assert (
        "column 'x': 7 cells were not numbers (lines 32, 33, 34, 35, 36 and 2 more) and became missing." in table.report
    )


def test_reports_on_many_columns_are_capped():
    header = ",".join(f"c{j}" for j in range(13))
    rows = [header] + [",".join(["1"] * 13)] * 5 + [",".join(["x"] * 13), ",".join(["inf"] * 13)]
    table = _read("\n".join(rows) + "\n")
    assert table.report[1:3] == (
        "column 'c0': 1 cell was not a number (line 7) and became missing.",
        "column 'c0': 1 infinite value (line 8) became missing.",
    )
    assert len(table.report) == 1 + 2 * 10 + 1
    assert table.report[-1] == "Cells of 3 more columns also became missing."


def test_mostly_text_columns_are_kept_as_text():
    table = _read("type,x\nWinF,1\nVeh,2\n3,3\nNA,4\n")
    assert pd.api.types.is_string_dtype(table.frame["type"])
    assert table.frame["type"].iloc[:3].tolist() == ["WinF", "Veh", "3"]
    assert pd.isna(table.frame["type"].iloc[3])
    assert "Kept 1 mostly-text column as text: 'type'." in table.report
    assert numeric_columns(table.frame) == ["x"]


@pytest.mark.parametrize("token", ["", "NA", "n/a", "NaN", "nan", "null", "NULL", "None", "#N/A", "?", "  "])
def test_missing_tokens_are_missing_without_complaint(token):
    table = _read(f"x,y\n1,2\n{token},3\n4,5\n")
    assert table.frame["x"].isna().tolist() == [False, True, False]
    assert len(table.report) == 1


def test_infinities_become_missing_and_are_reported():
    table = _read("x,y\n1,inf\n2,-Infinity\n3,1e999\n4,5\n")
    assert table.frame["y"].isna().tolist() == [True, True, True, False]
    assert "column 'y': 3 infinite values (lines 2, 3, 4) became missing." in table.report


def test_column_without_finite_numbers_is_dropped():
    table = _read("x,y\n1,inf\n2,-inf\n")
    assert table.frame.columns.tolist() == ["x"]
    assert "Dropped 1 column with no finite number: 'y'." in table.report


def test_empty_rows_and_columns_are_dropped():
    table = _read("a,,b,c\n1,,2,\n,,,\n\n3,,4,NA\n")
    assert table.frame.columns.tolist() == ["a", "b"]
    assert table.frame.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert "Dropped 2 empty rows." in table.report
    assert "Dropped 2 empty columns: 'column_2', 'c'." in table.report


def test_duplicate_and_empty_header_names_are_made_unique():
    table = _read("x,x,,x_2, y \n1,2,3,4,5\n")
    assert table.frame.columns.tolist() == ["x", "x_2", "column_3", "x_2_2", "y"]
    assert (
        "Header names were filled in or made unique: column 2 'x' became 'x_2', "
        "column 3 '' became 'column_3', column 4 'x_2' became 'x_2_2'." in table.report
    )


def test_parse_table_gives_the_line_of_each_row():
    parsed = parse_table(_upload('a,b\n1,2\n\n"multi\nline",3\n4,5\n'))
    assert parsed.lines.tolist() == [2, 4, 6]
    assert parsed.dataset.frame["b"].tolist() == [2.0, 3.0, 5.0]


def test_name_is_reduced_to_a_basename():
    table = _read("a\n1\n", "../../etc/x.csv")
    assert table.name == "x.csv"
    assert table.source == "upload: x.csv"


# ---------------------------------------------------------------------------- encodings


def test_utf8_bom_is_skipped_and_reported():
    table = _read(b"\xef\xbb\xbfa;b\n1;2\n")
    assert table.frame.columns.tolist() == ["a", "b"]
    assert "Skipped the UTF-8 byte-order mark at the start of the file." in table.report


def test_cp1252_fallback_is_reported():
    table = _read("Température;Ø\n1;2\n€;3\n".encode("cp1252"))
    assert table.frame.columns.tolist() == ["Température", "Ø"]
    assert any("read as Windows-1252 (cp1252)" in s for s in table.report)


def test_latin1_fallback_when_cp1252_cannot_decode():
    table = _read(b"caf\xe9,x\n" + b"1,2\n" * 60 + b"\x81,5\n")
    assert any("read as Latin-1" in s for s in table.report)
    assert table.frame.columns.tolist() == ["café", "x"]


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\t\n", "is empty"),
        (b",,\n , ,\n", "has no values"),
        (b"a,b,c\n", "has a header row (line 1) but no data rows"),
        (b"a,b\n\n\n", "has a header row (line 1) but no data rows"),
        (b"NA,NA\nNA,NA\n", "has no column with any value"),
    ],
)
def test_empty_tables_are_refused(content, message):
    with pytest.raises(TableFormatError, match=re.escape(message)):
        _read(content)


def test_ragged_row_names_the_line_and_field_counts():
    with pytest.raises(TableFormatError) as caught:
        _read("a,b,c\n1,2,3\n4,5,6\n7,8\n")
    assert str(caught.value) == (
        "Line 4 of 'table.csv' has 2 fields but line 1 has 3; check the delimiter (',') and the quotes on line 4."
    )


def test_unclosed_quote_names_the_line():
    with pytest.raises(TableFormatError, match=r"Line 3 of 'table.csv' opens a quoted field that is never closed"):
        _read('a,b\n1,2\n3,"4\n5,6\n')


def test_stray_quote_is_refused():
    with pytest.raises(TableFormatError, match=r"Line 2 .*closing quote is followed by other characters"):
        _read('a,b\n1,"2"x\n')


@pytest.mark.parametrize(
    "data", [b"a,b\n1,\x002\n", b"\xff\xfea\x00,\x00b\x00", bytes(range(256)) * 4, b"\x01\x02\x03\x04abc\n"]
)
def test_binary_content_is_refused(data):
    with pytest.raises(TableFormatError, match="does not look like a text table"):
        _read(data)


def test_utf16_gets_a_hint():
    with pytest.raises(TableFormatError, match="UTF-16"):
        _read("a,b\n1,2\n".encode("utf-16"))


def test_row_limit():
    content = "x\n" + "\n".join(str(i) for i in range(5)) + "\n"
    assert _read(content, max_rows=5).frame.shape == (5, 1)
    with pytest.raises(TableFormatError, match=r"has more than 4 data rows \(the limit\)"):
        _read(content, max_rows=4)
    with pytest.raises(TableFormatError, match=r"has 5 data rows, more than the limit of 4"):
        _read(content.removeprefix("x\n"), max_rows=4)


def test_column_limit():
    assert _read("a,b,c\n1,2,3\n", max_columns=3).frame.shape == (1, 3)
    with pytest.raises(TableFormatError, match="has 3 columns, more than the limit of 2"):
        _read("a,b,c\n1,2,3\n", max_columns=2)


def test_limits_below_one_are_parameter_errors():
    with pytest.raises(ParameterError):
        _read("a\n1\n", max_rows=0)


def test_numeric_columns_skips_text_and_booleans():
    frame = pd.DataFrame({"a": [1.0], "b": ["x"], "c": [True], "d": [2]})
    assert numeric_columns(frame) == ["a", "d"]


# ---------------------------------------------------------------------------- properties


@PROPERTY
@given(st.binary(max_size=400))
def test_random_bytes_are_read_or_refused(data):
    _read_or_refuse(data)


@PROPERTY
@given(st.text(max_size=400))
def test_random_text_is_read_or_refused(text):
    _read_or_refuse(text.encode("utf-8"))


_FRAGMENTS = st.sampled_from(
    ["a", "b", "1", "2.5", "1,5", "-3e4", "NaN", "inf", "-Infinity", "1e999", "9" * 400, "NA", "", " ", '"', '""']
    + ["x y", "\ufeff", "é", ",", ";", "\t", "|", "\n", "\r\n", "\r", "1_000", "0x1F", "\x1a"]
)


@PROPERTY
@given(st.lists(_FRAGMENTS, max_size=80), st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]))
def test_malformed_csv_is_read_or_refused(fragments, encoding):
    _read_or_refuse("".join(fragments).encode(encoding, errors="replace"))


@PROPERTY
@given(
    n_rows=st.integers(2, 8),
    n_columns=st.integers(2, 5),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    data=st.data(),
)
def test_one_short_row_is_refused_at_its_line(n_rows, n_columns, sep, data):
    rows = [sep.join(f"c{j}" for j in range(n_columns))]
    rows += [sep.join(str(i * n_columns + j) for j in range(n_columns)) for i in range(n_rows)]
    short = data.draw(st.integers(2, n_rows + 1), label="short line")
    rows[short - 1] = sep.join(rows[short - 1].split(sep)[:-1])
    with pytest.raises(TableFormatError, match=rf"^Line {short} of 'table.csv' has {n_columns - 1} fields"):
        _read("\n".join(rows) + "\n")


# --- found by the upload fuzzer (tests/fuzz) -----------------------------------------------------------------


def test_a_long_run_of_digits_is_sniffed_in_linear_time():
    # The number patterns were '[0-9]+\.?[0-9]*': a run of n digits followed by another character took
    # O(n^2) steps to fail (about 2 minutes for a 54 kB cell). Now a 100 kB cell takes milliseconds.
    content = "a,b\n" + "9" * 100_000 + "x,1\n1,2\n3,4\n"
    start = time.perf_counter()
    dataset = read_table(UploadedBytes("digits.csv", content.encode()))
    assert time.perf_counter() - start < 5.0
    assert list(dataset.frame.columns) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "dot", "comma"),
    [("1", True, True), ("1.", True, False), (".5", True, False), ("-.5e-3", True, False), ("1,5", False, True),
     (",5", False, True), ("5,", False, True), ("+1e3", True, True), ("1..2", False, False), ("e5", False, False),
     ("1.5,", False, False), ("", False, False)],
)  # fmt: skip
def test_number_patterns_accept_what_they_accepted_before(text, dot, comma):
    from covwb.io.tables import _COMMA_NUMBER, _DOT_NUMBER

    assert bool(_DOT_NUMBER.fullmatch(text)) is dot
    assert bool(_COMMA_NUMBER.fullmatch(text)) is comma
