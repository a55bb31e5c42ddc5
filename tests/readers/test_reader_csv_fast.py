"""The CSV readers' pyarrow fast path: taken for ordinary exports, equal to the csv module's."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinemet_etl.errors import Place, SourceError
from spinemet_etl.readers import arrow_csv
from spinemet_etl.readers.arrow_csv import (
    ArrowRawTable,
    Layout,
    arrow_table,
    blank_to_null,
    column_names,
)
from spinemet_etl.readers.base import PROVENANCE_COLUMNS, ColumnPick, RawTable
from spinemet_etl.readers.common import is_blank
from spinemet_etl.readers.csv import CsvReader, read_reference
from spinemet_etl.readers.options import CsvOptions

PLACE = Place("boston", "export.csv")


def both(data: bytes, **options: object) -> tuple[RawTable | None, RawTable | str]:
    """The fast path's table (None when it declines) and the reference's table or error code."""
    opts = CsvOptions.model_validate(options)
    layout = Layout(opts.delimiter, opts.quotechar, opts.header_row, opts.skip_rows)
    try:
        reference: RawTable | str = read_reference(data, opts, "export", PLACE)
    except SourceError as error:
        reference = error.code
    try:
        fast = arrow_table(data, opts.encoding, layout, opts, name="export", place=PLACE)
    except SourceError as error:
        assert error.code == reference == "too-many-rows"
        fast = None
    return fast, reference


ORDINARY = [
    (b'mrn,address,age\nZ1,"1 Main St, Boston",60\nZ2,,  \n', {}),
    (b'id,note\r\n1,"two\r\nlines"\r\n2,x\r\n', {}),
    (
        "Export 25.11.2026;;\nNr;Größe;x\n1;1,75;\n2;;a\n".encode("cp1252"),
        {"encoding": "cp1252", "delimiter": ";", "header_row": 2},
    ),
    ("\ufeffid,Straße\n1,ä\n".encode(), {"encoding": "cp1252"}),
    (b"id,weight\n,kg\n1,70\n2,80\n\n\n", {"skip_rows": 1}),
    (b"id\tsex\t\n1\tm\t\n2\t\t\n;\t \t\n", {"delimiter": "\t"}),
    (b"Datum;Datum;;x\n01.02.2020;03.04.2020;v;1\n", {"delimiter": ";"}),
    (b'id,x\n1,""\n2,"\xc2\xa0"\n3,\xe3\x80\x80\n', {}),
    (b"id,sex", {}),
]


@pytest.mark.parametrize(
    ("data", "options"),
    ORDINARY,
    ids=[
        "quoted",
        "crlf-line-break",
        "cp1252-title",
        "bom",
        "units-row",
        "tsv",
        "dup",
        "ws",
        "hdr",
    ],
)
def test_ordinary_exports_take_the_fast_path_and_match(data: bytes, options: dict) -> None:
    fast, reference = both(data, **options)
    assert fast is not None
    assert isinstance(reference, RawTable)
    pd.testing.assert_frame_equal(fast.frame, reference.frame)
    assert all(isinstance(value, str) for value in fast.frame.iloc[:, 0].dropna())


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'id,x\n1,"a"b\n', "malformed-csv"),
        (b'id\n"open\n2\n', "malformed-csv"),
        (b'id,x\n1,"x,"y\n', "malformed-csv"),
        (b"id,x\n1,2\n\n3,4\n", None),
        (b'id,x\n1,"say ""hi"""\n', None),
        (b"id,x\n1\n", None),
        (b"id,x\n1,2,\n", None),
        (b"id,x\n1,a\xffb\n", "encoding-error"),
    ],
    ids=[
        "after-close",
        "open-at-end",
        "quoted-delimiter",
        "empty-line",
        "doubled",
        "short",
        "trailing-blank-field",
        "bad-utf8",
    ],
)
def test_text_pyarrow_reads_differently_goes_to_the_reference(
    data: bytes, code: str | None
) -> None:
    fast, reference = both(data)
    assert fast is None
    assert reference == code if code else isinstance(reference, RawTable)


def test_too_many_rows_before_building_the_frame() -> None:
    with pytest.raises(SourceError) as caught:
        opts = CsvOptions(max_rows=2)
        arrow_table(b"id\n1\n2\n3\n", "utf-8", Layout(), opts, name="e", place=PLACE)
    assert caught.value.code == "too-many-rows"


def test_arrow_whitespace_is_python_whitespace() -> None:
    characters = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000]
    arrow = pc.utf8_is_space(pa.array(characters)).to_pylist()
    assert [c for c, space in zip(characters, arrow, strict=True) if space != c.isspace()] == []


FIELD = st.text(alphabet=st.sampled_from(list('ab ,;"\n\r\t\xa0é')), max_size=5)


@st.composite
def delimited(draw: st.DrawFn) -> bytes:
    """Rows written by csv.writer (varying widths and quoting), sometimes with raw noise."""
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(FIELD, min_size=1, max_size=width + 1), max_size=6))
    sink = io.StringIO()
    quote_all = draw(st.booleans())
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    csv.writer(
        sink, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator=ending
    ).writerows([["h"] * width, *rows])
    text = sink.getvalue()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(alphabet=st.sampled_from(list(',"\n ')), max_size=3))
    return text.encode("utf-8")


@settings(max_examples=300, deadline=None, database=None)
@given(data=delimited(), skip_rows=st.integers(0, 1))
def test_fast_path_equals_the_reference(data: bytes, skip_rows: int) -> None:
    fast, reference = both(data, skip_rows=skip_rows)
    if fast is not None:
        assert isinstance(reference, RawTable)
        pd.testing.assert_frame_equal(fast.frame, reference.frame)


@pytest.mark.parametrize(
    "chunks",
    [[["a", "", " "], ["\t\n", "b ", "\u3000"], []], [[" x", ""]], [[], []]],
    ids=["many-chunks", "one-chunk", "empty-chunks"],
)
def test_blank_to_null_over_chunks_is_is_blank_on_each_value(chunks: list[list[str]]) -> None:
    column = pa.chunked_array([pa.array(chunk, pa.string()) for chunk in chunks], pa.string())
    values = [value for chunk in chunks for value in chunk]
    expected = [None if not value.strip() else value for value in values]
    assert blank_to_null(column).to_pylist() == expected


_CELL = st.text(
    alphabet=st.sampled_from(
        [" ", "\t", "\n", "\x1c", "\x00", "\x7f", "\u00a0", "\u3000", "a", "é", "0"]
    ),
    max_size=4,
)


@settings(max_examples=200, deadline=None, database=None)
@given(
    values=st.lists(st.one_of(st.none(), _CELL), max_size=30),
    start=st.integers(0, 3),
    chunk_size=st.integers(1, 30),
)
def test_blank_to_null_is_is_blank_on_sliced_chunks_with_nulls(
    values: list[str | None], start: int, chunk_size: int
) -> None:
    """Every value blank or not as is_blank says, in chunks that begin inside their buffers
    (a slice) and hold nulls, as in one array."""
    chunks = [
        pa.array([None, *values[i : i + chunk_size]], pa.string()).slice(min(start, 1))
        for i in range(0, len(values), chunk_size)
    ]
    column = pa.chunked_array(chunks, pa.string())
    expected = [None if value is None or is_blank(value) else value for value in column.to_pylist()]
    assert blank_to_null(column).to_pylist() == expected


def picked(data: bytes, pick: ColumnPick, **options: object) -> RawTable | None:
    opts = CsvOptions.model_validate(options)
    layout = Layout(opts.delimiter, opts.quotechar, opts.header_row, opts.skip_rows)
    return arrow_table(data, opts.encoding, layout, opts, name="export", place=PLACE, pick=pick)


def test_a_pick_keeps_its_columns_and_names_every_source_column() -> None:
    data = b"mrn,name,dob,sex,comorb___1,comorb___2\nZ1,Ann,1950-01-02,f,1,0\nZ2,Bo,,m,0,1\n"
    fast = picked(data, ColumnPick(frozenset({"mrn", "sex"}), ("comorb___",)))
    reference = read_reference(data, CsvOptions(), "export", PLACE)
    assert isinstance(fast, ArrowRawTable)
    kept = ["mrn", "sex", "comorb___1", "comorb___2", *PROVENANCE_COLUMNS]
    assert fast.rows.column_names == kept  # `name` and `dob` never held
    assert column_names(fast) == list(reference.frame.columns)
    pd.testing.assert_frame_equal(fast.frame, reference.frame[kept])


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"id,name,x\n1,Ann,a\n2,Bo,b\n,,\n , ,\n", 2),  # blank everywhere: dropped
        (b"id,name,x\n1,Ann,a\n,Bo,\n,,\n", 2),  # blank only where picked: kept
        (b"id,name,x\n1,Ann,a\n,Bo,\n", 2),
    ],
    ids=["blank-rows", "picked-blank-then-blank", "picked-blank-last"],
)
def test_trailing_blank_rows_are_judged_on_every_column(data: bytes, rows: int) -> None:
    fast = picked(data, ColumnPick(frozenset({"id", "x"})))
    reference = read_reference(data, CsvOptions(), "export", PLACE)
    assert fast is not None
    assert len(fast.frame) == len(reference.frame) == rows
    pd.testing.assert_frame_equal(fast.frame, reference.frame[fast.frame.columns])


@settings(max_examples=200, deadline=None, database=None)
@given(data=delimited(), skip_rows=st.integers(0, 1), keep=st.sets(st.sampled_from(["h", "h.1"])))
def test_picked_columns_equal_the_reference(data: bytes, skip_rows: int, keep: set[str]) -> None:
    fast = picked(data, ColumnPick(frozenset(keep)), skip_rows=skip_rows)
    _whole, reference = both(data, skip_rows=skip_rows)
    if fast is not None:  # the picked columns, or every column when the others decide
        assert isinstance(reference, RawTable)
        assert set(fast.frame.columns) >= (keep | set(PROVENANCE_COLUMNS)) & set(column_names(fast))
        pd.testing.assert_frame_equal(fast.frame, reference.frame[fast.frame.columns])


@pytest.mark.parametrize(
    ("data", "options"), ORDINARY, ids=[f"file-{i}" for i in range(len(ORDINARY))]
)
def test_a_file_parsed_from_disk_equals_the_reference(
    tmp_path: Path, data: bytes, options: dict
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    opts = CsvOptions.model_validate(options)
    (table,) = CsvReader("boston").read(path, "export.csv", opts)
    assert isinstance(table, ArrowRawTable)  # pyarrow parsed the file itself
    pd.testing.assert_frame_equal(table.frame, read_reference(data, opts, "export", PLACE).frame)


def test_a_file_that_changes_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"id,x\n1,a\n2,b\n")
    parse = arrow_csv.planned_rows

    def meanwhile(*args: object, **options: object) -> object:
        with path.open("ab") as sink:
            sink.write(b"3,c\n")  # the center's system writes on
        return parse(*args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(arrow_csv, "planned_rows", meanwhile)
    with pytest.raises(SourceError) as caught:
        CsvReader("boston").read(path, "export.csv", CsvOptions())
    assert caught.value.code == "file-changed"


def test_other_encodings_in_a_column_nobody_maps_still_go_to_the_reference() -> None:
    data = "id,name\n1,Ana\n2,Jürgen\n".encode().replace("ü".encode(), "ü".encode("cp1252"))
    assert picked(data, ColumnPick(frozenset({"id"}))) is None  # the reference names the line
    with pytest.raises(SourceError) as caught:
        read_reference(data, CsvOptions(), "export", PLACE)
    assert caught.value.code == "encoding-error"
