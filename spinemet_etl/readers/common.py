"""Helpers every reader shares: size checks, header names, and building a RawTable from rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel

from spinemet_etl.errors import Place, SourceError, source_error
from spinemet_etl.readers.base import PROVENANCE_COLUMNS, RawTable
from spinemet_etl.readers.options import ReaderOptions
from spinemet_etl.text import clean_text

OptionsT = TypeVar("OptionsT", bound=ReaderOptions)
Cells = Sequence[Any] | npt.NDArray[np.object_]
"""A row of cells, or rows of cells: lists, or an object array (the workbook readers')."""


def check_file(path: Path, place: Place, options: ReaderOptions) -> int:
    """The file's size in bytes, after checking it is a regular file, not empty, not too large.

    Notes:
        A symbolic link is refused, never followed: a link in a landing folder can point
        at any file the pipeline's account may read (another center's exports, system
        files), and the center's folder is the only thing the mapping file vouches for.
    """
    if path.is_symlink():
        raise source_error(
            place,
            "the file is a symbolic link, and links are never followed",
            "put the export file itself in the center's landing folder",
            code="unsafe-path",
        )
    if not path.is_file():
        raise source_error(
            place,
            "the export file does not exist",
            "check the file name in the mapping file and the center's landing folder",
            code="file-missing",
        )
    size = path.stat().st_size
    if size == 0:
        raise source_error(
            place,
            "the file is empty (0 bytes)",
            "ask the center to export it again",
            code="file-empty",
        )
    if size > options.max_bytes:
        raise source_error(
            place,
            f"the file has {size} bytes, more than the limit of {options.max_bytes}",
            "check that it is the right file, or raise `max_bytes` in the mapping file's options",
            code="file-too-large",
        )
    return size


def coerce_options(options: Any, model: type[OptionsT]) -> OptionsT:
    """The options as `model`: passed through when already one, else validated.

    Accepts a mapping, None (all defaults), or another options model (its explicitly set
    fields are validated again as `model`, so CsvOptions can stand in for TsvOptions).
    """
    if isinstance(options, model):
        return options
    if isinstance(options, BaseModel):
        options = options.model_dump(exclude_unset=True)
    return model.model_validate(options or {})


def is_blank(value: Any) -> bool:
    """True for None, NaN/NaT and text that is empty after stripping whitespace."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return bool(pd.isna(value)) if isinstance(value, float) else False


def header_names(cells: Cells, width: int) -> list[str]:
    """Column names from a header row: stripped text, `column_<n>` for blanks, `.1`/`.2` on repeats.

    Notes:
        Repeated names get pandas' suffixes (`Datum`, `Datum.1`) so that no column is lost;
        a blank header cell becomes `column_<n>` with n the 1-based column number.
    """
    names: list[str] = []
    used: set[str] = set()
    for number in range(1, width + 1):
        cell = cells[number - 1] if number <= len(cells) else None
        base = f"column_{number}" if is_blank(cell) else _header_text(cell)
        name, repeat = base, 0
        while name in used:
            repeat += 1
            name = f"{base}.{repeat}"
        used.add(name)
        names.append(name)
    return names


def _header_text(cell: Any) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return clean_text(str(cell))


def drop_trailing_blank(rows: list[list[Any]]) -> list[list[Any]]:
    """The rows without the run of entirely blank rows at the end."""
    return rows[: filled_length(rows)]


def filled_length(rows: Cells) -> int:
    """How many rows are left without the run of entirely blank rows at the end."""
    end = len(rows)
    while end > 0 and all(is_blank(value) for value in rows[end - 1]):
        end -= 1
    return end


def check_rows(count: int, place: Place, options: ReaderOptions) -> None:
    """Refuse a table with more data rows than the options allow."""
    if count > options.max_rows:
        raise source_error(
            place,
            f"the table has {count} data rows, more than the limit of {options.max_rows}",
            "check that it is the right file, or raise `max_rows` in the mapping file's options",
            code="too-many-rows",
        )


def build_table(
    name: str,
    header: Cells,
    rows: list[list[Any]] | npt.NDArray[np.object_],
    *,
    relative_name: str,
    sheet: str | None,
    first_row_number: int = 1,
    blanks_cleared: bool = False,
) -> RawTable:
    """A RawTable of object columns from a header and data rows, with provenance columns.

    `rows` are the data rows in source order; the first has `_source_row` equal to
    `first_row_number`. Blank text becomes None (`blanks_cleared`: the reader gives every
    blank cell as None already, so the cells need not be looked at one by one); short rows
    are padded with None (rows given as a 2-D array are used as they are); a column
    with neither a header nor any value (a trailing delimiter, an empty column A) is dropped;
    a row blank in every column is not a record and is dropped (the others keep their numbers).
    """
    grid = _cell_grid(len(header), rows)
    width = grid.shape[1]
    columns = header_names(header, width)
    if grid.size and not blanks_cleared:
        if grid is rows:  # the caller's array stays as it was given
            grid = grid.copy()
        grid[_blank_cells(grid).astype(bool)] = None
    data: dict[str, Any] = {}
    for i, column in enumerate(columns):
        unnamed = i >= len(header) or is_blank(header[i])
        if not (unnamed and all(value is None for value in grid[:, i])):
            data[column] = grid[:, i]
    blank = (grid == None) if blanks_cleared else pd.isna(grid)  # noqa: E711 (cell by cell)
    filled = np.flatnonzero(~blank.all(axis=1))
    every = len(filled) == len(grid)
    frame = pd.DataFrame(
        {c: v if every else v[filled] for c, v in data.items()}, columns=list(data), dtype=object
    )
    if frame.columns.isin(PROVENANCE_COLUMNS).any():  # a header named as one: both columns kept
        frame = with_provenance(frame, relative_name, sheet, first_row_number)
    else:
        frame["_source_file"] = pd.Series([relative_name] * len(frame), dtype=object)
        frame["_sheet"] = pd.Series([sheet] * len(frame), dtype=object)
    frame["_source_row"] = (first_row_number + filled).astype("int64")
    return RawTable(name=name, frame=frame)


def _cell_grid(
    header_width: int, rows: list[list[Any]] | npt.NDArray[np.object_]
) -> npt.NDArray[np.object_]:
    """The rows as a 2-D object array at least as wide as the header, short rows padded."""
    if isinstance(rows, np.ndarray) and rows.shape[1] >= header_width:
        return rows
    width = max([header_width, *(len(row) for row in rows)])
    grid = np.full((len(rows), width), None, dtype=object)
    for index, row in enumerate(rows):
        grid[index, : len(row)] = row
    return grid


_blank_cells = np.frompyfunc(is_blank, 1, 1)
"""is_blank over a whole object array at once."""


def with_provenance(
    frame: pd.DataFrame, relative_name: str, sheet: str | None, first_row_number: int = 1
) -> pd.DataFrame:
    """The frame with `_source_file`, `_sheet` and `_source_row` appended (a new frame)."""
    count = len(frame)
    provenance = pd.DataFrame(
        {
            "_source_file": pd.Series([relative_name] * count, dtype=object),
            "_sheet": pd.Series([sheet] * count, dtype=object),
            "_source_row": pd.Series(
                range(first_row_number, first_row_number + count), dtype="int64"
            ),
        }
    )
    return pd.concat([frame.reset_index(drop=True), provenance], axis=1)


def wrap_unexpected(place: Place, exc: Exception, what: str, *, code: str) -> SourceError:
    """A SourceError for a library failure on a malformed file, naming the place, not the data.

    Only the exception's type is named: library messages can quote cell contents.
    """
    return source_error(
        place,
        f"the file could not be read as {what} ({type(exc).__name__})",
        "check that the file is complete and of the kind the mapping file says",
        code=code,
    )
