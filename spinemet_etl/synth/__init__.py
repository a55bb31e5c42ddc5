"""Synthetic consortium exports (`spinemet synth`): seeded, deterministic, no real patient data."""

from spinemet_etl.synth.consortium import latent_cohort, plan_consortium, write_consortium

__all__ = ["latent_cohort", "plan_consortium", "write_consortium"]
