"""Each rule of the patients model, with a row that breaks it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa
import pytest

from schemas.codes import code_for_pandera_check
from schemas.patients import FRANKEL_GRADES, PatientsModel

Mutation = Callable[[pd.DataFrame], None]


def _category(values: list[object], model_column: str) -> pd.Categorical:
    dtype = PatientsModel.to_schema().columns[model_column].dtype.type
    return pd.Categorical(values, dtype=dtype)


def valid_patients() -> pd.DataFrame:
    """Two valid patients: one alive with a recurrence, one who died in surgery."""
    surgery = pd.to_datetime(["2004-03-01", "2005-06-10"])
    frame = pd.DataFrame(
        {
            "center_id": ["bologna", "bologna"],
            "patient_id": ["0" * 31 + "1", "0" * 31 + "2"],
            "source_file": ["export.xlsx", "export.xlsx"],
            "source_sha256": ["a" * 64, "a" * 64],
            "source_row": pd.array([1, 2], dtype="Int64"),
            "run_id": ["r1", "r1"],
            "sex": _category(["male", "female"], "sex"),
            "age_at_surgery_years": [57.0, 61.5],
            "primary_tumor": _category(["breast", "lung"], "primary_tumor"),
            "kps_preop": pd.array([80, None], dtype="Int16"),
            "ecog_preop": pd.array([1, None], dtype="Int16"),
            "asa_class": pd.array([2, 3], dtype="Int16"),
            "anesthetic_risk": _category(["low", "high"], "anesthetic_risk"),
            "vertebral_mets_n": pd.array([1, 3], dtype="Int16"),
            "extraspinal_bone_mets_n": pd.array([0, 2], dtype="Int16"),
            "visceral_mets": _category(["none", "unremovable"], "visceral_mets"),
            "frankel_preop": _category(["D", "C"], "frankel_preop"),
            "vas_pain_preop": [7.0, 8.5],
            "pathological_fracture": pd.array([True, None], dtype="boolean"),
            "sins_total": pd.array([9, None], dtype="Int16"),
            "escc_grade": _category(["1b", None], "escc_grade"),
            "surgery_date": surgery,
            "procedure": _category(["curettage", "palliative"], "procedure"),
            "intraop_death": [False, True],
            "frankel_postop": _category(["E", None], "frankel_postop"),
            "vas_pain_postop": [2.0, None],
            "local_recurrence": pd.array([True, None], dtype="boolean"),
            "local_recurrence_date": pd.to_datetime(["2005-01-15", None]),
            "vital_status": _category(["alive", "dead"], "vital_status"),
            "death_date": pd.to_datetime([None, "2005-06-10"]),
            "last_contact_date": pd.to_datetime(["2006-03-01", "2005-06-10"]),
            "os_months": [730 / 30.4375, 0.0],
            "os_event": [False, True],
            "lc_months": [320 / 30.4375, 0.0],
            "lc_event": [True, False],
            "tokuhashi_revised": pd.array([13, None], dtype="Int16"),
            "tomita": pd.array([3, 8], dtype="Int16"),
        }
    )
    return frame


def _set(column: str, row: int, value: object) -> Mutation:
    def mutate(frame: pd.DataFrame) -> None:
        frame.loc[row, column] = value

    return mutate


def _duplicate_ids(frame: pd.DataFrame) -> None:
    frame.loc[1, "patient_id"] = frame.loc[0, "patient_id"]


CASES: list[tuple[str, Mutation, str, set[int]]] = [
    ("death-before-surgery", _set("death_date", 1, pd.Timestamp("2005-01-01")),
     "death-before-surgery", {1}),
    ("contact-before-surgery", _set("last_contact_date", 0, pd.Timestamp("2004-01-01")),
     "contact-before-surgery", {0}),
    ("death-contact-mismatch", _set("last_contact_date", 1, pd.Timestamp("2005-07-01")),
     "death-contact-mismatch", {1}),
    ("vital-status-mismatch", _set("death_date", 0, pd.Timestamp("2006-03-01")),
     "vital-status-mismatch", {0}),
    ("intraop-death-date", _set("intraop_death", 0, True), "intraop-death-date", {0}),
    ("recurrence-date-range", _set("local_recurrence_date", 0, pd.Timestamp("2007-01-01")),
     "recurrence-date-range", {0}),
    ("recurrence-date-without-flag", _set("local_recurrence", 0, False),
     "recurrence-date-without-flag", {0}),
    ("duplicate-patient", _duplicate_ids, "duplicate-patient", {0, 1}),
    ("age-340", _set("age_at_surgery_years", 0, 340.0), "out-of-range", {0}),
    ("vas-11", _set("vas_pain_preop", 0, 11.0), "out-of-range", {0}),
    ("kps-85", _set("kps_preop", 0, 85), "out-of-range", {0}),
    ("surgery-1989", _set("surgery_date", 0, pd.Timestamp("1989-12-31")), "out-of-range", {0}),
    ("surgery-in-future", _set("surgery_date", 0, pd.Timestamp("2199-01-01")),
     "out-of-range", {0}),
    ("center-not-slug", _set("center_id", 0, "Bologna!"), "invalid-format", {0}),
    ("sex-missing", _set("sex", 0, None), "missing-required", {0}),
]  # fmt: skip


def test_valid_rows_pass() -> None:
    PatientsModel.validate(valid_patients(), lazy=True)


@pytest.mark.parametrize(
    ("mutate", "code", "rows"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_rule_catches_a_row_that_breaks_it(
    mutate: Mutation, code: str, rows: set[int]
) -> None:
    frame = valid_patients()
    mutate(frame)
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        PatientsModel.validate(frame, lazy=True)
    cases = caught.value.failure_cases
    flagged = cases[cases["check"].map(code_for_pandera_check) == code]
    assert set(flagged["index"].dropna().astype(int)) == rows


def test_frankel_is_ordered_a_to_e() -> None:
    dtype = PatientsModel.to_schema().columns["frankel_preop"].dtype.type
    assert dtype.ordered and list(dtype.categories) == FRANKEL_GRADES
