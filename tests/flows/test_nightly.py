"""The nightly and backfill flows under Prefect's test harness, with a stand-in harmonizer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows.backfill import backfill
from flows.nightly import largest_first, nightly
from spinemet_etl.dataset import read_partition
from spinemet_etl.pipeline import landing_sizes
from spinemet_etl.settings import Settings
from tests.flows.flow_standins import StandInProcess, write_consortium

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run_nightly(root: Path, process: StandInProcess) -> tuple[dict[str, Any], UUID]:
    landing, centers, data = root / "landing", root / "centers", root / "data"
    state = nightly(
        landing=str(landing), centers_dir=str(centers), data=str(data), process=process,
        return_state=True,
    )  # fmt: skip
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    return state.result(), flow_run_id


def artifacts_of(flow_run_id: UUID) -> dict[str, Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {str(artifact.key): artifact for artifact in found}


def patients_in(data: Path, center_id: str) -> int:
    frame = read_partition(data, "patients", center_id)
    return -1 if frame is None else len(frame)


def report_stamp(root: Path) -> list[int]:
    """When report.html, endpoints.parquet and the Data Docs index were last written."""
    reports = root / "data" / "reports"
    names = ("report.html", "endpoints.parquet", "data_docs/index.html")
    return [(reports / name).stat().st_mtime_ns for name in names]


def statuses(manifest: dict[str, Any]) -> dict[str, str]:
    return {center: entry["status"] for center, entry in manifest["centers"].items()}


def test_nightly_publishes_writes_manifest_and_artifacts(tmp_path: Path) -> None:
    write_consortium(tmp_path, {"alpha": "30", "beta": "25", "gamma": "broken", "delta": "flaky"})
    process = StandInProcess(flaky_failures=1)
    manifest, flow_run_id = run_nightly(tmp_path, process)

    assert statuses(manifest) == {
        "alpha": "published", "beta": "published", "gamma": "failed", "delta": "published"
    }  # fmt: skip
    assert manifest["status"] == "needs_attention"
    assert process.calls == {"alpha": 1, "beta": 1, "gamma": 1, "delta": 2}
    on_disk = json.loads((tmp_path / "data" / "_runs" / f"{manifest['run_id']}.json").read_text())
    assert statuses(on_disk) == statuses(manifest)
    assert manifest["centers"]["alpha"]["quality_gate"]["passed"] is True
    assert patients_in(tmp_path / "data", "beta") == 25
    assert (tmp_path / "data" / "reports" / "report.html").is_file()
    assert (tmp_path / "data" / "reports" / "data_docs" / "index.html").is_file()

    artifacts = artifacts_of(flow_run_id)
    summary = artifacts["spinemet-run-summary"].data
    assert "| alpha | published | 30 | 30 | 0 |" in summary
    assert "**gamma** failed" in summary
    table = json.loads(artifacts["spinemet-endpoints"].data)
    beta_n = [r["n"] for r in table if (r["center_id"], r["endpoint"]) == ("beta", "patients_n")]
    assert beta_n == ["25"]


def test_unchanged_rerun_then_a_large_drop_is_held(tmp_path: Path) -> None:
    write_consortium(tmp_path, {"alpha": "30", "beta": "25"})
    process = StandInProcess()
    first, _ = run_nightly(tmp_path, process)
    report_after_first = report_stamp(tmp_path)
    second, _ = run_nightly(tmp_path, process)
    report_after_second = report_stamp(tmp_path)
    html_after_second = (tmp_path / "data" / "reports" / "report.html").read_text("utf-8")
    write_consortium(tmp_path, {"alpha": "12"})
    third, _ = run_nightly(tmp_path, process)

    assert statuses(first) == {"alpha": "published", "beta": "published"}
    assert statuses(second) == {"alpha": "unchanged", "beta": "unchanged"}
    assert second["status"] == "ok"
    assert (tmp_path / "data" / "_runs" / f"{second['run_id']}.json").is_file()
    # the no-op run writes its own page but reuses the endpoint table and the Data Docs
    assert report_after_second[0] != report_after_first[0]
    assert report_after_second[1:] == report_after_first[1:]
    assert second["run_id"] in html_after_second
    assert report_stamp(tmp_path) != report_after_second  # the held run rewrote it
    assert statuses(third) == {"alpha": "held", "beta": "unchanged"}
    checks = third["centers"]["alpha"]["quality_gate"]["checks"]
    assert [c["name"] for c in checks if not c["passed"]] == ["patient_count"]
    assert patients_in(tmp_path / "data", "alpha") == 30
    assert process.calls == {"alpha": 2, "beta": 1}


def test_backfill_reprocesses_only_the_named_center(tmp_path: Path) -> None:
    landing, centers, data = write_consortium(tmp_path, {"alpha": "30", "beta": "25"})
    process = StandInProcess()
    run_nightly(tmp_path, process)
    manifest = backfill(
        centers=["beta"], landing=str(landing), centers_dir=str(centers), data=str(data),
        process=process,
    )  # fmt: skip

    assert statuses(manifest) == {"beta": "published"}
    assert manifest["parameters"]["force"] is True
    assert process.calls == {"alpha": 1, "beta": 2}


def test_largest_centers_first(tmp_path: Path) -> None:
    landing, centers, data = write_consortium(tmp_path, {"small": "1", "big": "1000", "mid": "10"})
    (landing / "mid" / "nested").mkdir()
    (landing / "mid" / "nested" / "old.txt").write_text("x" * 10, encoding="utf-8")
    settings = Settings(landing=landing, centers_dir=centers, data=str(data))
    assert largest_first(landing_sizes(settings, ["small", "big", "mid", "missing"])) == [
        "mid", "big", "small", "missing"
    ]  # fmt: skip
