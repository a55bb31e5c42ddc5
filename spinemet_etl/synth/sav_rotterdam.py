"""`rotterdam`: SPSS .sav, Dutch labels, user-missing 99/999, ASIA, ECOG, months of follow-up."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from spinemet_etl.synth.dirt import DirtStyle
from spinemet_etl.synth.render import (
    CODES_1_22,
    ESCC_CODES,
    FRANKEL_CODES,
    VISCERAL_CODES,
    dates,
    flags,
    local,
    numbers,
)
from spinemet_etl.synth.reproducible import normalize_sav_header

FILE_NAME = "wervelmetastasen.sav"
UNKNOWN = 99
UNKNOWN_MONTHS = 999
DAYS_PER_MONTH = 30.4375
DIRT = DirtStyle(age="birth_150_years", free_text=None, unknown_procedure=7, frankel_invalid=6)
PRIMARY_LABELS = [
    "mamma", "prostaat", "schildklier", "nier", "long", "lever", "galblaas", "maag", "colon",
    "rectum", "slokdarm", "pancreas", "blaas", "baarmoeder", "carcinoïd", "melanoom",
    "sarcoom", "osteosarcoom", "myeloom", "lymfoom", "onbekende primaire tumor", "overig",
]  # fmt: skip
NO_YES: dict[int | float, str] = {0: "nee", 1: "ja"}
GRADES: dict[int | float, str] = {1: "A", 2: "B", 3: "C", 4: "D", 5: "E"}
VALUE_LABELS: dict[str, dict[int | float, str]] = {
    "geslacht": {1: "man", 2: "vrouw"},
    "primaire_tumor": {i + 1: label for i, label in enumerate(PRIMARY_LABELS)},
    "anest_risico": {1: "laag", 2: "hoog"},
    "viscerale_mets": {0: "geen", 1: "resectabel", 2: "niet resectabel"},
    "asia_pre": GRADES,
    "asia_post": GRADES,
    "fractuur": NO_YES,
    "escc": {1: "0", 2: "1a", 3: "1b", 4: "1c", 5: "2", 6: "3"},
    "ingreep": {
        1: "palliatieve decompressie/stabilisatie",
        2: "intralesionale curettage",
        3: "en-bloc resectie",
    },
    "perop_overleden": NO_YES,
    "overleden": NO_YES,
    "lokaal_recidief": NO_YES,
}
VARIABLE_LABELS: dict[str, str | None] = {
    "patnr": "Ziekenhuisnummer", "naam": "Naam patiënt", "geboortedatum": "Geboortedatum",
    "adres": "Adres", "geslacht": "Geslacht", "primaire_tumor": "Primaire tumor",
    "ecog": "ECOG performance status", "asa": "ASA-classificatie",
    "anest_risico": "Anesthesiologisch risico", "wervel_mets": "Aantal wervelmetastasen",
    "bot_mets_extra": "Aantal botmetastasen buiten de wervelkolom",
    "viscerale_mets": "Viscerale metastasen", "asia_pre": "ASIA-score preoperatief",
    "asia_post": "ASIA-score bij ontslag", "vas_pre": "VAS pijn preoperatief (0-10)",
    "vas_post": "VAS pijn bij ontslag (0-10)", "fractuur": "Pathologische fractuur",
    "sins": "SINS totaal", "escc": "ESCC-graad (Bilsky)", "ok_datum": "Operatiedatum",
    "ingreep": "Type ingreep", "perop_overleden": "Peroperatief overleden",
    "overleden": "Overleden", "datum_overlijden": "Datum overlijden",
    "fu_maanden": "Follow-up in maanden sinds operatie",
    "lokaal_recidief": "Lokaal recidief", "datum_recidief": "Datum lokaal recidief",
}  # fmt: skip
DATE_COLUMNS = ("geboortedatum", "ok_datum", "datum_overlijden", "datum_recidief")
NO_USER_MISSING = ("geslacht", "ingreep", "perop_overleden", "overleden", "fu_maanden")


def _months(frame: pd.DataFrame) -> list[float]:
    """Months from surgery to last contact, 4 decimals: x × 30.4375 rounds back to the day."""
    days = (frame["last_contact_date"] - frame["surgery_date"]).dt.days
    return [round(d / DAYS_PER_MONTH, 4) for d in days]


def _columns(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    u = [UNKNOWN]
    return {
        "patnr": list(frame["record_number"]),
        "naam": [
            f"{last}, {first}"
            for last, first in zip(frame["last_name"], frame["first_name"], strict=True)
        ],
        "geboortedatum": dates(frame["birth_date"], None),
        "adres": list(frame["address"]),
        "geslacht": local(frame["sex"], {"male": 1, "female": 2}, [], rng),
        "primaire_tumor": local(frame["primary_tumor"], CODES_1_22, u, rng),
        "ecog": numbers(frame["ecog_preop"], u, rng),
        "asa": numbers(frame["asa_class"], u, rng),
        "anest_risico": local(frame["anesthetic_risk"], {"low": 1, "high": 2}, u, rng),
        "wervel_mets": numbers(frame["vertebral_mets_n"], u, rng),
        "bot_mets_extra": numbers(frame["extraspinal_bone_mets_n"], u, rng),
        "viscerale_mets": local(frame["visceral_mets"], VISCERAL_CODES, u, rng),
        "asia_pre": local(frame["frankel_preop"], FRANKEL_CODES, u, rng),
        "asia_post": local(frame["frankel_postop"], FRANKEL_CODES, u, rng),
        "vas_pre": numbers(frame["vas_pain_preop"], u, rng),
        "vas_post": numbers(frame["vas_pain_postop"], u, rng),
        "fractuur": flags(frame["pathological_fracture"], 1, 0, u, rng),
        "sins": numbers(frame["sins_total"], u, rng),
        "escc": local(frame["escc_grade"], ESCC_CODES, u, rng),
        "ok_datum": dates(frame["surgery_date"], None),
        "ingreep": local(
            frame["procedure"], {"palliative": 1, "curettage": 2, "en_bloc": 3}, u, rng
        ),
        "perop_overleden": flags(frame["intraop_death"], 1, 0, u, rng),
        "overleden": local(frame["vital_status"], {"alive": 0, "dead": 1}, u, rng),
        "datum_overlijden": dates(frame["death_date"], None),
        "fu_maanden": _months(frame),
        "lokaal_recidief": flags(frame["local_recurrence"], 1, 0, u, rng),
        "datum_recidief": dates(frame["local_recurrence_date"], None),
    }


def _numeric_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    for name in frame.columns:
        if name not in DATE_COLUMNS and name not in ("patnr", "naam", "adres"):
            frame[name] = pd.to_numeric(frame[name]).astype("float64")
    return frame


def write_rotterdam(
    center_dir: Path, chunks: Iterable[tuple[pd.DataFrame, np.random.Generator]]
) -> list[Path]:
    """Write `wervelmetastasen.sav` with value labels, user-missing codes and SPSS dates."""
    frame = pd.concat(
        [_numeric_frame(_columns(chunk, rng)) for chunk, rng in chunks], ignore_index=True
    )
    numeric = [c for c in frame.columns if c not in (*DATE_COLUMNS, "patnr", "naam", "adres")]
    missing: dict[str, list[int | float | str | Any]] = {
        c: [UNKNOWN] for c in numeric if c not in NO_USER_MISSING
    }
    missing["fu_maanden"] = [UNKNOWN_MONTHS]
    path = center_dir / FILE_NAME
    pyreadstat.write_sav(
        frame,
        path,
        file_label="Wervelmetastasen register (synthetisch)",
        column_labels=VARIABLE_LABELS,
        variable_value_labels=VALUE_LABELS,
        missing_ranges=missing,
        variable_format={c: "EDATE10" for c in DATE_COLUMNS},
    )
    normalize_sav_header(path)
    return [path]
