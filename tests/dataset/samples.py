"""Tiny literal patients and quarantine frames, and a CenterResult built from them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from schemas.patients import PatientsModel
from spinemet_etl.results import CenterResult, FileStats
from spinemet_etl.settings import Settings

EXPORT = "export.csv"
TEXT_COLUMNS = (
    "center_id", "source_file", "source_sha256", "patient_id", "column", "check_code",
    "message", "failure_value", "run_id",
)  # fmt: skip


def _category(values: list[object], column: str) -> pd.Categorical:
    dtype = PatientsModel.to_schema().columns[column].dtype.type
    return pd.Categorical(values, dtype=dtype)


def sample_patients(center_id: str = "bologna", n: int = 2, run_id: str = "r1") -> pd.DataFrame:
    """`n` valid patients (n >= 1); odd rows alive with nulls, even rows dead in surgery."""
    rows = range(1, n + 1)
    alive = [row % 2 == 1 for row in rows]
    surgery = pd.to_datetime([f"2004-03-{row % 28 + 1:02d}" for row in rows])
    death = pd.Series(surgery).where(~pd.Series(alive))
    contact = pd.Series(surgery).where(~pd.Series(alive), surgery + pd.Timedelta(days=730))
    return pd.DataFrame(
        {
            "center_id": [center_id] * n,
            "patient_id": [f"{row:032x}" for row in rows],
            "source_file": [EXPORT] * n,
            "source_sha256": ["a" * 64] * n,
            "source_row": pd.array(list(rows), dtype="Int64"),
            "run_id": [run_id] * n,
            "sex": _category(["male" if a else "female" for a in alive], "sex"),
            "age_at_surgery_years": [50.0 + row / 2 for row in rows],
            "primary_tumor": _category(["breast" if a else "lung" for a in alive], "primary_tumor"),
            "kps_preop": pd.array([80 if a else None for a in alive], dtype="Int16"),
            "ecog_preop": pd.array([1 if a else None for a in alive], dtype="Int16"),
            "asa_class": pd.array([2] * n, dtype="Int16"),
            "anesthetic_risk": _category(
                ["low" if a else "high" for a in alive], "anesthetic_risk"
            ),
            "vertebral_mets_n": pd.array([1] * n, dtype="Int16"),
            "extraspinal_bone_mets_n": pd.array([0] * n, dtype="Int16"),
            "visceral_mets": _category(["none"] * n, "visceral_mets"),
            "frankel_preop": _category(["D" if a else "C" for a in alive], "frankel_preop"),
            "vas_pain_preop": [7.0] * n,
            "pathological_fracture": pd.array([True if a else None for a in alive], "boolean"),
            "sins_total": pd.array([9 if a else None for a in alive], dtype="Int16"),
            "escc_grade": _category(["1b" if a else None for a in alive], "escc_grade"),
            "surgery_date": surgery,
            "procedure": _category(["curettage"] * n, "procedure"),
            "intraop_death": [not a for a in alive],
            "frankel_postop": _category(["E" if a else None for a in alive], "frankel_postop"),
            "vas_pain_postop": [2.0 if a else None for a in alive],
            "local_recurrence": pd.array([False if a else None for a in alive], "boolean"),
            "local_recurrence_date": pd.to_datetime([None] * n),
            "vital_status": _category(["alive" if a else "dead" for a in alive], "vital_status"),
            "death_date": death.to_numpy(),
            "last_contact_date": contact.to_numpy(),
            "os_months": [730 / 30.4375 if a else 0.0 for a in alive],
            "os_event": [not a for a in alive],
            "lc_months": [730 / 30.4375 if a else 0.0 for a in alive],
            "lc_event": [False] * n,
            "tokuhashi_revised": pd.array([13 if a else None for a in alive], dtype="Int16"),
            "tomita": pd.array([3] * n, dtype="Int16"),
        }
    )


def sample_quarantine(center_id: str = "bologna", n: int = 1, run_id: str = "r1") -> pd.DataFrame:
    """`n` rejected rows, each for a missing surgery date."""
    return pd.DataFrame(
        {
            "center_id": [center_id] * n,
            "source_file": [EXPORT] * n,
            "source_sha256": ["a" * 64] * n,
            "source_row": pd.array([100 + row for row in range(n)], dtype="Int64"),
            "patient_id": [None] * n,
            "column": ["surgery_date"] * n,
            "check_code": ["missing-required"] * n,
            "message": ["surgery_date is empty; fill it in the export."] * n,
            "failure_value": [None] * n,
            "run_id": [run_id] * n,
        }
    ).astype({name: object for name in TEXT_COLUMNS})


def sample_result(
    center_id: str = "bologna", n: int = 2, quarantined: int = 1, run_id: str = "r1"
) -> CenterResult:
    """A CenterResult of `n` patients and `quarantined` rejected rows from one export."""
    stats = FileStats(
        name=EXPORT,
        size=1234,
        sha256=hashlib.sha256(EXPORT.encode()).hexdigest(),
        rows_read=n + quarantined,
        rows_harmonized=n,
        rows_quarantined=quarantined,
    )
    return CenterResult(
        center_id=center_id,
        patients=sample_patients(center_id, n, run_id),
        quarantine=sample_quarantine(center_id, quarantined, run_id),
        files=[stats],
    )


def stub_consortium(root: Path, centers: tuple[str, ...]) -> Settings:
    """Settings over a landing folder with one small export and a stub mapping per center."""
    landing, mappings = root / "landing", root / "centers"
    for center_id in centers:
        (landing / center_id).mkdir(parents=True)
        (landing / center_id / "export.csv").write_bytes(b"id,sex\n1,M\n2,F\n")
    mappings.mkdir()
    for center_id in centers:
        (mappings / f"{center_id}.yaml").write_text(f"center_id: {center_id}\n", encoding="utf-8")
    return Settings(landing=landing, centers_dir=mappings, data=str(root / "data"))
