"""The nightly flow: every changed center, concurrently, then the manifest and the report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger

from flows.artifacts import publish_artifacts
from flows.runtime import settings_from_parameters, with_key
from flows.tasks import process_center, write_data_docs, write_report
from spinemet_etl.lock import data_root_lock
from spinemet_etl.manifest import new_run_id
from spinemet_etl.pipeline import Process, discover_centers, finish_run, run_parameters
from spinemet_etl.publish import cleanup_staging
from spinemet_etl.quality.config import load_quality_config
from spinemet_etl.settings import Settings


def _data_docs(settings: Settings, verdicts: list[Any], run_id: str) -> None:
    """Rebuild the Data Docs; a failure here is logged, it does not undo a publication."""
    try:
        write_data_docs(settings.data_path, verdicts, run_id)
    except Exception as exc:
        get_run_logger().warning(
            "Data Docs not rebuilt (%s); the data and the manifest are fine; "
            "see the log above and run again.",
            type(exc).__name__,
        )


def run_centers(
    settings: Settings,
    *,
    force: bool = False,
    only_file: str | None = None,
    process: Process | None = None,
) -> dict[str, Any]:
    """The body of nightly and backfill: lock, process centers concurrently, manifest, report.

    Returns the run manifest, also written to `<data>/_runs/<run_id>.json`.
    """
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    quality = load_quality_config(settings.quality_config)
    with data_root_lock(settings.data_path):
        cleanup_staging(settings.data_path)
        centers = discover_centers(settings)
        get_run_logger().info("run %s: %d center(s): %s", run_id, len(centers), ", ".join(centers))
        futures = [
            process_center.submit(
                settings,
                center_id,
                run_id,
                quality,
                force=force,
                only_file=only_file,
                process=process,
            )
            for center_id in centers
        ]
        results = [future.result() for future in futures]
        parameters = run_parameters(settings, force=force, only_file=only_file)
        outcomes = [outcome for outcome, _ in results]
        manifest = finish_run(settings, run_id, started_at, parameters, outcomes)
        _data_docs(settings, [verdict for _, verdict in results if verdict is not None], run_id)
        endpoints = write_report(settings, run_id, manifest)
    publish_artifacts(manifest, endpoints, settings.suppress_below)
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
) -> dict[str, Any]:
    """Ingest every new or changed export, publish what passes the gate, write the report.

    Parameters left as None come from SPINEMET_* environment variables, then defaults.
    `process` replaces the harmonizer (tests and custom readers; in-process runs only).
    Returns the run manifest.
    """
    parameters = {
        "landing": landing, "centers_dir": centers_dir, "data": data, "centers": centers,
        "full_refresh": full_refresh, "quality_config": quality_config,
        "pain_mcid": pain_mcid, "suppress_below": suppress_below,
    }  # fmt: skip
    settings = with_key(settings_from_parameters(**parameters))
    return run_centers(settings, process=process)
