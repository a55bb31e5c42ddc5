"""Tiny canonical frames and center results for the quality gate's tests."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from spinemet_etl.results import CenterResult, FileStats

BASE_ROW = {
    "center_id": "boston", "source_file": "export.csv", "source_sha256": "a" * 64,
    "run_id": "r1", "sex": "female", "age_at_surgery_years": 61.0,
    "primary_tumor": "breast", "kps_preop": 70, "ecog_preop": 1, "asa_class": 2,
    "anesthetic_risk": "low", "vertebral_mets_n": 1, "extraspinal_bone_mets_n": 0,
    "visceral_mets": "none", "frankel_preop": "D", "vas_pain_preop": 7.0,
    "pathological_fracture": False, "sins_total": 8, "escc_grade": "1a",
    "surgery_date": pd.Timestamp("2004-03-01"), "procedure": "palliative",
    "intraop_death": False, "frankel_postop": "E", "vas_pain_postop": 2.0,
    "local_recurrence": False, "local_recurrence_date": pd.NaT, "vital_status": "alive",
    "death_date": pd.NaT, "last_contact_date": pd.Timestamp("2005-03-01"),
    "os_months": 12.0, "os_event": False, "lc_months": 12.0, "lc_event": False,
    "tokuhashi_revised": 9, "tomita": 4,
}  # fmt: skip


def patients(n: int, **columns: Sequence[object]) -> pd.DataFrame:
    """n canonical rows with distinct pseudonyms; `columns` replaces whole columns."""
    frame = pd.DataFrame([BASE_ROW] * n)
    frame.insert(1, "patient_id", [f"{i:032x}" for i in range(n)])
    frame.insert(4, "source_row", pd.Series(range(1, n + 1), dtype="Int64"))
    for name, values in columns.items():
        frame[name] = pd.Series(list(values), dtype=object)
    return frame


def center(frame: pd.DataFrame, quarantined: int = 0, center_id: str = "boston") -> CenterResult:
    """A center's result with one export file of `len(frame) + quarantined` rows."""
    stats = FileStats("export.csv", 10, "a" * 64, len(frame) + quarantined, len(frame), quarantined)
    return CenterResult(center_id, frame, pd.DataFrame(), [stats])


def failed(result_checks: list[dict[str, object]]) -> set[str]:
    """The names of the failed checks."""
    return {str(c["name"]) for c in result_checks if not c["passed"]}
