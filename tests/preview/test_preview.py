"""`spinemet centers preview`: one center harmonized in memory, described, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spinemet_etl.preview import preview_center, reason_table

MAPPING = """\
center_id: torino
tables:
  - name: registro
    kind: csv
    files: "torino_export_*.csv"
    read: {delimiter: ";"}
    decimal: ","
    date_format: "%d/%m/%Y"
    missing: ["n.d."]
    patient_id: Codice
    identifiers: [Cognome]
    columns:
      birth_date: Nascita
      sex: {source: Sesso, values: {M: male, F: female}}
      primary_tumor: {source: Primitivo, vocabulary: primary_tumor}
      surgery_date: "Data intervento"
      procedure: {source: Intervento, vocabulary: procedure}
      intraop_death: {constant: false}
      vital_status: {source: Stato, values: {vivo: alive, deceduto: dead}}
      death_date: "Data decesso"
      last_contact_date: "Ultimo contatto"
"""
EXPORT = """\
Codice;Cognome;Nascita;Sesso;Primitivo;Data intervento;Intervento;Stato;Data decesso;Ultimo contatto
TO-001;Verdi-Synth;01/02/1960;F;mammella;12/03/2019;palliativa;vivo;;02/05/2021
TO-002;Neri-Synth;30/13/1951;M;polmone;04/07/2020;palliativa;deceduto;30/01/2021;30/01/2021
TO-003;Gallo-Synth;15/05/1955;M;rene;31/02/2021;curettage intralesionale;vivo;;15/09/2021
TO-004;Rossi-Synth;15/05/1949;X;rene;01/02/2021;palliativa;vivo;;15/09/2021
"""
PREVIEW_IN_A_FRESH_PROCESS = """
import json, sys
from spinemet_etl.cli import app
returned = app(sys.argv[1:], standalone_mode=False)  # a typer.Exit's code is returned
code = returned if isinstance(returned, int) else 0
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"prefect", "great_expectations"})
print(json.dumps({"code": code, "loaded": loaded}))
"""


@pytest.fixture
def center(tmp_path: Path) -> Path:
    """A landing folder and a centers folder (with the shared vocabularies) for `torino`."""
    centers = tmp_path / "centers"
    (tmp_path / "landing" / "torino").mkdir(parents=True)
    (tmp_path / "landing" / "torino" / "torino_export_2026-11.csv").write_text(EXPORT, "utf-8")
    vocabularies = Path(__file__).resolve().parents[2] / "centers" / "vocabularies"
    (centers / "vocabularies").mkdir(parents=True)
    for vocabulary in vocabularies.iterdir():
        (centers / "vocabularies" / vocabulary.name).write_bytes(vocabulary.read_bytes())
    (centers / "torino.yaml").write_text(MAPPING, encoding="utf-8")
    return tmp_path


def _preview(root: Path, *args: str) -> tuple[dict[str, object], str]:
    command = [sys.executable, "-c", PREVIEW_IN_A_FRESH_PROCESS, "centers", "preview", *args,
               "--landing", str(root / "landing"), "--centers", str(root / "centers")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=root)
    *printed, last = done.stdout.splitlines()
    return json.loads(last), "\n".join(printed) + done.stderr


def test_preview_prints_accounting_reasons_and_rows_without_prefect_or_gx(center: Path) -> None:
    outcome, text = _preview(center, "torino")
    assert outcome == {"code": 0, "loaded": []}
    assert "rows read 4, harmonized 1, quarantined 3" in text
    assert "torino_export_2026-11.csv: read 4, harmonized 1, quarantined 3" in text
    assert "unparseable-date" in text and "'31/02/2021'" in text
    assert "not-in-categories" in text and "'X'" in text
    assert "first 1 canonical rows:" in text and "breast" in text
    assert not list(center.glob("landing/**/*.parquet")) and sorted(center.iterdir()) == [
        center / "centers",
        center / "landing",
    ]


def test_preview_masks_identifying_values(center: Path) -> None:
    _, text = _preview(center, "torino")
    assert "'***'" in text
    for identifying in ("30/13/1951", "Synth", "TO-00"):
        assert identifying not in text


def test_a_center_the_run_would_fail_exits_1_with_the_code(center: Path) -> None:
    mapping = center / "centers" / "torino.yaml"
    mapping.write_text(MAPPING.replace("Primitivo", "Tumore"), encoding="utf-8")
    outcome, text = _preview(center, "torino")
    assert outcome["code"] == 1
    assert "column-missing" in text and "Tumore" in text


@pytest.mark.parametrize(
    ("center_id", "mapping"),
    [("milano", None), ("torino", MAPPING.replace("kind: csv", "kind: csvx"))],
    ids=["no-mapping-file", "invalid-mapping"],
)
def test_a_missing_or_invalid_mapping_is_a_usage_error(
    center: Path, center_id: str, mapping: str | None
) -> None:
    if mapping is not None:
        (center / "centers" / "torino.yaml").write_text(mapping, encoding="utf-8")
    outcome, text = _preview(center, center_id)
    assert outcome["code"] == 2
    assert "centers check" in text or "no mapping file" in text


def test_reason_table_counts_rows_once_per_reason(center: Path) -> None:
    """TO-002's birth date is no date (masked: it identifies); TO-003's surgery date is
    31 February (its age, which cannot be derived, is no second reason); TO-004's sex is `X`."""
    result = preview_center(center / "centers" / "torino.yaml", center / "landing", key="test-key")
    table = reason_table(result.quarantine)
    assert sorted(table.itertuples(index=False, name=None)) == [
        ("not-in-categories", "sex", 1, "'X'"),
        ("unparseable-date", "age_at_surgery_years", 1, "'***'"),
        ("unparseable-date", "surgery_date", 1, "'31/02/2021'"),
    ]
