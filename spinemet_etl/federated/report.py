"""Pool summaries (and local partitions) into the endpoint table, the report and summaries.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schemas.patients import DAYS_PER_MONTH
from spinemet_etl.endpoints.sums import OUTCOMES, UNIT_DAYS
from spinemet_etl.errors import SpinemetError
from spinemet_etl.federated.pool import Center, load_centers, write_summaries_json
from spinemet_etl.federated.summarize import center_statistics
from spinemet_etl.federated.summary import CenterSummary, merge, split
from spinemet_etl.report.figures import (
    MAX_FOREST_CENTERS,
    MAX_KM_CENTERS,
    forest_plot,
    km_by_center,
    km_by_procedure,
    largest_centers,
    os_event_counts,
)
from spinemet_etl.report.render import PageParts

QUALITY_COUNTS = ("rows_read", "rows_harmonized", "rows_quarantined")


def local_centers(data_root: Path) -> list[str]:
    """The centers with a published partition under the data root."""
    folders = (Path(data_root) / "harmonized" / "patients").glob("center_id=*/part-0.parquet")
    return sorted(path.parent.name.split("=", 1)[1] for path in folders)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def manifest_entry(center: Center) -> dict[str, Any]:
    """A center's line in the report's quality section, from its summary's quality record."""
    quality = center.summary.quality if center.summary else {}
    entry: dict[str, Any] = {"status": center.status if center.status != "used" else "published"}
    entry.update({key: _count(quality.get(key)) for key in QUALITY_COUNTS})
    by_check = quality.get("quarantined_by_check")
    if isinstance(by_check, dict):
        entry["top_quarantine_reasons"] = [
            {"check_code": str(code)[:40], "rows": rows}
            for code, rows in by_check.items()
            if _count(rows) is not None
        ]
    if center.problem:
        entry["error"] = {"message": center.problem}
    return entry


def survival_rows(summaries: list[CenterSummary]) -> pd.DataFrame:
    """OS time and event of every patient the risk sets count, for drawing the curves.

    In memory only (the page's Kaplan–Meier figures); nothing of it is written.
    """
    frames = []
    for summary in summaries:
        risk = summary.risk_sets[summary.risk_sets["outcome"] == OUTCOMES[0]]
        for column, event in (("events", True), ("censored", False)):
            repeats = risk[column].to_numpy()
            frames.append(
                pd.DataFrame(
                    {
                        "center_id": summary.center_id,
                        "procedure": np.repeat(risk["procedure"].to_numpy(), repeats),
                        "os_months": np.repeat(risk["time"].to_numpy(), repeats)
                        * UNIT_DAYS[summary.time_unit]
                        / DAYS_PER_MONTH,
                        "os_event": event,
                    }
                )
            )
    columns = ["center_id", "procedure", "os_months", "os_event"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def page_figures(rows: pd.DataFrame, endpoints: pd.DataFrame, k: int) -> PageParts:
    """The page's KM curves and forest plot; no score crosstab (a summary holds no scores)."""
    if rows.empty:
        return PageParts(km_centers="", km_procedure="", forest="", crosstab=None)
    sizes = rows["center_id"].value_counts()
    return PageParts(
        km_centers=km_by_center(rows, largest_centers(sizes, MAX_KM_CENTERS, k), k),
        km_procedure=km_by_procedure(rows, k),
        forest=forest_plot(endpoints, largest_centers(sizes, MAX_FOREST_CENTERS, 0), k),
        crosstab=None,
        os_events=os_event_counts(rows),
    )


def pooled_summaries(
    summaries_dir: Path | None, data_root: Path, *, max_age_days: int, with_local: bool
) -> tuple[list[CenterSummary], list[Center]]:
    """The summaries to pool: verified ones from `summaries_dir`, then local partitions'."""
    centers = load_centers(summaries_dir, max_age_days=max_age_days) if summaries_dir else []
    local = local_centers(data_root) if with_local else []
    for center in centers:
        if center.center_id in local and center.summary is not None:
            center.status, center.summary = "local", None
            center.problem = (
                f"{center.folder}: not used, the center's partition is in the data root"
            )
    used = [center.summary for center in centers if center.summary is not None]
    unit = used[0].time_unit if used else "day"
    if local:
        stats, entries = center_statistics(data_root, local, time_unit=unit)
        used += split(stats, entries)
    return used, centers


def pool_report(
    summaries_dir: Path | None,
    data_root: Path,
    *,
    run_id: str,
    max_age_days: int = 45,
    with_local: bool = False,
    suppress_below: int = 0,
) -> list[Center]:
    """Write reports/endpoints.parquet, report.html and summaries.json; return the centers."""
    from spinemet_etl.endpoints import endpoints_of
    from spinemet_etl.endpoints.io import write_endpoints
    from spinemet_etl.publish import staging_root, write_bytes_atomically
    from spinemet_etl.report.build import REPORT_HTML
    from spinemet_etl.report.render import render_report

    summaries, centers = pooled_summaries(
        summaries_dir, data_root, max_age_days=max_age_days, with_local=with_local
    )
    if not centers:
        raise SpinemetError(
            f"no center summary under {summaries_dir}: expected "
            f"{summaries_dir}/<center>/<run>/summary.json (a hospital's `spinemet summarize "
            "--out` folder); the previous report stays as it was",
            code="no-summaries",
        )
    endpoints = endpoints_of(merge(summaries))
    write_endpoints(endpoints, data_root, run_id)
    status = "ok" if all(c.status in ("used", "local") for c in centers) else "needs_attention"
    manifest = {
        "run_id": run_id,
        "status": status,
        "centers": {c.center_id: manifest_entry(c) for c in centers if c.status != "local"},
    }
    parts = page_figures(survival_rows(summaries), endpoints, suppress_below)
    html = render_report(
        None, endpoints, manifest=manifest, suppress_below=suppress_below,
        generated_for_run=run_id, parts=parts,
    )  # fmt: skip
    write_bytes_atomically(data_root / REPORT_HTML, html.encode("utf-8"), staging_root(data_root))
    write_summaries_json(centers, data_root)
    return centers
