"""`bologna`: an Italian multi-sheet .xlsx with title rows, a merged title, mixed date styles."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from spinemet_etl.synth.dirt import DirtStyle
from spinemet_etl.synth.render import dates, flags, local, local_words, numbers, words
from spinemet_etl.synth.reproducible import FIXED_TIMESTAMP, normalize_zip
from spinemet_etl.synth.visits import visit_rows

FILE_NAME = "registro_metastasi_vertebrali.xlsx"
MISSING = (None, "n.d.")
TITLE = "Registro metastasi vertebrali — Istituto (dati fittizi, sintetici)"
SUBTITLE = "Esportazione al 30/06/2008"
TRAILING_EMPTY_ROWS = 3
DIRT = DirtStyle(
    age="birth_after_surgery",
    free_text=("vertebral_mets_n", "circa 3"),
    unknown_procedure="vertebroplastica",
    frankel_invalid="F",
)
PRIMARY = words(
    ["mammella", "prostata", "tiroide", "rene", "polmone", "fegato", "colecisti", "stomaco",
     "colon", "retto", "esofago", "pancreas", "vescica", "utero", "carcinoide", "melanoma",
     "sarcoma", "osteosarcoma", "mieloma", "linfoma", "primitivo sconosciuto", "altro"]
)  # fmt: skip
PROCEDURES = {
    "palliative": ("palliativa", "decompressione e stabilizzazione"),
    "curettage": ("curettage intralesionale",),
    "en_bloc": ("vertebrectomia en bloc",),
}
VISCERAL = {"none": "assenti", "removable": "asportabili", "unremovable": "non asportabili"}
YES_NO = ("sì", "no")
_BORDER = Border(bottom=Side(style="thin"))


def _patients(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    return {
        "N. cartella": list(frame["record_number"]),
        "Cognome": list(frame["last_name"]),
        "Nome": list(frame["first_name"]),
        "Data di nascita": dates(frame["birth_date"], None),
        "Sesso": local(frame["sex"], {"male": "M", "female": "F"}, [None], rng),
        "Indirizzo": list(frame["address"]),
        "Telefono": list(frame["phone"]),
        "Tumore primitivo": local(frame["primary_tumor"], PRIMARY, MISSING, rng),
        "KPS": numbers(frame["kps_preop"], MISSING, rng),
        "Metastasi vertebrali (n)": numbers(frame["vertebral_mets_n"], MISSING, rng),
        "Metastasi ossee extravertebrali (n)": numbers(
            frame["extraspinal_bone_mets_n"], MISSING, rng
        ),
        "Metastasi viscerali": local(frame["visceral_mets"], VISCERAL, MISSING, rng),
        "Frattura patologica": flags(frame["pathological_fracture"], *YES_NO, MISSING, rng),
    }


def _surgery(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    risk = {"low": "basso", "high": "alto"}
    return {
        "N. cartella": list(frame["record_number"]),
        "Data intervento": dates(frame["surgery_date"], None),
        "Tipo di intervento": local_words(frame["procedure"], PROCEDURES, rng),
        "Rischio anestesiologico": local(frame["anesthetic_risk"], risk, MISSING, rng),
        "ASA": numbers(frame["asa_class"], MISSING, rng),
        "Frankel pre": local(frame["frankel_preop"], {}, MISSING, rng),
        "Frankel post": local(frame["frankel_postop"], {}, MISSING, rng),
        "VAS pre": numbers(frame["vas_pain_preop"], MISSING, rng, decimals=1, comma=True),
        "VAS post": numbers(frame["vas_pain_postop"], MISSING, rng, decimals=1, comma=True),
        "Decesso intraoperatorio": flags(frame["intraop_death"], *YES_NO, MISSING, rng),
    }


def _follow_up(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    visits = visit_rows(frame, rng)
    return {
        "N. cartella": list(frame["record_number"].to_numpy()[visits["row"].to_numpy()]),
        "Data visita": dates(visits["visit_date"], "%d/%m/%Y"),
        "Stato": list(np.where(visits["dead"], "deceduto", "vivo")),
        "Recidiva locale": list(np.where(visits["recurrence"], *YES_NO)),
    }


def _fill_sheet(sheet: Worksheet, columns: dict[str, list[Any]]) -> None:
    """Title (merged), subtitle, header, data rows, then styled empty rows."""
    width = len(columns)
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([SUBTITLE])
    sheet.append(list(columns))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in zip(*columns.values(), strict=True):
        sheet.append(list(row))
    last_data_row = sheet.max_row
    for column, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = max(12, len(name) + 2)
        if name.startswith("Data ") and name != "Data visita":
            for (cell,) in sheet.iter_rows(min_row=4, min_col=column, max_col=column):
                cell.number_format = "DD/MM/YYYY"
        for empty_row in range(last_data_row + 1, last_data_row + TRAILING_EMPTY_ROWS + 1):
            sheet.cell(row=empty_row, column=column).border = _BORDER


def write_bologna(
    center_dir: Path, chunks: Iterable[tuple[pd.DataFrame, np.random.Generator]]
) -> list[Path]:
    """Write `registro_metastasi_vertebrali.xlsx`: sheets Pazienti, Intervento, Follow-up."""
    parts: dict[str, list[dict[str, list[Any]]]] = {
        "Pazienti": [],
        "Intervento": [],
        "Follow-up": [],
    }
    for frame, rng in chunks:
        original = frame[~frame["is_copy"].to_numpy(dtype=bool)]
        parts["Pazienti"].append(_patients(frame, rng))
        parts["Intervento"].append(_surgery(original, rng))
        parts["Follow-up"].append(_follow_up(frame, rng))
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, pieces in parts.items():
        merged = {key: [v for piece in pieces for v in piece[key]] for key in pieces[0]}
        _fill_sheet(workbook.create_sheet(name), merged)
    workbook.properties.creator = "spinemet synth"
    workbook.properties.created = FIXED_TIMESTAMP
    path = center_dir / FILE_NAME
    workbook.save(path)
    normalize_zip(path)
    return [path]
