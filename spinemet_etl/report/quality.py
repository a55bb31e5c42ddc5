"""The data-quality summary of a run, per center, from its manifest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.codes import CHECK_CODES
from spinemet_etl.report.format import count_text

TOP_REASONS = 3
STALE_STATUSES = ("held", "failed")


@dataclass(frozen=True)
class Reason:
    """A quarantine reason: its check code, what it means, and how many rows it hit."""

    code: str
    meaning: str
    rows: str


@dataclass(frozen=True)
class QualityRow:
    """One center's line of the data-quality summary."""

    center_id: str
    status: str
    rows_read: str
    rows_harmonized: str
    rows_quarantined: str
    reasons: list[Reason]
    error: str
    data_note: str


def center_total(entry: dict[str, Any], key: str) -> int | None:
    """A center's total of `key`: the entry's own total, else the sum over its files."""
    if entry.get(key) is not None:
        return int(entry[key])
    values = [f[key] for f in entry.get("files") or [] if f.get(key) is not None]
    return int(sum(values)) if values else None


def _top_reasons(entry: dict[str, Any], k: int) -> list[Reason]:
    reasons = entry.get("top_quarantine_reasons") or []
    ranked = sorted(reasons, key=lambda r: (-int(r["rows"]), str(r["check_code"])))
    return [
        Reason(str(r["check_code"]), CHECK_CODES.get(str(r["check_code"]), ""),
               count_text(int(r["rows"]), k))
        for r in ranked[:TOP_REASONS]
    ]  # fmt: skip


def _data_note(entry: dict[str, Any]) -> str:
    """Where a held or failed center's numbers in the report come from."""
    if entry.get("status") not in STALE_STATUSES:
        return ""
    data_run = entry.get("data_run_id")
    if data_run:
        return f"Data shown come from the earlier run {data_run}."
    return "No earlier published data: this center is absent from the results."


def quality_rows(manifest: dict[str, Any], suppress_below: int) -> list[QualityRow]:
    """One row per center of the manifest: status, rows read, harmonized and quarantined.

    Counts 1..K−1 show as `<K`, as everywhere per center; the top reasons are the
    manifest's `top_quarantine_reasons` (rows per check code).
    """
    rows = []
    for center_id, entry in sorted((manifest.get("centers") or {}).items()):
        error = entry.get("error") or {}
        counts = [
            count_text(center_total(entry, key), suppress_below)
            for key in ("rows_read", "rows_harmonized", "rows_quarantined")
        ]
        rows.append(
            QualityRow(
                center_id=center_id,
                status=str(entry.get("status", "unknown")),
                rows_read=counts[0],
                rows_harmonized=counts[1],
                rows_quarantined=counts[2],
                reasons=_top_reasons(entry, suppress_below),
                error=str(error.get("message", "")),
                data_note=_data_note(entry),
            )
        )
    return rows


def reason_legend(rows: list[QualityRow]) -> list[Reason]:
    """The check codes named in the summary, each once, with what they mean."""
    codes = sorted({reason.code: reason for row in rows for reason in row.reasons}.items())
    return [reason for _, reason in codes]


def stale_centers(manifest: dict[str, Any] | None) -> dict[str, str]:
    """Centers whose data in the report come from an earlier run: center → that run's id."""
    entries = (manifest or {}).get("centers") or {}
    return {
        center_id: str(entry.get("data_run_id") or "an earlier run")
        for center_id, entry in entries.items()
        if entry.get("status") in STALE_STATUSES
    }
