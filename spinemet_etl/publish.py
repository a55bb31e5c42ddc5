"""Publishing a center's partitions atomically: stage, fsync, then one rename per table."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from spinemet_etl.dataset import PART_NAME, partition_dir, table_schema, write_parquet
from spinemet_etl.errors import disk_full_as_error
from spinemet_etl.results import CenterResult

STAGING = "_staging"
"""`<data>/_staging/`: every temporary file of a run, outside the dataset roots."""

PUBLISH_ORDER = ("quarantine", "patients")
"""Quarantine first, patients last: replacing `patients` is the publish's commit point."""
DATA_STAY = "its last published data stay"
PATIENTS_STAY = "its last published patients stay and the next run publishes it again"


def staging_root(data_root: Path) -> Path:
    return data_root / STAGING


def fsync_dir(path: Path) -> None:
    """Make a rename or creation inside `path` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_bytes_atomically(
    path: Path, data: bytes, staging: Path, *, consequence: str | None = None
) -> None:
    """Replace `path` with `data` in one rename: readers see the old file or the new one.

    The temporary file is written in `staging`, which must be on `path`'s filesystem
    (`<data>/_staging/` for files of the data root). On any failure it is removed; a full
    disk raises `DiskFullError` naming `path` (with `consequence`, what that leaves).
    """
    temporary = staging / f"{path.name}.{uuid.uuid4().hex}.tmp"
    with disk_full_as_error(path, consequence=consequence):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            staging.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as sink:
                sink.write(data)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        fsync_dir(path.parent)


def _center_staging(data_root: Path, run_id: str, center_id: str) -> Path:
    return staging_root(data_root) / run_id / center_id


def stage_center(result: CenterResult, data_root: Path, run_id: str) -> dict[str, Path]:
    """Write both tables under `<data>/_staging/<run_id>/<center>/<table>/`, fsynced.

    The patients file carries the center's data cut-off as key-value metadata
    (`spinemet.data_cutoff` and its source, `spinemet.data_cutoff_source`).

    Returns each table's staged partition folder (named `center_id=<id>` like its target).
    On any failure the center's staging folder is removed; a full disk raises
    `DiskFullError` naming the file being written.
    """
    staged: dict[str, Path] = {}
    try:
        for table in PUBLISH_ORDER:
            frame = result.patients if table == "patients" else result.quarantine
            target = partition_dir(data_root, table, result.center_id)
            folder = _center_staging(data_root, run_id, result.center_id) / table / target.name
            with disk_full_as_error(
                folder / PART_NAME, center=result.center_id, consequence=DATA_STAY
            ):
                metadata = result.data_cutoff_metadata() if table == "patients" else None
                write_parquet(frame, table_schema(table), folder / PART_NAME, run_id, metadata)
                fsync_dir(folder)
            staged[table] = folder
    except BaseException:
        shutil.rmtree(_center_staging(data_root, run_id, result.center_id), ignore_errors=True)
        raise
    return staged


def swap_partition(staged_folder: Path, target_folder: Path) -> None:
    """Put the staged partition in place without an instant where none is visible.

    An existing partition gets its one file replaced by `os.replace` (atomic on POSIX);
    a first publish renames the whole staged folder into place, so no reader ever sees
    an empty partition folder.
    """
    target_folder.parent.mkdir(parents=True, exist_ok=True)
    if target_folder.is_dir():
        os.replace(staged_folder / PART_NAME, target_folder / PART_NAME)
        fsync_dir(target_folder)
    else:
        os.rename(staged_folder, target_folder)
        fsync_dir(target_folder.parent)


def publish_center(result: CenterResult, data_root: Path, run_id: str) -> None:
    """Replace the center's `patients` and `quarantine` partitions with `result`.

    Each table is replaced atomically: a reader sees its previous complete file or the new
    complete one, also when the process is killed at any point (the staged files are then
    removed by the next run's `cleanup_staging`). The two tables are two renames:
    quarantine first, then patients. Between them a reader may see the new quarantine
    beside the previous patients; both carry their run id (column `run_id` and file
    metadata `spinemet.run_id`) to tell. The patients rename is the commit point: if the
    process dies before it, the published patients stay the previous run's, and so does
    the center's state, so the next run processes the center again.
    """
    commit_center(stage_center(result, data_root, run_id), data_root, run_id, result.center_id)


def commit_center(staged: dict[str, Path], data_root: Path, run_id: str, center_id: str) -> None:
    """Put a center's staged partitions (stage_center) in place, quarantine then patients.

    The center's staging folder is removed afterwards, also when a rename failed; a full
    disk raises `DiskFullError` naming the partition being replaced.
    """
    try:
        for table in PUBLISH_ORDER:
            target = partition_dir(data_root, table, center_id)
            with disk_full_as_error(target, center=center_id, consequence=PATIENTS_STAY):
                swap_partition(staged[table], target)
    finally:
        shutil.rmtree(_center_staging(data_root, run_id, center_id), ignore_errors=True)


def cleanup_staging(data_root: Path) -> None:
    """Remove what killed runs left in `<data>/_staging/`; call it holding the data-root lock."""
    shutil.rmtree(staging_root(data_root), ignore_errors=True)
