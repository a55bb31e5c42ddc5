"""docs/mapping.md: its examples are valid mappings and its walk-through runs as written."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
import pytest

from spinemet_etl.harmonize import process_center
from spinemet_etl.mapping.check import check_mapping_file
from spinemet_etl.pseudonym import pseudonymize

DAY = pd.Timestamp

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "mapping.md").read_text(encoding="utf-8")


def _blocks(info: str) -> list[str]:
    return re.findall(rf"^```{re.escape(info)}\n(.*?)^```$", DOC, flags=re.S | re.M)


def _with_vocabularies(folder: Path) -> Path:
    shutil.copytree(REPO / "centers" / "vocabularies", folder / "vocabularies")
    return folder


EXAMPLES = _blocks("yaml mapping-example")


def test_the_doc_has_one_example_per_source_kind() -> None:
    kinds = {kind for block in EXAMPLES for kind in re.findall(r"kind: (\w+)", block)}
    assert kinds == {"csv", "xlsx", "xls", "sav", "redcap"}  # tsv is csv with a tab
    assert len(EXAMPLES) == 6


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda block: block.split()[1])
def test_every_example_is_a_valid_mapping(tmp_path: Path, example: str) -> None:
    center_id = example.split()[1]
    path = _with_vocabularies(tmp_path) / f"{center_id}.yaml"
    path.write_text(example, encoding="utf-8")
    assert check_mapping_file(path)[1] == []


FRAGMENT_BASE = {
    "table": {"files": '"export_*.csv"', "read": '{delimiter: ";"}', "patient_id": "id"},
    "columns": {
        "sex": "sex", "age_at_surgery_years": "age", "primary_tumor": "primary",
        "surgery_date": "surgery", "procedure": "procedure", "intraop_death": "{constant: false}",
        "vital_status": "{constant: alive}", "last_contact_date": "contact",
    },
}  # fmt: skip


def _with_fragment(fragment: str) -> str:
    """A complete mapping: a small CSV table whose keys and columns the fragment overrides."""
    keys = dict(FRAGMENT_BASE["table"])
    columns = dict(FRAGMENT_BASE["columns"])
    for line in fragment.splitlines():
        key, _, value = line.split("#")[0].strip().partition(": ")
        (columns if line.startswith("      ") else keys)[key] = value
    lines = ["center_id: docs", "tables:", "  - name: t", "    kind: csv"]
    lines += [f"    {key}: {value}" for key, value in keys.items()]
    lines += ["    columns:", *(f"      {key}: {value}" for key, value in columns.items())]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("fragment", _blocks("yaml fragment-example"))
def test_every_fragment_makes_a_valid_mapping(tmp_path: Path, fragment: str) -> None:
    path = tmp_path / "docs.yaml"
    path.write_text(_with_fragment(fragment), encoding="utf-8")
    assert check_mapping_file(path)[1] == []


def test_the_fragments_cover_the_locale_keys() -> None:
    text = "".join(_blocks("yaml fragment-example"))
    assert {"latest_by", "century_pivot", "thousands", "values"} <= set(re.findall(r"(\w+):", text))


def test_the_onboarding_walkthrough_runs_as_written(tmp_path: Path) -> None:
    [mapping_text] = _blocks("yaml walkthrough-mapping")
    [export_text] = _blocks("csv walkthrough-export")
    centers = _with_vocabularies(tmp_path / "centers")
    (centers / "torino.yaml").write_text(mapping_text, encoding="utf-8")
    landing = tmp_path / "landing" / "torino"
    landing.mkdir(parents=True)
    (landing / "torino_export_2026-11.csv").write_text(export_text, encoding="utf-8")
    assert check_mapping_file(centers / "torino.yaml")[1] == []
    result = process_center(
        centers / "torino.yaml", tmp_path / "landing", run_id="walkthrough", key="doc-key"
    )
    assert len(result.patients) == 2
    assert result.patients["source_row"].tolist() == [1, 2]
    quarantine = result.quarantine
    assert list(zip(quarantine["source_row"], quarantine["column"], quarantine["check_code"],
                    quarantine["failure_value"], strict=True)) == [
        (3, "surgery_date", "unparseable-date", "31/02/2021")
    ]  # fmt: skip
    [stats] = result.files
    assert (stats.rows_read, stats.rows_harmonized, stats.rows_quarantined) == (3, 2, 1)
    outputs = result.patients.to_csv() + quarantine.to_csv()
    assert "Synth" not in outputs and "TO-00" not in outputs


SHAPES = dict(re.findall(r"^```yaml shape-mapping (\w+)\n(.*?)^```$", DOC, flags=re.S | re.M))
SHAPE_EXPORTS = re.findall(r"^```csv shape-export (\w+) (\S+)\n(.*?)^```$", DOC, flags=re.S | re.M)


def _run_shape(tmp_path: Path, center_id: str) -> Any:
    centers = _with_vocabularies(tmp_path / "centers")
    path = centers / f"{center_id}.yaml"
    path.write_text(SHAPES[center_id], encoding="utf-8")
    assert check_mapping_file(path)[1] == []
    landing = tmp_path / "landing" / center_id
    landing.mkdir(parents=True)
    for name, file_name, text in SHAPE_EXPORTS:
        if name == center_id:
            (landing / file_name).write_text(text, encoding="utf-8")
    return process_center(path, tmp_path / "landing", run_id="doc", key="doc-key")


def _row(result: Any, center_id: str, source_id: str) -> pd.Series:
    pseudonym = pseudonymize(center_id, pd.Series([source_id]), "doc-key").iloc[0]
    [row] = [row for _, row in result.patients.iterrows() if row["patient_id"] == pseudonym]
    return row


def _codes(result: Any) -> set[tuple[int, str | None, str]]:
    frame = result.quarantine
    return set(zip(frame["source_row"], frame["column"], frame["check_code"], strict=True))


def test_every_shape_has_its_example() -> None:
    assert set(SHAPES) == {
        "valencia", "graz", "oslo", "porto", "lund", "aarhus", "sevilla", "malaga"
    }  # fmt: skip


def test_shape_redcap_id_on_one_event(tmp_path: Path) -> None:
    result = _run_shape(tmp_path, "valencia")
    assert _row(result, "valencia", "H-20871")["vital_status"] == "dead"
    assert len(result.patients) == 1
    assert {(row, code) for row, _, code in _codes(result)} == {
        (1, "duplicate-patient"), (5, "duplicate-patient")
    }  # fmt: skip


def test_shape_death_flag_ends_follow_up(tmp_path: Path) -> None:
    result = _run_shape(tmp_path, "graz")
    dead = _row(result, "graz", "G-01")
    assert (dead["death_date"], dead["last_contact_date"]) == (DAY("2020-09-03"),) * 2
    alive = _row(result, "graz", "G-02")
    assert alive["vital_status"] == "alive" and alive["last_contact_date"] == DAY("2022-07-11")
    assert _codes(result) == {
        (3, "last_contact_date", "missing-required"), (3, "death_date", "missing-required")
    }  # fmt: skip


def test_shape_visit_months(tmp_path: Path) -> None:
    result = _run_shape(tmp_path, "oslo")
    first, second = _row(result, "oslo", "N-1"), _row(result, "oslo", "N-2")
    assert (first["vital_status"], first["last_contact_date"]) == ("alive", DAY("2022-04-01"))
    assert (second["vital_status"], second["death_date"]) == ("dead", DAY("2022-01-15"))
    assert first["sex"] == "female" and result.quarantine.empty


def test_shape_follow_up_blocks(tmp_path: Path) -> None:
    result = _run_shape(tmp_path, "porto")
    first, second = _row(result, "porto", "P-101"), _row(result, "porto", "P-102")
    assert (first["vital_status"], first["last_contact_date"]) == ("alive", DAY("2022-01-18"))
    assert (second["vital_status"], second["death_date"]) == ("dead", DAY("2021-06-15"))
    assert _codes(result) == {(3, "last_contact_date", "missing-required")}


def test_shape_center_thresholds(tmp_path: Path) -> None:
    result = _run_shape(tmp_path, "lund")
    assert result.center_thresholds == {
        "reason": "2024 export: 4 patients entered twice, the center is merging them "
        "(steering committee)",
        "settings": {"quarantine": {"max_share": 0.3}},
    }


def test_shape_data_cutoff(tmp_path: Path) -> None:
    result = _run_shape(tmp_path, "aarhus")
    assert result.data_cutoff() == {"date": "2026-11-25", "source": "mapping"}
    assert result.data_cutoff_metadata() == {
        "spinemet.data_cutoff": "2026-11-25",
        "spinemet.data_cutoff_source": "mapping",
    }
    result.stated_cutoff = None
    assert result.data_cutoff() == {"date": "2025-03-01", "source": "latest_last_contact"}


def test_a_data_cutoff_that_is_not_a_date_is_named_by_centers_check(tmp_path: Path) -> None:
    path = tmp_path / "aarhus.yaml"
    path.write_text(SHAPES["aarhus"].replace("2026-11-25", "25.11.2026"), encoding="utf-8")
    problems = check_mapping_file(path)[1]
    assert [problem.key_path for problem in problems] == ["data_cutoff"]
    assert problems[0].line == 16


def test_shape_center_values_over_the_shared_vocabulary(tmp_path: Path) -> None:
    result = _run_shape(tmp_path, "sevilla")
    sexes = {i: _row(result, "sevilla", i)["sex"] for i in ("S-1", "S-2", "S-3", "S-4")}
    assert sexes == {"S-1": "female", "S-2": "male", "S-3": "female", "S-4": "male"}


def test_birth_date_listed_in_identifiers_is_reported(tmp_path: Path) -> None:
    text = (
        SHAPES["graz"]
        .replace("      age_at_surgery_years: alter\n", "      birth_date: geburtsdatum\n")
        .replace(
            "    patient_id: fallnr\n", "    patient_id: fallnr\n    identifiers: [geburtsdatum]\n"
        )
    )
    path = tmp_path / "graz.yaml"
    path.write_text(text, encoding="utf-8")
    messages = [problem.message for problem in check_mapping_file(path)[1]]
    assert messages == [
        "source column `geburtsdatum` is listed in `identifiers`, which are dropped unread"
    ]


def test_shape_where_on_spss_numbers_and_accented_text(tmp_path: Path) -> None:
    centers = tmp_path / "centers"
    centers.mkdir()
    path = centers / "malaga.yaml"
    path.write_text(SHAPES["malaga"], encoding="utf-8")
    assert check_mapping_file(path)[1] == []
    landing = tmp_path / "landing" / "malaga"
    landing.mkdir(parents=True)
    frame = pd.DataFrame(
        {
            "nhc": ["M1", "M2", "M3", "M4", "M5"],
            "grupo": [1.0, 2.0, 1.0, 1.0, 1.0],
            "centro": ["Málaga", "Málaga", "malaga", "Malaga", "Málaga"],
            "sexo": [1.0, 2.0, 1.0, 2.0, 2.0],
            "edad": [60.0, 61.0, 62.0, 63.0, 64.0],
            "tumor": [1.0, 2.0, 1.0, 2.0, 2.0],
            "fecha_cirugia": [date(2020, 1, 1)] * 5,
            "fecha_muerte": [None] * 5,
            "fecha_contacto": [date(2021, 1, 1)] * 5,
        }
    )
    pyreadstat.write_sav(frame, str(landing / "malaga_2026-11.sav"))
    result = process_center(path, landing, run_id="doc", key="doc-key")
    kept = {_row(result, "malaga", i)["age_at_surgery_years"] for i in ("M1", "M5")}
    assert kept == {60.0, 64.0} and len(result.patients) == 2 and result.quarantine.empty
