"""Read a table's export files with their reader, drop identifiers, keep only mapped columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spinemet_etl.errors import Place, source_error
from spinemet_etl.harmonize.files import ExportFile
from spinemet_etl.harmonize.records import ID_PROBLEM, carry_patient_id
from spinemet_etl.mapping.model import TableBase
from spinemet_etl.mapping.rules import column_specs
from spinemet_etl.readers.arrow_csv import ArrowRawTable, column_names, to_frame
from spinemet_etl.readers.base import PROVENANCE_COLUMNS, ColumnPick, RawTable
from spinemet_etl.readers.options import ReadLimits, with_limits
from spinemet_etl.readers.redcap import BASE_TABLE
from spinemet_etl.readers.registry import reader_for
from spinemet_etl.text import code_text


class ReadCache:
    """Export files as read, shared by the tables that read the same file.

    With `uses` (file name -> how many tables read it), a file is let go as soon as the
    last of those tables has taken its rows (`taken`), before those rows become Python
    objects: a large REDCap export is then not held beside its last table's frame.
    """

    def __init__(self, uses: dict[str, int] | None = None) -> None:
        self.tables: dict[tuple[str, str], list[RawTable]] = {}
        self.uses = dict(uses or {})

    def taken(self, name: str) -> bool:
        """One table takes its rows of file `name`; whether the file is now let go."""
        if name not in self.uses:
            return False
        self.uses[name] -= 1
        if self.uses[name] > 0:
            return False
        for key in [key for key in self.tables if key[0] == name]:
            del self.tables[key]
        return True


PICKING_KINDS = frozenset({"csv", "tsv", "redcap"})
"""Source kinds whose reader keeps only the picked columns (ColumnPick)."""


@dataclass
class SourceTable:
    """One mapped table as read: the needed source columns with provenance, and their metadata.

    `rows` is the frame, or the Arrow rows it is made of when first asked for (`frame`).
    `files_1904` names the files that are workbooks in Excel's 1904 date system;
    `decimal_marks` the decimal mark each source column's own metadata states (RawTable).
    """

    table: TableBase
    rows: pd.DataFrame | pa.Table
    labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    user_missing: dict[str, list[Any]] = field(default_factory=dict)
    present: dict[str, list[str]] = field(default_factory=dict)
    files_1904: set[str] = field(default_factory=set)
    decimal_marks: dict[str, str] = field(default_factory=dict)

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a frame of str and None (to_frame), made once; the Arrow rows let go.

        Notes:
            A table read from one delimited export stays Arrow until it is typed: its
            Python objects are then not held beside the export while the export's other
            tables take their rows, nor beside the other tables' objects (Barcelona at 5M,
            1.5M rows: 40 MB less at the read's peak).
        """
        if isinstance(self.rows, pa.Table):
            self.rows = to_frame(self.rows)
        return self.rows

    def columns(self) -> list[str]:
        """The rows' column names, without making the frame."""
        return list(self.rows.column_names if isinstance(self.rows, pa.Table) else self.rows)


def needed_columns(table: TableBase) -> dict[str, str]:
    """Source column -> what the mapping uses it for; checkbox fields listed by their prefix."""
    needed = {table.patient_id: "patient_id"}
    record = getattr(table, "record_id", None)
    if record is not None:
        needed[record] = "the REDCap record (`record_id`)"
    needed.update({column: "a row filter (`where`)" for column in table.where})
    for loc, (spec, _target) in column_specs(table).items():
        if spec.source is not None and not spec.optional:
            needed[spec.source] = ".".join(loc)
    return needed


def _checkbox_prefixes(table: TableBase) -> tuple[str, ...]:
    return tuple(f"{spec.checkbox}___" for spec, _ in column_specs(table).values() if spec.checkbox)


def _checkbox_columns(table: TableBase, columns: list[str]) -> list[str]:
    return [column for column in columns if column.startswith(_checkbox_prefixes(table))]


def column_pick(table: TableBase) -> ColumnPick:
    """Every source column the table may use: what it needs, optional sources, checkboxes."""
    names = set(needed_columns(table))
    names.update(spec.source for spec, _ in column_specs(table).values() if spec.source)
    return ColumnPick(frozenset(names), _checkbox_prefixes(table))


def file_picks(
    tables: Sequence[TableBase], exports: Sequence[list[ExportFile]]
) -> dict[str, ColumnPick]:
    """Per export file, the columns of every table that reads it (a file is read once)."""
    picks: dict[str, ColumnPick] = {}
    for table, files in zip(tables, exports, strict=True):
        pick = column_pick(table)
        for export in files:
            known = picks.get(export.name)
            picks[export.name] = pick if known is None else known | pick
    return picks


def file_sheets(
    tables: Sequence[TableBase], exports: Sequence[list[ExportFile]]
) -> dict[tuple[str, str], list[str]]:
    """Per export file and read options, the sheets of every table that reads it so.

    The tables reading sheets of one workbook with the same options then share one read
    of it (its safety checks and its shared strings once); sheets in the tables' order,
    so a missing sheet is named as a read of each table alone would name it.
    """
    sheets: dict[tuple[str, str], list[str]] = {}
    for table, files in zip(tables, exports, strict=True):
        sheet = getattr(table, "sheet", None)
        if sheet is None:
            continue
        for export in files:
            wanted = sheets.setdefault((export.name, table.read.model_dump_json()), [])
            wanted.extend([] if sheet in wanted else [sheet])
    return sheets


def _pick(raw_tables: list[RawTable], table: TableBase, place: Place) -> RawTable:
    wanted = getattr(table, "sheet", None) or getattr(table, "instrument", None)
    if wanted is None and table.kind == "redcap":
        wanted = BASE_TABLE
    if wanted is None:
        return raw_tables[0]
    for raw in raw_tables:
        if raw.name == wanted:
            return raw
    names = ", ".join(raw.name for raw in raw_tables)
    raise source_error(
        place,
        f"no table `{wanted}` in the export (tables present: {names})",
        "fix `sheet` or `instrument` in the mapping file, or ask the center for the full export",
        code="table-not-found",
    )


def _read_raw(
    center_id: str,
    table: TableBase,
    export: ExportFile,
    cache: ReadCache,
    limits: ReadLimits | None,
    pick: ColumnPick | None,
    sheets: dict[tuple[str, str], list[str]] | None = None,
) -> RawTable:
    options = table.read
    sheet = getattr(table, "sheet", None)
    if sheet is not None:
        wanted = (sheets or {}).get((export.name, options.model_dump_json()), [sheet])
        options = options.model_copy(update={"sheets": wanted})
    if limits is not None:
        options = with_limits(options, **asdict(limits))
    if table.kind not in PICKING_KINDS:
        pick = None
    key = (export.name, f"{table.kind}:{options.model_dump_json()}:{pick}")
    if key not in cache.tables:
        reader = reader_for(table.kind, center_id)
        extra = {} if pick is None else {"pick": pick}
        cache.tables[key] = reader.read(export.path, export.name, options, **extra)
    raw = _pick(cache.tables[key], table, Place(center_id, export.name, sheet))
    record = getattr(table, "record_id", None)
    if record is None:
        return raw
    return carry_patient_id(cache.tables[key], raw, record, table.patient_id)


def text_keys(values: pd.Series) -> pd.Series:
    """Each value's code_text (None where missing), computed once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = np.asarray([*(code_text(unique) for unique in uniques), None], dtype=object)
    return pd.Series(keys[codes], index=values.index, dtype=object)


def _row_mask(frame: pd.DataFrame, table: TableBase) -> pd.Series:
    """The rows the table's `where` keeps."""
    keep = pd.Series(True, index=frame.index)
    for column, wanted in table.where.items():
        keys = text_keys(frame[column])
        texts = [value for value in wanted if value is not None]
        keep &= keys.isin(texts) | (keys.isna() & (None in wanted))
    return keep


def _arrow_row_mask(columns: pa.Table, table: TableBase) -> np.ndarray:
    """_row_mask on Arrow columns: code_text of each distinct value, no object per row.

    Notes:
        A 1.5M-row REDCap export's event column as Python objects, and pandas' numbering
        of them, held 60 MB more for a moment than this (docs/performance.md).
    """
    keep = np.ones(columns.num_rows, dtype=bool)
    for column, wanted in table.where.items():
        values = columns.column(column)
        distinct = pc.unique(values).drop_null()
        keys = pd.Series([code_text(value) for value in distinct.to_pylist()], dtype=object)
        texts = [value for value in wanted if value is not None]
        chosen = (keys.isin(texts) | (keys.isna() & (None in wanted))).to_numpy()
        matched = pc.is_in(values, value_set=distinct.filter(pa.array(chosen, pa.bool_())))
        found = matched.to_numpy(zero_copy_only=False).astype(bool)
        if None in wanted:
            found |= pc.is_null(values).to_numpy(zero_copy_only=False)
        keep &= found
    return keep


def _filter_rows(frame: pd.DataFrame, table: TableBase) -> pd.DataFrame:
    return frame[_row_mask(frame, table)] if table.where else frame


def _selected(raw: RawTable, table: TableBase, selected: list[str]) -> pd.DataFrame | pa.Table:
    """The kept rows of the selected columns, copied once (identifiers never among them).

    Rows still in Arrow stay Arrow (to_frame makes the frame of just those columns and
    rows, once the export itself can be let go).
    """
    names = column_names(raw)
    columns = set(names).difference(table.identifiers)
    if len(set(selected)) < len(selected) or not columns.issuperset([*selected, *table.where]):
        frame = raw.frame
        identifiers = [c for c in table.identifiers if c in frame.columns]
        return _filter_rows(frame.drop(columns=identifiers), table)[selected]
    if isinstance(raw, ArrowRawTable) and len(set(names)) == len(names):
        if not table.where:
            return raw.select(selected)
        keep = _arrow_row_mask(raw.rows.select(list(table.where)), table)
        if raw.keep is not None:  # the rows of the table's instrument, filtered with it at once
            keep &= pc.fill_null(raw.keep, False).to_numpy(zero_copy_only=False)
        return raw.rows.select(selected).filter(pa.array(keep, pa.bool_()))
    if not table.where:
        return raw.frame[selected]
    return raw.frame.loc[_row_mask(raw.frame, table).to_numpy(), selected]


def _narrowed(raw: RawTable, columns: list[str]) -> RawTable:
    """An Arrow table holding only `columns` of `raw`'s rows (its column names unchanged).

    Notes:
        The last table to read an export takes its rows once the export is let go by the
        cache: narrowed first, the columns only other tables used are freed before its rows
        are copied, not after (Barcelona at 5M, a 1.5M-row REDCap export whose visits are
        its last table: 793 -> 639 MB at that step). Anything else is returned as it is.
    """
    names = column_names(raw)
    wanted = list(dict.fromkeys(columns))
    if not isinstance(raw, ArrowRawTable) or len(set(names)) < len(names):
        return raw
    if not set(wanted).issubset(raw.rows.column_names):
        return raw
    narrowed = ArrowRawTable(
        raw.name, raw.rows.select(wanted), raw.labels, raw.user_missing, keep=raw.keep,
        header=names,
    )  # fmt: skip
    narrowed.decimal_marks = raw.decimal_marks
    return narrowed


def _check_columns(center_id: str, table: TableBase, raw: RawTable, export: ExportFile) -> None:
    present = [c for c in column_names(raw) if c not in PROVENANCE_COLUMNS]
    needed = needed_columns(table)
    for spec, _target in column_specs(table).values():
        if spec.checkbox and not any(c.startswith(f"{spec.checkbox}___") for c in present):
            needed[f"{spec.checkbox}___<code>"] = f"checkbox field `{spec.checkbox}`"
    for column, use in needed.items():
        if column not in present:
            sheet = getattr(table, "sheet", None)
            raise source_error(
                Place(center_id, export.name, sheet, column=column),
                f"column not found; the mapping expects it as `{use}` (table `{table.name}`). "
                f"Columns present: {', '.join(present)}",
                "fix the column name in the mapping file, or ask the center to export it again",
                code="column-missing",
            )


def read_table(
    center_id: str,
    table: TableBase,
    exports: list[ExportFile],
    cache: ReadCache,
    limits: ReadLimits | None = None,
    picks: dict[str, ColumnPick] | None = None,
    sheets: dict[tuple[str, str], list[str]] | None = None,
) -> SourceTable:
    """The table's rows from every selected file, identifiers dropped right after reading.

    `picks` (file_picks) limits what the delimited readers keep of each file; without
    it every column is read. `sheets` (file_sheets) lets the tables reading one workbook
    share its read; without it each reads its own sheet.
    """
    parts: list[pd.DataFrame | pa.Table] = []
    result = SourceTable(table, pd.DataFrame())
    for export in exports:
        pick = None if picks is None else picks.get(export.name)
        raw = _read_raw(center_id, table, export, cache, limits, pick, sheets)
        identifiers = set(table.identifiers)
        columns = [c for c in column_names(raw) if c not in identifiers]
        _check_columns(center_id, table, raw, export)
        result.present[export.name] = [
            c for c in columns if c not in (*PROVENANCE_COLUMNS, ID_PROBLEM)
        ]
        keep = [*needed_columns(table), *_checkbox_columns(table, columns)]
        optional = [spec.source for spec, _ in column_specs(table).values() if spec.optional]
        keep += [column for column in optional if column and column in columns]
        keep += [ID_PROBLEM] if ID_PROBLEM in columns else []
        result.labels = {**raw.labels, **result.labels}
        result.decimal_marks = {**raw.decimal_marks, **result.decimal_marks}
        result.user_missing = {**raw.user_missing, **result.user_missing}
        if raw.dates_1904:
            result.files_1904.add(export.name)
        selected = [*dict.fromkeys(keep), *PROVENANCE_COLUMNS]
        if cache.taken(export.name):
            raw = _narrowed(raw, [*selected, *table.where])
        parts.append(_selected(raw, table, selected))
        del raw
    if len(parts) == 1 and isinstance(parts[0], pa.Table):
        result.rows = parts[0]  # made a frame when typed (SourceTable.frame)
        return result
    frames = []
    while parts:  # each file's Arrow rows let go once made a frame
        part = parts.pop(0)
        frames.append(to_frame(part) if isinstance(part, pa.Table) else part)
    result.rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if not _is_range(result.rows.index):
        result.rows = result.rows.reset_index(drop=True)
    return result


def _is_range(index: pd.Index) -> bool:
    """Whether the index is already 0, 1, …, n-1 (what reset_index would make)."""
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
