"""Prefect tasks around spinemet_etl's functions: one center, the Data Docs, the report."""

from __future__ import annotations

import builtins
import logging
import time
from pathlib import Path
from typing import Any, TypeVar

from prefect import Task, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.runtime import task_run as current_task_run
from prefect.states import State

from flows.report_state import report_inputs, write_report_stamp
from flows.runtime import log_center, worker_processes
from spinemet_etl.errors import DiskFullError, SpinemetError
from spinemet_etl.pipeline import CenterOutcome, Prepare, Process, process_center_safely
from spinemet_etl.quality.config import QualityConfig
from spinemet_etl.quality.gate import GateResult, run_quality_gate
from spinemet_etl.results import CenterResult
from spinemet_etl.settings import Settings
from spinemet_etl.workers import LOGGER as WORKER_LOGGER
from spinemet_etl.workers import prepare_center, worker_pool

CENTER_RETRIES = 2
T = TypeVar("T")


class CenterIOError(OSError):
    """A center failed on an I/O error (disk, network share): worth another try."""


def _is_io_failure(outcome: CenterOutcome) -> bool:
    """The center failed on an OSError (the manifest records the exception's type name)."""
    if outcome.status != "failed" or outcome.error is None:
        return False
    kind = getattr(builtins, str(outcome.error.get("type")), None)
    return isinstance(kind, type) and issubclass(kind, OSError)


def retry_on_io_error(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a task only when it failed on an OSError, never on a data error."""
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


def _log_gate(center_id: str, verdict: GateResult, elapsed: float) -> None:
    failed = ", ".join(c["name"] for c in verdict.failed_checks) or "none"
    verdict_word = "passed" if verdict.passed else "FAILED"
    log_center(center_id, "gate", "%s in %.2f s (failed checks: %s)", verdict_word, elapsed, failed)


def _gate_logged(center_id: str, quality: QualityConfig, verdicts: list[GateResult]) -> Any:
    """The gate as the pipeline calls it, logging its verdict and keeping it for the Data Docs."""

    def gate(result: CenterResult, previous: Any) -> GateResult:
        started = time.perf_counter()
        verdict = run_quality_gate(result, previous, quality)
        _log_gate(center_id, verdict, time.perf_counter() - started)
        verdicts.append(verdict)
        return verdict

    return gate


def _in_worker(quality: QualityConfig, workers: int, verdicts: list[GateResult]) -> Prepare:
    """Harmonize and gate in a worker process; its log records, verdict and errors come back."""

    def prepare(settings: Settings, center_id: str, run_id: str, only_file: str | None) -> Any:
        level = logging.getLogger(WORKER_LOGGER).getEffectiveLevel()
        job = worker_pool(workers).submit(
            prepare_center, settings, center_id, run_id, only_file, quality, level
        )
        answer = job.result()
        for record in answer.records:
            logging.getLogger(record.name).handle(record)
        if answer.verdict is not None:
            _log_gate(center_id, answer.verdict, answer.gate_seconds)
            verdicts.append(answer.verdict)
        if answer.error is not None:
            if not isinstance(answer.error, SpinemetError):
                get_run_logger().error("center %s, in its worker:\n%s", center_id, answer.frames)
            raise answer.error
        return answer.prepared

    return prepare


@task(
    name="process-center",
    task_run_name="process-{center_id}",
    retries=CENTER_RETRIES,
    retry_delay_seconds=1,
    retry_condition_fn=retry_on_io_error,
    cache_policy=NO_CACHE,
)
def process_center(
    settings: Settings,
    center_id: str,
    run_id: str,
    quality: QualityConfig,
    *,
    force: bool = False,
    only_file: str | None = None,
    process: Process | None = None,
) -> tuple[CenterOutcome, GateResult | None]:
    """Read, harmonize, gate and publish one center; its outcome and the gate's verdict.

    Harmonizing and gating run in a worker process (`flows.runtime.worker_processes`),
    unless `process` replaces the harmonizer; publishing runs here.
    """
    scope = f" (forced{', only ' + only_file if only_file else ''})" if force else ""
    log_center(center_id, "read", "reading exports%s", scope)
    verdicts: list[GateResult] = []
    workers = worker_processes(settings)
    prepare = _in_worker(quality, workers, verdicts) if workers and process is None else None
    outcome = process_center_safely(
        settings, center_id, run_id, force=force, only_file=only_file,
        gate=_gate_logged(center_id, quality, verdicts), process=process, prepare=prepare,
    )  # fmt: skip
    if _is_io_failure(outcome) and current_task_run.run_count <= CENTER_RETRIES:
        log_center(center_id, "retry", "I/O error, trying again")
        raise CenterIOError(f"center `{center_id}`: I/O error; retrying.")
    log_center(center_id, "publish", "%s; %d rows harmonized, %d quarantined",
               outcome.status, outcome.rows_harmonized, outcome.rows_quarantined)  # fmt: skip
    return outcome, verdicts[-1] if verdicts else None


def unless_disk_full(value: T | DiskFullError) -> T:
    """A task's value, or the DiskFullError it returned, raised here in the flow.

    Notes:
        The writing tasks return a full disk instead of raising it: a task that raises
        logs its failure at ERROR, which would print a second line beside the command's
        one sentence.
    """
    if isinstance(value, DiskFullError):
        raise value
    return value


@task(name="data-docs", cache_policy=NO_CACHE)
def write_data_docs(
    data_root: Path, verdicts: list[GateResult], run_id: str, workers: int = 0, keep: int = 0
) -> Path | DiskFullError:
    """Add the run's gate validations to the GX Data Docs site and rebuild it, keeping
    each center's `keep` newest validations (0: all).

    With `workers`, built in a worker process, which has Great Expectations imported.
    """
    from spinemet_etl.quality.docs import build_data_docs

    try:
        if workers:
            job = worker_pool(workers).submit(
                build_data_docs, data_root, verdicts, run_id=run_id, keep=keep
            )
            return job.result()
        return build_data_docs(data_root, verdicts, run_id=run_id, keep=keep)
    except DiskFullError as error:
        return error


@task(name="report", cache_policy=NO_CACHE)
def write_report(
    settings: Settings,
    run_id: str,
    manifest: dict[str, Any] | None,
    *,
    reuse_endpoints: bool = False,
) -> Path | DiskFullError:
    """Write report.html (and endpoints.parquet unless reused); returns the table's path.

    Without `manifest` the page's data-quality part is that of the newest run manifest.
    Afterwards records what the report was computed from (`flows.report_state`). A full
    disk is returned (`unless_disk_full`).
    """
    from spinemet_etl.manifest import latest_manifest
    from spinemet_etl.report import build_report

    data_root = settings.data_path
    inputs = report_inputs(
        data_root, pain_mcid=settings.pain_mcid, suppress_below=settings.suppress_below
    )
    manifest = manifest if manifest is not None else latest_manifest(data_root)
    try:
        paths = build_report(
            data_root, run_id=run_id, pain_mcid=settings.pain_mcid,
            suppress_below=settings.suppress_below, manifest=manifest,
            reuse_endpoints=reuse_endpoints,
        )  # fmt: skip
        write_report_stamp(data_root, run_id, inputs, manifest)
    except DiskFullError as error:
        return error
    return paths.endpoints
