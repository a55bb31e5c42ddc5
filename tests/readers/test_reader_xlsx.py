"""XLSX reader on workbooks written by openpyxl, as registries write them, and on broken files."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font

from spinemet_etl.errors import SourceError
from spinemet_etl.readers.base import PROVENANCE_COLUMNS
from spinemet_etl.readers.registry import reader_for


def read(path: Path, **options: object) -> list:
    return reader_for("xlsx", "bologna").read(path, f"2026/{path.name}", options)


def registry_workbook(path: Path) -> Path:
    """Two title rows above the header, mixed date shapes, merged cells, trailing styled rows."""
    book = Workbook()
    patients = book.active
    patients.title = "Pazienti"
    patients["A1"] = "Registro metastasi vertebrali - esportazione"
    patients.merge_cells("A1:E1")
    patients.append([])
    patients.append(["Codice", "Data intervento", "Data nascita", "Peso", "Formula"])
    patients.append([101, dt.datetime(2004, 3, 15), "07/11/1948", "72,5", "=1+1"])
    patients.append(["P-102", dt.datetime(1999, 12, 31), "31/01/1950", 80, None])
    for row in range(6, 12):
        patients.cell(row=row, column=1).font = Font(bold=True)  # styled but empty
    visits = book.create_sheet("Follow-up")
    visits.append(["Codice", "Data visita", "Stato"])
    visits.append([101, dt.datetime(2004, 6, 1), "vivo"])
    visits.append([None, dt.datetime(2005, 1, 10), "deceduto"])
    visits.merge_cells("A2:A3")
    book.create_sheet("Note")
    book.save(path)
    return path


def test_title_rows_dates_numbers_and_text(tmp_path: Path) -> None:
    path = registry_workbook(tmp_path / "registro.xlsx")
    tables = read(path, sheets=["Pazienti"], header_row=3)
    [table] = tables
    frame = table.frame
    assert table.name == "Pazienti"
    expected = ["Codice", "Data intervento", "Data nascita", "Peso", "Formula"]
    assert list(frame.columns) == [*expected, *PROVENANCE_COLUMNS]
    assert frame["Codice"].tolist() == [101, "P-102"]
    assert frame["Data intervento"].tolist() == [
        dt.datetime(2004, 3, 15),
        dt.datetime(1999, 12, 31),
    ]
    assert frame["Data nascita"].tolist() == ["07/11/1948", "31/01/1950"]
    assert frame["Peso"].tolist() == ["72,5", 80]
    assert frame["Formula"].tolist() == [None, None]  # no cached value; never evaluated
    assert frame["_source_row"].tolist() == [1, 2]  # trailing styled rows dropped
    assert frame["_sheet"].tolist() == ["Pazienti", "Pazienti"]
    assert frame["_source_file"].tolist() == ["2026/registro.xlsx"] * 2


def test_merged_cells_fill_their_range(tmp_path: Path) -> None:
    path = registry_workbook(tmp_path / "registro.xlsx")
    [visits] = read(path, sheets=["Follow-up"])
    assert visits.frame["Codice"].tolist() == [101, 101]
    assert visits.frame["Stato"].tolist() == ["vivo", "deceduto"]


def test_per_sheet_header_rows_and_all_sheets(tmp_path: Path) -> None:
    path = registry_workbook(tmp_path / "registro.xlsx")
    tables = read(path, header_row_by_sheet={"Pazienti": 3})
    assert [t.name for t in tables] == ["Pazienti", "Follow-up"]  # empty "Note" skipped
    assert [len(t.frame) for t in tables] == [2, 2]
    with pytest.raises(SourceError) as caught:
        read(path, sheets=["Pazienti", "Note"], header_row_by_sheet={"Pazienti": 3})
    assert caught.value.code == "sheet-empty"  # named, so required
    assert "sheet `Note`" in caught.value.message


def test_header_only_sheet_is_an_empty_table(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Patients"
    book.active.append(["id", "sex"])
    book.save(tmp_path / "h.xlsx")
    [table] = read(tmp_path / "h.xlsx")
    assert table.frame.empty
    assert list(table.frame.columns) == ["id", "sex", *PROVENANCE_COLUMNS]


def error(path: Path, **options: object) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read(path, **options)
    return caught.value


def test_missing_sheet_lists_sheets_present(tmp_path: Path) -> None:
    problem = error(registry_workbook(tmp_path / "r.xlsx"), sheets=["Patients"])
    assert problem.code == "sheet-not-found"
    assert "file `2026/r.xlsx`" in problem.message
    assert "`Pazienti`, `Follow-up`, `Note`" in problem.message


def test_text_file_posing_as_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("id,sex\n1,male\n")
    problem = error(path)
    assert problem.code == "not-a-workbook"
    assert "file `2026/fake.xlsx`" in problem.message


def test_legacy_xls_posing_as_xlsx_suggests_kind(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    problem = error(path)
    assert problem.code == "not-a-workbook"
    assert "kind: xls" in problem.message


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "z.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert error(path).code == "not-a-workbook"


def test_truncated_workbook(tmp_path: Path) -> None:
    whole = registry_workbook(tmp_path / "whole.xlsx").read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    problem = error(path)
    assert problem.code == "file-truncated"
    assert "file `2026/cut.xlsx`" in problem.message


def bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 8_000_000)
    return path


def test_decompression_bomb_by_ratio(tmp_path: Path) -> None:
    problem = error(bomb(tmp_path / "bomb.xlsx"))
    assert problem.code == "decompression-bomb"
    assert "`xl/worksheets/sheet1.xml`" in problem.message


def test_decompression_bomb_by_total_size(tmp_path: Path) -> None:
    problem = error(bomb(tmp_path / "bomb.xlsx"), max_uncompressed_bytes=1_000_000)
    assert problem.code == "decompression-bomb"
    assert "limit of 1000000" in problem.message


def test_file_too_large(tmp_path: Path) -> None:
    problem = error(registry_workbook(tmp_path / "r.xlsx"), max_bytes=1000)
    assert problem.code == "file-too-large"


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.xlsx").write_bytes(b"")
    assert error(tmp_path / "e.xlsx").code == "file-empty"


def test_header_row_on_blank_row(tmp_path: Path) -> None:
    problem = error(registry_workbook(tmp_path / "r.xlsx"), sheets=["Pazienti"], header_row=2)
    assert problem.code == "header-not-found"
    assert "sheet `Pazienti`" in problem.message


def test_wrong_recorded_dimension_does_not_cut_rows(tmp_path: Path) -> None:
    """Some writers record `<dimension ref="A1"/>` whatever the sheet holds."""
    book = Workbook()
    book.active.title = "Patients"
    book.active.append(["id", "sex"])
    book.active.append([1, "male"])
    book.active.append([2, "female"])
    book.save(tmp_path / "ok.xlsx")
    path = tmp_path / "lying.xlsx"
    with (
        zipfile.ZipFile(tmp_path / "ok.xlsx") as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:B3" />', b'<dimension ref="A1" />')
                assert b'<dimension ref="A1" />' in data
            target.writestr(info, data)
    [table] = read(path)
    assert table.frame["sex"].tolist() == ["male", "female"]


@pytest.mark.parametrize(
    "parts",
    [
        {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"},
        {"[Content_Types].xml": "<Types", "xl/workbook.xml": "<workbook"},
    ],
    ids=["no-workbook-part", "broken-xml"],
)
def test_malformed_workbook_parts(tmp_path: Path, parts: dict[str, str]) -> None:
    path = tmp_path / "m.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    problem = error(path)
    assert problem.code == "not-a-workbook"
    assert "file `2026/m.xlsx`" in problem.message
