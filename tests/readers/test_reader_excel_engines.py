"""calamine reads every workbook as openpyxl and xlrd read it: same cells, same harmonized rows.

The pure-Python engine stays selectable (SPINEMET_EXCEL_ENGINE=openpyxl) so that this
comparison runs against the real libraries on every change, not against a snapshot.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import xlwt

from spinemet_etl.readers.calamine import ENGINE_VARIABLE, excel_engine
from spinemet_etl.readers.registry import reader_for
from spinemet_etl.synth import write_consortium
from tests.harmonize.harmonize_helpers import run
from tests.hostile.make_corpus import sheet_xml, write_xlsx

REPO = Path(__file__).resolve().parents[2]
EXCEL_CENTERS = {"bologna": "xlsx", "lyon": "xls"}


@pytest.fixture(scope="module")
def demo_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's consortium (`spinemet demo`: default sizes, seed and dirt)."""
    out = tmp_path_factory.mktemp("demo")
    write_consortium(out)
    return out


def typed(frame: pd.DataFrame) -> list[list[tuple[str, Any]]]:
    """Every cell with its Python type: 101 and 101.0 are different reads."""
    return [[(type(v).__name__, v) for v in row] for row in frame.itertuples(index=False)]


def read_both(monkeypatch: pytest.MonkeyPatch, kind: str, path: Path) -> list[list[Any]]:
    reads = []
    for engine in ("openpyxl", "calamine"):
        monkeypatch.setenv(ENGINE_VARIABLE, engine)
        tables = reader_for(kind, "demo").read(path, path.name, None)
        reads.append(
            [(t.name, list(t.frame.columns), typed(t.frame), t.dates_1904) for t in tables]
        )
    return reads


@pytest.mark.parametrize("center", EXCEL_CENTERS)
def test_demo_workbooks_read_cell_for_cell_alike(
    demo_landing: Path, monkeypatch: pytest.MonkeyPatch, center: str
) -> None:
    [path] = sorted((demo_landing / center).iterdir())
    pure_python, calamine = read_both(monkeypatch, EXCEL_CENTERS[center], path)
    assert sum(len(rows) for _, _, rows, _ in pure_python) > 50
    assert calamine == pure_python


def without_run_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if c == "run_id"])


@pytest.mark.parametrize("center", EXCEL_CENTERS)
def test_demo_centers_harmonize_identically(
    demo_landing: Path, monkeypatch: pytest.MonkeyPatch, center: str
) -> None:
    results = []
    for engine in ("openpyxl", "calamine"):
        monkeypatch.setenv(ENGINE_VARIABLE, engine)
        results.append(run(REPO / "centers" / f"{center}.yaml", demo_landing))
    pure_python, calamine = results
    assert len(pure_python.patients) > 50 and len(pure_python.quarantine) > 0
    for part in ("patients", "quarantine"):
        pd.testing.assert_frame_equal(
            without_run_id(getattr(calamine, part)), without_run_id(getattr(pure_python, part))
        )
    assert calamine.files == pure_python.files


def test_legacy_times_and_durations_as_xlrd_gives_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Date-formatted cells below one day, and durations, are datetimes from xlrd's day 0."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("T")
    for col, name in enumerate(["time", "duration", "late", "int", "text"]):
        sheet.write(0, col, name)
    sheet.write(1, 0, dt.time(10, 30), xlwt.easyxf(num_format_str="hh:mm"))
    sheet.write(1, 1, 1.25, xlwt.easyxf(num_format_str="[h]:mm"))
    sheet.write(1, 2, 70.5, xlwt.easyxf(num_format_str="DD/MM/YYYY hh:mm"))
    sheet.write(1, 3, 7)
    sheet.write(1, 4, "7")
    book.save(str(tmp_path / "t.xls"))
    pure_python, calamine = read_both(monkeypatch, "xls", tmp_path / "t.xls")
    assert pure_python[0][2][0][0] == ("datetime", dt.datetime(1899, 12, 31, 10, 30))
    assert calamine == pure_python


def test_engine_variable_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_VARIABLE, raising=False)
    assert excel_engine() == "calamine"
    monkeypatch.setenv(ENGINE_VARIABLE, "OpenPyXL")
    assert excel_engine() == "openpyxl"
    monkeypatch.setenv(ENGINE_VARIABLE, "pandas")
    with pytest.raises(ValueError, match="calamine, openpyxl"):
        excel_engine()


def test_xlsx_error_cells_keep_their_text(tmp_path: Path) -> None:
    """calamine reads #N/A as blank; such a workbook is read by openpyxl, which keeps it."""
    part = sheet_xml([["id", "kps"], ["Z1", 80]]).replace(
        "</sheetData>",
        '<row r="3"><c r="A3" t="inlineStr"><is><t>Z2</t></is></c>'
        '<c r="B3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData>',
    )
    path = write_xlsx(tmp_path / "e.xlsx", "Data", sheet_part=part)
    [table] = reader_for("xlsx", "demo").read(path, path.name, None)
    assert table.frame["kps"].tolist() == [80, "#DIV/0!"]


def test_xls_error_cells_keep_their_text(tmp_path: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Data")
    sheet.write(0, 0, "id")
    sheet.write(0, 1, "kps")
    sheet.write(1, 0, "Z1")
    sheet.write(1, 1, 80)
    sheet.write(2, 0, "Z2")
    sheet.row(2).set_cell_error(1, 0x2A)  # #N/A
    book.save(str(tmp_path / "e.xls"))
    [table] = reader_for("xls", "demo").read(tmp_path / "e.xls", "e.xls", None)
    assert table.frame["kps"].tolist() == [80.0, "#N/A"]


def test_xlsx_1904_workbook_dates_and_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["surgery", "serial"])
    book.active.append([dt.datetime(2004, 3, 15), 36600])
    book.save(tmp_path / "mac.xlsx")
    pure_python, calamine = read_both(monkeypatch, "xlsx", tmp_path / "mac.xlsx")
    assert calamine == pure_python
    [(_, _, [row], dates_1904)] = calamine
    assert row[:2] == [("datetime", dt.datetime(2004, 3, 15)), ("int", 36600)]
    assert dates_1904 is True
