"""Sheet grids read by calamine (Rust, through python-calamine): the workbook readers' engine.

calamine parses a sheet some ten times faster than openpyxl or xlrd. Its cells are
converted to what those libraries give, so that a mapping file reads a workbook the same
way whichever engine read it: whole numbers of an .xlsx as int, every number of an .xls as
float, date cells as datetime. `SPINEMET_EXCEL_ENGINE=openpyxl` selects the pure-Python
readers instead (openpyxl for .xlsx, xlrd for .xls); the bench uses it to measure both.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spinemet_etl.errors import Place, SourceError, source_error
from spinemet_etl.readers.common import wrap_unexpected
from spinemet_etl.readers.workbook import SheetGrid, fill_merged

ENGINE_VARIABLE = "SPINEMET_EXCEL_ENGINE"
ENGINES = ("calamine", "openpyxl")
"""`calamine` (the default) or `openpyxl`: the pure-Python readers (openpyxl, xlrd)."""
_WHOLE_LIMIT = 1e15
"""Excel writes a whole number below this as plain digits, which openpyxl reads as int."""


def excel_engine() -> str:
    """The engine SPINEMET_EXCEL_ENGINE names, `calamine` when unset."""
    engine = os.environ.get(ENGINE_VARIABLE, "").strip().lower() or "calamine"
    if engine not in ENGINES:
        raise ValueError(f"{ENGINE_VARIABLE}={engine!r}; use one of: {', '.join(ENGINES)}")
    return engine


@contextmanager
def calamine_errors(place: Place, what: str) -> Iterator[None]:
    """calamine's failures as SourceErrors naming the place (never the library's message)."""
    from python_calamine import CalamineError

    try:
        yield
    except SourceError:
        raise
    except CalamineError as exc:
        text = str(exc)
        if "declared uncompressed size" in text or "Zip" in type(exc).__name__:
            raise part_not_unpacked(place) from None
        if "entity" in text:
            raise unsafe_workbook(place) from None
        raise wrap_unexpected(place, exc, what, code="not-a-workbook") from None
    except Exception as exc:  # calamine raises plain errors on some malformed records
        raise wrap_unexpected(place, exc, what, code="not-a-workbook") from None


def part_not_unpacked(place: Place) -> SourceError:
    return source_error(
        place,
        "a part of the workbook could not be unpacked",
        "the file looks damaged or cut off; ask the center to export it again",
        code="file-truncated",
    )


def unsafe_workbook(place: Place) -> SourceError:
    return source_error(
        place,
        "a part of the workbook declares XML entities, which are refused "
        "(an XML bomb or an external reference)",
        "ask the center to save the workbook again from Excel",
        code="unsafe-workbook",
    )


def open_workbook(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path))


def worksheet_names(workbook: Any) -> list[str]:
    """The workbook's worksheets in order (chart and macro sheets hold no cells)."""
    from python_calamine import SheetTypeEnum

    return [
        sheet.name for sheet in workbook.sheets_metadata if sheet.typ == SheetTypeEnum.WorkSheet
    ]


def xlsx_grid(workbook: Any, name: str) -> SheetGrid:
    """One .xlsx sheet's grid from A1, typed as openpyxl types it, merged ranges filled.

    Every blank cell (empty or whitespace text) is None, as build_table would make it.
    """
    sheet = workbook.get_sheet_by_name(name)
    rows = [[_xlsx_cell(value) for value in row] for row in sheet.to_python(skip_empty_area=False)]
    return fill_merged(rows, _merged(sheet))


def xls_grid(workbook: Any, name: str, datemode: int) -> SheetGrid:
    """One .xls sheet's grid from A1, typed as xlrd types it (`datemode` 1: the 1904 system).

    Every blank cell (empty or whitespace text) is None, as build_table would make it.
    """
    sheet = workbook.get_sheet_by_name(name)
    rows = [
        [_xls_cell(value, datemode) for value in row]
        for row in sheet.to_python(skip_empty_area=False)
    ]
    return fill_merged(rows, _merged(sheet))


def _merged(sheet: Any) -> list[tuple[int, int, int, int]]:
    """calamine's merged ranges ((row, col), (row, col)), 0-based, as fill_merged's 1-based ones."""
    ranges = sheet.merged_cell_ranges or []
    return [(c0 + 1, r0 + 1, c1 + 1, r1 + 1) for (r0, c0), (r1, c1) in ranges]


def _xlsx_cell(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return None if value == "" or value.isspace() else value
    if kind is float:
        if value != value:  # NaN: a blank cell, as is_blank has it
            return None
        return int(value) if value.is_integer() and abs(value) < _WHOLE_LIMIT else value
    if kind is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    return value


def _xls_cell(value: Any, datemode: int) -> Any:
    """xlrd's types: float numbers; a date-formatted time or duration as xlrd's datetime."""
    kind = type(value)
    if kind is str:
        return None if value == "" or value.isspace() else value
    if kind is float and value != value:  # NaN: a blank cell, as is_blank has it
        return None
    if kind is int:
        return float(value)
    if kind is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    if kind is dt.time:
        value = dt.timedelta(hours=value.hour, minutes=value.minute, seconds=value.second,
                             microseconds=value.microsecond)  # fmt: skip
    if type(value) is dt.timedelta:
        return _xlrd_day_zero(datemode, value) + value
    return value


def _xlrd_day_zero(datemode: int, offset: dt.timedelta) -> dt.datetime:
    """xlrd's day 0: 1904-01-01, or 1899-12-31 before the 1900 leap-year gap, else 1899-12-30."""
    if datemode:
        return dt.datetime(1904, 1, 1)
    return dt.datetime(1899, 12, 31) if offset.days < 60 else dt.datetime(1899, 12, 30)
