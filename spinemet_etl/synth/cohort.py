"""The latent cohort of one synthetic center: one row per patient, in canonical values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.patients import (
    ESCC_GRADES,
    FRANKEL_GRADES,
    PRIMARY_TUMORS,
    PROCEDURES,
)
from spinemet_etl.synth.events import draw_events
from spinemet_etl.synth.profiles import CenterProfile

DAYS_PER_MONTH = 30.4375
_LOG_SURVIVAL_SD = 0.9
NULLABLE_BASELINE = (
    "kps_preop", "ecog_preop", "asa_class", "anesthetic_risk", "vertebral_mets_n",
    "extraspinal_bone_mets_n", "visceral_mets", "frankel_preop", "vas_pain_preop",
    "pathological_fracture", "sins_total", "escc_grade", "frankel_postop", "vas_pain_postop",
)  # fmt: skip

_TOKUHASHI_PRIMARY = {
    **dict.fromkeys(("lung", "osteosarcoma", "stomach", "bladder", "esophagus", "pancreas"), 0),
    **dict.fromkeys(("liver", "gallbladder", "unknown_primary"), 1),
    **dict.fromkeys(("kidney", "uterus"), 3),
    "rectum": 4,
    **dict.fromkeys(("thyroid", "breast", "prostate", "carcinoid"), 5),
}
# Log-odds of being a man by primary tumor, relative to the primaries of both sexes:
# breast cancer is about 1 % male, prostate only male, uterus only female.
_SEX_LOG_ODDS = {"breast": -5.5, "prostate": 30.0, "uterus": -30.0}
# Log-odds of neurological improvement by preoperative Frankel grade, relative to C.
_NEURO_LOG_ODDS = np.array([-5.25, -0.3, 0.0, 0.1, 0.0])
_TOMITA_PRIMARY = {
    **dict.fromkeys(("breast", "prostate", "thyroid", "carcinoid"), 1),
    **dict.fromkeys(("kidney", "uterus", "myeloma", "lymphoma"), 2),
}


def _categorical(rng: np.random.Generator, n: int, weights: dict[str, float]) -> np.ndarray:
    values = list(weights)
    p = np.array([weights[v] for v in values], dtype=float)
    return np.array(values, dtype=object)[rng.choice(len(values), size=n, p=p / p.sum())]


def _performance(
    frankel_pre: np.ndarray, visceral: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Karnofsky and ECOG.

    Notes:
        Karnofsky falls with palsy (Frankel A-B lowers it by about 30 points) and with
        unremovable visceral disease; ECOG is recorded from the same latent condition
        (KPS 90-100 -> 0, 70-80 -> 1, 50-60 -> 2, 30-40 -> 3, 10-20 -> 4) with a 15 %
        chance of one grade's disagreement, as two observers would give.
    """
    n = len(frankel_pre)
    palsy = np.isin(frankel_pre, ["A", "B"])
    kps_latent = rng.normal(75, 14, n) - 30 * palsy - 8 * (visceral == "unremovable")
    kps = np.clip(np.round(kps_latent / 10) * 10, 30, 100).astype(int)
    ecog = np.select([kps >= 90, kps >= 70, kps >= 50, kps >= 30], [0, 1, 2, 3], 4)
    ecog = np.clip(ecog + rng.choice([-1, 0, 1], size=n, p=[0.075, 0.85, 0.075]), 0, 5)
    return kps, ecog


def _stability(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """SINS, pathological fracture (likelier with higher SINS) and Bilsky ESCC grade."""
    sins = np.clip(np.round(rng.normal(10, 3, n)), 0, 18).astype(int)
    fracture = rng.random(n) < 1 / (1 + np.exp(-(sins - 10) / 2))
    escc = rng.choice(ESCC_GRADES, size=n, p=[0.15, 0.15, 0.15, 0.15, 0.2, 0.2])
    return {"pathological_fracture": fracture, "sins_total": sins, "escc_grade": escc}


def _baseline(profile: CenterProfile, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Sex, age, tumor, metastatic spread, neurology, pain, performance, stability.

    Notes:
        Sex is drawn given the primary tumor (`_SEX_LOG_ODDS`), so the center's share
        of men is `male_share` while breast primaries stay about 99 % female.
    """
    tumor = _categorical(rng, n, profile.tumor_weights)
    sex_log_odds = pd.Series(tumor).map(_SEX_LOG_ODDS).fillna(0.0).to_numpy()
    everyone = np.ones(n, dtype=bool)
    male = draw_events(rng, everyone, sex_log_odds, profile.male_share, exact=profile.calibrated)
    age = np.clip(rng.normal(profile.age_mean_years, profile.age_sd_years, n), 18.0, 92.0)
    frankel_pre = rng.choice(FRANKEL_GRADES, size=n, p=[0.04, 0.06, 0.15, 0.30, 0.45])
    visceral = rng.choice(["none", "removable", "unremovable"], size=n, p=[0.55, 0.15, 0.30])
    kps, ecog = _performance(frankel_pre, visceral, rng)
    vertebral = np.where(rng.random(n) < 0.42, 1, np.where(rng.random(n) < 0.35, 2, 0))
    vertebral = np.where(vertebral == 0, rng.integers(3, 9, n), vertebral)
    extraspinal = rng.choice([0, 1, 2, 3, 4, 5, 6, 8], size=n, p=[0.5, 0.15, 0.1] + [0.05] * 5)
    vas_pre = np.clip(np.round(rng.normal(7.2, 1.8, n) * 2) / 2, 0.0, 10.0)
    return pd.DataFrame(
        {
            "sex": np.where(male, "male", "female"),
            "age_at_surgery_years": np.round(age, 2),
            "primary_tumor": tumor,
            "kps_preop": kps,
            "ecog_preop": ecog,
            "vertebral_mets_n": vertebral,
            "extraspinal_bone_mets_n": extraspinal,
            "visceral_mets": visceral,
            "frankel_preop": frankel_pre,
            "vas_pain_preop": vas_pre,
            **_stability(n, rng),
        }
    )


def tokuhashi_points(frame: pd.DataFrame) -> np.ndarray:
    """Revised Tokuhashi score (scores.md) of complete latent rows."""
    kps = frame["kps_preop"].to_numpy()
    extra = frame["extraspinal_bone_mets_n"].to_numpy()
    vertebral = frame["vertebral_mets_n"].to_numpy()
    return (
        np.select([kps >= 80, kps >= 50], [2, 1], 0)
        + np.select([extra >= 3, extra >= 1], [0, 1], 2)
        + np.select([vertebral >= 3, vertebral == 2], [0, 1], 2)
        + frame["visceral_mets"].map({"unremovable": 0, "removable": 1, "none": 2}).to_numpy()
        + frame["primary_tumor"].map(lambda t: _TOKUHASHI_PRIMARY.get(t, 2)).to_numpy()
        + frame["frankel_preop"].map({"A": 0, "B": 0, "C": 1, "D": 1, "E": 2}).to_numpy()
    ).astype(int)


def tomita_points(frame: pd.DataFrame) -> np.ndarray:
    """Tomita score (scores.md) of complete latent rows."""
    bone = frame["vertebral_mets_n"].to_numpy() + frame["extraspinal_bone_mets_n"].to_numpy()
    return (
        frame["primary_tumor"].map(lambda t: _TOMITA_PRIMARY.get(t, 4)).to_numpy()
        + frame["visceral_mets"].map({"none": 0, "removable": 2, "unremovable": 4}).to_numpy()
        + np.where(bone == 1, 1, 2)
    ).astype(int)


def _surgery(frame: pd.DataFrame, profile: CenterProfile, rng: np.random.Generator) -> None:
    """Anesthetic evaluation, ASA, procedure and surgery date, in place.

    Notes:
        Operability follows the anesthetic evaluation, as in the Bologna series: high
        risk goes with ASA 3-4 and poor performance. Procedures are assigned by rank
        of Tomita score plus 3 points for high risk plus noise (SD 1.5): the lowest
        ranks get en bloc resection, the next curettage, the rest palliation. So en
        bloc patients have solitary, slow-growing disease more often, but the score
        does not dictate the strategy.
    """
    n = len(frame)
    frailty = (100 - frame["kps_preop"].to_numpy()) / 10 + rng.normal(0, 2, n)
    high_risk = np.zeros(n, dtype=bool)
    high_risk[np.argsort(-frailty, kind="stable")[: round(profile.high_risk_share * n)]] = True
    asa = np.where(high_risk, rng.choice([3, 4], size=n, p=[0.7, 0.3]), rng.choice([1, 2, 3], n))
    rank_key = tomita_points(frame) + 3 * high_risk + rng.normal(0, 1.5, n)
    order = np.argsort(rank_key, kind="stable")
    en_bloc_n = round(profile.procedure_shares[2] * n)
    curettage_n = round(profile.procedure_shares[1] * n)
    procedure = np.full(n, "palliative", dtype=object)
    procedure[order[:en_bloc_n]] = "en_bloc"
    procedure[order[en_bloc_n : en_bloc_n + curettage_n]] = "curettage"
    first = pd.Timestamp(profile.first_surgery)
    span_days = (pd.Timestamp(profile.last_surgery) - first).days
    frame["anesthetic_risk"] = np.where(high_risk, "high", "low")
    frame["asa_class"] = asa
    frame["procedure"] = procedure
    frame["surgery_date"] = first + pd.to_timedelta(rng.integers(0, span_days + 1, n), unit="D")


def _response(frame: pd.DataFrame, profile: CenterProfile, rng: np.random.Generator) -> None:
    """Postoperative Frankel grade and VAS at discharge, in place (NA for intraop deaths).

    Notes:
        Pain relief is a drop of >= 2 points among preop VAS >= 2 (endpoints.md);
        neurological improvement is >= 1 Frankel grade among preop A-D, 30 % of the
        improved gaining two grades. Who improves depends on the preoperative grade
        (`_NEURO_LOG_ODDS`): a complete deficit (A) rarely recovers (about 4-9 %),
        incomplete deficits (B-D) usually do after decompression. Unimproved patients
        keep their grade, 10 % of them (and 3 % of grade E) worsening by one.
    """
    n = len(frame)
    alive = ~frame["intraop_death"].to_numpy()
    pre_vas = frame["vas_pain_preop"].to_numpy()
    exact = profile.calibrated
    relieved = draw_events(rng, alive & (pre_vas >= 2), 0.0, profile.pain_relief_share, exact=exact)
    drop = np.where(
        relieved,
        2 + np.floor(rng.random(n) * (pre_vas - 1) * 2) / 2,
        rng.choice([-0.5, 0.0, 0.5, 1.0, 1.5], n),
    )
    post_vas = np.clip(pre_vas - np.minimum(drop, pre_vas), 0.0, 10.0)
    grade = frame["frankel_preop"].map({g: i for i, g in enumerate(FRANKEL_GRADES)}).to_numpy()
    improved = draw_events(
        rng, alive & (grade < 4), _NEURO_LOG_ODDS[grade], profile.neuro_improvement_share,
        exact=exact,
    )  # fmt: skip
    worse = ~improved & (rng.random(n) < np.where(grade == 4, 0.03, 0.10))
    step = np.where(improved, 1 + (rng.random(n) < 0.3), -worse.astype(int))
    post_grade = np.clip(grade + step, 0, 4)
    frankel_post = np.array(FRANKEL_GRADES, dtype=object)[post_grade]
    frankel_post[~alive] = None
    frame["frankel_postop"] = frankel_post
    frame["vas_pain_postop"] = np.where(alive, post_vas, np.nan)


def _early_deaths(
    frame: pd.DataFrame, profile: CenterProfile, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Intraoperative deaths and deaths on days 1-30: two masks.

    Notes:
        Both are likelier in the frail: log-odds + log 3 for high anesthetic risk and
        - 0.2 per revised Tokuhashi point above 9. Deaths after surgery fall on day
        1 + floor(30 u^1.5), u uniform: earlier days likelier (a third in week one),
        as complications and rapid progression kill early.
    """
    frail = np.log(3.0) * (frame["anesthetic_risk"] == "high").to_numpy() - 0.2 * (
        tokuhashi_points(frame) - 9
    )
    everyone = np.ones(len(frame), dtype=bool)
    exact = profile.calibrated
    intraop = draw_events(rng, everyone, frail, profile.intraop_death_share, exact=exact)
    early = draw_events(rng, ~intraop, frail, profile.death_30d_share, exact=exact)
    return intraop, early


def _survival_days(
    frame: pd.DataFrame, profile: CenterProfile, rng: np.random.Generator
) -> np.ndarray:
    """Days from surgery to death: early deaths, else log-normal beyond day 30.

    Notes:
        For 30-day survivors log T = log(base median) + 0.22 × (Tokuhashi − 9) +
        procedure effect + N(0, 0.9²), truncated to T > 30 days (drawn by inverse CDF
        above the truncation point, so there is no heap of deaths on day 31). One
        Tokuhashi point changes the median survival by about 25 % and both scores
        discriminate survival (C about 0.65-0.70). Curettage adds 10 %, en bloc 20 %
        to the median (selection beyond the scores).
    """
    from scipy.special import ndtr, ndtri

    n = len(frame)
    effect = frame["procedure"].map({"palliative": 0.0, "curettage": 0.1, "en_bloc": 0.2})
    mean_log_months = (
        np.log(profile.os_base_median_months)
        + 0.22 * (tokuhashi_points(frame) - 9)
        + effect.to_numpy()
    )
    floor_z = (np.log(30.5 / DAYS_PER_MONTH) - mean_log_months) / _LOG_SURVIVAL_SD
    above = ndtr(floor_z) + rng.random(n) * ndtr(-floor_z)
    log_months = mean_log_months + _LOG_SURVIVAL_SD * ndtri(np.minimum(above, 1 - 1e-12))
    days = np.maximum(np.round(np.exp(log_months) * DAYS_PER_MONTH), 31).astype(int)
    intraop, early = _early_deaths(frame, profile, rng)
    days[intraop] = 0
    days[early] = 1 + np.floor(30 * rng.random(int(early.sum())) ** 1.5).astype(int)
    frame["intraop_death"] = intraop
    return days


def _follow_up(
    frame: pd.DataFrame, death_days: np.ndarray, profile: CenterProfile, rng: np.random.Generator
) -> None:
    """Censoring, vital status, last contact and local recurrence, in place.

    Notes:
        Follow-up ends at the earliest of death, the data cut-off and an exponential
        drop-out (mean `dropout_mean_years`); `early_loss_share` of the patients who
        survive 30 days are last seen at discharge (5-20 days). Local recurrence is
        found in `recurrence_share` of the followed-up patients (last contact > 30
        days); its odds are 0.8 times palliation's after curettage, 0.25 times after
        en bloc resection, and grow with the square root of the follow-up (a longer
        follow-up finds more recurrences). The recurrence day is uniform between day
        31 and the last contact.
    """
    n = len(frame)
    surgery = frame["surgery_date"]
    to_cutoff = (pd.Timestamp(profile.data_cutoff) - surgery).dt.days.to_numpy()
    dropout = np.round(rng.exponential(profile.dropout_mean_years * 365.25, n)).astype(int)
    censor = np.minimum(to_cutoff, np.maximum(dropout, 31))
    exact = profile.calibrated
    lost = draw_events(rng, death_days > 30, 0.0, profile.early_loss_share, exact=exact)
    censor[lost] = rng.integers(5, 21, int(lost.sum()))
    dead = death_days <= censor
    contact_days = np.where(dead, death_days, censor)
    followed = contact_days > 30
    procedure_odds = frame["procedure"].map({"palliative": 1.0, "curettage": 0.8, "en_bloc": 0.25})
    months = np.maximum(contact_days, 31) / DAYS_PER_MONTH
    log_odds = np.log(procedure_odds.to_numpy()) + 0.5 * np.log(months / 12)
    recurred = draw_events(rng, followed, log_odds, profile.recurrence_share, exact=exact)
    recurrence_days = 31 + np.floor(rng.random(n) * np.maximum(contact_days - 30, 1)).astype(int)
    last_contact = surgery + pd.to_timedelta(contact_days, unit="D")
    frame["local_recurrence"] = recurred
    frame["local_recurrence_date"] = (surgery + pd.to_timedelta(recurrence_days, unit="D")).where(
        recurred
    )
    frame["vital_status"] = np.where(dead, "dead", "alive")
    frame["death_date"] = last_contact.where(dead)
    frame["last_contact_date"] = last_contact


def _blank_some(frame: pd.DataFrame, share: float, rng: np.random.Generator) -> None:
    """Make nullable fields unknown in `share` of the rows each, at random, in place."""
    for column in NULLABLE_BASELINE:
        unknown = rng.random(len(frame)) < share
        frame[column] = frame[column].mask(unknown)


def simulate_cohort(profile: CenterProfile, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Simulate `n` patients of a center: canonical columns, one row per patient.

    Dtypes follow the canonical model (categories, Int16, boolean, day-precision
    datetimes); identifiers and dirt are added by other modules.
    """
    frame = _baseline(profile, n, rng)
    _surgery(frame, profile, rng)
    death_days = _survival_days(frame, profile, rng)
    _response(frame, profile, rng)
    _follow_up(frame, death_days, profile, rng)
    _blank_some(frame, profile.missing_share, rng)
    return _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    categories = {
        "sex": ["male", "female"],
        "primary_tumor": PRIMARY_TUMORS,
        "anesthetic_risk": ["low", "high"],
        "visceral_mets": ["none", "removable", "unremovable"],
        "escc_grade": ESCC_GRADES,
        "procedure": PROCEDURES,
        "vital_status": ["alive", "dead"],
    }
    for column, values in categories.items():
        frame[column] = pd.Categorical(frame[column], categories=values)
    for column in ("frankel_preop", "frankel_postop"):
        frame[column] = pd.Categorical(frame[column], categories=FRANKEL_GRADES, ordered=True)
    for column in ("kps_preop", "ecog_preop", "asa_class", "vertebral_mets_n"):
        frame[column] = frame[column].astype("Int16")
    for column in ("extraspinal_bone_mets_n", "sins_total"):
        frame[column] = frame[column].astype("Int16")
    for column in ("pathological_fracture", "local_recurrence"):
        frame[column] = frame[column].astype("boolean")
    for column in ("vas_pain_preop", "vas_pain_postop", "age_at_surgery_years"):
        frame[column] = frame[column].astype("float64")
    order = [c for c in _COLUMN_ORDER if c in frame.columns]
    return frame[order]


_COLUMN_ORDER = [
    "sex", "age_at_surgery_years", "primary_tumor", "kps_preop", "ecog_preop", "asa_class",
    "anesthetic_risk", "vertebral_mets_n", "extraspinal_bone_mets_n", "visceral_mets",
    "frankel_preop", "vas_pain_preop", "pathological_fracture", "sins_total", "escc_grade",
    "surgery_date", "procedure", "intraop_death", "frankel_postop", "vas_pain_postop",
    "local_recurrence", "local_recurrence_date", "vital_status", "death_date",
    "last_contact_date",
]  # fmt: skip
