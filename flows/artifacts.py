"""The run's Prefect artifacts: a markdown summary per run and a table of the endpoints."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from spinemet_etl.quality.checks import how_to_accept

SUMMARY_KEY = "spinemet-run-summary"
ENDPOINTS_KEY = "spinemet-endpoints"
TABLE_COLUMNS = ["center_id", "endpoint", "n", "estimate", "ci_lower", "ci_upper", "p_value"]
HEADLINE = "os_median_months"


def shown_count(count: int | None, suppress_below: int) -> str:
    """A count as shareable outputs show it: `<K` for 1..K-1 when suppression is on.

    Notes:
        Small cells can identify patients in a small center; 0 is shown, since it
        reveals nobody (the contract's disclosure control, endpoints.md).
    """
    if count is None:
        return "–"
    if suppress_below > 1 and 0 < count < suppress_below:
        return f"<{suppress_below}"
    return str(count)


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return round(float(value), 2)


def _headline(endpoints: pd.DataFrame | None, center_id: str) -> str:
    """The center's median overall survival (stratum all) with its 95 % CI, in months."""
    if endpoints is None:
        return "–"
    row = endpoints[
        (endpoints["center_id"] == center_id)
        & (endpoints["stratum"] == "all")
        & (endpoints["endpoint"] == HEADLINE)
    ]
    if row.empty or _number(row["estimate"].iloc[0]) is None:
        return "not reached"
    low, high = _number(row["ci_lower"].iloc[0]), _number(row["ci_upper"].iloc[0])
    ci = f" ({low if low is not None else '–'}–{high if high is not None else '–'})"
    return f"{_number(row['estimate'].iloc[0])}{ci}"


def _reasons(entry: dict[str, Any]) -> str:
    reasons = entry.get("top_quarantine_reasons") or []
    return ", ".join(f"{r['check_code']} ({r['rows']})" for r in reasons[:3]) or "–"


def _center_line(
    center_id: str, entry: dict[str, Any], endpoints: pd.DataFrame | None, k: int
) -> str:
    read = sum(int(f.get("rows_read", 0)) for f in entry.get("files") or [])
    cells = [
        center_id, entry["status"], shown_count(read, k),
        shown_count(entry.get("rows_harmonized"), k), shown_count(entry.get("rows_quarantined"), k),
        _reasons(entry), _headline(endpoints, center_id),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _attention(centers: dict[str, dict[str, Any]]) -> list[str]:
    """One line per held or failed center: the error, or the failed gate checks."""
    lines = []
    for center_id, entry in centers.items():
        if entry.get("error"):
            lines.append(f"- **{center_id}** {entry['status']}: {entry['error']['message']}")
        elif entry["status"] == "held":
            checks = (entry.get("quality_gate") or {}).get("checks", [])
            messages = "; ".join(c["message"] for c in checks if not c["passed"])
            accept = how_to_accept(center_id, checks)
            lines.append(f"- **{center_id}** held by the quality gate: {messages} {accept}")
    return lines


def summary_markdown(
    manifest: dict[str, Any], endpoints: pd.DataFrame | None, suppress_below: int = 0
) -> str:
    """The run summary: status, one row per center, and what needs a person."""
    centers = manifest["centers"]
    lines = [
        f"# spinemet run `{manifest['run_id']}`: {manifest['status']}",
        "",
        f"Started {manifest['started_at']}, finished {manifest['finished_at']}; "
        f"key fingerprint `{manifest['key_fingerprint'][:16]}`.",
        "",
        "| center | status | rows read | harmonized | quarantined | top quarantine reasons "
        "| OS median, months (95 % CI) |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
        *(_center_line(c, e, endpoints, suppress_below) for c, e in centers.items()),
    ]
    attention = _attention(centers)
    if attention:
        lines += ["", "## Needs attention", "", *attention]
    return "\n".join(lines) + "\n"


def endpoint_rows(endpoints: pd.DataFrame, suppress_below: int = 0) -> list[dict[str, Any]]:
    """Stratum `all` of the endpoint table, a few columns, counts suppressed as configured."""
    table = endpoints.loc[endpoints["stratum"] == "all", TABLE_COLUMNS]
    rows = []
    for record in table.to_dict("records"):
        row: dict[str, Any] = {name: _number(record[name]) for name in TABLE_COLUMNS[2:]}
        row["n"] = shown_count(int(record["n"]), suppress_below)
        if str(record["endpoint"]).endswith("_n") and row["estimate"] is not None:
            row["estimate"] = shown_count(int(row["estimate"]), suppress_below)
        rows.append({"center_id": record["center_id"], "endpoint": record["endpoint"], **row})
    return rows


def publish_artifacts(
    manifest: dict[str, Any], endpoints_path: Path | None, suppress_below: int = 0
) -> None:
    """Create the run's summary and endpoint-table artifacts in Prefect."""
    endpoints = pd.read_parquet(endpoints_path) if endpoints_path is not None else None
    create_markdown_artifact(
        summary_markdown(manifest, endpoints, suppress_below),
        key=SUMMARY_KEY,
        description=f"spinemet run {manifest['run_id']}: {manifest['status']}",
    )
    if endpoints is not None:
        create_table_artifact(
            endpoint_rows(endpoints, suppress_below),
            key=ENDPOINTS_KEY,
            description=f"Study endpoints (stratum all) after run {manifest['run_id']}",
        )
