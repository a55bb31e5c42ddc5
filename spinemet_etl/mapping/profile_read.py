"""Read a landing folder for profiling: each file's kind and options, through the readers."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from spinemet_etl.errors import Place, SourceError
from spinemet_etl.mapping.profile import ColumnProfile, profile_column
from spinemet_etl.mapping.synonyms import is_identifier_like, synonyms
from spinemet_etl.readers.arrow_csv import to_frame
from spinemet_etl.readers.base import PROVENANCE_COLUMNS, RawTable
from spinemet_etl.readers.common import check_file, is_blank
from spinemet_etl.readers.csv import decode_text, parse_rows
from spinemet_etl.readers.options import CsvOptions, ReaderOptions
from spinemet_etl.readers.registry import reader_for
from spinemet_etl.text import source_text

KIND_BY_SUFFIX = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".xls": "xls",
                  ".sav": "sav"}  # fmt: skip
DICTIONARY_HEADER = "variable / field name"
"""The first header cell of a REDCap data dictionary CSV."""
HEADER_SEARCH_ROWS = 10
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class SourceFile:
    """One export file: its kind and the reader options that read it."""

    path: Path
    name: str
    kind: str
    read: dict[str, Any] = field(default_factory=dict)
    dictionary: Path | None = None
    note: str | None = None


def sniff_text(path: Path) -> tuple[str, str, list[str]]:
    """The encoding (a byte-order mark, else UTF-8, else cp1252), delimiter and header cells."""
    place = Place("draft", path.name)
    check_file(path, place, ReaderOptions())
    raw = path.read_bytes()
    encoding = "utf-8"
    if not raw.startswith(codecs.BOM_UTF8):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "cp1252"
    first = decode_text(raw, encoding, place).split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first.count)
    rows, _ = parse_rows(first, CsvOptions(delimiter=delimiter), place)
    return encoding, delimiter, [cell.strip().lower() for cell in (rows[0] if rows else [])]


def read_dictionary_rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    """The REDCap data dictionary's rows, keyed by its folded headers (`field type`, ...)."""
    text = decode_text(path.read_bytes(), encoding, Place("draft", path.name))
    rows, _ = parse_rows(text, CsvOptions(), Place("draft", path.name))
    header = [" ".join(cell.split()).lower() for cell in rows[0]] if rows else []
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(row)]


def _first_field(dictionary: Path) -> str | None:
    """The first field a REDCap data dictionary lists (the record id), lower case."""
    try:
        rows = read_dictionary_rows(dictionary)
    except SourceError:
        return None
    if not rows:
        return None
    return rows[0].get(DICTIONARY_HEADER, "").strip().lower() or None


def _is_redcap(header: list[str], delimiter: str, record_ids: set[str]) -> bool:
    """A REDCap export: its event or repeating-instrument column, or, for a classic project
    (neither), a comma-separated header that starts with the record id field of a data
    dictionary beside it (REDCap puts that field first in both)."""
    if "redcap_event_name" in header or "redcap_repeat_instrument" in header:
        return True
    return delimiter == "," and bool(header) and header[0] in record_ids


def find_sources(folder: Path) -> tuple[list[SourceFile], list[str]]:
    """Every export file of the folder with its kind and options; why each other file is not."""
    sources, dictionaries, skipped = [], [], []
    texts: list[tuple[SourceFile, str, str, list[str]]] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        name, kind = path.relative_to(folder).as_posix(), KIND_BY_SUFFIX.get(path.suffix.lower())
        if kind is None:
            skipped.append(f"`{name}`: not an export kind spinemet reads")
            continue
        source = SourceFile(path, name, kind)
        if kind in ("csv", "tsv"):
            try:
                encoding, delimiter, header = sniff_text(path)
            except SourceError as error:
                skipped.append(f"`{name}`: [{error.code}] {error.message}")
                continue
            if header[:1] == [DICTIONARY_HEADER]:
                dictionaries.append(path)
                continue
            texts.append((source, encoding, delimiter, header))
        sources.append(source)
    record_ids = {found for found in map(_first_field, dictionaries) if found}
    for source, encoding, delimiter, header in texts:
        if _is_redcap(header, delimiter, record_ids):
            source.kind = "redcap"
        source.read = _text_options(encoding, delimiter, source.kind)
    for source in (s for s in sources if s.kind == "redcap"):
        if dictionaries:
            source.dictionary = dictionaries[-1]
        else:
            source.kind = "csv"
            source.note = "a REDCap export without its data dictionary: profiled as a plain CSV"
    return sources, skipped


def _text_options(encoding: str, delimiter: str, kind: str) -> dict[str, Any]:
    options: dict[str, Any] = {} if encoding == "utf-8" else {"encoding": encoding}
    if kind == "csv" and delimiter != ",":
        options["delimiter"] = delimiter
    return options


def header_row(raw: RawTable) -> int:
    """The 1-based row of a table's real header: the first nearly full row of the first few.

    Notes:
        A workbook often has a title and a subtitle above its header; they hold one or
        two distinct texts (a merged title repeats one) where the header holds one per column.
    """
    frame = raw.frame.drop(columns=list(PROVENANCE_COLUMNS))
    names = [str(column) for column in frame.columns]
    header = [None if c.startswith("column_") else re.sub(r"\.\d+$", "", c) for c in names]
    rows = [header, *frame.head(HEADER_SEARCH_ROWS).itertuples(index=False, name=None)]
    filled = [len({str(cell) for cell in row if not is_blank(cell)}) for row in rows]
    widest = max(filled)
    first = next(i for i, count in enumerate(filled) if count >= 0.8 * widest)
    return first + 1


def read_tables(source: SourceFile) -> list[RawTable]:
    """The file's tables through its reader (with the reader's size limits), headers found."""
    reader = reader_for(source.kind, "draft")
    options = dict(source.read)
    if source.kind == "redcap":
        options["data_dictionary"] = source.dictionary.name if source.dictionary else "*"
    tables = [_materialized(t) for t in reader.read(source.path, source.name, options)]
    if source.kind not in ("xlsx", "xls", "csv", "tsv"):
        return tables
    rows = {table.name: header_row(table) for table in tables}
    if all(row == 1 for row in rows.values()):
        return tables
    key = "header_row_by_sheet" if source.kind in ("xlsx", "xls") else "header_row"
    source.read = {**options, key: rows if key == "header_row_by_sheet" else max(rows.values())}
    return [_materialized(t) for t in reader.read(source.path, source.name, source.read)]


def _materialized(table: RawTable) -> RawTable:
    frame = table.frame
    if not isinstance(frame, pd.DataFrame):
        frame = to_frame(frame)
    return RawTable(
        table.name, frame, table.labels, table.user_missing, table.dates_1904, table.decimal_marks
    )


def profile_frame(frame: pd.DataFrame, raw: RawTable) -> list[ColumnProfile]:
    """Every source column's profile; identifier-like headers keep no values."""
    codes = frozenset(synonyms()["missing_codes"])
    profiles = []
    for name in frame.columns:
        if name in PROVENANCE_COLUMNS:
            continue
        user_missing = [source_text(code) for code in raw.user_missing.get(name, [])]
        identifier = is_identifier_like(name)
        profile = profile_column(
            name, frame[name], identifier=identifier, missing_codes=codes | set(user_missing)
        )
        labels = raw.labels.get(name, {})
        profile.value_labels = {source_text(code): str(label) for code, label in labels.items()}
        profile.user_missing = user_missing
        if name in raw.decimal_marks:
            profile.decimal, profile.decimal_stated = raw.decimal_marks[name], True
        profile.missing_codes = [c for c in profile.missing_codes if c not in user_missing]
        profiles.append(profile)
    return profiles
