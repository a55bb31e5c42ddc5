"""Prefect flows that wire spinemet_etl's plain functions: nightly, backfill, report."""
