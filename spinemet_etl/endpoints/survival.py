"""Survival endpoints of the table: KM medians, rates and restricted means, and score C-indices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spinemet_etl.endpoints.table import Endpoint, Groups
from spinemet_etl.stats.concordance import PairCounts, add_pair_counts, harrell_c
from spinemet_etl.stats.km import km_sorted
from spinemet_etl.stats.km_summary import (
    GroupValues,
    median_survival,
    restricted_mean,
    survival_at,
)

KM = "kaplan-meier; ci=log (R survival default)"
MEDIAN = f"{KM}; median ci=Brookmeyer-Crowley; se=Collett"
RATE_MONTHS = (6, 12, 24)


def _sorted_memberships(
    groups: Groups, time: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group, time and event of every membership, sorted by (group, time, events first).

    Gathered straight from the per-patient columns (patient = membership mod n), the
    order array reused in place for the patients: no 4n-long copy in membership order.
    """
    order = groups.member_order(time, event)
    group = groups.member_group[order]
    patient = np.remainder(order, groups.center.size, out=order)
    return group, time[patient], event[patient]


def _from_values(code: str, method: str, values: GroupValues, scale: float = 1.0) -> Endpoint:
    return Endpoint(
        code, method, estimate=scale * values.estimate, se=scale * values.se,
        ci_lower=scale * values.lower, ci_upper=scale * values.upper,
    )  # fmt: skip


def survival_endpoints(patients: pd.DataFrame, groups: Groups) -> list[Endpoint]:
    """Follow-up median, OS median / restricted mean / rates, and the 12-month LC rate.

    Notes:
        Median follow-up is the reverse Kaplan–Meier median (alive at last contact is the
        "event", death censors), over all patients, with the same median rule and CI as
        OS; its SE is left null (Collett's SE is defined for the OS median). Rates are
        percentages and null beyond the group's largest observed time.
    """
    os_event = patients["os_event"].to_numpy(dtype=bool)
    os_time = patients["os_months"].to_numpy(dtype=np.float64)
    group, time, event = _sorted_memberships(groups, os_time, os_event)
    reverse = median_survival(km_sorted(group, time, ~event, groups.n_groups))
    os_curves = km_sorted(group, time, event, groups.n_groups)
    del group, time, event
    followup = _from_values(
        "followup_median_months", f"reverse {KM}; median ci=Brookmeyer-Crowley", reverse
    )
    followup.se = None
    endpoints = [
        followup,
        _from_values("os_median_months", MEDIAN, median_survival(os_curves)),
        _from_values(
            "os_mean_months",
            "restricted mean survival to the largest observed time (R rmean='individual')",
            restricted_mean(os_curves),
        ),
    ]
    for months in RATE_MONTHS:
        rate = survival_at(os_curves, months)
        endpoints.append(_from_values(f"os_rate_{months}m", f"{KM}; percent", rate, 100.0))
    lc_time = patients["lc_months"].to_numpy(dtype=np.float64)
    lc_event = patients["lc_event"].to_numpy(dtype=bool)
    lc_curves = km_sorted(*_sorted_memberships(groups, lc_time, lc_event), groups.n_groups)
    endpoints.append(
        _from_values("lc_rate_12m", f"{KM}; percent", survival_at(lc_curves, 12), 100.0)
    )
    return endpoints


def concordance_endpoints(patients: pd.DataFrame, groups: Groups) -> list[Endpoint]:
    """Harrell's C of the Tokuhashi (higher = better) and Tomita (reversed) scores against OS.

    Notes:
        `n` counts the patients with the score; the C is null without a comparable pair.
        No SE: R's infinitesimal-jackknife variance is not reproduced here. Counted one
        kind of membership at a time (n rows, not 4n: a quarter of the memory); the
        pair counts are integers, so adding them gives the same C bit for bit.
    """
    time = patients["os_months"].to_numpy(dtype=np.float64)
    event = patients["os_event"].to_numpy(dtype=bool)
    scores = (
        ("tokuhashi_cindex", "tokuhashi_revised", False),
        ("tomita_cindex", "tomita", True),
    )
    values = [
        patients[column].to_numpy(dtype=np.float64, na_value=np.nan) for _, column, _ in scores
    ]
    counts: list[list[PairCounts]] = [[] for _ in scores]
    for block, order in zip(
        groups.membership_blocks(), groups.block_orders(time, event), strict=True
    ):
        for index, (_, _, reverse) in enumerate(scores):
            counts[index].append(
                harrell_c(
                    block, time, event, values[index], groups.n_groups, reverse=reverse, order=order
                )
            )
    endpoints = []
    for (code, _, reverse), score, parts in zip(scores, values, counts, strict=True):
        pairs = add_pair_counts(parts)
        orientation = "reverse=TRUE" if reverse else "reverse=FALSE"
        method = f"Harrell's C (R concordance, {orientation}); tied scores count 1/2"
        n_scored = groups.count(~np.isnan(score))
        endpoints.append(Endpoint(code, method, estimate=pairs.c_index, n=n_scored))
    return endpoints
