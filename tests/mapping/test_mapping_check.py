"""`spinemet centers check`: every mistake reported with its line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from spinemet_etl.cli import app
from spinemet_etl.mapping.check import MappingProblem, check_mapping_file, check_mapping_files

REPO = Path(__file__).resolve().parents[2]
DEMO_MAPPINGS = sorted((REPO / "centers").glob("*.yaml"))

GOOD = """\
center_id: demo
tables:
  - name: patients
    kind: csv
    files: "*.csv"
    patient_id: id
    columns:
      sex: {source: Sex, values: {M: male, F: female}}
      age_at_surgery_years: Age
      primary_tumor: Primary
      surgery_date: Surgery
      procedure: Procedure
      intraop_death: {constant: false}
      death_date: Death
      last_contact_date: Contact
"""

BROKEN = """\
center_id: demo
tables:
  - name: patients
    kind: csv
    files: "*.csv"
    patient_id: id
    read: {delimiter: ";", bogus: 1}
    colums: {}
    columns:
      sexx: Sex
      sex: {source: Sex, values: {M: man, F: female}}
      age_at_surgery_years: Age
"""


def _write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _where(problems: list[MappingProblem]) -> list[tuple[int | None, str]]:
    return [(problem.line, problem.key_path) for problem in problems]


def test_a_good_mapping_has_no_problems(tmp_path: Path) -> None:
    mapping, problems = check_mapping_file(_write(tmp_path, GOOD))
    assert problems == []
    assert mapping is not None and mapping.center_id == "demo"


def test_a_broken_table_reports_each_mistake_at_its_line(tmp_path: Path) -> None:
    problems = check_mapping_files([_write(tmp_path, BROKEN)])
    assert _where(problems) == [
        (7, "tables[0].read.bogus"),
        (8, "tables[0].colums"),
        (10, "tables[0].columns.sexx"),
        (11, "tables[0].columns.sex.values.M"),
    ]
    assert "`sexx` is not a canonical column" in problems[2].message
    assert "`man` is not one of male, female" in problems[3].message
    assert str(problems[0]).startswith(f"{tmp_path / 'demo.yaml'}:7: tables[0].read.bogus:")


@pytest.mark.parametrize(
    ("old", "new", "line", "key_path", "words"),
    [
        ("      primary_tumor: Primary\n", "", 2, "tables", "required column `primary_tumor`"),
        ("      death_date: Death\n", "", 2, "tables", "`vital_status` is not mapped"),
        ("Contact", "Age", 15, "tables[0].columns.last_contact_date.source", "more than once"),
        ("Procedure", "{source: P, vocabulary: nowhere}", 12,
         "tables[0].columns.procedure.vocabulary", "vocabulary `nowhere` not found"),
        ("Primary", "{source: P, values: {x: lung, y: liver_x}}", 10,
         "tables[0].columns.primary_tumor.values.y", "`liver_x` is not one of"),
        ("{constant: false}", "{constant: maybe}", 13, "tables[0].columns.intraop_death.constant",
         "not a boolean value"),
        ("Age", "{source: Age, convert: days_since_surgery}", 9,
         "tables[0].columns.age_at_surgery_years.convert", "duration since surgery"),
        ("center_id: demo", "center_id: other", 1, "center_id", "differs from the file name"),
        ("center_id: demo", "center_id: Demo!", 1, "center_id", "should match pattern"),
        ("    kind: csv", "    kind: pdf", 4, "tables[0].kind", "must be one of csv, tsv"),
        ("    patient_id: id\n", "", 3, "tables[0].patient_id", "required key is missing"),
        ("M: male", "no: male", 8, "tables[0].columns.sex.values", "quote it"),
        ("Age\n", "[Age\n", 10, "", "not valid YAML"),
        ("Death\n", "Death\n      vital_status: {source: D, follow_up_ends_at_death: true}\n", 15,
         "tables[0].columns.vital_status.follow_up_ends_at_death", "not both"),
        ("Contact", "{source: C, follow_up_ends_at_death: true}", 15,
         "tables[0].columns.last_contact_date.follow_up_ends_at_death", "`vital_status` only"),
        ("Contact\n", "Contact\nquality:\n  quarantine: {max_share: 0.5}\n", 16, "quality.reason",
         "required key is missing"),
        ("Contact\n", "Contact\nquality:\n  reason: small\n  quarantine: {share: 0.5}\n", 16,
         "quality", "valid keys here: max_share, min_rows, min_quarantined"),
        ("    kind: csv\n    files: \"*.csv\"\n",
         "    kind: redcap\n    read: {data_dictionary: d.csv}\n    files: x\n    record_id: id\n",
         7, "tables[0].record_id", "more than once"),
    ],
    ids=[
        "required-unmapped", "vital-status-underivable", "source-twice", "vocabulary-missing",
        "value-outside-categories", "constant-wrong-type", "conversion-misfit", "center-id-stem",
        "center-id-slug", "unknown-kind", "patient-id-missing", "yaml-boolean-key", "yaml-syntax",
        "death-statement-and-date", "death-statement-misplaced", "quality-without-reason",
        "quality-unknown-key", "redcap-record-is-the-id",
    ],
)  # fmt: skip
def test_each_mistake_is_located(
    tmp_path: Path, old: str, new: str, line: int, key_path: str, words: str
) -> None:
    assert old in GOOD
    problems = check_mapping_files([_write(tmp_path, GOOD.replace(old, new, 1))])
    assert (line, key_path) in _where(problems), problems
    assert any(words in p.message for p in problems if (p.line, p.key_path) == (line, key_path))


def test_a_vocabulary_with_an_impossible_target_is_reported(tmp_path: Path) -> None:
    (tmp_path / "vocabularies").mkdir()
    (tmp_path / "vocabularies" / "proc.yaml").write_text(
        'palliative: ["palliativa"]\nen_block: ["en bloc"]\n', encoding="utf-8"
    )
    text = GOOD.replace("procedure: Procedure", "procedure: {source: P, vocabulary: proc}")
    problems = check_mapping_files([_write(tmp_path, text)])
    assert _where(problems) == [(12, "tables[0].columns.procedure.vocabulary")]
    assert "term `en bloc`: `en_block` is not one of palliative" in problems[0].message


def test_the_demo_mapping_files_pass() -> None:
    assert [path.stem for path in DEMO_MAPPINGS] == [
        "barcelona", "bologna", "boston", "lyon", "muenchen", "rotterdam"
    ]  # fmt: skip
    assert check_mapping_files(DEMO_MAPPINGS) == []


def test_the_command_exits_0_on_the_demo_files_and_2_on_a_broken_one(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["centers", "check", *map(str, DEMO_MAPPINGS)])
    assert ok.exit_code == 0, ok.output
    assert "6 mapping file(s) OK" in ok.output
    broken = runner.invoke(app, ["centers", "check", str(_write(tmp_path, BROKEN))])
    assert broken.exit_code == 2
    assert "demo.yaml:10: tables[0].columns.sexx:" in broken.output
