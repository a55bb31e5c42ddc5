"""`boston`: a plain UTF-8 CSV with English headers and ISO dates, streamed in chunks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spinemet_etl.synth.dirt import DirtStyle
from spinemet_etl.synth.render import (
    dates,
    flags,
    local,
    local_words,
    numbers,
    words,
    write_csv_chunks,
)

FILE_NAME = "spine_mets_registry.csv"
MISSING = ("", "NA")
DIRT = DirtStyle(
    age="age_340",
    free_text=("vertebral_mets_n", "approx 5"),
    unknown_procedure="Kyphoplasty",
    frankel_invalid="F",
)
PRIMARY = words(
    ["Breast", "Prostate", "Thyroid", "Kidney", "Lung", "Liver", "Gallbladder", "Stomach",
     "Colon", "Rectum", "Esophagus", "Pancreas", "Bladder", "Uterus", "Carcinoid", "Melanoma",
     "Sarcoma", "Osteosarcoma", "Multiple myeloma", "Lymphoma", "Unknown primary", "Other"]
)  # fmt: skip
PROCEDURES = {
    "palliative": ("Palliative decompression", "Decompression and fusion"),
    "curettage": ("Debulking", "Intralesional curettage"),
    "en_bloc": ("En bloc spondylectomy",),
}
VISCERAL = {"none": "none", "removable": "resectable", "unremovable": "unresectable"}
SEX = {"male": "Male", "female": "Female"}


def _columns(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    m = MISSING
    return {
        "mrn": list(frame["record_number"]),
        "first_name": list(frame["first_name"]),
        "last_name": list(frame["last_name"]),
        "dob": dates(frame["birth_date"], "%Y-%m-%d"),
        "address": list(frame["address"]),
        "phone": list(frame["phone"]),
        "sex": local(frame["sex"], SEX, [""], rng),
        "age_at_surgery": numbers(frame["age_at_surgery_years"], m, rng, decimals=1),
        "primary_site": local(frame["primary_tumor"], PRIMARY, m, rng),
        "kps": numbers(frame["kps_preop"], m, rng),
        "ecog": numbers(frame["ecog_preop"], m, rng),
        "asa": numbers(frame["asa_class"], m, rng),
        "anesthetic_risk": local(frame["anesthetic_risk"], {}, m, rng),
        "vertebral_mets": numbers(frame["vertebral_mets_n"], m, rng),
        "extraspinal_bone_mets": numbers(frame["extraspinal_bone_mets_n"], m, rng),
        "visceral_mets": local(frame["visceral_mets"], VISCERAL, m, rng),
        "frankel_pre": local(frame["frankel_preop"], {}, m, rng),
        "frankel_post": local(frame["frankel_postop"], {}, m, rng),
        "vas_pre": numbers(frame["vas_pain_preop"], m, rng),
        "vas_post": numbers(frame["vas_pain_postop"], m, rng),
        "pathologic_fracture": flags(frame["pathological_fracture"], "Y", "N", m, rng),
        "sins": numbers(frame["sins_total"], m, rng),
        "escc": local(frame["escc_grade"], {}, m, rng),
        "surgery_date": dates(frame["surgery_date"], "%Y-%m-%d"),
        "procedure": local_words(frame["procedure"], PROCEDURES, rng),
        "intraop_death": flags(frame["intraop_death"], "Y", "N", m, rng),
        "death_date": dates(frame["death_date"], "%Y-%m-%d"),
        "last_followup_date": dates(frame["last_contact_date"], "%Y-%m-%d"),
        "local_recurrence": flags(frame["local_recurrence"], "Y", "N", m, rng),
        "local_recurrence_date": dates(frame["local_recurrence_date"], "%Y-%m-%d"),
    }


def write_boston(
    center_dir: Path, chunks: Iterable[tuple[pd.DataFrame, np.random.Generator]]
) -> list[Path]:
    """Write `spine_mets_registry.csv`, one chunk of patients at a time."""
    return write_csv_chunks(
        center_dir / FILE_NAME, chunks, _columns, encoding="utf-8", lineterminator="\n"
    )
