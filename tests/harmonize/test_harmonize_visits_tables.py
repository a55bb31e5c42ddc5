"""Visits kept in several tables (two sheets, or follow-up blocks side by side) are summarized
together, as the canonical schema summarizes one patient's visits."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd

from spinemet_etl.mapping.check import check_mapping_file
from tests.harmonize.harmonize_helpers import (
    accounting_holds,
    pid,
    reasons,
    row_of,
    run,
    write_mapping,
)

DAY = pd.Timestamp
SHEETS_MAPPING = """\
center_id: demo
tables:
  - name: pazienti
    kind: xlsx
    files: "*.xlsx"
    sheet: Pazienti
    patient_id: id
    columns:
      age_at_surgery_years: age
      sex: {source: sex, values: {M: male, F: female}}
      primary_tumor: primary
      surgery_date: surgery
      procedure: procedure
      intraop_death: {constant: false}
  - name: visite
    role: visits
    kind: xlsx
    files: "*.xlsx"
    sheet: Visite
    patient_id: id
    visits:
      date: {source: mesi, convert: months_since_surgery}
      dead: {source: stato, values: {vivo: false, morto: true}}
  - name: telefonate
    role: visits
    kind: xlsx
    files: "*.xlsx"
    sheet: Telefonate
    patient_id: id
    visits:
      date: data
      recurrence: {source: recidiva, values: {si: true, "no": false}}
"""


def _workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    patients = book.active
    patients.title = "Pazienti"
    patients.append(["id", "age", "sex", "primary", "surgery", "procedure"])
    for source_id in ("P1", "P2", "P3", "P5"):
        patients.append([source_id, 60, "M", "lung", datetime(2020, 1, 1), "palliative"])
    visits = book.create_sheet("Visite")
    visits.append(["id", "mesi", "stato"])
    visits.append(["P1", 3, "vivo"])
    visits.append(["P2", 6, "morto"])
    calls = book.create_sheet("Telefonate")
    calls.append(["id", "data", "recidiva"])
    calls.append(["P1", datetime(2020, 9, 1), "no"])
    calls.append(["P3", datetime(2020, 5, 1), "si"])
    calls.append(["P3", datetime(2020, 8, 1), "no"])
    calls.append(["P5", "31/02/2020", "no"])
    calls.append(["P4", datetime(2020, 2, 1), "no"])
    book.save(path)


def test_two_visit_sheets_are_summarized_together(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", SHEETS_MAPPING)
    assert check_mapping_file(mapping)[1] == []
    (tmp_path / "demo").mkdir()
    _workbook(tmp_path / "demo" / "registro.xlsx")
    result = run(mapping, tmp_path / "demo")
    first, second, third = (row_of(result, pid) for pid in ("P1", "P2", "P3"))
    # P1: a visit at 3 months (one sheet, a duration), a call on 1 September (the other)
    assert first["last_contact_date"] == DAY("2020-09-01")
    assert (first["vital_status"], first["local_recurrence"]) == ("alive", False)
    # P2: died at the 6-month visit (183 days); no call, yet the center records recurrence
    assert (second["vital_status"], second["death_date"]) == ("dead", DAY("2020-07-02"))
    assert second["death_date"] == DAY("2020-01-01") + timedelta(days=183)
    assert second["local_recurrence"] == False  # noqa: E712 (pandas' boolean NA)
    # P3: calls only; the first recurrence dates it
    assert (third["local_recurrence"], third["local_recurrence_date"]) == (True, DAY("2020-05-01"))
    assert (third["vital_status"], third["last_contact_date"]) == ("alive", DAY("2020-08-01"))
    # P4, only called, is a record of its own; P5's call dated 31 February fails on P5
    by_patient = {
        (patient, code)
        for patient, code in zip(
            result.quarantine["patient_id"], result.quarantine["check_code"], strict=True
        )
    }
    assert by_patient == {(pid("P4"), "missing-required"), (pid("P5"), "unparseable-date")}
    assert accounting_holds(result)


WIDE_MAPPING = """\
center_id: demo
tables:
  - name: registry
    kind: csv
    files: registry.csv
    date_format: "%d.%m.%Y"
    patient_id: id
    columns:
      sex: {source: sex, values: {m: male, f: female}}
      age_at_surgery_years: age
      primary_tumor: tumor
      surgery_date: surgery
      procedure: procedure
      intraop_death: {constant: false}
""" + "".join(
    f"""\
  - name: follow_up_{n}
    role: visits
    kind: csv
    files: registry.csv
    date_format: "%d.%m.%Y"
    patient_id: id
    visits:
      date: fu{n}_date
      dead: {{source: fu{n}_status, values: {{alive: false, dead: true}}}}
"""
    for n in (1, 2, 3)
)
WIDE_CSV = (
    "id,sex,age,tumor,surgery,procedure,fu1_date,fu1_status,fu2_date,fu2_status,"
    "fu3_date,fu3_status\n"
    "W1,m,60,lung,01.02.2020,palliative,01.05.2020,alive,01.08.2020,alive,01.02.2021,alive\n"
    "W2,f,55,breast,01.03.2020,curettage,01.06.2020,alive,15.09.2020,dead,,\n"
    "W3,f,70,breast,01.04.2020,curettage,01.07.2020,alive,,,\n"
)


def test_follow_up_blocks_side_by_side_are_visits(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", WIDE_MAPPING)
    assert check_mapping_file(mapping)[1] == []
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "registry.csv").write_text(WIDE_CSV, encoding="utf-8")
    result = run(mapping, tmp_path / "demo")
    assert reasons(result) == []
    assert row_of(result, "W1")["last_contact_date"] == DAY("2021-02-01")
    assert row_of(result, "W1")["vital_status"] == "alive"
    assert row_of(result, "W2")["death_date"] == DAY("2020-09-15")
    assert row_of(result, "W3")["last_contact_date"] == DAY("2020-07-01")
    assert len(result.patients) == 3 and accounting_holds(result)


def test_a_visit_output_mapped_by_a_joined_table_too_is_still_refused(tmp_path: Path) -> None:
    text = WIDE_MAPPING.replace(
        "      intraop_death: {constant: false}\n",
        "      intraop_death: {constant: false}\n      last_contact_date: fu1_date\n",
    )
    problems = check_mapping_file(write_mapping(tmp_path / "centers", text))[1]
    assert ["`last_contact_date` is already filled" in str(p) for p in problems] == [True] * 3
