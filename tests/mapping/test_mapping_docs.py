"""docs/mapping.md: its examples are valid mappings and its walk-through runs as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from spinemet_etl.harmonize import process_center
from spinemet_etl.mapping.check import check_mapping_file

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
