"""Each center's files are real files of their kind, read back by the usual libraries."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
import xlrd

from spinemet_etl.synth import latent_cohort


def _read_csv(path: Path, encoding: str, delimiter: str) -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def test_bologna_workbook_has_title_rows_merged_title_and_mixed_dates(
    small_consortium: Path,
) -> None:
    workbook = openpyxl.load_workbook(
        small_consortium / "bologna/registro_metastasi_vertebrali.xlsx"
    )
    assert workbook.sheetnames == ["Pazienti", "Intervento", "Follow-up"]
    surgery = workbook["Intervento"]
    assert [str(r) for r in surgery.merged_cells.ranges] == ["A1:J1"]
    assert surgery["A3"].value == "N. cartella"
    header = [cell.value for cell in surgery[3]]
    first = dict(zip(header, [cell.value for cell in surgery[4]], strict=True))
    assert isinstance(first["Data intervento"], dt.datetime)
    assert re.fullmatch(r"\d+,\d", first["VAS pre"])
    visits = workbook["Follow-up"]
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", visits["B4"].value)
    last_rows = list(surgery.iter_rows(min_row=surgery.max_row - 2, values_only=True))
    assert all(value is None for row in last_rows for value in row)


def test_lyon_is_a_biff8_workbook_with_date_cells(small_consortium: Path) -> None:
    book = xlrd.open_workbook(small_consortium / "lyon/registre_metastases_rachis.xls")
    sheet = book.sheet_by_name("Registre")
    header = sheet.row_values(0)
    assert header[:3] == ["IPP", "Nom", "Prénom"]
    surgery_column = header.index("Date chirurgie")
    assert sheet.cell_type(1, surgery_column) == xlrd.XL_CELL_DATE
    assert book.biff_version == 80


def test_rotterdam_sav_has_labels_user_missing_and_dates(small_consortium: Path) -> None:
    frame, meta = pyreadstat.read_sav(
        small_consortium / "rotterdam/wervelmetastasen.sav", user_missing=True
    )
    assert meta.variable_value_labels["asia_pre"][1.0] == "A"
    assert meta.variable_value_labels["ingreep"][3.0] == "en-bloc resectie"
    assert meta.missing_ranges["ecog"] == [{"lo": 99.0, "hi": 99.0}]
    assert meta.missing_ranges["fu_maanden"] == [{"lo": 999.0, "hi": 999.0}]
    assert meta.column_names_to_labels["ok_datum"] == "Operatiedatum"
    assert isinstance(frame["ok_datum"].iloc[0], dt.date)
    coded_unknown = frame[["ecog", "asa", "vas_pre", "sins"]].eq(99).to_numpy().sum()
    assert coded_unknown > 0


def test_muenchen_is_semicolon_cp1252_with_decimal_comma(small_consortium: Path) -> None:
    path = small_consortium / "muenchen/wirbelsaeulenmetastasen_export.csv"
    assert b"Prim\xe4rtumor" in path.read_bytes()[:2000]
    rows = _read_csv(path, "cp1252", ";")
    ages = [row["Alter bei OP"] for row in rows if row["Alter bei OP"] not in ("", "-", "?")]
    assert all(re.fullmatch(r"\d+,\d", age) for age in ages)
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", row["OP-Datum"]) for row in rows)


def test_boston_is_plain_utf8_with_iso_dates(small_consortium: Path) -> None:
    rows = _read_csv(small_consortium / "boston/spine_mets_registry.csv", "utf-8", ",")
    assert list(rows[0])[:2] == ["mrn", "first_name"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", row["surgery_date"]) for row in rows)


def test_barcelona_is_a_longitudinal_redcap_export(small_consortium: Path) -> None:
    rows = _read_csv(small_consortium / "barcelona/SPINEMETS_DATA_2026-03-31.csv", "utf-8", ",")
    columns = list(rows[0])
    assert columns[:4] == [
        "record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"
    ]  # fmt: skip
    assert {"abordaje___1", "datos_basales_complete", "seguimiento_complete"} <= set(columns)
    events = {row["redcap_event_name"] for row in rows}
    assert events == {"basal_arm_1", "cirugia_arm_1", "seguimiento_arm_1"}
    visits = [row for row in rows if row["redcap_repeat_instrument"] == "seguimiento"]
    assert max(int(row["redcap_repeat_instance"]) for row in visits) > 1
    dictionary = _read_csv(
        small_consortium / "barcelona/SPINEMETS_DataDictionary_2026-03-31.csv", "utf-8", ","
    )
    choices = {
        row["Variable / Field Name"]: row["Choices, Calculations, OR Slider Labels"]
        for row in dictionary
    }
    assert choices["tipo_cirugia"].startswith("1, Paliativa | 2, ")


def test_clone_has_exactly_its_templates_shape(small_consortium: Path) -> None:
    template = openpyxl.load_workbook(
        small_consortium / "bologna/registro_metastasi_vertebrali.xlsx"
    )
    clone = openpyxl.load_workbook(
        small_consortium / "bologna_07/registro_metastasi_vertebrali.xlsx"
    )
    assert clone.sheetnames == template.sheetnames
    for name in template.sheetnames:
        assert [c.value for c in clone[name][3]] == [c.value for c in template[name][3]]
    assert [p.name for p in (small_consortium / "bologna_07").iterdir()] == [
        p.name for p in (small_consortium / "bologna").iterdir()
    ]


TEXT_CENTERS = {"barcelona": "utf-8", "muenchen": "cp1252", "boston": "utf-8"}


@pytest.mark.parametrize("center", list(TEXT_CENTERS), ids=list(TEXT_CENTERS))
def test_text_centers_carry_direct_identifiers(
    small_consortium: Path, small_args: dict[str, Any], center: str
) -> None:
    truth = latent_cohort(center, **small_args)
    files = b"".join(p.read_bytes() for p in (small_consortium / center).iterdir())
    encoding = TEXT_CENTERS[center]
    for column in ("record_number", "last_name", "first_name", "phone"):
        assert truth[column].iloc[0].encode(encoding) in files


def test_binary_centers_carry_direct_identifiers(small_consortium: Path) -> None:
    bologna = openpyxl.load_workbook(
        small_consortium / "bologna/registro_metastasi_vertebrali.xlsx"
    )
    patients = [cell.value for cell in bologna["Pazienti"][4]]
    assert patients[1].endswith("-Synth") and isinstance(patients[3], dt.datetime)
    frame, _ = pyreadstat.read_sav(small_consortium / "rotterdam/wervelmetastasen.sav")
    assert frame["naam"].str.contains("-Synth").all()
    sheet = xlrd.open_workbook(
        small_consortium / "lyon/registre_metastases_rachis.xls"
    ).sheet_by_index(0)
    assert sheet.cell_value(1, 1).endswith("-Synth")


def test_rotterdam_months_give_back_the_last_contact_date(
    small_consortium: Path, small_args: dict[str, Any]
) -> None:
    """The contract's rule: surgery_date + floor(months × 30.4375 + 0.5) days."""
    frame, _ = pyreadstat.read_sav(small_consortium / "rotterdam/wervelmetastasen.sav")
    truth = latent_cohort("rotterdam", **small_args)
    surgery = pd.to_datetime(frame["ok_datum"])
    days = np.floor(frame["fu_maanden"] * 30.4375 + 0.5)
    derived = surgery + pd.to_timedelta(days, unit="D")
    assert derived.tolist() == truth["last_contact_date"].tolist()


def test_bologna_birth_dates_give_back_the_age(
    small_consortium: Path, small_args: dict[str, Any]
) -> None:
    """The contract's rule: age = (surgery_date − birth date) in days / 365.25."""
    workbook = openpyxl.load_workbook(
        small_consortium / "bologna/registro_metastasi_vertebrali.xlsx"
    )
    births = [
        row[3] for row in workbook["Pazienti"].iter_rows(min_row=4, values_only=True) if row[0]
    ]
    surgeries = [
        row[1] for row in workbook["Intervento"].iter_rows(min_row=4, values_only=True) if row[0]
    ]
    truth = latent_cohort("bologna", **small_args)
    clean = ~truth["is_copy"].to_numpy()
    ages = [(s - b).days / 365.25 for s, b in zip(surgeries, np.array(births)[clean], strict=True)]
    assert np.allclose(ages, truth.loc[clean, "age_at_surgery_years"], atol=0.002)


def test_muenchen_vas_is_on_the_0_100_scale(
    small_consortium: Path, small_args: dict[str, Any]
) -> None:
    rows = _read_csv(
        small_consortium / "muenchen/wirbelsaeulenmetastasen_export.csv", "cp1252", ";"
    )
    truth = latent_cohort("muenchen", **small_args)["vas_pain_postop"]
    written = pd.to_numeric(pd.Series([row["VAS postop (0-100)"] for row in rows]), errors="coerce")
    known = written.notna().to_numpy()
    assert np.allclose(written[known] / 10, truth[known])


def _workbook_values(path: Path) -> set[object]:
    workbook = openpyxl.load_workbook(path)
    return {
        value for sheet in workbook for row in sheet.iter_rows(values_only=True) for value in row
    }


@pytest.mark.parametrize(
    ("center", "tokens"),
    [
        ("boston", ["Kyphoplasty", "approx 5", "340.0"]),
        ("muenchen", ["Vertebroplastie", "ca. 5", "340,0", "110"]),
        ("barcelona", ["<1"]),
    ],
    ids=["boston", "muenchen", "barcelona"],
)
def test_dirt_reaches_the_text_files(
    small_consortium: Path, center: str, tokens: list[str]
) -> None:
    encoding = TEXT_CENTERS[center]
    cells: set[str] = set()
    for path in (small_consortium / center).glob("*.csv"):
        with path.open(encoding=encoding, newline="") as handle:
            cells.update(
                c
                for row in csv.reader(handle, delimiter=";" if center == "muenchen" else ",")
                for c in row
            )
    assert set(tokens) <= cells


def test_dirt_reaches_the_binary_files(small_consortium: Path) -> None:
    bologna = _workbook_values(small_consortium / "bologna/registro_metastasi_vertebrali.xlsx")
    assert {"vertebroplastica", "circa 3", "11,0", "F"} <= bologna
    frame, _ = pyreadstat.read_sav(small_consortium / "rotterdam/wervelmetastasen.sav")
    assert (frame["ingreep"] == 7).any() and (frame["asia_pre"] == 6).any()
    lyon = xlrd.open_workbook(
        small_consortium / "lyon/registre_metastases_rachis.xls"
    ).sheet_by_index(0)
    values = {lyon.cell_value(r, c) for r in range(lyon.nrows) for c in range(lyon.ncols)}
    assert {"cimentoplastie", "<1"} <= values
