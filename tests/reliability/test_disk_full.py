"""A full disk at each write point: one sentence, exit 1, intact data, no strays, and recovery.

Each case copies a data root published by a clean run, re-runs `spinemet run
--full-refresh` (in this process, centers in threads, so the fault reaches every write)
with writes to one kind of path failing with ENOSPC, then runs again with the space back.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from spinemet_etl.cli import app
from spinemet_etl.dataset import partition_file
from spinemet_etl.manifest import latest_manifest
from spinemet_etl.synth import write_consortium
from tests.reliability.diskfull import FillingDisk, filling_disk, resize, small_filesystem
from tests.reliability.helpers import copy_centers
from tests.reliability.test_cli_runs import _command, _environment

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

CENTER_IDS = ["boston", "muenchen"]
TABLES = ("patients", "quarantine")
TODO = "; free space on that filesystem (or raise the quota) and run again."
RUN_FILE = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{4}\.json\.")


@dataclass(frozen=True)
class Point:
    """A write point: which paths fill up, and what the run must say and keep."""

    name: str
    match: Callable[[Path, str], bool]
    """(data root, absolute path) -> whether the write goes to the full part of the disk."""
    named: str
    """The path the sentence names, relative to the data root (`*` matches one segment)."""
    room: int = 0
    renames: bool = False
    center: str | None = None
    """The center that fails (the others publish); None when the run itself stops."""
    before_commit: bool = True
    """Whether the failure comes before boston's patients are replaced."""


def _name(path: str) -> str:
    return Path(path).name


POINTS = [
    Point("staging", lambda d, p: "/_staging/" in p and "/boston/patients/" in p,
          "_staging/*/boston/patients/center_id=boston/part-0.parquet", room=900,
          center="boston"),
    Point("quarantine", lambda d, p: "/_staging/" in p and "/boston/quarantine/" in p,
          "_staging/*/boston/quarantine/center_id=boston/part-0.parquet", room=500,
          center="boston"),
    Point("publish-rename",
          lambda d, p: p == str(d / "harmonized/patients/center_id=boston/part-0.parquet"),
          "harmonized/patients/center_id=boston", renames=True, center="boston"),
    Point("state", lambda d, p: _name(p).startswith("boston.json."), "_state/boston.json",
          room=20, center="boston", before_commit=False),
    Point("hash-cache", lambda d, p: _name(p).startswith("boston.hashes.json."),
          "_state/boston.hashes.json", room=20, center="boston"),
    Point("manifest", lambda d, p: RUN_FILE.match(_name(p)) is not None, "_runs/*.json",
          room=40, before_commit=False),
    Point("lock", lambda d, p: p == str(d / ".lock"), ".lock"),
    Point("gx-stores", lambda d, p: "/_gx/uncommitted/validations/" in p,
          "reports/data_docs", room=300, before_commit=False),
    Point("data-docs", lambda d, p: "/reports/data_docs/" in p, "reports/data_docs",
          room=20_000, before_commit=False),
    Point("endpoints", lambda d, p: _name(p).startswith(".endpoints.parquet."),
          "reports/endpoints.parquet", room=100, before_commit=False),
    Point("report-html", lambda d, p: _name(p).startswith("report.html."),
          "reports/report.html", room=100, before_commit=False),
]  # fmt: skip


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    """The command's arguments (without --data), and a data root after one clean run."""
    root = tmp_path_factory.mktemp("disk-full")
    write_consortium(root / "landing", n_patients=60, seed=18, dirt_rate=0.02)
    centers = copy_centers(root / "centers", CENTER_IDS)
    args = ["run", "--landing", str(root / "landing"), "--centers", str(centers)]
    first = _invoke([*args, "--data", str(root / "data")])
    assert first.exit_code == 0, first.output
    return args, root / "data"


def _invoke(args: list[str]) -> Result:
    """`spinemet ARGS` in this process, centers harmonized in its threads.

    The environment, not `--task-runner threads`: the flow reads its settings from its
    parameters and the environment, and the option is not among its parameters.
    """
    return CliRunner().invoke(app, args, env={"SPINEMET_TASK_RUNNER": "threads"})


def _patients_bytes(data: Path) -> dict[str, bytes]:
    return {c: partition_file(data, "patients", c).read_bytes() for c in CENTER_IDS}


def _rows(data: Path) -> dict[tuple[str, str], int]:
    """Row counts of every partition, each read whole by pyarrow (a cut file raises)."""
    return {
        (table, c): pq.read_table(partition_file(data, table, c)).num_rows
        for table in TABLES
        for c in CENTER_IDS
    }


def _assert_nothing_half_written(data: Path) -> None:
    staged = [p for p in (data / "_staging").rglob("*") if p.is_file()]
    assert staged == [], staged
    assert [p for p in data.rglob("*.tmp")] == []
    for path in data.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # none is cut short
    for path in data.rglob("*.parquet"):
        pq.read_metadata(path)


def _sentence(output: str, point: Point) -> str:
    prefix = "    error [disk-full]: " if point.center else "error [disk-full]: "
    lines = [line for line in output.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, output
    return lines[0].removeprefix(prefix)


@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_a_full_disk_is_one_sentence_and_the_next_run_recovers(
    point: Point, published: tuple[list[str], Path], tmp_path: Path
) -> None:
    args, clean = published
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    before, rows = _patients_bytes(data), _rows(data)
    runs_before = sorted((data / "_runs").glob("*.json"))
    if point.name == "hash-cache":
        (data / "_state" / "boston.hashes.json").unlink()  # to be written again
    command = [*args, "--data", str(data)]

    disk = FillingDisk(lambda path: point.match(data, path), point.room, renames=point.renames)
    with filling_disk(pytest.MonkeyPatch(), disk):
        full = _invoke([*command, "--full-refresh"])

    assert disk.failures >= 1
    assert full.exit_code == 1, full.output
    sentence = _sentence(full.output, point)
    named = re.escape(str(data / point.named)).replace(r"\*", "[^/`]+")
    who = f"center `{point.center}`: " if point.center else ""
    assert re.fullmatch(f"{who}no space left on the device to write `{named}`; .*", sentence)
    assert sentence.endswith(TODO), sentence
    after = _patients_bytes(data)
    if point.before_commit:
        assert after["boston"] == before["boston"]
    assert _rows(data) == rows
    if point.center:
        assert after["muenchen"] != before["muenchen"]  # the other center published
        manifest = latest_manifest(data)
        assert manifest is not None
        assert manifest["centers"]["boston"]["error"]["code"] == "disk-full"
        assert manifest["centers"]["muenchen"]["status"] == "published"
    if point.name == "lock":
        assert after == before and sorted((data / "_runs").glob("*.json")) == runs_before
    _assert_nothing_half_written(data)

    again = _invoke(command)
    assert again.exit_code == 0, again.output
    manifest = latest_manifest(data)
    assert manifest is not None and manifest["status"] == "ok"
    for name in ("report.html", "endpoints.parquet", "data_docs/index.html"):
        assert (data / "reports" / name).is_file(), name
    assert _rows(data) == rows
    _assert_nothing_half_written(data)


def _spinemet(landing: Path, centers: Path, data: Path, tmp_path: Path) -> tuple[int, str]:
    """The real command line, its exit status and everything it printed."""
    done = subprocess.run(
        _command(landing, centers, data),
        capture_output=True, text=True, timeout=300, env=_environment(tmp_path),
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


@pytest.mark.integration
def test_the_command_on_a_small_filesystem_refuses_then_fails_cleanly_then_recovers(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "landing"
    write_consortium(landing, n_patients=60, seed=18, dirt_rate=0.02)
    centers = copy_centers(tmp_path / "centers", CENTER_IDS)
    with small_filesystem(tmp_path / "data", "900k") as data:
        status, printed = _spinemet(landing, centers, data, tmp_path)
        assert status == 1 and "Traceback" not in printed, printed
        refused = f"error [disk-full]: no space left on the device to write `{data}`; it has "
        assert printed.count("error [disk-full]") == 1 and refused in printed, printed
        assert "the run did not start" in printed
        assert [p.name for p in data.rglob("*") if p.is_file()] == [".lock"]

        resize(data, "1200k")  # the 1.2 MB: the partitions fit, the Data Docs do not
        status, printed = _spinemet(landing, centers, data, tmp_path)
        assert status == 1 and "Traceback" not in printed and "Errno" not in printed, printed
        assert "| ERROR " not in printed, printed  # no Prefect line about a failed task
        assert f"data root `{data}` has 1.2 MB free, less than the" in printed
        errors = [line for line in printed.splitlines() if "error [disk-full]: " in line]
        assert len(errors) == 1 and errors[0].endswith(TODO), printed
        _assert_nothing_half_written(data)

        resize(data, "64m")
        status, printed = _spinemet(landing, centers, data, tmp_path)
        assert status == 0, printed
        manifest = latest_manifest(data)
        assert manifest is not None and manifest["status"] == "ok"
        assert set(manifest["centers"]) == set(CENTER_IDS)
        for name in ("report.html", "endpoints.parquet", "data_docs/index.html"):
            assert (data / "reports" / name).is_file(), name
        assert all(n > 0 for (table, _), n in _rows(data).items() if table == "patients")
        _assert_nothing_half_written(data)
