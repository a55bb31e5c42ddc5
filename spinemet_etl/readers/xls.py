"""Reader for legacy BIFF8 workbooks (.xls): typed cells, Excel dates as datetime.

calamine reads the cells (readers/calamine.py); xlrd opens the workbook's globals only,
for what calamine does not give: a readable BIFF8 file, its date system, and whether a
cell holds an error (#N/A, #DIV/0!), which calamine reads as blank. xlrd reads the cells
of such a workbook (the error stays visible as its text), and of every workbook with the
openpyxl engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spinemet_etl.errors import Place, source_error
from spinemet_etl.readers.base import RawTable
from spinemet_etl.readers.calamine import (
    calamine_errors,
    excel_engine,
    open_workbook,
    worksheet_names,
    xls_grid,
)
from spinemet_etl.readers.common import check_file, coerce_options, wrap_unexpected
from spinemet_etl.readers.options import XlsOptions
from spinemet_etl.readers.workbook import SheetGrid, fill_merged, select_sheets, table_from_grid

_ERROR_RECORDS = (
    re.compile(rb"\x05\x02\x08\x00.{7}\x01", re.S),
    re.compile(rb"\x06\x00..(?:.{6})\x02.{5}\xff\xff", re.S),
)
"""A BOOLERR record holding an error, or a FORMULA record whose cached result is an error.

Searched anywhere in the workbook stream, so it also matches bytes that only look like
one: such a workbook is read by xlrd, which is slower but never wrong. Two searches, each
led by its literal record type, are ten times faster than one search for either.
"""


def has_error_cells(book: Any) -> bool:
    """True when the workbook may hold an error cell (xlrd keeps its stream in `mem`)."""
    return any(record.search(book.mem) is not None for record in _ERROR_RECORDS)


def cell_value(cell: Any, datemode: int) -> Any:
    """A cell's value as typed: datetime for date cells (per the workbook's 1900/1904 datemode).

    Notes:
        A date cell whose serial number Excel itself cannot show as a date (negative, or
        in the 1900 leap-year gap) is kept as its number, so the mapping reports it as an
        unparseable date instead of the reader inventing one.
    """
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    return cell.value


def sheet_grid(sheet: Any, datemode: int) -> SheetGrid:
    """The sheet's values row by row, merged ranges filled with their top-left value."""
    grid = [
        [cell_value(cell, datemode) for cell in sheet.row(index)] for index in range(sheet.nrows)
    ]
    ranges = [(clo + 1, rlo + 1, chi, rhi) for rlo, rhi, clo, chi in sheet.merged_cells]
    return fill_merged(grid, ranges)


def open_book(path: Path, place: Place) -> Any:
    """The xlrd workbook, or a SourceError saying why the file is not a readable .xls."""
    import xlrd

    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(b"PK"):
        raise source_error(
            place,
            "the file is an .xlsx workbook, not a legacy .xls",
            "set `kind: xlsx` in the mapping file",
            code="not-a-workbook",
        )
    try:
        return xlrd.open_workbook(path, formatting_info=True, on_demand=True, logfile=_Quiet())
    except Exception:  # xlrd raises many kinds (XLRDError, CompDocError, struct.error, ...)
        raise source_error(
            place,
            "the file is not a readable BIFF8 (.xls) workbook",
            "check that the file is complete and that `kind` in the mapping file matches it",
            code="not-a-workbook",
        ) from None


class _Quiet:
    """A log sink for xlrd, which otherwise prints warnings (possibly with cell text) to stdout."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None


@dataclass(frozen=True)
class XlsReader:
    """Reads the selected sheets of a legacy .xls workbook into one RawTable each."""

    center_id: str = "unknown"

    def read(self, path: Path, relative_name: str, options: Any) -> list[RawTable]:
        opts = coerce_options(options, XlsOptions)
        place = Place(self.center_id, relative_name)
        check_file(path, place, opts)
        book = open_book(path, place)
        try:
            if excel_engine() == "calamine" and not has_error_cells(book):
                return self._read_calamine(path, relative_name, opts, book.datemode)
            tables = []
            for name in select_sheets(book.sheet_names(), opts, place):
                sheet_place = Place(self.center_id, relative_name, name)
                grid = _load_sheet(book, name, sheet_place)
                table = table_from_grid(grid, name, relative_name, opts, sheet_place)
                if table is not None:
                    table.dates_1904 = book.datemode == 1
                    tables.append(table)
            return tables
        finally:
            book.release_resources()

    def _read_calamine(
        self, path: Path, relative_name: str, opts: XlsOptions, datemode: int
    ) -> list[RawTable]:
        place = Place(self.center_id, relative_name)
        tables = []
        workbook = open_workbook_or_error(path, place)
        try:
            for name in select_sheets(worksheet_names(workbook), opts, place):
                sheet_place = Place(self.center_id, relative_name, name)
                with calamine_errors(sheet_place, "a BIFF8 (.xls) sheet"):
                    grid = xls_grid(workbook, name, datemode)
                table = table_from_grid(
                    grid, name, relative_name, opts, sheet_place, blanks_cleared=True
                )
                if table is not None:
                    table.dates_1904 = datemode == 1
                    tables.append(table)
            return tables
        finally:
            workbook.close()


def open_workbook_or_error(path: Path, place: Place) -> Any:
    """calamine's workbook of an .xls that xlrd has already opened."""
    with calamine_errors(place, "a BIFF8 (.xls) workbook"):
        return open_workbook(path)


def _load_sheet(book: Any, name: str, place: Place) -> SheetGrid:
    """One sheet's grid; xlrd parses sheets on demand, so a damaged sheet fails here."""
    try:
        return sheet_grid(book.sheet_by_name(name), book.datemode)
    except Exception as exc:  # xlrd raises many kinds on a damaged sheet
        raise wrap_unexpected(place, exc, "a BIFF8 (.xls) sheet", code="not-a-workbook") from None
