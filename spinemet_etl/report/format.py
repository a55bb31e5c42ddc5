"""How endpoint values read in the report: one text per cell, with small-cell suppression."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

NULL = "–"
NOT_REACHED = "NR"


@dataclass(frozen=True)
class Display:
    """How one endpoint is shown: its label, its section of the table and its kind of value."""

    label: str
    section: str
    kind: str


DESCRIPTIVE, PERIOP, RESPONSE, SURVIVAL, SCORES, POOLED = (
    "Descriptive",
    "Perioperative",
    "Immediate clinical response",
    "Follow-up and survival",
    "Prognostic scores",
    "Pooled analyses",
)

DISPLAYS: dict[str, Display] = {
    "patients_n": Display("Patients", DESCRIPTIVE, "count"),
    "male_n": Display("Men, n (% of patients)", DESCRIPTIVE, "count_pct"),
    "female_n": Display("Women, n (% of patients)", DESCRIPTIVE, "count_pct"),
    "age_mean_years": Display("Age at surgery, mean (years)", DESCRIPTIVE, "mean"),
    "age_sd_years": Display("Age at surgery, SD (years)", DESCRIPTIVE, "mean"),
    "procedure_palliative_n": Display("Palliative surgery", DESCRIPTIVE, "count"),
    "procedure_curettage_n": Display("Curettage (intralesional)", DESCRIPTIVE, "count"),
    "procedure_en_bloc_n": Display("En bloc resection", DESCRIPTIVE, "count"),
    "anesthetic_risk_high_n": Display(
        "High anesthetic risk, n (% of patients assessed)", DESCRIPTIVE, "count_pct"
    ),
    "intraop_death_n": Display("Intraoperative deaths", PERIOP, "count"),
    "death_30d_postop_n": Display("Deaths within 30 days after surgery", PERIOP, "count"),
    "mortality_30d_pct": Display("30-day mortality, intraoperative included", PERIOP, "pct"),
    "pain_relief_pct": Display(
        "Pain relieved: VAS fell by ≥ {mcid} points, among patients with a preoperative VAS"
        " ≥ {mcid} and both scores known",
        RESPONSE,
        "pct",
    ),
    "neuro_improvement_pct": Display(
        "Neurology improved by ≥ 1 Frankel grade, among Frankel A–D before surgery",
        RESPONSE,
        "pct",
    ),
    "neuro_worsening_pct": Display(
        "Neurology worsened by ≥ 1 Frankel grade, among patients with both grades known",
        RESPONSE,
        "pct",
    ),
    "followed_up_n": Display("Followed up beyond 30 days", SURVIVAL, "count"),
    "followup_mean_months": Display("Follow-up, mean (months)", SURVIVAL, "mean"),
    "followup_median_months": Display("Follow-up, median, reverse KM (months)", SURVIVAL, "median"),
    "followup_completeness_pct": Display(
        "Follow-up completeness, Clark's index (observed ÷ potential follow-up)", SURVIVAL, "index"
    ),
    "alive_seen_12m_pct": Display(
        "Alive at last contact and seen within 12 months of the data cut-off", SURVIVAL, "pct"
    ),
    "os_events_n": Display("Deaths (events of overall survival)", SURVIVAL, "count"),
    "os_median_months": Display("Overall survival, median ± SE (months)", SURVIVAL, "median"),
    "os_mean_months": Display("Overall survival, restricted mean (months)", SURVIVAL, "mean"),
    "os_rmst_24m": Display("Overall survival, restricted mean to 24 months", SURVIVAL, "mean"),
    "os_rmst_60m": Display("Overall survival, restricted mean to 60 months", SURVIVAL, "mean"),
    "os_rate_6m": Display("Alive at 6 months (KM)", SURVIVAL, "rate"),
    "os_at_risk_6m": Display("At risk at 6 months", SURVIVAL, "count"),
    "os_rate_12m": Display("Alive at 12 months (KM)", SURVIVAL, "rate"),
    "os_at_risk_12m": Display("At risk at 12 months", SURVIVAL, "count"),
    "os_rate_24m": Display("Alive at 24 months (KM)", SURVIVAL, "rate"),
    "os_at_risk_24m": Display("At risk at 24 months", SURVIVAL, "count"),
    "local_control_pct": Display("Local control among followed-up", SURVIVAL, "pct"),
    "lc_rate_12m": Display("Free of local recurrence at 12 months (KM)", SURVIVAL, "rate"),
    "lc_cuminc_12m": Display(
        "Local recurrence by 12 months, cumulative incidence (death competing)", SURVIVAL, "rate"
    ),
    "lc_cuminc_24m": Display(
        "Local recurrence by 24 months, cumulative incidence (death competing)", SURVIVAL, "rate"
    ),
    "tokuhashi_cindex": Display("Revised Tokuhashi vs survival, Harrell's C", SCORES, "cindex"),
    "tomita_cindex": Display("Tomita vs survival, Harrell's C", SCORES, "cindex"),
    "os_logrank_centers": Display("Overall survival across centers, log-rank", POOLED, "chisq"),
    "os_logrank_procedure_stratified": Display(
        "Overall survival across procedures, log-rank stratified by center", POOLED, "chisq"
    ),
    "os_cox_hr_curettage": Display("Curettage vs palliative, Cox HR for death", POOLED, "hr"),
    "os_cox_hr_en_bloc": Display("En bloc vs palliative, Cox HR for death", POOLED, "hr"),
    "os_cox_ph_global_p": Display(
        "Proportional hazards of that Cox model, global test (cox.zph)", POOLED, "chisq"
    ),
    "tokuhashi_cindex_stratified": Display(
        "Revised Tokuhashi vs survival, Harrell's C stratified by center", POOLED, "cindex"
    ),
    "tomita_cindex_stratified": Display(
        "Tomita vs survival, Harrell's C stratified by center", POOLED, "cindex"
    ),
}
REPLACED_IN_REPORT = {
    "os_mean_months": ("os_rmst_24m", "os_rmst_60m"),
    "lc_rate_12m": ("lc_cuminc_12m", "lc_cuminc_24m"),
}
"""Version-1 endpoints the page leaves out when their version-2 replacement is computed
(endpoints.md: a per-stratum RMST horizon and 1 − KM of recurrence mislead)."""
FEW_EVENTS = 10
"""A median determined by fewer deaths than this is flagged as unstable."""
FEW_EVENTS_MARK = "‡"
PI_SUFFIX = "_pi"
POOLED_SUFFIXES = {
    "_re_reml": "REML random-effects pooled over centers, Hartung–Knapp CI",
    "_re": "random-effects (DerSimonian–Laird) pooled over centers",
    PI_SUFFIX: "95 % prediction interval of a new center (REML)",
}


def display_of(endpoint: str) -> Display:
    """The display of an endpoint code; random-effects rows and unknown codes get one too."""
    if endpoint in DISPLAYS:
        return DISPLAYS[endpoint]
    for suffix, what in POOLED_SUFFIXES.items():
        base = endpoint.removesuffix(suffix)
        if endpoint.endswith(suffix) and base in DISPLAYS:
            kind = "pi" if suffix == PI_SUFFIX else "pct"
            return Display(f"{label_of(base)}, {what}", POOLED, kind)
    return Display(endpoint, "Other", "number")


def label_of(endpoint: str, method: str = "") -> str:
    """An endpoint's label, with the pain threshold of its `method` text (`pain_mcid=…`)."""
    mcid = re.search(r"pain_mcid=([0-9.]+)", method)
    return display_of(endpoint).label.replace("{mcid}", mcid.group(1) if mcid else "2")


def as_float(value: Any) -> float | None:
    """A value as a float, None for null (None, NA, NaN)."""
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def format_p(p_value: Any) -> str:
    """A p-value: `< 0.001`, three decimals below 0.1, two above (`0.021`, `0.43`)."""
    p = as_float(p_value)
    if p is None:
        return NULL
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def _ci(lower: float | None, upper: float | None, digits: int, open_end: str = NULL) -> str:
    if lower is None and upper is None:
        return ""
    low = NULL if lower is None else f"{lower:.{digits}f}"
    high = open_end if upper is None else f"{upper:.{digits}f}"
    return f" (95 % CI {low}–{high})"


def _count(number: float | None) -> str:
    return NULL if number is None else str(round(number))


def count_text(count: Any, suppress_below: int) -> str:
    """A count as shown per center: `<K` for 1..K−1, `–` for null, else the integer."""
    return f"<{suppress_below}" if small(count, suppress_below) else _count(as_float(count))


def small(value: Any, suppress_below: int) -> bool:
    """Whether a count lies in 1..K−1 and must not be shown (K = `suppress_below`; 0 = off)."""
    number = as_float(value)
    return suppress_below > 0 and number is not None and 1 <= number < suppress_below


def suppressed_text(row: Mapping[str, Any], kind: str, k: int) -> str | None:
    """The text that replaces a cell under disclosure control, or None when it may be shown.

    Notes:
        A count is hidden when it, or its complement (denominator − count), lies in
        1..K−1: showing 119/120 tells the reader that one patient is in the other group.
        A proportion is hidden the same way, keeping a bound (`<5/120`, `>115/120`).
        An estimate that is not a count (mean, median, rate, C) is hidden when the
        scope has 1..K−1 patients, since a mean of one patient is that patient's value.
    """
    n, numerator, denominator = (as_float(row.get(c)) for c in ("n", "numerator", "denominator"))
    if kind in ("count", "count_pct"):
        count = as_float(row.get("estimate")) if numerator is None else numerator
        rest = None if denominator is None or count is None else denominator - count
        return f"<{k}" if small(count, k) or small(rest, k) else None
    if kind == "pct" and denominator is not None and numerator is not None:
        if small(denominator, k):
            return f"<{k}"
        if small(numerator, k):
            return f"<{k}/{denominator:.0f}"
        if small(denominator - numerator, k):
            return f">{denominator - k:.0f}/{denominator:.0f}"
        return None
    return f"{NULL} (n <{k})" if small(n, k) else None


def _count_with_share(count: float | None, row: Mapping[str, Any]) -> str:
    """`72 (60.0 %)` of all patients, or `40 (35.1 % of 114)` when the denominator is smaller."""
    denominator, n = as_float(row.get("denominator")), as_float(row.get("n"))
    if count is None or not denominator:
        return _count(count)
    of = "" if denominator == n else f" of {denominator:.0f}"
    return f"{count:.0f} ({count / denominator * 100:.1f} %{of})"


def format_cell(row: Mapping[str, Any], *, suppress_below: int = 0) -> str:
    """One endpoint row as the text of its table cell, e.g. `91.7 % (95 % CI 85.4–95.4) 110/120`.

    `suppress_below` > 0 applies disclosure control (the caller decides which scopes it
    protects). A missing row (`n` = 0 or no estimate) shows as `–`.
    """
    kind = display_of(str(row["endpoint"])).kind
    hidden = suppressed_text(row, kind, suppress_below) if suppress_below > 0 else None
    if hidden is not None:
        return hidden
    estimate, se = as_float(row.get("estimate")), as_float(row.get("se"))
    lower, upper = as_float(row.get("ci_lower")), as_float(row.get("ci_upper"))
    if kind == "count":
        return _count(estimate)
    if kind == "count_pct":
        return _count_with_share(estimate, row)
    if kind == "median":
        if estimate is None:
            return NOT_REACHED if (as_float(row.get("n")) or 0) > 0 else NULL
        spread = "" if se is None else f" ± {se:.1f}"
        return f"{estimate:.1f}{spread}{_ci(lower, upper, 1, NOT_REACHED)}"
    if estimate is None:
        return NULL
    if kind == "pi":
        low, high = (NULL if v is None else f"{v:.1f}" for v in (lower, upper))
        return f"{estimate:.1f} % (95 % prediction interval {low}–{high})"
    if kind == "index":
        return f"{estimate:.1f} %"
    if kind == "mean":
        spread = "" if se is None else f" ± {se:.1f}"
        return f"{estimate:.1f}{spread}{_ci(lower, upper, 1)}"
    if kind in ("pct", "rate"):
        numerator, denominator = as_float(row.get("numerator")), as_float(row.get("denominator"))
        counts = (
            ""
            if numerator is None or denominator is None
            else f" {numerator:.0f}/{denominator:.0f}"
        )
        return f"{estimate:.1f} %{_ci(lower, upper, 1)}{counts}"
    if kind == "cindex":
        return f"{estimate:.2f}{_ci(lower, upper, 2)}, n = {_count(as_float(row.get('n')))}"
    if kind == "chisq":
        return f"χ² = {estimate:.2f}"
    if kind == "hr":
        return f"HR {estimate:.2f}{_ci(lower, upper, 2)}"
    return f"{estimate:.3g}"
