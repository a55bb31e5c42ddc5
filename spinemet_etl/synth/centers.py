"""A synthetic center's own parameters, drawn around its template with between-center variation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import expit, logit

from spinemet_etl.synth.profiles import CenterProfile

# Between-center standard deviations (center-level random effects), on the logit scale
# for shares and the log scale for times, weights and the age difference in years.
SHARE_SD: dict[str, float] = {
    "male_share": 0.15,
    "high_risk_share": 0.3,
    "intraop_death_share": 0.3,
    "death_30d_share": 0.4,
    "early_loss_share": 0.4,
    "pain_relief_share": 0.45,
    "neuro_improvement_share": 0.45,
    "recurrence_share": 0.4,
}
LOG_SD: dict[str, float] = {"os_base_median_months": 0.15, "dropout_mean_years": 0.3}
TUMOR_WEIGHT_LOG_SD = 0.3
TRUNCATION_SDS = 2.0
AGE_MEAN_SD_YEARS = 2.0
CURETTAGE_LOGIT_SD = 0.35
EN_BLOC_LOGIT_SD = 0.5


def _effects(rng: np.random.Generator, sds: list[float]) -> list[float]:
    """Center-level random effects: normal with these SDs, truncated at ±2 SD."""
    z = np.clip(rng.normal(size=len(sds)), -TRUNCATION_SDS, TRUNCATION_SDS)
    return [float(sd * value) for sd, value in zip(sds, z, strict=True)]


def _procedure_shares(
    shares: tuple[float, float, float], rng: np.random.Generator
) -> tuple[float, float, float]:
    """Curettage and en bloc shares shifted on the logit scale; palliation takes the rest."""
    curettage_effect, en_bloc_effect = _effects(rng, [CURETTAGE_LOGIT_SD, EN_BLOC_LOGIT_SD])
    curettage = float(expit(logit(shares[1]) + curettage_effect))
    en_bloc = float(expit(logit(shares[2]) + en_bloc_effect))
    return (1.0 - curettage - en_bloc, curettage, en_bloc)


def draw_center(template: CenterProfile, rng: np.random.Generator) -> CenterProfile:
    """The center's parameters: its template's, each shifted by a center-level random effect.

    A calibrated template (a published series) is returned unchanged.

    Notes:
        Real consortia differ in case mix, surgical policy and outcomes beyond chance:
        meta-analyses of surgical series usually find substantial heterogeneity
        (I² above 50 %) in perioperative mortality, neurological outcome and local
        control. The SDs above give a 150-patient center a between-center variance
        on the logit scale of the order of its within-center variance (I² of about
        30–75 % for the pooled proportions), and the truncation at ±2 SD keeps
        every center plausible. The same SDs are used for every template, so the
        templates' values are the consortium's typical centers.
    """
    if template.calibrated:
        return template
    share_effects = _effects(rng, list(SHARE_SD.values()))
    shares = {
        name: float(expit(logit(getattr(template, name)) + effect))
        for name, effect in zip(SHARE_SD, share_effects, strict=True)
    }
    time_effects = _effects(rng, list(LOG_SD.values()))
    times = {
        name: float(getattr(template, name) * np.exp(effect))
        for name, effect in zip(LOG_SD, time_effects, strict=True)
    }
    multipliers = np.exp(_effects(rng, [TUMOR_WEIGHT_LOG_SD] * len(template.tumor_weights)))
    tumors = {
        tumor: weight * float(multiplier)
        for (tumor, weight), multiplier in zip(
            template.tumor_weights.items(), multipliers, strict=True
        )
    }
    (age_effect,) = _effects(rng, [AGE_MEAN_SD_YEARS])
    return replace(
        template,
        **shares,  # type: ignore[arg-type]
        **times,  # type: ignore[arg-type]
        tumor_weights=tumors,
        age_mean_years=template.age_mean_years + age_effect,
        procedure_shares=_procedure_shares(template.procedure_shares, rng),
    )
