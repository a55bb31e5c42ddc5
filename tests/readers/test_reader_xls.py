"""XLS reader on BIFF8 workbooks written by xlwt, as legacy registries save them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlwt

from spinemet_etl.errors import SourceError
from spinemet_etl.readers.base import PROVENANCE_COLUMNS
from spinemet_etl.readers.registry import reader_for

DATE = xlwt.easyxf(num_format_str="DD/MM/YYYY")


def read(path: Path, **options: object) -> list:
    return reader_for("xls", "lyon").read(path, path.name, options)


def legacy_workbook(path: Path, *, dates_1904: bool = False) -> Path:
    book = xlwt.Workbook()
    book.dates_1904 = dates_1904
    sheet = book.add_sheet("Patients")
    sheet.write_merge(0, 0, 0, 3, "Registre Lyon")
    for col, name in enumerate(["No dossier", "Date chirurgie", "Suivi (jours)", "Sexe"]):
        sheet.write(1, col, name)
    sheet.write(2, 0, 1234)
    sheet.write(2, 1, dt.date(2003, 5, 20), DATE)
    sheet.write(2, 2, 412)
    sheet.write(2, 3, "F")
    sheet.write(3, 0, "A-7")
    sheet.write(3, 1, "20/05/2003")
    sheet.write_merge(3, 4, 2, 2, 90)  # a value merged over two rows
    sheet.write(3, 3, "M")
    sheet.write(4, 3, "M")
    book.add_sheet("Vide")
    book.save(str(path))
    return path


@pytest.mark.parametrize("dates_1904", [False, True], ids=["1900-datemode", "1904-datemode"])
def test_typed_cells_dates_and_merges(tmp_path: Path, dates_1904: bool) -> None:
    path = legacy_workbook(tmp_path / "registre.xls", dates_1904=dates_1904)
    [table] = read(path, sheets=["Patients"], header_row=2)
    frame = table.frame
    expected = ["No dossier", "Date chirurgie", "Suivi (jours)", "Sexe"]
    assert list(frame.columns) == [*expected, *PROVENANCE_COLUMNS]
    assert frame["No dossier"].tolist() == [1234.0, "A-7", None]
    assert frame["Date chirurgie"].tolist() == [dt.datetime(2003, 5, 20), "20/05/2003", None]
    assert frame["Suivi (jours)"].tolist() == [412.0, 90.0, 90.0]
    assert frame["_source_row"].tolist() == [1, 2, 3]
    assert frame["_sheet"].tolist() == ["Patients"] * 3


def test_missing_sheet_lists_sheets_present(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        read(legacy_workbook(tmp_path / "r.xls"), sheets=["Patientes"])
    assert caught.value.code == "sheet-not-found"
    assert "file `r.xls`" in caught.value.message
    assert "`Patients`, `Vide`" in caught.value.message


def test_empty_sheet_skipped_unless_named(tmp_path: Path) -> None:
    assert [t.name for t in read(legacy_workbook(tmp_path / "r.xls"), header_row=2)] == ["Patients"]
    with pytest.raises(SourceError) as caught:
        read(legacy_workbook(tmp_path / "r.xls"), sheets=["Vide"])
    assert caught.value.code == "sheet-empty"
    assert "sheet `Vide`" in caught.value.message


@pytest.mark.parametrize(
    ("data", "hint"),
    [(b"PK\x03\x04rest-of-an-xlsx", "kind: xlsx"), (b"id;sex\n1;F\n", "BIFF8")],
    ids=["xlsx-as-xls", "csv-as-xls"],
)
def test_not_a_legacy_workbook(tmp_path: Path, data: bytes, hint: str) -> None:
    path = tmp_path / "bad.xls"
    path.write_bytes(data)
    with pytest.raises(SourceError) as caught:
        read(path)
    assert caught.value.code == "not-a-workbook"
    assert hint in caught.value.message
    assert "file `bad.xls`" in caught.value.message


def test_truncated_legacy_workbook(tmp_path: Path) -> None:
    whole = legacy_workbook(tmp_path / "w.xls").read_bytes()
    path = tmp_path / "cut.xls"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SourceError) as caught:
        read(path)
    assert caught.value.code == "not-a-workbook"
    assert "complete" in caught.value.message
    assert "file `cut.xls`" in caught.value.message
