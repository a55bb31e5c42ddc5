"""A sheet's cells converted a column at a time are the cells converted one by one."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest

from spinemet_etl.readers.calamine import _xls_cell, _xlsx_cell, typed_grid
from spinemet_etl.readers.workbook import fill_merged, fill_merged_array

CELLS: list[Any] = [
    "",
    "   ",
    "\u00a0",
    " text ",
    "101",
    101.0,
    -0.0,
    2.5,
    1e15,
    999999999999999.0,
    float("nan"),
    float("inf"),
    7,
    True,
    dt.date(2021, 3, 4),
    dt.datetime(2021, 3, 4, 5, 6, 7),
    dt.time(12, 30),
    dt.timedelta(days=3, hours=4),
]
"""Every kind of value python-calamine gives, blanks and the limits of whole numbers among them."""


def typed(cells: Any) -> list[tuple[str, Any]]:
    """Each cell with its type (101 and 101.0 are different reads); NaN never reaches here."""
    return [(type(value).__name__, value) for value in cells]


@pytest.mark.parametrize(
    ("cell", "xlrd_numbers"),
    [(_xlsx_cell, False), (partial(_xls_cell, datemode=0), True),
     (partial(_xls_cell, datemode=1), True)],
    ids=["xlsx", "xls-1900", "xls-1904"],
)  # fmt: skip
def test_each_column_as_its_cells_one_by_one(cell: Any, xlrd_numbers: bool) -> None:
    """Columns of one kind, of mixed kinds, and of every kind convert as each cell would."""
    mixed = [CELLS[(i * 7) % len(CELLS)] for i in range(len(CELLS))]
    rows = [[value, value, mixed[i], "x"] for i, value in enumerate(CELLS)]
    rows += [[101.0, "", 2.5, dt.date(2020, 1, 1)]] * 3
    grid = typed_grid(rows, cell, xlrd_numbers=xlrd_numbers)
    assert grid.shape == (len(rows), 4)
    for got, row in zip(grid, rows, strict=True):
        assert typed(got) == typed(cell(value) for value in row)


def test_ragged_rows_are_padded_with_blanks() -> None:
    grid = typed_grid([["a", 1.0], ["b"]], _xlsx_cell, xlrd_numbers=False)
    assert typed(grid[1]) == [("str", "b"), ("NoneType", None)]
    assert typed_grid([], _xlsx_cell, xlrd_numbers=False).shape == (0, 0)


@pytest.mark.parametrize(
    "ranges",
    [[(1, 1, 2, 2)], [(2, 2, 5, 3)], [(1, 1, 3, 1), (1, 2, 1, 9)], [(1, 9, 2, 9)], [(4, 1, 6, 2)]],
    ids=["inside", "past-the-width", "overlapping", "below-the-grid", "top-left-past-the-width"],
)
def test_merged_ranges_fill_an_array_as_lists(ranges: list[tuple[int, int, int, int]]) -> None:
    rows: list[list[Any]] = [["a", "b", "c"], ["d", None, "f"], ["g", "h", None]]
    grid = typed_grid([[*row] for row in rows], lambda value: value, xlrd_numbers=False)
    filled = fill_merged_array(grid, ranges)
    expected = fill_merged([[*row] for row in rows], ranges)
    width = max(map(len, expected))
    assert [[*row] for row in filled] == [row + [None] * (width - len(row)) for row in expected]
