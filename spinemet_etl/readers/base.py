"""The one small interface every reader implements: a file in, raw records with provenance out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

PROVENANCE_COLUMNS = ("_source_file", "_sheet", "_source_row")
"""Columns every RawTable carries beside the source's own columns.

`_source_file`: path relative to the center's landing folder; `_sheet`: sheet name or
None; `_source_row`: 1-based data row number inside that file or sheet (the first row
after the header is 1).
"""


@dataclass
class RawTable:
    """One table as the source holds it, before any mapping.

    `frame` holds the source's columns under their source names (values as read: text
    for CSV, typed cells for Excel/SPSS), plus the PROVENANCE_COLUMNS. `labels` holds
    value labels per column where the format carries them (SPSS value labels, REDCap
    choice labels): {column: {code: label}}. `user_missing` holds per-column codes the
    source itself declares as missing (SPSS user-missing values). `dates_1904` is true for
    a sheet of a workbook in Excel's 1904 date system, whose serial numbers count days from
    1904-01-01 (date cells are already dates; plain numbers read as serials need it).
    `decimal_marks` holds the decimal mark of the text numbers of columns whose source
    states it (REDCap fields validated as numbers): {column: "." or ","}.
    """

    name: str
    frame: pd.DataFrame
    labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    user_missing: dict[str, list[Any]] = field(default_factory=dict)
    dates_1904: bool = False
    decimal_marks: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnPick:
    """The source columns a read keeps: these names, and any starting with one of `prefixes`.

    The delimited readers' fast path parses every field but keeps only these columns, so
    columns no table maps (identifiers among them) never take memory; other readers read
    everything and harmonizing selects.
    """

    names: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def __call__(self, name: str) -> bool:
        return name in self.names or name.startswith(self.prefixes)

    def __or__(self, other: ColumnPick) -> ColumnPick:
        prefixes = tuple(dict.fromkeys([*self.prefixes, *other.prefixes]))
        return ColumnPick(self.names | other.names, prefixes)


class Reader(Protocol):
    """Reads one export file into one or more RawTables (one per sheet/form)."""

    def read(self, path: Path, relative_name: str, options: Any) -> list[RawTable]: ...
