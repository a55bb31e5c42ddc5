"""The report's tables as plain rows of text: endpoints, pooled analyses, Tomita vs procedure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from schemas.endpoints import POOLED_SCOPE
from schemas.patients import PROCEDURES
from spinemet_etl.report.format import (
    NULL,
    POOLED,
    count_text,
    display_of,
    format_cell,
    format_p,
)

ALL_STRATUM = "all"
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


def endpoint_rows(endpoints: pd.DataFrame) -> EndpointRows:
    """The stratum-`all` rows of the endpoint table by (endpoint, scope), as plain dicts."""
    subset = endpoints[endpoints["stratum"] == ALL_STRATUM]
    return {
        (str(record["endpoint"]), str(record["center_id"])): {str(k): v for k, v in record.items()}
        for record in subset.to_dict("records")
    }


def _ordered_codes(endpoints: pd.DataFrame, order: list[str]) -> list[str]:
    present = list(dict.fromkeys(endpoints["endpoint"]))
    return [c for c in order if c in present] + [c for c in present if c not in order]


def endpoint_sections(
    endpoints: pd.DataFrame, scopes: list[str], order: list[str], suppress_below: int
) -> list[Section]:
    """The paper's table: endpoints as rows, the scopes (centers, then ALL) as columns."""
    table = endpoint_rows(endpoints)
    n_centers = sum(scope != POOLED_SCOPE for scope in scopes)
    sections: dict[str, list[Row]] = {}
    for code in _ordered_codes(endpoints[endpoints["stratum"] == ALL_STRATUM], order):
        display = display_of(code)
        if display.section == POOLED:
            continue
        cells = []
        for scope in scopes:
            row = table.get((code, scope))
            k = suppress_below if protects(scope, n_centers, suppress_below) else 0
            cells.append(NULL if row is None else format_cell(row, suppress_below=k))
        method = str(table.get((code, POOLED_SCOPE), {}).get("method", ""))
        sections.setdefault(display.section, []).append(Row(display.label, cells, method))
    return [Section(title, rows) for title, rows in sections.items()]


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
                label=display_of(code).label,
                result=format_cell(row),
                p_value=format_p(row["p_value"]),
                method=str(row["method"]),
            )
        )
    return rows


def _codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Position of each value in `categories`, -1 where it is missing or not among them."""
    return np.asarray(pd.Categorical(values, categories=categories).codes, dtype=np.int64)


def tomita_crosstab(patients: pd.DataFrame, classes: pd.Series, suppress_below: int) -> list[Row]:
    """Tomita's suggested strategy against the procedure done: a row per center, then ALL.

    Cells run class by class (`TOMITA_LABELS` order, "score unknown" last), and within a
    class procedure by procedure (the contract's order): 5 × 3 counts per row. Counted
    with one `bincount` over integer codes, not a group-by of strings.

    Notes:
        No row or column totals: with them, a hidden small cell could be recovered
        by subtraction inside the table.
    """
    center_id = patients["center_id"]
    scopes = sorted({str(c) for c in center_id.unique() if pd.notna(c)})
    labels = list(TOMITA_LABELS)
    tomita = np.where(classes.isna().to_numpy(), labels.index("unknown"), _codes(classes, labels))
    center = _codes(center_id, scopes)
    cell = (center * len(labels) + tomita) * len(PROCEDURES)
    procedure = _codes(patients["procedure"], PROCEDURES)
    counted = (procedure >= 0) & (center >= 0) & (tomita >= 0)
    width = len(labels) * len(PROCEDURES)
    counts = np.bincount((cell + procedure)[counted], minlength=len(scopes) * width).reshape(
        len(scopes), width
    )
    rows = []
    for index, scope in enumerate([*scopes, POOLED_SCOPE] if scopes else []):
        k = suppress_below if protects(scope, len(scopes), suppress_below) else 0
        cells = counts.sum(axis=0) if scope == POOLED_SCOPE else counts[index]
        rows.append(Row(scope, [count_text(int(count), k) for count in cells]))
    return rows
