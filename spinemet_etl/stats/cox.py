"""Cox proportional hazards on one categorical covariate, stratified, with Efron's ties."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import FloatArray
from spinemet_etl.stats.km import Z_95
from spinemet_etl.stats.logrank import RiskTable, risk_table

MAX_ITERATIONS = 30
TOLERANCE = 1e-10


@dataclass(frozen=True)
class CoxResult:
    """Per non-reference level: log hazard ratio, SE, HR with 95 % CI, Wald p."""

    coef: FloatArray
    se: FloatArray
    hazard_ratio: FloatArray
    lower: FloatArray
    upper: FloatArray
    p_value: FloatArray
    loglik: float
    iterations: int


@dataclass(frozen=True)
class _EfronTerms:
    """Risk and tie counts expanded to one row per death, with Efron's fraction k / d."""

    at_risk: FloatArray
    deaths: FloatArray
    fraction: FloatArray
    total_deaths: FloatArray
    cell: np.ndarray


def _efron_terms(at_risk: FloatArray, deaths: FloatArray) -> _EfronTerms:
    per_cell = deaths.sum(axis=1).astype(np.int64)
    rows = np.repeat(np.arange(per_cell.size), per_cell)
    rank = np.arange(rows.size) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    return _EfronTerms(
        at_risk=at_risk[rows],
        deaths=deaths[rows],
        fraction=rank / per_cell[rows],
        total_deaths=deaths.sum(axis=0),
        cell=rows,
    )


def _shares(terms: _EfronTerms, coef: FloatArray) -> FloatArray:
    """Per death row, the Efron-weighted share of each non-reference level at risk."""
    risk = np.exp(np.concatenate([[0.0], coef]))
    part = (terms.at_risk - terms.fraction[:, None] * terms.deaths) * risk
    return np.asarray(part[:, 1:] / part.sum(axis=1)[:, None], dtype=np.float64)


def ph_test_global(
    table: RiskTable, coef: FloatArray, transform: FloatArray
) -> tuple[float, int, float]:
    """The global proportional-hazards score test of a fitted `cox_from_table` model.

    Notes:
        R `cox.zph(fit)$table["GLOBAL", ]`: the score test, at the fitted β, of adding
        the covariates × g(t), with `transform` the g of each cell of `table` (R's
        `transform = "km"`: 1 − KM(t−) of all the model's patients), centered on its
        mean over deaths. With the covariates constant within a tied set, each cell's
        Efron score u_c and information I_c give u_g = Σ g_c u_c and the information
        blocks Σ I_c, Σ g_c I_c, Σ g_c² I_c; chi-square = u_gᵀ (full information)⁻¹
        u_g on as many df as coefficients.
    """
    from scipy.special import chdtrc

    terms = _efron_terms(table.at_risk, table.deaths)
    share = _shares(terms, coef)
    deaths = table.deaths.sum(axis=1)
    g = transform - (deaths @ transform) / deaths.sum()
    g_row = g[terms.cell]
    p = coef.size
    score = table.deaths[:, 1:] - np.stack(
        [np.bincount(terms.cell, weights=share[:, k], minlength=g.size) for k in range(p)], axis=1
    )
    u = np.concatenate([np.zeros(p), g @ score])
    row_info = share[:, :, None] * (np.eye(p)[None] - share[:, None, :])
    blocks = [np.einsum("r,rij->ij", weight, row_info) for weight in (g_row**0, g_row, g_row**2)]
    information = np.block([[blocks[0], blocks[1]], [blocks[1], blocks[2]]])
    chisq = float(u @ np.linalg.solve(information, u))
    return chisq, p, float(chdtrc(p, chisq))


def _loglik(terms: _EfronTerms, coef: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Efron log partial likelihood, score and information at `coef` (reference level 0)."""
    risk = np.exp(np.concatenate([[0.0], coef]))
    part = (terms.at_risk - terms.fraction[:, None] * terms.deaths) * risk
    denominator = part.sum(axis=1)
    share = part[:, 1:] / denominator[:, None]
    loglik = float(terms.total_deaths[1:] @ coef - np.log(denominator).sum())
    score = terms.total_deaths[1:] - share.sum(axis=0)
    information = np.diag(share.sum(axis=0)) - share.T @ share
    return loglik, score, information


def cox_categorical(
    time: np.ndarray, event: np.ndarray, level: np.ndarray, n_levels: int, strata: np.ndarray
) -> CoxResult:
    """Stratified Cox model of `level` (0 = reference) by Newton–Raphson, Efron ties.

    Notes:
        R `coxph(Surv(time, event) ~ factor(level) + strata(s), ties = "efron")`: start
        at 0, Newton steps halved while the log likelihood falls, stop when its relative
        change is below 1e-10 (R: 1e-9), SE from the inverse information at the
        estimate, Wald p = 2 Φ(−|β / SE|), HR CI exp(β ± z SE). Every level must have
        patients and deaths: the caller drops the ones that do not (R would return NA,
        or a diverging β with a warning).
    """
    table = risk_table(
        np.asarray(time, dtype=np.float64),
        np.asarray(event, dtype=bool),
        np.asarray(level, dtype=np.int64),
        n_levels,
        np.asarray(strata, dtype=np.int64),
    )
    return cox_from_table(table, n_levels)


def cox_from_table(table: RiskTable, n_levels: int) -> CoxResult:
    """`cox_categorical` of a risk table: at risk and deaths per (stratum, event time) × level.

    Efron's correction needs, at each tied time, the summed risk score of the deaths,
    Σ_level d_level · exp(β_level): the table holds exactly that, so counts per (stratum,
    level, time) give the same fit as the patient rows.
    """
    from scipy.special import ndtr  # = scipy.stats.norm.cdf, without scipy.stats' imports

    terms = _efron_terms(table.at_risk, table.deaths)
    coef = np.zeros(n_levels - 1)
    loglik, score, information = _loglik(terms, coef)
    iterations = 0
    while iterations < MAX_ITERATIONS:
        iterations += 1
        step = np.linalg.solve(information, score)
        trial = _loglik(terms, coef + step)
        while trial[0] < loglik and np.max(np.abs(step)) > 1e-12:
            step = step / 2
            trial = _loglik(terms, coef + step)
        coef = coef + step
        converged = abs(trial[0] - loglik) <= TOLERANCE * abs(trial[0])
        loglik, score, information = trial
        if converged:
            break
    se = np.sqrt(np.diag(np.linalg.inv(information)))
    with np.errstate(over="ignore"):
        limits = np.exp(coef - Z_95 * se), np.exp(coef + Z_95 * se)
    return CoxResult(
        coef=coef,
        se=se,
        hazard_ratio=np.exp(coef),
        lower=limits[0],
        upper=limits[1],
        p_value=2 * ndtr(-np.abs(coef / se)),
        loglik=loglik,
        iterations=iterations,
    )
