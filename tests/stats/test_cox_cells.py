"""Efron's sums per risk-table cell, against the same sums taken death by death."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spinemet_etl.stats.cox import _efron_cells, _loglik, ph_test_global
from spinemet_etl.stats.logrank import RiskTable, risk_table


def _death_by_death(table: RiskTable, coef: np.ndarray) -> tuple[float, list, list]:
    """Log likelihood, and per cell its Efron score and information, one death at a time."""
    risk = np.exp(np.concatenate([[0.0], coef]))
    loglik = float(table.deaths.sum(axis=0)[1:] @ coef)
    scores, informations = [], []
    for at_risk, deaths in zip(table.at_risk, table.deaths, strict=True):
        total = int(deaths.sum())
        score, information = deaths[1:].astype(float), np.zeros((coef.size, coef.size))
        for k in range(total):
            part = [(at_risk[level] - k / total * deaths[level]) * risk[level]
                    for level in range(risk.size)]  # fmt: skip
            denominator = math.fsum(part)
            loglik -= math.log(denominator)
            share = np.array(part[1:]) / denominator
            score -= share
            information += np.diag(share) - np.outer(share, share)
        scores.append(score)
        informations.append(information)
    return loglik, scores, informations


def _tied_table(seed: int, patients: int, times: int) -> RiskTable:
    rng = np.random.default_rng(seed)
    return risk_table(
        rng.integers(1, times + 1, patients).astype(float),
        rng.random(patients) < 0.6,
        rng.integers(0, 3, patients),
        3,
        rng.integers(0, 2, patients),
    )


@pytest.mark.parametrize("coef", [[0.0, 0.0], [0.3, -0.5], [2.0, -1.5]])
def test_cell_sums_are_the_death_by_death_sums(coef: list[float]) -> None:
    table = _tied_table(seed=7, patients=600, times=12)
    assert table.deaths.sum(axis=1).max() > 10  # heavily tied
    beta = np.array(coef)
    loglik, score, information = _loglik(_efron_cells(table.at_risk, table.deaths), beta)
    expected, scores, informations = _death_by_death(table, beta)
    assert loglik == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(score, np.sum(scores, axis=0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(information, np.sum(informations, axis=0), rtol=1e-10)


def test_cell_sums_hold_with_large_risk_sets_and_few_deaths() -> None:
    """A risk set of a million and three deaths (x far above D): no digits lost."""
    table = RiskTable(
        at_risk=np.array([[400_000.0, 350_000.0, 250_000.0], [9.0, 3.0, 2.0]]),
        deaths=np.array([[1.0, 2.0, 0.0], [2.0, 3.0, 2.0]]),
    )
    beta = np.array([0.4, -0.2])
    loglik, score, information = _loglik(_efron_cells(table.at_risk, table.deaths), beta)
    expected, scores, informations = _death_by_death(table, beta)
    assert loglik == pytest.approx(expected, rel=1e-11)  # lnΓ near 10⁶: twelve digits
    np.testing.assert_allclose(score, np.sum(scores, axis=0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(information, np.sum(informations, axis=0), rtol=1e-9)


def test_ph_test_is_the_score_test_of_the_death_by_death_sums() -> None:
    table = _tied_table(seed=11, patients=500, times=9)
    beta = np.array([0.25, -0.4])
    transform = np.linspace(0.05, 0.9, table.deaths.shape[0])
    chisq, df, _ = ph_test_global(table, beta, transform)
    _, scores, informations = _death_by_death(table, beta)
    deaths = table.deaths.sum(axis=1)
    g = transform - (deaths @ transform) / deaths.sum()
    u = np.concatenate([np.zeros(2), g @ np.array(scores)])
    blocks = [np.einsum("c,cij->ij", g**power, np.array(informations)) for power in (0, 1, 2)]
    information = np.block([[blocks[0], blocks[1]], [blocks[1], blocks[2]]])
    assert df == 2
    assert chisq == pytest.approx(float(u @ np.linalg.solve(information, u)), rel=1e-9)
