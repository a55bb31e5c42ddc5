"""The run manifest `<data>/_runs/<run_id>.json`: what a run did to each center, and why."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.codes import SCHEMA_VERSION
from schemas.contract import PACKAGE_VERSION
from spinemet_etl.dataset import table_schema, write_parquet
from spinemet_etl.publish import staging_root, write_bytes_atomically
from spinemet_etl.results import CenterResult
from spinemet_etl.settings import Settings

logger = logging.getLogger(__name__)

RUNS = "_runs"
CENTER_STATUSES = ("published", "unchanged", "held", "failed")
GOOD_STATUSES = frozenset({"published", "unchanged"})


def _utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def new_run_id(now: datetime) -> str:
    """A run id like `20261126T020000Z-3f2a`: the UTC start second and 4 random hex digits.

    Run ids sort by start time; the suffix tells apart runs started in the same second.
    """
    return f"{_utc(now):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def run_status(centers: Mapping[str, Mapping[str, Any]]) -> str:
    """`ok` when every center is published or unchanged, else `needs_attention`."""
    good = all(entry["status"] in GOOD_STATUSES for entry in centers.values())
    return "ok" if good else "needs_attention"


def build_manifest(
    settings: Settings,
    *,
    run_id: str,
    started_at: datetime,
    finished_at: datetime,
    parameters: Mapping[str, Any],
    centers: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """The manifest of layout.md, plus `uses_development_key` (true when no key was set)."""
    for center_id, entry in centers.items():
        if entry["status"] not in CENTER_STATUSES:
            raise ValueError(f"center {center_id!r} has unknown status {entry['status']!r}")
    return {
        "run_id": run_id,
        "started_at": _utc(started_at).isoformat(timespec="seconds"),
        "finished_at": _utc(finished_at).isoformat(timespec="seconds"),
        "status": run_status(centers),
        "schema_version": SCHEMA_VERSION,
        "package_version": PACKAGE_VERSION,
        "key_fingerprint": settings.key_fingerprint,
        "uses_development_key": settings.uses_development_key,
        "parameters": dict(parameters),
        "centers": {center_id: dict(entry) for center_id, entry in sorted(centers.items())},
    }


def manifest_path(data_root: Path, run_id: str) -> Path:
    return data_root / RUNS / f"{run_id}.json"


def write_manifest(manifest: Mapping[str, Any], data_root: Path) -> Path:
    """Write `_runs/<run_id>.json` atomically (a reader never sees half a manifest)."""
    path = manifest_path(data_root, str(manifest["run_id"]))
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    then = "the centers' new data are published and the next run writes its own manifest"
    write_bytes_atomically(path, text.encode("utf-8"), staging_root(data_root), consequence=then)
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def latest_manifest(data_root: Path) -> dict[str, Any] | None:
    """The manifest of the most recently started run, or None before the first run.

    Run ids start with the start time to the second, so the file name orders runs; runs
    started in the same second are ordered by when their manifest was written.
    """
    runs = data_root / RUNS
    paths = sorted(
        runs.glob("*.json") if runs.is_dir() else [],
        key=lambda path: (path.name[:16], path.stat().st_mtime_ns),
    )
    return read_manifest(paths[-1]) if paths else None


def held_quarantine_file(data_root: Path, run_id: str, center_id: str) -> Path:
    """`<data>/_runs/<run_id>/held/<center>/quarantine.parquet`: a held attempt's quarantine."""
    return data_root / RUNS / run_id / "held" / center_id / "quarantine.parquet"


def write_held_quarantine(result: CenterResult, data_root: Path, run_id: str) -> dict[str, str]:
    """Write a held center's quarantine under the run (never in the dataset); its path.

    Returns {"held_quarantine": path} for the manifest, or nothing when it cannot be
    written (the center stays held; the log says why).
    """
    path = held_quarantine_file(data_root, run_id, result.center_id)
    try:
        write_parquet(result.quarantine, table_schema("quarantine"), path, run_id)
    except OSError as exc:
        logger.warning("center %s: held quarantine not written (%s)", result.center_id,
                       exc.strerror or type(exc).__name__)  # fmt: skip
        return {}
    return {"held_quarantine": str(path)}
