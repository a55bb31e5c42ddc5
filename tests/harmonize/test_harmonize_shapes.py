"""Source shapes that derive a canonical value: visit dates as durations, death flags."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import xlwt

from tests.harmonize.harmonize_helpers import accounting_holds, reasons, row_of, run, write_mapping

DAY = pd.Timestamp

VISIT_MONTHS_MAPPING = """\
center_id: demo
tables:
  - name: patients
    kind: csv
    files: patients.csv
    patient_id: id
    columns:
      sex: {source: sex, values: {m: male, f: female}}
      age_at_surgery_years: age
      primary_tumor: tumor
      surgery_date: surgery
      procedure: procedure
      intraop_death: {constant: false}
  - name: follow_up
    role: visits
    kind: csv
    files: visits.csv
    patient_id: id
    visits:
      date: {source: months, convert: months_since_surgery}
      dead: {source: died, values: {"0": false, "1": true}}
"""
PATIENTS_CSV = (
    "id,sex,age,tumor,surgery,procedure\n"
    "P1,m,60,lung,2020-01-01,palliative\n"
    "P2,f,55,breast,2020-03-01,curettage\n"
)
VISITS_CSV = "id,months,died\nP1,1,0\nP1,2,0\nP1,6.5,1\nP2,12,0\nP3,3,0\n"


def test_visit_dates_given_as_months_since_surgery(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", VISIT_MONTHS_MAPPING)
    landing = tmp_path / "demo"
    landing.mkdir()
    (landing / "patients.csv").write_text(PATIENTS_CSV, encoding="utf-8")
    (landing / "visits.csv").write_text(VISITS_CSV, encoding="utf-8")
    result = run(mapping, landing)
    first = row_of(result, "P1")
    # 6.5 months = floor(6.5 x 30.4375 + 0.5) = 198 days (canonical-schema.md)
    assert first["last_contact_date"] == DAY("2020-01-01") + timedelta(days=198)
    assert (first["vital_status"], first["death_date"]) == ("dead", first["last_contact_date"])
    second = row_of(result, "P2")
    assert second["last_contact_date"] == DAY("2020-03-01") + timedelta(days=365)
    assert second["vital_status"] == "alive"
    # P3 has visits but no baseline row: its record lacks the baseline values
    assert {code for _, _, code, _ in reasons(result)} == {"missing-required"}
    assert {row for row, _, _, _ in reasons(result)} == {5}  # its first visit, data row 5
    assert accounting_holds(result)


DEATH_FLAG_SAV_MAPPING = """\
center_id: demo
tables:
  - name: register
    kind: sav
    files: "*.sav"
    patient_id: patnr
    columns:
      sex: {source: geslacht, values: {"1": male, "2": female}}
      age_at_surgery_years: leeftijd
      primary_tumor: {source: tumor, labels: true, values: {long: lung, mamma: breast}}
      surgery_date: ok_datum
      procedure: {source: ingreep, values: {"1": palliative, "2": curettage}}
      intraop_death: {constant: false}
      vital_status: {source: overleden, values: {"0": alive, "1": dead}STATEMENT}
      last_contact_date: {source: fu_maanden, convert: months_since_surgery}
"""


def _write_death_flag_sav(path: Path) -> None:
    frame = pd.DataFrame(
        {
            "patnr": ["RD1", "RD2", "RD3"],
            "geslacht": [1.0, 2.0, 1.0],
            "leeftijd": [61.0, 58.0, 70.0],
            "tumor": [5.0, 1.0, 5.0],
            "ok_datum": [date(2010, 6, 1), date(2011, 1, 1), date(2012, 3, 1)],
            "ingreep": [1.0, 2.0, 1.0],
            "overleden": [0.0, 1.0, 1.0],
            "fu_maanden": [24.0, 4.0, 0.5],
        }
    )
    pyreadstat.write_sav(
        frame, str(path), variable_value_labels={"tumor": {1.0: "mamma", 5.0: "long"}}
    )


@pytest.mark.parametrize("stated", [True, False], ids=["stated", "not-stated"])
def test_sav_death_flag_with_months_of_follow_up(tmp_path: Path, stated: bool) -> None:
    statement = ", follow_up_ends_at_death: true" if stated else ""
    text = DEATH_FLAG_SAV_MAPPING.replace("STATEMENT", statement)
    mapping = write_mapping(tmp_path / "centers", text)
    (tmp_path / "demo").mkdir()
    _write_death_flag_sav(tmp_path / "demo" / "register.sav")
    result = run(mapping, tmp_path / "demo")
    alive = row_of(result, "RD1")
    assert alive["vital_status"] == "alive" and pd.isna(alive["death_date"])
    if not stated:
        found = reasons(result)
        assert {(row, column) for row, column, code, _ in found if code == "missing-required"} == {
            (2, "death_date"),
            (3, "death_date"),
        }
        assert {row for row, _, _, _ in found} == {2, 3} and len(result.patients) == 1
        return
    assert reasons(result) == []
    # 4 months = floor(4 x 30.4375 + 0.5) = 122 days; half a month = 15 days
    dead = row_of(result, "RD2")
    assert dead["death_date"] == DAY("2011-01-01") + timedelta(days=122)
    assert dead["last_contact_date"] == dead["death_date"]
    assert row_of(result, "RD3")["death_date"] == DAY("2012-03-01") + timedelta(days=15)
    assert accounting_holds(result)


DEATH_FLAG_XLS_MAPPING = """\
center_id: demo
tables:
  - name: registre
    kind: xls
    files: "*.xls"
    patient_id: IPP
    columns:
      sex: {source: Sexe, values: {H: male, F: female}}
      age_at_surgery_years: Age
      primary_tumor: {source: Primitif, values: {poumon: lung, rein: kidney}}
      surgery_date: "Date chirurgie"
      procedure: Type
      intraop_death: {constant: false}
      vital_status:
        source: "Décédé"
        values: {oui: dead, non: alive}
        follow_up_ends_at_death: true
      last_contact_date: {source: "Suivi (mois)", convert: months_since_surgery}
"""


def _write_death_flag_xls(path: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Registre")
    dates = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    header = ["IPP", "Sexe", "Age", "Primitif", "Date chirurgie", "Type", "Décédé",
              "Suivi (mois)"]  # fmt: skip
    rows = [
        ["L1", "H", 64, "poumon", datetime(2015, 5, 10), "palliative", "non", 30],
        ["L2", "F", 52, "rein", datetime(2016, 2, 1), "en_bloc", "oui", 11.2],
        ["L3", "F", 47, "rein", datetime(2016, 7, 1), "en_bloc", "oui", None],
    ]  # fmt: skip
    for column, title in enumerate(header):
        sheet.write(0, column, title)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write(number, column, value, dates)
            elif value is not None:
                sheet.write(number, column, value)
    book.save(str(path))


def test_xls_death_flag_with_months_of_follow_up(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", DEATH_FLAG_XLS_MAPPING)
    (tmp_path / "demo").mkdir()
    _write_death_flag_xls(tmp_path / "demo" / "registre.xls")
    result = run(mapping, tmp_path / "demo")
    dead = row_of(result, "L2")
    # 11.2 months = floor(11.2 x 30.4375 + 0.5) = 341 days
    assert dead["death_date"] == DAY("2016-02-01") + timedelta(days=341)
    assert (dead["vital_status"], dead["last_contact_date"]) == ("dead", dead["death_date"])
    assert pd.isna(row_of(result, "L1")["death_date"])
    # L3 died but its follow-up is blank: no date to take, so it stays quarantined
    assert {(row, column, code) for row, column, code, _ in reasons(result)} == {
        (3, "last_contact_date", "missing-required"),
        (3, "death_date", "missing-required"),
    }
    assert accounting_holds(result)
