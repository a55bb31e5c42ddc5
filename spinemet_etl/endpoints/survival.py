"""Survival endpoints of the table: KM medians, rates and restricted means, and score C-indices."""

from __future__ import annotations

import numpy as np

from spinemet_etl.endpoints.statistics import Statistics
from spinemet_etl.endpoints.sums import INFLUENCE_SUMS, PAIR_KINDS, RISK_COLUMNS, SCORES
from spinemet_etl.endpoints.table import STRATA, Endpoint
from spinemet_etl.stats.competing import CompetingCells
from spinemet_etl.stats.concordance import PairCounts, pair_counts
from spinemet_etl.stats.km import Z_95, GroupedKM, km_cells
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
PLAIN_FROM_SUMMARIES = "not computed from summaries (pairs across centers need patient rows); see"


RiskCells = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]


def risk_cells(stats: Statistics, outcome: int) -> RiskCells:
    """Group, time and the sums of each of RISK_COLUMNS per (group, distinct time) of one
    outcome; counted once per outcome and kept on `stats` (its risk sets do not change).

    Each center cell feeds four groups: (center, all), (center, procedure), (ALL, all),
    (ALL, procedure).
    """
    if outcome not in stats.cells:
        stats.cells[outcome] = _count_risk_cells(stats, outcome)
    return stats.cells[outcome]


def _count_risk_cells(stats: Statistics, outcome: int) -> RiskCells:
    risk = stats.risk[stats.risk["outcome"] == outcome]
    width, pooled = len(STRATA), len(stats.scopes) - 1
    center = risk["center"].to_numpy() * width
    step = risk["procedure"].to_numpy() + 1
    group = np.concatenate(
        [center, center + step, np.full(center.size, pooled * width), pooled * width + step]
    )
    time = np.tile(risk["time"].to_numpy(), 4)
    order = np.lexsort((time, group))
    group, time = group[order], time[order]
    new = np.ones(group.size, dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (time[1:] != time[:-1])
    first = np.flatnonzero(new)
    sums = {}
    for name in RISK_COLUMNS:
        column = risk[name].to_numpy()
        sums[name] = np.add.reduceat(np.tile(column, 4)[order], first) if first.size else column[:0]
    return group[first].astype(np.int64), time[first], sums


def curves(stats: Statistics, outcome: int, event: str, censored: tuple[str, ...]) -> GroupedKM:
    """Kaplan–Meier curves of every group from the risk sets of one outcome.

    `event` names the risk-set column counted as the event, `censored` those counted as
    censorings (the reverse KM of follow-up swaps them).
    """
    group, time, sums = risk_cells(stats, outcome)
    n_event = sums[event]
    n_total = n_event + np.sum([sums[name] for name in censored], axis=0)
    return km_cells(group, stats.months(time), n_event, n_total, stats.layout.n_groups)


def competing_cells(stats: Statistics) -> CompetingCells:
    """Local recurrences, deaths without recurrence and censorings per group and time."""
    group, time, sums = risk_cells(stats, 1)
    events, competing, censored = (sums[name] for name in RISK_COLUMNS)
    return CompetingCells(
        stats.layout.n_groups, group, stats.months(time), events, competing, censored
    )


def from_values(code: str, method: str, values: GroupValues, scale: float = 1.0) -> Endpoint:
    return Endpoint(
        code, method, estimate=scale * values.estimate, se=scale * values.se,
        ci_lower=scale * values.lower, ci_upper=scale * values.upper,
    )  # fmt: skip


def coarse(stats: Statistics, method: str) -> str:
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
    followup_method = coarse(stats, f"reverse {KM}; median ci=Brookmeyer-Crowley")
    followup = from_values("followup_median_months", followup_method, reverse)
    followup.se = None
    endpoints = [
        followup,
        from_values("os_median_months", coarse(stats, MEDIAN), median_survival(os_curves)),
        from_values(
            "os_mean_months",
            coarse(
                stats,
                "restricted mean survival to the largest observed time (R rmean='individual')",
            ),
            restricted_mean(os_curves),
        ),
    ]
    for months in RATE_MONTHS:
        rate = survival_at(os_curves, months)
        endpoints.append(
            from_values(f"os_rate_{months}m", coarse(stats, f"{KM}; percent"), rate, 100.0)
        )
    lc_curves = curves(stats, 1, "events", ("competing", "censored"))
    endpoints.append(
        from_values(
            "lc_rate_12m", coarse(stats, f"{KM}; percent"), survival_at(lc_curves, 12), 100.0
        )
    )
    return endpoints


def _within_centers(stats: Statistics, name: str) -> PairCounts:
    """A score's pairs within centers per group, with their influence sums."""
    squares, cross, d_squares = (stats.sums[f"{name}_{part}"] for part in INFLUENCE_SUMS)
    concordant, discordant, tied = (stats.sums[f"{name}_{kind}"] for kind in PAIR_KINDS)
    return pair_counts(concordant, discordant, tied, (squares, cross, d_squares))


def _c_values(endpoint: Endpoint, counts: PairCounts, rows: np.ndarray) -> None:
    """Set C, its SE and CI (C ± z·se) of `counts` in the groups `rows`."""
    se = counts.c_index_se()
    values = {
        "estimate": counts.c_index, "se": se, "ci_lower": counts.c_index - Z_95 * se,
        "ci_upper": counts.c_index + Z_95 * se,
    }  # fmt: skip
    for column, value in values.items():
        setattr(endpoint, column, np.where(rows, value, endpoint.column(column)))


def concordance_endpoints(stats: Statistics) -> list[Endpoint]:
    """Harrell's C of the Tokuhashi (higher = better) and Tomita (reversed) scores against OS,
    with the infinitesimal-jackknife SE and CI; the pooled scope also center-stratified.

    Notes:
        `n` counts the patients with the score; the C is null without a comparable pair.
        A center's C counts its own pairs. The pooled scope's plain C counts every pair of
        patients, so it needs the rows (`stats.plain_c`); from summaries it is null with
        the reason. `<score>_cindex_stratified` (pooled scope only) counts pairs within a
        center (R's `+ strata(center_id)`), from summaries exactly.
    """
    pooled = np.arange(stats.layout.n_groups) // len(STRATA) == len(stats.scopes) - 1
    endpoints = []
    for name, _, reverse in SCORES:
        within = _within_centers(stats, name)
        orientation = "reverse=TRUE" if reverse else "reverse=FALSE"
        method = (
            f"Harrell's C (R concordance, {orientation}); tied scores count 1/2; "
            "se=infinitesimal jackknife (R sqrt(concordance()$var)); ci=C +- z*se"
        )
        n_scored = stats.sums[f"{name}_n"]
        empty = np.full(pooled.size, np.nan)
        plain = Endpoint(f"{name}_cindex", method, estimate=empty, n=n_scored)
        _c_values(plain, within, ~pooled)
        if name in stats.plain_c:
            _c_values(plain, stats.plain_c[name], pooled)
        else:
            plain.method = f"{method}; pooled: {PLAIN_FROM_SUMMARIES} {name}_cindex_stratified"
        stratified = Endpoint(
            f"{name}_cindex_stratified", f"{method}; {STRATIFIED_C}", estimate=empty,
            n=n_scored, rows=pooled,
        )  # fmt: skip
        _c_values(stratified, within, pooled)
        endpoints += [plain, stratified]
    return endpoints
