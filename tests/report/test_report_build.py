"""`build_report` on a data root: both files written, the newest manifest used, empty roots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from schemas.patients import PatientsModel
from spinemet_etl.dataset import partition_file, table_schema, write_parquet
from spinemet_etl.derive import add_derived_columns
from spinemet_etl.report import ReportPaths, build_report
from spinemet_etl.synth.cohort import simulate_cohort
from spinemet_etl.synth.profiles import profile_for


def _publish(data_root: Path, center_id: str, n: int, seed: int) -> None:
    """A center's valid partition: synthetic canonical rows plus identity columns."""
    cohort = add_derived_columns(
        simulate_cohort(profile_for("boston"), n, np.random.default_rng(seed))
    )
    identity = pd.DataFrame(
        {
            "center_id": center_id,
            "patient_id": [f"{seed:08x}{row:024x}" for row in range(n)],
            "source_file": "export.csv",
            "source_sha256": "a" * 64,
            "source_row": pd.array(range(1, n + 1), dtype="Int64"),
            "run_id": "20261101T020000Z-aaaa",
        }
    )
    frame = pd.concat([identity, cohort], axis=1)[list(PatientsModel.to_schema().columns)]
    PatientsModel.validate(frame, lazy=True)
    path = partition_file(data_root, "patients", center_id)
    write_parquet(frame, table_schema("patients"), path, "20261101T020000Z-aaaa")


def _manifest(data_root: Path, run_id: str, finished_at: str, lyon_status: str) -> None:
    runs = data_root / "_runs"
    runs.mkdir(parents=True, exist_ok=True)
    manifest = {
        "run_id": run_id, "finished_at": finished_at, "status": "needs_attention",
        "uses_development_key": False,
        "centers": {
            "bologna": {"status": "published", "error": None, "files": [],
                        "data_run_id": run_id, "top_quarantine_reasons": []},
            "lyon": {"status": lyon_status, "error": None, "files": [],
                     "data_run_id": "20261101T020000Z-aaaa", "top_quarantine_reasons": []},
        },
    }  # fmt: skip
    (runs / f"{run_id}.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_build_writes_both_reports_with_the_newest_manifest(tmp_path: Path) -> None:
    _publish(tmp_path, "bologna", 30, seed=1)
    _publish(tmp_path, "lyon", 20, seed=2)
    _manifest(tmp_path, "20261120T020000Z-0001", "2026-11-20T02:03:00+00:00", "published")
    _manifest(tmp_path, "20261126T020000Z-0002", "2026-11-26T02:03:00+00:00", "held")
    paths = build_report(tmp_path, run_id="20261126T030000Z-0003")
    assert paths == ReportPaths(
        endpoints=tmp_path / "reports" / "endpoints.parquet",
        html=tmp_path / "reports" / "report.html",
    )
    endpoints = pq.read_table(paths.endpoints).to_pandas()
    assert set(endpoints["center_id"]) == {"bologna", "lyon", "ALL"}
    html = paths.html.read_text(encoding="utf-8")
    assert "20261126T030000Z-0003" in html
    assert "Data shown come from the earlier run 20261101T020000Z-aaaa." in html  # newest: held
    assert sorted(p.name for p in paths.html.parent.iterdir()) == [
        ".report-cache.json", "endpoints.parquet", "report.html",
    ]  # fmt: skip


def test_build_on_an_empty_data_root_says_so(tmp_path: Path) -> None:
    paths = build_report(tmp_path, run_id="20261126T030000Z-0003")
    html = paths.html.read_text(encoding="utf-8")
    assert "No center has published data yet" in html
    assert "No run manifest was found" in html
    endpoints = pq.read_table(paths.endpoints).to_pandas()
    assert set(endpoints["center_id"]) <= {"ALL"} and (endpoints["n"] == 0).all()


@pytest.mark.parametrize("suppress_below", [0, 100], ids=["exact", "suppressed"])
def test_build_passes_suppression_to_the_page_only(tmp_path: Path, suppress_below: int) -> None:
    _publish(tmp_path, "bologna", 30, seed=1)
    _publish(tmp_path, "lyon", 20, seed=2)
    paths = build_report(tmp_path, run_id="r", suppress_below=suppress_below)
    patients = (
        pq.read_table(paths.endpoints)
        .to_pandas()
        .query("center_id == 'lyon' and stratum == 'all' and endpoint == 'patients_n'")
    )
    assert patients["estimate"].tolist() == [20.0]  # the Parquet table stays exact
    html = paths.html.read_text(encoding="utf-8")
    assert (">&lt;100<" in html) == (suppress_below == 100)
