"""Publishing a center: atomic replacement, kill safety, cleanup, determinism."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from spinemet_etl.dataset import partition_dir, partition_file, read_partition
from spinemet_etl.publish import cleanup_staging, publish_center, staging_root
from tests.dataset.samples import sample_result

REPO = Path(__file__).resolve().parents[2]


def _dataset_files(data_root: Path) -> list[str]:
    return sorted(
        path.relative_to(data_root).as_posix()
        for area in ("harmonized", "quarantine")
        for path in (data_root / area).rglob("*")
        if path.is_file()
    )


def test_publish_writes_both_partitions_and_leaves_no_staging(tmp_path: Path) -> None:
    publish_center(sample_result("boston", n=3, quarantined=2), tmp_path, "run-1")
    assert _dataset_files(tmp_path) == [
        "harmonized/patients/center_id=boston/part-0.parquet",
        "quarantine/patients/center_id=boston/part-0.parquet",
    ]
    patients = read_partition(tmp_path, "patients", "boston")
    quarantine = read_partition(tmp_path, "quarantine", "boston")
    assert patients is not None and len(patients) == 3
    assert quarantine is not None and len(quarantine) == 2
    assert list(staging_root(tmp_path).rglob("*.parquet")) == []


def test_republish_replaces_the_partition(tmp_path: Path) -> None:
    publish_center(sample_result("boston", n=3), tmp_path, "run-1")
    publish_center(sample_result("boston", n=5, quarantined=0), tmp_path, "run-2")
    path = partition_file(tmp_path, "patients", "boston")
    assert pq.read_metadata(path).num_rows == 5
    assert pq.read_metadata(path).metadata[b"spinemet.run_id"] == b"run-2"
    assert pq.read_metadata(partition_file(tmp_path, "quarantine", "boston")).num_rows == 0


def test_publishing_one_center_leaves_the_others_alone(tmp_path: Path) -> None:
    publish_center(sample_result("lyon", n=2), tmp_path, "run-1")
    before = partition_file(tmp_path, "patients", "lyon").read_bytes()
    publish_center(sample_result("boston", n=4), tmp_path, "run-2")
    assert partition_file(tmp_path, "patients", "lyon").read_bytes() == before


def test_same_result_gives_the_same_tables_except_the_run_id(tmp_path: Path) -> None:
    result = sample_result("boston", n=4, quarantined=2)
    first, second = tmp_path / "first", tmp_path / "second"
    publish_center(result, first, "run-1")
    publish_center(result, second, "run-2")
    for table in ("patients", "quarantine"):
        table_1 = pq.read_table(partition_file(first, table, "boston"))
        table_2 = pq.read_table(partition_file(second, table, "boston"))
        assert table_1.replace_schema_metadata(None).equals(table_2.replace_schema_metadata(None))
        assert table_1.schema.metadata[b"spinemet.run_id"] == b"run-1"


def test_cleanup_staging_removes_leftovers_only(tmp_path: Path) -> None:
    publish_center(sample_result("boston"), tmp_path, "run-1")
    leftover = staging_root(tmp_path) / "run-0" / "boston" / "patients" / "center_id=boston"
    leftover.mkdir(parents=True)
    (leftover / "part-0.parquet").write_bytes(b"half a file")
    cleanup_staging(tmp_path)
    assert not staging_root(tmp_path).exists()
    assert len(_dataset_files(tmp_path)) == 2


def _read_once(path: Path) -> tuple[int, bytes]:
    """Read the file through one handle, check it is one run's, return (rows, run id)."""
    assert os.listdir(path.parent) == ["part-0.parquet"]
    table = pq.ParquetFile(path).read()
    run_id = table.schema.metadata[b"spinemet.run_id"]
    assert set(table.column("run_id").to_pylist()) == {run_id.decode()}
    return table.num_rows, run_id


def _count_with_duckdb(data_root: Path) -> int:
    glob = f"{data_root}/harmonized/patients/*/*.parquet"
    query = f"select count(*) from read_parquet('{glob}', hive_partitioning = true)"
    return int(duckdb.sql(query).fetchall()[0][0])


def _reader(path: Path, stop: threading.Event, seen: set, errors: list) -> None:
    data_root = path.parents[3]
    while not stop.is_set():
        try:
            seen.add(_read_once(path))
            seen.add((_count_with_duckdb(data_root), b"duckdb"))
        except Exception as exc:
            errors.append(exc)
            return


def test_reader_never_sees_a_partial_or_mixed_partition(tmp_path: Path) -> None:
    versions = {
        "run-a": sample_result("boston", n=2, run_id="run-a"),
        "run-b": sample_result("boston", n=7, run_id="run-b"),
    }
    publish_center(versions["run-a"], tmp_path, "run-a")
    stop, seen, errors = threading.Event(), set(), []
    path = partition_file(tmp_path, "patients", "boston")
    reader = threading.Thread(target=_reader, args=(path, stop, seen, errors))
    reader.start()
    try:
        for i in range(12):
            run_id = "run-b" if i % 2 == 0 else "run-a"
            publish_center(versions[run_id], tmp_path, run_id)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert seen & {(2, b"run-a"), (7, b"run-b")}
    assert seen <= {(2, b"run-a"), (7, b"run-b"), (2, b"duckdb"), (7, b"duckdb")}


KILLED_PUBLISH = """
import sys
from pathlib import Path
from spinemet_etl import publish
from tests.dataset.samples import sample_result

swaps_before_kill = int(sys.argv[2])
real_swap = publish.swap_partition

def swap_then_wait(staged, target):
    global swaps_before_kill
    if swaps_before_kill == 0:
        print("staged", flush=True)
        sys.stdin.read()
    swaps_before_kill -= 1
    real_swap(staged, target)

publish.swap_partition = swap_then_wait
publish.publish_center(sample_result("boston", n=9, run_id="run-new"), Path(sys.argv[1]), "run-new")
"""


@pytest.mark.parametrize(
    ("swaps_before_kill", "quarantine_run"),
    [(0, "run-old"), (1, "run-new")],
    ids=["killed-before-any-swap", "killed-between-quarantine-and-patients"],
)
def test_killed_publish_keeps_the_previous_patients(
    tmp_path: Path, swaps_before_kill: int, quarantine_run: str
) -> None:
    publish_center(sample_result("boston", n=3, run_id="run-old"), tmp_path, "run-old")
    before = partition_file(tmp_path, "patients", "boston").read_bytes()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISH, str(tmp_path), str(swaps_before_kill)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "staged\n"
    child.kill()
    child.wait()
    assert partition_file(tmp_path, "patients", "boston").read_bytes() == before
    quarantine = pq.read_metadata(partition_file(tmp_path, "quarantine", "boston"))
    assert quarantine.metadata[b"spinemet.run_id"] == quarantine_run.encode()
    assert list(staging_root(tmp_path).rglob("*.parquet")) != []
    cleanup_staging(tmp_path)
    assert not staging_root(tmp_path).exists()
    assert sorted(p.name for p in partition_dir(tmp_path, "patients", "boston").iterdir()) == [
        "part-0.parquet"
    ]


def test_a_full_disk_while_staging_removes_the_staged_files_and_keeps_the_partition(
    tmp_path: Path,
) -> None:
    from spinemet_etl.errors import DiskFullError
    from tests.reliability.diskfull import FillingDisk, filling_disk

    publish_center(sample_result("boston", n=3, run_id="r1"), tmp_path, "r1")
    before = partition_file(tmp_path, "patients", "boston").read_bytes()
    disk = FillingDisk(lambda path: "/_staging/r2/boston/patients/" in path, room=700)
    with filling_disk(pytest.MonkeyPatch(), disk), pytest.raises(DiskFullError) as raised:
        publish_center(sample_result("boston", n=5, run_id="r2"), tmp_path, "r2")
    assert disk.failures >= 1
    assert raised.value.message.startswith("center `boston`: no space left on the device")
    assert partition_file(tmp_path, "patients", "boston").read_bytes() == before
    assert [p for p in staging_root(tmp_path).rglob("*") if p.is_file()] == []
