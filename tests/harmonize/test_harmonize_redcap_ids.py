"""REDCap longitudinal: the hospital record number, on the baseline event only, keys the patient."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spinemet_etl.harmonize import process_center
from tests.harmonize.harmonize_helpers import KEY, accounting_holds, pid, reasons, write_mapping

MAPPING = """\
center_id: demo
tables:
  - name: basal
    kind: redcap
    files: "DATA_*.csv"
    read: {data_dictionary: "DataDictionary.csv"}
    where: {redcap_event_name: baseline_arm_1}
    record_id: record_id
    patient_id: nhc
    columns:
      sex: {source: sexo, labels: true, values: {Hombre: male, Mujer: female}}
      age_at_surgery_years: edad
      primary_tumor: {source: tumor, labels: true, values: {Pulmón: lung, Mama: breast}}
  - name: cirugia
    role: join
    kind: redcap
    files: "DATA_*.csv"
    read: {data_dictionary: "DataDictionary.csv"}
    where: {redcap_event_name: cirugia_arm_1}
    record_id: record_id
    patient_id: nhc
    columns:
      surgery_date: fecha_cirugia
      procedure: {source: tipo, labels: true, values: {Paliativa: palliative, "En bloque": en_bloc}}
      intraop_death: {source: muerte_intraop, values: {"0": false, "1": true}}
  - name: seguimiento
    role: visits
    kind: redcap
    files: "DATA_*.csv"
    read: {data_dictionary: "DataDictionary.csv"}
    instrument: seguimiento
    record_id: record_id
    patient_id: nhc
    visits:
      date: fecha_visita
      dead: {source: estado, values: {"1": false, "2": true}}
"""
DICTIONARY = """\
"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",\
"Choices, Calculations, OR Slider Labels","Field Note"
record_id,datos_basales,,text,"ID",,
nhc,datos_basales,,text,"Número de historia clínica",,
sexo,datos_basales,,radio,"Sexo","1, Hombre | 2, Mujer",
edad,datos_basales,,text,"Edad",,
tumor,datos_basales,,dropdown,"Tumor primario","1, Pulmón | 2, Mama",
fecha_cirugia,cirugia,,text,"Fecha de cirugía",,
tipo,cirugia,,radio,"Tipo","1, Paliativa | 2, En bloque",
muerte_intraop,cirugia,,yesno,"Muerte intraoperatoria",,
fecha_visita,seguimiento,,text,"Fecha de visita",,
estado,seguimiento,,dropdown,"Estado","1, Vivo | 2, Fallecido",
"""
HEADER = (
    "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,nhc,sexo,edad,"
    "tumor,datos_basales_complete,fecha_cirugia,tipo,muerte_intraop,cirugia_complete,"
    "fecha_visita,estado,seguimiento_complete"
)
PATIENTS = {
    "H-0001": ("1", "61", "1", "2019-03-04", "1", ["2019-06-01,1", "2019-12-01,2"]),
    "H-0002": ("2", "55", "2", "2020-01-10", "2", ["2020-07-01,1"]),
    "H-0003": ("1", "70", "1", "2020-05-05", "1", ["2021-01-01,1"]),
}


def _record_rows(record: str, mrn: str | None, patient: tuple, surgery_mrn: str = "") -> list[str]:
    """One record's rows as REDCap exports them: the MRN on the baseline event only."""
    sex, age, tumor, surgery, kind, visits = patient
    rows = [
        f"{record},baseline_arm_1,,,{mrn or ''},{sex},{age},{tumor},2,,,,,,,",
        f"{record},cirugia_arm_1,,,{surgery_mrn},,,,,{surgery},{kind},0,2,,,",
    ]
    rows += [
        f"{record},seguimiento_arm_1,seguimiento,{n},,,,,,,,,,{visit},2"
        for n, visit in enumerate(visits, start=1)
    ]
    return rows


def _export(folder: Path, name: str, rows: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "DataDictionary.csv").write_text(DICTIONARY, encoding="utf-8")
    (folder / name).write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")


def _comparable(patients: pd.DataFrame) -> pd.DataFrame:
    lineage = ["run_id", "source_file", "source_sha256", "source_row"]
    frame = patients.drop(columns=lineage).sort_values("patient_id")
    return frame.reset_index(drop=True)


def test_two_exports_with_renumbered_records_give_the_same_patients(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", MAPPING)
    first = [
        row for number, (mrn, patient) in enumerate(PATIENTS.items(), start=1)
        for row in _record_rows(str(number), mrn, patient)
    ]  # fmt: skip
    renumbered = [  # REDCap renumbered the records, and lists them in another order
        row for number, (mrn, patient) in zip((12, 7, 30), reversed(PATIENTS.items()), strict=True)
        for row in _record_rows(str(number), mrn, patient)
    ]  # fmt: skip
    _export(tmp_path / "a" / "demo", "DATA_2026-11-01.csv", first)
    _export(tmp_path / "b" / "demo", "DATA_2026-12-01.csv", renumbered)
    one = process_center(mapping, tmp_path / "a", run_id="run-1", key=KEY)
    two = process_center(mapping, tmp_path / "b", run_id="run-2", key=KEY)
    assert one.quarantine.empty and two.quarantine.empty
    assert len(one.patients) == 3
    pd.testing.assert_frame_equal(_comparable(one.patients), _comparable(two.patients))
    row = one.patients.set_index("patient_id").loc[pid("H-0001")]
    assert str(row["surgery_date"].date()) == "2019-03-04"
    assert (row["vital_status"], str(row["death_date"].date())) == ("dead", "2019-12-01")


def test_records_with_two_ids_or_none_and_a_patient_entered_twice(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", MAPPING)
    patient = PATIENTS["H-0002"]
    rows = _record_rows("1", "H-0001", PATIENTS["H-0001"])  # data rows 1-4
    rows += _record_rows("2", "H-0002", patient, surgery_mrn="H-0999")  # rows 5-7: two ids
    rows += _record_rows("3", None, PATIENTS["H-0003"])  # rows 8-10: no id
    rows += _record_rows("4", "H-0001", PATIENTS["H-0001"])  # rows 11-14: H-0001 again
    _export(tmp_path / "landing" / "demo", "DATA_2026-11-01.csv", rows)
    result = process_center(mapping, tmp_path / "landing", run_id="run-1", key=KEY)
    assert result.patients.empty
    found = reasons(result)
    codes = {(row, code) for row, _, code, _ in found}
    assert {(1, "duplicate-patient"), (11, "duplicate-patient")} <= codes
    for row in (5, 6, 8, 9):
        assert (row, "patient_id", "missing-required", None) in found
    messages = set(result.quarantine["message"])
    assert any("2 different values of `nhc`" in message for message in messages)
    assert any("no value of `nhc`" in message for message in messages)
    assert "H-0999" not in " ".join(messages) and "H-0001" not in " ".join(messages)
    assert accounting_holds(result)
