"""The floor: pyarrow reads every CSV export and writes it to Parquet, nothing else.

Run as `python -m spinemet_etl.bench.baseline LANDING OUT`; prints the number of rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SNIFF_BYTES = 1 << 20


def _dialect(path: Path) -> tuple[str, str]:
    """(delimiter, encoding) of a CSV export, from its first megabyte."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    first_line = head.split(b"\n", 1)[0]
    delimiter = ";" if first_line.count(b";") > first_line.count(b",") else ","
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return delimiter, "cp1252"
    return delimiter, "utf-8"


def read_csv(path: Path) -> pa.Table:
    """The CSV as an Arrow table, types inferred by pyarrow."""
    delimiter, encoding = _dialect(path)
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
    )


def convert_csv_exports(landing: Path, out: Path) -> int:
    """Every `*.csv` under `landing` to `out/<center>/<name>.parquet`; the rows converted."""
    rows = 0
    for path in sorted(landing.glob("*/*.csv")):
        table = read_csv(path)
        target = out / path.parent.name / f"{path.stem}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target)
        rows += table.num_rows
    return rows


def main() -> None:
    print(convert_csv_exports(Path(sys.argv[1]), Path(sys.argv[2])))


if __name__ == "__main__":
    main()
