"""Centers harmonized and gated in worker processes, so that they use every core.

Threads do not: harmonizing is mostly Python holding the GIL; on two cores, 25 centers
took 26.9 s on two threads and 16.4 s on two processes (docs/performance.md). A worker
harmonizes a center, runs its quality gate and, when it passed, writes its partitions to
the run's staging folder (`<data>/_staging/<run_id>/`); the run's own process puts them
in place, under the run's lock, so that no table travels back between processes.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import select
import signal
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from spinemet_etl.dataset import PART_NAME
from spinemet_etl.federated.cache import cache_staged_partition, return_freed_memory
from spinemet_etl.pipeline import Prepared, harmonize_and_gate
from spinemet_etl.quality.config import QualityConfig
from spinemet_etl.readers.arrow_csv import parse_on_calling_thread
from spinemet_etl.results import CenterResult
from spinemet_etl.settings import Settings
from spinemet_etl.stop import on_stop

PRELOAD = (
    "spinemet_etl.forkserver_watch",
    "spinemet_etl.harmonize",
    "spinemet_etl.quality.gate",
    "spinemet_etl.federated.cache",
    "great_expectations",
    "great_expectations.expectations",
    "spinemet_etl.forkserver_freeze",
)
"""Imported once by the fork server, so that every worker starts with them (GX: ~6 s);
the first makes the fork server end with the run, even while it imports the others; the
last freezes what they made, so that the workers share it (forkserver_freeze)."""
RUN_PID_ENV = "SPINEMET_RUN_PID"
"""The run's process id, for the fork server's watch (`forkserver_watch`, which reads it)."""
LOGGER = "spinemet_etl"
log = logging.getLogger(__name__)
WATCH_SECONDS = 0.5
ALLOCATOR_ENV = {"MIMALLOC_PURGE_DELAY": "0"}
"""Makes the workers' pyarrow allocator (mimalloc) return freed pages to the system at once."""
EAGER_RETURN_BYTES = 64 * 2**20
"""A center's landing folder from which the workers return memory at once (ALLOCATOR_ENV)."""


def plan_worker_memory(landing_sizes: Iterable[int]) -> None:
    """Before the workers start: when some center's exports are large, have them return
    freed memory at once.

    Notes:
        Measured on a 1.1M-row REDCap export (105 MB): reading it peaks at 0.64 GB
        instead of 0.83 GB, and the worker falls back to 0.4 GB after the center instead
        of holding 0.9 GB into the next one; harmonizing costs 10-20 % more CPU (pages
        are handed back and faulted in again), so below EAGER_RETURN_BYTES, where two
        workers hold little anyway, it is not done (docs/performance.md). The setting is
        read when pyarrow loads, so it goes into the environment the fork server starts
        with; a value the user set wins, and a fork server already running keeps its own.
    """
    if max(landing_sizes, default=0) >= EAGER_RETURN_BYTES:
        for name, value in ALLOCATOR_ENV.items():
            os.environ.setdefault(name, value)


@dataclass
class WorkerAnswer:
    """What a worker sends back: the prepared center, or the error it raised; its log."""

    prepared: Prepared | None
    verdict: Any = None
    gate_seconds: float = 0.0
    error: BaseException | None = None
    frames: str = ""
    records: list[logging.LogRecord] = field(default_factory=list)


class _Collect(logging.Handler):
    """Keeps the worker's log records, message formatted, to be handled in the run's process."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


@contextlib.contextmanager
def _collected(level: int) -> Iterator[_Collect]:
    logger = logging.getLogger(LOGGER)
    handler, saved = _Collect(), (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # the run's process handles the records, once
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def prepare_center(
    settings: Settings,
    center_id: str,
    run_id: str,
    only_file: str | None,
    quality: QualityConfig,
    log_level: int,
) -> WorkerAnswer:
    """In a worker: harmonize one center and gate it against its last partition.

    An exception is returned, not raised, with its frames (never its message, which may
    hold data) so that the run can log where it happened.

    Notes:
        Freed memory is handed back to the system (return_freed_memory) after each step
        that frees much: the harmonizer's frames before the gate, the gate's before
        staging, the center's tables before its statistics are counted, and these before
        the worker's next center. Pages that glibc keeps in its heap serve none of the
        next step's Arrow buffers (pyarrow has its own allocator), so without this each
        step's peak sits on top of the last's leftovers: at 5M, Boston (197 752 rows)
        peaked at 620 MB instead of 517 MB while staging, and the second of three
        Barcelona clones in one worker at 799 MB instead of 736 MB.
    """
    from spinemet_etl.quality.gate import run_quality_gate

    answer = WorkerAnswer(None)

    def gate(result: CenterResult, previous: Any) -> Any:
        return_freed_memory()
        started = time.perf_counter()
        answer.verdict = run_quality_gate(result, previous, quality).packed()
        answer.gate_seconds = time.perf_counter() - started
        return_freed_memory()
        return answer.verdict

    with _collected(log_level) as collected:
        try:
            answer.prepared = harmonize_and_gate(
                settings, center_id, run_id, only_file, gate, stage=True
            )
        except Exception as exc:
            answer.error = exc
            answer.frames = "".join(traceback.format_tb(exc.__traceback__))
        else:
            return_freed_memory()
            _cache_statistics(settings, center_id, answer.prepared)
        return_freed_memory()
    answer.records = collected.records
    return answer


def _cache_statistics(settings: Settings, center_id: str, prepared: Prepared) -> None:
    """The staged center's endpoint statistics, counted here for the report (its cache).

    A failure costs only time: the report counts the center from its rows, and raises
    there if the partition cannot be read.
    """
    if prepared.staged is None:
        return
    partition = prepared.staged["patients"] / PART_NAME
    try:
        cache_staged_partition(
            settings.data_path, center_id, partition, pain_mcid=settings.pain_mcid
        )
    except Exception as exc:
        log.warning(
            "center %s: endpoint statistics not cached in the worker (%s); the report counts "
            "them from the published rows",
            center_id,
            type(exc).__name__,
        )


def _start_worker(run_pid: int) -> None:
    """Worker initializer: CSV parsed on the worker's own thread; the worker ends with the run."""
    parse_on_calling_thread()
    _die_with_run(run_pid)


def _die_with_run(run_pid: int) -> None:
    """End this worker as soon as the run's process `run_pid` ends (_start_worker).

    Notes:
        A killed run must leave nothing behind that still works on its data. The
        workers' parent is the fork server, not the run, and the two keep each other
        alive; so each worker watches the run itself (a pidfd on Linux, else a poll).
    """
    threading.Thread(target=_watch, args=(run_pid,), name="watch-run", daemon=True).start()


def _watch(run_pid: int) -> None:
    try:
        handle = os.pidfd_open(run_pid)
    except (AttributeError, OSError):
        while _exists(run_pid):
            time.sleep(WATCH_SECONDS)
    else:
        select.select([handle], [], [])
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ready() -> None:
    return None


_POOLS: dict[int, ProcessPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """This process's pool of `workers` processes, started on first use.

    Notes:
        Workers are forked from a fork server that has imported PRELOAD once (forking
        the run's own process, which has threads, is unsafe; spawning each worker
        would import everything once per worker).
    """
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None or getattr(pool, "_broken", False):
            os.environ[RUN_PID_ENV] = str(os.getpid())  # the fork server watches it
            _start_quiet_resource_tracker()
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(list(PRELOAD))
            pool = ProcessPoolExecutor(
                workers, context, initializer=_start_worker, initargs=(os.getpid(),)
            )
            _POOLS[workers] = pool
            on_stop(abandon_workers)
        return pool


def _start_quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker without its warning about leaked semaphores.

    Notes:
        Workers killed by a stop leave their pool's semaphores registered; the tracker
        removes them, as it should, and warns on the terminal ("There appear to be 5
        leaked semaphore objects"), which reads like a failure. The filter is in the
        tracker's environment only.
    """
    from multiprocessing import resource_tracker

    saved = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore:resource_tracker:UserWarning"
    try:
        resource_tracker.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONWARNINGS"]
        else:
            os.environ["PYTHONWARNINGS"] = saved


def abandon_workers() -> None:
    """Kill every worker process at once: a stopped run abandons the centers in flight.

    Notes:
        Called on a stop (`stop.on_stop`), maybe from a signal handler: it takes no lock.
        The pools break, so the centers' tasks get BrokenProcessPool and record the center
        as not done; what a killed worker staged is removed with the run's staging folder.
        `ProcessPoolExecutor._processes` is private (Python 3.14 adds terminate_workers).
    """
    for pool in list(_POOLS.values()):
        for process in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGKILL)


def start_workers(workers: int) -> None:
    """Start the pool's processes now, in the background (their imports take seconds)."""

    def start() -> None:
        pool = worker_pool(workers)
        futures: list[Future[None]] = [pool.submit(_ready) for _ in range(workers)]
        for future in futures:
            with contextlib.suppress(Exception):
                future.result()

    threading.Thread(target=start, name="spinemet-workers", daemon=True).start()


def shutdown_workers() -> None:
    """Stop every pool of this process and their fork server, freeing their memory.

    Notes:
        Called once a run's centers and Data Docs are done, before its report: the idle
        workers and the fork server hold ~0.6 GB (pandas, pyarrow, Great Expectations)
        that the report at 5M patients needs. A later run starts them again.
    """
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
        server = getattr(multiprocessing.forkserver, "_forkserver", None)
        stop = getattr(server, "_stop", None)  # private; absent elsewhere: the server stays
        if pools and callable(stop):
            stop()


@contextlib.contextmanager
def stopping_workers() -> Iterator[None]:
    """Stop the workers (shutdown_workers) in the background while the block runs.

    Notes:
        Idle workers take about a second to end (their interpreters tear down pandas,
        pyarrow and Great Expectations); the run's report need not wait for that, and
        its memory grows over seconds while theirs is gone within about one. The block's
        end waits for them, so nothing outlives the run.
    """
    stopper = threading.Thread(target=shutdown_workers, name="spinemet-workers-stop")
    stopper.start()
    try:
        yield
    finally:
        stopper.join()
