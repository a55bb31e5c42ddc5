"""Profile a center's landing folder: every file, sheet, REDCap event and instrument, and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from spinemet_etl.errors import SourceError
from spinemet_etl.mapping.profile import ColumnProfile
from spinemet_etl.mapping.profile_read import (
    SourceFile,
    find_sources,
    profile_frame,
    read_dictionary_rows,
    read_tables,
)
from spinemet_etl.mapping.synonyms import match_header
from spinemet_etl.readers.base import RawTable
from spinemet_etl.readers.redcap import BASE_TABLE

EVENT_COLUMN = "redcap_event_name"
VISITS_ID_SHARE = 0.8
"""A table whose distinct ids are fewer than this share of its rows holds visits.

Notes:
    A few repeated ids are duplicates for the quarantine to catch, not visits.
"""
REDCAP_STRUCTURE = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")


@dataclass
class TableProfile:
    """One table of an export: a file, a sheet, a REDCap event's rows or a repeating instrument."""

    source: SourceFile
    name: str
    rows: int
    columns: list[ColumnProfile]
    sheet: str | None = None
    event: str | None = None
    instrument: str | None = None
    ids_repeat: bool = False

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class CenterProfile:
    """Everything `spinemet centers draft` learned about a center's exports."""

    center_id: str
    tables: list[TableProfile]
    skipped: list[str] = field(default_factory=list)
    """Why each file of the folder that is not profiled is not (a sentence per file)."""
    problems: list[str] = field(default_factory=list)
    dictionary: list[dict[str, str]] = field(default_factory=list)


def _redcap_tables(source: SourceFile, raw: RawTable, id_column: str) -> list[TableProfile]:
    """A records table is split by event, keeping the columns filled on that event (a
    classic project, without events, is one table)."""
    frame = raw.frame
    if raw.name != BASE_TABLE:
        return [_table(source, raw, _filled(frame), id_column, instrument=raw.name)]
    if EVENT_COLUMN not in frame.columns:
        return [_table(source, raw, _filled(frame), id_column)]
    tables = []
    for event in pd.unique(frame[EVENT_COLUMN].dropna()):
        rows = frame[frame[EVENT_COLUMN] == event]
        tables.append(_table(source, raw, _filled(rows), id_column, event=str(event)))
    return tables


def _filled(frame: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in frame.columns if c not in REDCAP_STRUCTURE and frame[c].notna().any()]
    return frame[keep].reset_index(drop=True)


def _table(
    source: SourceFile, raw: RawTable, frame: pd.DataFrame, id_column: str | None, **where: Any
) -> TableProfile:
    """The profile of a table's rows; `where` names its sheet, event or instrument."""
    ids = frame[id_column].dropna() if id_column in frame.columns else pd.Series([], dtype=object)
    repeat = bool(ids.nunique() < VISITS_ID_SHARE * len(ids))
    name = where.get("instrument") or where.get("event") or raw.name
    return TableProfile(source, name, len(frame), profile_frame(frame, raw), ids_repeat=repeat,
                        **where)  # fmt: skip


def profile_source(source: SourceFile) -> list[TableProfile]:
    """The tables of one export file, profiled."""
    tables = []
    for raw in read_tables(source):
        frame = raw.frame
        first = next((c for c in frame.columns if not str(c).startswith("_")), None)
        if source.kind == "redcap":
            tables += _redcap_tables(source, raw, "record_id" if first is None else str(first))
            continue
        sheet = raw.name if source.kind in ("xlsx", "xls") else None
        id_column = _id_column(frame)
        tables.append(_table(source, raw, frame, id_column, sheet=sheet))
    return tables


def _id_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in frame.columns if match_header(str(c)) == "patient_id"), None)


def profile_center(folder: Path, center_id: str) -> CenterProfile:
    """Every export in `folder` read with the project's readers (and their size limits).

    A file a reader refuses is listed among `problems` with the reader's message; the
    other files are still profiled.
    """
    sources, skipped = find_sources(folder)
    profile = CenterProfile(center_id, [], skipped)
    for source in sources:
        if source.note is not None:
            profile.problems.append(f"{source.name}: {source.note}")
        try:
            profile.tables += profile_source(source)
        except SourceError as error:
            profile.problems.append(f"{source.name}: [{error.code}] {error.message}")
        if source.dictionary is not None and not profile.dictionary:
            profile.dictionary = read_dictionary_rows(source.dictionary)
    _apply_dictionary(profile)
    return profile


def _apply_dictionary(profile: CenterProfile) -> None:
    """REDCap field labels on the columns; fields the dictionary flags `Identifier?` hide values."""
    fields = {row.get("variable / field name", ""): row for row in profile.dictionary}
    for table in profile.tables:
        for column in table.columns:
            row = fields.get(column.name)
            if row is None:
                continue
            column.label = row.get("field label") or None
            if row.get("identifier?", "").strip().lower() == "y":
                column.identifier, column.values = True, []
