"""The backfill flow: re-process named centers regardless of change detection."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.nightly import run_centers
from flows.runtime import settings_from_parameters, with_key
from spinemet_etl.errors import ConfigError
from spinemet_etl.pipeline import Process


@flow(name="spinemet-backfill")
def backfill(
    centers: list[str],
    landing: str | None = None,
    centers_dir: str | None = None,
    data: str | None = None,
    export_file: str | None = None,
    quality_config: str | None = None,
    process: Process | None = None,
    timeout_seconds: float | None = None,
) -> dict[str, Any]:
    """Re-process `centers` from their landing folders, replacing their partitions.

    With `export_file` (relative to the center's landing folder) only that file is read.
    The quality gate still applies. `timeout_seconds` stops the run gracefully when it
    runs longer (SPINEMET_TIMEOUT). Returns the run manifest.
    """
    if not centers:
        raise ConfigError("backfill needs at least one center; pass --center ID.")
    parameters = {
        "landing": landing, "centers_dir": centers_dir, "data": data, "centers": centers,
        "quality_config": quality_config, "timeout_seconds": timeout_seconds,
    }  # fmt: skip
    settings = with_key(settings_from_parameters(**parameters))
    return run_centers(settings, force=True, only_file=export_file, process=process)
