"""Lazy pandera validation of assembled records, merged with the parse failures into reasons."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from schemas.codes import CHECK_CODES, code_for_pandera_check
from schemas.quarantine import IDENTIFYING_MASK
from spinemet_etl.derive import DERIVED_COLUMNS
from spinemet_etl.harmonize.checks import (
    column_schema,
    frame_check_failures,
    narrowed_schema,
    suspect_columns,
)
from spinemet_etl.text import source_text

REASON_COLUMNS = ["_rec", "column", "check_code", "message", "failure_value"]
CROSS_FIELD_INPUTS = frozenset(
    {
        "surgery_date", "death_date", "last_contact_date", "local_recurrence_date",
        "vital_status", "intraop_death", "local_recurrence", "patient_id",
    }
)  # fmt: skip
"""The columns the model's cross-field rules read."""
IDENTIFYING_COLUMNS = frozenset({"patient_id"})


def _shown(column: Any, value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    if column in IDENTIFYING_COLUMNS:
        return IDENTIFYING_MASK
    return source_text(value)


def _column_reasons(cases: pd.DataFrame) -> pd.DataFrame:
    codes = cases["check"].astype(str).map(code_for_pandera_check)
    return pd.DataFrame(
        {
            "_rec": cases["index"].astype("int64").to_numpy(),
            "column": cases["column"].to_numpy(dtype=object),
            "check_code": codes.to_numpy(dtype=object),
            "message": [
                f"`{c}`: {CHECK_CODES[k]}" for c, k in zip(cases["column"], codes, strict=True)
            ],
            "failure_value": [
                _shown(c, v) for c, v in zip(cases["column"], cases["failure_case"], strict=True)
            ],
        }
    )


def _row_reasons(frame: pd.DataFrame) -> pd.DataFrame:
    """One reason per row and failed cross-field check of PatientsModel."""
    parts = [
        pd.DataFrame(
            {
                "_rec": frame.index[positions].to_numpy(dtype="int64"),
                "column": None,
                "check_code": code_for_pandera_check(check),
                "message": CHECK_CODES[code_for_pandera_check(check)],
                "failure_value": None,
            }
        )
        for check, positions in frame_check_failures(frame)
    ]
    empty = pd.DataFrame({name: pd.Series(dtype=object) for name in REASON_COLUMNS})
    return pd.concat([empty, *parts], ignore_index=True).astype({"_rec": "int64"})


def _column_cases(frame: pd.DataFrame) -> pd.DataFrame:
    """pandera's lazy failure cases of the columns, on the cells that fail a column check.

    Only the columns with a suspect row are validated, on the rows suspect in one of
    them: a column without one has nothing to report. A frame whose columns are not the
    schema's is validated whole on its suspect rows (pandera then names what is wrong).
    """
    schema = column_schema()
    masks = suspect_columns(frame, schema)
    columns = tuple(name for name, mask in masks.items() if mask.any())
    rows = np.logical_or.reduce([np.zeros(len(frame), dtype=bool), *masks.values()])
    if list(frame.columns) == list(schema.columns):
        schema, frame = narrowed_schema(columns), frame.loc[rows, list(columns)]
    else:
        frame = frame[rows]
    try:
        with warnings.catch_warnings():
            # pandera 0.35 concatenates all-NA failure cases, which pandas 2.3 warns about.
            warnings.filterwarnings("ignore", category=FutureWarning, module="pandera")
            schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        if cases["index"].isna().any():
            wrong = sorted(set(cases.loc[cases["index"].isna(), "check"].astype(str)))
            raise RuntimeError(f"harmonized frame does not fit PatientsModel: {wrong}") from None
        return cases[cases["schema_context"] == "Column"]
    return pd.DataFrame(columns=["index", "column", "check", "failure_case"])


def schema_reasons(frame: pd.DataFrame) -> pd.DataFrame:
    """Every failure of PatientsModel (lazy) on the frame, one row per (record, column, check).

    Notes:
        PatientsModel is the contract and the reasons are those of its lazy validation of
        the whole frame, found faster: pandera validates the columns (dtype, nullability,
        checks, order, strictness) of only the rows that fail one of the model's column
        checks run first as whole-column masks (a row passing them all has nothing to
        report there); the model's cross-field checks run once over the whole frame, each
        failing row one reason. pandera itself would reshape every failing row of a
        cross-field check cell by cell (about 1 ms a row), most of the time of validating
        a large center.
    """
    return pd.concat(
        [_column_reasons(_column_cases(frame)), _row_reasons(frame)], ignore_index=True
    )


def _cells(reasons: pd.DataFrame, cells: pd.DataFrame) -> np.ndarray:
    """Which reasons lie on one of the (record, column) `cells`."""
    marked = cells[["_rec", "column"]].drop_duplicates().assign(_hit=True)
    hit = reasons[["_rec", "column"]].merge(marked, on=["_rec", "column"], how="left")["_hit"]
    return hit.notna().to_numpy()


def _without_echoes(parsed: pd.DataFrame, echoes: pd.DataFrame | None) -> pd.DataFrame:
    """Parse failures without a missing-required on a cell that already failed otherwise."""
    missing = (parsed["check_code"] == "missing-required").to_numpy()
    failed = parsed.loc[~missing & parsed["column"].notna().to_numpy(), ["_rec", "column"]]
    echo = missing & _cells(parsed, failed)
    if echoes is not None:
        echo |= missing & _cells(parsed, echoes)
    return parsed[~echo]


def combine_reasons(
    parsed: pd.DataFrame,
    schema: pd.DataFrame,
    frame: pd.DataFrame,
    echoes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Parse failures and schema failures together, without echoes of the same problem.

    Notes:
        A value that failed to parse is left empty, so the schema would report it again
        as missing and cross-field rules would fire on a date that is merely unreadable.
        Therefore: a missing-required is dropped on a cell that failed otherwise, and on
        the `echoes` cells (a derived value empty only because its input's own reason is
        given: derivation_echoes); cross-field rules are dropped for a record with a parse
        failure, or a missing required value, in a column they read; failures of derived
        columns (os_months, lc_months, ...) are kept only for a record with no other
        reason; duplicate-patient is not reported for records without a patient id
        (missing-required says it).
    """
    parsed = _without_echoes(parsed.astype({"_rec": "int64"}), echoes)
    schema = schema.astype({"_rec": "int64"})
    missing = (schema["check_code"] == "missing-required").to_numpy()
    keep = ~_cells(schema, parsed.loc[parsed["column"].notna(), ["_rec", "column"]])
    if echoes is not None:
        keep &= ~(missing & _cells(schema, echoes))
    inputs_failed = set(parsed.loc[parsed["column"].isin(CROSS_FIELD_INPUTS), "_rec"])
    absent = missing & keep & schema["column"].isin(CROSS_FIELD_INPUTS).to_numpy()
    inputs_failed |= set(schema.loc[absent, "_rec"])
    row_level = schema["column"].isna()
    keep &= ~(row_level & schema["_rec"].isin(inputs_failed)).to_numpy()
    no_id = frame.index[frame["patient_id"].isna()]
    keep &= ~((schema["check_code"] == "duplicate-patient") & schema["_rec"].isin(no_id)).to_numpy()
    reasons = pd.concat([parsed[REASON_COLUMNS], schema[keep]], ignore_index=True)
    derived = reasons["column"].isin(DERIVED_COLUMNS)
    explained = set(reasons.loc[~derived, "_rec"])
    reasons = reasons[~(derived & reasons["_rec"].isin(explained))]
    return reasons.drop_duplicates(["_rec", "column", "check_code"]).reset_index(drop=True)
