"""`build_report`: endpoints and the HTML report of a data root, written where people look."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spinemet_etl.manifest import latest_manifest
from spinemet_etl.publish import staging_root, write_bytes_atomically
from spinemet_etl.report.render import render_report

REPORT_HTML = Path("reports") / "report.html"


@dataclass(frozen=True)
class ReportPaths:
    """Where `build_report` wrote the endpoint table and the HTML page."""

    endpoints: Path
    html: Path


def build_report(
    data_root: Path,
    *,
    run_id: str,
    pain_mcid: float = 2.0,
    suppress_below: int = 0,
    manifest: dict[str, Any] | None = None,
    reuse_endpoints: bool = False,
) -> ReportPaths:
    """Compute the endpoints of the published patients and write both reports.

    Writes `reports/endpoints.parquet` (exact values) and `reports/report.html`, each
    replaced in one rename. The page's data-quality part comes from `manifest` when
    given (a run reporting on itself before its manifest is on disk), else from the
    newest manifest under `_runs/`, if any. No patients yet still gives a valid page.
    With `reuse_endpoints` (the caller knows the data and settings are those the table on
    disk was computed from) the endpoint table is read back instead of recomputed.
    """
    from spinemet_etl.endpoints import compute_endpoints
    from spinemet_etl.endpoints.io import read_endpoints, read_patients, write_endpoints

    patients = read_patients(data_root, validate=not reuse_endpoints)
    endpoints = read_endpoints(data_root) if reuse_endpoints else None
    endpoints_path = data_root / "reports" / "endpoints.parquet"
    if endpoints is None:
        endpoints = compute_endpoints(patients, pain_mcid=pain_mcid)
        endpoints_path = write_endpoints(endpoints, data_root, run_id)
    html = render_report(
        patients,
        endpoints,
        manifest=manifest if manifest is not None else latest_manifest(data_root),
        suppress_below=suppress_below,
        generated_for_run=run_id,
    )
    html_path = data_root / REPORT_HTML
    write_bytes_atomically(html_path, html.encode("utf-8"), staging_root(data_root))
    return ReportPaths(endpoints=endpoints_path, html=html_path)
