"""The report flow: recompute endpoints.parquet and report.html from the published data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger

from flows.apiwatch import data_work_done
from flows.artifacts import publish_artifacts
from flows.runtime import settings_from_parameters
from flows.tasks import unless_disk_full, write_report
from spinemet_etl.lock import data_root_lock
from spinemet_etl.manifest import latest_manifest, new_run_id


@flow(name="spinemet-report")
def report(
    data: str | None = None, pain_mcid: float | None = None, suppress_below: int | None = None
) -> str:
    """Recompute the report from `<data>/harmonized`; returns the path of report.html.

    The summary artifact repeats the newest run manifest, when there is one.
    """
    settings = settings_from_parameters(
        data=data, pain_mcid=pain_mcid, suppress_below=suppress_below
    )
    run_id = new_run_id(datetime.now(UTC))
    with data_root_lock(settings.data_path):
        endpoints = unless_disk_full(write_report(settings, run_id, None))
    data_work_done()
    manifest = latest_manifest(settings.data_path)
    if manifest is not None:
        publish_artifacts(manifest, endpoints, settings.suppress_below)
    html = Path(settings.data_path) / "reports" / "report.html"
    get_run_logger().info("report %s written to %s", run_id, html)
    return str(html)
