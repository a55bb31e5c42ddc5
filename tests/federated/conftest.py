"""Helpers of the federated tests: pool through real summary folders, compare endpoint tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from spinemet_etl.endpoints import endpoints_of
from spinemet_etl.endpoints.statistics import from_rows
from spinemet_etl.federated.folder import write_summary_folder
from spinemet_etl.federated.pool import load_centers
from spinemet_etl.federated.summary import merge, split

C_INDICES = ("tokuhashi_cindex", "tomita_cindex")
STRATIFIED_C = ("tokuhashi_cindex_stratified", "tomita_cindex_stratified")
VALUES = ("estimate", "se", "ci_lower", "ci_upper", "p_value")
COUNTS = ("n", "numerator", "denominator")


def write_summaries(patients: pd.DataFrame, outbox: Path, time_unit: str = "day") -> None:
    """Every center of `patients` summarized into OUTBOX/<center>/<run>/, as a hospital would."""
    stats = from_rows(patients, time_unit=time_unit, plain_c=False)
    entries = {center: {"run_id": "20260101T000000Z-0000"} for center in stats.scopes[:-1]}
    for summary in split(stats, entries):
        write_summary_folder(summary, outbox)


def pooled_from_folders(patients: pd.DataFrame, outbox: Path) -> pd.DataFrame:
    """The endpoint table `spinemet pool` computes from the summaries of `patients`' centers."""
    write_summaries(patients, outbox)
    centers = load_centers(outbox)
    assert [c.status for c in centers] == ["used"] * len(centers), [c.problem for c in centers]
    return endpoints_of(merge([c.summary for c in centers if c.summary]))


def pooled_c_rows(table: pd.DataFrame) -> pd.Series:
    """True for the pooled scope's plain C-index rows (the one stated exception)."""
    return (table["center_id"] == "ALL") & table["endpoint"].isin(C_INDICES)


def stratified_c_rows(table: pd.DataFrame) -> pd.Series:
    """True for the pooled scope's center-stratified C-index rows."""
    return (table["center_id"] == "ALL") & table["endpoint"].isin(STRATIFIED_C)


def assert_same_endpoints(central: pd.DataFrame, pooled: pd.DataFrame) -> None:
    """Same rows and counts exactly, estimates to 1e-9 relative, except the pooled C-indices."""
    keys = ["center_id", "stratum", "endpoint"]
    assert central[keys].equals(pooled[keys])
    for column in COUNTS:
        assert (
            central[column]
            .astype("Float64")
            .fillna(-1)
            .equals(pooled[column].astype("Float64").fillna(-1))
        ), column
    keep = ~pooled_c_rows(central).to_numpy()
    for column in VALUES:
        ours = central[column].to_numpy(dtype=float)[keep]
        theirs = pooled[column].to_numpy(dtype=float)[keep]
        same = (np.isnan(ours) & np.isnan(theirs)) | np.isclose(ours, theirs, rtol=1e-9, atol=0)
        assert same.all(), central[keep][~same][keys].to_string()
