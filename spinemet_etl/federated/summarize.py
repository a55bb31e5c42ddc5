"""`spinemet summarize`: a center's published partition → its summary folder in the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from spinemet_etl.endpoints.io import REPORT_COLUMNS, read_data_cutoffs, read_patients
from spinemet_etl.endpoints.statistics import Statistics, from_rows
from spinemet_etl.errors import ConfigError
from spinemet_etl.federated.folder import write_summary_folder
from spinemet_etl.federated.summary import split
from spinemet_etl.manifest import latest_manifest, manifest_path, read_manifest

TIME_UNITS = ("day", "week", "month")


def partition_path(data_root: Path, center_id: str) -> Path:
    return Path(data_root) / "harmonized" / "patients" / f"center_id={center_id}" / "part-0.parquet"


def partition_run_id(path: Path) -> str:
    """The run that wrote a partition (its `spinemet.run_id` key-value metadata)."""
    metadata = pq.read_metadata(path).metadata or {}
    return metadata.get(b"spinemet.run_id", b"unknown-run").decode("utf-8")


def run_entry(data_root: Path, run_id: str, center_id: str) -> dict[str, Any]:
    """The center's entry in the manifest of `run_id` (else of the latest run), or {}."""
    path = manifest_path(Path(data_root), run_id)
    manifest = read_manifest(path) if path.is_file() else latest_manifest(Path(data_root))
    entry = ((manifest or {}).get("centers") or {}).get(center_id) or {}
    return {**entry, "run_id": run_id}


def center_statistics(
    data_root: Path, center_ids: list[str], *, time_unit: str = "day", pain_mcid: float = 2.0
) -> tuple[Statistics, dict[str, dict[str, Any]]]:
    """The statistics of the local partitions of `center_ids`, and each one's run entry."""
    patients = read_patients(data_root, columns=REPORT_COLUMNS, centers=center_ids)
    cutoffs = read_data_cutoffs(data_root, center_ids)
    stats = from_rows(
        patients, pain_mcid=pain_mcid, time_unit=time_unit, plain_c=False, data_cutoffs=cutoffs
    )
    entries = {
        center_id: run_entry(
            data_root, partition_run_id(partition_path(data_root, center_id)), center_id
        )
        for center_id in stats.scopes[:-1]
    }
    return stats, entries


def summarize(data_root: Path, center_id: str, outbox: Path, *, time_unit: str = "day") -> Path:
    """Write the summary folder of one center's published partition; return its path."""
    if time_unit not in TIME_UNITS:
        raise ConfigError(f"--time-unit {time_unit!r} is not one of {', '.join(TIME_UNITS)}")
    if not partition_path(data_root, center_id).is_file():
        raise ConfigError(
            f"center {center_id!r} has no published partition under {data_root}/harmonized/"
            "patients; run `spinemet run` for it first, or check --data and --center"
        )
    stats, entries = center_statistics(data_root, [center_id], time_unit=time_unit)
    (summary,) = split(stats, entries)
    return write_summary_folder(summary, outbox)
