"""The six synthetic centers' latent-cohort parameters: case mix, outcomes, periods, sizes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from schemas.patients import PRIMARY_TUMORS

# Primary tumor mix of surgically treated spinal metastases (weights, not shares):
# breast, kidney, lung and prostate dominate surgical series; renal and thyroid
# primaries are over-represented in surgical (vs. all) spinal metastases.
BASE_TUMOR_WEIGHTS: dict[str, float] = {
    "breast": 20, "prostate": 8, "thyroid": 7, "kidney": 15, "lung": 12, "liver": 2,
    "gallbladder": 0.5, "stomach": 1.5, "colon": 4, "rectum": 2, "esophagus": 1,
    "pancreas": 1, "bladder": 2, "uterus": 1.5, "carcinoid": 0.5, "melanoma": 2,
    "sarcoma": 3, "osteosarcoma": 0.5, "myeloma": 7, "lymphoma": 3,
    "unknown_primary": 4, "other": 2.5,
}  # fmt: skip


@dataclass(frozen=True)
class CenterProfile:
    """Parameters of one center's latent cohort: its case mix, policy and outcome rates.

    Notes:
        Shares are the expected shares of the center's patients (of the eligible
        ones, as stated) with the event; covariates decide who has it (see
        `events.draw_events`). A `calibrated` profile is a published series: it is
        used as written (no between-center draw, see `centers.draw_center`) and its
        shares are drawn as exact counts (round(share × eligible)), so the center
        reproduces the published numbers up to rounding. `procedure_shares` are
        always exact (a surgical policy). `os_base_median_months` is the median
        survival of a 30-day survivor with a revised Tokuhashi score of 9.
    """

    kind: str
    default_patients: int
    first_surgery: date
    last_surgery: date
    data_cutoff: date
    male_share: float = 0.66  # reference: a primary of both sexes
    age_mean_years: float = 60.0
    age_sd_years: float = 12.0
    tumor_weights: dict[str, float] = field(default_factory=lambda: dict(BASE_TUMOR_WEIGHTS))
    procedure_shares: tuple[float, float, float] = (0.60, 0.28, 0.12)  # exact
    high_risk_share: float = 0.30  # exact
    intraop_death_share: float = 0.002  # reference: low risk, Tokuhashi 9
    death_30d_share: float = 0.028  # days 1-30; reference: low risk, Tokuhashi 9
    early_loss_share: float = 0.08  # of the 30-day survivors: last contact at discharge
    pain_relief_share: float = 0.90  # among preop VAS >= 2
    neuro_improvement_share: float = 0.90  # among preop Frankel A-D; reference: grade C
    recurrence_share: float = 0.15  # among followed up; reference: palliation, 12 months
    os_base_median_months: float = 18.0
    dropout_mean_years: float = 10.0
    calibrated: bool = False
    missing_share: float = 0.04


def _tumors(**changes: float) -> dict[str, float]:
    unknown = set(changes) - set(PRIMARY_TUMORS)
    if unknown:
        raise ValueError(f"not canonical primary tumors: {sorted(unknown)}")
    return {**BASE_TUMOR_WEIGHTS, **changes}


# Bologna: Li, Gasbarrini, Boriani et al. 2010, 249 patients 1996-2006 (152 men, 97
# women, mean age 57; 1 intraoperative and 6 thirty-day deaths; 215 followed up; pain
# relief 91.7 %, neurological improvement 88.4 %; median OS 20.9 months; local control
# 84.8 %). early_loss_share = (249 - 215 - 1 - 6) / (249 - 1 - 6), the share of the
# 30-day survivors.
PROFILES: dict[str, CenterProfile] = {
    "bologna": CenterProfile(
        kind="bologna",
        default_patients=249,
        first_surgery=date(1996, 1, 1),
        last_surgery=date(2006, 12, 31),
        data_cutoff=date(2008, 6, 30),
        male_share=152 / 249,
        age_mean_years=57.0,
        tumor_weights=_tumors(sarcoma=5, myeloma=8),
        procedure_shares=(0.62, 0.27, 0.11),
        high_risk_share=0.30,
        intraop_death_share=1 / 249,
        death_30d_share=6 / 249,
        early_loss_share=27 / 242,
        pain_relief_share=0.917,
        neuro_improvement_share=0.884,
        recurrence_share=1 - 0.848,
        os_base_median_months=20.0,
        calibrated=True,
    ),
    "barcelona": CenterProfile(
        kind="barcelona",
        default_patients=150,
        first_surgery=date(2010, 1, 1),
        last_surgery=date(2024, 12, 31),
        data_cutoff=date(2026, 3, 31),
        male_share=0.68,
        age_mean_years=61.0,
        tumor_weights=_tumors(lung=16, breast=18),
        procedure_shares=(0.70, 0.22, 0.08),
        os_base_median_months=17.0,
    ),
    "rotterdam": CenterProfile(
        kind="rotterdam",
        default_patients=120,
        first_surgery=date(2008, 1, 1),
        last_surgery=date(2023, 12, 31),
        data_cutoff=date(2026, 1, 31),
        male_share=0.62,
        age_mean_years=63.0,
        tumor_weights=_tumors(prostate=12, kidney=12),
        procedure_shares=(0.75, 0.20, 0.05),
        high_risk_share=0.35,
        os_base_median_months=16.0,
    ),
    "muenchen": CenterProfile(
        kind="muenchen",
        default_patients=180,
        first_surgery=date(2005, 1, 1),
        last_surgery=date(2024, 12, 31),
        data_cutoff=date(2026, 6, 30),
        male_share=0.67,
        age_mean_years=64.0,
        procedure_shares=(0.65, 0.25, 0.10),
        os_base_median_months=19.0,
    ),
    "boston": CenterProfile(
        kind="boston",
        default_patients=200,
        first_surgery=date(2012, 1, 1),
        last_surgery=date(2025, 12, 31),
        data_cutoff=date(2026, 6, 30),
        male_share=0.63,
        age_mean_years=62.0,
        tumor_weights=_tumors(lung=18, myeloma=9),
        procedure_shares=(0.55, 0.33, 0.12),
        high_risk_share=0.25,
        os_base_median_months=20.0,
    ),
    "lyon": CenterProfile(
        kind="lyon",
        default_patients=90,
        first_surgery=date(1999, 1, 1),
        last_surgery=date(2012, 12, 31),
        data_cutoff=date(2013, 12, 31),
        male_share=0.70,
        age_mean_years=59.0,
        tumor_weights=_tumors(thyroid=10, kidney=18),
        procedure_shares=(0.58, 0.27, 0.15),
        os_base_median_months=18.0,
    ),
}

KINDS: tuple[str, ...] = ("bologna", "barcelona", "rotterdam", "muenchen", "boston", "lyon")


def profile_for(kind: str, **changes: object) -> CenterProfile:
    """The profile of a center kind, with optional field changes (for tests and clones)."""
    return replace(PROFILES[kind], **changes)  # type: ignore[arg-type]
