"""Assemble one record per patient from the baseline, joined tables and visit summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spinemet_etl.derive import date_from_duration, summarize_visits
from spinemet_etl.harmonize.tables import TypedTable
from spinemet_etl.mapping.targets import VISIT_OUTPUTS

PRIVATE = ["_key", "_pid", "_file", "_row"]


def _keys(values: pd.DataFrame, tag: str) -> pd.Series:
    """The join key of each row: its source id, or a key of its own when the id is missing."""
    pids = values["_pid"]
    missing = pids.isna().to_numpy()
    if not missing.any():
        return pids
    keys = pids.to_numpy(dtype=object, copy=True)
    keys[missing] = [f"\x1e{tag}{position}" for position in np.flatnonzero(missing)]
    return pd.Series(keys, index=values.index, name=pids.name)


def _attach(failures: pd.DataFrame, keys: pd.Series, records: pd.DataFrame) -> pd.DataFrame:
    """Failures of a joined table's rows, moved onto every record with the same key."""
    if failures.empty:
        return failures.assign(_rec=pd.Series(dtype="int64"))
    keyed = failures.assign(_key=keys.to_numpy()[failures["_pos"].to_numpy(dtype="int64")])
    index = records[["_key"]].reset_index(names="_rec")
    return keyed.merge(index, on="_key", how="inner").drop(columns=["_key"])


def _duplicates(keys: pd.Series, pids: pd.Series) -> pd.DataFrame:
    """Row-level duplicate-patient failures for ids a one-per-patient table holds twice."""
    repeated = keys.duplicated(keep=False) & pids.notna()
    positions = np.flatnonzero(repeated.to_numpy())
    return pd.DataFrame(
        {
            "_pos": positions,
            "column": None,
            "check_code": "duplicate-patient",
            "message": "the patient id occurs more than once in a table joined on it",
            "failure_value": None,
        }
    )


def _join(records: pd.DataFrame, table: TypedTable, tag: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = table.values.assign(_key=lambda frame: _keys(frame, tag))
    first = values.drop_duplicates("_key")
    merged = records.merge(first.drop(columns=["_pid", "_file", "_row"]), on="_key", how="left")
    orphans = first[~first["_key"].isin(records["_key"])]
    merged = pd.concat([merged, orphans], ignore_index=True) if len(orphans) else merged
    failures = pd.concat(
        [table.failures, _duplicates(values["_key"], values["_pid"])], ignore_index=True
    )
    return merged, _attach(failures, values["_key"], merged)


def _visit_summary(table: TypedTable) -> pd.DataFrame:
    """Per patient id, the summary of its visits (summarize_visits leaves out the visits
    without an id, so the visits are passed as they are, not copied)."""
    values = table.values
    dead = "visits.dead" if "visits.dead" in values else None
    recurrence = "visits.recurrence" if "visits.recurrence" in values else None
    frame = values if dead else values.assign(_dead=False)
    summary = summarize_visits(
        frame,
        id_col="_pid", date_col="visits.date", dead_col=dead or "_dead", recurrence_col=recurrence,
    )  # fmt: skip
    keep = list(VISIT_OUTPUTS["date"])
    keep += list(VISIT_OUTPUTS["dead"]) if dead else []
    keep += list(VISIT_OUTPUTS["recurrence"]) if recurrence else []
    return summary[["_pid", *keep]]


def _visit_dates(records: pd.DataFrame, table: TypedTable, keys: pd.Series) -> TypedTable:
    """The visits with each duration since surgery turned into a date, by its record's surgery.

    A visit whose patient has no record with a surgery date gets no date (NaT).
    """
    if not table.durations:
        return table
    surgery = records.drop_duplicates("_key").set_index("_key")["surgery_date"]
    surgery_dates = keys.map(surgery)
    values = table.values.copy(deep=False)
    for column, unit in table.durations.items():
        values[column] = date_from_duration(surgery_dates, values[column], unit).to_numpy()
    return TypedTable(table.role, values, table.failures)


def _stacked_visits(
    records: pd.DataFrame, tables: list[tuple[int, TypedTable]]
) -> tuple[TypedTable, pd.Series]:
    """The visits tables as one (each duration since surgery made a date), and its rows' keys.

    Notes:
        A center may keep visits in several tables (a clinic sheet and a telephone one, or
        follow-up blocks side by side in one sheet); their rows are summarized together,
        a field a table lacks being missing on its rows (a missing flag records nothing).
        One table is passed on as it is, not copied.
    """
    parts, keys, failures, offset = [], [], [], 0
    for number, table in tables:
        key = _keys(table.values, f"t{number}-").rename("_key")
        table = _visit_dates(records, table, key)
        parts.append(table.values)
        keys.append(key)
        failures.append(table.failures.assign(_pos=table.failures["_pos"] + offset))
        offset += len(table.values)
    if len(parts) == 1:
        return TypedTable("visits", parts[0], failures[0]), keys[0]
    for flag in ("visits.dead", "visits.recurrence"):
        if any(flag in part for part in parts):
            parts = [
                part
                if flag in part
                else part.assign(**{flag: pd.array([pd.NA] * len(part), "boolean")})
                for part in parts
            ]
    values = pd.concat(parts, ignore_index=True)
    stacked = TypedTable("visits", values, pd.concat(failures, ignore_index=True))
    return stacked, pd.concat(keys, ignore_index=True)


def _visits(
    records: pd.DataFrame, table: TypedTable, keys: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The records with their visit summaries, plus a record per id only the visits hold.

    Notes:
        The visits (a row each, 1.2M in a large REDCap export) are never copied whole:
        only their keys, and the first row of each key. A copy with the keys added, and
        one of the rows with an id, held about 70 MB more at this step.
    """
    summary = _visit_summary(table).rename(columns={"_pid": "_key"})
    merged = records.merge(summary, on="_key", how="left")
    first = ~keys.duplicated().to_numpy()
    rows = table.values.loc[first, ["_pid", "_file", "_row"]]
    first_rows = pd.concat([keys[first], rows], axis=1)
    orphans = first_rows[~first_rows["_key"].isin(records["_key"])]
    orphans = orphans.merge(summary, on="_key", how="left")
    merged = pd.concat([merged, orphans], ignore_index=True) if len(orphans) else merged
    return merged, _attach(table.failures, keys, merged)


def assemble_records(tables: list[TypedTable]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """One record per baseline row (plus one per id only other tables hold), and their failures.

    Returns the records (canonical columns, `_pid`, `_file`, `_row`; the index is the
    record number), the failures with `_rec`, and the duration columns to convert.

    Notes:
        Every patient id seen in any table makes a record, so nothing is dropped silently:
        an id only a joined or visits table holds is a record counted under that table's
        file (and is quarantined for its missing baseline values). A baseline id repeated
        stays several records (all quarantined as duplicate-patient); an id repeated in a
        one-per-patient joined table quarantines its records the same way. The visits
        tables come after the joined ones, so that a visit date given as a duration since
        surgery finds the surgery date whichever table holds it.
    """
    baseline = next(table for table in tables if table.role == "baseline")
    records = baseline.values.assign(_key=lambda frame: _keys(frame, "baseline"))
    failures = [baseline.failures.assign(_rec=baseline.failures["_pos"].astype("int64"))]
    durations = dict(baseline.durations)
    for number, table in enumerate(tables):
        if table is not baseline and table.role != "visits":
            records, attached = _join(records, table, f"t{number}-")
            failures.append(attached)
            durations.update(table.durations)
    visits = [(number, table) for number, table in enumerate(tables) if table.role == "visits"]
    if visits:
        stacked, keys = _stacked_visits(records, visits)
        records, attached = _visits(records, stacked, keys)
        failures.append(attached)
    combined = pd.concat(failures, ignore_index=True).drop(columns=["_pos"])
    return records.drop(columns=["_key"]), combined, durations
