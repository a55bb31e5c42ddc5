"""Read the harmonized patients for the endpoints, and write reports/endpoints.parquet."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.contract import endpoints_arrow_schema, file_metadata
from schemas.patients import PatientsModel
from spinemet_etl.endpoints.partitions import check_partition_schema, check_partition_values
from spinemet_etl.errors import disk_full_as_error
from spinemet_etl.results import CUTOFF_KEY

PARTITION_GLOB = "center_id=*/part-0.parquet"
REPORT_COLUMNS = (
    "center_id", "sex", "age_at_surgery_years", "anesthetic_risk", "frankel_preop",
    "vas_pain_preop", "surgery_date", "procedure", "intraop_death", "frankel_postop",
    "vas_pain_postop", "local_recurrence", "vital_status", "death_date", "last_contact_date",
    "os_months", "os_event", "lc_months", "lc_event", "tokuhashi_revised", "tomita",
)  # fmt: skip
"""The columns `compute_endpoints` and the report page use."""
ENDPOINTS_SCHEMA = pa.schema(
    [
        pa.field("center_id", pa.string(), nullable=False),
        pa.field("stratum", pa.string(), nullable=False),
        pa.field("endpoint", pa.string(), nullable=False),
        pa.field("n", pa.int64(), nullable=False),
        pa.field("estimate", pa.float64()),
        pa.field("numerator", pa.int64()),
        pa.field("denominator", pa.int64()),
        *(pa.field(name, pa.float64()) for name in ("se", "ci_lower", "ci_upper", "p_value")),
        pa.field("method", pa.string(), nullable=False),
    ]
)
"""`schemas.contract.endpoints_arrow_schema()` without its metadata (see `read_endpoints`)."""


@functools.cache
def _pandas_dtypes() -> dict[str, Any]:
    """The pandas dtype of every PatientsModel column (categories with the model's values)."""
    dtypes: dict[str, Any] = {}
    for name, column in PatientsModel.to_schema().columns.items():
        if (column.metadata or {}).get("arrow_type") == "date32":
            dtypes[name] = np.dtype("datetime64[ns]")
        elif str(column.dtype) == "str":
            dtypes[name] = np.dtype(object)
        else:
            dtypes[name] = column.dtype.type
    return dtypes


class _Column:
    """One output column, filled partition by partition into a preallocated array."""

    def __init__(self, dtype: Any, size: int) -> None:
        self.dtype = dtype
        self.mask: np.ndarray | None = None
        self.values: np.ndarray[Any, Any]
        if isinstance(dtype, pd.CategoricalDtype):
            self.values = np.full(size, -1, dtype=np.int8)
            self.lookup = {str(value): code for code, value in enumerate(dtype.categories)}
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype):
            self.values = np.zeros(size, dtype=dtype.numpy_dtype)  # type: ignore[attr-defined]
            self.mask = np.ones(size, dtype=bool)
        else:
            self.values = np.empty(size, dtype=dtype)

    def fill(self, start: int, column: pa.ChunkedArray) -> None:
        """Write `column` (one partition's values) at rows start, start + 1, ..."""
        for chunk in column.chunks:
            stop = start + len(chunk)
            if isinstance(self.dtype, pd.CategoricalDtype):
                codes = [self.lookup.get(str(v), -1) for v in chunk.dictionary.to_pylist()]
                table = np.array([*codes, -1], dtype=np.int8)
                indices = chunk.indices.fill_null(len(codes)).to_numpy()
                self.values[start:stop] = table[indices]
            elif self.mask is not None:
                self.mask[start:stop] = chunk.is_null().to_numpy(zero_copy_only=False)
                filler = False if pa.types.is_boolean(chunk.type) else 0
                self.values[start:stop] = chunk.fill_null(filler).to_numpy(zero_copy_only=False)
            else:
                self.values[start:stop] = chunk.to_numpy(zero_copy_only=False)
            start = stop

    def series(self) -> pd.Series:
        if isinstance(self.dtype, pd.CategoricalDtype):
            return pd.Series(pd.Categorical.from_codes(self.values, dtype=self.dtype), copy=False)
        if self.mask is not None:
            if self.dtype == "boolean":
                return pd.Series(pd.arrays.BooleanArray(self.values, self.mask), copy=False)
            return pd.Series(pd.arrays.IntegerArray(self.values, self.mask), copy=False)
        return pd.Series(self.values, copy=False)


def _center_column(centers: list[str], sizes: list[int]) -> pd.Series:
    """`center_id` as a category of the sorted center ids, one code per partition's rows."""
    codes = np.repeat(np.arange(len(centers), dtype=np.int32), sizes)
    categories = pd.CategoricalDtype(pd.Index(centers, dtype=object))
    return pd.Series(pd.Categorical.from_codes(codes, dtype=categories), copy=False)


def read_patients(
    data_root: Path,
    *,
    validate: bool = True,
    columns: Sequence[str] | None = None,
    centers: Sequence[str] | None = None,
    partitions: Sequence[Path] | None = None,
) -> pd.DataFrame:
    """All centers' harmonized patients (`columns` of them, default all), `center_id` from the path.

    With `validate` (the default), each partition is checked before it is used: its Arrow
    schema against the contract (names, order, types) and the columns read by vectorized
    checks (`partitions.check_partition_values`); a partition that fails raises
    `PartitionError` naming it. `validate=False` is for partitions already checked by a
    report of the same files.

    `center_id` comes back as a category of the sorted center ids (one value per
    partition; a string column would cost an object per row). The other columns have
    the model's dtypes: dates day-precision datetime64[ns], categories with the model's
    categories, nullable integers and booleans Int16/Int64/boolean. Centers come in
    sorted order, rows in file order. Partitions are read one at a time, only the
    columns asked for, straight into preallocated arrays (no concatenation, no
    whole-frame copy). `centers`, when given, reads only those centers' partitions;
    `partitions`, partition files to read instead of the published ones (each in a
    `center_id=<id>` folder: a run's staged partitions).
    """
    names = list(PatientsModel.to_schema().columns) if columns is None else list(columns)
    paths = _partition_paths(data_root, partitions)
    if centers is not None:
        paths = [path for path in paths if path.parent.name.split("=", 1)[1] in set(centers)]
    footers = [pq.read_metadata(path) for path in paths]
    if validate:
        for path, footer in zip(paths, footers, strict=True):
            check_partition_schema(path, footer.schema.to_arrow_schema())
    sizes = [footer.num_rows for footer in footers]
    dtypes = _pandas_dtypes()
    read = [name for name in names if name != "center_id"]
    sinks = {name: _Column(dtypes[name], sum(sizes)) for name in read}
    start = 0
    for path, size in zip(paths, sizes, strict=True):
        with pq.ParquetFile(path) as file:
            table = file.read(columns=read)
        if validate:
            check_partition_values(path, table)
        for name in read:
            sinks[name].fill(start, table.column(name))
        start += size
        del table
    frame = pd.DataFrame(index=pd.RangeIndex(start))
    for name in names:
        if name == "center_id":
            centers = [path.parent.name.split("=", 1)[1] for path in paths]
            frame[name] = _center_column(centers, sizes)
        else:
            frame[name] = sinks.pop(name).series()
    return frame


def _partition_paths(data_root: Path, partitions: Sequence[Path] | None) -> list[Path]:
    """`partitions` sorted, else every published patients partition, in center order."""
    if partitions is not None:
        return sorted(Path(path) for path in partitions)
    return sorted((Path(data_root) / "harmonized" / "patients").glob(PARTITION_GLOB))


def read_data_cutoffs(
    data_root: Path,
    centers: Sequence[str] | None = None,
    partitions: Sequence[Path] | None = None,
) -> dict[str, date]:
    """Each published center's data cut-off, from its partition's `spinemet.data_cutoff`.

    A partition without it (written before cut-offs were recorded) is left out: the
    endpoints then use the center's latest last contact, which is what it would hold.
    `partitions`: as for `read_patients`.
    """
    cutoffs = {}
    for path in _partition_paths(data_root, partitions):
        center_id = path.parent.name.split("=", 1)[1]
        if centers is not None and center_id not in centers:
            continue
        value = (pq.read_metadata(path).metadata or {}).get(CUTOFF_KEY.encode())
        if value:
            cutoffs[center_id] = date.fromisoformat(value.decode("utf-8"))
    return cutoffs


def write_endpoints(
    endpoints: pd.DataFrame, data_root: Path, run_id: str, *, consequence: str | None = None
) -> Path:
    """Write `<data>/reports/endpoints.parquet` atomically (temp file beside it, then replace).

    The temporary file is removed on any failure; a full disk raises `DiskFullError`
    naming the table (with `consequence`, what that leaves).
    """
    target = Path(data_root) / "reports" / "endpoints.parquet"
    schema = endpoints_arrow_schema().with_metadata(file_metadata(run_id))
    table = pa.Table.from_pandas(endpoints, schema=schema, preserve_index=False)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with disk_full_as_error(target, consequence=consequence):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as sink:
                pq.write_table(table, sink, compression="zstd")
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    return target


def read_endpoints(data_root: Path) -> pd.DataFrame | None:
    """`<data>/reports/endpoints.parquet` as an EndpointsModel frame; None when absent or foreign.

    Notes:
        The table was validated when it was computed, before it was written; reading it
        back checks its Arrow schema (names, order, types, nullability) and that
        non-nullable columns hold no nulls, instead of a second pandera pass (seconds of
        pandera's imports and checks on a no-op run). A table that is not the
        contract's is reported as absent, so the caller recomputes it. The schema is
        `ENDPOINTS_SCHEMA`, spelled out because deriving it from the pandera model costs
        ~0.9 s of imports; a test keeps it equal to `endpoints_arrow_schema()`.
    """
    path = Path(data_root) / "reports" / "endpoints.parquet"
    if not path.is_file():
        return None
    table = pq.read_table(path)
    if not table.schema.remove_metadata().equals(ENDPOINTS_SCHEMA):
        return None
    if any(table.column(f.name).null_count for f in ENDPOINTS_SCHEMA if not f.nullable):
        return None
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
