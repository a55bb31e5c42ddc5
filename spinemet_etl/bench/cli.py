"""The bench's command line: flags, the run (or the scaling series), the JSON and the table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from spinemet_etl.bench.run import BenchConfig, measure, measure_preview, repo_root
from spinemet_etl.readers.calamine import ENGINES

SCALING_PATIENTS = (10_000, 100_000, 1_000_000)
TABLE_KEYS = (
    ("rows", "rows"),
    ("baseline_s", "s"),
    ("ingest_s", "s"),
    ("ingest_ratio", "x"),
    ("ingest_excel_s", "s"),
    ("excel_row_us", "us"),
    ("csv_row_us", "us"),
    ("excel_row_ratio", "x"),
    ("ingest_spss_s", "s"),
    ("empty_flow_s", "s"),
    ("noop_s", "s"),
    ("noop_ratio", "x"),
    ("one_changed_s", "s"),
    ("one_changed_ratio", "x"),
    ("report_s", "s"),
    ("preview_s", "s"),
    ("summarize_s", "s"),
    ("pool_s", "s"),
    ("peak_rss_mb", "MB"),
)


def _parser() -> argparse.ArgumentParser:
    bench = repo_root() / "bench"
    parser = argparse.ArgumentParser(
        prog="python -m spinemet_etl.bench",
        description="Time spinemet on a synthetic consortium beside a CSV-to-Parquet floor.",
    )
    parser.add_argument("--patients", type=int, default=1_000_000, help="total patients")
    parser.add_argument("--centers", type=int, default=50, help="number of centers (>= 6)")
    parser.add_argument("--seed", type=int, default=20100, help="seed of the consortium")
    parser.add_argument("--out", type=Path, help="results file (default bench/results.json)")
    parser.add_argument("--work", type=Path, default=bench / "work", help="scratch folder")
    parser.add_argument("--workers", type=int, default=2, help="processes writing the consortium")
    parser.add_argument("--keep", action="store_true", help="keep the run's data and logs")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one Prefect server for all steps, no warm-up start (CI; not for the record)",
    )
    parser.add_argument(
        "--only-preview",
        action="store_true",
        help="time only `spinemet centers preview` of a demo center; print its key",
    )
    parser.add_argument(
        "--excel-engine",
        choices=ENGINES,
        default="calamine",
        help="workbook readers of every step (openpyxl: the pure-Python ones, to compare)",
    )
    parser.add_argument(
        "--scaling",
        type=int,
        nargs="*",
        metavar="PATIENTS",
        help=f"run once per size (default {' '.join(map(str, SCALING_PATIENTS))}); "
        "writes bench/scaling-series.json",
    )
    return parser


def format_table(rows: list[dict[str, Any]]) -> str:
    """The results as a text table, one column per run."""
    header = ["", *(f"{row['patients']:,} patients" for row in rows)]
    lines = [header]
    for key, unit in TABLE_KEYS:
        cells = [f"{row[key]:,.0f}" if unit == "rows" else f"{row[key]:,.2f}" for row in rows]
        lines.append([f"{key} ({unit})", *cells])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def _write(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.only_preview:
        print(json.dumps(measure_preview(args.work)), flush=True)
        return
    sizes = [args.patients] if args.scaling is None else (args.scaling or list(SCALING_PATIENTS))
    runs = []
    for patients in sizes:
        config = BenchConfig(
            patients, args.centers, args.seed, args.work, args.keep, args.workers, args.quick,
            args.excel_engine,
        )  # fmt: skip
        runs.append(measure(config))
        print(format_table(runs[-1:]), flush=True)
    default_name = "results.json" if args.scaling is None else "scaling-series.json"
    out = args.out or repo_root() / "bench" / default_name
    _write(out, runs[0] if args.scaling is None else runs)
    if len(runs) > 1:
        print(format_table(runs))
    print(f"results: {out}")
