"""The canonical `patients` table: one pandera model, the single source of truth in code."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

SEXES = ["male", "female"]
PRIMARY_TUMORS = [
    "breast", "prostate", "thyroid", "kidney", "lung", "liver", "gallbladder", "stomach",
    "colon", "rectum", "esophagus", "pancreas", "bladder", "uterus", "carcinoid", "melanoma",
    "sarcoma", "osteosarcoma", "myeloma", "lymphoma", "unknown_primary", "other",
]  # fmt: skip
ANESTHETIC_RISKS = ["low", "high"]
VISCERAL_METS = ["none", "removable", "unremovable"]
FRANKEL_GRADES = ["A", "B", "C", "D", "E"]
ESCC_GRADES = ["0", "1a", "1b", "1c", "2", "3"]
PROCEDURES = ["palliative", "curettage", "en_bloc"]
VITAL_STATUSES = ["alive", "dead"]

CENTER_ID_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
FIRST_SURGERY_DATE = pd.Timestamp("1990-01-01")
DAYS_PER_MONTH = 30.4375

DATE = {"arrow_type": "date32"}
IDENTITY, BASELINE, SURGERY, OUTCOME, DERIVED = (
    "identity", "baseline", "surgery", "outcome", "derived"
)  # fmt: skip


def _group(name: str, **extra: str) -> dict[str, str]:
    return {"group": name, **extra}


def _categories(values: list[str], ordered: bool = False) -> dict[str, object]:
    return {"categories": values, "ordered": ordered}


def _not_after_today(dates: pd.Series) -> pd.Series:
    return dates <= pd.Timestamp.now().normalize()


class PatientsModel(pa.DataFrameModel):
    """Harmonized patients. Grain: one row per patient, at the index spinal surgery.

    Dates are held in pandas as day-precision `datetime64[ns]` and written as Arrow
    `date32` (field metadata `arrow_type`). Column order is the contract's order.
    """

    center_id: Series[str] = pa.Field(
        str_matches=CENTER_ID_PATTERN,
        description="Center slug; the Hive partition key.",
        metadata=_group(IDENTITY),
    )
    patient_id: Series[str] = pa.Field(
        str_matches=r"^[0-9a-f]{32}$",
        description=(
            "Pseudonym: lowercase hex of HMAC-SHA256(key, center_id + U+001F + source "
            "patient id), first 32 characters; unique within a center."
        ),
        metadata=_group(IDENTITY),
    )
    source_file: Series[str] = pa.Field(
        description="Export file name relative to the center's landing folder.",
        metadata=_group(IDENTITY),
    )
    source_sha256: Series[str] = pa.Field(
        str_matches=r"^[0-9a-f]{64}$",
        description="SHA-256 of the export file's bytes.",
        metadata=_group(IDENTITY),
    )
    source_row: Series[pd.Int64Dtype] = pa.Field(
        ge=1,
        description="1-based data row (or record) number inside that file or sheet.",
        metadata=_group(IDENTITY),
    )
    run_id: Series[str] = pa.Field(
        description="The pipeline run that wrote the row.", metadata=_group(IDENTITY)
    )

    sex: Series[pd.CategoricalDtype] = pa.Field(
        dtype_kwargs=_categories(SEXES), isin=SEXES,
        description="Sex.", metadata=_group(BASELINE),
    )  # fmt: skip
    age_at_surgery_years: Series[float] = pa.Field(
        ge=0, le=110,
        description="Age at surgery in years; from date of birth as days / 365.25 when needed.",
        metadata=_group(BASELINE),
    )  # fmt: skip
    primary_tumor: Series[pd.CategoricalDtype] = pa.Field(
        dtype_kwargs=_categories(PRIMARY_TUMORS), isin=PRIMARY_TUMORS,
        description="Site of the primary tumor.", metadata=_group(BASELINE),
    )  # fmt: skip
    kps_preop: Series[pd.Int16Dtype] = pa.Field(
        nullable=True, ge=0, le=100,
        description="Karnofsky performance status before surgery, 0-100 in steps of 10.",
        metadata=_group(BASELINE),
    )  # fmt: skip
    ecog_preop: Series[pd.Int16Dtype] = pa.Field(
        nullable=True, ge=0, le=5,
        description="ECOG performance status 0-5 as the center recorded it.",
        metadata=_group(BASELINE),
    )  # fmt: skip
    asa_class: Series[pd.Int16Dtype] = pa.Field(
        nullable=True, ge=1, le=5,
        description="ASA physical status 1-5 (the anesthetic evaluation).",
        metadata=_group(BASELINE),
    )  # fmt: skip
    anesthetic_risk: Series[pd.CategoricalDtype] = pa.Field(
        nullable=True, dtype_kwargs=_categories(ANESTHETIC_RISKS), isin=ANESTHETIC_RISKS,
        description="Operability judgment of the anesthetic evaluation.",
        metadata=_group(BASELINE),
    )  # fmt: skip
    vertebral_mets_n: Series[pd.Int16Dtype] = pa.Field(
        nullable=True, ge=1,
        description="Number of vertebral bodies with metastases.", metadata=_group(BASELINE),
    )  # fmt: skip
    extraspinal_bone_mets_n: Series[pd.Int16Dtype] = pa.Field(
        nullable=True, ge=0,
        description="Number of bone metastases outside the spine.", metadata=_group(BASELINE),
    )  # fmt: skip
    visceral_mets: Series[pd.CategoricalDtype] = pa.Field(
        nullable=True, dtype_kwargs=_categories(VISCERAL_METS), isin=VISCERAL_METS,
        description="Metastases to major internal organs.", metadata=_group(BASELINE),
    )  # fmt: skip
    frankel_preop: Series[pd.CategoricalDtype] = pa.Field(
        nullable=True, dtype_kwargs=_categories(FRANKEL_GRADES, ordered=True),
        isin=FRANKEL_GRADES,
        description="Frankel grade before surgery, A < B < C < D < E (E = normal).",
        metadata=_group(BASELINE),
    )  # fmt: skip
    vas_pain_preop: Series[float] = pa.Field(
        nullable=True, ge=0, le=10,
        description="Pain before surgery on a 0-10 scale (0-100 scales are divided by 10).",
        metadata=_group(BASELINE),
    )  # fmt: skip
    pathological_fracture: Series[pd.BooleanDtype] = pa.Field(
        nullable=True, description="Pathological vertebral fracture.",
        metadata=_group(BASELINE),
    )  # fmt: skip
    sins_total: Series[pd.Int16Dtype] = pa.Field(
        nullable=True, ge=0, le=18,
        description="Spinal Instability Neoplastic Score, 0-18.", metadata=_group(BASELINE),
    )  # fmt: skip
    escc_grade: Series[pd.CategoricalDtype] = pa.Field(
        nullable=True, dtype_kwargs=_categories(ESCC_GRADES), isin=ESCC_GRADES,
        description="Bilsky epidural spinal cord compression grade.",
        metadata=_group(BASELINE),
    )  # fmt: skip

    surgery_date: Series[pd.Timestamp] = pa.Field(
        ge=FIRST_SURGERY_DATE,
        description="Date of the index spinal surgery, 1990-01-01 to the run date.",
        metadata=_group(SURGERY, **DATE),
    )  # fmt: skip
    procedure: Series[pd.CategoricalDtype] = pa.Field(
        dtype_kwargs=_categories(PROCEDURES), isin=PROCEDURES,
        description="Procedure: palliative, curettage (intralesional) or en bloc resection.",
        metadata=_group(SURGERY),
    )  # fmt: skip
    intraop_death: Series[bool] = pa.Field(
        description="Died during the procedure.", metadata=_group(SURGERY)
    )

    frankel_postop: Series[pd.CategoricalDtype] = pa.Field(
        nullable=True, dtype_kwargs=_categories(FRANKEL_GRADES, ordered=True),
        isin=FRANKEL_GRADES,
        description="Frankel grade at discharge.", metadata=_group(OUTCOME),
    )  # fmt: skip
    vas_pain_postop: Series[float] = pa.Field(
        nullable=True, ge=0, le=10,
        description="Pain at discharge on a 0-10 scale.", metadata=_group(OUTCOME),
    )  # fmt: skip
    local_recurrence: Series[pd.BooleanDtype] = pa.Field(
        nullable=True,
        description="Local recurrence or progression at the treated level, ever observed.",
        metadata=_group(OUTCOME),
    )  # fmt: skip
    local_recurrence_date: Series[pd.Timestamp] = pa.Field(
        nullable=True,
        description="Date of local recurrence, when local_recurrence is true and it is known.",
        metadata=_group(OUTCOME, **DATE),
    )  # fmt: skip
    vital_status: Series[pd.CategoricalDtype] = pa.Field(
        dtype_kwargs=_categories(VITAL_STATUSES), isin=VITAL_STATUSES,
        description="Vital status as of last_contact_date.", metadata=_group(OUTCOME),
    )  # fmt: skip
    death_date: Series[pd.Timestamp] = pa.Field(
        nullable=True, description="Date of death, present exactly when dead.",
        metadata=_group(OUTCOME, **DATE),
    )  # fmt: skip
    last_contact_date: Series[pd.Timestamp] = pa.Field(
        description="Date last known alive, or the date of death.",
        metadata=_group(OUTCOME, **DATE),
    )  # fmt: skip

    os_months: Series[float] = pa.Field(
        ge=0,
        description="(last_contact_date - surgery_date) in days / 30.4375.",
        metadata=_group(DERIVED),
    )  # fmt: skip
    os_event: Series[bool] = pa.Field(description="vital_status == dead.", metadata=_group(DERIVED))
    lc_months: Series[float] = pa.Field(
        ge=0,
        description=(
            "(local_recurrence_date, else last_contact_date) - surgery_date, "
            "in days / 30.4375."
        ),
        metadata=_group(DERIVED),
    )  # fmt: skip
    lc_event: Series[bool] = pa.Field(
        description="local_recurrence is true and local_recurrence_date is known.",
        metadata=_group(DERIVED),
    )  # fmt: skip
    tokuhashi_revised: Series[pd.Int16Dtype] = pa.Field(
        nullable=True, ge=0, le=15,
        description="Revised Tokuhashi score 0-15; null when any component is unknown.",
        metadata=_group(DERIVED),
    )  # fmt: skip
    tomita: Series[pd.Int16Dtype] = pa.Field(
        nullable=True, ge=2, le=10,
        description="Tomita score 2-10; null when any component is unknown.",
        metadata=_group(DERIVED),
    )  # fmt: skip

    class Config:
        strict = True
        ordered = True
        coerce = False

    @pa.check("surgery_date", name="surgery_date_not_after_run_date", error="out-of-range")
    def _surgery_not_in_future(cls, dates: Series[pd.Timestamp]) -> pd.Series[bool]:
        return _not_after_today(dates)

    @pa.check("kps_preop", name="multiple_of_10")
    def _kps_in_steps_of_10(cls, kps: Series[pd.Int16Dtype]) -> pd.Series[bool]:
        return (kps % 10 == 0).fillna(True).astype(bool)

    @pa.dataframe_check(error="death-before-surgery")
    def _death_before_surgery(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return df["death_date"].isna() | (df["death_date"] >= df["surgery_date"])

    @pa.dataframe_check(error="contact-before-surgery")
    def _contact_before_surgery(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return df["last_contact_date"] >= df["surgery_date"]

    @pa.dataframe_check(error="death-contact-mismatch")
    def _death_contact_mismatch(cls, df: pd.DataFrame) -> pd.Series[bool]:
        dead = df["vital_status"] == "dead"
        return ~dead | (df["last_contact_date"] == df["death_date"])

    @pa.dataframe_check(error="vital-status-mismatch")
    def _vital_status_mismatch(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return (df["vital_status"] == "dead") == df["death_date"].notna()

    @pa.dataframe_check(error="intraop-death-date")
    def _intraop_death_date(cls, df: pd.DataFrame) -> pd.Series[bool]:
        consistent = (df["vital_status"] == "dead") & (df["death_date"] == df["surgery_date"])
        return ~df["intraop_death"] | consistent

    @pa.dataframe_check(error="recurrence-date-range")
    def _recurrence_date_range(cls, df: pd.DataFrame) -> pd.Series[bool]:
        date = df["local_recurrence_date"]
        inside = (date >= df["surgery_date"]) & (date <= df["last_contact_date"])
        return date.isna() | inside

    @pa.dataframe_check(error="recurrence-date-without-flag")
    def _recurrence_date_without_flag(cls, df: pd.DataFrame) -> pd.Series[bool]:
        flagged = df["local_recurrence"].fillna(False).astype(bool)
        return df["local_recurrence_date"].isna() | flagged

    @pa.dataframe_check(error="duplicate-patient")
    def _duplicate_patient(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return ~df.duplicated(["center_id", "patient_id"], keep=False)
