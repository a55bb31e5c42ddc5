"""Results by procedure: the endpoint table per procedure stratum, Frankel transitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from schemas.endpoints import POOLED_SCOPE
from schemas.patients import PROCEDURES
from spinemet_etl.report.format import count_text
from spinemet_etl.report.tables import PROCEDURE_LABELS, Row, Section, endpoint_sections, protects

if TYPE_CHECKING:
    from spinemet_etl.report.counts import CenterCounts

MAX_PROCEDURE_CENTERS = 12
"""Centers shown in the per-procedure tables (the largest by patients), to keep them legible."""
FRANKEL_GRADES = ("A", "B", "C", "D", "E")
UNKNOWN = "not known"


def largest_scopes(endpoints: pd.DataFrame, scopes: list[str], limit: int) -> list[str]:
    """The `limit` centers of `scopes` with most patients (`patients_n`, stratum all), in
    the order of `scopes`, then ALL."""
    rows = endpoints[(endpoints["endpoint"] == "patients_n") & (endpoints["stratum"] == "all")]
    sizes = dict(zip(rows["center_id"].astype(str), rows["n"].fillna(0).astype(int), strict=True))
    centers = [scope for scope in scopes if scope != POOLED_SCOPE]
    kept = set(sorted(centers, key=lambda c: (-sizes.get(c, 0), c))[:limit])
    return [scope for scope in scopes if scope in kept or scope == POOLED_SCOPE]


@dataclass(frozen=True)
class ProcedureTable:
    """One procedure stratum's endpoint table: the stratum code, its title, its sections."""

    stratum: str
    title: str
    sections: list[Section]


def procedure_tables(
    endpoints: pd.DataFrame,
    scopes: list[str],
    order: list[str],
    suppress_below: int,
    os_events: dict[str, dict[str, int]],
) -> list[ProcedureTable]:
    """The endpoint table of each procedure stratum present in `endpoints`, in schema order,
    over the columns `scopes` (the caller keeps the largest centers, `largest_scopes`)."""
    present = set(endpoints["stratum"].astype(str))
    tables = []
    for procedure in PROCEDURES:
        stratum = f"procedure={procedure}"
        if stratum not in present:
            continue
        sections = endpoint_sections(
            endpoints, scopes, order, suppress_below,
            stratum=stratum, os_events=os_events.get(stratum),
        )  # fmt: skip
        tables.append(ProcedureTable(stratum, PROCEDURE_LABELS[procedure], sections))
    return tables


def _grades(values: pd.Series) -> np.ndarray:
    """Position of each Frankel grade in A–E; 5 (not known) when missing."""
    codes = pd.Categorical(values.astype("string"), categories=list(FRANKEL_GRADES)).codes
    return np.where(codes < 0, len(FRANKEL_GRADES), codes).astype(np.int64)


def frankel_cells(patients: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per procedure, the counts of grade before × after surgery (A–E, then not known), as
    36 counts row by row; zeros for a procedure without patients.

    Notes:
        Intraoperative deaths have no grade at discharge: they count as "not known",
        like any missing grade.
    """
    size = len(FRANKEL_GRADES) + 1
    cell = _grades(patients["frankel_preop"]) * size + _grades(patients["frankel_postop"])
    procedure = patients["procedure"].astype("string").fillna("").to_numpy()
    return {
        name: np.bincount(cell[procedure == name], minlength=size * size) for name in PROCEDURES
    }


def combine_frankel(centers: list[CenterCounts], suppress_below: int) -> dict[str, list[Row]]:
    """Frankel grade before × after surgery, all centers pooled, one table per procedure
    with patients, from each center's `frankel_cells`.

    Rows are the grade before surgery (A–E, then not known), cells the grade at
    discharge in the same order; counts. The tables pool all centers, so they are exact,
    unless the data hold one center (then counts 1..K−1 show as `<K`).
    """
    k = suppress_below if protects(POOLED_SCOPE, len(centers), suppress_below) else 0
    size = len(FRANKEL_GRADES) + 1
    labels = [*FRANKEL_GRADES, UNKNOWN]
    tables = {}
    for name in PROCEDURES:
        cells = [np.asarray((center.frankel or {})[name], dtype=np.int64) for center in centers]
        counts = np.sum(cells, axis=0, dtype=np.int64).reshape(size, size)
        if not counts.any():
            continue
        tables[name] = [
            Row(label, [count_text(int(c), k) for c in counts[row]])
            for row, label in enumerate(labels)
        ]
    return tables


def frankel_transitions(patients: pd.DataFrame, suppress_below: int) -> dict[str, list[Row]]:
    """`combine_frankel` of `patients` (canonical rows with `center_id`)."""
    from spinemet_etl.report.counts import counts_by_center

    return combine_frankel(counts_by_center(patients), suppress_below)
