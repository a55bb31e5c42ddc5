"""What the two workbook readers (.xlsx, .xls) share: sheet selection, merged cells, header rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from spinemet_etl.errors import Place, source_error
from spinemet_etl.readers.base import RawTable
from spinemet_etl.readers.common import build_table, check_rows, filled_length, is_blank
from spinemet_etl.readers.options import WorkbookOptions

SheetGrid = list[list[Any]]
"""A sheet's cell values, row by row; index 0 is sheet row 1, column index 0 is column A."""
CellArray = npt.NDArray[np.object_]
"""A sheet's cell values as a 2-D object array, indexed as SheetGrid is."""


def select_sheets(present: list[str], options: WorkbookOptions, place: Place) -> list[str]:
    """The sheets to read: every one the options name (each required), else all present."""
    if options.sheets is None:
        return list(present)
    missing = [name for name in options.sheets if name not in present]
    if missing:
        raise source_error(
            place,
            f"sheet `{missing[0]}` not found; sheets present: "
            + ", ".join(f"`{name}`" for name in present),
            "fix `sheets` in the mapping file's source options or ask the center which sheet "
            "holds the data",
            code="sheet-not-found",
        )
    return list(options.sheets)


def fill_merged(grid: SheetGrid, ranges: list[tuple[int, int, int, int]]) -> SheetGrid:
    """The grid with every cell of a merged range holding the range's top-left value.

    Notes:
        Excel keeps a merged range's value in its top-left cell only. Registries merge a
        patient's id or surgery date over that patient's visit rows, so every row of the
        range is given the value it visibly shows.
    """
    for min_col, min_row, max_col, max_row in ranges:
        if min_row > len(grid):
            continue
        top_left = grid[min_row - 1]
        value = top_left[min_col - 1] if min_col <= len(top_left) else None
        for row_number in range(min_row, min(max_row, len(grid)) + 1):
            row = grid[row_number - 1]
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            row[min_col - 1 : max_col] = [value] * (max_col - min_col + 1)
    return grid


def fill_merged_array(grid: CellArray, ranges: list[tuple[int, int, int, int]]) -> CellArray:
    """fill_merged on a 2-D grid: the grid is widened with None when a range reaches past it."""
    for min_col, min_row, max_col, max_row in ranges:
        if min_row > len(grid):
            continue
        if max_col > grid.shape[1]:
            grid = np.hstack([grid, np.full((len(grid), max_col - grid.shape[1]), None, object)])
        grid[min_row - 1 : max_row, min_col - 1 : max_col] = grid[min_row - 1, min_col - 1]
    return grid


def table_from_grid(
    grid: SheetGrid | CellArray,
    sheet: str,
    relative_name: str,
    options: WorkbookOptions,
    place: Place,
    *,
    blanks_cleared: bool = False,
) -> RawTable | None:
    """One sheet as a RawTable: title rows above the header dropped, trailing blank rows dropped.

    An entirely empty sheet is an error when the options name it, and is skipped (None)
    when all sheets are read: workbooks often carry empty default sheets. `blanks_cleared`:
    every blank cell of the grid is None already (build_table).
    """
    grid = grid[: filled_length(grid)]
    if len(grid) == 0 and options.sheets is None:
        return None
    if len(grid) == 0:
        raise source_error(
            place,
            "the sheet is empty",
            "ask the center to export it again, or drop it from `sheets` in the mapping file",
            code="sheet-empty",
        )
    header_row = options.header_row_for(sheet)
    if len(grid) < header_row or all(is_blank(cell) for cell in grid[header_row - 1]):
        raise source_error(
            place,
            f"there is no header at row {header_row}",
            "check `header_row` (or `header_row_by_sheet`) in the mapping file's source options",
            code="header-not-found",
        )
    data = grid[header_row + options.skip_rows :]
    check_rows(len(data), place, options)
    return build_table(
        sheet,
        grid[header_row - 1],
        data,
        relative_name=relative_name,
        sheet=sheet,
        first_row_number=1 + options.skip_rows,
        blanks_cleared=blanks_cleared,
    )
