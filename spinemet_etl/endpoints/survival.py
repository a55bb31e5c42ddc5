"""Survival endpoints of the table: KM medians, rates and restricted means, and score C-indices."""

from __future__ import annotations

import numpy as np

from spinemet_etl.endpoints.statistics import Statistics
from spinemet_etl.endpoints.sums import PAIR_KINDS, SCORES
from spinemet_etl.endpoints.table import STRATA, Endpoint
from spinemet_etl.stats.concordance import pair_counts
from spinemet_etl.stats.km import GroupedKM, km_cells
from spinemet_etl.stats.km_summary import (
    GroupValues,
    median_survival,
    restricted_mean,
    survival_at,
)

KM = "kaplan-meier; ci=log (R survival default)"
MEDIAN = f"{KM}; median ci=Brookmeyer-Crowley; se=Collett"
RATE_MONTHS = (6, 12, 24)
STRATIFIED_C = "pairs within centers only (R concordance(... + strata(center_id)))"


def curves(stats: Statistics, outcome: int, event: str, censored: tuple[str, ...]) -> GroupedKM:
    """Kaplan–Meier curves of every group from the risk sets of one outcome.

    `event` names the risk-set column counted as the event, `censored` those counted as
    censorings (the reverse KM of follow-up swaps them). Each center cell feeds four
    groups: (center, all), (center, procedure), (ALL, all), (ALL, procedure).
    """
    risk = stats.risk[stats.risk["outcome"] == outcome]
    width, pooled = len(STRATA), len(stats.scopes) - 1
    center = risk["center"].to_numpy() * width
    step = risk["procedure"].to_numpy() + 1
    group = np.concatenate(
        [center, center + step, np.full(center.size, pooled * width), pooled * width + step]
    )
    time = np.tile(risk["time"].to_numpy(), 4)
    events = np.tile(risk[event].to_numpy(), 4)
    total = np.tile(risk[event].to_numpy() + risk[list(censored)].sum(axis=1).to_numpy(), 4)
    order = np.lexsort((time, group))
    group, time, events, total = group[order], time[order], events[order], total[order]
    new = np.ones(group.size, dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (time[1:] != time[:-1])
    first = np.flatnonzero(new)
    n_event = np.add.reduceat(events, first) if first.size else events[:0]
    n_total = np.add.reduceat(total, first) if first.size else total[:0]
    layout = stats.layout
    return km_cells(
        group[first].astype(np.int64), stats.months(time[first]), n_event, n_total, layout.n_groups
    )


def _from_values(code: str, method: str, values: GroupValues, scale: float = 1.0) -> Endpoint:
    return Endpoint(
        code, method, estimate=scale * values.estimate, se=scale * values.se,
        ci_lower=scale * values.lower, ci_upper=scale * values.upper,
    )  # fmt: skip


def _coarse(stats: Statistics, method: str) -> str:
    """`method`, with the time coarsening said when the risk sets are not in days."""
    if stats.time_unit == "day":
        return method
    return f"{method}; approximate: follow-up times coarsened to whole {stats.time_unit}s"


def survival_endpoints(stats: Statistics) -> list[Endpoint]:
    """Follow-up median, OS median / restricted mean / rates, and the 12-month LC rate.

    Notes:
        Median follow-up is the reverse Kaplan–Meier median (alive at last contact is the
        "event", death censors), over all patients, with the same median rule and CI as
        OS; its SE is left null (Collett's SE is defined for the OS median). Rates are
        percentages and null beyond the group's largest observed time.
    """
    reverse = median_survival(curves(stats, 0, "censored", ("events", "competing")))
    os_curves = curves(stats, 0, "events", ("competing", "censored"))
    followup_method = _coarse(stats, f"reverse {KM}; median ci=Brookmeyer-Crowley")
    followup = _from_values("followup_median_months", followup_method, reverse)
    followup.se = None
    endpoints = [
        followup,
        _from_values("os_median_months", _coarse(stats, MEDIAN), median_survival(os_curves)),
        _from_values(
            "os_mean_months",
            _coarse(
                stats,
                "restricted mean survival to the largest observed time (R rmean='individual')",
            ),
            restricted_mean(os_curves),
        ),
    ]
    for months in RATE_MONTHS:
        rate = survival_at(os_curves, months)
        endpoints.append(
            _from_values(f"os_rate_{months}m", _coarse(stats, f"{KM}; percent"), rate, 100.0)
        )
    lc_curves = curves(stats, 1, "events", ("competing", "censored"))
    endpoints.append(
        _from_values(
            "lc_rate_12m", _coarse(stats, f"{KM}; percent"), survival_at(lc_curves, 12), 100.0
        )
    )
    return endpoints


def concordance_endpoints(stats: Statistics) -> list[Endpoint]:
    """Harrell's C of the Tokuhashi (higher = better) and Tomita (reversed) scores against OS.

    Notes:
        `n` counts the patients with the score; the C is null without a comparable pair;
        no SE. A center's C counts its own pairs. The pooled scope's C counts every pair
        of patients when the rows are at hand (`stats.plain_c`); from summaries it can
        count only pairs within a center (R's `+ strata(center_id)`), and `method` says so.
    """
    pooled = np.arange(stats.layout.n_groups) // len(STRATA) == len(stats.scopes) - 1
    endpoints = []
    for name, _, reverse in SCORES:
        counts = [stats.sums[f"{name}_{kind}"] for kind in PAIR_KINDS]
        c_index = pair_counts(*counts).c_index
        orientation = "reverse=TRUE" if reverse else "reverse=FALSE"
        method = f"Harrell's C (R concordance, {orientation}); tied scores count 1/2"
        if name in stats.plain_c:
            c_index = np.where(pooled, stats.plain_c[name].c_index, c_index)
        else:
            method = f"{method}; pooled: {STRATIFIED_C}"
        n_scored = stats.sums[f"{name}_n"]
        endpoints.append(Endpoint(f"{name}_cindex", method, estimate=c_index, n=n_scored))
    return endpoints
