"""Harmonization: a center's exports and mapping file in, canonical patients and quarantine out."""

from spinemet_etl.harmonize.process import process_center

__all__ = ["process_center"]
