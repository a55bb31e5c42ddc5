"""The demo consortium looks like a real one: centers differ, and no clinician would stop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit

from spinemet_etl.stats.proportions import PooledProportion, dersimonian_laird
from spinemet_etl.synth import latent_cohort, plan_consortium
from spinemet_etl.synth.centers import SHARE_SD, TRUNCATION_SDS
from spinemet_etl.synth.cohort import simulate_cohort
from spinemet_etl.synth.consortium import center_profile
from spinemet_etl.synth.profiles import PROFILES

GRADE = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}
# The demo's default seed (`spinemet demo`) and the seed the docs' examples use.
DEMO_SEEDS = [20100, 7]
POOLED_PROPORTIONS = (
    "mortality_30d_pct", "pain_relief_pct", "neuro_improvement_pct", "local_control_pct",
)  # fmt: skip


def _demo_centers(seed: int) -> dict[str, pd.DataFrame]:
    """The demo's six centers, as published: dirty and copied records left out."""
    frames = {}
    for plan in plan_consortium(6, None):
        frame = latent_cohort(plan.center_id, seed=seed)
        frames[plan.center_id] = frame[(frame["dirt"] == "") & ~frame["is_copy"]]
    return frames


def _days(frame: pd.DataFrame) -> pd.Series:
    return (frame["last_contact_date"] - frame["surgery_date"]).dt.days


def _dead(frame: pd.DataFrame) -> pd.Series:
    return frame["vital_status"].astype(object) == "dead"


def _grades(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    pre = frame["frankel_preop"].astype(object).map(GRADE)
    return pre, frame["frankel_postop"].astype(object).map(GRADE)


def _counts(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of the pooled proportions, by endpoints.md's definitions."""
    days, dead = _days(frame), _dead(frame)
    intraop = frame["intraop_death"].astype(bool)
    vas_pre, vas_post = frame["vas_pain_preop"], frame["vas_pain_postop"]
    pain_base = ~intraop & vas_pre.notna() & vas_post.notna() & (vas_pre >= 2)
    pre, post = _grades(frame)
    neuro_base = ~intraop & pre.notna() & post.notna() & (pre < 4)
    relieved = pain_base & (vas_post <= vas_pre - 2)
    recurrence = frame["local_recurrence"]
    control_base = (days > 30) & recurrence.notna()
    return {
        "mortality_30d_pct": (int((intraop | (dead & (days <= 30))).sum()), len(frame)),
        "pain_relief_pct": (int(relieved.sum()), int(pain_base.sum())),
        "neuro_improvement_pct": (int((neuro_base & (post > pre)).sum()), int(neuro_base.sum())),
        "local_control_pct": (
            int((control_base & (recurrence == False)).sum()),  # noqa: E712
            int(control_base.sum()),
        ),
    }


def _pooled(seed: int) -> dict[str, PooledProportion]:
    counts = [_counts(frame) for frame in _demo_centers(seed).values()]
    pooled = {}
    for endpoint in POOLED_PROPORTIONS:
        events = np.array([c[endpoint][0] for c in counts])
        totals = np.array([c[endpoint][1] for c in counts])
        result = dersimonian_laird(events, totals)
        assert result is not None
        pooled[endpoint] = result
    return pooled


@pytest.mark.parametrize("seed", DEMO_SEEDS, ids=[f"seed-{s}" for s in DEMO_SEEDS])
def test_centers_differ_beyond_chance(seed: int) -> None:
    pooled = _pooled(seed)
    heterogeneous = [name for name, p in pooled.items() if p.tau2 > 0]
    # Fixed shares in every center make Q smaller than chance allows (P(χ² ≤ Q) tiny);
    # real between-center variation makes it larger.
    plausible_q = [name for name, p in pooled.items() if 1 - p.q_p_value >= 0.05]
    assert len(heterogeneous) >= 2, {n: p.tau2 for n, p in pooled.items()}
    assert len(plausible_q) >= 3, {n: p.q_p_value for n, p in pooled.items()}


@pytest.mark.parametrize("seed", DEMO_SEEDS, ids=[f"seed-{s}" for s in DEMO_SEEDS])
def test_sex_follows_the_primary(seed: int) -> None:
    patients = pd.concat(_demo_centers(seed).values())
    sex = patients["sex"].astype(object)
    primary = patients["primary_tumor"].astype(object)
    assert (sex[primary == "breast"] == "female").mean() >= 0.95
    assert (sex[primary == "prostate"] == "male").all()
    assert (sex[primary == "uterus"] == "female").all()
    assert 0.45 <= (sex == "male").mean() <= 0.65


@pytest.mark.parametrize("seed", DEMO_SEEDS, ids=[f"seed-{s}" for s in DEMO_SEEDS])
def test_complete_deficits_rarely_improve(seed: int) -> None:
    patients = pd.concat(_demo_centers(seed).values())
    pre, post = _grades(patients)
    known = post.notna()
    complete = known & (pre == 0)
    incomplete = known & pre.between(1, 3)
    assert complete.sum() >= 10
    assert (post > pre)[complete].mean() < 0.15
    assert (post > pre)[incomplete].mean() > 0.6


@pytest.mark.parametrize("seed", DEMO_SEEDS, ids=[f"seed-{s}" for s in DEMO_SEEDS])
def test_patients_die_in_the_first_month(seed: int) -> None:
    centers = _demo_centers(seed)
    early = {
        center: int((_dead(f) & _days(f).between(2, 30) & ~f["intraop_death"]).sum())
        for center, f in centers.items()
    }
    patients = pd.concat(centers.values())
    mortality_30d = (_dead(patients) & (_days(patients) <= 30)).mean()
    assert sum(early.values()) >= 15
    assert sum(count > 0 for count in early.values()) >= 4, early
    assert 0.03 <= mortality_30d <= 0.10


def test_no_heap_of_deaths_just_after_day_30() -> None:
    frame = simulate_cohort(PROFILES["boston"], 20_000, np.random.default_rng(4))
    days = _days(frame)[_dead(frame)]
    per_day = days.value_counts()
    later = per_day.reindex(range(32, 61), fill_value=0).mean()
    assert per_day.get(31, 0) <= 3 * later
    assert per_day.reindex(range(2, 31), fill_value=0).sum() > 0


def test_the_calibrated_center_is_not_drawn_but_its_clone_is() -> None:
    plans = {plan.center_id: plan for plan in plan_consortium(7, None)}
    assert center_profile(plans["bologna"], 7) == PROFILES["bologna"]
    clone = center_profile(plans["bologna_07"], 7)
    assert not clone.calibrated
    assert clone.pain_relief_share != PROFILES["bologna"].pain_relief_share


@pytest.mark.parametrize("seed", range(20), ids=[f"seed-{s}" for s in range(20)])
def test_drawn_shares_stay_within_two_sds(seed: int) -> None:
    plan = plan_consortium(6, None)[4]
    drawn, template = center_profile(plan, seed), PROFILES[plan.kind]
    shifts = {
        name: abs(logit(getattr(drawn, name)) - logit(getattr(template, name))) / sd
        for name, sd in SHARE_SD.items()
    }
    assert max(shifts.values()) <= TRUNCATION_SDS + 1e-9
    assert sum(drawn.procedure_shares) == pytest.approx(1.0)
