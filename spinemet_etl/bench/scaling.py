"""`make bench-scaling`: what one more row costs the CSV ingest, against what it costs the floor.

Run as `python -m spinemet_etl.bench.scaling [--sizes 1000000 5000000]`; writes
`bench/scaling.json`. At each size the floor (`baseline_s`, median of three) and the cold
CSV ingest (`ingest_s`, `peak_rss_mb`) are timed as `make bench` times them; the fixed
costs of a run (imports, Prefect's server, Data Docs) cancel in the difference, so
`marginal_ratio = (ingest at the largest - ingest at the smallest) /
(floor at the largest - floor at the smallest)` is the per-row cost over the floor's.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import spinemet_etl
from spinemet_etl.bench.consortium import cached_consortium, write_mapping_sets
from spinemet_etl.bench.measure import machine_facts
from spinemet_etl.bench.run import _baseline, _rows, _Steps, repo_root

SIZES = (1_000_000, 5_000_000)


@dataclass(frozen=True)
class ScalingConfig:
    """The sizes to time (patients), the consortium's shape and the scratch folder."""

    sizes: tuple[int, ...]
    centers: int
    seed: int
    work: Path
    workers: int = 2


def measure_size(config: ScalingConfig, patients: int) -> dict[str, Any]:
    """The floor and the cold CSV ingest at one size, in their own scratch folder."""
    landing, _ = cached_consortium(
        config.work, centers=config.centers, patients=patients,
        seed=config.seed, workers=config.workers,
    )  # fmt: skip
    scratch = config.work / f"scaling-c{config.centers}-p{patients}"
    shutil.rmtree(scratch, ignore_errors=True)
    steps = _Steps(scratch)
    sets = write_mapping_sets(landing, repo_root() / "centers", scratch / "centers")
    baseline = _baseline(steps, landing, scratch)
    ingest = steps.pipeline("ingest_csv", landing, sets["csv"], scratch / "data", "--full-refresh")
    record = {
        "patients": patients,
        "rows": _rows(steps.logs / "baseline.log"),
        "baseline_s": round(baseline.seconds, 3),
        "ingest_s": round(ingest.seconds, 3),
        "peak_rss_mb": round(ingest.peak_rss_mb, 1),
    }
    shutil.rmtree(scratch, ignore_errors=True)
    return record


def scaling_record(config: ScalingConfig, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The content of `bench/scaling.json`: each size's timings, the marginal ratio, the peak.

    `marginal_ratio` compares the smallest and the largest size; `peak_rss_mb` is the
    largest size's.
    """
    small, large = min(runs, key=_patients), max(runs, key=_patients)
    floor = large["baseline_s"] - small["baseline_s"]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "package_version": spinemet_etl.__version__,
        "machine": machine_facts(),
        "centers": config.centers,
        "seed": config.seed,
        "runs": runs,
        "marginal_ratio": round((large["ingest_s"] - small["ingest_s"]) / floor, 3),
        "peak_rss_mb": large["peak_rss_mb"],
        "peak_rss_patients": large["patients"],
    }


def _patients(run: dict[str, Any]) -> int:
    return int(run["patients"])


def _parser() -> argparse.ArgumentParser:
    bench = repo_root() / "bench"
    parser = argparse.ArgumentParser(
        prog="python -m spinemet_etl.bench.scaling",
        description="Time the cold CSV ingest and the floor at two or more sizes; "
        "marginal_ratio is the ingest's extra seconds over the floor's.",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), metavar="PATIENTS",
        help=f"patients of each run (default {' '.join(map(str, SIZES))})",
    )  # fmt: skip
    parser.add_argument("--centers", type=int, default=50, help="number of centers (>= 6)")
    parser.add_argument("--seed", type=int, default=20100, help="seed of the consortium")
    parser.add_argument("--work", type=Path, default=bench / "work", help="scratch folder")
    parser.add_argument("--workers", type=int, default=2, help="processes writing the consortium")
    parser.add_argument("--out", type=Path, default=bench / "scaling.json", help="results file")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if len(set(args.sizes)) < 2:
        raise SystemExit("--sizes needs two different sizes to compare")
    config = ScalingConfig(tuple(args.sizes), args.centers, args.seed, args.work, args.workers)
    runs = []
    for patients in config.sizes:
        runs.append(measure_size(config, patients))
        print(json.dumps(runs[-1]), flush=True)
    record = scaling_record(config, runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"marginal_ratio {record['marginal_ratio']}, peak_rss_mb {record['peak_rss_mb']}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
