"""The real command line stopped mid-run: by SIGTERM, by its --timeout, by losing its server.

Each test runs `spinemet run` on the demo consortium (six centers, two worker
processes) with its temporary Prefect server, and checks the exit status, the one line,
the manifest, that nothing of the command runs on, and that the data root then holds
what a clean run publishes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flows.apiwatch import EXIT_SECONDS
from spinemet_etl.dataset import partition_file
from spinemet_etl.lock import data_root_lock
from spinemet_etl.manifest import latest_manifest
from spinemet_etl.pipeline import run_pipeline
from spinemet_etl.publish import staging_root
from spinemet_etl.settings import load_settings
from spinemet_etl.synth import write_consortium
from tests.reliability.helpers import CENTERS, group_members

SPINEMET = Path(sys.executable).with_name("spinemet")
CENTER_IDS = ["barcelona", "bologna", "boston", "lyon", "muenchen", "rotterdam"]
STOP_SECONDS = 10
"""docs/operations.md: a run sent SIGTERM exits within this."""
LINGER_SECONDS = 5

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("landing")
    write_consortium(folder, seed=20100)
    return folder


@pytest.fixture(scope="module")
def clean(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("clean")
    flags = {"landing": landing, "centers_dir": CENTERS, "data": str(data)}
    assert run_pipeline(load_settings(flags, {}))["status"] == "ok"
    return data


class Command:
    """`spinemet run` in a session of its own; its output in files."""

    def __init__(self, tmp_path: Path, landing: Path, *flags: str) -> None:
        self.data, self.out, self.err = tmp_path / "data", tmp_path / "out", tmp_path / "err"
        environment = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
        environment.pop("SPINEMET_PSEUDONYM_KEY", None)
        command = [str(SPINEMET), "run", "--landing", str(landing), "--centers", str(CENTERS),
                   "--data", str(self.data), "--max-workers", "2", *flags]  # fmt: skip
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=err, env=environment, start_new_session=True
            )

    def wait_for(self, text: str, seconds: float = 300) -> None:
        """Wait until the command's log shows `text` (a center started, say)."""
        deadline = time.monotonic() + seconds
        while text not in self.err.read_text(errors="replace"):
            assert self.process.poll() is None, self.err.read_text(errors="replace")
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def server_pid(self) -> int:
        """The temporary server's uvicorn process (of the command's process group)."""
        for pid in group_members(self.process.pid):
            if b"uvicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        raise AssertionError("no temporary server found")

    def ended(self, seconds: float) -> float:
        """Wait for the exit; when it came (`time.time()`). Nothing of the group runs on
        LINGER_SECONDS after."""
        self.process.wait(timeout=seconds)
        exited = time.time()
        time.sleep(LINGER_SECONDS)
        assert group_members(self.process.pid) == []
        return exited

    def stderr_lines(self, prefix: str) -> list[str]:
        lines = self.err.read_text(errors="replace").splitlines()
        return [line for line in lines if line.startswith(prefix)]


def _assert_same_as_clean(data: Path, clean: Path) -> None:
    for table in ("patients", "quarantine"):
        for center_id in CENTER_IDS:
            got, want = (
                pq.read_table(partition_file(root, table, center_id)).drop_columns(["run_id"])
                for root in (data, clean)
            )
            assert got.replace_schema_metadata() == want.replace_schema_metadata()


def _assert_stopped_cleanly(command: Command, reason: str, clean: Path) -> dict[str, object]:
    """The manifest of a stopped run, its line, no staging, the lock free; the next run
    then completes the data root."""
    manifest = latest_manifest(command.data)
    assert manifest is not None
    record = manifest["interrupted"]
    assert record["reason"] == reason
    published = sorted(c for c, e in manifest["centers"].items() if e["status"] == "published")
    assert record["published"] == published
    assert record["not_done"], "the stop came after every center was done"
    for center_id in record["not_done"]:
        assert manifest["centers"][center_id]["error"]["code"] == "run-interrupted"
    [line] = command.stderr_lines("stopped [run-interrupted]: ")
    assert f"run {manifest['run_id']} published {', '.join(published) or 'no center'}" in line
    assert f"not done: {', '.join(record['not_done'])}" in line
    assert [p for p in staging_root(command.data).rglob("*") if not p.is_dir()] == []
    with data_root_lock(command.data):
        pass
    settings = load_settings({"landing": Path(command.process.args[3]), "centers_dir": CENTERS,
                              "data": str(command.data)}, {})  # fmt: skip
    assert run_pipeline(settings)["status"] == "ok"
    _assert_same_as_clean(command.data, clean)
    return record


def test_sigterm_mid_run_stops_within_10_s_and_the_next_run_completes(
    tmp_path: Path, landing: Path, clean: Path
) -> None:
    command = Command(tmp_path, landing)
    command.wait_for("read: reading exports")
    sent = time.time()
    os.kill(command.process.pid, signal.SIGTERM)
    exited = command.ended(60)
    assert command.process.returncode == 1
    print(f"SIGTERM to exit: {exited - sent:.1f} s")  # docs/reliability.md (pytest -rP)
    assert exited - sent < STOP_SECONDS
    _assert_stopped_cleanly(command, "SIGTERM", clean)
    assert "Traceback" not in command.err.read_text(errors="replace")


def test_a_run_past_its_timeout_stops_gracefully_and_says_so(
    tmp_path: Path, landing: Path, clean: Path
) -> None:
    command = Command(tmp_path, landing, "--timeout", "0.5")
    command.ended(300)
    assert command.process.returncode == 1, command.err.read_text(errors="replace")
    record = _assert_stopped_cleanly(command, "timeout", clean)
    assert record["timeout_seconds"] == 0.5
    [line] = command.stderr_lines("stopped [run-interrupted]: ")
    assert line.startswith("stopped [run-interrupted]: the run exceeded its time limit of 0.5 s;")


def test_a_run_that_loses_its_server_ends_within_the_bound_and_says_so(
    tmp_path: Path, landing: Path, clean: Path
) -> None:
    command = Command(tmp_path, landing)
    command.wait_for("read: reading exports")
    os.kill(command.server_pid(), signal.SIGKILL)
    exited = command.ended(600)
    assert command.process.returncode == 1
    manifest = latest_manifest(command.data)
    assert manifest is not None and manifest["status"] == "ok"
    data_work_ended = (command.data / "reports" / "report.html").stat().st_mtime
    print(f"data work to exit: {exited - data_work_ended:.1f} s")  # docs/reliability.md
    assert exited - data_work_ended < EXIT_SECONDS
    [line] = command.stderr_lines("error [prefect-api-lost]: ")
    assert f"run {manifest['run_id']} (ok) published {', '.join(CENTER_IDS)}" in line
    assert "Prefect records (flow and task runs, logs, artifacts) are incomplete" in line
    _assert_same_as_clean(command.data, clean)
