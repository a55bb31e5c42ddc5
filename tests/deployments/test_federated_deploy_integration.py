"""The spinemet-center and spinemet-pool deployments on a real `prefect server` and worker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deployments.test_deploy_integration import (
    PREFECT,
    REPO,
    prefect_cli,
    prefect_server,
    stop,
    wait_for_flow_run,
)

__all__ = ["prefect_server"]  # the fixture, shared with the nightly's test
POOL = "spinemet-process"
pytestmark = pytest.mark.integration


def _run(client: Any, name: str, parameters: dict[str, Any]) -> Any:
    deployment = client.read_deployment_by_name(name)
    flow_run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
    return wait_for_flow_run(client, flow_run.id, seconds=180)


def test_a_hospital_summarizes_and_the_coordinator_pools(
    prefect_server: dict[str, str], tmp_path: Path
) -> None:
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from spinemet_etl.synth import write_consortium

    write_consortium(tmp_path / "landing", n_patients=60, seed=7)
    env = prefect_server
    prefect_cli(env, "work-pool", "create", POOL, "--type", "process")
    prefect_cli(env, "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml")
    worker_log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", POOL, "--type", "process"],
        env=env, cwd=REPO, stdout=worker_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    hospital = {
        "landing": str(tmp_path / "landing"), "centers_dir": str(REPO / "centers"),
        "data": str(tmp_path / "hospital"), "outbox": str(tmp_path / "outbox"),
    }  # fmt: skip
    try:
        with (
            temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}),
            get_client(sync_client=True) as client,
        ):
            centers = [
                _run(client, "spinemet-center/center", {**hospital, "center": center})
                for center in ("boston", "lyon")
            ]
            pooled = _run(
                client, "spinemet-pool/pool",
                {"summaries": str(tmp_path / "outbox"), "data": str(tmp_path / "coordinator")},
            )  # fmt: skip
    finally:
        stop(worker)
        worker_log.close()

    log_tail = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert [run.state.type.value for run in [*centers, pooled]] == ["COMPLETED"] * 3, log_tail
    assert sorted(p.parent.parent.name for p in (tmp_path / "outbox").glob("*/*/summary.json")) == [
        "boston", "lyon",
    ]  # fmt: skip
    reports = tmp_path / "coordinator" / "reports"
    summaries = json.loads((reports / "summaries.json").read_text(encoding="utf-8"))
    assert [(c["center_id"], c["status"]) for c in summaries["centers"]] == [
        ("boston", "used"), ("lyon", "used"),
    ]  # fmt: skip
    assert (reports / "endpoints.parquet").is_file() and (reports / "report.html").is_file()
    assert not (tmp_path / "coordinator" / "harmonized").exists()
