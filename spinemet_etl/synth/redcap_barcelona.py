"""`barcelona`: a REDCap longitudinal raw export (events, repeating instrument) and dictionary."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
from spinemet_etl.synth.visits import visit_rows

DATA_FILE = "SPINEMETS_DATA_2026-03-31.csv"
DICTIONARY_FILE = "SPINEMETS_DataDictionary_2026-03-31.csv"
YMD = "%Y-%m-%d"
TEXT_MISSING = ("", "NA")
DIRT = DirtStyle(
    age="birth_150_years",
    free_text=("extraspinal_bone_mets_n", "<1"),
    unknown_procedure=9,
    frankel_invalid=6,
)
EVENTS = ("basal_arm_1", "cirugia_arm_1", "seguimiento_arm_1")
REPEATING = "seguimiento"
PRIMARY_LABELS = [
    "Mama", "Próstata", "Tiroides", "Riñón", "Pulmón", "Hígado", "Vesícula biliar",
    "Estómago", "Colon", "Recto", "Esófago", "Páncreas", "Vejiga", "Útero", "Carcinoide",
    "Melanoma", "Sarcoma", "Osteosarcoma", "Mieloma", "Linfoma", "Primario desconocido", "Otro",
]  # fmt: skip


def _choices(labels: Iterable[tuple[int, str]]) -> str:
    return " | ".join(f"{code}, {label}" for code, label in labels)


GRADE_CHOICES = _choices(enumerate("ABCDE", start=1))
# (field, form, type, label, choices, validation, identifier)
FIELDS: list[tuple[str, str, str, str, str, str, str]] = [
    ("record_id", "datos_basales", "text", "ID del registro", "", "", ""),
    ("nhc", "datos_basales", "text", "Número de historia clínica", "", "", "y"),
    ("nombre", "datos_basales", "text", "Nombre", "", "", "y"),
    ("apellidos", "datos_basales", "text", "Apellidos", "", "", "y"),
    ("fecha_nacimiento", "datos_basales", "text", "Fecha de nacimiento", "", "date_ymd", "y"),
    ("telefono", "datos_basales", "text", "Teléfono", "", "", "y"),
    ("sexo", "datos_basales", "radio", "Sexo", "1, Hombre | 2, Mujer", "", ""),
    ("tumor_primario", "datos_basales", "dropdown", "Tumor primario",
     _choices(enumerate(PRIMARY_LABELS, start=1)), "", ""),
    ("kps", "datos_basales", "text", "Índice de Karnofsky", "", "", ""),
    ("mets_vertebrales_n", "datos_basales", "text", "Nº de metástasis vertebrales", "", "", ""),
    ("mets_oseas_extra_n", "datos_basales", "text", "Nº de metástasis óseas extravertebrales",
     "", "", ""),
    ("mets_viscerales", "datos_basales", "radio", "Metástasis viscerales",
     "0, Ninguna | 1, Resecables | 2, Irresecables", "", ""),
    ("fractura_patologica", "datos_basales", "yesno", "Fractura patológica", "", "", ""),
    ("sins", "datos_basales", "text", "SINS total", "", "integer", ""),
    ("escc", "datos_basales", "dropdown", "Grado ESCC (Bilsky)",
     _choices(enumerate(["0", "1a", "1b", "1c", "2", "3"], start=1)), "", ""),
    ("fecha_cirugia", "cirugia", "text", "Fecha de la cirugía", "", "date_ymd", ""),
    ("tipo_cirugia", "cirugia", "dropdown", "Tipo de cirugía",
     "1, Paliativa | 2, Curetaje intralesional | 3, Resección en bloque", "", ""),
    ("abordaje", "cirugia", "checkbox", "Abordaje", "1, Posterior | 2, Anterior | 3, Combinado",
     "", ""),
    ("riesgo_anestesico", "cirugia", "radio", "Riesgo anestésico", "1, Bajo | 2, Alto", "", ""),
    ("asa", "cirugia", "dropdown", "ASA", "1, I | 2, II | 3, III | 4, IV | 5, V", "", ""),
    ("frankel_pre", "cirugia", "dropdown", "Frankel preoperatorio", GRADE_CHOICES, "", ""),
    ("frankel_post", "cirugia", "dropdown", "Frankel al alta", GRADE_CHOICES, "", ""),
    ("eva_pre", "cirugia", "text", "EVA preoperatoria (0-10)", "", "", ""),
    ("eva_post", "cirugia", "text", "EVA al alta (0-10)", "", "", ""),
    ("muerte_intraop", "cirugia", "yesno", "Muerte intraoperatoria", "", "", ""),
    ("fecha_visita", "seguimiento", "text", "Fecha de la visita", "", "date_ymd", ""),
    ("estado_vital", "seguimiento", "radio", "Estado vital", "1, Vivo | 2, Fallecido", "", ""),
    ("fecha_muerte", "seguimiento", "text", "Fecha de la muerte", "", "date_ymd", ""),
    ("recidiva_local", "seguimiento", "yesno", "Recidiva local", "", "", ""),
    ("fecha_recidiva", "seguimiento", "text", "Fecha de la recidiva", "", "date_ymd", ""),
]  # fmt: skip
DICTIONARY_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
]  # fmt: skip


def data_columns() -> list[str]:
    """The raw export's header: REDCap's leading columns, fields by form, `<form>_complete`."""
    columns = [
        "record_id",
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
    ]
    form = "datos_basales"
    for name, field_form, kind, *_ in FIELDS[1:]:
        if field_form != form:
            columns.append(f"{form}_complete")
            form = field_form
        columns.extend([f"{name}___{i}" for i in (1, 2, 3)] if kind == "checkbox" else [name])
    return [*columns, f"{form}_complete"]


def _baseline(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    return {
        "nhc": list(frame["record_number"]),
        "nombre": list(frame["first_name"]),
        "apellidos": list(frame["last_name"]),
        "fecha_nacimiento": dates(frame["birth_date"], YMD),
        "telefono": list(frame["phone"]),
        "sexo": local(frame["sex"], {"male": 1, "female": 2}, [""], rng),
        "tumor_primario": local(frame["primary_tumor"], CODES_1_22, [""], rng),
        "kps": numbers(frame["kps_preop"], TEXT_MISSING, rng),
        "mets_vertebrales_n": numbers(frame["vertebral_mets_n"], TEXT_MISSING, rng),
        "mets_oseas_extra_n": numbers(frame["extraspinal_bone_mets_n"], TEXT_MISSING, rng),
        "mets_viscerales": local(frame["visceral_mets"], VISCERAL_CODES, [""], rng),
        "fractura_patologica": flags(frame["pathological_fracture"], 1, 0, [""], rng),
        "sins": numbers(frame["sins_total"], [""], rng),
        "escc": local(frame["escc_grade"], ESCC_CODES, [""], rng),
        "datos_basales_complete": list(rng.choice([1, 2], len(frame), p=[0.1, 0.9])),
    }


def _surgery(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    approach = rng.choice([1, 2, 3], len(frame), p=[0.75, 0.1, 0.15])
    columns = {
        "fecha_cirugia": dates(frame["surgery_date"], YMD),
        "tipo_cirugia": local(
            frame["procedure"], {"palliative": 1, "curettage": 2, "en_bloc": 3}, [""], rng
        ),
        **{f"abordaje___{i}": list((approach == i).astype(int)) for i in (1, 2, 3)},
        "riesgo_anestesico": local(frame["anesthetic_risk"], {"low": 1, "high": 2}, [""], rng),
        "asa": numbers(frame["asa_class"], [""], rng),
        "frankel_pre": local(frame["frankel_preop"], FRANKEL_CODES, [""], rng),
        "frankel_post": local(frame["frankel_postop"], FRANKEL_CODES, [""], rng),
        "eva_pre": numbers(frame["vas_pain_preop"], [""], rng),
        "eva_post": numbers(frame["vas_pain_postop"], [""], rng),
        "muerte_intraop": flags(frame["intraop_death"], 1, 0, [""], rng),
        "cirugia_complete": [2] * len(frame),
    }
    return columns


def _follow_up(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    visits = visit_rows(frame, rng)
    visit_dates = dates(visits["visit_date"], YMD)
    columns = {
        "redcap_repeat_instrument": [REPEATING] * len(visits),
        "fecha_visita": visit_dates,
        "estado_vital": list(np.where(visits["dead"], 2, 1)),
        "fecha_muerte": list(np.where(visits["dead"], visit_dates, "")),
        "recidiva_local": list(visits["recurrence"].astype(int)),
        "fecha_recidiva": list(np.where(visits["found"], visit_dates, "")),
        "seguimiento_complete": [2] * len(visits),
    }
    part = pd.DataFrame(columns, dtype=object)
    part["redcap_repeat_instance"] = visits.groupby("row").cumcount().to_numpy() + 1
    return part, visits["row"].to_numpy()


def _part(columns: pd.DataFrame, rows: np.ndarray, order: int) -> pd.DataFrame:
    part = columns.astype(object) if order < 2 else columns
    part = part.assign(row=rows, order=order, redcap_event_name=EVENTS[order])
    return part


def _records(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """All rows of one chunk, ordered by record, then event, then instance."""
    record_id = np.array([str(int(number[2:])) for number in frame["record_number"]], dtype=object)
    positions = np.arange(len(frame))
    original = ~frame["is_copy"].to_numpy(dtype=bool)
    base = _part(pd.DataFrame(_baseline(frame, rng)), positions, 0)
    surgery = _part(pd.DataFrame(_surgery(frame, rng)), positions, 1)[original]
    visits, visit_rows_ = _follow_up(frame, rng)
    rows = pd.concat([base, surgery, _part(visits, visit_rows_, 2)], ignore_index=True)
    rows = rows.sort_values(["row", "order", "redcap_repeat_instance"], kind="stable")
    rows["record_id"] = record_id[rows["row"].to_numpy()]
    rows["redcap_repeat_instance"] = rows["redcap_repeat_instance"].astype("Int64")
    return rows.reindex(columns=data_columns())


def _write_dictionary(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(DICTIONARY_HEADER)
        for name, form, kind, label, choices, validation, identifier in FIELDS:
            writer.writerow(
                [name, form, "", kind, label, choices, "", validation, "", "", identifier]
                + [""] * 7
            )


def write_barcelona(
    center_dir: Path, chunks: Iterable[tuple[pd.DataFrame, np.random.Generator]]
) -> list[Path]:
    """Write the REDCap raw data CSV (streamed by chunk) and its data dictionary."""
    data_path = center_dir / DATA_FILE
    with data_path.open("w", encoding="utf-8", newline="") as handle:
        for index, (frame, rng) in enumerate(chunks):
            _records(frame, rng).to_csv(handle, index=False, header=index == 0, lineterminator="\n")
    dictionary_path = center_dir / DICTIONARY_FILE
    _write_dictionary(dictionary_path)
    return [data_path, dictionary_path]
