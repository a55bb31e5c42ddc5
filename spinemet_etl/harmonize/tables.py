"""Convert a read table's source columns into typed canonical columns, collecting parse failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.patients import FRANKEL_GRADES
from schemas.quarantine import IDENTIFYING_MASK
from spinemet_etl.derive import frankel_from_asia, vas_from_0_100
from spinemet_etl.errors import Place, source_error
from spinemet_etl.harmonize.convert import (
    MESSAGES,
    Factorized,
    arrow_factorized,
    compile_rule,
    convert_factorized,
    factorized,
    two_digit_years,
)
from spinemet_etl.harmonize.date_order import DateOrder, date_order, exchanged
from spinemet_etl.harmonize.read import SourceTable, text_keys
from spinemet_etl.harmonize.records import ID_PROBLEM
from spinemet_etl.mapping.model import DURATION_UNITS, ColumnMap, TableBase
from spinemet_etl.mapping.rules import column_specs, value_kind
from spinemet_etl.mapping.targets import BIRTH_DATE
from spinemet_etl.mapping.vocabulary import load_vocabulary
from spinemet_etl.pseudonym import normalize_source_ids, normalize_text_ids
from spinemet_etl.readers.arrow_csv import to_frame
from spinemet_etl.text import code_key, code_text, source_text

FAILURE_COLUMNS = ["_pos", "column", "check_code", "message", "failure_value"]
REPORTED_AS = {
    BIRTH_DATE: "age_at_surgery_years",
    "visits.date": "last_contact_date",
    "visits.dead": "vital_status",
    "visits.recurrence": "local_recurrence",
}
"""The canonical column a failure is reported on, for inputs that are not canonical columns."""
IDENTIFYING_INPUTS = frozenset({BIRTH_DATE, "patient_id"})
EXCEL_1904_OFFSET_DAYS = 1462
"""Days from the 1900 date system's day 0 (1899-12-30) to the 1904 system's (1904-01-01)."""


@dataclass
class TypedTable:
    """A table's canonical values (one column per mapped target) and its parse failures.

    `values` keeps the row order of the source table and carries `_pid` (the normalized
    source patient id, never output), `_file` and `_row`. `failures` has FAILURE_COLUMNS,
    `_pos` being the row's position. `durations` names the columns still holding a duration
    since surgery, with its unit.
    """

    role: str
    values: pd.DataFrame
    failures: pd.DataFrame
    durations: dict[str, str] = field(default_factory=dict)


VAS_SCALE_DISTINCT = 3
"""Different pain scores above 10 that a 0-100 scale shows, at the least (_refuse_vas_on_0_100)."""


def empty_failures() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in FAILURE_COLUMNS})


def _checkbox(frame: pd.DataFrame, field_name: str) -> pd.Series:
    """The one ticked code of a REDCap checkbox field; blank if none, `<several>` if many."""
    columns = [c for c in frame.columns if c.startswith(f"{field_name}___")]
    if not columns:
        return pd.Series(None, index=frame.index, dtype=object)
    ticked = pd.DataFrame({c: text_keys(frame[c]) == "1" for c in columns})
    codes = np.asarray([c.removeprefix(f"{field_name}___") for c in columns], dtype=object)
    count = ticked.sum(axis=1).to_numpy()
    first = codes[ticked.to_numpy().argmax(axis=1)] if len(columns) else codes
    several = np.full(len(frame), None, dtype=object)
    several[count > 1] = "<several>"
    chosen = np.where(count == 1, first, several)
    return pd.Series(chosen, index=frame.index, dtype=object)


def raw_values(frame: pd.DataFrame, spec: ColumnMap) -> pd.Series:
    """The source values a spec reads: its column, its checkbox field, or its constant."""
    if spec.checkbox is not None:
        return _checkbox(frame, spec.checkbox)
    if spec.constant is not None:
        return pd.Series([spec.constant] * len(frame), index=frame.index, dtype=object)
    if spec.source in frame.columns:
        return frame[spec.source]
    return pd.Series(None, index=frame.index, dtype=object)


def _late_two_digit_years(
    values: pd.DataFrame, pending: list[tuple[str, ColumnMap, Factorized, np.ndarray]]
) -> list[pd.DataFrame]:
    """unparseable-date for two-digit years read without a pivot that land after surgery.

    Notes:
        `14.10.63` read with `%y` is 2063; as a birth date it would give a negative age, as
        a death a 40-year follow-up. Without `century_pivot` the century is not guessed:
        such a date after the record's surgery date (in the same table) is refused.
    """
    found = []
    for name, spec, raw, flags in pending:
        if "surgery_date" not in values:
            continue
        late = flags & (values[name] > values["surgery_date"]).fillna(False).to_numpy(dtype=bool)
        codes = pd.Series(["unparseable-date" if is_late else None for is_late in late])
        values.loc[late, name] = pd.NaT
        message = "a two-digit year that lands after the surgery date; set `century_pivot`"
        failed = _failures(name, spec, raw, codes, message)
        found += [failed] if failed is not None else []
    return found


def _failures(
    name: str,
    spec: ColumnMap,
    raw: Factorized,
    codes: pd.Series,
    message: str | None = None,
    hints: dict[str, str] | None = None,
    row_hints: np.ndarray | None = None,
) -> pd.DataFrame | None:
    """The column's failures, one a row; `hints` end the message per code, `row_hints` per row."""
    failed = pd.notna(codes.to_numpy())
    if not failed.any():
        return None
    reported = REPORTED_AS.get(name, name)
    shown = raw.at(failed).map(source_text, na_action="ignore")
    if name in IDENTIFYING_INPUTS:
        shown = shown.map(lambda _: IDENTIFYING_MASK)
    source = spec.source or spec.checkbox or "constant"
    return pd.DataFrame(
        {
            "_pos": np.flatnonzero(failed),
            "column": reported,
            "check_code": codes[failed].to_numpy(),
            "message": [
                f"source column `{source}`: {message or MESSAGES[c]}{(hints or {}).get(c, '')}"
                f"{row_hint}"
                for c, row_hint in zip(
                    codes[failed],
                    row_hints[failed] if row_hints is not None else [""] * int(failed.sum()),
                    strict=True,
                )
            ],
            "failure_value": shown.to_numpy(dtype=object),
        }
    )


def serials_as_1900(raw: pd.Series, in_1904: np.ndarray) -> pd.Series:
    """The plain numbers of rows from 1904-system workbooks as 1900-system serials.

    Notes:
        A 1904 workbook counts days from 1904-01-01, 1,462 days after the 1900 system's
        day 0 (1899-12-30); read as a 1900 serial its dates would be four years early.
    """
    numbers = raw.map(
        lambda value: (
            isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool | np.bool_)
        )
    ).to_numpy(dtype=bool)
    shift = numbers & in_1904
    if not shift.any():
        return raw
    shifted = raw.astype(object).copy()
    shifted[shift] = [float(value) + EXCEL_1904_OFFSET_DAYS for value in raw[shift]]
    return shifted


def _rebased(raw: pd.Series, rule: Any, files: pd.Series, source: SourceTable) -> pd.Series:
    if not _in_1904(rule, source):
        return raw
    return serials_as_1900(raw, files.isin(source.files_1904).to_numpy())


def _in_1904(rule: Any, source: SourceTable) -> bool:
    """Whether the rule reads Excel serials, some of them from 1904-system workbooks."""
    return bool(rule.excel_serial and rule.kind == "date" and source.files_1904)


class _Columns:
    """A source table's columns as type_table reads them: from its frame, or, for rows
    still in Arrow (a delimited export), from Arrow without a Python object per cell.

    Notes:
        Each column is factorized either way (pandas.factorize, or Arrow's dictionary
        encoding: arrow_factorized), and converted once per distinct value. Only checkbox
        fields are made a frame, of their own columns.
    """

    def __init__(self, source: SourceTable) -> None:
        arrow = source.rows if isinstance(source.rows, pa.Table) else None
        if arrow is not None and len(set(arrow.column_names)) < arrow.num_columns:
            arrow = None  # a name twice: the frame's columns, as pandas makes them
        self.arrow = arrow
        self.frame = source.frame if arrow is None else pd.DataFrame()
        self.count = len(self.frame) if arrow is None else arrow.num_rows

    def has(self, name: str) -> bool:
        if self.arrow is not None:
            return name in self.arrow.column_names
        return name in self.frame.columns

    def series(self, name: str) -> pd.Series:
        """One column as the frame holds it (a dictionary column as its values)."""
        if self.arrow is None:
            return self.frame[name].reset_index(drop=True)
        return to_frame(self.arrow.select([name])).iloc[:, 0]

    def ids(self, name: str) -> np.ndarray:
        """normalize_source_ids of the column, as an object array."""
        column = None if self.arrow is None else self.arrow.column(name)
        if column is not None and pa.types.is_string(column.type):
            ids = arrow_factorized(column)
            return normalize_text_ids(ids.codes, ids.uniques)
        return normalize_source_ids(self.series(name)).to_numpy(dtype=object)

    def raw(self, spec: ColumnMap) -> pd.Series:
        """raw_values of the spec, from a frame of only the columns it reads."""
        if self.arrow is None:
            return raw_values(self.frame, spec).reset_index(drop=True)
        columns = []
        if spec.checkbox is not None:
            prefix = f"{spec.checkbox}___"
            columns = [name for name in self.arrow.column_names if name.startswith(prefix)]
        elif spec.constant is None and spec.source is not None and self.has(spec.source):
            columns = [spec.source]
        if not columns:
            return raw_values(pd.DataFrame(index=pd.RangeIndex(self.count)), spec)
        return raw_values(to_frame(self.arrow.select(columns)), spec)

    def distinct(self, name: str) -> list[Any]:
        """The column's distinct values, missing ones left out."""
        if self.arrow is not None:
            return pc.unique(self.arrow.column(name)).drop_null().to_pylist()
        return list(self.frame[name].dropna().unique())

    def factorized(self, spec: ColumnMap) -> Factorized:
        """The spec's source values factorized."""
        if self.arrow is not None and spec.checkbox is None and spec.constant is None:
            if spec.source is None or not self.has(spec.source):
                return Factorized(np.full(self.count, -1, dtype=np.intp), np.empty(0, object))
            column = self.arrow.column(spec.source)
            if pa.types.is_string(column.type):
                return arrow_factorized(column)
        return factorized(self.raw(spec))


def _convert(values: pd.Series, codes: pd.Series, spec: ColumnMap) -> pd.Series:
    """The converted values; an ASIA text that is no grade fails (`codes`) and is emptied."""
    if spec.convert == "vas_0_100":
        return vas_from_0_100(values)
    if spec.convert == "asia_to_frankel":
        grades = frankel_from_asia(values)
        wrong = grades.notna() & ~grades.isin(FRANKEL_GRADES)
        codes[wrong] = "not-in-categories"
        return grades.where(~wrong, None)
    return values


def _label_not_code(values: Any, labels: dict[Any, str], missing: frozenset[str]) -> str | None:
    """A value that is one of the column's labels and none of its codes nor of the missing
    codes, if any."""
    codes = {code_text(code) for code in labels}
    texts = {source_text(label).casefold() for label in labels.values()}
    for value in values:
        if code_text(value) in codes or code_key(value) in missing:
            continue
        if source_text(value).casefold() in texts:
            return source_text(value)
    return None


def _column_place(source: SourceTable, center_id: str, column: str | None) -> Place:
    """Where a column of the table is: its (first) file, or the table's name if none."""
    return Place(center_id, next(iter(source.present), source.table.name), column=column)


def _refuse_labels_export(
    source: SourceTable,
    columns: _Columns,
    spec: ColumnMap,
    raw: Factorized,
    missing: frozenset[str],
    center_id: str,
) -> None:
    """Raise when a REDCap column holds choice labels where the raw export has codes.

    Notes:
        REDCap's "CSV (labels)" export beside its "CSV (raw data)" one writes `Hombre` for
        the code `1`, `Checked` for a ticked checkbox. Read as codes, a checkbox would be
        unticked on every row and a label that is also another code (`1, 0 | 2, 1`) would
        be that code: a silent misread. A value that is a label and no code means the
        file is such an export, and the center is refused. The column's missing codes do
        not count: REDCap writes a project's missing-data codes (`NA`, `UNK`) as they are.
    """
    if source.table.kind != "redcap":
        return
    found: list[tuple[str, Any]] = []
    if spec.checkbox is not None:
        prefix = f"{spec.checkbox}___"
        found = [
            (c, columns.distinct(c))
            for c in source.labels
            if c.startswith(prefix) and columns.has(c)
        ]
    elif spec.source is not None and spec.source in source.labels:
        found = [(spec.source, raw.uniques)]
    for column, values in found:
        if (label := _label_not_code(values, source.labels[column], missing)) is not None:
            raise source_error(
                _column_place(source, center_id, column),
                f"the column holds the choice label `{label}` where a REDCap raw export has "
                "its code: the file is an export of labels",
                f'export the data from REDCap again as "CSV (raw data)" (if `{label}` is one '
                "of the project's missing-data codes, list it under `missing` instead)",
                code="redcap-labels-export",
            )


def type_table(
    source: SourceTable,
    mapping_dir: Path,
    vocabularies: dict[str, Any],
    center_id: str = "unknown",
) -> TypedTable:
    """Every mapped column of the table as typed canonical values, plus the parse failures.

    Raises SourceError (`redcap-labels-export`) for a REDCap export of labels, not codes.
    """
    table, columns = source.table, _Columns(source)
    values = pd.DataFrame(
        {
            "_pid": columns.ids(table.patient_id),
            "_file": columns.series("_source_file").to_numpy(dtype=object),
            "_row": columns.series("_source_row").to_numpy(dtype="int64"),
        }
    )
    typed = TypedTable(table.role, values, empty_failures())
    failures = [typed.failures]
    pending: list[tuple[str, ColumnMap, Factorized, np.ndarray]] = []
    for loc, (spec, target) in column_specs(table).items():
        name = loc[1] if loc[0] == "columns" else f"visits.{loc[1]}"
        if spec.vocabulary is not None and spec.vocabulary not in vocabularies:
            vocabularies[spec.vocabulary] = load_vocabulary(mapping_dir, spec.vocabulary)
        source_mark = source.decimal_marks.get(spec.source or "")
        rule = compile_rule(
            spec, target, value_kind(spec, target),
            table_missing=table.missing, table_decimal=_stated_decimal(table),
            table_formats=table.date_format, table_excel_serial=table.excel_serial,
            table_thousands=table.thousands, table_century_pivot=table.century_pivot,
            labels=source.labels.get(spec.source or ""),
            user_missing=source.user_missing.get(spec.source or "", []),
            vocabulary=vocabularies.get(spec.vocabulary or ""),
            source_decimal=source_mark,
        )  # fmt: skip
        raw = columns.factorized(spec)
        _refuse_labels_export(source, columns, spec, raw, rule.missing, center_id)
        converting = raw
        if _in_1904(rule, source):
            converting = factorized(_rebased(columns.raw(spec), rule, values["_file"], source))
        converted, codes = convert_factorized(rule, converting, values.index)
        row_hints = None
        if (order := date_order(rule, converting, converted, codes)) is not None:
            _refuse_contradicted_order(order, source, spec, center_id)
            converted, row_hints = _judged_order(order, converting, converted, codes)
        values[name] = _convert(converted, codes, spec)
        _refuse_vas_on_0_100(name, values[name], source, spec, center_id)
        if spec.convert in DURATION_UNITS:
            typed.durations[name] = DURATION_UNITS[spec.convert]
        hints = _mark_hints(rule.decimal, source_mark)
        found = _failures(name, spec, raw, codes, hints=hints, row_hints=row_hints)
        if found is not None:
            failures.append(found)
        if name != "surgery_date" and (flags := two_digit_years(rule, raw)).any():
            pending.append((name, spec, raw, flags))
    failures += _late_two_digit_years(values, pending)
    if columns.has(ID_PROBLEM):
        failures.append(_id_failures(columns.series(ID_PROBLEM)))
    typed.failures = pd.concat(failures, ignore_index=True)
    return typed


def _refuse_vas_on_0_100(
    name: str, scores: pd.Series, source: SourceTable, spec: ColumnMap, center_id: str
) -> None:
    """Raise when most of a 0-10 pain column's scores lie above 10 and up to 100, in at
    least VAS_SCALE_DISTINCT different values.

    Notes:
        Read on 0-10, a 0-100 column's scores above 10 are quarantined as out-of-range
        and its scores of 10 or less are read as they are (5 of 100 as 5 of 10), silently:
        a center whose form moved to 0-100 would publish such rows. A score above 10 among
        mostly 0-10 ones is a slip, and one value repeated (`11`) a slip or a code: both
        are left to the quarantine.
    """
    if not name.startswith("vas_pain") or spec.convert is not None:
        return
    numbers = pd.to_numeric(scores, errors="coerce")
    high = numbers[(numbers > 10) & (numbers <= 100)]
    above, within = len(high), int(((numbers >= 0) & (numbers <= 10)).sum())
    if above <= within or high.nunique() < VAS_SCALE_DISTINCT:
        return
    raise source_error(
        _column_place(source, center_id, spec.source),
        f"{above} of the column's {above + within} pain scores lie above 10, up to 100: its "
        "scale is 0-100, and its scores of 10 or less would be read on 0-10",
        "state `convert: vas_0_100` for the column if the export's scale is 0-100, or "
        "correct the scores",
        code="vas-scale-contradicted",
    )


def _refuse_contradicted_order(
    order: DateOrder, source: SourceTable, spec: ColumnMap, center_id: str
) -> None:
    """Raise when most of a column's dates that read in one order only read exchanged."""
    if not order.contradicted:
        return
    raise source_error(
        _column_place(source, center_id, spec.source),
        f"{order.against} of the column's {order.agree + order.against} dates that read in "
        f"one order only read with the day and month exchanged (`{order.other}`), not as the "
        f"mapping's `{order.stated}`: the column's other dates would be read exchanged",
        f'state `date_format: "{order.other}"` for the column (or its table) if the export '
        "writes its dates so, or correct the dates that are not",
        code="date-order-contradicted",
    )


def _judged_order(
    order: DateOrder, column: Factorized, converted: pd.Series, codes: pd.Series
) -> tuple[pd.Series, np.ndarray | None]:
    """The column's days and per-row message endings once its order evidence is weighed.

    Notes:
        A date that failed but reads with the day and month exchanged says so in its
        message. When such dates are more than slips (DateOrder.mixed), the column holds
        both orders, and each date that reads as another day exchanged is refused as
        `ambiguous-date` (`codes` is updated in place) instead of read in the stated order.
    """
    mixed = order.mixed
    if not (mixed or order.reads_other.any()):
        return converted, None
    hints = np.full(len(column.uniques), "", dtype=object)
    for position in np.flatnonzero(order.reads_other | (order.both & mixed)).tolist():
        stated = order.formats[position]
        other = exchanged(stated)
        hints[position] = (
            f" (it reads as `{other}`, the day and month exchanged)"
            if order.reads_other[position]
            else f": it reads as `{stated}` and as `{other}`, and in {order.against} of its "
            "rows the column reads only exchanged"
        )
    if mixed:
        both = column.spread(order.both, False)
        codes[both] = "ambiguous-date"
        converted = converted.where(~both)
    return converted, column.spread(hints, "")


def _mark_hints(used: str, stated: str | None) -> dict[str, str]:
    """What an unparseable number's message adds when the source states another mark."""
    if stated is None or stated == used:
        return {}
    hint = (
        f" with the decimal mark `{used}` the mapping states; REDCap's data dictionary "
        f'validates the field with `{stated}`: state `decimal: "{stated}"` on the column, '
        "or no `decimal` or `thousands` for it"
    )
    return {"unparseable-number": hint}


def _stated_decimal(table: TableBase) -> str | None:
    """The table's decimal mark if its mapping states one (else a source's own may decide)."""
    return table.decimal if "decimal" in table.model_fields_set else None


def _id_failures(problems: pd.Series) -> pd.DataFrame:
    """missing-required on patient_id for rows whose REDCap record gave no one id."""
    failed = problems.notna().to_numpy()
    return pd.DataFrame(
        {
            "_pos": np.flatnonzero(failed),
            "column": "patient_id",
            "check_code": "missing-required",
            "message": problems[failed].to_numpy(dtype=object),
            "failure_value": None,
        }
    )
