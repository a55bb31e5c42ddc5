"""Survival at common horizons (endpoints.md version 2): deaths, numbers at risk, restricted
mean survival to 24 and 60 months, and the cumulative incidence of local recurrence."""

from __future__ import annotations

import numpy as np

from spinemet_etl.endpoints.descriptive import count_endpoint
from spinemet_etl.endpoints.statistics import Statistics
from spinemet_etl.endpoints.survival import coarse, competing_cells, curves, from_values
from spinemet_etl.endpoints.table import Endpoint
from spinemet_etl.stats.competing import cumulative_incidence_at
from spinemet_etl.stats.grouping import FloatArray
from spinemet_etl.stats.km_summary import at_risk, restricted_mean

AT_RISK_MONTHS = (6, 12, 24)
RMST_MONTHS = (24, 60)
CUMINC_MONTHS = (12, 24)
AT_RISK = "patients with os_months >= t (R summary(fit, times=t, extend=TRUE)$n.risk)"
RMST = "restricted mean survival to {h} months (R summary(fit, rmean={h})$table); ci=rmean +- z*se"
CUMINC = (
    "Aalen-Johansen cumulative incidence of local recurrence, death without recurrence "
    "competing (R survfit(Surv(lc_months, state) ~ 1)); se=infinitesimal jackknife; "
    "ci=log (R survival default); percent"
)


def horizon_endpoints(stats: Statistics) -> list[Endpoint]:
    """os_events_n, os_at_risk_*, os_rmst_* and lc_cuminc_* of every group.

    Notes:
        A horizon beyond the group's largest observed time gives a null RMST and
        cumulative incidence (R refuses to extrapolate there), while the number at risk
        is 0 (R `extend = TRUE`). A cumulative incidence of 0 has a null CI (R's log-scale
        interval is undefined at 0).
    """
    n = stats.sums["n"]
    os_curves = curves(stats, 0, "events", ("competing", "censored"))
    deaths: FloatArray = np.asarray(
        np.bincount(os_curves.group, weights=os_curves.n_event, minlength=n.size), np.float64
    )
    endpoints = [count_endpoint("os_events_n", deaths, n)]
    for months in AT_RISK_MONTHS:
        endpoint = count_endpoint(f"os_at_risk_{months}m", at_risk(os_curves, months), n)
        endpoint.method = coarse(stats, AT_RISK)
        endpoints.append(endpoint)
    for months in RMST_MONTHS:
        method = coarse(stats, RMST.format(h=months))
        values = restricted_mean(os_curves, horizon=months)
        endpoints.append(from_values(f"os_rmst_{months}m", method, values))
    cells = competing_cells(stats)
    for months in CUMINC_MONTHS:
        values = cumulative_incidence_at(cells, months)
        endpoints.append(from_values(f"lc_cuminc_{months}m", coarse(stats, CUMINC), values, 100.0))
    return endpoints
