"""`lyon`: a legacy BIFF8 .xls (xlwt), French headers, follow-up as days since surgery."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlwt

from spinemet_etl.synth.dirt import DirtStyle
from spinemet_etl.synth.render import dates, flags, local, local_words, numbers, words

FILE_NAME = "registre_metastases_rachis.xls"
SHEET = "Registre"
NUMBER_MISSING = (-9, None)
TEXT_MISSING = (None,)
DIRT = DirtStyle(
    age="birth_after_surgery",
    free_text=("extraspinal_bone_mets_n", "<1"),
    unknown_procedure="cimentoplastie",
    frankel_invalid="F",
)
PRIMARY = words(
    ["sein", "prostate", "thyroïde", "rein", "poumon", "foie", "vésicule biliaire", "estomac",
     "côlon", "rectum", "œsophage", "pancréas", "vessie", "utérus", "carcinoïde", "mélanome",
     "sarcome", "ostéosarcome", "myélome", "lymphome", "primitif inconnu", "autre"]
)  # fmt: skip
PROCEDURES = {
    "palliative": ("palliative", "décompression-stabilisation"),
    "curettage": ("curetage intralésionnel",),
    "en_bloc": ("vertébrectomie en bloc", "spondylectomie totale en bloc"),
}
VISCERAL = {"none": "aucune", "removable": "résécables", "unremovable": "non résécables"}
YES_NO = ("oui", "non")


def _days(frame: pd.DataFrame) -> list[int]:
    return [int(d) for d in (frame["last_contact_date"] - frame["surgery_date"]).dt.days]


def _columns(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    n, t = NUMBER_MISSING, TEXT_MISSING
    return {
        "IPP": list(frame["record_number"]),
        "Nom": list(frame["last_name"]),
        "Prénom": list(frame["first_name"]),
        "Date de naissance": dates(frame["birth_date"], None),
        "Téléphone": list(frame["phone"]),
        "Sexe": local(frame["sex"], {"male": "H", "female": "F"}, t, rng),
        "Primitif": local(frame["primary_tumor"], PRIMARY, t, rng),
        "IK": numbers(frame["kps_preop"], n, rng),
        "ASA": numbers(frame["asa_class"], n, rng),
        "Risque anesthésique": local(
            frame["anesthetic_risk"], {"low": "faible", "high": "élevé"}, t, rng
        ),
        "Nb métastases vertébrales": numbers(frame["vertebral_mets_n"], n, rng),
        "Nb métastases osseuses extra-rachidiennes": numbers(
            frame["extraspinal_bone_mets_n"], n, rng
        ),
        "Métastases viscérales": local(frame["visceral_mets"], VISCERAL, t, rng),
        "Frankel préop": local(frame["frankel_preop"], {}, t, rng),
        "Frankel postop": local(frame["frankel_postop"], {}, t, rng),
        "EVA préop": numbers(frame["vas_pain_preop"], n, rng),
        "EVA postop": numbers(frame["vas_pain_postop"], n, rng),
        "Fracture pathologique": flags(frame["pathological_fracture"], *YES_NO, t, rng),
        "Date chirurgie": dates(frame["surgery_date"], None),
        "Type de chirurgie": local_words(frame["procedure"], PROCEDURES, rng),
        "Décès peropératoire": flags(frame["intraop_death"], *YES_NO, t, rng),
        "Décès": local(frame["vital_status"], {"alive": "non", "dead": "oui"}, t, rng),
        "Date du décès": dates(frame["death_date"], None),
        "Suivi (jours)": _days(frame),
        "Récidive locale": flags(frame["local_recurrence"], *YES_NO, t, rng),
        "Date récidive": dates(frame["local_recurrence_date"], None),
    }


def write_lyon(
    center_dir: Path, chunks: Iterable[tuple[pd.DataFrame, np.random.Generator]]
) -> list[Path]:
    """Write `registre_metastases_rachis.xls` (BIFF8): header on row 1, date cells for dates."""
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet(SHEET)
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    header_style = xlwt.easyxf("font: bold on")
    row = 0
    for frame, rng in chunks:
        columns = _columns(frame, rng)
        if row == 0:
            for column, name in enumerate(columns):
                sheet.write(0, column, name, header_style)
            row = 1
        for values in zip(*columns.values(), strict=True):
            for column, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, date):
                    sheet.write(row, column, value, date_style)
                else:
                    sheet.write(row, column, value)
            row += 1
    path = center_dir / FILE_NAME
    workbook.save(str(path))
    return [path]
