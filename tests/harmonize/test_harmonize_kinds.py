"""One small export per source kind, harmonized: exact canonical values and exact quarantine."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import xlwt

from tests.harmonize.harmonize_helpers import (
    accounting_holds,
    pid,
    reasons,
    row_of,
    run,
    write_mapping,
)

DAY = pd.Timestamp


def _age(surgery: date, birth: date) -> float:
    return (surgery - birth).days / 365.25


EURO_CSV_MAPPING = """\
center_id: demo
tables:
  - name: register
    kind: csv
    files: "*.csv"
    read: {encoding: cp1252, delimiter: ";"}
    decimal: ","
    date_format: "%d.%m.%Y"
    missing: ["-", "?"]
    patient_id: Fallnummer
    identifiers: [Nachname]
    columns:
      sex: {source: Geschlecht, values: {m: male, w: female}}
      age_at_surgery_years: Alter
      primary_tumor: {source: "Primärtumor", values: {Lunge: lung, Niere: kidney}}
      vertebral_mets_n: Anzahl
      vas_pain_preop: {source: "VAS (0-100)", convert: vas_0_100}
      surgery_date: OP-Datum
      procedure: {source: Eingriff, values: {"En-bloc-Resektion": en_bloc, "Kürettage": curettage}}
      intraop_death: {source: Intraop, values: {ja: true, nein: false}}
      vital_status: {source: Status, values: {lebend: alive, verstorben: dead}}
      death_date: Todesdatum
      last_contact_date: Letzter Kontakt
"""
EURO_CSV = (
    "Fallnummer;Nachname;Geschlecht;Alter;Primärtumor;Anzahl;VAS (0-100);OP-Datum;Eingriff;"
    "Intraop;Status;Todesdatum;Letzter Kontakt\r\n"
    "0101;Müller-Synth;m;61,5;Lunge;2;75;03.02.2015;Kürettage;nein;lebend;-;01.08.2016\r\n"
    "0102;Schmidt-Synth;w;70,0;Niere;<1;?;10.10.2016;En-bloc-Resektion;nein;verstorben;"
    "20.11.2016;20.11.2016\r\n"
    "0103;Weber-Synth;w;48,2;Niere;1;100;31.12.2017;En-bloc-Resektion;nein;verstorben;;05.05.2018\r\n"
)


def test_european_csv(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", EURO_CSV_MAPPING)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "export.csv").write_bytes(EURO_CSV.encode("cp1252"))
    result = run(mapping, tmp_path / "demo")
    row = row_of(result, "0101")
    assert (row["sex"], row["age_at_surgery_years"], row["primary_tumor"]) == ("male", 61.5, "lung")
    assert (row["vertebral_mets_n"], row["vas_pain_preop"]) == (2, 7.5)
    assert (row["surgery_date"], row["procedure"]) == (DAY("2015-02-03"), "curettage")
    assert (row["vital_status"], row["last_contact_date"]) == ("alive", DAY("2016-08-01"))
    assert pd.isna(row["death_date"]) and not row["intraop_death"]
    assert (row["source_file"], row["source_row"], row["center_id"]) == ("export.csv", 1, "demo")
    assert reasons(result) == [
        (2, "vertebral_mets_n", "unparseable-number", "<1"),
        (3, "death_date", "missing-required", None),
    ]
    assert list(result.quarantine["patient_id"]) == [pid("0102"), pid("0103")]
    assert accounting_holds(result)


TSV_MAPPING = """\
center_id: demo
tables:
  - name: registry
    kind: tsv
    files: "*.tsv"
    patient_id: id
    columns:
      sex: sex
      age_at_surgery_years: age
      primary_tumor: primary
      surgery_date: surgery
      procedure: procedure
      intraop_death: {source: intraop, values: {Y: true, N: false}}
      death_date: death
      last_contact_date: {source: fu_weeks, convert: weeks_since_surgery}
"""
TSV = (
    "id\tsex\tage\tprimary\tsurgery\tprocedure\tintraop\tdeath\tfu_weeks\n"
    "A1\tMale\t55\tLung\t2020-01-01\tpalliative\tN\t\t10\n"
    "A2\tfemale\t60\tbreast\t2020-03-01\ten_bloc\tN\t2020-04-01\t4.4\n"
    "A3\tmale\t340\tbreast\t2020-03-01\ten_bloc\tN\t\t2\n"
)


def test_plain_tsv_with_death_date_only_and_weeks_of_follow_up(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", TSV_MAPPING)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "export.tsv").write_text(TSV, encoding="utf-8")
    result = run(mapping, tmp_path / "demo")
    alive, dead = row_of(result, "A1"), row_of(result, "A2")
    assert (alive["sex"], alive["primary_tumor"], alive["vital_status"]) == (
        "male",
        "lung",
        "alive",
    )
    assert alive["last_contact_date"] == DAY("2020-01-01") + timedelta(days=70)
    assert (dead["vital_status"], dead["death_date"]) == ("dead", DAY("2020-04-01"))
    assert dead["last_contact_date"] == DAY("2020-04-01")  # 4.4 weeks = 30.8 days -> 31
    assert reasons(result) == [(3, "age_at_surgery_years", "out-of-range", "340")]
    assert accounting_holds(result)


XLSX_MAPPING = """\
center_id: demo
tables:
  - name: pazienti
    kind: xlsx
    files: "*.xlsx"
    sheet: Pazienti
    read: {header_row: 2}
    patient_id: "N. cartella"
    identifiers: [Cognome]
    missing: ["n.d."]
    columns:
      birth_date: "Data di nascita"
      sex: {source: Sesso, values: {M: male, F: female}}
      primary_tumor: {source: Tumore, vocabulary: tumori}
      surgery_date: "Data intervento"
      procedure: {source: Tipo, vocabulary: procedure}
      vas_pain_preop: {source: "VAS pre", decimal: ","}
      intraop_death: {source: Decesso, values: {"sì": true, "no": false}}
  - name: visite
    role: visits
    kind: xlsx
    files: "*.xlsx"
    sheet: Follow-up
    read: {header_row: 2}
    patient_id: "N. cartella"
    visits:
      date: {source: "Data visita", date_format: "%d/%m/%Y"}
      dead: {source: Stato, values: {vivo: false, deceduto: true}}
      recurrence: {source: Recidiva, values: {"sì": true, "no": false}}
"""


def _write_workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    patients = book.active
    patients.title = "Pazienti"
    patients.append(["Registro metastasi (sintetico)"])
    patients.append(["N. cartella", "Cognome", "Data di nascita", "Sesso", "Tumore",
                     "Data intervento", "Tipo", "VAS pre", "Decesso"])  # fmt: skip
    patients.append(["BO1", "Rossi-Synth", datetime(1950, 6, 15), "M", "polmone",
                     datetime(2005, 3, 10), "palliativa", "7,5", "no"])  # fmt: skip
    patients.append(["BO2", "Bianchi-Synth", datetime(1960, 1, 1), "F", "mammella",
                     datetime(2004, 5, 5), "vertebroplastica", "n.d.", "no"])  # fmt: skip
    patients.append([None] * 9)
    visits = book.create_sheet("Follow-up")
    visits.append(["Visite"])
    visits.append(["N. cartella", "Data visita", "Stato", "Recidiva"])
    visits.append(["BO1", "20/03/2005", "vivo", "no"])
    visits.append(["BO1", "10/09/2005", "vivo", "sì"])
    visits.append(["BO1", "01/02/2006", "deceduto", "sì"])
    visits.append(["BO2", "15/05/2004", "vivo", "no"])
    book.save(path)


def test_xlsx_workbook_with_sheets_title_rows_and_visits(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", XLSX_MAPPING)
    vocabularies = tmp_path / "centers" / "vocabularies"
    vocabularies.mkdir()
    (vocabularies / "procedure.yaml").write_text('palliative: ["palliativa"]\n', encoding="utf-8")
    (vocabularies / "tumori.csv").write_text(
        "term,value\npolmone,lung\nmammella,breast\n", encoding="utf-8"
    )
    (tmp_path / "demo").mkdir()
    _write_workbook(tmp_path / "demo" / "registro.xlsx")
    result = run(mapping, tmp_path / "demo")
    row = row_of(result, "BO1")
    assert row["age_at_surgery_years"] == _age(date(2005, 3, 10), date(1950, 6, 15))
    assert (row["sex"], row["primary_tumor"], row["procedure"]) == ("male", "lung", "palliative")
    assert row["vas_pain_preop"] == 7.5
    assert (row["last_contact_date"], row["vital_status"]) == (DAY("2006-02-01"), "dead")
    assert row["death_date"] == DAY("2006-02-01")
    assert (row["local_recurrence"], row["local_recurrence_date"]) == (True, DAY("2005-09-10"))
    assert "birth_date" not in result.patients.columns
    assert reasons(result) == [(2, "procedure", "not-in-categories", "vertebroplastica")]
    assert [(f.name, f.rows_read, f.rows_quarantined) for f in result.files] == [
        ("registro.xlsx", 2, 1)
    ]


XLS_MAPPING = """\
center_id: demo
tables:
  - name: registre
    kind: xls
    files: "*.xls"
    sheet: Registre
    patient_id: IPP
    identifiers: [Nom]
    missing: [-9]
    columns:
      birth_date: "Date de naissance"
      sex: {source: Sexe, values: {H: male, F: female}}
      primary_tumor: {source: Primitif, values: {poumon: lung, rein: kidney}}
      surgery_date: "Date chirurgie"
      procedure: Type
      intraop_death: {constant: false}
      vital_status: {source: "Décès", values: {oui: dead, non: alive}}
      death_date: "Date du décès"
      last_contact_date: {source: "Suivi (jours)", convert: days_since_surgery}
      vas_pain_preop: "EVA préop"
"""


def _write_xls(path: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Registre")
    dates = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    header = ["IPP", "Nom", "Sexe", "Date de naissance", "Primitif", "Date chirurgie", "Type",
              "Décès", "Date du décès", "Suivi (jours)", "EVA préop"]  # fmt: skip
    rows = [
        ["0000000001", "Martin-Synth", "H", datetime(1940, 2, 2), "poumon", datetime(2001, 4, 4),
         "palliative", "non", None, 400, 5],
        ["0000000002", "Durand-Synth", "F", datetime(1950, 1, 1), "rein", datetime(2002, 2, 2),
         "palliative", "oui", datetime(2002, 1, 1), -32, -9],
        ["0000000003", "Petit-Synth", "F", datetime(1950, 1, 1), "rein", datetime(2002, 2, 2),
         "palliative", "non", None, 10, 11],
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


def test_legacy_xls_with_days_since_surgery_and_a_numeric_missing_code(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", XLS_MAPPING)
    (tmp_path / "demo").mkdir()
    _write_xls(tmp_path / "demo" / "registre.xls")
    result = run(mapping, tmp_path / "demo")
    row = row_of(result, "0000000001")
    assert row["age_at_surgery_years"] == _age(date(2001, 4, 4), date(1940, 2, 2))
    assert row["last_contact_date"] == DAY("2001-04-04") + timedelta(days=400)
    assert (row["vital_status"], row["vas_pain_preop"], row["sex"]) == ("alive", 5.0, "male")
    assert reasons(result) == [
        (2, None, "contact-before-surgery", None),
        (2, None, "death-before-surgery", None),
        (3, "vas_pain_preop", "out-of-range", "11"),
    ]
    assert accounting_holds(result)


SAV_MAPPING = """\
center_id: demo
tables:
  - name: patienten
    kind: sav
    files: "*.sav"
    patient_id: patnr
    identifiers: [naam]
    columns:
      birth_date: geboortedatum
      sex: {source: geslacht, values: {"1": male, "2": female}}
      primary_tumor: {source: primaire_tumor, labels: true, values: {long: lung, mamma: breast}}
      frankel_preop: {source: asia_pre, labels: true, convert: asia_to_frankel}
      surgery_date: ok_datum
      procedure: {source: ingreep, values: {"1": palliative, "2": curettage, "3": en_bloc}}
      intraop_death: {constant: false}
      vital_status: {source: overleden, values: {"0": alive, "1": dead}}
      death_date: datum_overlijden
      last_contact_date: {source: fu_maanden, convert: months_since_surgery}
"""


def _write_sav(path: Path) -> None:
    frame = pd.DataFrame(
        {
            "patnr": ["RD1", "RD2"],
            "naam": ["Jansen-Synth, Piet", "Bakker-Synth, An"],
            "geboortedatum": [date(1950, 1, 1), date(1955, 5, 5)],
            "geslacht": [1.0, 2.0],
            "primaire_tumor": [5.0, 99.0],
            "asia_pre": [3.0, 6.0],
            "ok_datum": [date(2010, 6, 1), date(2011, 1, 1)],
            "ingreep": [1.0, 2.0],
            "overleden": [0.0, 1.0],
            "datum_overlijden": [None, date(2011, 5, 1)],
            "fu_maanden": [12.5, 120 / 30.4375],
        }
    )
    labels = {"primaire_tumor": {1.0: "mamma", 5.0: "long", 99.0: "onbekend"},
              "asia_pre": {1.0: "A", 2.0: "B", 3.0: "C", 4.0: "D", 5.0: "E"}}  # fmt: skip
    pyreadstat.write_sav(
        frame, str(path), variable_value_labels=labels,
        missing_ranges={"primaire_tumor": [99.0], "fu_maanden": [999.0]},
    )  # fmt: skip


def test_spss_value_labels_user_missing_asia_and_months(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", SAV_MAPPING)
    (tmp_path / "demo").mkdir()
    _write_sav(tmp_path / "demo" / "wervel.sav")
    result = run(mapping, tmp_path / "demo")
    row = row_of(result, "RD1")
    assert (row["primary_tumor"], row["frankel_preop"], row["procedure"]) == (
        "lung", "C", "palliative"
    )  # fmt: skip
    assert row["age_at_surgery_years"] == _age(date(2010, 6, 1), date(1950, 1, 1))
    assert row["last_contact_date"] == DAY("2010-06-01") + timedelta(days=380)  # 380.47 days
    assert reasons(result) == [
        (2, "primary_tumor", "missing-required", None),
        (2, "frankel_preop", "not-in-categories", "6"),
    ]


REDCAP_MAPPING = """\
center_id: demo
tables:
  - name: basal
    kind: redcap
    files: "data.csv"
    read: {data_dictionary: "dictionary.csv"}
    where: {redcap_event_name: basal_arm_1}
    patient_id: record_id
    columns:
      sex: {source: sexo, labels: true, values: {Hombre: male, Mujer: female}}
      age_at_surgery_years: edad
      primary_tumor: {source: tumor, labels: true, values: {Mama: breast, "Pulmón": lung}}
  - name: cirugia
    role: join
    kind: redcap
    files: "data.csv"
    read: {data_dictionary: "dictionary.csv"}
    where: {redcap_event_name: cirugia_arm_1}
    patient_id: record_id
    columns:
      surgery_date: fecha_cirugia
      procedure:
        source: tipo
        labels: true
        values: {Paliativa: palliative, "Resección en bloque": en_bloc}
      pathological_fracture: {checkbox: fractura, values: {"1": true, "0": false}}
      intraop_death: {constant: false}
  - name: seguimiento
    role: visits
    kind: redcap
    files: "data.csv"
    read: {data_dictionary: "dictionary.csv"}
    instrument: seguimiento
    patient_id: record_id
    visits:
      date: fecha_visita
      dead: {source: estado_vital, values: {"1": false, "2": true}}
      recurrence: recidiva
"""
REDCAP_DICTIONARY = (
    (
        "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"
        '"Choices, Calculations, OR Slider Labels"\n'
    )
    + """\
record_id,basal,,text,ID,
sexo,basal,,radio,Sexo,"1, Hombre | 2, Mujer"
edad,basal,,text,Edad,
tumor,basal,,dropdown,Tumor,"1, Mama | 5, Pulmón"
fecha_cirugia,cirugia,,text,Fecha,
tipo,cirugia,,dropdown,Tipo,"1, Paliativa | 3, Resección en bloque"
fractura,cirugia,,checkbox,Fractura,"1, Sí | 0, No"
fecha_visita,seguimiento,,text,Fecha visita,
estado_vital,seguimiento,,radio,Estado,"1, Vivo | 2, Fallecido"
recidiva,seguimiento,,yesno,Recidiva,
"""
)
REDCAP_DATA = """\
record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,sexo,edad,tumor,fecha_cirugia,tipo,fractura___1,fractura___0,fecha_visita,estado_vital,recidiva
1,basal_arm_1,,,1,62.5,5,,,,,,,
1,cirugia_arm_1,,,,,,2020-02-01,3,1,0,,,
1,seguimiento_arm_1,seguimiento,1,,,,,,,,2020-03-01,1,0
1,seguimiento_arm_1,seguimiento,2,,,,,,,,2020-09-01,2,1
2,basal_arm_1,,,2,50,1,,,,,,,
2,cirugia_arm_1,,,,,,2021-01-15,9,0,1,,,
2,seguimiento_arm_1,seguimiento,1,,,,,,,,2021-02-01,1,0
"""


def test_redcap_events_repeating_instrument_checkbox_and_choice_labels(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", REDCAP_MAPPING)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "data.csv").write_text(REDCAP_DATA, encoding="utf-8")
    (tmp_path / "demo" / "dictionary.csv").write_text(REDCAP_DICTIONARY, encoding="utf-8")
    result = run(mapping, tmp_path / "demo")
    row = row_of(result, "1")
    assert (row["sex"], row["age_at_surgery_years"], row["primary_tumor"]) == ("male", 62.5, "lung")
    assert (row["surgery_date"], row["procedure"]) == (DAY("2020-02-01"), "en_bloc")
    assert row["pathological_fracture"]
    assert (row["vital_status"], row["death_date"]) == ("dead", DAY("2020-09-01"))
    assert (row["local_recurrence"], row["local_recurrence_date"]) == (True, DAY("2020-09-01"))
    assert row["last_contact_date"] == DAY("2020-09-01")
    assert reasons(result) == [(5, "procedure", "not-in-categories", "9")]
    assert [(f.name, f.rows_read, f.rows_harmonized) for f in result.files] == [("data.csv", 2, 1)]
