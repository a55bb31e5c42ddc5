"""`make bench-scaling`: what one more row costs the CSV ingest, against what it costs the floor.

Run as `python -m spinemet_etl.bench.scaling [--sizes 1000000 5000000]`; writes
`bench/scaling.json`. At each size the floor (`baseline_s`) and the cold CSV ingest
(`ingest_s`, `peak_rss_mb`) are timed as `make bench` times them, each `--repeats` times
(default 3) in rounds over the sizes (floor, then ingest, of each size in turn), and the
median kept (two cold ingests of one size can differ by a quarter); the fixed costs of a
run (imports, Prefect's server, Data Docs) cancel in the difference, so
`marginal_ratio = (ingest at the largest - ingest at the smallest) /
(floor at the largest - floor at the smallest)` is the per-row cost over the floor's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import spinemet_etl
from spinemet_etl.bench.consortium import cached_consortium, write_mapping_sets
from spinemet_etl.bench.measure import Timing, machine_facts
from spinemet_etl.bench.run import _rows, _Steps, floor_command, repo_root

SIZES = (1_000_000, 5_000_000)
REPEATS = 3


@dataclass(frozen=True)
class ScalingConfig:
    """The sizes to time (patients), the consortium's shape and the scratch folder."""

    sizes: tuple[int, ...]
    centers: int
    seed: int
    work: Path
    workers: int = 2
    repeats: int = REPEATS


class _Size:
    """One size's consortium and mapping files, and its floors and ingests timed so far."""

    def __init__(self, config: ScalingConfig, patients: int) -> None:
        landing, _ = cached_consortium(
            config.work, centers=config.centers, patients=patients,
            seed=config.seed, workers=config.workers,
        )  # fmt: skip
        self.patients, self.landing = patients, landing
        self.scratch = config.work / f"scaling-c{config.centers}-p{patients}"
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.steps = _Steps(self.scratch)
        self.centers = write_mapping_sets(
            landing, repo_root() / "centers", self.scratch / "centers"
        )
        self.baselines: list[Timing] = []
        self.ingests: list[Timing] = []

    def time_baseline(self) -> Timing:
        """One run of the floor into a fresh folder (the first one's log gives `rows`)."""
        out = self.scratch / "floor"
        shutil.rmtree(out, ignore_errors=True)
        name = "baseline" if not self.baselines else f"baseline_{len(self.baselines)}"
        self.baselines.append(self.steps.run(name, floor_command(self.landing, out)))
        shutil.rmtree(out, ignore_errors=True)
        return self.baselines[-1]

    def time_ingest(self) -> Timing:
        """One cold CSV ingest into an empty data root."""
        data = self.scratch / "data"
        shutil.rmtree(data, ignore_errors=True)
        name = f"ingest_csv_{len(self.ingests) + 1}"
        self.ingests.append(
            self.steps.pipeline(name, self.landing, self.centers["csv"], data, "--full-refresh")
        )
        shutil.rmtree(data, ignore_errors=True)
        return self.ingests[-1]

    def record(self) -> dict[str, Any]:
        """The size's entry of `runs`: the median floor and ingest, each of them, the
        largest peak."""
        seconds = [timing.seconds for timing in self.ingests]
        floors = [timing.seconds for timing in self.baselines]
        return {
            "patients": self.patients,
            "rows": _rows(self.steps.logs / "baseline.log"),
            "baseline_s": round(statistics.median(floors), 3),
            "baseline_runs_s": [round(value, 3) for value in floors],
            "ingest_s": round(statistics.median(seconds), 3),
            "ingest_runs_s": [round(value, 3) for value in seconds],
            "peak_rss_mb": round(max(timing.peak_rss_mb for timing in self.ingests), 1),
        }


def measure_sizes(config: ScalingConfig) -> list[dict[str, Any]]:
    """Every size's floor and ingest in rounds (1M floor, 1M ingest, 5M floor, 5M ingest,
    then again), so that a slow spell of the machine falls on both sizes, and on the floor
    as on the ingest, alike.

    Notes:
        Timed first, before the ingests, the floor's growth from 1M to 5M varied from
        10.15 to 12.46 s between sittings of one day while the ingest's varied less, and
        moved `marginal_ratio` by 0.3 on the same code.
    """
    sizes = [_Size(config, patients) for patients in config.sizes]
    for _ in range(config.repeats):
        for size in sizes:
            size.time_baseline()
            timing = size.time_ingest()
            seconds, peak = round(timing.seconds, 3), round(timing.peak_rss_mb, 1)
            print(json.dumps({"patients": size.patients, "ingest_s": seconds, "peak_rss_mb": peak}))
    runs = [size.record() for size in sizes]
    for size in sizes:
        shutil.rmtree(size.scratch, ignore_errors=True)
    return runs


def scaling_record(config: ScalingConfig, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The content of `bench/scaling.json`: each size's timings, the marginal ratio, the peak.

    `marginal_ratio` compares the smallest and the largest size (their median ingests);
    `peak_rss_mb` is the largest size's (the largest of its ingests' peaks).
    """
    small, large = min(runs, key=_patients), max(runs, key=_patients)
    floor = large["baseline_s"] - small["baseline_s"]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "package_version": spinemet_etl.__version__,
        "machine": machine_facts(),
        "centers": config.centers,
        "seed": config.seed,
        "repeats": config.repeats,
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
    parser.add_argument(
        "--repeats", type=int, default=REPEATS,
        help=f"cold ingests per size, their median kept (default {REPEATS})",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=bench / "scaling.json", help="results file")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if len(set(args.sizes)) < 2:
        raise SystemExit("--sizes needs two different sizes to compare")
    if args.repeats < 1:
        raise SystemExit("--repeats needs at least one ingest per size")
    config = ScalingConfig(
        tuple(args.sizes), args.centers, args.seed, args.work, args.workers, args.repeats
    )
    record = scaling_record(config, measure_sizes(config))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"marginal_ratio {record['marginal_ratio']}, peak_rss_mb {record['peak_rss_mb']}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
