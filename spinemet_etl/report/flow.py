"""The patient flow (STROBE style) per center: rows read, excluded by reason, analysed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from schemas.codes import CHECK_CODES
from spinemet_etl.report.format import NULL, count_text
from spinemet_etl.report.quality import center_total

if TYPE_CHECKING:
    from spinemet_etl.report.counts import CenterCounts

QUARANTINE_COLUMNS = ("source_file", "source_row", "check_code")
"""The quarantine columns the flow reads (plus `center_id`, from the partition's path)."""


@dataclass(frozen=True)
class CenterFlow:
    """What the patient rows and the quarantine tell about one center, unformatted.

    `excluded` counts source rows by the first rule they failed (the contract's order of
    check codes); `cutoff` is the latest last contact (ISO date), `stated_cutoff` the
    partition's `spinemet.data_cutoff` when it records one; `surgery_from` and
    `surgery_to` the months (YYYY-MM) of the first and last operation.
    """

    center_id: str
    analysed: int
    excluded: dict[str, int] = field(default_factory=dict)
    cutoff: str = ""
    stated_cutoff: str = ""
    surgery_from: str = ""
    surgery_to: str = ""


@dataclass(frozen=True)
class FlowRow:
    """One center's line of the patient flow, formatted for the page."""

    center_id: str
    rows_read: str
    excluded: list[tuple[str, str]]
    excluded_total: str
    analysed: str
    cutoff: str
    period: str


def first_failures(quarantine: pd.DataFrame) -> pd.DataFrame:
    """One row per quarantined source row: its first failing check in `CHECK_CODES` order.

    Notes:
        A source row that failed several checks is counted once, under the rule the
        contract lists first, so that the reasons add up to the rows excluded.
    """
    order = {code: rank for rank, code in enumerate(CHECK_CODES)}
    ranked = quarantine.assign(_rank=quarantine["check_code"].map(order).fillna(len(order)))
    ranked = ranked.sort_values(["_rank", "check_code"], kind="stable")
    first = ranked.drop_duplicates(["center_id", "source_file", "source_row"])
    return first.drop(columns="_rank")


def excluded_counts(quarantine: pd.DataFrame | None) -> dict[str, dict[str, int]]:
    """Per center, its quarantined source rows by first failing rule (`first_failures`)."""
    excluded: dict[str, dict[str, int]] = {}
    if quarantine is not None and not quarantine.empty:
        first = first_failures(quarantine)
        counts = first.groupby(["center_id", "check_code"]).size()
        for center, code, size in zip(
            counts.index.get_level_values(0), counts.index.get_level_values(1), counts, strict=True
        ):
            excluded.setdefault(str(center), {})[str(code)] = int(size)
    return excluded


def combine_flows(
    centers: list[CenterCounts],
    quarantine: pd.DataFrame | None,
    stated_cutoffs: dict[str, str] | None = None,
) -> list[CenterFlow]:
    """Each center's analysed patients, exclusions by first failing rule, cut-off and
    period, from its counts (`counts.center_counts`, sorted by center).

    `stated_cutoffs` (center → ISO date) are the cut-offs the partitions record.
    """
    excluded = excluded_counts(quarantine)
    return [
        CenterFlow(
            center_id=center.center_id,
            analysed=center.patients,
            excluded=excluded.get(center.center_id, {}),
            cutoff=(center.flow or {}).get("cutoff", ""),
            stated_cutoff=(stated_cutoffs or {}).get(center.center_id, ""),
            surgery_from=(center.flow or {}).get("surgery_from", ""),
            surgery_to=(center.flow or {}).get("surgery_to", ""),
        )
        for center in centers
    ]


def center_flows(
    patients: pd.DataFrame,
    quarantine: pd.DataFrame | None,
    stated_cutoffs: dict[str, str] | None = None,
) -> list[CenterFlow]:
    """`combine_flows` of `patients` (canonical rows with `center_id`)."""
    from spinemet_etl.report.counts import counts_by_center

    return combine_flows(counts_by_center(patients), quarantine, stated_cutoffs)


def _in_rule_order(excluded: dict[str, int]) -> list[tuple[str, int]]:
    order = list(CHECK_CODES)
    return sorted(excluded.items(), key=lambda item: [*order, item[0]].index(item[0]))


def flow_rows(
    flows: list[CenterFlow], manifest: dict[str, Any] | None, suppress_below: int
) -> list[FlowRow]:
    """The flow's lines: rows read from the manifest, the rest from `flows`; counts `<K`.

    The cut-off is the one the center stated, as its partition records it
    (`spinemet.data_cutoff`) or else the run manifest's `data_cutoff` (source `mapping`);
    otherwise the latest last contact of its published patients (the page says which).
    """
    entries = (manifest or {}).get("centers") or {}
    rows = []
    for flow in flows:
        entry, k = entries.get(flow.center_id) or {}, suppress_below
        recorded = entry.get("data_cutoff") or {}
        stated = flow.stated_cutoff or (
            recorded.get("date") if recorded.get("source") == "mapping" else None
        )
        cutoff = f"{stated} (stated)" if stated else f"{flow.cutoff or NULL} (latest last contact)"
        period = f"{flow.surgery_from} to {flow.surgery_to}" if flow.surgery_from else NULL
        rows.append(
            FlowRow(
                center_id=flow.center_id,
                rows_read=count_text(center_total(entry, "rows_read"), k),
                excluded=[(code, count_text(n, k)) for code, n in _in_rule_order(flow.excluded)],
                excluded_total=count_text(sum(flow.excluded.values()), k),
                analysed=count_text(flow.analysed, k),
                cutoff=cutoff,
                period=period,
            )
        )
    return rows
