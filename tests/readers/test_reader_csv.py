"""CSV/TSV reader: encodings, BOM, delimiters, title rows, quoting, and every error it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from spinemet_etl.errors import SourceError
from spinemet_etl.readers.base import PROVENANCE_COLUMNS
from spinemet_etl.readers.options import CsvOptions
from spinemet_etl.readers.registry import reader_for


def read(path: Path, kind: str = "csv", **options: object) -> list:
    return reader_for(kind, "muenchen").read(path, path.name, options)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_european_cp1252_semicolon_with_title_row(tmp_path: Path) -> None:
    text = "Export SPINEMET 25.11.2026;;\nPat-Nr;Geschlecht;Größe\n17;männlich;1,75\n18;weiblich;\n"
    path = write(tmp_path, "export.csv", text.encode("cp1252"))
    [table] = read(path, encoding="cp1252", delimiter=";", header_row=2)
    frame = table.frame
    assert table.name == "export"
    assert list(frame.columns) == ["Pat-Nr", "Geschlecht", "Größe", *PROVENANCE_COLUMNS]
    assert frame["Geschlecht"].tolist() == ["männlich", "weiblich"]
    assert frame["Größe"].tolist() == ["1,75", None]  # decimal comma stays text
    assert frame["_source_row"].tolist() == [1, 2]
    assert frame["_source_file"].tolist() == ["export.csv", "export.csv"]
    assert frame["_sheet"].tolist() == [None, None]


def test_utf8_bom_is_removed_and_wins_over_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "\ufeffid,Straße\n1,ä\n".encode())
    [table] = read(path, encoding="cp1252")
    assert list(table.frame.columns[:2]) == ["id", "Straße"]
    assert table.frame["Straße"].tolist() == ["ä"]


def test_latin1_and_utf16_with_bom(tmp_path: Path) -> None:
    latin = write(tmp_path, "l.csv", "id;Prénom\n1;Hélène\n".encode("latin-1"))
    assert read(latin, encoding="latin-1", delimiter=";")[0].frame["Prénom"].tolist() == ["Hélène"]
    utf16 = write(tmp_path, "u.csv", "id,x\n1,ü\n".encode("utf-16"))
    assert read(utf16)[0].frame["x"].tolist() == ["ü"]


def test_quoting_values_as_text_and_blanks_as_none(tmp_path: Path) -> None:
    data = b'id,note,age,empty\n1,"a, b",057,\n2,"two\nlines",  ,""\n3,"say ""hi""",4.5,x\n'
    [table] = read(write(tmp_path, "q.csv", data))
    frame = table.frame
    assert frame["note"].tolist() == ["a, b", "two\nlines", 'say "hi"']
    assert frame["age"].tolist() == ["057", None, "4.5"]
    assert frame["empty"].tolist() == [None, None, "x"]
    assert frame["_source_row"].tolist() == [1, 2, 3]


def test_tsv_defaults_to_tab(tmp_path: Path) -> None:
    [table] = read(write(tmp_path, "t.tsv", b"id\tsex\n1\tmale\n"), kind="tsv")
    assert table.frame["sex"].tolist() == ["male"]


def test_header_only_is_an_empty_table(tmp_path: Path) -> None:
    [table] = read(write(tmp_path, "h.csv", b"id,sex\n"))
    assert table.frame.empty
    assert list(table.frame.columns) == ["id", "sex", *PROVENANCE_COLUMNS]


def test_skip_rows_below_header_count_in_source_row(tmp_path: Path) -> None:
    data = b"id,weight\n,kg\n1,70\n2,80\n"
    [table] = read(write(tmp_path, "u.csv", data), skip_rows=1)
    assert table.frame["weight"].tolist() == ["70", "80"]
    assert table.frame["_source_row"].tolist() == [2, 3]


def test_duplicate_blank_headers_and_trailing_delimiters(tmp_path: Path) -> None:
    data = b"Datum;Datum;;x;\n01.02.2020;03.04.2020;v;1;\n;;;;\n\n"
    [table] = read(write(tmp_path, "d.csv", data), delimiter=";")
    assert list(table.frame.columns[:4]) == ["Datum", "Datum.1", "column_3", "x"]
    assert len(table.frame) == 1  # trailing blank rows dropped, empty unnamed column dropped
    assert "column_5" not in table.frame.columns


def test_short_rows_are_padded(tmp_path: Path) -> None:
    [table] = read(write(tmp_path, "s.csv", b"a,b,c\n1,2\n"))
    assert table.frame.loc[0, ["a", "b", "c"]].tolist() == ["1", "2", None]


def error(path: Path, kind: str = "csv", **options: object) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read(path, kind, **options)
    return caught.value


def test_missing_file(tmp_path: Path) -> None:
    problem = error(tmp_path / "gone.csv")
    assert problem.code == "file-missing"
    assert "center `muenchen`, file `gone.csv`" in problem.message


@pytest.mark.parametrize(
    "data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"], ids=["0-bytes", "blank", "bom"]
)
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    problem = error(write(tmp_path, "e.csv", data))
    assert problem.code == "file-empty"
    assert "file `e.csv`" in problem.message


def test_wrong_encoding_names_line_and_offset_not_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", "id;name\n1;Jürgen Müller\n".encode("cp1252"))
    problem = error(path, delimiter=";")
    assert problem.code == "encoding-error"
    assert "file `w.csv`, line 2" in problem.message
    assert "offset 11" in problem.message  # "id;name\n" is 8 bytes, "1;J" 3 more
    assert "`encoding`" in problem.message
    assert "J" + "rgen" not in problem.message


def test_cp1252_undefined_byte_is_an_encoding_error(tmp_path: Path) -> None:
    problem = error(write(tmp_path, "c.csv", b"id\n\x81\n"), encoding="cp1252")
    assert problem.code == "encoding-error"
    assert "line 2" in problem.message


def test_nul_bytes(tmp_path: Path) -> None:
    problem = error(write(tmp_path, "n.csv", b"id,x\n1,a\x00b\n"))
    assert problem.code == "binary-content"
    assert "file `n.csv`, line 2" in problem.message


def test_file_too_large(tmp_path: Path) -> None:
    problem = error(write(tmp_path, "big.csv", b"id\n" + b"1\n" * 100), max_bytes=50)
    assert problem.code == "file-too-large"
    assert "limit of 50" in problem.message


def test_too_many_rows(tmp_path: Path) -> None:
    problem = error(write(tmp_path, "r.csv", b"id\n1\n2\n3\n"), max_rows=2)
    assert problem.code == "too-many-rows"


def test_unclosed_quote(tmp_path: Path) -> None:
    problem = error(write(tmp_path, "q.csv", b'id,x\n1,"open\n2,b\n'))
    assert problem.code == "malformed-csv"
    assert "file `q.csv`, line 3" in problem.message


def test_record_wider_than_header(tmp_path: Path) -> None:
    problem = error(write(tmp_path, "g.csv", b"id,weight\n1,70\n2,70,5\n"))
    assert problem.code == "ragged-row"
    assert "file `g.csv`, line 3" in problem.message


def test_cut_off_last_record(tmp_path: Path) -> None:
    problem = error(write(tmp_path, "t.csv", b"id,sex,age\n1,male,60\n2,fem"))
    assert problem.code == "file-truncated"
    assert "line 3" in problem.message


def test_header_row_beyond_the_file(tmp_path: Path) -> None:
    problem = error(write(tmp_path, "x.csv", b"id\n1\n"), header_row=5)
    assert problem.code == "header-not-found"
    assert "row 5" in problem.message


def test_options_reject_unknown_keys_and_encodings() -> None:
    with pytest.raises(ValueError, match="extra"):
        CsvOptions.model_validate({"delimeter": ";"})
    with pytest.raises(ValueError, match="unknown encoding"):
        CsvOptions.model_validate({"encoding": "klingon"})


@pytest.mark.parametrize(
    ("data", "line"),
    [(b"ab\r\nabcdef\n", 2), (b"abc\rabcde\rabcdef", 3), (b"abcde\n" * 3, None), (b"abcdefg", 1)],
    ids=["crlf", "cr-only-last-line", "at-the-limit", "no-line-break"],
)
def test_line_longer_than_the_limit(tmp_path: Path, data: bytes, line: int | None) -> None:
    from spinemet_etl.errors import Place
    from spinemet_etl.readers.csv import check_line_lengths

    path = write(tmp_path, "l.csv", data)
    if line is None:
        check_line_lengths(path, Place("muenchen", "l.csv"), limit=5)
        return
    with pytest.raises(SourceError) as caught:
        check_line_lengths(path, Place("muenchen", "l.csv"), limit=5)
    assert caught.value.code == "line-too-long"
    assert f"line {line}" in caught.value.message


def test_utf8_text_declared_cp1252_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "u.csv", "id;name\n1;Weiss\n2;Müller\n".encode())
    problem = error(path, encoding="cp1252", delimiter=";")
    assert problem.code == "encoding-error"
    assert "line 3" in problem.message and "is UTF-8 text" in problem.message
