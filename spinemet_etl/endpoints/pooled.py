"""Pooled analyses (scope ALL, stratum all): log-rank tests, stratified Cox, random effects."""

from __future__ import annotations

import numpy as np

from schemas.patients import PROCEDURES
from spinemet_etl.endpoints.statistics import Statistics
from spinemet_etl.endpoints.table import Endpoint, Groups
from spinemet_etl.stats.cox import MAX_ITERATIONS, CoxResult, cox_from_table, ph_test_global
from spinemet_etl.stats.logrank import RiskTable, logrank_from_table, risk_table_cells
from spinemet_etl.stats.proportions import (
    PooledProportion,
    dersimonian_laird,
    reml_hartung_knapp,
)

RE_SOURCES = ("mortality_30d_pct", "pain_relief_pct", "neuro_improvement_pct", "local_control_pct")
COX = "Cox PH, strata=center_id, ties=Efron (R coxph); HR vs palliative; Wald p"
PH = 'global proportional-hazards score test (R cox.zph(fit, transform="km"), GLOBAL)'
PH_CODE = "os_cox_ph_global_p"
REML = (
    "REML random effects on the logit scale, Hartung-Knapp CI (metafor rma PLO, "
    'method="REML", test="knha", add=1/2, to="only0")'
)
PI = f"95% prediction interval (metafor predict) of the {REML}"


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


def _fit_cox(stats: Statistics) -> tuple[list[int], RiskTable, CoxResult] | str:
    """The center-stratified Cox model of OS on procedure, or why it was not fitted.

    Levels without deaths are left out of the model (with their patients): R would
    return a diverging coefficient with a warning, whose limit is this fit.
    """
    os_risk = stats.risk[stats.risk["outcome"] == 0]
    deaths = np.bincount(os_risk["procedure"], weights=os_risk["events"], minlength=len(PROCEDURES))
    levels = [code for code in range(len(PROCEDURES)) if deaths[code] > 0]
    if 0 not in levels or len(levels) < 2:
        return "not computed: no deaths in palliative or in every other procedure"
    table = _levels_table(stats, levels)
    try:
        return levels, table, cox_from_table(table, len(levels))
    except np.linalg.LinAlgError:
        return "not estimable: no procedure contrast within any center"


def _fitted(result: CoxResult) -> bool:
    return result.iterations < MAX_ITERATIONS and bool(
        np.all(np.isfinite([result.se, result.lower, result.upper]))
    )


def cox_endpoints(stats: Statistics) -> list[Endpoint]:
    """Hazard ratios of curettage and en bloc versus palliative, Cox stratified by center,
    and the model's global proportional-hazards test.

    Notes:
        A level without deaths has a null HR with the reason; every HR is null when
        palliative has no deaths.
    """
    groups = stats.layout
    codes = [f"os_cox_hr_{procedure}" for procedure in PROCEDURES[1:]]
    fit = _fit_cox(stats)
    if isinstance(fit, str):
        return [_single(groups, code, f"{COX}; {fit}") for code in [*codes, PH_CODE]]
    levels, table, result = fit
    endpoints = []
    method = COX if stats.time_unit == "day" else f"{COX}; approximate: times in {stats.time_unit}s"
    for level, code in enumerate(codes, start=1):
        if level not in levels or not _fitted(result):
            endpoints.append(_single(groups, code, f"{COX}; not estimable: no deaths or no fit"))
            continue
        k = levels.index(level) - 1
        values = {
            "estimate": result.hazard_ratio[k], "se": result.se[k], "ci_lower": result.lower[k],
            "ci_upper": result.upper[k], "p_value": result.p_value[k],
        }  # fmt: skip
        endpoints.append(_single(groups, code, method, **values))
    return [*endpoints, _ph_endpoint(stats, levels, table, result)]


def _ph_endpoint(
    stats: Statistics, levels: list[int], table: RiskTable, result: CoxResult
) -> Endpoint:
    """cox.zph's GLOBAL test of the fitted model: chi-square in estimate, p in p_value."""
    groups = stats.layout
    method = f"{PH}; model: {COX}"
    if not _fitted(result):
        return _single(groups, PH_CODE, f"{method}; not computed: the model did not converge")
    risk = stats.risk[(stats.risk["outcome"] == 0) & np.isin(stats.risk["procedure"], levels)]
    by_time = risk.groupby("time")[["events", "competing", "censored"]].sum()
    total = by_time.sum(axis=1).to_numpy()
    at_risk = np.cumsum(total[::-1])[::-1]
    surv_after = np.cumprod(1 - by_time["events"].to_numpy() / at_risk)
    surv_before = np.concatenate([[1.0], surv_after[:-1]])
    times = stats.months(by_time.index.to_numpy())
    assert table.time is not None
    transform = 1 - surv_before[np.searchsorted(times, stats.months(table.time))]
    chisq, df, p_value = ph_test_global(table, result.coef, transform)
    return _single(groups, PH_CODE, f"{method}; df={df}", estimate=chisq, p_value=p_value)


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
        stats = _heterogeneity(pooled)
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


def _heterogeneity(pooled: PooledProportion) -> str:
    return (
        f"; centers={pooled.centers}; tau2={pooled.tau2:.6g}; I2={pooled.i2_pct:.1f}%; "
        f"Q={pooled.q:.6g}; Q p={pooled.q_p_value:.4g}"
    )


def reml_endpoints(by_code: dict[str, Endpoint], groups: Groups, n: np.ndarray) -> list[Endpoint]:
    """REML / Hartung–Knapp pooled percentages and their 95 % prediction intervals over
    centers, for the four proportion endpoints (`<source>_re_reml`, `<source>_pi`)."""
    center_rows = groups.stratum_all() & ~groups.only_pooled()
    pooled_rows, intervals = [], []
    total = {"n": float(n[groups.pooled])}
    for source in RE_SOURCES:
        numerator = by_code[source].column("numerator")[center_rows]
        denominator = by_code[source].column("denominator")[center_rows]
        result = reml_hartung_knapp(numerator, denominator)
        if result is None:
            reason = "; not computed: fewer than two centers"
            pooled_rows.append(_single(groups, f"{source}_re_reml", REML + reason, **total))
            intervals.append(_single(groups, f"{source}_pi", PI + reason, **total))
            continue
        counts = {
            "numerator": float(numerator[denominator > 0].sum()),
            "denominator": float(denominator[denominator > 0].sum()), **total,
        }  # fmt: skip
        pooled, method = result.pooled, _heterogeneity(result.pooled)
        estimate = 100 * pooled.estimate
        pooled_rows.append(
            _single(
                groups, f"{source}_re_reml", REML + method, estimate=estimate,
                ci_lower=100 * pooled.lower, ci_upper=100 * pooled.upper, **counts,
            )
        )  # fmt: skip
        intervals.append(
            _single(
                groups, f"{source}_pi", PI + method, estimate=estimate,
                ci_lower=100 * result.pi_lower, ci_upper=100 * result.pi_upper, **counts,
            )
        )  # fmt: skip
    return [*pooled_rows, *intervals]
