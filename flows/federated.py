"""Federated mode's flows (docs/federated.md): a hospital's center side, the coordinator's pool."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows.nightly import nightly
from flows.runtime import settings_from_parameters
from spinemet_etl.errors import ConfigError
from spinemet_etl.federated.report import pool_report
from spinemet_etl.federated.summarize import summarize
from spinemet_etl.lock import data_root_lock
from spinemet_etl.manifest import new_run_id


@flow(name="spinemet-center", log_prints=False)
def center(
    center: str | None = None,
    outbox: str | None = None,
    landing: str | None = None,
    centers_dir: str | None = None,
    data: str | None = None,
    time_unit: str = "day",
) -> str:
    """At a hospital: ingest and publish its own exports, then summarize into the outbox.

    Returns the summary folder; moving it to the coordinator is the hospital's transport.
    `center` and `outbox` have no default: the hospital sets them on its deployment.
    """
    if center is None or outbox is None:
        raise ConfigError(
            "the spinemet-center flow needs the parameters `center` (this hospital's slug) "
            "and `outbox` (the folder the summary goes to); set them on the deployment"
        )
    manifest = nightly(landing=landing, centers_dir=centers_dir, data=data, centers=[center])
    settings = settings_from_parameters(data=data)
    folder = summarize(settings.data_path, center, Path(outbox), time_unit=time_unit)
    get_run_logger().info(
        "center %s: run %s, summary written to %s", center, manifest["run_id"], folder
    )
    return str(folder)


@flow(name="spinemet-pool", log_prints=False)
def pool(
    summaries: str | None = None, data: str | None = None, max_age_days: int = 45
) -> dict[str, Any]:
    """At the coordinator: pool every center's newest verified summary into the report.

    Returns each center's status (used, stale or failed) and the reason, as summaries.json.
    """
    if summaries is None:
        raise ConfigError(
            "the spinemet-pool flow needs the parameter `summaries` (the folder the centers' "
            "summary folders arrive in); set it on the deployment"
        )
    settings = settings_from_parameters(data=data)
    run_id = new_run_id(datetime.now(UTC))
    settings.data_path.mkdir(parents=True, exist_ok=True)
    with data_root_lock(settings.data_path):
        centers = pool_report(
            Path(summaries), settings.data_path, run_id=run_id, max_age_days=max_age_days,
            suppress_below=settings.suppress_below,
        )  # fmt: skip
    for entry in centers:
        get_run_logger().info("center %s: %s %s", entry.center_id, entry.status, entry.problem)
    return {"run_id": run_id, "centers": [entry.record() for entry in centers]}
