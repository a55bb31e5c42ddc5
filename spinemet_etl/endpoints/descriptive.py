"""Counts, means and proportions of the endpoint table (descriptive, perioperative, response)."""

from __future__ import annotations

import numpy as np

from schemas.patients import PROCEDURES
from spinemet_etl.endpoints.statistics import Statistics
from spinemet_etl.endpoints.table import Endpoint
from spinemet_etl.stats.grouping import FloatArray
from spinemet_etl.stats.proportions import wilson_interval

COUNT = "count"
WILSON = "proportion x 100; ci=Wilson score (R prop.test, correct=FALSE)"


def count_endpoint(code: str, count: FloatArray, denominator: FloatArray) -> Endpoint:
    """A count: estimate = numerator = patients counted."""
    return Endpoint(code, COUNT, estimate=count, numerator=count, denominator=denominator)


def proportion_endpoint(
    code: str, numerator: FloatArray, denominator: FloatArray, method: str = WILSON
) -> Endpoint:
    """A percentage of eligible patients with its Wilson 95 % CI; null when none is eligible."""
    lower, upper = wilson_interval(numerator, denominator)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(denominator > 0, 100 * numerator / denominator, np.nan)
    return Endpoint(
        code, method, estimate=estimate, numerator=numerator, denominator=denominator,
        ci_lower=100 * lower, ci_upper=100 * upper,
    )  # fmt: skip


def _proportion(stats: Statistics, code: str, method: str = WILSON) -> Endpoint:
    sums = stats.sums
    return proportion_endpoint(code, sums[f"{code}_numerator"], sums[f"{code}_denominator"], method)


def baseline_endpoints(stats: Statistics) -> list[Endpoint]:
    """patients_n, sex counts, age mean and SD, procedure counts, high anesthetic risk."""
    sums = stats.sums
    n, age_n = sums["n"], sums["age_n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(age_n > 0, sums["age_sum"] / age_n, np.nan)
        variance = sums["age_centered_squares_sum"] / (age_n - 1)
        sd = np.where(age_n >= 2, np.sqrt(np.maximum(variance, 0.0)), np.nan)
    endpoints = [
        Endpoint("patients_n", COUNT, estimate=n, numerator=n),
        count_endpoint("male_n", sums["male_n"], n),
        count_endpoint("female_n", sums["female_n"], n),
        Endpoint("age_mean_years", "arithmetic mean", estimate=mean),
        Endpoint("age_sd_years", "sample standard deviation (ddof=1)", estimate=sd),
    ]
    for procedure in PROCEDURES:
        code = f"procedure_{procedure}_n"
        endpoint = count_endpoint(code, sums[code], n)
        endpoint.rows = stats.layout.stratum_all()
        endpoints.append(endpoint)
    endpoints.append(
        count_endpoint(
            "anesthetic_risk_high_n",
            sums["anesthetic_risk_high_n"],
            sums["anesthetic_risk_known_n"],
        )
    )
    return endpoints


def perioperative_endpoints(stats: Statistics) -> list[Endpoint]:
    """Intraoperative deaths, postoperative deaths within 30 days, and 30-day mortality."""
    n = stats.sums["n"]
    return [
        count_endpoint("intraop_death_n", stats.sums["intraop_death_n"], n),
        count_endpoint("death_30d_postop_n", stats.sums["death_30d_postop_n"], n),
        _proportion(stats, "mortality_30d_pct"),
    ]


def response_endpoints(stats: Statistics) -> list[Endpoint]:
    """Pain relief, neurological improvement and worsening, immediately after surgery."""
    return [
        _proportion(stats, "pain_relief_pct", f"{WILSON}; pain_mcid={stats.pain_mcid:g}"),
        _proportion(stats, "neuro_improvement_pct"),
        _proportion(stats, "neuro_worsening_pct"),
    ]


def followup_endpoints(stats: Statistics) -> list[Endpoint]:
    """Patients followed up beyond 30 days, their mean follow-up, and local control."""
    sums = stats.sums
    count = sums["followed_up_n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, sums["followed_up_os_months_sum"] / count, np.nan)
    return [
        count_endpoint("followed_up_n", count, sums["n"]),
        Endpoint(
            "followup_mean_months", "arithmetic mean over followed-up patients", estimate=mean
        ),
        _proportion(stats, "local_control_pct"),
    ]


def completeness_endpoints(stats: Statistics) -> list[Endpoint]:
    """Clark's follow-up completeness and the alive patients seen within 12 months of the
    data cut-off (endpoints.md version 2).

    Notes:
        Clark's index is Σ observed ÷ Σ potential follow-up days × 100, both sums in the
        numerator and denominator columns; it has no CI. A center's cut-off is its
        stated `data_cutoff`, else its latest last contact.
    """
    sums = stats.sums
    observed, potential = sums["followup_observed_days_sum"], sums["followup_potential_days_sum"]
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(potential > 0, 100 * observed / potential, np.nan)
    clark = Endpoint(
        "followup_completeness_pct",
        "Clark's completeness index: sum observed / sum potential follow-up days x 100",
        estimate=index,
        numerator=observed,
        denominator=potential,
    )
    seen = proportion_endpoint(
        "alive_seen_12m_pct",
        sums["alive_seen_12m_n"],
        sums["alive_n"],
        f"{WILSON}; alive at last contact, seen within 365 days before the data cut-off",
    )
    return [clark, seen]
