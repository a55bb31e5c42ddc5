"""`build_report`: endpoints and the HTML report of a data root, written where people look."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spinemet_etl.manifest import latest_manifest
from spinemet_etl.publish import staging_root, write_bytes_atomically
from spinemet_etl.report.cache import (
    CACHE_FILE,
    PATIENT_PARTITIONS,
    cache_bytes,
    cache_key,
    partition_stamp,
    read_cached_parts,
)
from spinemet_etl.report.render import PageParts, page_parts_of, render_report

if TYPE_CHECKING:
    import pandas as pd

    from spinemet_etl.report.counts import CenterCounts

REPORT_HTML = Path("reports") / "report.html"
REPORT_KEPT = "the report stays as it was"


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
    disk was computed from) the endpoint table is read back instead of recomputed, and
    the page's figures and crosstab come from `reports/.report-cache.json` when it was
    written for the same partitions, endpoint file and `suppress_below`: the patients
    are then not read at all. Every build rewrites that cache just before the page.

    The endpoints and the page's counts come from each center's statistics and page
    counts (`federated.cache`): kept in `<data>/_cache/statistics/` per partition, so only
    the centers whose partition changed are read, one at a time.
    """
    from spinemet_etl.endpoints.io import read_endpoints

    stamp = partition_stamp(data_root)
    endpoints = read_endpoints(data_root) if reuse_endpoints else None
    if endpoints is None:
        endpoints, endpoints_path, parts = _compute(
            data_root, stamp, run_id, pain_mcid, suppress_below
        )
    else:
        endpoints_path = data_root / "reports" / "endpoints.parquet"
        key = cache_key(stamp, endpoints_path, suppress_below)
        parts = read_cached_parts(data_root, key) or _draw(
            data_root, key, _pooled(data_root, pain_mcid), endpoints
        )
    html = render_report(
        None,
        endpoints,
        manifest=manifest if manifest is not None else latest_manifest(data_root),
        suppress_below=suppress_below,
        generated_for_run=run_id,
        parts=parts,
    )
    page = html.encode("utf-8")
    staging = staging_root(data_root)
    write_bytes_atomically(data_root / REPORT_HTML, page, staging, consequence=REPORT_KEPT)
    return ReportPaths(endpoints=endpoints_path, html=data_root / REPORT_HTML)


Pooled = tuple[list["CenterCounts"], "pd.DataFrame"]
"""Each center's page counts, and every patient's pooled columns (`cache.pooled_rows`)."""


def _compute(
    data_root: Path, stamp: list[list[Any]], run_id: str, pain_mcid: float, suppress_below: int
) -> tuple[pd.DataFrame, Path, PageParts]:
    """The endpoint table (written) and the page's parts, from every center's entry."""
    from spinemet_etl.endpoints import endpoints_of
    from spinemet_etl.endpoints.io import write_endpoints
    from spinemet_etl.endpoints.sums import plain_pooled_c
    from spinemet_etl.federated.cache import (
        consortium_entries,
        merged_statistics,
        pooled_rows,
        return_freed_memory,
    )

    entries, _ = consortium_entries(data_root, pain_mcid=pain_mcid)
    stats = merged_statistics(entries, pain_mcid=pain_mcid, time_unit="day")
    counts = [entry.counts for entry in entries]
    rows = pooled_rows(entries)
    del entries
    return_freed_memory()
    stats.plain_c = plain_pooled_c(rows, stats.layout.n_groups)
    endpoints = endpoints_of(stats)
    del stats
    endpoints_path = write_endpoints(endpoints, data_root, run_id, consequence=REPORT_KEPT)
    key = cache_key(stamp, endpoints_path, suppress_below)
    return endpoints, endpoints_path, _draw(data_root, key, (counts, rows), endpoints)


def _pooled(data_root: Path, pain_mcid: float) -> Pooled:
    """The page counts and pooled columns of every center, from its cache entry (or rows)."""
    from spinemet_etl.federated.cache import consortium_entries, pooled_rows

    entries, _ = consortium_entries(data_root, pain_mcid=pain_mcid)
    return [entry.counts for entry in entries], pooled_rows(entries)


def _stated_cutoffs(data_root: Path) -> dict[str, str]:
    """Each center's data cut-off as its partition's key-value metadata records it, when
    the center stated it (a fallback to the latest last contact is not a stated one)."""
    import pyarrow.parquet as pq

    from spinemet_etl.results import CUTOFF_KEY, CUTOFF_SOURCE_KEY, LATEST_CONTACT

    cutoffs = {}
    for path in sorted(data_root.glob(PATIENT_PARTITIONS)):
        metadata = pq.read_schema(path).metadata or {}
        source = metadata.get(CUTOFF_SOURCE_KEY.encode(), b"").decode("utf-8")
        if CUTOFF_KEY.encode() in metadata and source != LATEST_CONTACT:
            center = path.parent.name.split("=", 1)[1]
            cutoffs[center] = metadata[CUTOFF_KEY.encode()].decode("utf-8")
    return cutoffs


def _quarantine(data_root: Path) -> pd.DataFrame:
    """Every center's quarantine rows (the flow's columns), `center_id` from the path."""
    import pandas as pd
    import pyarrow.parquet as pq

    from spinemet_etl.report.flow import QUARANTINE_COLUMNS

    frames = [
        pq.read_table(path, columns=list(QUARANTINE_COLUMNS))
        .to_pandas()
        .assign(center_id=path.parent.name.split("=", 1)[1])
        for path in sorted(
            (data_root / "quarantine" / "patients").glob("center_id=*/part-0.parquet")
        )
    ]
    columns = ["center_id", *QUARANTINE_COLUMNS]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _draw(
    data_root: Path, key: dict[str, Any], pooled: Pooled, endpoints: pd.DataFrame
) -> PageParts:
    """Draw the page's figures and tables, and keep them for the next re-render."""
    k = int(key["suppress_below"])
    counts, rows = pooled
    quarantine, cutoffs = _quarantine(data_root), _stated_cutoffs(data_root)
    parts = page_parts_of(counts, rows, endpoints, k, quarantine, cutoffs)
    write_bytes_atomically(data_root / CACHE_FILE, cache_bytes(key, parts), staging_root(data_root))
    return parts
