"""The sufficient statistics of a consortium: per-center sums and risk sets, and the pooled scope.

`Statistics` is what every estimator of the endpoint table reads. It is built either
from patient rows (`from_rows`, the central mode) or from center summaries
(`federated.summary.merge`), so each estimator exists once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from schemas.patients import DAYS_PER_MONTH
from spinemet_etl.endpoints.sums import (
    UNIT_DAYS,
    block_pairs,
    center_cutoffs,
    count_sums,
    plain_pooled_c,
    risk_sets,
)
from spinemet_etl.endpoints.table import STRATA, Groups, build_groups
from spinemet_etl.stats.concordance import PairCounts
from spinemet_etl.stats.grouping import FloatArray


@dataclass
class Statistics:
    """Sums per (scope, stratum) group and risk sets of every center, in `Groups`' layout.

    `sums[name]` has one value per group; the pooled scope's rows are the centers' totals.
    `risk` has int64 columns center (index into `scopes`), procedure, outcome (0 OS,
    1 local control), time (in `time_unit`s), events, competing, censored. `plain_c`
    holds the plain pooled C's pair counts when patient rows were at hand.
    """

    scopes: list[str]
    sums: dict[str, FloatArray]
    risk: pd.DataFrame
    time_unit: str = "day"
    pain_mcid: float = 2.0
    plain_c: dict[str, PairCounts] = field(default_factory=dict)
    cells: dict[int, Any] = field(default_factory=dict, repr=False, compare=False)
    """`survival.risk_cells` per outcome, once counted."""

    @property
    def layout(self) -> Groups:
        """The groups' layout (scopes × strata), without patients."""
        empty = np.zeros(0, dtype=np.int64)
        return Groups(self.scopes, empty, empty, np.zeros(0, dtype=np.int32))

    def months(self, time: np.ndarray) -> FloatArray:
        """Risk-set times in months (days / 30.4375, as os_months is computed)."""
        return np.asarray(time * UNIT_DAYS[self.time_unit] / DAYS_PER_MONTH, dtype=np.float64)


def pool_scopes(scopes: list[str], sums: dict[str, FloatArray]) -> dict[str, FloatArray]:
    """The sums with the pooled scope's rows set to the centers' totals per stratum.

    Notes:
        Counts and sums add. The centered sum of squares of age combines by Chan et al.'s
        parallel formula, Σ M2_c + Σ n_c (mean_c − mean)², never Σx² − (Σx)²/n, which
        cancels catastrophically when the mean is large against the SD.
    """
    width = len(STRATA)
    pooled = {}
    for name, values in sums.items():
        by_scope = values.reshape(len(scopes), width).copy()
        by_scope[-1] = by_scope[:-1].sum(axis=0)
        pooled[name] = by_scope.reshape(-1)
    n = sums["age_n"].reshape(len(scopes), width)[:-1]
    total = sums["age_sum"].reshape(len(scopes), width)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        center_mean = np.where(n > 0, total / np.where(n > 0, n, 1), 0.0)
        mean = total.sum(axis=0) / n.sum(axis=0)
    spread = (n * (center_mean - mean) ** 2).sum(axis=0)
    squares = pooled["age_centered_squares_sum"].reshape(len(scopes), width)
    squares[-1] = squares[-1] + spread
    return pooled


def from_rows(
    patients: pd.DataFrame,
    *,
    pain_mcid: float = 2.0,
    time_unit: str = "day",
    plain_c: bool = True,
    data_cutoffs: Mapping[str, date] | None = None,
) -> Statistics:
    """The statistics of patient rows: every center summarized, then the pooled scope added.

    `data_cutoffs` gives the centers' stated data cut-offs; a center without one has its
    latest `last_contact_date`.
    """
    groups = build_groups(patients["center_id"], patients["procedure"])
    pairs = block_pairs(patients, groups)
    cutoff = center_cutoffs(patients, data_cutoffs)
    sums = pool_scopes(groups.scopes, count_sums(patients, groups, pain_mcid, pairs, cutoff))
    return Statistics(
        scopes=groups.scopes,
        sums=sums,
        risk=risk_sets(patients, groups, time_unit),
        time_unit=time_unit,
        pain_mcid=pain_mcid,
        plain_c=plain_pooled_c(patients, groups.n_groups) if plain_c else {},
    )
