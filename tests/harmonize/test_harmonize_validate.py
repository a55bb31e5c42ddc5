"""schema_reasons finds what PatientsModel's lazy validation of the whole frame finds."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest

from schemas.codes import code_for_pandera_check
from schemas.patients import PatientsModel
from spinemet_etl.harmonize.checks import suspect_rows
from spinemet_etl.harmonize.validate import schema_reasons
from tests.schemas.test_patients_rules import valid_patients

Mutation = Callable[[pd.DataFrame], None]


def _frame(mutate: Mutation) -> pd.DataFrame:
    """Ten valid patients (the two of the schema tests, five times), then `mutate` applied."""
    frame = pd.concat([valid_patients()] * 5, ignore_index=True)
    frame["patient_id"] = [f"{i:032x}" for i in range(len(frame))]
    mutate(frame)
    return frame


def _pandera_reasons(frame: pd.DataFrame) -> set[tuple[int, str | None, str]]:
    """(record, column or None, check code) of PatientsModel.validate(lazy=True) on all rows."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module="pandera")
            PatientsModel.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        return {
            (int(index), column if context == "Column" else None, code_for_pandera_check(check))
            for index, column, context, check in zip(
                cases["index"],
                cases["column"],
                cases["schema_context"],
                cases["check"].astype(str),
                strict=True,
            )
        }
    return set()


def _set(column: str, rows: list[int], value: Any) -> Mutation:
    def mutate(frame: pd.DataFrame) -> None:
        frame.loc[frame.index.isin(rows), column] = value

    return mutate


def _several(*mutations: Mutation) -> Mutation:
    def mutate(frame: pd.DataFrame) -> None:
        for mutation in mutations:
            mutation(frame)

    return mutate


def _duplicate(frame: pd.DataFrame) -> None:
    frame.loc[frame.index.isin([3, 8]), "patient_id"] = str(frame.at[0, "patient_id"])


@pytest.mark.parametrize(
    "mutate",
    [
        lambda frame: None,
        _set("age_at_surgery_years", [2, 7], 130.0),
        _set("kps_preop", [4], 75),
        _set("surgery_date", [0], pd.Timestamp("1980-01-01")),
        _set("death_date", [0, 6], pd.Timestamp("2000-01-01")),
        _set("center_id", [5], "Bad Center"),
        _duplicate,
        _several(
            _set("age_at_surgery_years", [1], -3.0),
            _set("sins_total", [1, 9], 19),
            _set("last_contact_date", [1], pd.Timestamp("1999-01-01")),
            _duplicate,
        ),
    ],
    ids=[
        "valid",
        "column-range",
        "custom-column-check",
        "date-floor",
        "cross-field",
        "pattern",
        "duplicate-pair",
        "many-at-once",
    ],
)
def test_reasons_equal_full_lazy_validation(mutate: Mutation) -> None:
    frame = _frame(mutate)
    found = schema_reasons(frame)
    got = {
        (int(rec), column, code)
        for rec, column, code in zip(
            found["_rec"], found["column"], found["check_code"], strict=True
        )
    }
    assert got == _pandera_reasons(frame)
    assert found["_rec"].isin(frame.index).all()


def test_only_failing_rows_are_suspect() -> None:
    frame = _frame(_set("sins_total", [6], 19))
    suspect = suspect_rows(frame, PatientsModel.to_schema())
    assert suspect.tolist() == [index == 6 for index in range(len(frame))]


def test_wrong_column_dtype_is_a_program_error() -> None:
    frame = _frame(lambda f: None).astype({"tomita": "float64"})
    with pytest.raises(RuntimeError, match="does not fit PatientsModel"):
        schema_reasons(frame)
