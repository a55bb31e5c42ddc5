"""SIGKILL and SIGTERM the pipeline at many points while readers keep reading: nothing broken
is ever seen, and nothing the run started runs on."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from spinemet_etl.dataset import partition_file
from spinemet_etl.manifest import manifest_path
from spinemet_etl.publish import staging_root
from spinemet_etl.synth import write_consortium
from tests.reliability.helpers import REPO, Driver, copy_centers, group_members
from tests.reliability.partition_reader import COLUMNS, digest, read_pyarrow

CENTER_IDS = ["boston", "rotterdam"]
"""A CSV and an SPSS center: two readers, two publishes per run, about a second a run."""

STEP_KILLS = [
    ("cleanup", 1),
    *[("read", n) for n in (1, 2)],
    *[("harmonize", n) for n in (1, 2)],
    *[("write", n) for n in (1, 2, 3, 4)],
    *[("publish", n) for n in (1, 2, 3, 4)],
    *[("state", n) for n in (1, 2)],
    ("manifest", 1),
]
"""Right after each step of each center: 17 distinct points of a two-center run."""

MIN_KILLS = 30
"""Runs really killed (a random-time kill may come after the run ended: more are drawn)."""
BUDGET_SECONDS = 150
"""Past the MIN_KILLS planned runs, drawing more random-time kills stops after this."""
MIN_STOPS = 10
"""Runs really stopped by SIGTERM (not ended before it came)."""
STOP_BUDGET_SECONDS = 90
"""Drawing more random-time SIGTERMs stops after this."""
STOP_EXIT_SECONDS = 30
"""A run sent SIGTERM exits within this: it finishes the center in flight in this process
(the command abandons it in its worker; test_cli_stops.py holds it to 10 s), slowed by the
server and workers starting beside it on a busy machine (measured: up to 10 s)."""
LINGER_SECONDS = 5.0
"""When the processes left of a killed run are counted, after its kill."""


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:160]
    except OSError:
        return f"pid {pid}, ended"


class Leftovers:
    """Counts the processes of each killed run's group LINGER_SECONDS after its kill.

    Every run's child leads a process group of its own (`forkserver`), and what it starts
    (Prefect's temporary server, the fork server and workers) stays in it. Whatever is
    counted is then killed, so that a failing test leaves nothing behind either.
    """

    def __init__(self) -> None:
        self.counted: dict[int, list[str]] = {}
        self._timers: list[threading.Timer] = []

    def after_kill(self, group: int) -> None:
        timer = threading.Timer(LINGER_SECONDS, self._count, args=(group,))
        timer.start()
        self._timers.append(timer)

    def _count(self, group: int) -> None:
        living = group_members(group)
        self.counted[group] = [_command_line(pid) for pid in living]
        for pid in living:
            os.kill(pid, signal.SIGKILL)

    def wait(self) -> dict[int, list[str]]:
        for timer in self._timers:
            timer.join()
        return self.counted


def _flags(landing: Path, centers: Path, data: Path) -> dict[str, Any]:
    return {
        "landing": str(landing),
        "centers_dir": str(centers),
        "data": str(data),
        "centers": CENTER_IDS,
    }


def _run_to_end(driver: Driver, flags: dict[str, Any], result: Path, force: bool) -> float:
    started = time.monotonic()
    pid = driver.ask(op="run", flags=flags, force=force, result=str(result))["pid"]
    assert driver.ask(op="wait", pid=pid) == {"exit": 0}
    outcome = json.loads(result.read_text())
    assert outcome["status"] == "ok", outcome
    return time.monotonic() - started


def _versions(clean_roots: list[Path]) -> dict[str, dict[str, list[list[Any]]]]:
    """Every complete published version of each partition: the clean runs' contents."""
    versions: dict[str, dict[str, list[list[Any]]]] = {table: {} for table in COLUMNS}
    for root in clean_roots:
        for table in COLUMNS:
            for center_id, rows in read_pyarrow(root, table).items():
                versions[table].setdefault(center_id, []).append(digest(rows))
    return versions


def _tables_without_run_id(data: Path) -> dict[tuple[str, str], Any]:
    tables = {}
    for area in ("patients", "quarantine"):
        for center_id in CENTER_IDS:
            table = pq.read_table(partition_file(data, area, center_id))
            tables[(area, center_id)] = table.drop_columns(["run_id"]).replace_schema_metadata()
    return tables


def _kill_plan(seed: int, run_seconds: float) -> Iterator[tuple[str, Any]]:
    """Every step kill once, shuffled among random-time kills up to MIN_KILLS; then
    random-time kills without end, for those that came too late (the run had finished)."""
    rng = random.Random(seed)
    steps: list[tuple[str, Any]] = [("step", step) for step in STEP_KILLS]
    randoms = [("delay", rng.uniform(0.02, run_seconds)) for _ in range(MIN_KILLS - len(steps))]
    plan = steps + randoms
    rng.shuffle(plan)
    yield from plan
    while True:
        yield ("delay", rng.uniform(0.02, run_seconds))


def _killed_run(
    driver: Driver, flags: dict[str, Any], how: tuple[str, Any], result: Path, left: Leftovers
) -> bool:
    """Start one run (with its server and workers) and SIGKILL it at the planned point;
    True when it really was killed."""
    run = {"op": "run", "flags": flags, "force": True, "result": str(result), "tied": True}
    if how[0] == "step":
        step, nth = how[1]
        pid = driver.ask(**run, hook={"step": step, "nth": nth})["pid"]
        ended = driver.ask(op="wait", pid=pid, timeout=60)
    else:
        pid = driver.ask(**run)["pid"]
        time.sleep(how[1])
        ended = driver.ask(op="kill", pid=pid)
    left.after_kill(pid)
    return ended.get("signal") == 9


def _stopped_run(
    driver: Driver, flags: dict[str, Any], delay: float, result: Path, left: Leftovers
) -> bool:
    """Start one run (with its server and workers) and SIGTERM it after `delay`; True when
    it really was stopped: then it exited 1 within STOP_EXIT_SECONDS, its manifest says
    what it published, and no staging file is left."""
    run = {"op": "run", "flags": flags, "force": True, "result": str(result), "tied": True}
    pid = driver.ask(**run, signals=True)["pid"]
    time.sleep(delay)
    ended = driver.ask(op="kill", pid=pid, signal=signal.SIGTERM)
    left.after_kill(pid)
    if ended["already_ended"]:
        return False
    assert ended["seconds"] < STOP_EXIT_SECONDS and ended.get("exit") == 1, ended
    if not result.exists():  # stopped before it took the lock: nothing written
        return True
    outcome = json.loads(result.read_text())
    data = Path(flags["data"])
    manifest = json.loads(manifest_path(data, outcome["run_id"]).read_text())
    interrupted = manifest["interrupted"]
    assert interrupted["reason"] == "SIGTERM"
    published = sorted(c for c, e in manifest["centers"].items() if e["status"] == "published")
    assert interrupted["published"] == published
    assert [p for p in staging_root(data).rglob("*") if not p.is_dir()] == []
    return True


@pytest.mark.slow
def test_killed_runs_never_show_readers_a_broken_partition(driver: Driver, tmp_path: Path) -> None:
    centers = copy_centers(tmp_path / "centers", CENTER_IDS)
    landings = [tmp_path / "landing_a", tmp_path / "landing_b"]
    write_consortium(landings[0], n_patients=30, seed=5, dirt_rate=0.4)
    write_consortium(landings[1], n_patients=48, seed=6, dirt_rate=0.4)
    clean = [tmp_path / "clean_a", tmp_path / "clean_b"]
    seconds = [
        _run_to_end(driver, _flags(landing, centers, root), tmp_path / "clean.json", force=False)
        for landing, root in zip(landings, clean, strict=True)
    ]
    versions = _versions(clean)
    assert all(len(set(map(tuple, v))) == 2 for t in versions.values() for v in t.values())
    data = tmp_path / "data"
    _run_to_end(driver, _flags(landings[0], centers, data), tmp_path / "first.json", force=False)
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps(versions))
    stop, summary = tmp_path / "stop", tmp_path / "summary.json"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.partition_reader",
         str(data), str(expected), str(stop), str(summary)],
        cwd=REPO,
    )  # fmt: skip
    kills, stops, started, left = 0, 0, time.monotonic(), Leftovers()
    try:
        for number, how in enumerate(_kill_plan(20100, max(seconds))):
            flags = _flags(landings[number % 2], centers, data)
            kills += _killed_run(driver, flags, how, tmp_path / f"run{number}.json", left)
            planned_done = number + 1 >= MIN_KILLS  # every step kill has run
            past_budget = time.monotonic() - started > BUDGET_SECONDS
            if planned_done and (kills >= MIN_KILLS or past_budget):
                break
        rng, started = random.Random(17), time.monotonic()
        for number in range(1000):
            flags = _flags(landings[number % 2], centers, data)
            delay = rng.uniform(0.02, max(seconds))
            stops += _stopped_run(driver, flags, delay, tmp_path / f"stop{number}.json", left)
            if stops >= MIN_STOPS or time.monotonic() - started > STOP_BUDGET_SECONDS:
                break
    finally:
        stop.write_text("stop")
        reader.wait(timeout=60)
    leftovers = left.wait()
    assert reader.returncode == 0, "the partition reader died: its traceback is in stderr"
    read = json.loads(summary.read_text())
    assert read["failures"] == []
    assert not any(line.startswith("pyarrow ") for line in read["retried"]), read["retried"]
    assert all(read["reads"][engine] >= 10 for engine in ("pyarrow", "duckdb", "polars")), read
    assert kills >= MIN_KILLS and stops >= MIN_STOPS
    assert len(leftovers) >= MIN_KILLS + MIN_STOPS
    assert {group: pids for group, pids in leftovers.items() if pids} == {}
    _run_to_end(driver, _flags(landings[0], centers, data), tmp_path / "last.json", force=False)
    assert _tables_without_run_id(data) == _tables_without_run_id(clean[0])
    assert [p for p in staging_root(data).rglob("*") if not p.is_dir()] == []
