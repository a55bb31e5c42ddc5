"""Exports that were once silently misread (issue 20): each now reads right or is refused."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwt
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from spinemet_etl.errors import SourceError
from spinemet_etl.mapping.check import check_mapping_file
from tests.harmonize.harmonize_helpers import reasons, row_of, run, write_mapping

REPO_CENTERS = Path(__file__).resolve().parents[2] / "centers"
DAY = pd.Timestamp

CSV_MAPPING = """\
center_id: demo
tables:
  - name: registry
    kind: csv
    files: "**/export*.csv"
    read: {delimiter: ";"}
    decimal: ","
    date_format: "%d.%m.%Y"
    patient_id: mrn
    columns:
      sex: {source: sex, values: {m: male, f: female}}
      age_at_surgery_years: age
      primary_tumor: primary
      surgery_date: surgery
      procedure: procedure
      intraop_death: {constant: false}
      death_date: death
      last_contact_date: {source: follow_up, convert: days_since_surgery}
"""
CSV_HEADER = "mrn;sex;age;primary;surgery;procedure;death;follow_up\n"


def _csv_center(tmp_path: Path, rows: str, mapping: str = CSV_MAPPING) -> tuple[Path, Path]:
    centers = tmp_path / "centers"
    path = write_mapping(centers, mapping)
    landing = tmp_path / "landing" / "demo"
    landing.mkdir(parents=True)
    (landing / "export.csv").write_bytes((CSV_HEADER + rows).encode("utf-8"))
    return path, tmp_path / "landing"


def test_a_center_without_a_landing_folder_reads_nothing_of_the_others(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", CSV_MAPPING.replace("demo", "luebeck"), "luebeck")
    kiel = tmp_path / "landing" / "kiel"
    kiel.mkdir(parents=True)
    row = "K1;m;60,0;lung;10.01.2020;palliative;;30\n"
    (kiel / "export_2026-11.csv").write_bytes((CSV_HEADER + row).encode("utf-8"))
    with pytest.raises(SourceError) as caught:
        run(mapping, tmp_path / "landing")
    assert caught.value.code == "no-export-file"
    assert "luebeck" in caught.value.message


SEX_MAPPING = CSV_MAPPING.replace(
    "{source: sex, values: {m: male, f: female}}", "{source: sex, vocabulary: sex}"
)


def test_the_shared_sex_vocabulary_never_reads_spanish_m_as_male(tmp_path: Path) -> None:
    mapping, landing = _csv_center(
        tmp_path,
        "E1;H;60,0;lung;10.01.2020;palliative;;30\nE2;M;61,0;lung;10.01.2020;palliative;;30\n",
        SEX_MAPPING,
    )
    shutil.copytree(REPO_CENTERS / "vocabularies", tmp_path / "centers" / "vocabularies")
    result = run(mapping, landing)
    assert result.patients.empty
    assert reasons(result) == [
        (1, "sex", "not-in-categories", "H"),
        (2, "sex", "not-in-categories", "M"),
    ]


def test_a_one_letter_term_in_a_shared_vocabulary_must_be_mapped_per_center(
    tmp_path: Path,
) -> None:
    mapping, _ = _csv_center(tmp_path, "", SEX_MAPPING)
    folder = tmp_path / "centers" / "vocabularies"
    folder.mkdir()
    (folder / "sex.yaml").write_text('male: ["M", "man"]\nfemale: ["woman"]\n', encoding="utf-8")
    _, problems = check_mapping_file(mapping)
    assert len(problems) == 1
    assert "`M`" in problems[0].message and "values:" in problems[0].message


@pytest.mark.parametrize(
    ("thousands", "age", "follow_up", "expected"),
    [
        ("", "60,0", "1.096", ("follow_up", "1.096")),
        ("", "1.5", "30", ("age", "1.5")),
        ('thousands: "."', "60,0", "1.096", DAY("2020-01-10") + pd.Timedelta(days=1096)),
        ('thousands: "."', "60,0", "1.096,0", DAY("2020-01-10") + pd.Timedelta(days=1096)),
        ('thousands: "."', "60,0", "10.96", ("follow_up", "10.96")),
    ],
    ids=["dot-undeclared", "dot-as-decimal", "declared", "declared-with-comma", "misplaced"],
)
def test_a_dot_in_a_decimal_comma_column_is_never_a_decimal_point(
    tmp_path: Path, thousands: str, age: str, follow_up: str, expected: object
) -> None:
    text = CSV_MAPPING.replace('decimal: ","', f'decimal: ","\n    {thousands}')
    row = f"E1;m;{age};lung;10.01.2020;palliative;;{follow_up}\n"
    mapping, landing = _csv_center(tmp_path, row, text)
    result = run(mapping, landing)
    if isinstance(expected, tuple):
        column, value = expected
        reported = "last_contact_date" if column == "follow_up" else "age_at_surgery_years"
        assert result.patients.empty
        assert reasons(result) == [(1, reported, "unparseable-number", value)]
    else:
        assert row_of(result, "E1")["last_contact_date"] == expected


WORKBOOK_MAPPING = """\
center_id: demo
tables:
  - name: registre
    kind: {kind}
    files: "*.{kind}"
    patient_id: IPP
    excel_serial: true
    columns:
      birth_date: naissance
      sex: {{source: sexe, values: {{homme: male, femme: female}}}}
      primary_tumor: primary
      surgery_date: chirurgie
      procedure: procedure
      intraop_death: {{constant: false}}
      vital_status: {{constant: alive}}
      last_contact_date: contact
"""
WORKBOOK_HEADER = ["IPP", "naissance", "sexe", "primary", "chirurgie", "procedure", "contact"]
BIRTH, SURGERY, CONTACT = datetime(1944, 5, 17), datetime(2020, 11, 30), datetime(2021, 6, 1)


def _serial_1904(day: datetime) -> int:
    return (day - datetime(1904, 1, 1)).days


def _workbook_rows() -> list[list[object]]:
    """One patient: birth date as a plain 1904 serial, the other dates as date cells."""
    return [WORKBOOK_HEADER, ["P1", _serial_1904(BIRTH), "homme", "lung", SURGERY, "palliative",
                              float(_serial_1904(CONTACT))]]  # fmt: skip


def _write_xls_1904(path: Path) -> None:
    book = xlwt.Workbook()
    book.dates_1904 = True
    sheet = book.add_sheet("Registre")
    dates = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for number, row in enumerate(_workbook_rows()):
        for column, value in enumerate(row):
            style = dates if isinstance(value, datetime) else xlwt.Style.default_style
            sheet.write(number, column, value, style)
    book.save(str(path))


def _write_xlsx_1904(path: Path) -> None:
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    for row in _workbook_rows():
        sheet.append(row)
    book.save(path)


@pytest.mark.parametrize("kind", ["xls", "xlsx"])
def test_excel_serials_follow_the_workbooks_1904_date_system(tmp_path: Path, kind: str) -> None:
    mapping = write_mapping(tmp_path / "centers", WORKBOOK_MAPPING.format(kind=kind))
    folder = tmp_path / "landing" / "demo"
    folder.mkdir(parents=True)
    (_write_xls_1904 if kind == "xls" else _write_xlsx_1904)(folder / f"registre.{kind}")
    row = row_of(run(mapping, tmp_path / "landing"), "P1")
    assert row["surgery_date"] == DAY(SURGERY)
    assert row["last_contact_date"] == DAY(CONTACT)
    assert row["age_at_surgery_years"] == (SURGERY - BIRTH).days / 365.25


VISITS_MAPPING = """\
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
      date: date
      dead: {source: dead, values: {vivo: false, morto: true}}
"""


def _write_with_blank_rows(path: Path) -> None:
    book = openpyxl.Workbook()
    patients = book.active
    patients.title = "Pazienti"
    patients.append(["id", "age", "sex", "primary", "surgery", "procedure"])
    patients.append(["P1", 60, "M", "lung", datetime(2020, 1, 10), "palliative"])
    patients.append([None, None, "   ", None, None, None])
    patients.append(["P2", 70, "F", "breast", datetime(2020, 2, 10), "palliative"])
    visits = book.create_sheet("Visite")
    visits.append(["id", "date", "dead"])
    visits.append(["P1", datetime(2020, 6, 1), "vivo"])
    visits.append([])
    visits.append([None, None, None])
    visits.append(["P2", datetime(2020, 7, 1), "morto"])
    book.save(path)


def test_blank_rows_between_records_are_not_records(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", VISITS_MAPPING)
    (tmp_path / "demo").mkdir()
    _write_with_blank_rows(tmp_path / "demo" / "registro.xlsx")
    result = run(mapping, tmp_path / "demo")
    assert reasons(result) == []
    assert result.patients["source_row"].tolist() == [1, 3]
    assert row_of(result, "P2")["death_date"] == DAY("2020-07-01")
    [stats] = result.files
    assert (stats.rows_read, stats.rows_harmonized, stats.rows_quarantined) == (2, 2, 0)


@pytest.mark.parametrize(
    "blank", [";;;;;;;\n", "\n", " ; ;;;;;;\n"], ids=["delimiters", "empty", "spaces"]
)
def test_blank_csv_lines_between_records_are_not_records(tmp_path: Path, blank: str) -> None:
    first = "E1;m;60,0;lung;10.01.2020;palliative;;30\n"
    mapping, landing = _csv_center(tmp_path, first + blank + first.replace("E1", "E2"))
    result = run(mapping, landing)
    assert reasons(result) == []
    assert result.patients["source_row"].tolist() == [1, 3]
    assert [stats.rows_read for stats in result.files] == [2]


def test_a_clean_cp1252_file_with_utf8_looking_bytes_decodes_as_declared(tmp_path: Path) -> None:
    text = CSV_MAPPING.replace('read: {delimiter: ";"}', 'read: {delimiter: ";", encoding: cp1252}')
    text = text.replace("primary_tumor: primary", "primary_tumor: {source: primary, values: "
                        '{"Weiß“ (Lunge)": lung, "Ñ”": breast}}')  # fmt: skip
    mapping = write_mapping(tmp_path / "centers", text)
    (tmp_path / "demo").mkdir()
    rows = "E1;m;60,0;Weiß“ (Lunge);10.01.2020;palliative;;30\n"
    rows += "E2;f;50,0;Ñ”;10.01.2020;palliative;;30\n"
    (tmp_path / "demo" / "export.csv").write_bytes((CSV_HEADER + rows).encode("cp1252"))
    assert b"\xdf\x93" in (tmp_path / "demo" / "export.csv").read_bytes()
    result = run(mapping, tmp_path / "demo")
    assert reasons(result) == []
    assert (row_of(result, "E1")["primary_tumor"], row_of(result, "E2")["primary_tumor"]) == (
        "lung", "breast"
    )  # fmt: skip


SAV_ASIA_MAPPING = """\
center_id: demo
tables:
  - name: patienten
    kind: sav
    files: "*.sav"
    patient_id: patnr
    columns:
      age_at_surgery_years: leeftijd
      sex: {source: geslacht, values: {"1": male, "2": female}}
      primary_tumor: {constant: lung}
      frankel_preop: {source: asia_pre, labels: true, convert: asia_to_frankel}
      frankel_postop: {source: asia_post, convert: asia_to_frankel}
      surgery_date: ok_datum
      procedure: {constant: palliative}
      intraop_death: perop
      vital_status: {constant: alive}
      last_contact_date: contact
"""


def test_asia_labels_reach_the_frankel_conversion(tmp_path: Path) -> None:
    import pyreadstat

    frame = pd.DataFrame(
        {
            "patnr": ["RD1", "RD2"],
            "leeftijd": [60.0, 70.0],
            "geslacht": [1.0, 2.0],
            "asia_pre": [3.0, 6.0],
            "asia_post": ["asia d", "ASIA X"],
            "ok_datum": [datetime(2010, 6, 1).date(), datetime(2011, 1, 1).date()],
            "perop": [0.0, 0.0],
            "contact": [datetime(2012, 6, 1).date(), datetime(2012, 1, 1).date()],
        }
    )
    labels = {"asia_pre": {float(n): f"ASIA {g}" for n, g in enumerate("ABCDE", 1)} | {6.0: "?"}}
    (tmp_path / "demo").mkdir()
    pyreadstat.write_sav(frame, str(tmp_path / "demo" / "w.sav"), variable_value_labels=labels)
    result = run(write_mapping(tmp_path / "centers", SAV_ASIA_MAPPING), tmp_path / "demo")
    assert (row_of(result, "RD1")["frankel_preop"], row_of(result, "RD1")["frankel_postop"]) == (
        "C", "D"
    )  # fmt: skip
    assert reasons(result) == [
        (2, "frankel_postop", "not-in-categories", "ASIA X"),
        (2, "frankel_preop", "not-in-categories", "6"),
    ]


FLOAT_CODES_MAPPING = (
    CSV_MAPPING.replace("intraop_death: {constant: false}", "intraop_death: intraop")
    .replace("primary_tumor: primary", "primary_tumor: {source: primary, vocabulary: tumors}")
    .replace(
        "sex: {source: sex, values: {m: male, f: female}}",
        'sex: {source: sex, values: {"1": male, "2": female}}',
    )
)


def test_float_looking_text_codes_are_their_whole_numbers(tmp_path: Path) -> None:
    header = "mrn;sex;age;primary;surgery;procedure;death;follow_up;intraop\n"
    rows = "E1;1.0;60,0;10.0;10.01.2020;palliative;;30;0.0\n"
    rows += "E2;2.0;61,0;11;10.01.2020;palliative;10.01.2020;0;1.0\n"
    mapping = write_mapping(tmp_path / "centers", FLOAT_CODES_MAPPING)
    (tmp_path / "centers" / "vocabularies").mkdir()
    (tmp_path / "centers" / "vocabularies" / "tumors.csv").write_text(
        "term,value\n10,lung\n11,breast\n"
    )
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "export.csv").write_bytes((header + rows).encode("utf-8"))
    result = run(mapping, tmp_path / "demo")
    assert reasons(result) == []
    first, second = row_of(result, "E1"), row_of(result, "E2")
    assert (first["sex"], first["primary_tumor"], first["intraop_death"]) == ("male", "lung", False)
    assert (second["sex"], second["primary_tumor"], second["intraop_death"]) == (
        "female", "breast", True
    )  # fmt: skip


def test_decomposed_unicode_values_and_headers_match(tmp_path: Path) -> None:
    import unicodedata

    nfd = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731
    text = CSV_MAPPING.replace("primary_tumor: primary", 'primary_tumor: {source: "Primärtumor", '
                               "vocabulary: primary_tumor}")  # fmt: skip
    mapping = write_mapping(tmp_path / "centers", text)
    shutil.copytree(REPO_CENTERS / "vocabularies", tmp_path / "centers" / "vocabularies")
    header = CSV_HEADER.replace("primary", nfd("Primärtumor")).replace("mrn", "mrn\u00a0")
    rows = f"E1;m;60,0;{nfd('próstata')};10.01.2020;palliative;;30\n"
    rows += f"E2;f;60,0;{nfd('riñón')}\u00a0;10.01.2020;palliative;;30\n"
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "export.csv").write_bytes((header + rows).encode("utf-8"))
    result = run(mapping, tmp_path / "demo")
    assert reasons(result) == []
    assert (row_of(result, "E1")["primary_tumor"], row_of(result, "E2")["primary_tumor"]) == (
        "prostate", "kidney"
    )  # fmt: skip


def test_one_problem_is_one_reason(tmp_path: Path) -> None:
    text = (
        WORKBOOK_MAPPING.format(kind="xlsx")
        .replace(
            "intraop_death: {{constant: false}}".replace("{{", "{").replace("}}", "}"),
            "intraop_death: {source: perop, values: {nein: false, ja: true}}",
        )
        .replace("excel_serial: true", 'date_format: "%d.%m.%Y"')
        .replace(
            "last_contact_date: contact",
            "last_contact_date: {source: contact, convert: days_since_surgery}",
        )
    )
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*WORKBOOK_HEADER, "perop"])
    sheet.append(
        ["P1", "17.05.1944", "homme", "lung", "31.02.2020", "palliative", 30, "vielleicht"]
    )
    sheet.append(["P2", "17.05.1944", "homme", "lung", None, "palliative", 30, "nein"])
    (tmp_path / "demo").mkdir()
    book.save(tmp_path / "demo" / "r.xlsx")
    result = run(write_mapping(tmp_path / "centers", text), tmp_path / "demo")
    assert reasons(result) == [
        (1, "intraop_death", "not-in-categories", "vielleicht"),
        (1, "surgery_date", "unparseable-date", "31.02.2020"),
        (2, "surgery_date", "missing-required", None),
    ]


def test_a_csv_cut_inside_its_last_field_is_refused(tmp_path: Path) -> None:
    whole = "E1;m;60,0;lung;10.01.2020;palliative;;30\nE2;m;61,0;lung;10.01.2020;palliative;;30\n"
    mapping, landing = _csv_center(tmp_path, whole[:-2])
    with pytest.raises(SourceError) as caught:
        run(mapping, landing)
    assert caught.value.code == "file-truncated"
    assert "file `export.csv`, line 3" in caught.value.message


LATEST_MAPPING = CSV_MAPPING.replace(
    'files: "**/export*.csv"', 'files: "export_*.csv"\n    pick: latest'
)
OLD_ROW = "E1;m;60,0;lung;10.01.2020;palliative;;30\n"
NEW_ROW = "E1;m;60,0;lung;10.01.2020;palliative;;90\n"


def _dated_exports(tmp_path: Path, latest_by: str | None) -> Path:
    text = LATEST_MAPPING + (f"    latest_by: {latest_by}\n" if latest_by else "")
    mapping = write_mapping(tmp_path / "centers", text)
    folder = tmp_path / "demo"
    folder.mkdir()
    for name, row in (("export_26.11.2026.csv", NEW_ROW), ("export_30.09.2026.csv", OLD_ROW)):
        (folder / name).write_bytes((CSV_HEADER + row).encode("utf-8"))
    os.utime(folder / "export_30.09.2026.csv", (1_790_000_000, 1_790_000_000))
    os.utime(folder / "export_26.11.2026.csv", (1_795_000_000, 1_795_000_000))
    return mapping


@pytest.mark.parametrize("latest_by", ['{date_in_name: "%d.%m.%Y"}', "modified"])
def test_pick_latest_by_the_date_in_the_name_or_the_modification_time(
    tmp_path: Path, latest_by: str
) -> None:
    result = run(_dated_exports(tmp_path, latest_by), tmp_path / "demo")
    assert [stats.name for stats in result.files] == ["export_26.11.2026.csv"]
    assert row_of(result, "E1")["last_contact_date"] == DAY("2020-01-10") + pd.Timedelta(days=90)


def test_pick_latest_by_name_refuses_day_first_dates_out_of_order(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        run(_dated_exports(tmp_path, None), tmp_path / "demo")
    assert "latest_by" in caught.value.message


TWO_DIGIT_MAPPING = CSV_MAPPING.replace(
    'date_format: "%d.%m.%Y"', 'date_format: ["%d.%m.%Y", "%d.%m.%y"]'
).replace("age_at_surgery_years: age", "birth_date: age")


@pytest.mark.parametrize(
    ("pivot", "expected"),
    [(None, None), (30, DAY("1963-10-14")), (70, DAY("2063-10-14"))],
    ids=["refused-by-default", "pivot-30", "pivot-70"],
)
def test_two_digit_years_follow_the_century_pivot_or_are_refused(
    tmp_path: Path, pivot: int | None, expected: pd.Timestamp | None
) -> None:
    text = TWO_DIGIT_MAPPING + (f"    century_pivot: {pivot}\n" if pivot is not None else "")
    row = "E1;m;14.10.63;lung;10.01.20;palliative;;30\n"
    mapping, landing = _csv_center(tmp_path, row, text)
    result = run(mapping, landing)
    if expected is None:
        assert reasons(result) == [(1, "age_at_surgery_years", "unparseable-date", "***")]
        assert "century_pivot" in result.quarantine["message"].iloc[0]
    elif expected.year == 1963:
        assert (
            row_of(result, "E1")["age_at_surgery_years"]
            == (DAY("2020-01-10") - expected).days / 365.25
        )
    else:
        assert result.patients.empty and reasons(result)[0][2] == "out-of-range"
