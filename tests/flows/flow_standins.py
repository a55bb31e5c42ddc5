"""Small stand-ins for the harmonizer, and a tiny consortium for the flow tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa_arrow

from schemas.patients import PatientsModel
from schemas.quarantine import QuarantineModel
from spinemet_etl.dataset import canonical_frame, table_schema
from spinemet_etl.errors import SourceError
from spinemet_etl.results import CenterResult, FileStats

ROW = {
    "sex": "female", "age_at_surgery_years": 61.0, "primary_tumor": "breast",
    "kps_preop": 70, "ecog_preop": 1, "asa_class": 2, "anesthetic_risk": "low",
    "vertebral_mets_n": 1, "extraspinal_bone_mets_n": 0, "visceral_mets": "none",
    "frankel_preop": "D", "vas_pain_preop": 7.0, "pathological_fracture": False,
    "sins_total": 8, "escc_grade": "1a", "surgery_date": pd.Timestamp("2004-03-01"),
    "procedure": "palliative", "intraop_death": False, "frankel_postop": "E",
    "vas_pain_postop": 2.0, "local_recurrence": False, "local_recurrence_date": None,
    "vital_status": "dead", "death_date": None, "last_contact_date": None,
    "os_event": True, "lc_event": False, "tokuhashi_revised": 9, "tomita": 4,
}  # fmt: skip


def canonical_patients(center_id: str, n: int, file: str, sha: str, run_id: str) -> pd.DataFrame:
    """n valid canonical rows; patient i died after 2 * (i + 1) months."""
    rows = []
    for i in range(n):
        death = pd.Timestamp("2004-03-01") + pd.Timedelta(days=61 * (i + 1))
        months = 61 * (i + 1) / 30.4375
        rows.append({
            **ROW, "center_id": center_id, "patient_id": f"{i:032x}", "source_file": file,
            "source_sha256": sha, "source_row": i + 1, "run_id": run_id,
            "death_date": death, "last_contact_date": death,
            "os_months": months, "lc_months": months,
        })  # fmt: skip
    table = pa_arrow.Table.from_pylist(rows, schema=table_schema("patients"))
    return canonical_frame(table, PatientsModel)


def empty_quarantine() -> pd.DataFrame:
    table = table_schema("quarantine").empty_table()
    return canonical_frame(table, QuarantineModel)


@dataclass
class StandInProcess:
    """Reads `<landing>/<center>/export.txt`: a patient count, `broken` or `flaky`.

    `broken` raises a SourceError (a data problem); `flaky` raises an OSError on its
    first `flaky_failures` calls, then reads as 5 patients.
    """

    flaky_failures: int = 1
    calls: dict[str, int] = field(default_factory=dict)

    def __call__(self, mapping_path: Path, landing: Path, **options: Any) -> CenterResult:
        center_id = mapping_path.stem
        self.calls[center_id] = self.calls.get(center_id, 0) + 1
        path = landing / center_id / "export.txt"
        text = path.read_text(encoding="utf-8").strip()
        if text == "broken":
            raise SourceError(f"center `{center_id}`, file `export.txt`: not a count; fix it.")
        if text == "flaky":
            if self.calls[center_id] <= self.flaky_failures:
                raise OSError("stale file handle")
            text = "5"
        n, sha = int(text), hashlib.sha256(path.read_bytes()).hexdigest()
        patients = canonical_patients(center_id, n, "export.txt", sha, options["run_id"])
        stats = FileStats("export.txt", path.stat().st_size, sha, n, n, 0)
        return CenterResult(center_id, patients, empty_quarantine(), [stats])


def write_consortium(root: Path, counts: dict[str, str]) -> tuple[Path, Path, Path]:
    """landing/<center>/export.txt and centers/<center>.yaml per center; returns the folders."""
    landing, centers, data = root / "landing", root / "centers", root / "data"
    centers.mkdir(parents=True, exist_ok=True)
    for center_id, content in counts.items():
        (landing / center_id).mkdir(parents=True, exist_ok=True)
        (landing / center_id / "export.txt").write_text(content, encoding="utf-8")
        (centers / f"{center_id}.yaml").write_text(f"center_id: {center_id}\n", encoding="utf-8")
    return landing, centers, data
