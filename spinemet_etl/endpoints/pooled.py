"""Pooled analyses (scope ALL, stratum all): log-rank tests, stratified Cox, random effects."""

from __future__ import annotations

import numpy as np

from schemas.patients import PROCEDURES
from spinemet_etl.endpoints.statistics import Statistics
from spinemet_etl.endpoints.table import Endpoint, Groups
from spinemet_etl.stats.cox import MAX_ITERATIONS, cox_from_table
from spinemet_etl.stats.logrank import RiskTable, logrank_from_table, risk_table_cells
from spinemet_etl.stats.proportions import dersimonian_laird

RE_SOURCES = ("mortality_30d_pct", "pain_relief_pct", "neuro_improvement_pct", "local_control_pct")
COX = "Cox PH, strata=center_id, ties=Efron (R coxph); HR vs palliative; Wald p"


def _single(groups: Groups, code: str, method: str, **values: float) -> Endpoint:
    """An endpoint written only at (ALL, all)."""
    size = groups.n_groups
    arrays = {name: np.full(size, value, dtype=np.float64) for name, value in values.items()}
    arrays.setdefault("estimate", np.full(size, np.nan))
    return Endpoint(code, method, rows=groups.only_pooled(), **arrays)  # type: ignore[arg-type]


def _os_table(stats: Statistics, level: str, n_levels: int, strata: str | None) -> RiskTable:
    """At risk and deaths of OS per (stratum, event time) × level, from the risk sets."""
    risk = stats.risk[stats.risk["outcome"] == 0]
    total = risk["events"] + risk["competing"] + risk["censored"]
    strata_codes = np.zeros(len(risk), np.int64) if strata is None else risk[strata].to_numpy()
    return risk_table_cells(
        risk["time"].to_numpy(dtype=np.float64),
        risk["events"].to_numpy(),
        total.to_numpy(),
        risk[level].to_numpy(),
        n_levels,
        strata_codes,
    )


def logrank_endpoints(stats: Statistics) -> list[Endpoint]:
    """OS log-rank across centers, and across procedures stratified by center."""
    groups = stats.layout
    n_centers = len(groups.scopes) - 1
    tests = (
        ("os_logrank_centers", "log-rank across centers (R survdiff)", "center", n_centers, None),
        (
            "os_logrank_procedure_stratified",
            "log-rank across procedures, strata=center_id (R survdiff)",
            "procedure",
            len(PROCEDURES),
            "center",
        ),
    )
    endpoints = []
    for code, method, level, n_levels, strata in tests:
        try:
            result = logrank_from_table(_os_table(stats, level, max(n_levels, 1), strata))
        except np.linalg.LinAlgError:
            reason = "not computed: singular variance (no comparison within any stratum)"
            endpoints.append(_single(groups, code, f"{method}; {reason}"))
            continue
        if result.chisq is None or result.p_value is None:
            reason = "not computed: fewer than two groups with expected deaths"
            endpoints.append(_single(groups, code, f"{method}; {reason}"))
        else:
            endpoints.append(
                _single(
                    groups,
                    code,
                    f"{method}; df={result.df}",
                    estimate=result.chisq,
                    p_value=result.p_value,
                )
            )
    return endpoints


def cox_endpoints(stats: Statistics) -> list[Endpoint]:
    """Hazard ratios of curettage and en bloc versus palliative, Cox stratified by center.

    Notes:
        Levels without deaths are left out of the model (with their patients): R would
        return a diverging coefficient with a warning, whose limit is this fit. Their
        HR, and every HR when palliative has no deaths, is null with the reason.
    """
    groups = stats.layout
    os_risk = stats.risk[stats.risk["outcome"] == 0]
    deaths = np.bincount(os_risk["procedure"], weights=os_risk["events"], minlength=len(PROCEDURES))
    levels = [code for code in range(len(PROCEDURES)) if deaths[code] > 0]
    codes = [f"os_cox_hr_{procedure}" for procedure in PROCEDURES[1:]]
    if 0 not in levels or len(levels) < 2:
        reason = f"{COX}; not computed: no deaths in palliative or in every other procedure"
        return [_single(groups, code, reason) for code in codes]
    try:
        result = cox_from_table(_levels_table(stats, levels), len(levels))
    except np.linalg.LinAlgError:
        reason = f"{COX}; not estimable: no procedure contrast within any center"
        return [_single(groups, code, reason) for code in codes]
    fitted = result.iterations < MAX_ITERATIONS and bool(
        np.all(np.isfinite([result.se, result.lower, result.upper]))
    )
    endpoints = []
    method = COX if stats.time_unit == "day" else f"{COX}; approximate: times in {stats.time_unit}s"
    for level, code in enumerate(codes, start=1):
        if level not in levels or not fitted:
            endpoints.append(_single(groups, code, f"{COX}; not estimable: no deaths or no fit"))
            continue
        k = levels.index(level) - 1
        values = {
            "estimate": result.hazard_ratio[k], "se": result.se[k], "ci_lower": result.lower[k],
            "ci_upper": result.upper[k], "p_value": result.p_value[k],
        }  # fmt: skip
        endpoints.append(_single(groups, code, method, **values))
    return endpoints


def _levels_table(stats: Statistics, levels: list[int]) -> RiskTable:
    """The OS risk table by center of the procedures in `levels` (recoded 0..k-1), only."""
    recode = np.full(len(PROCEDURES), -1, dtype=np.int64)
    recode[levels] = np.arange(len(levels))
    risk = stats.risk.assign(level=recode[stats.risk["procedure"].to_numpy()])
    kept = Statistics(stats.scopes, stats.sums, risk[risk["level"] >= 0], stats.time_unit)
    return _os_table(kept, "level", len(levels), "center")


def random_effects_endpoints(
    by_code: dict[str, Endpoint], groups: Groups, n: np.ndarray
) -> list[Endpoint]:
    """DerSimonian–Laird pooled percentages over centers of the four proportion endpoints."""
    center_rows = groups.stratum_all() & ~groups.only_pooled()
    endpoints = []
    for source in RE_SOURCES:
        numerator = by_code[source].column("numerator")[center_rows]
        denominator = by_code[source].column("denominator")[center_rows]
        pooled = dersimonian_laird(numerator, denominator)
        code = f"{source}_re"
        method = "DerSimonian-Laird random effects on the logit scale"
        total = {"n": float(n[groups.pooled])}
        if pooled is None:
            endpoints.append(
                _single(groups, code, f"{method}; not computed: fewer than two centers", **total)
            )
            continue
        stats = (
            f"; centers={pooled.centers}; tau2={pooled.tau2:.6g}; I2={pooled.i2_pct:.1f}%; "
            f"Q={pooled.q:.6g}; Q p={pooled.q_p_value:.4g}"
        )
        endpoints.append(
            _single(
                groups,
                code,
                method + stats,
                estimate=100 * pooled.estimate,
                ci_lower=100 * pooled.lower,
                ci_upper=100 * pooled.upper,
                numerator=float(numerator[denominator > 0].sum()),
                denominator=float(denominator[denominator > 0].sum()),
                **total,
            )
        )
    return endpoints
