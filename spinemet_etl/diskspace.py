"""The free-space check before a run: warn when a full run may not fit, refuse when nothing fits."""

from __future__ import annotations

import shutil
from pathlib import Path

from spinemet_etl.errors import disk_full_error

MB = 1024 * 1024
REPORTS_MARGIN = 16 * MB
"""Room for what a run writes besides partitions: Data Docs (4 MB of GX's static files alone),
report.html and its cache, endpoints.parquet, GX's stores, the manifest (5.5 MB measured on
a fresh data root), with room to spare."""
REFUSE_BELOW = 1 * MB
"""Below this, not even a run that changes nothing fits: its manifest, endpoints.parquet and
report.html with its cache (350 KB measured for six centers) are each written beside the
old file before the rename, so twice that."""


def free_bytes(data_root: Path) -> int:
    """Bytes the pipeline may still write on the data root's filesystem (quota-free ones)."""
    return shutil.disk_usage(data_root).free


def space_needed(landing_bytes: int) -> int:
    """What a run that re-processes every center may write at its peak.

    Notes:
        A center's new partitions are staged beside its old ones until the rename: the
        peak holds one new copy of the published data, measured at 0.18 (20 000
        patients) to 0.95 (1 000 patients, Parquet's fixed overhead) times the landing
        size; the landing size itself bounds it. Plus `REPORTS_MARGIN`.
    """
    return landing_bytes + REPORTS_MARGIN


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def check_free_space(data_root: Path, landing_bytes: int) -> str | None:
    """None when a full run fits; else a warning sentence; below `REFUSE_BELOW`, raise.

    Raises DiskFullError (code `disk-full`) when the data root's filesystem has less than
    `REFUSE_BELOW` free: the run then stops before writing anything.
    """
    free = free_bytes(data_root)
    if free < REFUSE_BELOW:
        then = f"it has {_mb(free)} free, less than the {_mb(REFUSE_BELOW)} any run writes"
        raise disk_full_error(data_root, consequence=f"{then}; the run did not start")
    needed = space_needed(landing_bytes)
    if free >= needed:
        return None
    return (
        f"data root `{data_root}` has {_mb(free)} free, less than the {_mb(needed)} a run "
        f"that re-processes every center may write (the landing's {_mb(landing_bytes)} plus "
        f"{_mb(REPORTS_MARGIN)} for reports and Data Docs): a center or the report may fail "
        "with `disk-full`; free space on that filesystem."
    )
