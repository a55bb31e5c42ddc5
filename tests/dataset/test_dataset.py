"""Writing and reading the Parquet dataset, checked with pyarrow, DuckDB and Polars."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spinemet_etl import dataset
from spinemet_etl.dataset import (
    partition_dir,
    partition_file,
    read_partition,
    table_schema,
    write_parquet,
)
from tests.dataset.samples import sample_patients, sample_quarantine

FRAMES = {"patients": sample_patients, "quarantine": sample_quarantine}


def _write(data_root: Path, table: str, center_id: str, n: int, run_id: str = "r1") -> Path:
    frame = FRAMES[table](center_id, n, run_id)
    path = partition_file(data_root, table, center_id)
    write_parquet(frame, table_schema(table), path, run_id)
    return path


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("patients", "harmonized/patients/center_id=lyon"),
        ("quarantine", "quarantine/patients/center_id=lyon"),
    ],
    ids=["patients", "quarantine"],
)
def test_partition_dir_follows_the_layout(tmp_path: Path, table: str, expected: str) -> None:
    assert partition_dir(tmp_path, table, "lyon") == tmp_path / expected
    assert partition_file(tmp_path, table, "lyon").name == "part-0.parquet"


def test_unknown_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="endpoints"):
        partition_dir(tmp_path, "endpoints", "lyon")


@pytest.mark.parametrize(
    ("table", "n"),
    [("patients", 3), ("quarantine", 3), ("quarantine", 0)],
    ids=["patients", "quarantine", "empty-quarantine"],
)
def test_round_trip_gives_the_canonical_frame(tmp_path: Path, table: str, n: int) -> None:
    _write(tmp_path, table, "boston", n)
    back = read_partition(tmp_path, table, "boston")
    pd.testing.assert_frame_equal(back, FRAMES[table]("boston", n, "r1"))


def test_read_partition_restores_model_categories_and_order(tmp_path: Path) -> None:
    _write(tmp_path, "patients", "boston", 1)
    back = read_partition(tmp_path, "patients", "boston")
    assert back is not None
    assert list(back["frankel_preop"].cat.categories) == ["A", "B", "C", "D", "E"]
    assert back["frankel_preop"].cat.ordered
    assert list(back["sex"].cat.categories) == ["male", "female"]
    assert str(back["kps_preop"].dtype) == "Int16"
    assert str(back["surgery_date"].dtype) == "datetime64[ns]"
    assert back.columns[0] == "center_id"


def test_missing_partition_reads_as_none(tmp_path: Path) -> None:
    assert read_partition(tmp_path, "patients", "nowhere") is None


def test_partitioned_file_has_no_center_id_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "patients", "boston", 2)
    assert "center_id" not in pq.read_schema(path).names


def test_file_outside_a_partition_keeps_center_id(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "patients.parquet"
    write_parquet(sample_patients("boston"), table_schema("patients"), path, "r1")
    assert pq.read_schema(path).names[0] == "center_id"


def test_column_outside_the_schema_is_refused(tmp_path: Path) -> None:
    frame = sample_patients().assign(surname="x")
    with pytest.raises(ValueError, match="surname"):
        write_parquet(frame, table_schema("patients"), tmp_path / "p.parquet", "r1")


def test_file_carries_the_contract_types_and_metadata(tmp_path: Path) -> None:
    path = _write(tmp_path, "patients", "boston", 2, run_id="20261126T020000Z-3f2a")
    schema = pq.read_schema(path)
    metadata = pq.read_metadata(path)
    assert schema.field("surgery_date").type == pa.date32()
    assert schema.field("sex").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("kps_preop").type == pa.int16()
    assert schema.field("sex").metadata == {b"description": b"Sex."}
    assert metadata.metadata[b"spinemet.run_id"] == b"20261126T020000Z-3f2a"
    assert metadata.metadata[b"spinemet.schema_version"] == b"1"
    assert b"spinemet.package_version" in metadata.metadata
    column_chunk = metadata.row_group(0).column(0)
    assert column_chunk.compression == "ZSTD"


def test_large_frames_get_several_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset, "ROW_GROUP_BYTES", 4096)
    path = _write(tmp_path, "patients", "boston", 200)
    assert pq.read_metadata(path).num_row_groups > 1
    assert pq.read_metadata(path).num_rows == 200


def test_small_frames_get_one_row_group(tmp_path: Path) -> None:
    assert pq.read_metadata(_write(tmp_path, "patients", "boston", 200)).num_row_groups == 1


def test_same_frame_gives_the_same_table_whatever_the_run(tmp_path: Path) -> None:
    frame = sample_patients("boston", 4)
    first, second = tmp_path / "a" / "p.parquet", tmp_path / "b" / "p.parquet"
    write_parquet(frame, table_schema("patients"), first, "run-a")
    write_parquet(frame, table_schema("patients"), second, "run-b")
    table_a, table_b = pq.read_table(first), pq.read_table(second)
    assert table_a.replace_schema_metadata(None).equals(table_b.replace_schema_metadata(None))
    assert table_a.schema.metadata[b"spinemet.run_id"] == b"run-a"
    assert table_b.schema.metadata[b"spinemet.run_id"] == b"run-b"


def test_same_frame_and_run_gives_identical_bytes(tmp_path: Path) -> None:
    frame = sample_patients("boston", 4)
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_parquet(frame, table_schema("patients"), first, "run-a")
    write_parquet(frame, table_schema("patients"), second, "run-a")
    assert first.read_bytes() == second.read_bytes()


@pytest.fixture
def two_centers(tmp_path: Path) -> Path:
    _write(tmp_path, "patients", "boston", 2)
    _write(tmp_path, "patients", "lyon", 3)
    return tmp_path


def test_duckdb_reads_the_dataset_with_center_from_the_path(two_centers: Path) -> None:
    source = (
        f"read_parquet('{two_centers}/harmonized/patients/*/*.parquet', hive_partitioning = true)"
    )
    counts = duckdb.sql(
        f"select center_id, count(*) from {source} group by 1 order by 1"
    ).fetchall()
    assert counts == [("boston", 2), ("lyon", 3)]
    types = {row[0]: row[1] for row in duckdb.sql(f"describe select * from {source}").fetchall()}
    assert types["surgery_date"] == "DATE"
    assert types["kps_preop"] == "SMALLINT"


def test_polars_reads_the_dataset_with_center_from_the_path(two_centers: Path) -> None:
    frame = pl.scan_parquet(
        f"{two_centers}/harmonized/patients/*/*.parquet", hive_partitioning=True
    ).collect()
    assert sorted(frame.group_by("center_id").len().rows()) == [("boston", 2), ("lyon", 3)]
    assert frame.schema["surgery_date"] == pl.Date
    assert frame.schema["kps_preop"] == pl.Int16
    assert frame.schema["sex"] == pl.Categorical
