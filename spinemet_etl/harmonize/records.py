"""REDCap records: the patient id recorded on one event, carried to every row of its record."""

from __future__ import annotations

import pandas as pd

from spinemet_etl.pseudonym import normalize_source_ids
from spinemet_etl.readers.arrow_csv import ArrowRawTable, column_names, to_frame
from spinemet_etl.readers.base import RawTable

ID_PROBLEM = "_id_problem"
"""Column of a carried table: why its row has no patient id (None when it has one)."""


def _columns(raw: RawTable, columns: list[str]) -> pd.DataFrame:
    if isinstance(raw, ArrowRawTable):
        return to_frame(raw.select(columns))
    return raw.frame[columns]


def record_ids(tables: list[RawTable], record: str, patient_id: str) -> pd.DataFrame:
    """Per record: its one patient id (`id`), how many distinct ids it holds (`n`).

    Every row of the export counts, whatever its event or instrument: the id is usually
    filled on the baseline event's row only.
    """
    pairs = pd.concat([_columns(raw, [record, patient_id]) for raw in tables], ignore_index=True)
    pairs[patient_id] = normalize_source_ids(pairs[patient_id])
    grouped = pairs.dropna(subset=[record]).groupby(record, sort=False)[patient_id]
    summary = pd.DataFrame({"id": grouped.first(), "n": grouped.nunique()})
    summary.loc[summary["n"] != 1, "id"] = None
    return summary


def carry_patient_id(
    tables: list[RawTable], raw: RawTable, record: str, patient_id: str
) -> RawTable:
    """`raw` with each row's patient id taken from its record, and ID_PROBLEM where it has none.

    Notes:
        REDCap's `record_id` ties a record's rows inside one export but can be renumbered
        between exports (sources.md); the stable id is the field recorded on one event.
        A record holding two different ids, or none, gets no id (never a guess): its rows
        are quarantined `missing-required` on patient_id, with ID_PROBLEM saying why.
    """
    if not {record, patient_id}.issubset(column_names(raw)):
        return raw  # the column check names what is missing
    summary = record_ids(tables, record, patient_id)
    frame = raw.frame.copy()
    keys = frame[record]
    frame[patient_id] = keys.map(summary["id"]).astype(object)
    counts = keys.map(summary["n"]).fillna(0).astype(int)
    problem = pd.Series(None, index=frame.index, dtype=object)
    problem[counts > 1] = counts[counts > 1].map(
        lambda n: (
            f"its REDCap record holds {n} different values of `{patient_id}`; the "
            "patient id is ambiguous: correct the record in REDCap"
        )
    )
    problem[counts == 0] = (
        f"its REDCap record holds no value of `{patient_id}` on any row; enter it in REDCap"
    )
    frame[ID_PROBLEM] = problem
    return RawTable(
        raw.name, frame, raw.labels, raw.user_missing, raw.dates_1904, raw.decimal_marks
    )
