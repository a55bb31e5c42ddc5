"""Per-center sufficient statistics counted from patient rows: sums per stratum and risk sets.

Everything here is counted within a center only (the memberships (center, all) and
(center, procedure)); the pooled scope is added from the centers' counts
(`statistics.pool_scopes`), so a center's counts are the same whether they come from
its rows or from its summary. The one exception is the plain pooled C-index, which
needs pairs across centers and so the rows (`plain_pooled_c`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from schemas.patients import DAYS_PER_MONTH, PROCEDURES
from spinemet_etl.endpoints.table import STRATA, Groups
from spinemet_etl.stats.concordance import (
    PairCounts,
    add_pair_counts,
    harrell_c,
    pair_counts,
    pooled_concordance,
    time_blocks,
)
from spinemet_etl.stats.grouping import FloatArray

FOLLOW_UP_DAYS = 30
DEATH_WINDOW_DAYS = 30
VAS_TOLERANCE = 1e-9
SEEN_WITHIN_DAYS = 365
PROPORTIONS = (
    "mortality_30d_pct", "pain_relief_pct", "neuro_improvement_pct", "neuro_worsening_pct",
    "local_control_pct",
)  # fmt: skip
SCORES = (("tokuhashi", "tokuhashi_revised", False), ("tomita", "tomita", True))
"""(summary name, patients column, reverse) of each prognostic score."""
PAIR_KINDS = ("concordant", "discordant", "tied_score")
INFLUENCE_SUMS = ("dn_squares", "dn_dd", "dd_squares")
"""Σ dN², Σ dN·dD, Σ dD² of each score: the C-index's infinitesimal-jackknife variance."""
WITHIN_CENTER_BLOCKS = 2
"""The kinds of membership within centers: (center, all) and (center, procedure)."""
OUTCOMES = ("os", "lc")
RISK_COLUMNS = ("events", "competing", "censored")
UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": DAYS_PER_MONTH}
SUM_COLUMNS = (
    "n", "age_n", "age_sum", "age_squares_sum", "age_centered_squares_sum",
    "male_n", "female_n",
    *(f"procedure_{procedure}_n" for procedure in PROCEDURES),
    "anesthetic_risk_high_n", "anesthetic_risk_known_n",
    "intraop_death_n", "death_30d_postop_n",
    *(f"{code}_{part}" for code in PROPORTIONS for part in ("numerator", "denominator")),
    "followed_up_n", "followed_up_os_months_sum",
    "followup_observed_days_sum", "followup_potential_days_sum", "alive_n", "alive_seen_12m_n",
    *(f"{score}_{part}" for score, _, _ in SCORES for part in ("n", *PAIR_KINDS)),
    *(f"{score}_{part}" for score, _, _ in SCORES for part in INFLUENCE_SUMS),
)  # fmt: skip
"""The summed quantities of every (center, stratum), in summary.json's order."""


def _bool(series: pd.Series) -> np.ndarray:
    """A nullable boolean column as a plain numpy bool array, null counted as False."""
    return series.fillna(False).to_numpy(dtype=bool)


def days_between(later: pd.Series, earlier: pd.Series) -> FloatArray:
    """Whole days from `earlier` to `later`; NaN where either is missing."""
    days = (later - earlier).dt.days
    return np.asarray(days.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def center_count(groups: Groups, values: np.ndarray) -> FloatArray:
    """Per group, the sum of `values` over the patients of its center's memberships only."""
    weights = np.asarray(values, dtype=np.float64)
    counts = np.zeros(groups.n_groups)
    for block in groups.membership_blocks()[:2]:
        counts += np.bincount(block, weights=weights, minlength=groups.n_groups)
    return counts


def _baseline(patients: pd.DataFrame, groups: Groups) -> dict[str, FloatArray]:
    age = patients["age_at_surgery_years"].to_numpy(dtype=np.float64, na_value=np.nan)
    known = ~np.isnan(age)
    value = np.where(known, age, 0.0)
    age_n = center_count(groups, known)
    age_sum = center_count(groups, value)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = age_sum / age_n
    centered = np.zeros(groups.n_groups)
    for block in groups.membership_blocks()[:2]:
        weights = np.where(known, (value - mean[block]) ** 2, 0.0)
        centered += np.bincount(block, weights=weights, minlength=groups.n_groups)
    risk = patients["anesthetic_risk"]
    sums = {
        "n": center_count(groups, np.ones(len(patients))),
        "age_n": age_n,
        "age_sum": age_sum,
        "age_squares_sum": center_count(groups, value**2),
        "age_centered_squares_sum": centered,
        "male_n": center_count(groups, (patients["sex"] == "male").to_numpy()),
        "female_n": center_count(groups, (patients["sex"] == "female").to_numpy()),
        "anesthetic_risk_high_n": center_count(groups, (risk == "high").to_numpy()),
        "anesthetic_risk_known_n": center_count(groups, risk.notna().to_numpy()),
    }
    for code, procedure in enumerate(PROCEDURES):
        sums[f"procedure_{procedure}_n"] = center_count(groups, groups.procedure == code)
    return sums


def _proportion(
    sums: dict[str, FloatArray],
    code: str,
    groups: Groups,
    success: np.ndarray,
    eligible: np.ndarray,
) -> None:
    sums[f"{code}_numerator"] = center_count(groups, success & eligible)
    sums[f"{code}_denominator"] = center_count(groups, eligible)


def _clinical(patients: pd.DataFrame, groups: Groups, pain_mcid: float) -> dict[str, FloatArray]:
    """Perioperative deaths, immediate response and follow-up counts (endpoints.md).

    Notes:
        A postoperative death within 30 days counts only when the patient did not die
        during surgery. Pain relief: VAS fell by ≥ `pain_mcid` among patients with a
        preoperative VAS ≥ `pain_mcid`, with 1e-9 of slack for VAS divided by 10.
        "Followed up" is judged on whole days, (last_contact_date − surgery_date) > 30.
    """
    intraop = patients["intraop_death"].to_numpy(dtype=bool)
    death_days = days_between(patients["death_date"], patients["surgery_date"])
    dead = (patients["vital_status"] == "dead").to_numpy()
    early = ~intraop & dead & (death_days >= 0) & (death_days <= DEATH_WINDOW_DAYS)
    pre = patients["vas_pain_preop"].to_numpy(dtype=np.float64, na_value=np.nan)
    post = patients["vas_pain_postop"].to_numpy(dtype=np.float64, na_value=np.nan)
    alive = ~intraop
    pain_eligible = alive & ~np.isnan(pre) & ~np.isnan(post) & (pre >= pain_mcid - VAS_TOLERANCE)
    before = patients["frankel_preop"].cat.codes.to_numpy()
    after = patients["frankel_postop"].cat.codes.to_numpy()
    both = alive & (before >= 0) & (after >= 0)
    grade_e = len(patients["frankel_preop"].cat.categories) - 1
    contact_days = days_between(patients["last_contact_date"], patients["surgery_date"])
    followed = contact_days > FOLLOW_UP_DAYS
    months = patients["os_months"].to_numpy(dtype=np.float64)
    recurrence = patients["local_recurrence"]
    sums = {
        "intraop_death_n": center_count(groups, intraop),
        "death_30d_postop_n": center_count(groups, early),
        "followed_up_n": center_count(groups, followed),
        "followed_up_os_months_sum": center_count(groups, np.where(followed, months, 0.0)),
    }
    _proportion(sums, "mortality_30d_pct", groups, intraop | early, np.ones(intraop.size, bool))
    _proportion(
        sums, "pain_relief_pct", groups, pre - post >= pain_mcid - VAS_TOLERANCE, pain_eligible
    )
    _proportion(sums, "neuro_improvement_pct", groups, after > before, both & (before < grade_e))
    _proportion(sums, "neuro_worsening_pct", groups, after < before, both)
    local_known = followed & recurrence.notna().to_numpy()
    _proportion(sums, "local_control_pct", groups, ~_bool(recurrence), local_known)
    return sums


def center_cutoffs(
    patients: pd.DataFrame, data_cutoffs: Mapping[str, date] | None = None
) -> pd.Series:
    """Each patient's center's data cut-off: the stated one, else the center's latest
    `last_contact_date` (endpoints.md version 2)."""
    center = patients["center_id"].astype(str)
    latest = patients["last_contact_date"].groupby(center.to_numpy()).transform("max")
    stated = pd.to_datetime(center.map(dict(data_cutoffs or {})))
    return stated.astype("datetime64[ns]").fillna(latest).set_axis(patients.index)


def _completeness(
    patients: pd.DataFrame, groups: Groups, cutoff: pd.Series
) -> dict[str, FloatArray]:
    """Clark's completeness sums in days, and the alive patients seen within a year.

    Notes:
        Observed follow-up is last contact − surgery; potential is death − surgery for
        the dead (their last contact), cut-off − surgery for the others, as endpoints.md
        defines them (a contact after a stated cut-off is counted as it is). "Seen within
        12 months": cut-off − last contact ≤ 365 days.
    """
    dead = patients["os_event"].to_numpy(dtype=bool)
    observed = days_between(patients["last_contact_date"], patients["surgery_date"])
    potential = np.where(dead, observed, days_between(cutoff, patients["surgery_date"]))
    since_contact = days_between(cutoff, patients["last_contact_date"])
    return {
        "followup_observed_days_sum": center_count(groups, observed),
        "followup_potential_days_sum": center_count(groups, potential),
        "alive_n": center_count(groups, ~dead),
        "alive_seen_12m_n": center_count(groups, ~dead & (since_contact <= SEEN_WITHIN_DAYS)),
    }


def block_pairs(patients: pd.DataFrame, groups: Groups) -> dict[str, list[PairCounts]]:
    """Per score, the comparable pairs of the two within-center kinds of membership
    (blocks 0 and 1: the summaries' counts); patients are sorted by time once.

    The pooled scope's blocks (2 and 3) hold pairs across centers: `plain_pooled_c`
    counts those, without sorting the rows.
    """
    time = patients["os_months"].to_numpy(dtype=np.float64)
    event = patients["os_event"].to_numpy(dtype=bool)
    scores = {
        name: (patients[column].to_numpy(dtype=np.float64, na_value=np.nan), reverse)
        for name, column, reverse in SCORES
    }
    pairs: dict[str, list[PairCounts]] = {name: [] for name in scores}
    blocks = groups.membership_blocks()[:WITHIN_CENTER_BLOCKS]
    orders = itertools.islice(groups.block_orders(time, event), WITHIN_CENTER_BLOCKS)
    for block, order in zip(blocks, orders, strict=True):
        for name, (score, reverse) in scores.items():
            pairs[name].append(
                harrell_c(block, time, event, score, groups.n_groups, reverse=reverse, order=order)
            )
    return pairs


def _concordance(
    patients: pd.DataFrame, groups: Groups, pairs: dict[str, list[PairCounts]]
) -> dict[str, FloatArray]:
    """Patients with each score and its comparable pairs within each center's groups."""
    sums: dict[str, FloatArray] = {}
    for name, column, _ in SCORES:
        within = add_pair_counts(pairs[name])
        scored = ~np.isnan(patients[column].to_numpy(dtype=np.float64, na_value=np.nan))
        sums[f"{name}_n"] = center_count(groups, scored)
        for kind in PAIR_KINDS:
            sums[f"{name}_{kind}"] = getattr(within, kind)
        assert within.influence is not None
        for part, values in zip(INFLUENCE_SUMS, within.influence, strict=True):
            sums[f"{name}_{part}"] = values
    return sums


def count_sums(
    patients: pd.DataFrame,
    groups: Groups,
    pain_mcid: float,
    pairs: dict[str, list[PairCounts]],
    cutoff: pd.Series,
) -> dict[str, FloatArray]:
    """Every SUM_COLUMNS quantity per group, counted within centers (pooled rows are 0).

    `pairs` are `block_pairs` (the two within-center blocks); `cutoff` each
    patient's center's data cut-off (`center_cutoffs`).
    """
    sums = {
        **_baseline(patients, groups),
        **_clinical(patients, groups, pain_mcid),
        **_completeness(patients, groups, cutoff),
        **_concordance(patients, groups, pairs),
    }
    return {name: sums[name] for name in SUM_COLUMNS}


def plain_pooled_c(patients: pd.DataFrame, n_groups: int) -> dict[str, PairCounts]:
    """Per score, the pooled groups' pair counts over all patients, pairs across centers
    included (`pooled_concordance`), in the groups (ALL, all) and (ALL, procedure), the
    last `len(STRATA)` of `n_groups`; the other groups hold no pairs.

    Reads `procedure`, `os_months`, `os_event` and the scores.
    """
    blocks = time_blocks(
        patients["os_months"].to_numpy(dtype=np.float64), patients["os_event"].to_numpy(dtype=bool)
    )
    procedure = pd.Categorical(patients["procedure"], categories=PROCEDURES).codes
    pooled = slice(n_groups - len(STRATA), n_groups)
    plain = {}
    for name, column, reverse in SCORES:
        score = patients[column].to_numpy(dtype=np.float64, na_value=np.nan)
        counts = pooled_concordance(
            procedure.astype(np.int64), len(PROCEDURES), blocks, score, reverse=reverse
        )
        placed = [np.zeros(n_groups) for _ in range(6)]
        influence = counts.influence or ()
        values = [counts.concordant, counts.discordant, counts.tied_score, *influence]
        for target, value in zip(placed, values, strict=True):
            target[pooled] = value
        concordant, discordant, tied, squares, cross, d_squares = placed
        plain[name] = pair_counts(concordant, discordant, tied, (squares, cross, d_squares))
    return plain


def unit_time(days: np.ndarray, time_unit: str) -> np.ndarray:
    """Whole days as whole `time_unit`s, rounded up (a day stays a day)."""
    if time_unit == "day":
        return days.astype(np.int64)
    return np.ceil(days / UNIT_DAYS[time_unit]).astype(np.int64)


def risk_sets(patients: pd.DataFrame, groups: Groups, time_unit: str = "day") -> pd.DataFrame:
    """Events, competing events and censorings per (center, procedure, outcome, time).

    `center` is the index into `groups.scopes`, `procedure` the code in PROCEDURES,
    `outcome` 0 for OS and 1 for local control (competing = death without recurrence),
    `time` whole days since surgery, or whole weeks or months rounded up; only cells
    with at least one patient.
    """
    os_event = patients["os_event"].to_numpy(dtype=bool)
    lc_event = patients["lc_event"].to_numpy(dtype=bool)
    frames = []
    for outcome, (column, event, competing) in enumerate(
        (
            ("os_months", os_event, np.zeros_like(os_event)),
            ("lc_months", lc_event, os_event & ~lc_event),
        )
    ):
        days = np.rint(patients[column].to_numpy(dtype=np.float64) * DAYS_PER_MONTH)
        frames.append(
            pd.DataFrame(
                {
                    "center": groups.center,
                    "procedure": groups.procedure,
                    "outcome": outcome,
                    "time": unit_time(days, time_unit),
                    "events": event.astype(np.int64),
                    "competing": competing.astype(np.int64),
                    "censored": (~event & ~competing).astype(np.int64),
                }
            )
        )
    keys = ["center", "procedure", "outcome", "time"]
    table = pd.concat(frames, ignore_index=True).groupby(keys, sort=True).sum().reset_index()
    return table.astype(dict.fromkeys([*keys, *RISK_COLUMNS], np.int64))
