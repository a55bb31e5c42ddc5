"""Reader for a REDCap "raw" CSV export, with choice labels from its data dictionary CSV."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spinemet_etl.errors import Place, source_error
from spinemet_etl.readers.arrow_csv import (
    ArrowRawTable,
    Layout,
    arrow_file_rows,
    column_names,
)
from spinemet_etl.readers.base import ColumnPick, RawTable
from spinemet_etl.readers.common import (
    build_table,
    check_file,
    check_rows,
    coerce_options,
    drop_trailing_blank,
)
from spinemet_etl.readers.csv import (
    check_final_line_break,
    check_widths,
    decode_text,
    parse_rows,
)
from spinemet_etl.readers.options import CsvOptions, RedcapOptions
from spinemet_etl.text import clean_text

BASE_TABLE = "records"
"""Name of the table of rows that belong to no repeating instrument."""
INSTRUMENT_COLUMN = "redcap_repeat_instrument"

_csv = CsvOptions()
"""REDCap writes comma-separated, double-quoted CSV."""

_FIXED_LABELS: dict[str, dict[Any, str]] = {
    "yesno": {"1": "Yes", "0": "No"},
    "truefalse": {"1": "True", "0": "False"},
    "checkbox": {"1": "Checked", "0": "Unchecked"},
}
_COMPLETE_LABELS: dict[Any, str] = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
_DICTIONARY_COLUMNS = {
    "field": "variable / field name",
    "form": "form name",
    "type": "field type",
    "choices": "choices, calculations, or slider labels",
}
_VALIDATION_COLUMN = "text validation type or show slider number"
"""The dictionary's column of text validations; older dictionaries may lack it."""
_DOT_NUMBER = re.compile(r"integer|float|number(?:_[1-9]dp)?")
_COMMA_NUMBER = re.compile(r"number(?:_[1-9]dp)?_comma_decimal")


def parse_choices(text: str, field: str, place: Place) -> dict[str, str]:
    """`1, Male | 2, Female` as {"1": "Male", "2": "Female"} (labels may hold commas)."""
    choices: dict[str, str] = {}
    for item in text.split("|"):
        if not item.strip():
            continue
        code, comma, label = item.partition(",")
        if not comma or not code.strip():
            raise source_error(
                Place(place.center_id, place.file, column=field),
                "a choice in the data dictionary is not written as `code, label`",
                "fix the field's choices in REDCap and export the data dictionary again",
                code="dictionary-invalid",
            )
        choices[code.strip()] = label.strip()
    return choices


def checkbox_column(field: str, code: str) -> str:
    """The export column of one checkbox choice: `field___code`, code lowercased, `-`/`.` as `_`."""
    return f"{field}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}"


def labels_from_dictionary(dictionary: pd.DataFrame, place: Place) -> dict[str, dict[Any, str]]:
    """Value labels of every coded field: dropdown/radio choices, checkbox columns, yes/no, status.

    Notes:
        A checkbox field is exported as one 0/1 column per choice (`field___1`); each such
        column is labelled Checked/Unchecked, as REDCap's own label export does, and the
        choice it stands for is in its name. Every form's `<form>_complete` status column
        gets REDCap's Incomplete/Unverified/Complete labels.
    """
    labels: dict[str, dict[Any, str]] = {}
    for row in dictionary.itertuples(index=False):
        field, kind, choices = str(row.field), str(row.type).strip().lower(), row.choices
        if kind in ("dropdown", "radio") and isinstance(choices, str):
            labels[field] = dict(parse_choices(choices, field, place))
        elif kind == "checkbox" and isinstance(choices, str):
            for code in parse_choices(choices, field, place):
                labels[checkbox_column(field, code)] = dict(_FIXED_LABELS["checkbox"])
        elif kind in ("yesno", "truefalse"):
            labels[field] = dict(_FIXED_LABELS[kind])
    for form in dictionary["form"].dropna().unique():
        labels[f"{form}_complete"] = dict(_COMPLETE_LABELS)
    return labels


def decimal_marks_from_dictionary(dictionary: pd.DataFrame) -> dict[str, str]:
    """The decimal mark of every text field validated as a number: `.`, or `,` for the
    `number_comma_decimal` validations (`number_2dp_comma_decimal`, ...).

    Notes:
        REDCap keeps and exports a number as it was typed under its field's validation:
        `1,54` in a comma-decimal field, `1.54` in a `number` field, both in one export.
        Grouping is never allowed. A field without a number validation states nothing.
    """
    if "validation" not in dictionary:
        return {}
    marks: dict[str, str] = {}
    for row in dictionary.itertuples(index=False):
        kind = str(row.type).strip().lower()
        validation = str(row.validation or "").strip().lower()
        if kind != "text" or not validation:
            continue
        if _COMMA_NUMBER.fullmatch(validation):
            marks[str(row.field)] = ","
        elif _DOT_NUMBER.fullmatch(validation):
            marks[str(row.field)] = "."
    return marks


def find_dictionary(path: Path, pattern: str, place: Place) -> Path:
    """The data dictionary beside the export: `pattern` as a name or glob, last match by name."""
    matches = sorted(candidate for candidate in path.parent.glob(pattern) if candidate.is_file())
    if not matches:
        raise source_error(
            place,
            f"no data dictionary matching `{pattern}` beside the export",
            "put the REDCap data dictionary CSV in the center's landing folder or fix "
            "`data_dictionary` in the mapping file",
            code="dictionary-not-found",
        )
    return matches[-1]


def read_dictionary(path: Path, options: RedcapOptions, place: Place) -> pd.DataFrame:
    """The dictionary's field, form, type and choices columns, found by their REDCap headers,
    and its text validations (`validation`) where it has them."""
    check_file(path, place, options)
    rows, _lines = parse_rows(decode_text(path.read_bytes(), options.encoding, place), _csv, place)
    header = [clean_text(cell).lower() for cell in rows[0]] if rows else []
    missing = [title for title in _DICTIONARY_COLUMNS.values() if title not in header]
    if missing:
        raise source_error(
            place,
            f"the data dictionary has no `{missing[0]}` column",
            "export the data dictionary from REDCap again (Project Setup, Data Dictionary)",
            code="dictionary-invalid",
        )
    picks = {key: header.index(title) for key, title in _DICTIONARY_COLUMNS.items()}
    if _VALIDATION_COLUMN in header:
        picks["validation"] = header.index(_VALIDATION_COLUMN)
    body = [row + [""] * (len(header) - len(row)) for row in rows[1:] if any(row)]
    return pd.DataFrame(
        {key: [row[index] or None for row in body] for key, index in picks.items()}, dtype=object
    )


def split_by_instrument(table: RawTable) -> list[RawTable]:
    """The records table, and one table per repeating instrument holding that instrument's rows."""
    frame = table.frame
    if INSTRUMENT_COLUMN not in frame.columns:
        return [table]
    instrument = frame[INSTRUMENT_COLUMN]
    tables = [RawTable(BASE_TABLE, frame[instrument.isna()].reset_index(drop=True), table.labels)]
    for name in sorted(instrument.dropna().unique()):
        part = frame[instrument == name].reset_index(drop=True)
        tables.append(RawTable(str(name), part, table.labels))
    return tables


def split_arrow_by_instrument(rows: pa.Table, header: list[str] | None = None) -> list[RawTable]:
    """split_by_instrument on the Arrow rows: each part a row mask over the same rows.

    Notes:
        Nothing is copied here: a mapped table takes its columns first, then its rows
        (ArrowRawTable.select), so a large export is never held twice whole. `header`
        names every source column when `rows` keeps only some.
    """
    if INSTRUMENT_COLUMN not in rows.column_names:
        return [ArrowRawTable(BASE_TABLE, rows, header=header)]
    instrument = rows.column(INSTRUMENT_COLUMN)
    tables: list[RawTable] = [
        ArrowRawTable(BASE_TABLE, rows, keep=pc.is_null(instrument), header=header)
    ]
    for name in sorted(pc.unique(instrument).drop_null().to_pylist()):
        part = ArrowRawTable(str(name), rows, keep=pc.equal(instrument, name), header=header)
        tables.append(part)
    return tables


@dataclass(frozen=True)
class RedcapReader:
    """Reads a REDCap raw export: `records` plus one table per repeating instrument."""

    center_id: str = "unknown"

    def read(
        self, path: Path, relative_name: str, options: Any, pick: ColumnPick | None = None
    ) -> list[RawTable]:
        """The export's tables; only the columns of `pick` on the fast path, if given."""
        opts = coerce_options(options, RedcapOptions)
        place = Place(self.center_id, relative_name)
        check_file(path, place, opts)
        if pick is not None:
            pick = replace(pick, names=pick.names | {INSTRUMENT_COLUMN})
        found = arrow_file_rows(
            path, opts.encoding, Layout(), opts, place=place, pick=pick,
            check=lambda raw: check_final_line_break(raw, place),
        )  # fmt: skip
        tables = (
            split_by_instrument(read_reference(found, opts, place))
            if isinstance(found, bytes)
            else split_arrow_by_instrument(*found)
        )
        dictionary_path = find_dictionary(path, opts.data_dictionary, place)
        dictionary_place = Place(
            self.center_id, str(Path(relative_name).parent / dictionary_path.name)
        )
        dictionary = read_dictionary(dictionary_path, opts, dictionary_place)
        labels = labels_from_dictionary(dictionary, dictionary_place)
        present = set(column_names(tables[0]))
        labels = {column: codes for column, codes in labels.items() if column in present}
        marks = decimal_marks_from_dictionary(dictionary)
        marks = {column: mark for column, mark in marks.items() if column in present}
        for table in tables:
            table.labels, table.decimal_marks = labels, marks
        return tables


def read_reference(raw: bytes, opts: RedcapOptions, place: Place) -> RawTable:
    """The records as Python's csv module reads them, for text the fast path declines.

    Notes:
        The fast path (arrow_rows) counts rows for `max_rows` without the trailing blank
        rows, as the CSV reader does; this path counts them, as before.
    """
    rows, lines = parse_rows(decode_text(raw, opts.encoding, place), _csv, place)
    if not rows:
        raise source_error(place, "the file holds no text", "export it again", code="file-empty")
    check_widths(rows[0], rows[1:], lines[1:], place)
    check_rows(len(rows) - 1, place, opts)
    data = drop_trailing_blank(rows[1:])
    return build_table(BASE_TABLE, rows[0], data, relative_name=place.file, sheet=None)
