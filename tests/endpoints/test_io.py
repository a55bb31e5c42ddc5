"""read_patients and write_endpoints: Hive partitions in, one atomic Parquet file out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.contract import endpoints_arrow_schema, patients_arrow_schema
from spinemet_etl.endpoints import compute_endpoints
from spinemet_etl.endpoints.io import (
    ENDPOINTS_SCHEMA,
    read_endpoints,
    read_patients,
    write_endpoints,
)

Build = Callable[[pd.DataFrame], pd.DataFrame]


def _write_partitions(patients: pd.DataFrame, root: Path) -> None:
    schema = patients_arrow_schema()
    without_center = pa.schema([field for field in schema if field.name != "center_id"])
    for center, rows in patients.groupby("center_id"):
        folder = root / "harmonized" / "patients" / f"center_id={center}"
        folder.mkdir(parents=True)
        table = pa.Table.from_pandas(
            rows.drop(columns="center_id"), schema=without_center, preserve_index=False
        )
        pq.write_table(table, folder / "part-0.parquet", compression="zstd")


def test_read_patients_recovers_center_and_model_dtypes(
    make_patients: Build, tmp_path: Path
) -> None:
    patients = make_patients(pd.DataFrame({
        "center_id": ["zz", "aa", "aa"], "procedure": ["en_bloc", "palliative", "curettage"],
        "days": [5, 50, 500], "dead": [1, 0, 1], "local_recurrence": [None, True, False],
        "lr_days": [None, 10.0, None], "frankel_pre": ["A", None, "E"], "tokuhashi": [3, None, 9],
    }))  # fmt: skip
    _write_partitions(patients, tmp_path)
    read = read_patients(tmp_path)
    expected = patients.sort_values("center_id", kind="stable").reset_index(drop=True)
    expected["center_id"] = pd.Categorical(expected["center_id"], categories=["aa", "zz"])
    pd.testing.assert_frame_equal(read, expected)


def test_read_patients_reads_only_the_columns_asked_for(
    make_patients: Build, tmp_path: Path
) -> None:
    patients = make_patients(pd.DataFrame({
        "center_id": ["bb", "aa", "bb"], "procedure": ["en_bloc", "palliative", "curettage"],
        "days": [5, 50, 500], "dead": [1, 0, 1], "local_recurrence": [None, True, False],
        "lr_days": [None, 10.0, None], "tokuhashi": [3, None, 9],
    }))  # fmt: skip
    _write_partitions(patients, tmp_path)
    columns = ["center_id", "local_recurrence", "tokuhashi_revised", "os_months", "procedure"]
    read = read_patients(tmp_path, columns=columns)
    assert list(read.columns) == columns
    assert read["center_id"].astype(str).tolist() == ["aa", "bb", "bb"]
    assert read["local_recurrence"].tolist() == [True, pd.NA, False]
    assert read["tokuhashi_revised"].dtype == "Int16"
    assert read["tokuhashi_revised"].isna().tolist() == [True, False, False]
    assert read["procedure"].tolist() == ["palliative", "en_bloc", "curettage"]


def test_read_patients_of_an_empty_data_root_is_an_empty_valid_frame(tmp_path: Path) -> None:
    read = read_patients(tmp_path)
    assert read.empty
    assert str(read["procedure"].dtype) == "category"


def test_endpoints_schema_is_the_contracts() -> None:
    assert ENDPOINTS_SCHEMA.equals(endpoints_arrow_schema().remove_metadata())


def _two_center_endpoints(make_patients: Build) -> pd.DataFrame:
    """The endpoint table of two small centers, one patient each."""
    patients = make_patients(pd.DataFrame({
        "center_id": ["aa", "bb"], "procedure": ["palliative", "curettage"], "days": [5, 50],
        "dead": [1, 0],
    }))  # fmt: skip
    return compute_endpoints(patients)


def test_read_endpoints_round_trips_and_refuses_a_foreign_table(
    make_patients: Build, tmp_path: Path
) -> None:
    endpoints = _two_center_endpoints(make_patients)
    write_endpoints(endpoints, tmp_path, "run-42")
    back = read_endpoints(tmp_path)
    assert back is not None
    pd.testing.assert_frame_equal(back, endpoints)
    foreign = pa.table({"center_id": ["aa"], "estimate": [1.0]})
    pq.write_table(foreign, tmp_path / "reports" / "endpoints.parquet")
    assert read_endpoints(tmp_path) is None


def test_write_endpoints_atomically_with_schema_and_metadata(
    make_patients: Build, tmp_path: Path
) -> None:
    endpoints = _two_center_endpoints(make_patients)
    path = write_endpoints(endpoints, tmp_path, "run-42")
    assert path == tmp_path / "reports" / "endpoints.parquet"
    assert [p.name for p in path.parent.iterdir()] == ["endpoints.parquet"]
    parquet = pq.ParquetFile(path)
    assert parquet.schema_arrow.remove_metadata() == endpoints_arrow_schema().remove_metadata()
    metadata = parquet.schema_arrow.metadata
    assert metadata[b"spinemet.run_id"] == b"run-42"
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    back = pq.read_table(path).to_pandas()
    assert len(back) == len(endpoints)
    assert back["n"].tolist() == endpoints["n"].tolist()
