"""The quarantine table: rejected source rows, one row per (source row, failed check)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import CHECK_CODES
from schemas.patients import CENTER_ID_PATTERN

IDENTIFYING_MASK = "***"
"""What `failure_value` holds for a column that could identify a patient."""


class QuarantineModel(pa.DataFrameModel):
    """Rejected rows. Grain: one row per (source row, failed check).

    Every source row that is not in `patients` has at least one row here.
    """

    center_id: Series[str] = pa.Field(
        str_matches=CENTER_ID_PATTERN, description="Center slug; the Hive partition key."
    )
    source_file: Series[str] = pa.Field(
        description="Export file name relative to the center's landing folder."
    )
    source_sha256: Series[str] = pa.Field(description="SHA-256 of the export file's bytes.")
    source_row: Series[pd.Int64Dtype] = pa.Field(
        ge=1, description="1-based data row (or record) number inside that file or sheet."
    )
    patient_id: Series[str] = pa.Field(
        nullable=True, description="Pseudonym of the row's patient; null when the id is missing."
    )
    column: Series[str] = pa.Field(
        nullable=True,
        description="Canonical column the check failed on; null for row-level rules.",
    )
    check_code: Series[str] = pa.Field(
        isin=sorted(CHECK_CODES), description="The failed check's code (docs/check-codes.md)."
    )
    message: Series[str] = pa.Field(description="One readable sentence about the failure.")
    failure_value: Series[str] = pa.Field(
        nullable=True,
        description=f"The offending value as text; '{IDENTIFYING_MASK}' for identifying columns.",
    )
    run_id: Series[str] = pa.Field(description="The pipeline run that wrote the row.")

    class Config:
        strict = True
        ordered = True
