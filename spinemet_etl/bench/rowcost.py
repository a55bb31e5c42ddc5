"""The CPU a row of harmonizing costs, Excel centers against CSV centers, in one process.

Run as `python -m spinemet_etl.bench.rowcost LANDING CENTERS`; prints one JSON line:
`{"excel": seconds a row, "csv": seconds a row}`. Each template center (bologna, lyon;
barcelona, muenchen, boston) is harmonized twice with its mapping file in CENTERS; the
second run's process CPU counts (the first pays the imports and warms the caches).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from spinemet_etl.bench.baseline import read_csv
from spinemet_etl.bench.consortium import KIND_SETS, workbook_rows
from spinemet_etl.bench.run import BENCH_KEY


def export_rows(center_dir: Path, kind: str) -> int:
    """The center's data rows: its workbooks' records, or its CSV rows as pyarrow reads them."""
    if kind == "excel":
        return sum(workbook_rows(path) for path in sorted(center_dir.glob("*.xls*")))
    return sum(read_csv(path).num_rows for path in sorted(center_dir.glob("*.csv")))


def center_cpu(mapping: Path, landing: Path) -> float:
    """Process CPU seconds of harmonizing one center (its second run)."""
    from spinemet_etl.harmonize import process_center

    process_center(mapping, landing, run_id="bench", key=BENCH_KEY)
    start = time.process_time()
    process_center(mapping, landing, run_id="bench", key=BENCH_KEY)
    return time.process_time() - start


def seconds_per_row(landing: Path, centers: Path, kind: str) -> float:
    """CPU seconds a row over the kind's template centers (their summed CPU over summed rows)."""
    cpu = rows = 0.0
    for template in KIND_SETS[kind]:
        cpu += center_cpu(centers / f"{template}.yaml", landing)
        rows += export_rows(landing / template, kind)
    return cpu / max(rows, 1)


def main() -> None:
    landing, centers = Path(sys.argv[1]), Path(sys.argv[2])
    costs = {kind: seconds_per_row(landing, centers, kind) for kind in ("excel", "csv")}
    print(json.dumps(costs))


if __name__ == "__main__":
    main()
