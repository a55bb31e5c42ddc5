"""End to end on the synthetic consortium: every demo center through its mapping file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from schemas.patients import PatientsModel
from schemas.quarantine import QuarantineModel
from spinemet_etl.harmonize import process_center
from spinemet_etl.mapping.loader import load_mapping
from spinemet_etl.mapping.targets import BIRTH_DATE
from spinemet_etl.readers.registry import reader_for
from spinemet_etl.results import CenterResult
from spinemet_etl.synth import write_consortium
from spinemet_etl.text import source_text
from tests.harmonize.harmonize_helpers import KEY, accounting_holds, run

REPO = Path(__file__).resolve().parents[2]
CENTERS = ["bologna", "barcelona", "rotterdam", "muenchen", "boston", "lyon"]
SEED, PATIENTS = 7, 600


@pytest.fixture(scope="module")
def clean_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    write_consortium(out, n_patients=PATIENTS, seed=SEED, dirt_rate=0.0)
    return out


@pytest.fixture(scope="module")
def dirty_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    write_consortium(out, n_patients=PATIENTS, seed=SEED)
    return out


@pytest.fixture(scope="module")
def dirty_results(dirty_landing: Path) -> dict[str, CenterResult]:
    return {c: run(REPO / "centers" / f"{c}.yaml", dirty_landing) for c in CENTERS}


@pytest.mark.parametrize("center", CENTERS)
def test_clean_exports_harmonize_without_quarantine(clean_landing: Path, center: str) -> None:
    result = run(REPO / "centers" / f"{center}.yaml", clean_landing)
    assert result.quarantine.empty, result.quarantine[["source_row", "column", "check_code"]]
    assert sum(f.rows_read for f in result.files) == len(result.patients) > 0
    PatientsModel.validate(result.patients)
    assert result.patients["patient_id"].is_unique


@pytest.mark.parametrize("center", CENTERS)
def test_dirty_exports_quarantine_rows_and_account_for_all(
    dirty_results: dict[str, CenterResult], center: str
) -> None:
    result = dirty_results[center]
    assert len(result.quarantine) > 0
    assert accounting_holds(result)
    QuarantineModel.validate(result.quarantine)
    PatientsModel.validate(result.patients)
    quarantined = set(
        zip(result.quarantine["source_file"], result.quarantine["source_row"], strict=True)
    )
    published = set(zip(result.patients["source_file"], result.patients["source_row"], strict=True))
    assert not quarantined & published


def _identifiers(center: str, landing: Path) -> set[str]:
    """Every direct identifier of a center's exports: names, record numbers, birth dates."""
    mapping = load_mapping(REPO / "centers" / f"{center}.yaml")
    found: set[str] = set()
    for table in mapping.tables:
        columns = [*table.identifiers, table.patient_id]
        birth = table.mapped().get(BIRTH_DATE)
        columns += [birth.source] if birth is not None and birth.source else []
        for path in sorted((landing / center).glob(table.files[0])):
            reader = reader_for(table.kind, center)
            for raw in reader.read(path, path.name, table.read):
                for column in columns:
                    if column in raw.frame:
                        found |= {source_text(v) for v in raw.frame[column].dropna()}
    return {value for value in found if len(value) >= 4}


@pytest.mark.parametrize("center", CENTERS)
def test_direct_identifiers_reach_neither_patients_nor_quarantine(
    dirty_results: dict[str, CenterResult], dirty_landing: Path, center: str
) -> None:
    identifiers = _identifiers(center, dirty_landing)
    assert len(identifiers) > 100
    result = dirty_results[center]
    cells: set[str] = set()
    for frame in (result.patients, result.quarantine):
        for column in frame.columns:
            if frame[column].dtype == object:
                cells |= {str(v) for v in frame[column].dropna()}
    assert not cells & identifiers
    text = " ".join(result.quarantine["message"]) + " ".join(
        result.quarantine["failure_value"].dropna()
    )
    assert not [value for value in identifiers if value in text]
    assert not set(pd.concat([result.patients.columns.to_series()])) & {BIRTH_DATE}


def test_the_same_inputs_give_the_same_tables(
    dirty_results: dict[str, CenterResult], dirty_landing: Path
) -> None:
    again = process_center(
        REPO / "centers" / "barcelona.yaml", dirty_landing, run_id="another-run", key=KEY
    )
    first = dirty_results["barcelona"]
    for old, new in ((first.patients, again.patients), (first.quarantine, again.quarantine)):
        pd.testing.assert_frame_equal(old.drop(columns="run_id"), new.drop(columns="run_id"))
    assert set(again.patients["run_id"]) == {"another-run"}
    assert first.files == again.files


def test_the_tables_of_one_workbook_share_one_read(
    clean_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bologna's three tables are three sheets of one workbook, read with the same options."""
    from spinemet_etl.readers.xlsx import XlsxReader

    reads: list[list[str]] = []
    original = XlsxReader.read

    def counted(self: XlsxReader, path: Path, relative_name: str, options: object) -> object:
        reads.append(list(getattr(options, "sheets", None) or []))
        return original(self, path, relative_name, options)

    monkeypatch.setattr(XlsxReader, "read", counted)
    result = run(REPO / "centers" / "bologna.yaml", clean_landing)
    assert reads == [["Pazienti", "Intervento", "Follow-up"]]
    assert len(result.patients) > 0
