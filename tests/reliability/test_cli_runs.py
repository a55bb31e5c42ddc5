"""The real command line: refused on a locked data root, and killed with its whole process group."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from spinemet_etl.dataset import partition_file
from spinemet_etl.lock import data_root_lock, lock_path
from spinemet_etl.pipeline import run_pipeline
from spinemet_etl.publish import staging_root
from spinemet_etl.settings import load_settings
from spinemet_etl.synth import write_consortium
from tests.reliability.helpers import copy_centers, group_members

CENTER_IDS = ["boston", "muenchen"]
SPINEMET = Path(sys.executable).with_name("spinemet")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _command(landing: Path, centers: Path, data: Path) -> list[str]:
    return [str(SPINEMET), "run", "--landing", str(landing), "--centers", str(centers),
            "--data", str(data)]  # fmt: skip


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    environment.pop("SPINEMET_PSEUDONYM_KEY", None)
    return environment


def _living_members(group: int, seconds: float = 10.0) -> list[int]:
    """Processes of the group that are not zombies, once the kill had `seconds` to land."""
    deadline = time.monotonic() + seconds
    while True:
        living = group_members(group)
        if not living or time.monotonic() > deadline:
            return living
        time.sleep(0.1)


@pytest.fixture
def consortium(tmp_path: Path) -> tuple[Path, Path]:
    write_consortium(tmp_path / "landing", n_patients=30, seed=21)
    return tmp_path / "landing", copy_centers(tmp_path / "centers", CENTER_IDS)


def test_cli_run_on_a_locked_data_root_exits_1_with_the_lock_message(
    tmp_path: Path, consortium: tuple[Path, Path]
) -> None:
    landing, centers = consortium
    data = tmp_path / "data"
    with data_root_lock(data):
        done = subprocess.run(
            _command(landing, centers, data),
            capture_output=True, text=True, timeout=240, env=_environment(tmp_path),
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"error [data-root-locked]: data root `{data}` is locked by pid {os.getpid()}" in (
        done.stderr
    )
    assert not (data / "harmonized").exists()


# A line of the run's own log on stderr; anything else there (a traceback, a message of
# Prefect's services) would reach an operator's cron mail (issue 17, item 5).
RUN_LOG_LINE = re.compile(r"\d\d:\d\d:\d\d\.\d{3} \| (INFO|WARNING) +\| (Flow|Task) run '")


def test_cli_runs_that_succeed_print_only_the_run_log_and_no_traceback(
    tmp_path: Path, consortium: tuple[Path, Path]
) -> None:
    landing, centers = consortium
    data = tmp_path / "data"
    for expected in ("published", "unchanged"):
        done = subprocess.run(
            _command(landing, centers, data),
            capture_output=True, text=True, timeout=240, env=_environment(tmp_path),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"  boston: {expected}" in done.stdout
        lines = done.stderr.splitlines()
        strays = [line for line in lines if line and not RUN_LOG_LINE.match(line)]
        assert strays == [], done.stderr
        assert "Traceback" not in done.stdout


def test_cli_killed_with_its_process_group_mid_run_then_the_next_run_is_clean(
    tmp_path: Path, consortium: tuple[Path, Path]
) -> None:
    landing, centers = consortium
    data = tmp_path / "data"
    process = subprocess.Popen(
        _command(landing, centers, data),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=_environment(tmp_path), start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not (lock_path(data).exists() and lock_path(data).read_text().strip()):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert _living_members(process.pid) == []  # nothing of the group runs on (server, workers)
    settings = load_settings({"landing": landing, "centers_dir": centers, "data": str(data)}, {})
    clean = load_settings(
        {"landing": landing, "centers_dir": centers, "data": str(tmp_path / "clean")}, {}
    )
    assert run_pipeline(settings)["status"] == "ok"
    assert run_pipeline(clean)["status"] == "ok"
    for table in ("patients", "quarantine"):
        for center_id in CENTER_IDS:
            got, want = (
                pq.read_table(partition_file(root, table, center_id)).drop_columns(["run_id"])
                for root in (data, tmp_path / "clean")
            )
            assert got.replace_schema_metadata() == want.replace_schema_metadata()
    assert [p for p in staging_root(data).rglob("*") if not p.is_dir()] == []
