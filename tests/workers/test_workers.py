"""Centers prepared in worker processes: the same result, errors and logs come back, no orphan."""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from flows.entrypoints import demo_centers_dir
from spinemet_etl import workers
from spinemet_etl.dataset import PART_NAME, partition_file
from spinemet_etl.errors import SourceError
from spinemet_etl.pipeline import harmonize_and_gate, process_center_safely
from spinemet_etl.publish import stage_center
from spinemet_etl.quality.config import load_quality_config
from spinemet_etl.quality.gate import run_quality_gate
from spinemet_etl.settings import Settings
from spinemet_etl.synth import write_consortium
from spinemet_etl.workers import prepare_center, worker_pool

RUN_ID = "20261126T020000Z-abcd"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    landing = tmp_path_factory.mktemp("landing")
    write_consortium(landing, n_patients=60, seed=11)
    data = tmp_path_factory.mktemp("data")
    return Settings(landing=landing, centers_dir=demo_centers_dir(), data=str(data))


@pytest.mark.slow
@pytest.mark.parametrize("center_id", ["boston", "barcelona"], ids=["csv", "redcap"])
def test_a_worker_stages_what_this_process_prepares(
    settings: Settings, center_id: str, tmp_path: Path
) -> None:
    quality = load_quality_config()
    answer = (
        worker_pool(2)
        .submit(prepare_center, settings, center_id, RUN_ID, None, quality, logging.INFO)
        .result()
    )
    here = harmonize_and_gate(
        settings, center_id, RUN_ID, None, lambda r, p: run_quality_gate(r, p, quality)
    )
    assert answer.error is None and answer.prepared is not None
    there = answer.prepared
    assert here.result is not None and len(here.result.patients) > 0
    assert there.result is None and there.staged is not None  # no table sent back
    assert str(there.staged["patients"]).startswith(str(settings.data_path / "_staging" / RUN_ID))
    mine = stage_center(here.result, tmp_path, RUN_ID)  # same frame, same bytes
    for table in ("patients", "quarantine"):
        written = (there.staged[table] / PART_NAME).read_bytes()
        assert written == (mine[table] / PART_NAME).read_bytes()
    assert there.stats == here.stats
    assert answer.verdict.passed == here.passed and answer.gate_seconds > 0


def test_a_center_error_comes_back_to_be_raised_here(settings: Settings) -> None:
    missing = Settings(landing=settings.landing / "nowhere", centers_dir=settings.centers_dir)
    answer = prepare_center(missing, "boston", RUN_ID, None, load_quality_config(), logging.INFO)
    assert isinstance(answer.error, SourceError)
    assert answer.prepared is None and answer.verdict is None


def test_an_unexpected_error_comes_back_with_its_frames_not_its_message(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = "patient 0042 born 1961-03-04"

    def explode(*_args: object, **_options: object) -> None:
        raise ValueError(data)

    monkeypatch.setattr(workers, "harmonize_and_gate", explode)
    answer = prepare_center(settings, "boston", RUN_ID, None, load_quality_config(), logging.INFO)
    assert isinstance(answer.error, ValueError)
    assert "explode" in answer.frames and "prepare_center" in answer.frames
    assert "0042" not in answer.frames and "1961" not in answer.frames


def test_the_workers_log_records_come_back_formatted(settings: Settings, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_consortium(landing, n_patients=20, seed=4)
    export = landing / "boston" / "spine_mets_registry.csv"
    lines = export.read_text(encoding="utf-8").splitlines()
    export.write_text(
        "\n".join([lines[0] + ",ward"] + [line + ",B2" for line in lines[1:]]) + "\n", "utf-8"
    )
    extra = Settings(landing=landing, centers_dir=settings.centers_dir, data=str(tmp_path / "d"))
    answer = prepare_center(extra, "boston", RUN_ID, None, load_quality_config(), logging.INFO)
    messages = [record.getMessage() for record in answer.records]
    assert any("ward" in message and "boston" in message for message in messages), messages
    assert all(record.args is None for record in answer.records)
    logger = logging.getLogger(workers.LOGGER)
    assert not any(isinstance(handler, workers._Collect) for handler in logger.handlers)
    assert logger.propagate  # this process's own logging is as it was


KEEP_POOL = textwrap.dedent(
    """
    import sys, time
    from spinemet_etl.workers import worker_pool

    if __name__ == "__main__":
        pool = worker_pool(2)
        for future in [pool.submit(time.sleep, 0.5) for _ in range(2)]:
            future.result()
        print(" ".join(str(pid) for pid in pool._processes), flush=True)
        time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in "ZX"


@pytest.mark.slow
def test_a_killed_run_leaves_no_worker_behind(tmp_path: Path) -> None:
    script = tmp_path / "keep_pool.py"
    script.write_text(KEEP_POOL, encoding="utf-8")
    run = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    pids = [int(pid) for pid in run.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.slow
@pytest.mark.parametrize("background", [False, True], ids=["waiting", "while-reporting"])
def test_shutting_down_frees_the_workers_and_their_fork_server(background: bool) -> None:
    import multiprocessing.forkserver

    pool = worker_pool(2)
    for future in [pool.submit(time.sleep, 0.2) for _ in range(2)]:
        future.result()
    pids = [*pool._processes, multiprocessing.forkserver._forkserver._forkserver_pid]
    assert all(pid is not None and _alive(pid) for pid in pids)
    if background:
        with workers.stopping_workers():
            pass  # the run's report: nothing outlives the block
    else:
        workers.shutdown_workers()
    assert not any(_alive(pid) for pid in pids if pid is not None)
    assert worker_pool(2).submit(sum, [1, 2]).result() == 3  # a later run starts them again


def test_workers_return_memory_at_once_only_for_large_exports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MIMALLOC_PURGE_DELAY", raising=False)
    workers.plan_worker_memory([workers.EAGER_RETURN_BYTES - 1, 10])
    assert "MIMALLOC_PURGE_DELAY" not in os.environ
    workers.plan_worker_memory([10, workers.EAGER_RETURN_BYTES])
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "0"
    monkeypatch.setenv("MIMALLOC_PURGE_DELAY", "250")  # the user's own value wins
    workers.plan_worker_memory([workers.EAGER_RETURN_BYTES])
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "250"


def test_a_verdict_reaches_the_run_without_importing_great_expectations(
    settings: Settings,
) -> None:
    answer = prepare_center(settings, "boston", RUN_ID, None, load_quality_config(), logging.INFO)
    assert answer.verdict is not None
    unpickle = (
        "import pickle, sys; answer = pickle.loads(sys.stdin.buffer.read()); "
        "print(answer.verdict.passed, 'great_expectations' in sys.modules)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", unpickle], input=pickle.dumps(answer), capture_output=True,
        check=True,
    ).stdout.split()  # fmt: skip
    assert shown == [str(answer.verdict.passed).encode(), b"False"]
    assert answer.verdict.gx_validation().suite_name == "patients.boston"  # for the Data Docs


def test_a_center_its_worker_cannot_stage_fails_and_nothing_is_published(
    settings: Settings, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "_staging").mkdir(parents=True)
    (data / "_staging" / RUN_ID).write_text("not a folder", encoding="utf-8")  # blocks staging
    here = Settings(landing=settings.landing, centers_dir=settings.centers_dir, data=str(data))
    quality = load_quality_config()

    def in_worker(*args: Any) -> Any:
        answer = prepare_center(*args, quality, logging.INFO)
        assert answer.error is None
        return answer.prepared

    outcome = process_center_safely(here, "boston", RUN_ID, prepare=in_worker)
    assert outcome.status == "failed" and outcome.error is not None
    assert outcome.error["code"] == "publish-failed"
    assert "boston" in outcome.error["message"]
    assert not partition_file(data, "patients", "boston").exists()


@pytest.mark.slow
def test_a_worker_counts_the_staged_centers_statistics_for_the_report(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from spinemet_etl.federated.cache import center_entry, compute_entry
    from spinemet_etl.federated.folder import summary_document
    from spinemet_etl.publish import commit_center

    landing = tmp_path / "landing"
    write_consortium(landing, n_patients=60, seed=11)
    settings = Settings(landing=landing, centers_dir=demo_centers_dir(), data=str(tmp_path / "d"))
    quality = load_quality_config()
    answer = (
        worker_pool(2)
        .submit(prepare_center, settings, "boston", RUN_ID, None, quality, logging.INFO)
        .result()
    )
    assert answer.error is None and answer.prepared is not None
    assert answer.prepared.staged is not None
    commit_center(answer.prepared.staged, settings.data_path, RUN_ID, "boston")
    entry, cached = center_entry(settings.data_path, "boston", pain_mcid=2.0, time_unit="day")
    assert cached  # the report reads no row of boston
    from_rows = compute_entry(settings.data_path, "boston", pain_mcid=2.0, time_unit="day")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert summary_document(entry.summary, when) == summary_document(from_rows.summary, when)
    assert entry.pairs.equals(from_rows.pairs)


def test_a_worker_hands_back_freed_memory_between_its_steps(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weakref

    from spinemet_etl import pipeline
    from spinemet_etl.quality import gate

    steps: list[str] = []
    staged_frames: list[weakref.ref[Any]] = []
    stage, run_gate = pipeline.stage_center, gate.run_quality_gate
    count = workers.cache_staged_partition

    def staging(result: Any, *args: Any) -> Any:
        steps.append("stage")
        staged_frames.extend([weakref.ref(result.patients), weakref.ref(result.quarantine)])
        return stage(result, *args)

    def statistics(*args: Any, **options: Any) -> Any:
        steps.append("statistics")
        assert all(frame() is None for frame in staged_frames)  # the tables are gone
        return count(*args, **options)

    monkeypatch.setattr(workers, "return_freed_memory", lambda: steps.append("trim"))
    monkeypatch.setattr(gate, "run_quality_gate", lambda *a: steps.append("gate") or run_gate(*a))
    monkeypatch.setattr(pipeline, "stage_center", staging)
    monkeypatch.setattr(workers, "cache_staged_partition", statistics)
    here = Settings(landing=settings.landing, centers_dir=settings.centers_dir, data=str(tmp_path))
    answer = prepare_center(here, "boston", RUN_ID, None, load_quality_config(), logging.INFO)
    assert answer.error is None and answer.prepared is not None and answer.prepared.staged
    assert steps == ["trim", "gate", "trim", "stage", "trim", "statistics", "trim"]


@pytest.mark.slow
def test_a_worker_parses_csv_on_its_own_thread_and_this_process_keeps_pyarrows() -> None:
    from spinemet_etl.readers.arrow_csv import parse_threads

    assert worker_pool(2).submit(parse_threads).result() is False
    assert parse_threads()


@pytest.mark.slow
def test_the_workers_start_with_the_fork_servers_imports_frozen() -> None:
    import gc

    assert workers.PRELOAD[-1] == "spinemet_etl.forkserver_freeze"  # after every import
    frozen = worker_pool(2).submit(gc.get_freeze_count).result()
    assert frozen > 0  # the fork server is a new interpreter: nothing came frozen from here
