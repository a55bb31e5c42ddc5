"""`render_report`: the outcome report for people, one self-contained HTML page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from schemas.codes import SCHEMA_VERSION
from schemas.endpoints import POOLED_SCOPE
from spinemet_etl.report.baseline import BaselineTable, combine_baseline
from spinemet_etl.report.counts import CenterCounts, counts_by_center
from spinemet_etl.report.figures import (
    MAX_FOREST_CENTERS,
    MAX_KM_CENTERS,
    combine_os_events,
    forest_plot,
    km_by_center,
    km_by_procedure,
    largest_centers,
)
from spinemet_etl.report.flow import CenterFlow, combine_flows, flow_rows
from spinemet_etl.report.format import DISPLAYS, FEW_EVENTS, FEW_EVENTS_MARK
from spinemet_etl.report.procedures import (
    FRANKEL_GRADES,
    MAX_PROCEDURE_CENTERS,
    UNKNOWN,
    combine_frankel,
    largest_scopes,
    procedure_tables,
)
from spinemet_etl.report.quality import quality_rows, reason_legend, stale_centers
from spinemet_etl.report.tables import (
    PROCEDURE_LABELS,
    TOMITA_LABELS,
    Row,
    combine_crosstab,
    endpoint_sections,
    ph_note,
    pooled_rows,
)
from spinemet_etl.settings import Settings

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class ScopeColumn:
    """A column of the endpoint table: a center or ALL, and the earlier run its data are from."""

    scope: str
    title: str
    data_run_id: str


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("spinemet_etl.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _endpoint_order() -> list[str]:
    from spinemet_etl.endpoints import ENDPOINT_CODES

    return [*ENDPOINT_CODES, *(code for code in DISPLAYS if code not in ENDPOINT_CODES)]


def _columns(endpoints: pd.DataFrame, stale: dict[str, str]) -> list[ScopeColumn]:
    centers = sorted(set(endpoints["center_id"].astype(str)) - {POOLED_SCOPE})
    columns = [ScopeColumn(c, c, stale.get(c, "")) for c in centers]
    return [*columns, ScopeColumn(POOLED_SCOPE, "All centers", "")] if centers else columns


def _uses_development_key(manifest: dict[str, Any] | None) -> bool | None:
    """Whether the run used the development key; None when there is no manifest to tell."""
    if not manifest:
        return None
    if "uses_development_key" in manifest:
        return bool(manifest["uses_development_key"])
    return bool(manifest.get("key_fingerprint") == Settings().key_fingerprint)


@dataclass(frozen=True)
class PageParts:
    """The page's figures (KM curves, forest plot) and its Tomita crosstab.

    The parts drawn from patient rows or with matplotlib: `build_report` keeps them in
    `reports/.report-cache.json`, so that a re-render of the same data needs neither
    the patients nor matplotlib.
    """

    km_centers: str
    km_procedure: str
    forest: str
    crosstab: list[Row] | None
    """None when the page is drawn from summaries (they hold no per-patient scores)."""
    os_events: dict[str, dict[str, int]] = field(default_factory=dict)
    """Deaths by stratum, then scope (`figures.os_event_counts`)."""
    baseline: BaselineTable | None = None
    """Table 1; None when the page is drawn from summaries (no patient rows)."""
    flows: list[CenterFlow] | None = None
    """The patient flow per center; None when drawn from summaries."""
    frankel: dict[str, list[Row]] | None = None
    """Frankel transitions (pre × post) per procedure; None when drawn from summaries."""


def page_parts(
    patients: pd.DataFrame,
    endpoints: pd.DataFrame,
    suppress_below: int,
    quarantine: pd.DataFrame | None = None,
    stated_cutoffs: dict[str, str] | None = None,
) -> PageParts:
    """The figures, crosstab, Table 1 and patient flow of `patients` (canonical rows with
    `center_id`): `page_parts_of` each center's counts and of the rows' survival.
    Table 1, the Frankel tables and the flow need their columns (`BASELINE_COLUMNS`,
    the Frankel grades, surgery and last contact dates): without them they are left out."""
    return page_parts_of(
        counts_by_center(patients), patients, endpoints, suppress_below, quarantine, stated_cutoffs
    )


def page_parts_of(
    centers: list[CenterCounts],
    survival: pd.DataFrame,
    endpoints: pd.DataFrame,
    suppress_below: int,
    quarantine: pd.DataFrame | None = None,
    stated_cutoffs: dict[str, str] | None = None,
) -> PageParts:
    """The page's parts from each center's counts (sorted by center) and the rows'
    `center_id`, `procedure`, `os_months` and `os_event` (`survival`, for the KM curves);
    the flow's exclusions come from `quarantine` (rows with `center_id`).
    `stated_cutoffs` are the partitions' data cut-offs (center → ISO date)."""
    if not centers:
        return PageParts(
            km_centers="", km_procedure="", forest="", crosstab=[],
            baseline=BaselineTable([], []), flows=[], frankel={},
        )  # fmt: skip
    k = suppress_below
    sizes = {center.center_id: center.patients for center in centers}
    complete = {
        part: all(getattr(center, part) is not None for center in centers)
        for part in ("baseline", "flow", "frankel")
    }
    return PageParts(
        km_centers=km_by_center(survival, largest_centers(sizes, MAX_KM_CENTERS, k), k),
        km_procedure=km_by_procedure(survival, k),
        forest=forest_plot(endpoints, largest_centers(sizes, MAX_FOREST_CENTERS, 0), k),
        crosstab=combine_crosstab(centers, k),
        os_events=combine_os_events(centers),
        baseline=combine_baseline(centers, k) if complete["baseline"] else None,
        flows=combine_flows(centers, quarantine, stated_cutoffs) if complete["flow"] else None,
        frankel=combine_frankel(centers, k) if complete["frankel"] else None,
    )


def _header(
    manifest: dict[str, Any] | None, run_id: str | None, k: int, columns: list[ScopeColumn]
) -> dict[str, Any]:
    return {
        "run_id": run_id or (manifest or {}).get("run_id") or "–",
        "manifest_status": (manifest or {}).get("status"),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "schema_version": SCHEMA_VERSION,
        "development_key": _uses_development_key(manifest),
        "suppress_below": k,
        "n_centers": sum(column.scope != POOLED_SCOPE for column in columns),
        "columns": columns,
        "max_km_centers": MAX_KM_CENTERS,
        "max_forest_centers": MAX_FOREST_CENTERS,
    }


def _tables(
    endpoints: pd.DataFrame, columns: list[ScopeColumn], k: int, parts: PageParts
) -> dict[str, Any]:
    order = _endpoint_order()
    events = parts.os_events.get("all")
    kept = largest_scopes(endpoints, [c.scope for c in columns], MAX_PROCEDURE_CENTERS)
    return {
        "procedure_columns": [c for c in columns if c.scope in kept],
        "max_procedure_centers": MAX_PROCEDURE_CENTERS,
        "procedure_tables": procedure_tables(endpoints, kept, order, k, parts.os_events),
        "sections": endpoint_sections(
            endpoints, [c.scope for c in columns], order, k, os_events=events
        ),
        "few_events": FEW_EVENTS,
        "few_events_mark": FEW_EVENTS_MARK,
        "pooled": pooled_rows(endpoints, order),
        **ph_note(endpoints),
        "tomita_labels": list(TOMITA_LABELS.values()),
    }


def _quality(manifest: dict[str, Any] | None, k: int) -> dict[str, Any]:
    quality = quality_rows(manifest, k) if manifest else None
    return {"quality": quality, "reason_legend": reason_legend(quality or [])}


def _parts(parts: PageParts, manifest: dict[str, Any] | None, k: int) -> dict[str, Any]:
    flows = None if parts.flows is None else flow_rows(parts.flows, manifest, k)
    return {
        "baseline": parts.baseline,
        "frankel": parts.frankel,
        "frankel_labels": [*FRANKEL_GRADES, UNKNOWN],
        "procedure_labels": PROCEDURE_LABELS,
        "flows": flows,
        "km_centers": parts.km_centers,
        "km_procedure": parts.km_procedure,
        "forest": parts.forest,
        "crosstab": parts.crosstab,
    }


def render_report(
    patients: pd.DataFrame | None,
    endpoints: pd.DataFrame,
    *,
    manifest: dict[str, Any] | None = None,
    suppress_below: int = 0,
    generated_for_run: str | None = None,
    parts: PageParts | None = None,
    quarantine: pd.DataFrame | None = None,
) -> str:
    """The outcome report as one self-contained HTML page (inline CSS and SVG, no fetches).

    `patients` are canonical rows with `center_id`; `endpoints` the tidy endpoint table.
    `parts` (figures and crosstab already drawn from the same patients, endpoints and
    `suppress_below`, see `page_parts`) replaces `patients`, which may then be None.
    `quarantine` (quarantine rows with `center_id`) gives the patient flow's exclusions.
    `manifest` (the run manifest) adds the data-quality summary and marks centers whose
    data come from an earlier run. `suppress_below` = K > 0 shows per-center
    counts 1..K−1 as `<K` (docs/report.md). No patient-level row reaches the page.
    """
    if parts is None:
        if patients is None:
            raise ValueError("render_report needs the patients or their page parts")
        parts = page_parts(patients, endpoints, suppress_below, quarantine)
    columns = _columns(endpoints, stale_centers(manifest))
    return str(
        _environment()
        .get_template(TEMPLATE)
        .render(
            **_header(manifest, generated_for_run, suppress_below, columns),
            **_tables(endpoints, columns, suppress_below, parts),
            **_quality(manifest, suppress_below),
            **_parts(parts, manifest, suppress_below),
        )
    )
