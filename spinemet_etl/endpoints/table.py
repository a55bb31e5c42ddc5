"""Scopes × strata of the endpoint table, one endpoint's per-group values, and assembly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from schemas.endpoints import POOLED_SCOPE, EndpointsModel
from schemas.patients import PROCEDURES
from spinemet_etl.stats.grouping import BoolArray, FloatArray, IntArray

STRATA = ["all", *(f"procedure={procedure}" for procedure in PROCEDURES)]
VALUE_COLUMNS = ["estimate", "numerator", "denominator", "se", "ci_lower", "ci_upper", "p_value"]
FLOAT_COLUMNS = ["estimate", "se", "ci_lower", "ci_upper", "p_value"]
INT_COLUMNS = ["n", "numerator", "denominator"]


@dataclass(frozen=True)
class Groups:
    """Every (scope, stratum) as a group g = scope × 4 + stratum, and each patient's groups.

    Scopes are the centers in sorted order, then ALL. A patient belongs to four groups:
    (its center, all), (its center, its procedure), (ALL, all), (ALL, its procedure);
    `member_group[k]` and `member_patient[k]` list those memberships.
    """

    scopes: list[str]
    center: IntArray
    procedure: IntArray
    member_group: IntArray
    member_patient: IntArray

    @property
    def n_groups(self) -> int:
        return len(self.scopes) * len(STRATA)

    @property
    def pooled(self) -> int:
        """The group (ALL, all)."""
        return (len(self.scopes) - 1) * len(STRATA)

    def count(self, mask: np.ndarray) -> FloatArray:
        """Per group, the sum of `mask` (one value per patient) over its patients."""
        weights = np.asarray(mask, dtype=np.float64)[self.member_patient]
        counts = np.bincount(self.member_group, weights=weights, minlength=self.n_groups)
        return counts.astype(np.float64)

    def member_order(self, time: FloatArray, event: BoolArray) -> IntArray:
        """Membership rows ordered by (group, time, events first), sorting patients only once."""
        by_patient = np.argsort(~event, kind="stable")
        by_patient = by_patient[np.argsort(time[by_patient], kind="stable")]
        n = by_patient.size
        rows = (np.arange(4, dtype=np.int64)[:, None] * n + by_patient[None, :]).ravel()
        small = self.member_group[rows].astype(np.int16 if self.n_groups < 2**15 else np.int64)
        return rows[np.argsort(small, kind="stable")]

    def stratum_all(self) -> BoolArray:
        """True for the groups of stratum `all`."""
        return np.arange(self.n_groups) % len(STRATA) == 0

    def only_pooled(self) -> BoolArray:
        """True for the group (ALL, all) only."""
        return np.arange(self.n_groups) == self.pooled


def build_groups(center_id: pd.Series, procedure: pd.Series) -> Groups:
    """The groups of a patients frame, from its `center_id` and `procedure` columns."""
    names = center_id.astype(str).to_numpy()
    centers = sorted(set(names))
    center = np.searchsorted(np.array(centers, dtype=object), names).astype(np.int64)
    proc = pd.Categorical(procedure, categories=PROCEDURES).codes.astype(np.int64)
    width = len(STRATA)
    pooled = np.full(center.size, len(centers) * width, dtype=np.int64)
    member_group = np.concatenate(
        [center * width, center * width + 1 + proc, pooled, pooled + 1 + proc]
    )
    return Groups(
        scopes=[*centers, POOLED_SCOPE],
        center=center,
        procedure=proc,
        member_group=member_group,
        member_patient=np.tile(np.arange(center.size, dtype=np.int64), 4),
    )


@dataclass
class Endpoint:
    """One endpoint's values for every group (NaN = null); `rows` limits the groups written."""

    code: str
    method: str
    estimate: FloatArray
    numerator: FloatArray | None = None
    denominator: FloatArray | None = None
    se: FloatArray | None = None
    ci_lower: FloatArray | None = None
    ci_upper: FloatArray | None = None
    p_value: FloatArray | None = None
    n: FloatArray | None = None
    rows: BoolArray | None = None

    def column(self, name: str) -> FloatArray:
        value = getattr(self, name)
        return np.full(self.estimate.size, np.nan) if value is None else value


def _frame(endpoint: Endpoint, n: FloatArray) -> pd.DataFrame:
    """One endpoint's rows; every value is null in a group without patients."""
    rows = np.ones(n.size, dtype=bool) if endpoint.rows is None else endpoint.rows
    empty = n[rows] == 0
    data = {name: np.where(empty, np.nan, endpoint.column(name)[rows]) for name in VALUE_COLUMNS}
    frame = pd.DataFrame(data)
    frame["n"] = (n if endpoint.n is None else endpoint.n)[rows]
    frame["group"] = np.flatnonzero(rows)
    frame["endpoint"] = endpoint.code
    frame["method"] = endpoint.method
    return frame


def assemble(
    endpoints: list[Endpoint], groups: Groups, n: FloatArray, codes: list[str]
) -> pd.DataFrame:
    """The tidy endpoint table, validated, ordered by scope, stratum, then `codes`' order.

    Notes:
        A scope × stratum without patients keeps all its rows with n = 0 and every value
        null, counts included (endpoints.md: "n = 0 and null estimates").
    """
    table = pd.concat([_frame(endpoint, n) for endpoint in endpoints], ignore_index=True)
    table["rank"] = table["endpoint"].map({code: i for i, code in enumerate(codes)})
    table = table.sort_values(["group", "rank"], kind="stable").reset_index(drop=True)
    group = table["group"].to_numpy()
    table["center_id"] = np.array(groups.scopes, dtype=object)[group // len(STRATA)]
    table["stratum"] = np.array(STRATA, dtype=object)[group % len(STRATA)]
    for name in INT_COLUMNS:
        values = np.round(table[name].to_numpy(dtype=np.float64))
        table[name] = pd.array(values, dtype="Float64").astype("Int64")
    for name in FLOAT_COLUMNS:
        table[name] = table[name].astype(np.float64)
    columns = list(EndpointsModel.to_schema().columns)
    return EndpointsModel.validate(table[columns])
