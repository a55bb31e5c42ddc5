"""spinemet-etl: center exports to canonical Parquet, data quality, and study endpoints."""

from importlib.metadata import version

__version__ = version("spinemet-etl")
