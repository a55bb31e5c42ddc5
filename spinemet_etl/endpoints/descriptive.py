"""Counts, means and proportions of the endpoint table (descriptive, perioperative, response)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.patients import PROCEDURES
from spinemet_etl.endpoints.table import Endpoint, Groups
from spinemet_etl.stats.grouping import FloatArray
from spinemet_etl.stats.proportions import wilson_interval

COUNT = "count"
WILSON = "proportion x 100; ci=Wilson score (R prop.test, correct=FALSE)"
FOLLOW_UP_DAYS = 30
DEATH_WINDOW_DAYS = 30
VAS_TOLERANCE = 1e-9


def _bool(series: pd.Series) -> np.ndarray:
    """A nullable boolean column as a plain numpy bool array, null counted as False."""
    return series.fillna(False).to_numpy(dtype=bool)


def days_between(later: pd.Series, earlier: pd.Series) -> FloatArray:
    """Whole days from `earlier` to `later`; NaN where either is missing."""
    days = (later - earlier).dt.days
    return np.asarray(days.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def count_endpoint(
    code: str, groups: Groups, mask: np.ndarray, denominator: FloatArray
) -> Endpoint:
    """A count: estimate = numerator = patients where `mask` holds."""
    count = groups.count(mask)
    return Endpoint(code, COUNT, estimate=count, numerator=count, denominator=denominator)


def proportion_endpoint(
    code: str, groups: Groups, success: np.ndarray, eligible: np.ndarray, method: str = WILSON
) -> Endpoint:
    """A percentage of eligible patients with its Wilson 95 % CI; null when none is eligible."""
    numerator = groups.count(success & eligible)
    denominator = groups.count(eligible)
    lower, upper = wilson_interval(numerator, denominator)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(denominator > 0, 100 * numerator / denominator, np.nan)
    return Endpoint(
        code, method, estimate=estimate, numerator=numerator, denominator=denominator,
        ci_lower=100 * lower, ci_upper=100 * upper,
    )  # fmt: skip


def baseline_endpoints(patients: pd.DataFrame, groups: Groups, n: FloatArray) -> list[Endpoint]:
    """patients_n, sex counts, age mean and SD, procedure counts, high anesthetic risk."""
    age = patients["age_at_surgery_years"].to_numpy(dtype=np.float64)
    sums = groups.count(age)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, sums / n, np.nan)
        squares = np.zeros(groups.n_groups)
        for block in groups.membership_blocks():
            weights = (age - mean[block]) ** 2
            squares += np.bincount(block, weights=weights, minlength=groups.n_groups)
        sd = np.where(n >= 2, np.sqrt(squares / (n - 1)), np.nan)
    risk = patients["anesthetic_risk"]
    endpoints = [
        Endpoint("patients_n", COUNT, estimate=n, numerator=n),
        count_endpoint("male_n", groups, (patients["sex"] == "male").to_numpy(), n),
        count_endpoint("female_n", groups, (patients["sex"] == "female").to_numpy(), n),
        Endpoint("age_mean_years", "arithmetic mean", estimate=mean),
        Endpoint("age_sd_years", "sample standard deviation (ddof=1)", estimate=sd),
    ]
    for code, procedure in enumerate(PROCEDURES):
        endpoint = count_endpoint(f"procedure_{procedure}_n", groups, groups.procedure == code, n)
        endpoint.rows = groups.stratum_all()
        endpoints.append(endpoint)
    known = groups.count(risk.notna().to_numpy())
    endpoints.append(
        count_endpoint("anesthetic_risk_high_n", groups, (risk == "high").to_numpy(), known)
    )
    return endpoints


def perioperative_endpoints(
    patients: pd.DataFrame, groups: Groups, n: FloatArray
) -> list[Endpoint]:
    """Intraoperative deaths, deaths within 30 days after surgery, and 30-day mortality.

    Notes:
        A postoperative death counts when 0 ≤ death_date − surgery_date ≤ 30 days and the
        patient did not die during surgery (those are counted separately); the 30-day
        mortality adds both, over all patients of the group.
    """
    intraop = patients["intraop_death"].to_numpy(dtype=bool)
    days = days_between(patients["death_date"], patients["surgery_date"])
    dead = (patients["vital_status"] == "dead").to_numpy()
    early = ~intraop & dead & (days >= 0) & (days <= DEATH_WINDOW_DAYS)
    everyone = np.ones(intraop.size, dtype=bool)
    return [
        count_endpoint("intraop_death_n", groups, intraop, n),
        count_endpoint("death_30d_postop_n", groups, early, n),
        proportion_endpoint("mortality_30d_pct", groups, intraop | early, everyone),
    ]


def response_endpoints(patients: pd.DataFrame, groups: Groups, pain_mcid: float) -> list[Endpoint]:
    """Pain relief, neurological improvement and worsening, immediately after surgery.

    Notes:
        Pain relief: VAS fell by at least `pain_mcid` points, among patients who could
        show it (preoperative VAS ≥ `pain_mcid`). VAS values come from 0–100 scales
        divided by 10, so the comparisons allow 1e-9 of floating-point slack (7.3 − 2
        must count as 5.3). Frankel grades are compared by their order A < … < E.
    """
    alive = ~patients["intraop_death"].to_numpy(dtype=bool)
    pre = patients["vas_pain_preop"].to_numpy(dtype=np.float64, na_value=np.nan)
    post = patients["vas_pain_postop"].to_numpy(dtype=np.float64, na_value=np.nan)
    pain_eligible = alive & ~np.isnan(pre) & ~np.isnan(post) & (pre >= pain_mcid - VAS_TOLERANCE)
    relieved = pre - post >= pain_mcid - VAS_TOLERANCE
    before = patients["frankel_preop"].cat.codes.to_numpy()
    after = patients["frankel_postop"].cat.codes.to_numpy()
    both = alive & (before >= 0) & (after >= 0)
    grade_e = len(patients["frankel_preop"].cat.categories) - 1
    return [
        proportion_endpoint(
            "pain_relief_pct", groups, relieved, pain_eligible, f"{WILSON}; pain_mcid={pain_mcid:g}"
        ),
        proportion_endpoint(
            "neuro_improvement_pct", groups, after > before, both & (before < grade_e)
        ),
        proportion_endpoint("neuro_worsening_pct", groups, after < before, both),
    ]


def followup_endpoints(patients: pd.DataFrame, groups: Groups, n: FloatArray) -> list[Endpoint]:
    """Patients followed up beyond 30 days, their mean follow-up, and local control.

    Notes:
        "Followed up" is judged on whole days, (last_contact_date − surgery_date) > 30,
        not on os_months, so no rounding of months can move a patient across the line.
    """
    days = days_between(patients["last_contact_date"], patients["surgery_date"])
    followed = days > FOLLOW_UP_DAYS
    months = patients["os_months"].to_numpy(dtype=np.float64)
    count = groups.count(followed)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, groups.count(np.where(followed, months, 0.0)) / count, np.nan)
    recurrence = patients["local_recurrence"]
    return [
        count_endpoint("followed_up_n", groups, followed, n),
        Endpoint(
            "followup_mean_months", "arithmetic mean over followed-up patients", estimate=mean
        ),
        proportion_endpoint(
            "local_control_pct",
            groups,
            ~_bool(recurrence),
            followed & recurrence.notna().to_numpy(),
        ),
    ]
