"""The study's endpoint table (docs/contract/endpoints.md), per center and pooled, by procedure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from spinemet_etl.endpoints.descriptive import (
    baseline_endpoints,
    completeness_endpoints,
    followup_endpoints,
    perioperative_endpoints,
    response_endpoints,
)
from spinemet_etl.endpoints.horizons import horizon_endpoints
from spinemet_etl.endpoints.pooled import (
    cox_endpoints,
    logrank_endpoints,
    random_effects_endpoints,
    reml_endpoints,
)
from spinemet_etl.endpoints.statistics import Statistics, from_rows
from spinemet_etl.endpoints.survival import concordance_endpoints, survival_endpoints
from spinemet_etl.endpoints.table import STRATA, assemble

__all__ = ["ENDPOINT_CODES", "STRATA", "compute_endpoints", "endpoints_of"]

ENDPOINT_CODES = [
    "patients_n", "male_n", "female_n", "age_mean_years", "age_sd_years",
    "procedure_palliative_n", "procedure_curettage_n", "procedure_en_bloc_n",
    "anesthetic_risk_high_n",
    "intraop_death_n", "death_30d_postop_n", "mortality_30d_pct",
    "pain_relief_pct", "neuro_improvement_pct", "neuro_worsening_pct",
    "followed_up_n", "followup_mean_months", "followup_median_months",
    "os_median_months", "os_mean_months", "os_rate_6m", "os_rate_12m", "os_rate_24m",
    "local_control_pct", "lc_rate_12m",
    "os_events_n", "os_at_risk_6m", "os_at_risk_12m", "os_at_risk_24m",
    "os_rmst_24m", "os_rmst_60m", "lc_cuminc_12m", "lc_cuminc_24m",
    "followup_completeness_pct", "alive_seen_12m_pct",
    "tokuhashi_cindex", "tomita_cindex", "tokuhashi_cindex_stratified", "tomita_cindex_stratified",
    "os_logrank_centers", "os_logrank_procedure_stratified",
    "os_cox_hr_curettage", "os_cox_hr_en_bloc", "os_cox_ph_global_p",
    "mortality_30d_pct_re", "pain_relief_pct_re", "neuro_improvement_pct_re",
    "local_control_pct_re",
    "mortality_30d_pct_re_reml", "pain_relief_pct_re_reml", "neuro_improvement_pct_re_reml",
    "local_control_pct_re_reml",
    "mortality_30d_pct_pi", "pain_relief_pct_pi", "neuro_improvement_pct_pi",
    "local_control_pct_pi",
]  # fmt: skip


def compute_endpoints(
    patients: pd.DataFrame,
    *,
    pain_mcid: float = 2.0,
    data_cutoffs: Mapping[str, date] | None = None,
) -> pd.DataFrame:
    """Every endpoint for every scope (each center, then ALL) × stratum, as EndpointsModel.

    `patients` is the canonical frame (PatientsModel columns and dtypes, `center_id` a
    column). Each center is summarized (`statistics.from_rows`: the same sums and risk
    sets a center summary holds), then the table is computed from those statistics, as
    `spinemet pool` does from summaries; only the pooled C-index also counts pairs
    across centers, from the rows. `data_cutoffs` are the centers' stated data cut-offs
    (the others use their latest last contact). Vectorized: no Python loop per patient.
    """
    return endpoints_of(from_rows(patients, pain_mcid=pain_mcid, data_cutoffs=data_cutoffs))


def endpoints_of(stats: Statistics) -> pd.DataFrame:
    """The endpoint table of a consortium's sufficient statistics.

    Rows are ordered by scope (centers sorted, then ALL), stratum (`all`, then
    procedures in the schema's order) and endpoint (`ENDPOINT_CODES`). A scope × stratum
    without patients has its rows with n = 0 and null estimates; pooled analyses appear
    only at (ALL, all).
    """
    groups, n = stats.layout, stats.sums["n"]
    endpoints = [
        *baseline_endpoints(stats),
        *perioperative_endpoints(stats),
        *response_endpoints(stats),
        *followup_endpoints(stats),
        *survival_endpoints(stats),
        *horizon_endpoints(stats),
        *completeness_endpoints(stats),
        *concordance_endpoints(stats),
        *logrank_endpoints(stats),
        *cox_endpoints(stats),
    ]
    by_code = {endpoint.code: endpoint for endpoint in endpoints}
    endpoints += random_effects_endpoints(by_code, groups, n)
    endpoints += reml_endpoints(by_code, groups, n)
    return assemble(endpoints, groups, n, ENDPOINT_CODES)
