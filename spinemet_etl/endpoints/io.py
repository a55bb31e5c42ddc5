"""Read the harmonized patients for the endpoints, and write reports/endpoints.parquet."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.contract import endpoints_arrow_schema, file_metadata
from schemas.endpoints import EndpointsModel
from schemas.patients import PatientsModel

PARTITION_GLOB = "center_id=*/part-0.parquet"


def _pandas_dtypes() -> dict[str, object]:
    """The pandas dtype of every PatientsModel column (categories with the model's values)."""
    dtypes: dict[str, object] = {}
    for name, column in PatientsModel.to_schema().columns.items():
        if (column.metadata or {}).get("arrow_type") == "date32":
            dtypes[name] = "datetime64[ns]"
        elif str(column.dtype) == "str":
            dtypes[name] = object
        else:
            dtypes[name] = column.dtype.type
    return dtypes


def _read_partition(path: Path) -> pa.Table:
    """One partition as Arrow, with `center_id` (from the Hive path) as its first column."""
    center_id = path.parent.name.split("=", 1)[1]
    table = pq.read_table(path)
    codes = pa.array(np.zeros(table.num_rows, dtype=np.int32))
    return table.add_column(0, "center_id", pa.DictionaryArray.from_arrays(codes, [center_id]))


def read_patients(data_root: Path, *, validate: bool = True) -> pd.DataFrame:
    """All centers' harmonized patients, `center_id` from the Hive path, validated.

    `validate=False` is for partitions already validated by a report of the same files
    (a no-op run re-rendering its page); any other reader validates.

    Dates come back as day-precision datetime64[ns], categories with the model's
    categories, nullable integers and booleans as Int16/Int64/boolean. Centers are read
    in sorted order, rows in file order. The partitions are joined in Arrow and
    converted to pandas once (a pandas concat of per-center categories costs seconds
    per million rows).
    """
    paths = sorted((Path(data_root) / "harmonized" / "patients").glob(PARTITION_GLOB))
    columns = list(PatientsModel.to_schema().columns)
    if paths:
        tables = [_read_partition(path) for path in paths]
        joined = pa.concat_tables(tables, promote_options="permissive")
        frame = joined.to_pandas(date_as_object=False)
    else:
        frame = pd.DataFrame(columns=columns)
    frame = frame.reindex(columns=columns)
    for name, dtype in _pandas_dtypes().items():
        frame[name] = _convert(frame[name], dtype)
    return PatientsModel.validate(frame, lazy=True) if validate else frame


def _convert(values: pd.Series, dtype: object) -> pd.Series:
    """One column to the model's pandas dtype (categories recoded so codes follow the model).

    A categorical column is recoded directly (values outside the model's categories become
    missing, as through object); anything else goes through object first.
    """
    if isinstance(dtype, pd.CategoricalDtype) and isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype(dtype)
    if isinstance(dtype, pd.CategoricalDtype) or dtype is object:
        return values.astype(object).astype(dtype)  # type: ignore[arg-type]
    return values.astype(dtype)  # type: ignore[call-overload]


def write_endpoints(endpoints: pd.DataFrame, data_root: Path, run_id: str) -> Path:
    """Write `<data>/reports/endpoints.parquet` atomically (temp file beside it, then replace)."""
    target = Path(data_root) / "reports" / "endpoints.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    schema = endpoints_arrow_schema().with_metadata(file_metadata(run_id))
    table = pa.Table.from_pandas(endpoints, schema=schema, preserve_index=False)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, temporary, compression="zstd")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def read_endpoints(data_root: Path) -> pd.DataFrame | None:
    """`<data>/reports/endpoints.parquet` as an EndpointsModel frame, or None when absent."""
    path = Path(data_root) / "reports" / "endpoints.parquet"
    if not path.is_file():
        return None
    table = pq.read_table(path)
    frame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    return EndpointsModel.validate(frame)
