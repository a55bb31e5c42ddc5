"""Whether the report on disk is that of the current data and settings (so a no-op run keeps it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.contract import PACKAGE_VERSION
from spinemet_etl.publish import staging_root, write_bytes_atomically
from spinemet_etl.report.cache import partition_stamp

REPORT_FILES = (Path("reports") / "report.html", Path("reports") / "endpoints.parquet")
REPORT_STAMP = Path("reports") / ".report-inputs.json"
"""What the report on disk was computed from; written after each report, read by no-op runs."""


def report_inputs(data_root: Path, *, pain_mcid: float, suppress_below: int) -> dict[str, Any]:
    """What the report depends on: the patient partitions (name, size, mtime) and its settings.

    A partition is replaced by a rename, so a new publish changes its size or mtime.
    """
    return {
        "package_version": PACKAGE_VERSION,
        "pain_mcid": pain_mcid,
        "suppress_below": suppress_below,
        "partitions": partition_stamp(data_root),
    }


def write_report_stamp(
    data_root: Path, run_id: str, inputs: dict[str, Any], manifest: dict[str, Any] | None
) -> None:
    """Record the inputs of the report just written, and whether its run needed attention."""
    stamp = {
        "run_id": run_id,
        "needs_attention": manifest is not None and manifest.get("status") != "ok",
        "inputs": inputs,
    }
    text = json.dumps(stamp, indent=2) + "\n"
    write_bytes_atomically(data_root / REPORT_STAMP, text.encode("utf-8"), staging_root(data_root))


def current_report(data_root: Path, inputs: dict[str, Any]) -> str | None:
    """The run id of the report on disk when it is current for `inputs`, else None.

    Notes:
        Current means: both report files exist, they were computed from the same patient
        partitions with the same settings and package version, and the run they report
        on needed no attention (a page that marks held or failed centers is rewritten,
        so that the mark goes once the center is fine again).
    """
    if not all((data_root / name).is_file() for name in REPORT_FILES):
        return None
    try:
        stamp = json.loads((data_root / REPORT_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("needs_attention") is not False:
        return None
    if stamp.get("inputs") != inputs:
        return None
    return str(stamp.get("run_id"))
