"""The deployments against a real `prefect server`, a process work pool and a worker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spinemet_etl.dataset import read_partition
from spinemet_etl.lifeline import start_tied, untie

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "spinemet-process"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(url: str, server: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "prefect server exited early"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy after {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    untie(process)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real server on a free loopback port with a throwaway home; its environment."""
    home = tmp_path_factory.mktemp("prefect-home")
    url = f"http://127.0.0.1:{free_port()}/api"
    env = {
        **os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING", "PREFECT_LOGGING_LEVEL": "WARNING",
    }  # fmt: skip
    port = url.rsplit(":", 1)[1].split("/")[0]
    log = (home / "server.log").open("wb")
    server = start_tied(  # ends with pytest, even killed
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_healthy(url, server, seconds=90)
        yield env
    finally:
        stop(server)
        log.close()


def prefect_cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [PREFECT, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def wait_for_flow_run(client: Any, flow_run_id: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        flow_run = client.read_flow_run(flow_run_id)
        if flow_run.state is not None and flow_run.state.type.value in FINAL:
            return flow_run
        time.sleep(1)
    raise AssertionError(f"flow run not finished after {seconds} s")


def test_nightly_deployment_runs_on_a_worker(
    prefect_server: dict[str, str], tmp_path: Path
) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from spinemet_etl.synth import write_consortium

    write_consortium(tmp_path / "landing", n_patients=60, seed=7)
    env = prefect_server
    prefect_cli(env, "work-pool", "create", POOL, "--type", "process")
    prefect_cli(env, "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml")
    worker_log = (tmp_path / "worker.log").open("wb")
    worker = start_tied(
        [PREFECT, "worker", "start", "--pool", POOL, "--type", "process"],
        env=env, cwd=REPO, stdout=worker_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    parameters = {
        "landing": str(tmp_path / "landing"), "centers_dir": str(REPO / "centers"),
        "data": str(tmp_path / "data"), "centers": ["boston"],
    }  # fmt: skip
    try:
        with (
            temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}),
            get_client(sync_client=True) as client,
        ):
            deployment = client.read_deployment_by_name("spinemet-nightly/nightly")
            flow_run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
            finished = wait_for_flow_run(client, flow_run.id, seconds=120)
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id])
                )
            )
    finally:
        stop(worker)
        worker_log.close()

    log_tail = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert finished.state.type.value == "COMPLETED", log_tail
    manifests = list((tmp_path / "data" / "_runs").glob("*.json"))
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text(encoding="utf-8"))
    assert manifest["centers"]["boston"]["status"] == "published"
    boston = read_partition(tmp_path / "data", "patients", "boston")
    assert boston is not None and len(boston) == manifest["centers"]["boston"]["rows_harmonized"]
    assert {artifact.key for artifact in artifacts} == {
        "spinemet-run-summary", "spinemet-endpoints"
    }  # fmt: skip
