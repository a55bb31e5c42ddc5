"""`muenchen`: a `;`-separated cp1252 CSV, German headers, decimal comma, dd.mm.yyyy dates."""

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

FILE_NAME = "wirbelsaeulenmetastasen_export.csv"
ENCODING = "cp1252"
MISSING = ("", "-", "?")
DATE_FORMAT = "%d.%m.%Y"
DIRT = DirtStyle(
    age="age_340",
    free_text=("vertebral_mets_n", "ca. 5"),
    unknown_procedure="Vertebroplastie",
    frankel_invalid="F",
)
PRIMARY = words(
    ["Mamma", "Prostata", "Schilddrüse", "Niere", "Lunge", "Leber", "Gallenblase", "Magen",
     "Kolon", "Rektum", "Ösophagus", "Pankreas", "Harnblase", "Uterus", "Karzinoid", "Melanom",
     "Sarkom", "Osteosarkom", "Multiples Myelom", "Lymphom", "CUP", "Sonstige"]
)  # fmt: skip
PROCEDURES = {
    "palliative": ("Palliative Stabilisierung", "Dekompression und Stabilisierung"),
    "curettage": ("Intraläsionale Kürettage",),
    "en_bloc": ("En-bloc-Resektion",),
}
VISCERAL = {"none": "keine", "removable": "resektabel", "unremovable": "nicht resektabel"}


def _vas_0_100(series: pd.Series) -> pd.Series:
    """VAS on the 0-100 scale this center uses (dirt values scale along)."""
    return pd.to_numeric(series, errors="coerce") * 10


def _columns(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    m = MISSING
    return {
        "Fallnummer": list(frame["record_number"]),
        "Nachname": list(frame["last_name"]),
        "Vorname": list(frame["first_name"]),
        "Geburtsdatum": dates(frame["birth_date"], DATE_FORMAT),
        "Straße": [a.split(", ")[0] for a in frame["address"]],
        "PLZ Ort": [a.split(", ")[1] for a in frame["address"]],
        "Telefon": list(frame["phone"]),
        "Geschlecht": local(frame["sex"], {"male": "m", "female": "w"}, [""], rng),
        "Alter bei OP": numbers(frame["age_at_surgery_years"], m, rng, decimals=1, comma=True),
        "Primärtumor": local(frame["primary_tumor"], PRIMARY, m, rng),
        "KPS (%)": numbers(frame["kps_preop"], m, rng),
        "ASA": numbers(frame["asa_class"], m, rng),
        "Narkoserisiko": local(
            frame["anesthetic_risk"], {"low": "niedrig", "high": "hoch"}, m, rng
        ),
        "Anzahl WK-Metastasen": numbers(frame["vertebral_mets_n"], m, rng),
        "Extraspinale Knochenmetastasen": numbers(frame["extraspinal_bone_mets_n"], m, rng),
        "Viszerale Metastasen": local(frame["visceral_mets"], VISCERAL, m, rng),
        "Frankel präop": local(frame["frankel_preop"], {}, m, rng),
        "Frankel postop": local(frame["frankel_postop"], {}, m, rng),
        "VAS präop (0-100)": numbers(_vas_0_100(frame["vas_pain_preop"]), m, rng),
        "VAS postop (0-100)": numbers(_vas_0_100(frame["vas_pain_postop"]), m, rng),
        "Pathologische Fraktur": flags(frame["pathological_fracture"], "ja", "nein", m, rng),
        "SINS": numbers(frame["sins_total"], m, rng),
        "ESCC (Bilsky)": local(frame["escc_grade"], {}, m, rng),
        "OP-Datum": dates(frame["surgery_date"], DATE_FORMAT),
        "Eingriff": local_words(frame["procedure"], PROCEDURES, rng),
        "Intraop. verstorben": flags(frame["intraop_death"], "ja", "nein", m, rng),
        "Status": local(frame["vital_status"], {"alive": "lebend", "dead": "verstorben"}, m, rng),
        "Todesdatum": dates(frame["death_date"], DATE_FORMAT),
        "Letzter Kontakt": dates(frame["last_contact_date"], DATE_FORMAT),
        "Lokalrezidiv": flags(frame["local_recurrence"], "ja", "nein", m, rng),
        "Rezidivdatum": dates(frame["local_recurrence_date"], DATE_FORMAT),
    }


def write_muenchen(
    center_dir: Path, chunks: Iterable[tuple[pd.DataFrame, np.random.Generator]]
) -> list[Path]:
    """Write `wirbelsaeulenmetastasen_export.csv` in cp1252, one chunk at a time."""
    return write_csv_chunks(
        center_dir / FILE_NAME,
        chunks,
        _columns,
        encoding=ENCODING,
        delimiter=";",
        lineterminator="\r\n",
    )
