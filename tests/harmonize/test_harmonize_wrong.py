"""What goes wrong in exports (sources.md): quarantine or a SourceError, never silence."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.patients import PatientsModel
from schemas.quarantine import QuarantineModel
from spinemet_etl.errors import MappingError, SourceError
from spinemet_etl.harmonize import process_center
from tests.harmonize.harmonize_helpers import (
    KEY,
    RUN_ID,
    accounting_holds,
    pid,
    reasons,
    run,
    write_mapping,
)

MAPPING = """\
center_id: demo
tables:
  - name: registry
    kind: csv
    files: "export*.csv"
    patient_id: mrn
    identifiers: [name]
    missing: ["NA"]
    columns:
      sex: {source: sex, values: {M: male, F: female}}
      age_at_surgery_years: age
      primary_tumor: primary
      vertebral_mets_n: vertebral_mets
      frankel_preop: frankel
      vas_pain_preop: vas
      surgery_date: surgery
      procedure: procedure
      intraop_death: {constant: false}
      death_date: death
      last_contact_date: contact
"""
HEADER = "mrn,name,sex,age,primary,vertebral_mets,frankel,vas,surgery,procedure,death,contact\n"
GOOD = "Z1,Ann Doe-Synth,F,60,lung,2,D,5,2020-01-10,palliative,,2021-01-10\n"


def _center(tmp_path: Path, *exports: tuple[str, str]) -> tuple[Path, Path]:
    mapping = write_mapping(tmp_path / "centers", MAPPING)
    landing = tmp_path / "landing" / "demo"
    landing.mkdir(parents=True)
    for name, text in exports:
        (landing / name).write_text(text, encoding="utf-8")
    return mapping, tmp_path / "landing"


def _row(**changes: str) -> str:
    fields = dict(zip(HEADER.strip().split(","), GOOD.strip().split(","), strict=True))
    fields.update(changes)
    return ",".join(fields.values()) + "\n"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"death": "2019-12-01", "contact": "2019-12-01"},
         [(1, None, "contact-before-surgery", None), (1, None, "death-before-surgery", None)]),
        ({"age": "340"}, [(1, "age_at_surgery_years", "out-of-range", "340")]),
        ({"vas": "11"}, [(1, "vas_pain_preop", "out-of-range", "11")]),
        ({"frankel": "F"}, [(1, "frankel_preop", "not-in-categories", "F")]),
        ({"vertebral_mets": "<1"}, [(1, "vertebral_mets_n", "unparseable-number", "<1")]),
        ({"vertebral_mets": "approx 5"},
         [(1, "vertebral_mets_n", "unparseable-number", "approx 5")]),
        ({"surgery": "10/01/2020"}, [(1, "surgery_date", "unparseable-date", "10/01/2020")]),
        ({"sex": "NA"}, [(1, "sex", "missing-required", None)]),
        ({"sex": ""}, [(1, "sex", "missing-required", None)]),
        ({"procedure": "kyphoplasty"}, [(1, "procedure", "not-in-categories", "kyphoplasty")]),
        ({"mrn": ""}, [(1, "patient_id", "missing-required", None)]),
        ({"death": "2020-06-01", "contact": "2021-01-10"},
         [(1, None, "death-contact-mismatch", None)]),
    ],
    ids=[
        "death-before-surgery", "age-340", "vas-11", "frankel-f", "less-than-one",
        "approx-five", "unparseable-date", "missing-code-in-required", "blank-required",
        "unknown-procedure", "missing-patient-id", "death-contact-mismatch",
    ],
)  # fmt: skip
def test_impossible_values_are_quarantined_with_their_code(
    tmp_path: Path, changes: dict[str, str], expected: list[tuple[object, ...]]
) -> None:
    mapping, landing = _center(
        tmp_path, ("export.csv", HEADER + GOOD.replace("Z1", "Z0") + _row(**changes))
    )
    result = run(mapping, landing)
    assert [(row - 1, *rest) for row, *rest in reasons(result)] == expected
    assert len(result.patients) == 1 and result.patients["source_row"].tolist() == [1]
    assert accounting_holds(result)


def test_the_same_patient_twice_in_one_file_quarantines_every_row(tmp_path: Path) -> None:
    mapping, landing = _center(tmp_path, ("export.csv", HEADER + GOOD + _row(mrn="Z2") + GOOD))
    result = run(mapping, landing)
    assert reasons(result) == [
        (1, None, "duplicate-patient", None),
        (3, None, "duplicate-patient", None),
    ]
    assert result.patients["patient_id"].tolist() == [pid("Z2")]
    assert set(result.quarantine["patient_id"]) == {pid("Z1")}


def test_the_same_patient_in_two_files_quarantines_both(tmp_path: Path) -> None:
    mapping, landing = _center(
        tmp_path, ("export_1.csv", HEADER + GOOD), ("export_2.csv", HEADER + _row(mrn="Z2") + GOOD)
    )
    result = run(mapping, landing)
    quarantined = list(
        zip(result.quarantine["source_file"], result.quarantine["source_row"], strict=True)
    )
    assert quarantined == [("export_1.csv", 1), ("export_2.csv", 2)]
    assert set(result.quarantine["check_code"]) == {"duplicate-patient"}
    assert [(f.name, f.rows_read, f.rows_harmonized, f.rows_quarantined) for f in result.files] == [
        ("export_1.csv", 1, 0, 1), ("export_2.csv", 2, 1, 1)
    ]  # fmt: skip


def test_a_missing_required_column_fails_the_center_naming_file_and_columns(tmp_path: Path) -> None:
    renamed = HEADER.replace(",surgery,", ",surgery_dt,")
    mapping, landing = _center(tmp_path, ("export.csv", renamed + GOOD))
    with pytest.raises(SourceError) as caught:
        run(mapping, landing)
    assert caught.value.code == "column-missing"
    message = caught.value.message
    assert "center `demo`, file `export.csv`, column `surgery`" in message
    assert "expects it as `columns.surgery_date`" in message
    assert "Columns present: mrn, name, sex, age" in message and "surgery_dt" in message


def test_a_new_unexpected_column_is_ignored_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    extra = HEADER.replace("\n", ",ward\n"), GOOD.replace("\n", ",B2\n")
    mapping, landing = _center(tmp_path, ("export.csv", extra[0] + extra[1]))
    with caplog.at_level(logging.INFO, logger="spinemet_etl.harmonize"):
        result = run(mapping, landing)
    assert len(result.patients) == 1 and result.quarantine.empty
    assert "columns not in the mapping, ignored: ward" in caplog.text
    assert "Doe-Synth" not in caplog.text


def test_a_header_only_file_gives_zero_rows_and_no_error(tmp_path: Path) -> None:
    mapping, landing = _center(tmp_path, ("export.csv", HEADER))
    result = run(mapping, landing)
    assert result.patients.empty and result.quarantine.empty
    PatientsModel.validate(result.patients)
    QuarantineModel.validate(result.quarantine)
    assert [(f.rows_read, f.rows_harmonized, f.rows_quarantined) for f in result.files] == [
        (0, 0, 0)
    ]


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "file-empty"), (b"\x00\x01PK\x03\x04binary", "binary-content")],
    ids=["empty-file", "stray-binary"],
)
def test_an_unreadable_file_fails_the_center(tmp_path: Path, content: bytes, code: str) -> None:
    mapping, landing = _center(tmp_path)
    (landing / "demo" / "export.csv").write_bytes(content)
    with pytest.raises(SourceError) as caught:
        run(mapping, landing)
    assert caught.value.code == code
    assert "center `demo`, file `export.csv`" in caught.value.message


def test_no_matching_file_fails_the_center(tmp_path: Path) -> None:
    mapping, landing = _center(tmp_path, ("other.csv", HEADER + GOOD))
    with pytest.raises(SourceError) as caught:
        run(mapping, landing)
    assert caught.value.code == "no-export-file"
    assert "export*.csv" in caught.value.message


def test_a_file_still_uploading_is_left_for_the_next_run(tmp_path: Path) -> None:
    mapping, landing = _center(tmp_path, ("export_1.csv", HEADER + GOOD), ("export_2.csv", HEADER))
    (landing / "demo" / "export_1.csv").touch()
    os.utime(landing / "demo" / "export_1.csv", (1_700_000_000, 1_700_000_000))
    os.utime(landing / "demo" / "export_2.csv", (1_700_000_590, 1_700_000_590))
    now = datetime.fromtimestamp(1_700_000_600, UTC)
    result = process_center(mapping, landing, run_id=RUN_ID, key=KEY, settle_seconds=60, now=now)
    assert [f.name for f in result.files] == ["export_1.csv"]
    with pytest.raises(SourceError, match="newer than the settle time"):
        process_center(mapping, landing, run_id=RUN_ID, key=KEY, settle_seconds=900, now=now)


def test_only_file_backfills_one_export(tmp_path: Path) -> None:
    mapping, landing = _center(
        tmp_path, ("export_1.csv", HEADER + GOOD), ("export_2.csv", HEADER + _row(mrn="Z2"))
    )
    result = process_center(mapping, landing, run_id=RUN_ID, key=KEY, only_file="export_1.csv")
    assert [f.name for f in result.files] == ["export_1.csv"]
    assert result.patients["patient_id"].tolist() == [pid("Z1")]
    with pytest.raises(SourceError, match="matches no table"):
        process_center(mapping, landing, run_id=RUN_ID, key=KEY, only_file="nope.csv")


def test_a_broken_mapping_fails_before_reading(tmp_path: Path) -> None:
    mapping, landing = _center(tmp_path, ("export.csv", HEADER + GOOD))
    mapping.write_text(MAPPING.replace("primary_tumor:", "primary_tumour:"), encoding="utf-8")
    with pytest.raises(MappingError, match="primary_tumour"):
        run(mapping, landing)


def test_identifiers_never_reach_outputs(tmp_path: Path) -> None:
    rows = HEADER + GOOD + _row(mrn="Z2", name="Bob Roe-Synth", age="340") + _row(mrn="", name="Cy")
    mapping, landing = _center(tmp_path, ("export.csv", rows))
    result = run(mapping, landing)
    text = result.patients.to_csv() + result.quarantine.to_csv()
    for identifier in ("Doe-Synth", "Roe-Synth", "Z1", "Z2"):
        assert identifier not in text
    assert "name" not in result.patients.columns


JOINED = """\
center_id: demo
tables:
  - name: base
    kind: csv
    files: "base.csv"
    patient_id: id
    columns:
      sex: {source: sex, values: {M: male, F: female}}
      age_at_surgery_years: age
      primary_tumor: primary
      intraop_death: {constant: false}
  - name: surgery
    role: join
    kind: csv
    files: "surgery.csv"
    patient_id: id
    columns:
      surgery_date: date
      procedure: procedure
  - name: visits
    role: visits
    kind: csv
    files: "visits.csv"
    patient_id: id
    visits:
      date: date
      dead: {source: status, values: {alive: false, dead: true}}
"""


def test_joined_files_count_records_under_the_baseline_file(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path / "centers", JOINED)
    landing = tmp_path / "demo"
    landing.mkdir()
    (landing / "base.csv").write_text("id,sex,age,primary\nP1,M,50,lung\nP2,F,60,breast\n")
    (landing / "surgery.csv").write_text(
        "id,date,procedure\nP1,2020-01-01,palliative\nP2,2020-02-01,en_bloc\nP2,2020-03-01,en_bloc\n"
    )
    (landing / "visits.csv").write_text(
        "id,date,status\nP1,2020-02-01,alive\nP1,2020-05-01,dead\nP2,2020-04-01,alive\n"
        "P3,2020-04-01,alive\n"
    )
    result = run(mapping, landing)
    assert result.patients["patient_id"].tolist() == [pid("P1")]
    assert result.patients["death_date"].tolist() == [datetime(2020, 5, 1)]
    duplicated = result.quarantine[result.quarantine["patient_id"] == pid("P2")]
    assert duplicated["check_code"].tolist() == ["duplicate-patient"]
    orphan = result.quarantine[result.quarantine["patient_id"] == pid("P3")]
    assert set(orphan["source_file"]) == {"visits.csv"}
    assert {"sex", "surgery_date", "procedure"} <= set(orphan["column"])
    assert [(f.name, f.rows_read, f.rows_quarantined) for f in result.files] == [
        ("base.csv", 2, 1), ("surgery.csv", 0, 0), ("visits.csv", 1, 1)
    ]  # fmt: skip
    assert accounting_holds(result)


def test_a_repeated_mapped_column_is_read_from_the_left_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repeated = HEADER.replace("\n", ",age\n"), GOOD.replace("\n", ",71\n")
    mapping, landing = _center(tmp_path, ("export.csv", repeated[0] + repeated[1]))
    with caplog.at_level(logging.INFO, logger="spinemet_etl.harmonize"):
        result = run(mapping, landing)
    assert result.patients["age_at_surgery_years"].tolist() == [60.0]
    assert "the header repeats column `age`" in caplog.text
    assert "columns not in the mapping, ignored: age.1" in caplog.text


def test_pain_scores_mostly_above_10_refuse_the_center(tmp_path: Path) -> None:
    scores = ["55", "70", "8", "30"]
    rows = "".join(_row(mrn=f"Z{n}", vas=score) for n, score in enumerate(scores))
    mapping, landing = _center(tmp_path, ("export.csv", HEADER + rows))
    with pytest.raises(SourceError) as caught:
        run(mapping, landing)
    assert caught.value.code == "vas-scale-contradicted"
    assert caught.value.message.startswith(
        "center `demo`, file `export.csv`, column `vas`: 3 of the column's 4 pain scores"
    )
    assert "state `convert: vas_0_100`" in caught.value.message


@pytest.mark.parametrize(
    "scores",
    [["5", "7", "55", "NA"], ["11", "11", "55", "4"], ["55", "70", "30", "1", "2", "3", "4"]],
    ids=["a-slip", "two-values", "a-minority"],
)
def test_pain_scores_above_10_that_show_no_scale_are_quarantined(
    tmp_path: Path, scores: list[str]
) -> None:
    rows = "".join(_row(mrn=f"Z{n}", vas=score) for n, score in enumerate(scores))
    mapping, landing = _center(tmp_path, ("export.csv", HEADER + rows))
    result = run(mapping, landing)
    above = [(n, s) for n, s in enumerate(scores, start=1) if s not in ("NA",) and float(s) > 10]
    assert reasons(result) == [(n, "vas_pain_preop", "out-of-range", s) for n, s in above]
