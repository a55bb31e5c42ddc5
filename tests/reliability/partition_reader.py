"""A statistician in a loop: reads every partition with pyarrow, DuckDB and Polars, and checks it.

Run as `python -m tests.reliability.partition_reader DATA EXPECTED STOP OUT`: reads until
the file STOP exists, then writes a JSON summary to OUT. EXPECTED is a JSON file
{table: {center_id: [[rows, digest], ...]}} of the complete versions a partition may be
in; any other content (a partial, empty, mixed or missing partition) or any failed read
is recorded.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from polars.exceptions import PanicException

COLUMNS = {
    "patients": ("patient_id", "source_row", "age_at_surgery_years", "surgery_date"),
    "quarantine": ("source_file", "source_row", "check_code", "column"),
}
AREA = {"patients": "harmonized/patients", "quarantine": "quarantine/patients"}


def digest(rows: list[tuple[Any, ...]]) -> list[Any]:
    """[row count, a hash of the rows' content whatever their order]."""
    text = "\n".join(sorted(repr(tuple(row)) for row in rows))
    return [len(rows), hashlib.sha256(text.encode()).hexdigest()[:16]]


def by_center(rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows (center_id first) grouped by center, center_id dropped."""
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[str(row[0])].append(tuple(row[1:]))
    return grouped


def read_pyarrow(data: Path, table: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each partition file on its own; also checks a partition holds one run id only."""
    import pyarrow.parquet as pq

    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for path in sorted((data / AREA[table]).glob("center_id=*/*.parquet")):
        with path.open("rb") as handle:  # one open per file: one version, footer and pages
            read = pq.ParquetFile(handle).read(columns=[*COLUMNS[table], "run_id"])
        if len(set(read.column("run_id").to_pylist())) > 1:
            raise AssertionError(f"{path}: rows of several runs in one partition")
        columns = [read.column(c).to_pylist() for c in COLUMNS[table]]
        grouped[path.parent.name.removeprefix("center_id=")] = list(zip(*columns, strict=True))
    return grouped


def read_duckdb(data: Path, table: str) -> dict[str, list[tuple[Any, ...]]]:
    import duckdb

    pattern = str(data / AREA[table] / "*" / "*.parquet")
    columns = ", ".join(f'"{c}"' for c in COLUMNS[table])
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"SELECT center_id, {columns} FROM read_parquet(?, hive_partitioning = true)",
            [pattern],
        ).fetchall()
    return by_center(rows)


def read_polars(data: Path, table: str) -> dict[str, list[tuple[Any, ...]]]:
    import polars as pl

    pattern = str(data / AREA[table] / "*" / "*.parquet")
    frame = pl.read_parquet(pattern, hive_partitioning=True)
    return by_center(frame.select(["center_id", *COLUMNS[table]]).rows())


READERS = {"pyarrow": read_pyarrow, "duckdb": read_duckdb, "polars": read_polars}


def check(
    grouped: dict[str, list[tuple[Any, ...]]], expected: dict[str, list[list[Any]]]
) -> list[str]:
    """What is wrong with one read: a center missing, or content of no complete version."""
    problems = [f"center {c} missing" for c in expected if c not in grouped]
    for center_id, rows in grouped.items():
        if digest(rows) not in expected.get(center_id, []):
            problems.append(f"center {center_id}: {len(rows)} rows of no published version")
    return problems


def read_once(
    engine: str, data: Path, table: str, expected: dict[str, Any]
) -> tuple[list[str], bool]:
    """The problems of one read, and whether the read raised (then the problem is the error).

    Polars reports a file that changed under it as a Rust panic (`PanicException`, a
    BaseException: "assertion failed: range.end as u64 <= self.size"), caught the same way.
    """
    try:
        return check(READERS[engine](data, table), expected[table]), False
    except (Exception, PanicException) as exc:
        return [f"{type(exc).__name__}: {exc}"[:300]], True


def main(data: Path, expected_path: Path, stop: Path, out: Path) -> None:
    """Read until `stop` exists. A read that raised is retried once, as a client would.

    Notes:
        DuckDB and Polars open a Parquet file more than once per query (footer, then
        pages), so a query racing a publish can take the footer of one version and the
        pages of the next, and raise. Such a read is retried once and counted apart
        (`retried`); the retry must then be consistent. Content of no published version is
        never retried: it is a failure.
    """
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    reads: dict[str, int] = defaultdict(int)
    retried: list[str] = []
    failures: list[str] = []
    while not stop.exists():
        for engine in READERS:
            for table in COLUMNS:
                problems, raised = read_once(engine, data, table, expected)
                reads[engine] += 1
                if raised:
                    retried += [f"{engine} {table}: {p}" for p in problems]
                    problems, _ = read_once(engine, data, table, expected)
                failures += [f"{engine} {table}: {p}" for p in problems]
        time.sleep(0.02)
    summary = {"reads": reads, "failures": failures[:50], "retried": retried[:50]}
    out.write_text(json.dumps(summary), encoding="utf-8")


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:5]))
