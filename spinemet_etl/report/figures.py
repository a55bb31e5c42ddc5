"""Which curves and forest rows the report draws, from the patients and endpoint tables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from schemas.endpoints import POOLED_SCOPE
from schemas.patients import PROCEDURES
from spinemet_etl.report.forest import ForestPanel, ForestRow, forest_svg
from spinemet_etl.report.format import as_float, display_of, small, suppressed_text
from spinemet_etl.report.plots import PALETTE, Curve, km_svg
from spinemet_etl.report.tables import PROCEDURE_LABELS, EndpointRows, endpoint_rows, protects
from spinemet_etl.stats.grouping import sorted_inverse

if TYPE_CHECKING:
    from spinemet_etl.report.counts import CenterCounts

MAX_KM_CENTERS = 12
MAX_FOREST_CENTERS = 40
FOREST_ENDPOINTS = (
    "mortality_30d_pct",
    "pain_relief_pct",
    "neuro_improvement_pct",
    "local_control_pct",
)
SHORT_TITLES = {
    "mortality_30d_pct": "30-day mortality",
    "pain_relief_pct": "Pain relieved",
    "neuro_improvement_pct": "Neurology improved",
    "local_control_pct": "Local control",
}


def largest_centers(
    sizes: Mapping[str, int] | pd.Series, limit: int, suppress_below: int
) -> list[str]:
    """The `limit` centers with most patients (`sizes`: center → patients), in name order;
    centers of 1..K−1 left out.

    Notes:
        A Kaplan–Meier curve of fewer than K patients shows each death as a step, so
        under disclosure control such a center is not drawn at all.
    """
    ranked = sorted(
        (
            (str(center), int(size))
            for center, size in sizes.items()
            if size > 0 and not small(size, suppress_below)
        ),
        key=lambda item: (-item[1], item[0]),
    )
    return sorted(center for center, _ in ranked[:limit])


def _ranked(centers: list[str], tally: np.ndarray) -> dict[str, int]:
    """Centers with deaths, most first (ties in `centers`' order), then ALL's total."""
    ranked = np.argsort(-tally, kind="stable")
    counts = {centers[i]: int(tally[i]) for i in ranked if tally[i]}
    counts[POOLED_SCOPE] = int(tally.sum())
    return counts


def os_event_counts(patients: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Deaths per stratum (`all`, `procedure=<value>`) and scope (each center, `ALL`).

    Notes:
        Used to flag a median determined by fewer than 10 deaths when the endpoint table
        has no `os_events_n` row.
    """
    dead = patients["os_event"].astype(bool).to_numpy()
    codes, centers = pd.factorize(patients["center_id"])
    procedure = patients["procedure"]
    strata = [("all", dead)] + [
        (f"procedure={p}", dead & (procedure == p).to_numpy()) for p in PROCEDURES
    ]
    names = [str(center) for center in centers]
    # center codes of the deaths, not a copy of their rows
    return {
        stratum: _ranked(names, np.bincount(codes[rows], minlength=len(centers)))
        for stratum, rows in strata
    }


def combine_os_events(centers: list[CenterCounts]) -> dict[str, dict[str, int]]:
    """`os_event_counts` from each center's deaths (`counts.CenterCounts`, sorted by center)."""
    names = [center.center_id for center in centers]
    return {
        stratum: _ranked(names, np.array([c.deaths[stratum] for c in centers], dtype=np.int64))
        for stratum in ["all", *(f"procedure={p}" for p in PROCEDURES)]
    }


@dataclass(frozen=True)
class _Survival:
    """Every patient's OS as a cell: 2 × the index of its time in `times`, + 1 if censored."""

    times: np.ndarray
    cell: np.ndarray


def _survival(patients: pd.DataFrame) -> _Survival:
    """The patients' OS times (months) and events as cells, sorted once for every curve."""
    time = patients["os_months"].to_numpy(dtype=np.float64)
    event = patients["os_event"].to_numpy(dtype=bool)
    times, index = sorted_inverse(time)
    return _Survival(times, 2 * index + ~event)


def _curve(
    survival: _Survival,
    rows: np.ndarray | None,
    label: str,
    color: str,
    k: int,
    *,
    muted: bool = False,
) -> Curve:
    """The curve of the patients where `rows` holds (all when None), as counted cells of
    (time, event): one `bincount`, no copy of the patients' columns sorted."""
    cells = survival.cell if rows is None else survival.cell[rows]
    count = np.bincount(cells, minlength=2 * survival.times.size)
    kept = np.flatnonzero(count)
    return Curve(
        label, survival.times[kept // 2], kept % 2 == 0, suppress_below=k, color=color,
        muted=muted, count=count[kept],
    )  # fmt: skip


def km_by_center(patients: pd.DataFrame, centers: list[str], suppress_below: int) -> str:
    """Overall survival of all centers pooled, over each listed center's muted curve.

    Notes:
        Up to 12 crossing curves are unreadable at full strength; the pooled curve is
        what the reader compares against, so the centers are drawn thin and pale
        behind it, each still identifiable by its color and its numbers at risk.
    """
    n_centers = patients["center_id"].nunique()
    survival = _survival(patients)
    curves = [
        _curve(
            survival, (patients["center_id"] == center).to_numpy(), center, PALETTE[i],
            suppress_below, muted=True,
        )
        for i, center in enumerate(centers)
    ]  # fmt: skip
    pooled_k = suppress_below if protects(POOLED_SCOPE, n_centers, suppress_below) else 0
    curves.append(_curve(survival, None, "All centers", "#000000", pooled_k))
    return km_svg(curves, title="Overall survival by center", salt="km-centers")


def km_by_procedure(patients: pd.DataFrame, suppress_below: int) -> str:
    """Overall survival by procedure, all centers pooled."""
    n_centers = patients["center_id"].nunique()
    k = suppress_below if protects(POOLED_SCOPE, n_centers, suppress_below) else 0
    survival = _survival(patients)
    masks = [(patients["procedure"] == p).to_numpy() for p in PROCEDURES]
    curves = [
        _curve(survival, mask, PROCEDURE_LABELS[p], PALETTE[i], k)
        for i, (p, mask) in enumerate(zip(PROCEDURES, masks, strict=True))
        if mask.any()
    ]
    return km_svg(curves, title="Overall survival by procedure, all centers", salt="km-procedure")


def _forest_row(row: dict[str, Any] | None, label: str, k: int) -> ForestRow:
    if row is None or as_float(row["estimate"]) is None:
        has_patients = row is not None and (as_float(row["n"]) or 0) > 0
        note = "none eligible" if has_patients else "no patients"
        return ForestRow(label, None, None, None, note=note)
    if k > 0 and suppressed_text(row, "pct", k) is not None:
        return ForestRow(label, None, None, None, note=f"suppressed (<{k})")
    estimate, lower, upper = (as_float(row[c]) for c in ("estimate", "ci_lower", "ci_upper"))
    return ForestRow(label, estimate, lower, upper)


def heterogeneity_text(method: str) -> str:
    """`τ² = 0.31, I² = 42.0 %` from a random-effects row's `method` text, "" when absent."""
    tau2 = re.search(r"(?:tau2|τ²)\s*=\s*([-+0-9.eE]+)", method)
    i2 = re.search(r"(?:I2|I²)\s*=\s*([0-9.]+)\s*%", method)
    parts = [
        f"τ² = {float(tau2.group(1)):.3g}" if tau2 else "",
        f"I² = {i2.group(1)} %" if i2 else "",
    ]
    return ", ".join(part for part in parts if part)


def _pooled_code(table: EndpointRows, code: str) -> str:
    """The REML / Hartung–Knapp pooled row when the table has it, else DerSimonian–Laird's."""
    return f"{code}_re_reml" if (f"{code}_re_reml", POOLED_SCOPE) in table else f"{code}_re"


def _prediction(table: EndpointRows, code: str) -> ForestRow | None:
    row = table.get((f"{code}_pi", POOLED_SCOPE))
    if row is None:
        return None
    return ForestRow("95 % prediction interval", as_float(row["estimate"]),
                     as_float(row["ci_lower"]), as_float(row["ci_upper"]))  # fmt: skip


def forest_plot(endpoints: pd.DataFrame, centers: list[str], suppress_below: int) -> str:
    """Forest plot of the four per-center proportions, their random-effects pooled value,
    τ² and I², and the 95 % prediction interval when the table has it."""
    table = endpoint_rows(endpoints)
    k = suppress_below if protects("center", 2, suppress_below) else 0
    panels, reml = [], False
    for code in FOREST_ENDPOINTS:
        rows = [_forest_row(table.get((code, center)), center, k) for center in centers]
        pooled_code = _pooled_code(table, code)
        reml = reml or pooled_code.endswith("_reml")
        pooled = table.get((pooled_code, POOLED_SCOPE))
        panels.append(
            ForestPanel(
                SHORT_TITLES.get(code, display_of(code).label), rows,
                _forest_row(pooled, "Pooled", 0),
                heterogeneity=heterogeneity_text(str((pooled or {}).get("method", ""))),
                prediction=_prediction(table, code),
            )
        )  # fmt: skip
    label = "Pooled (REML, Hartung–Knapp CI)" if reml else "Pooled (DerSimonian–Laird)"
    return forest_svg(panels, pooled_label=label, salt="forest")
