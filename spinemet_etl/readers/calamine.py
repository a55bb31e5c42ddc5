"""Sheet grids read by calamine (Rust, through python-calamine): the workbook readers' engine.

calamine parses a sheet some ten times faster than openpyxl or xlrd. Its cells are
converted to what those libraries give, so that a mapping file reads a workbook the same
way whichever engine read it: whole numbers of an .xlsx as int, every number of an .xls as
float, date cells as datetime. `SPINEMET_EXCEL_ENGINE=openpyxl` selects the pure-Python
readers instead (openpyxl for .xlsx, xlrd for .xls); the bench uses it to measure both.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from spinemet_etl.errors import Place, SourceError, source_error
from spinemet_etl.readers.common import wrap_unexpected
from spinemet_etl.readers.workbook import CellArray, fill_merged_array

ENGINE_VARIABLE = "SPINEMET_EXCEL_ENGINE"
ENGINES = ("calamine", "openpyxl")
"""`calamine` (the default) or `openpyxl`: the pure-Python readers (openpyxl, xlrd)."""
_WHOLE_LIMIT = 1e15
"""Excel writes a whole number below this as plain digits, which openpyxl reads as int."""
_MIDNIGHT = dt.time()


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


def xlsx_grid(workbook: Any, name: str) -> CellArray:
    """One .xlsx sheet's grid from A1, typed as openpyxl types it, merged ranges filled.

    Every blank cell (empty or whitespace text) is None, as build_table would make it.
    """
    sheet = workbook.get_sheet_by_name(name)
    with _collector_paused():
        grid = typed_grid(sheet.to_python(skip_empty_area=False), _xlsx_cell, xlrd_numbers=False)
    return fill_merged_array(grid, _merged(sheet))


def xls_grid(workbook: Any, name: str, datemode: int) -> CellArray:
    """One .xls sheet's grid from A1, typed as xlrd types it (`datemode` 1: the 1904 system).

    Every blank cell (empty or whitespace text) is None, as build_table would make it.
    """
    sheet = workbook.get_sheet_by_name(name)
    cell = partial(_xls_cell, datemode=datemode)
    with _collector_paused():
        grid = typed_grid(sheet.to_python(skip_empty_area=False), cell, xlrd_numbers=True)
    return fill_merged_array(grid, _merged(sheet))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a sheet's cells become objects.

    Notes:
        A sheet's rows are thousands of new lists, which set off the collector again and
        again to walk every object of the process, though none of them can form a cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def typed_grid(
    rows: list[list[Any]], cell: Callable[[Any], Any], *, xlrd_numbers: bool
) -> CellArray:
    """calamine's rows as a 2-D object array, each cell as `cell` converts it, a column at a time.

    Notes:
        The cells of a column are grouped by their Python type and each group is converted
        at once as `cell` converts each of its cells (blank text and NaN as None, dates as
        datetime, numbers as xlrd types them with `xlrd_numbers`: every one a float, else
        as openpyxl does: whole ones int); the rarer types go through `cell` one by one.
    """
    width = max(map(len, rows), default=0)
    if len(set(map(len, rows))) > 1:  # calamine's rows are rectangular; never assumed
        rows = [[*row, *[""] * (width - len(row))] for row in rows]
    grid = np.empty((len(rows), width), dtype=object)
    grid[:] = rows
    for index in range(width):
        _type_column(grid[:, index], cell, xlrd_numbers)
    return grid


def _type_column(column: CellArray, cell: Callable[[Any], Any], xlrd_numbers: bool) -> None:
    """Convert one column of the grid in place (typed_grid)."""
    kinds = np.fromiter(map(type, column), dtype=object, count=len(column))
    for kind in set(kinds):
        where = np.flatnonzero(kinds == kind)
        values = column[where]
        if kind is str:
            blank = (values == "") | np.fromiter(map(str.isspace, values), bool, len(values))
            column[where[blank]] = None
        elif kind is float:
            numbers = values.astype(np.float64)
            column[where[np.isnan(numbers)]] = None
            if not xlrd_numbers:
                whole = (np.floor(numbers) == numbers) & (np.abs(numbers) < _WHOLE_LIMIT)
                column[where[whole]] = numbers[whole].astype(np.int64).astype(object)
        elif kind is int and xlrd_numbers:
            column[where] = values.astype(np.float64).astype(object)
        elif kind is dt.date:
            column[where] = _object_array(list(map(dt.datetime.combine, values, repeat(_MIDNIGHT))))
        else:
            column[where] = _object_array([cell(value) for value in values])


def _object_array(values: list[Any]) -> CellArray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


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


def _xls_cell(value: Any, *, datemode: int) -> Any:
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
