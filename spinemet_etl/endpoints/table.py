"""Scopes × strata of the endpoint table, one endpoint's per-group values, and assembly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from schemas.endpoints import POOLED_SCOPE, EndpointsModel
from schemas.patients import PROCEDURES
from spinemet_etl.stats.grouping import BoolArray, FloatArray, IntArray

STRATA = ["all", *(f"procedure={procedure}" for procedure in PROCEDURES)]
VALUE_COLUMNS = ["estimate", "numerator", "denominator", "se", "ci_lower", "ci_upper", "p_value"]
FLOAT_COLUMNS = ["estimate", "se", "ci_lower", "ci_upper", "p_value"]
INT_COLUMNS = ["n", "numerator", "denominator"]
MEMBERSHIPS = 4
"""Groups of each patient: (center, all), (center, procedure), (ALL, all), (ALL, procedure)."""


@dataclass(frozen=True)
class Groups:
    """Every (scope, stratum) as a group g = scope × 4 + stratum, and each patient's groups.

    Scopes are the centers in sorted order, then ALL. A patient belongs to four groups:
    (its center, all), (its center, its procedure), (ALL, all), (ALL, its procedure);
    `member_group[k]` (int32) lists those memberships, in four blocks of n rows, and
    `member_patient[k]` = k mod n is the patient of membership k.
    """

    scopes: list[str]
    center: IntArray
    procedure: IntArray
    member_group: npt.NDArray[np.int32]

    @property
    def n_groups(self) -> int:
        return len(self.scopes) * len(STRATA)

    @property
    def pooled(self) -> int:
        """The group (ALL, all)."""
        return (len(self.scopes) - 1) * len(STRATA)

    @property
    def member_patient(self) -> IntArray:
        """The patient of each membership (computed when asked: 4n integers)."""
        return np.tile(np.arange(self.center.size, dtype=np.int64), MEMBERSHIPS)

    def count(self, mask: np.ndarray) -> FloatArray:
        """Per group, the sum of `mask` (one value per patient) over its patients.

        One `bincount` per kind of membership (n rows each, not 4n): every group is fed
        by one kind only, in patient order, so the sums are those of a single bincount
        over all memberships, bit for bit.
        """
        weights = np.asarray(mask, dtype=np.float64)
        counts = np.zeros(self.n_groups)
        for block in self.membership_blocks():
            counts += np.bincount(block, weights=weights, minlength=self.n_groups)
        return counts

    def membership_blocks(self) -> list[npt.NDArray[np.int32]]:
        """`member_group` in its four blocks of n rows (the kinds of membership, in order)."""
        n = self.center.size
        return [self.member_group[i * n : (i + 1) * n] for i in range(MEMBERSHIPS)]

    def _block_order(self, block: np.ndarray, by_patient: IntArray) -> IntArray:
        """The patients of one block by (group, then their order in `by_patient`)."""
        small = block[by_patient].astype(np.int16 if self.n_groups < 2**15 else np.int64)
        return by_patient[np.argsort(small, kind="stable")]

    def block_orders(self, time: FloatArray, event: BoolArray) -> Iterator[IntArray]:
        """For each of `membership_blocks()` in turn, its patients ordered by (group, time,
        events first), sorting the patients by time only once; one block's order at a time."""
        by_patient = _time_order(time, event)
        for block in self.membership_blocks():
            yield self._block_order(block, by_patient)

    def member_order(
        self, time: FloatArray, event: BoolArray
    ) -> npt.NDArray[np.signedinteger[Any]]:
        """Membership rows ordered by (group, time, events first), sorting patients only once.

        The order a stable sort by group of all 4n memberships (blocks one after the
        other, each in time order) gives, built block by block: each group's rows
        come from one block, so its sorted block is copied to the group's place. The
        indices are int32 when they fit (half the memory of 4n int64 indices).
        """
        by_patient = _time_order(time, event)
        n = by_patient.size
        sizes = self.count(np.ones(n, dtype=bool)).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        dtype = np.int32 if MEMBERSHIPS * n < 2**31 else np.int64
        order: npt.NDArray[np.signedinteger[Any]] = np.empty(MEMBERSHIPS * n, dtype=dtype)
        for index, block in enumerate(self.membership_blocks()):
            rows = self._block_order(block, by_patient)
            starts = np.searchsorted(block[rows], np.arange(self.n_groups + 1, dtype=block.dtype))
            for group in np.flatnonzero(np.diff(starts)):
                segment = rows[starts[group] : starts[group + 1]]
                order[offsets[group] : offsets[group + 1]] = segment + index * n
        return order

    def stratum_all(self) -> BoolArray:
        """True for the groups of stratum `all`."""
        return np.arange(self.n_groups) % len(STRATA) == 0

    def only_pooled(self) -> BoolArray:
        """True for the group (ALL, all) only."""
        return np.arange(self.n_groups) == self.pooled


def build_groups(center_id: pd.Series, procedure: pd.Series) -> Groups:
    """The groups of a patients frame, from its `center_id` and `procedure` columns."""
    if isinstance(center_id.dtype, pd.CategoricalDtype):
        categories = [str(c) for c in center_id.cat.categories]
        used = np.unique(center_id.cat.codes.to_numpy())
        centers = sorted(categories[code] for code in used if code >= 0)
        rank = np.searchsorted(np.array(centers, dtype=object), np.array(categories, dtype=object))
        center = rank[center_id.cat.codes.to_numpy()].astype(np.int64)
    else:
        names = center_id.astype(str).to_numpy()
        centers = sorted(set(names))
        center = np.searchsorted(np.array(centers, dtype=object), names).astype(np.int64)
    proc = pd.Categorical(procedure, categories=PROCEDURES).codes.astype(np.int64)
    width = len(STRATA)
    code = center.astype(np.int32) * width
    pooled = np.full(center.size, len(centers) * width, dtype=np.int32)
    step = proc.astype(np.int32) + 1
    member_group = np.concatenate([code, code + step, pooled, pooled + step])
    return Groups(
        scopes=[*centers, POOLED_SCOPE],
        center=center,
        procedure=proc,
        member_group=member_group.astype(np.int32, copy=False),
    )


def _time_order(time: FloatArray, event: BoolArray) -> IntArray:
    """Patients by time, events before censorings at a tied time (stable sorts)."""
    by_patient = np.argsort(~event, kind="stable")
    return by_patient[np.argsort(time[by_patient], kind="stable")]


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
