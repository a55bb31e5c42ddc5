"""The endpoint table: one row per (scope, stratum, endpoint)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

POOLED_SCOPE = "ALL"


class EndpointsModel(pa.DataFrameModel):
    """Study endpoints, tidy. Grain: one row per (center_id or ALL, stratum, endpoint)."""

    center_id: Series[str] = pa.Field(description="A center, or ALL for all centers pooled.")
    stratum: Series[str] = pa.Field(
        str_matches=r"^(all|procedure=(palliative|curettage|en_bloc))$",
        description="all, or procedure=<value>.",
    )
    endpoint: Series[str] = pa.Field(description="Endpoint code (docs/contract/endpoints.md).")
    n: Series[pd.Int64Dtype] = pa.Field(ge=0, description="Patients in the scope x stratum.")
    estimate: Series[float] = pa.Field(
        nullable=True,
        description="The value: a count, a percentage 0-100, months, a ratio or a statistic.",
    )
    numerator: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="For counts and proportions."
    )
    denominator: Series[pd.Int64Dtype] = pa.Field(nullable=True, description="For proportions.")
    se: Series[float] = pa.Field(
        nullable=True, description="Standard error, where the method defines one."
    )
    ci_lower: Series[float] = pa.Field(nullable=True, description="Lower 95 % limit.")
    ci_upper: Series[float] = pa.Field(nullable=True, description="Upper 95 % limit.")
    p_value: Series[float] = pa.Field(nullable=True, description="For tests.")
    method: Series[str] = pa.Field(description="Short name of the estimator and its options.")

    class Config:
        strict = True
        ordered = True
        unique = ["center_id", "stratum", "endpoint"]  # noqa: RUF012 (pandera reads a list)
