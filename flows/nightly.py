"""The nightly flow: every changed center, concurrently, then the manifest and the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows.apiwatch import data_work_done
from flows.artifacts import publish_artifacts
from flows.report_state import current_report, report_inputs
from flows.runtime import CENTER_STEP, settings_from_parameters, with_key, worker_processes
from flows.tasks import process_center, unless_disk_full, write_data_docs, write_report
from spinemet_etl.diskspace import check_free_space
from spinemet_etl.errors import DiskFullError
from spinemet_etl.lock import data_root_lock
from spinemet_etl.manifest import new_run_id
from spinemet_etl.pipeline import (
    CenterOutcome,
    Process,
    discover_centers,
    finish_run,
    landing_sizes,
    run_parameters,
)
from spinemet_etl.publish import cleanup_staging
from spinemet_etl.quality.config import QualityConfig, load_quality_config
from spinemet_etl.settings import Settings
from spinemet_etl.stop import graceful, stop_reason, time_limit
from spinemet_etl.warmup import release_report_imports
from spinemet_etl.workers import plan_worker_memory, shutdown_workers, stopping_workers

DATA_DOCS_INDEX = Path("reports") / "data_docs" / "index.html"


def _data_docs(
    settings: Settings, verdicts: list[Any], run_id: str, keep: int
) -> DiskFullError | None:
    """Rebuild the Data Docs, keeping each center's `keep` newest validations; a failure
    here is logged, it does not undo a publication.

    Skipped when no gate ran in this run and the site exists: there is nothing to add.
    A full disk is returned, for the run to report once its report is written.
    """
    if not verdicts and (settings.data_path / DATA_DOCS_INDEX).is_file():
        return None
    try:
        workers = worker_processes(settings)
        built = write_data_docs(settings.data_path, verdicts, run_id, workers, keep)
    except Exception as exc:
        get_run_logger().warning(
            "Data Docs not rebuilt (%s); the data and the manifest are fine; "
            "see the log above and run again.",
            type(exc).__name__,
        )
        return None
    return built if isinstance(built, DiskFullError) else None


def _endpoints_current(settings: Settings, run_id: str, outcomes: list[CenterOutcome]) -> bool:
    """Whether every center is unchanged and the endpoint table on disk is current.

    Notes:
        Every run writes report.html (the contract), with its own data-quality summary;
        when nothing changed, the endpoint table is read back instead of recomputed and
        the Data Docs (no gate ran) are kept. See docs/operations.md.
    """
    if not outcomes or any(outcome.status != "unchanged" for outcome in outcomes):
        return False
    inputs = report_inputs(
        settings.data_path, pain_mcid=settings.pain_mcid, suppress_below=settings.suppress_below
    )
    reported = current_report(settings.data_path, inputs)
    if reported is None:
        return False
    get_run_logger().info(
        "run %s: every center unchanged; endpoints of run %s reused, Data Docs kept",
        run_id,
        reported,
        extra={CENTER_STEP: "report"},  # shown beside the per-center lines
    )
    return True


def largest_first(sizes: dict[str, int]) -> list[str]:
    """Centers ordered by the size of their landing folder (`landing_sizes`), largest first,
    then by id.

    Notes:
        With a bounded pool the largest center starts at once instead of last, so the
        run does not end with one long center on one worker while the others idle.
    """
    return sorted(sizes, key=lambda center_id: (-sizes[center_id], center_id))


def _process_all(
    settings: Settings, centers: list[str], run_id: str, quality: QualityConfig, **options: Any
) -> tuple[list[CenterOutcome], list[Any]]:
    """Submit every center, largest first; their outcomes in `centers` order, and the verdicts.

    First checks the data root's free space against the centers' landing size. Once at
    most one center per worker is left to finish (the smallest), the report's modules
    are imported meanwhile (spinemet_etl.warmup).
    """
    sizes = landing_sizes(settings, centers)
    warning = check_free_space(settings.data_path, sum(sizes.values()))
    if warning is not None:
        get_run_logger().warning(warning)
    if worker_processes(settings):
        plan_worker_memory(sizes.values())
    ordered = largest_first(sizes)
    futures = {
        center_id: process_center.submit(settings, center_id, run_id, quality, **options)
        for center_id in ordered
    }
    at_once = max(worker_processes(settings), 1)
    for done, center_id in enumerate(ordered):
        if len(ordered) - done <= at_once:
            release_report_imports()
        futures[center_id].wait()
    results = [futures[center_id].result() for center_id in centers]
    return [outcome for outcome, _ in results], [v for _, v in results if v is not None]


def run_centers(
    settings: Settings,
    *,
    force: bool = False,
    only_file: str | None = None,
    process: Process | None = None,
) -> dict[str, Any]:
    """The body of nightly and backfill: lock, process centers concurrently, manifest, report.

    Returns the run manifest, also written to `<data>/_runs/<run_id>.json`. A run asked
    to stop (SIGTERM, SIGINT, `settings.timeout_seconds`: `spinemet_etl.stop`) starts no
    more centers, abandons those in flight, and skips what is left of the Data Docs and
    the report; its manifest says so (`interrupted`).
    """
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    lock = data_root_lock(settings.data_path)
    with time_limit(settings.timeout_seconds), lock, graceful():
        cleanup_staging(settings.data_path)
        centers = discover_centers(settings)
        get_run_logger().info("run %s: %d center(s): %s", run_id, len(centers), ", ".join(centers))
        quality = load_quality_config(settings.quality_config)
        outcomes, verdicts = _process_all(
            settings, centers, run_id, quality, force=force, only_file=only_file, process=process
        )
        parameters = run_parameters(settings, force=force, only_file=only_file)
        manifest = finish_run(settings, run_id, started_at, parameters, outcomes)
        reuse = _endpoints_current(settings, run_id, outcomes)
        keep = quality.data_docs.keep_per_center
        docs_error = None if stop_reason() else _data_docs(settings, verdicts, run_id, keep)
        if stop_reason() is not None:
            shutdown_workers()
            manifest = finish_run(settings, run_id, started_at, parameters, outcomes)
            data_work_done()
            return manifest
        with stopping_workers():
            report = write_report(settings, run_id, manifest, reuse_endpoints=reuse)
        endpoints = unless_disk_full(report)
    data_work_done()
    publish_artifacts(manifest, endpoints, settings.suppress_below)
    if docs_error is not None:
        raise docs_error
    get_run_logger().info("run %s finished: %s", run_id, manifest["status"])
    return manifest


@flow(name="spinemet-nightly", log_prints=False)
def nightly(
    landing: str | None = None,
    centers_dir: str | None = None,
    data: str | None = None,
    centers: list[str] | None = None,
    full_refresh: bool | None = None,
    quality_config: str | None = None,
    pain_mcid: float | None = None,
    suppress_below: int | None = None,
    process: Process | None = None,
    timeout_seconds: float | None = None,
) -> dict[str, Any]:
    """Ingest every new or changed export, publish what passes the gate, write the report.

    Parameters left as None come from SPINEMET_* environment variables, then defaults.
    `process` replaces the harmonizer (tests and custom readers; in-process runs only).
    `timeout_seconds` stops the run gracefully when it runs longer (SPINEMET_TIMEOUT).
    Returns the run manifest.
    """
    parameters = {
        "landing": landing, "centers_dir": centers_dir, "data": data, "centers": centers,
        "full_refresh": full_refresh, "quality_config": quality_config,
        "pain_mcid": pain_mcid, "suppress_below": suppress_below,
        "timeout_seconds": timeout_seconds,
    }  # fmt: skip
    settings = with_key(settings_from_parameters(**parameters))
    return run_centers(settings, process=process)
