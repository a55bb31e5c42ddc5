"""What the page needs of one center's patients, as counts: the parts the page adds up.

A center's `CenterCounts` hold its Table 1 tallies, Frankel transitions, Tomita ×
procedure crosstab, deaths, flow dates and its known ages (Table 1's mean and SD need
the values). The page's combine functions (`baseline.combine_baseline`,
`procedures.combine_frankel`, `tables.combine_crosstab`, `flow.combine_flows`,
`figures.combine_os_events`) add centers' counts and apply the disclosure control after
adding, so the page is the same whether the counts come from the rows just read or from
each center's statistics cache entry (`federated.cache`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from schemas.patients import PROCEDURES
from spinemet_etl.report.baseline import BASELINE_COLUMNS, CATEGORICAL, class_tally, known_ages
from spinemet_etl.report.procedures import frankel_cells
from spinemet_etl.report.tables import tomita_cells
from spinemet_etl.stats.grouping import FloatArray

FLOW_COLUMNS = ("surgery_date", "last_contact_date")
FRANKEL_COLUMNS = ("frankel_preop", "frankel_postop")
COUNTS_FORMAT = 1


@dataclass(frozen=True)
class CenterCounts:
    """One center's patients as the page counts them (no patient row but its known ages).

    `baseline` maps each of Table 1's categorical columns to its tally (patients without a
    class, then with each class in turn); `frankel` each procedure to its 6 × 6 counts of
    grade before × after (A–E, not known); `crosstab` the Tomita class × procedure counts;
    `deaths` the deaths per stratum (`all`, `procedure=<code>`); `flow` the month of the
    first and last operation and the latest last contact. A part is None when the rows
    lacked its columns.
    """

    center_id: str
    patients: int
    deaths: dict[str, int]
    crosstab: list[int]
    baseline: dict[str, list[int]] | None = None
    frankel: dict[str, list[int]] | None = None
    flow: dict[str, str] | None = None
    ages: FloatArray = field(default_factory=lambda: np.zeros(0))
    """The known ages at surgery, in row order (not part of `to_document`)."""

    def to_document(self) -> dict[str, Any]:
        """The counts as JSON-ready values (the ages go with the center's rows)."""
        return {
            "format": COUNTS_FORMAT,
            "center_id": self.center_id,
            "patients": self.patients,
            "deaths": self.deaths,
            "crosstab": self.crosstab,
            "baseline": self.baseline,
            "frankel": self.frankel,
            "flow": self.flow,
        }


def counts_from_document(document: dict[str, Any], ages: FloatArray) -> CenterCounts:
    """The counts `to_document` wrote, with the center's known ages; ValueError when the
    document is not such counts."""
    if not isinstance(document, dict) or document.get("format") != COUNTS_FORMAT:
        raise ValueError("not a page counts document of this format")
    counts = CenterCounts(
        center_id=str(document["center_id"]),
        patients=int(document["patients"]),
        deaths={str(k): int(v) for k, v in document["deaths"].items()},
        crosstab=[int(v) for v in document["crosstab"]],
        baseline=_int_lists(document["baseline"]),
        frankel=_int_lists(document["frankel"]),
        flow=None
        if document["flow"] is None
        else {str(k): str(v) for k, v in document["flow"].items()},
        ages=ages,
    )
    if counts.patients < ages.size or sum(counts.crosstab) > counts.patients:
        raise ValueError("page counts disagree with the center's rows")
    return counts


def _int_lists(document: dict[str, Any] | None) -> dict[str, list[int]] | None:
    if document is None:
        return None
    return {str(name): [int(v) for v in values] for name, values in document.items()}


def _has(patients: pd.DataFrame, columns: tuple[str, ...]) -> bool:
    return set(columns) <= set(patients.columns)


def _when(value: pd.Timestamp, form: str) -> str:
    """A date in `form`, or "" for a center without any (NaT)."""
    return "" if pd.isna(value) else f"{value:{form}}"


def _flow(patients: pd.DataFrame) -> dict[str, str]:
    surgery = pd.to_datetime(patients["surgery_date"])
    contact = pd.to_datetime(patients["last_contact_date"])
    return {
        "surgery_from": _when(surgery.min(), "%Y-%m"),
        "surgery_to": _when(surgery.max(), "%Y-%m"),
        "cutoff": _when(contact.max(), "%Y-%m-%d"),
    }


def _deaths(patients: pd.DataFrame) -> dict[str, int]:
    dead = patients["os_event"].astype(bool).to_numpy()
    procedure = patients["procedure"]
    deaths = {"all": int(dead.sum())}
    for name in PROCEDURES:
        deaths[f"procedure={name}"] = int((dead & (procedure == name).to_numpy()).sum())
    return deaths


def center_counts(center_id: str, patients: pd.DataFrame) -> CenterCounts:
    """The counts of one center's patients (canonical rows; parts whose columns are absent
    are None)."""
    baseline = None
    if _has(patients, BASELINE_COLUMNS):
        baseline = {
            column: class_tally(classify, patients[column]) for _, column, classify in CATEGORICAL
        }
    frankel = None
    if _has(patients, FRANKEL_COLUMNS):
        frankel = {name: cells.tolist() for name, cells in frankel_cells(patients).items()}
    ages = np.zeros(0)
    if "age_at_surgery_years" in patients.columns:
        ages = known_ages(patients["age_at_surgery_years"])
    return CenterCounts(
        center_id=center_id,
        patients=len(patients),
        deaths=_deaths(patients),
        crosstab=tomita_cells(patients).tolist(),
        baseline=baseline,
        frankel=frankel,
        flow=_flow(patients) if _has(patients, FLOW_COLUMNS) else None,
        ages=ages,
    )


def counts_by_center(patients: pd.DataFrame) -> list[CenterCounts]:
    """Each center's counts of a frame of several centers' rows (`center_id`), sorted by center."""
    codes, values = pd.factorize(patients["center_id"])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(values) + 1))
    by_name = {str(value): code for code, value in enumerate(values)}
    return [
        center_counts(name, patients.iloc[order[bounds[code] : bounds[code + 1]]])
        for name, code in sorted(by_name.items())
    ]
