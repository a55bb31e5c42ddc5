"""Shared helpers of the harmonize tests: write a mapping, run a center, read its quarantine."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spinemet_etl.harmonize import process_center
from spinemet_etl.pseudonym import pseudonymize
from spinemet_etl.results import CenterResult

KEY = "test-key-not-secret"
RUN_ID = "run-test"


def write_mapping(folder: Path, text: str, center_id: str = "demo") -> Path:
    """The mapping file `<folder>/<center_id>.yaml` holding `text`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{center_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run(mapping: Path, landing: Path) -> CenterResult:
    return process_center(mapping, landing, run_id=RUN_ID, key=KEY)


def pid(source_id: str, center_id: str = "demo") -> str:
    """The pseudonym a source id should get."""
    return str(pseudonymize(center_id, pd.Series([source_id]), KEY).iloc[0])


def reasons(result: CenterResult) -> list[tuple[int, str | None, str, str | None]]:
    """The quarantine as (source_row, column, check_code, failure_value) tuples, in order."""
    frame = result.quarantine
    return [
        (int(row), column, code, value)
        for row, column, code, value in zip(
            frame["source_row"], frame["column"], frame["check_code"], frame["failure_value"],
            strict=True,
        )
    ]  # fmt: skip


def row_of(result: CenterResult, source_id: str, center_id: str = "demo") -> pd.Series:
    """The one harmonized row of a source patient id."""
    rows = result.patients[result.patients["patient_id"] == pid(source_id, center_id)]
    assert len(rows) == 1, f"expected one harmonized row for {source_id}, found {len(rows)}"
    return rows.iloc[0]


def accounting_holds(result: CenterResult) -> bool:
    """rows_read = rows_harmonized + rows_quarantined per file, and totals match the frames."""
    per_file = all(f.rows_read == f.rows_harmonized + f.rows_quarantined for f in result.files)
    harmonized = sum(f.rows_harmonized for f in result.files) == len(result.patients)
    distinct = result.quarantine[["source_file", "source_row"]].drop_duplicates()
    quarantined = sum(f.rows_quarantined for f in result.files) == len(distinct)
    return per_file and harmonized and quarantined
