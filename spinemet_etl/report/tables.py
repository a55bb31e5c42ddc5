"""The report's tables as plain rows of text: endpoints, pooled analyses, Tomita vs procedure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from schemas.endpoints import POOLED_SCOPE
from schemas.patients import PROCEDURES
from spinemet_etl.report.format import (
    FEW_EVENTS,
    FEW_EVENTS_MARK,
    NULL,
    POOLED,
    REPLACED_IN_REPORT,
    as_float,
    count_text,
    display_of,
    format_cell,
    format_p,
    label_of,
)

if TYPE_CHECKING:
    from spinemet_etl.report.counts import CenterCounts

ALL_STRATUM = "all"
MEDIAN_FLAGGED = "os_median_months"
PROCEDURE_LABELS = {"palliative": "Palliative", "curettage": "Curettage", "en_bloc": "En bloc"}
TOMITA_LABELS = {
    "wide_or_marginal_excision": "Wide or marginal excision (2–3)",
    "marginal_or_intralesional": "Marginal or intralesional (4–5)",
    "palliative": "Palliative surgery (6–7)",
    "supportive_care": "Supportive care (8–10)",
    "unknown": "Score unknown",
}


@dataclass(frozen=True)
class Row:
    """One table row: a label, its cells (already formatted), and how they were computed."""

    label: str
    cells: list[str]
    method: str = ""


@dataclass(frozen=True)
class Section:
    """A titled group of rows (the paper's table has one per kind of endpoint)."""

    title: str
    rows: list[Row]


@dataclass(frozen=True)
class PooledRow:
    """One pooled analysis: what was tested, its result, its p-value and the method text."""

    label: str
    result: str
    p_value: str
    method: str


def protects(scope: str, n_centers: int, suppress_below: int) -> bool:
    """Whether disclosure control applies to a scope's counts.

    Notes:
        The contract suppresses per-center counts. The pooled column is shown exactly,
        since it sums several centers, except when the data hold a single center: its
        pooled column would then repeat that center's hidden counts.
    """
    return suppress_below > 0 and (scope != POOLED_SCOPE or n_centers < 2)


EndpointRows = dict[tuple[str, str], dict[str, Any]]


def endpoint_rows(endpoints: pd.DataFrame, stratum: str = ALL_STRATUM) -> EndpointRows:
    """The rows of one stratum of the endpoint table by (endpoint, scope), as plain dicts."""
    subset = endpoints[endpoints["stratum"] == stratum]
    return {
        (str(record["endpoint"]), str(record["center_id"])): {str(k): v for k, v in record.items()}
        for record in subset.to_dict("records")
    }


def _ordered_codes(endpoints: pd.DataFrame, order: list[str]) -> list[str]:
    present = list(dict.fromkeys(endpoints["endpoint"]))
    shown = [c for c in order if c in present] + [c for c in present if c not in order]
    return [c for c in shown if not set(REPLACED_IN_REPORT.get(c, ())) & set(present)]


def _few_events(row: dict[str, Any] | None, events: float | None) -> bool:
    """Whether a median is shown and fewer than `FEW_EVENTS` deaths determine it."""
    return (
        row is not None
        and as_float(row.get("estimate")) is not None
        and events is not None
        and events < FEW_EVENTS
    )


def _cell(table: EndpointRows, code: str, scope: str, k: int, events: dict[str, int]) -> str:
    """One formatted cell; a median of fewer than 10 deaths gets the `‡` mark."""
    row = table.get((code, scope))
    if row is None:
        return NULL
    text = format_cell(row, suppress_below=k)
    if code != MEDIAN_FLAGGED or text.startswith(("<", f"{NULL} (n <")):
        return text
    counted = table.get(("os_events_n", scope), {}).get("estimate")
    deaths = as_float(counted) if counted is not None else as_float(events.get(scope))
    return f"{text} {FEW_EVENTS_MARK}" if _few_events(row, deaths) else text


def _method(table: EndpointRows, code: str, scopes: list[str]) -> str:
    """The method text of an endpoint: the pooled row's, else the first center's."""
    rows = [table.get((code, scope)) for scope in [POOLED_SCOPE, *scopes]]
    return next((str(row["method"]) for row in rows if row is not None), "")


def endpoint_sections(
    endpoints: pd.DataFrame,
    scopes: list[str],
    order: list[str],
    suppress_below: int,
    *,
    stratum: str = ALL_STRATUM,
    os_events: dict[str, int] | None = None,
) -> list[Section]:
    """The paper's table of one stratum: endpoints as rows, the scopes (centers, ALL) as columns.

    `os_events` (deaths per scope) flags medians when the table has no `os_events_n`.
    """
    table = endpoint_rows(endpoints, stratum)
    n_centers = sum(scope != POOLED_SCOPE for scope in scopes)
    sections: dict[str, list[Row]] = {}
    for code in _ordered_codes(endpoints[endpoints["stratum"] == stratum], order):
        display = display_of(code)
        if display.section == POOLED:
            continue
        cells = [
            _cell(
                table, code, scope,
                suppress_below if protects(scope, n_centers, suppress_below) else 0,
                os_events or {},
            )
            for scope in scopes
        ]  # fmt: skip
        method = _method(table, code, scopes)
        sections.setdefault(display.section, []).append(Row(label_of(code, method), cells, method))
    return [Section(title, rows) for title, rows in sections.items()]


PH_TEST = "os_cox_ph_global_p"
HAZARD_RATIOS = ("os_cox_hr_curettage", "os_cox_hr_en_bloc")


def _result(code: str, row: dict[str, Any], table: EndpointRows) -> str:
    """A pooled result; a hazard ratio carries the proportional-hazards p-value beside it."""
    text = format_cell(row)
    ph = table.get((PH_TEST, POOLED_SCOPE))
    if code in HAZARD_RATIOS and ph is not None and as_float(row.get("estimate")) is not None:
        text += f"; proportional hazards (global test) p = {format_p(ph['p_value'])}"
    return text


def pooled_rows(endpoints: pd.DataFrame, order: list[str]) -> list[PooledRow]:
    """The pooled analyses (scope ALL, stratum all): log-rank, Cox, random-effects proportions."""
    table = endpoint_rows(endpoints)
    pooled = endpoints[endpoints["center_id"] == POOLED_SCOPE]
    rows = []
    for code in _ordered_codes(pooled, order):
        row = table.get((code, POOLED_SCOPE))
        if row is None or display_of(code).section != POOLED:
            continue
        rows.append(
            PooledRow(
                label=label_of(code, str(row["method"])),
                result=_result(code, row, table),
                p_value=format_p(row["p_value"]),
                method=str(row["method"]),
            )
        )
    return rows


def ph_note(endpoints: pd.DataFrame) -> dict[str, Any]:
    """Whether hazard ratios are shown, and the proportional-hazards p-value (None: none)."""
    table = endpoint_rows(endpoints)
    ph = table.get((PH_TEST, POOLED_SCOPE))
    return {
        "hazard_ratios": any((code, POOLED_SCOPE) in table for code in HAZARD_RATIOS),
        "ph_p": None if ph is None else as_float(ph["p_value"]),
        "ph_p_text": "" if ph is None else format_p(ph["p_value"]),
    }


def _codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Position of each value in `categories`, -1 where it is missing or not among them."""
    return np.asarray(pd.Categorical(values, categories=categories).codes, dtype=np.int64)


def tomita_cells(patients: pd.DataFrame) -> np.ndarray:
    """One center's Tomita class × procedure counts: class by class (`TOMITA_LABELS` order,
    "score unknown" last), within a class procedure by procedure (the contract's order).
    Counted with one `bincount` over integer codes, not a group-by of strings."""
    from spinemet_etl.scores import tomita_strategy_class

    classes = tomita_strategy_class(patients["tomita"])
    labels = list(TOMITA_LABELS)
    tomita = np.where(classes.isna().to_numpy(), labels.index("unknown"), _codes(classes, labels))
    procedure = _codes(patients["procedure"], PROCEDURES)
    counted = (procedure >= 0) & (tomita >= 0)
    cell = tomita * len(PROCEDURES) + procedure
    return np.bincount(cell[counted], minlength=len(labels) * len(PROCEDURES))


def combine_crosstab(centers: list[CenterCounts], suppress_below: int) -> list[Row]:
    """Tomita's suggested strategy against the procedure done: a row per center, then ALL,
    from each center's `tomita_cells` (5 × 3 counts per row).

    Notes:
        No row or column totals: with them, a hidden small cell could be recovered
        by subtraction inside the table.
    """
    rows = []
    counts = [np.asarray(center.crosstab, dtype=np.int64) for center in centers]
    scopes = [center.center_id for center in centers]
    for index, scope in enumerate([*scopes, POOLED_SCOPE] if scopes else []):
        k = suppress_below if protects(scope, len(scopes), suppress_below) else 0
        cells = np.sum(counts, axis=0) if scope == POOLED_SCOPE else counts[index]
        rows.append(Row(scope, [count_text(int(count), k) for count in cells]))
    return rows
