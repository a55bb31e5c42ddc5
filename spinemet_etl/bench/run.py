"""One bench run: the floor, the pipeline's runs and the report, side by side on the same files."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import spinemet_etl
from spinemet_etl.bench.consortium import cached_consortium, write_mapping_sets
from spinemet_etl.bench.measure import Timing, machine_facts, require_success, run_timed
from spinemet_etl.bench.server import prefect_server
from spinemet_etl.readers.calamine import ENGINE_VARIABLE

BENCH_KEY = "spinemet-bench-key-synthetic-data-only"
"""Pseudonymization key of the bench's runs (synthetic data only; silences the dev-key warning)."""
BASELINE_RUNS = 3
NIGHT_RUNS = 3
"""No-op and one-changed runs, interleaved; the median of each kind is kept (`_nights`)."""
RUN_NEEDS_ATTENTION = 1
"""`spinemet run` exits 1 when a center is held; the synthetic dirt may do that, it still ran."""
PREVIEW_CENTER = "bologna"
"""The demo center whose `spinemet centers preview` is timed: the slowest to read (a workbook)."""
CHANGED_CENTER = "boston"
"""The center whose export changes before the `one_changed` run (a CSV template: every size
has it)."""


@dataclass(frozen=True)
class BenchConfig:
    """What to benchmark and where to work.

    `quick`: every step reports to one Prefect server the bench starts first (through
    PREFECT_API_URL), and there is no warm-up start: the steps then skip the ~15 s of
    Prefect's temporary server each. For CI; the record (`make bench`) is not quick.
    `excel_engine`: the workbook readers' engine of every step (SPINEMET_EXCEL_ENGINE):
    `calamine`, or `openpyxl` to measure the pure-Python readers on the same files.
    """

    patients: int
    centers: int
    seed: int
    work: Path
    keep: bool = False
    workers: int = 2
    quick: bool = False
    excel_engine: str = "calamine"


def repo_root() -> Path:
    """The repository holding the package (the demo mapping files and `bench/`)."""
    return Path(spinemet_etl.__file__).resolve().parents[1]


def _spinemet(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("spinemet")
    if script.is_file():
        return [str(script), *args]
    return [sys.executable, "-c", "from spinemet_etl.cli import main; main()", *args]


def child_env(work: Path, excel_engine: str = "calamine") -> dict[str, str]:
    """The environment of every timed child: its Prefect home, the bench key, the Excel engine."""
    env = dict(os.environ)
    env[ENGINE_VARIABLE] = excel_engine
    env["PREFECT_HOME"] = str(work / "prefect-home")
    env["SPINEMET_PSEUDONYM_KEY"] = BENCH_KEY
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root()), env.get("PYTHONPATH")]))
    return env


class _Steps:
    """Runs and checks the timed steps of one bench run, logging each to `<work>/logs/`."""

    def __init__(self, work: Path, excel_engine: str = "calamine") -> None:
        self.logs = work / "logs"
        self.env = child_env(work, excel_engine)

    def run(self, name: str, command: list[str], allowed: tuple[int, ...] = (0,)) -> Timing:
        log = self.logs / f"{name}.log"
        timing = run_timed(command, log, self.env)
        require_success(timing, name, log, allowed)
        return timing

    def pipeline(self, name: str, landing: Path, centers: Path, data: Path, *flags: str) -> Timing:
        args = ["run", "--landing", str(landing), "--centers", str(centers), "--data", str(data)]
        return self.run(name, _spinemet(*args, *flags), (0, RUN_NEEDS_ATTENTION))


def _rows(log: Path) -> int:
    return int(log.read_text(encoding="utf-8").split()[-1])


def _baseline(steps: _Steps, landing: Path, scratch: Path) -> Timing:
    """The floor, run BASELINE_RUNS times into fresh folders: the run of median time.

    Notes:
        The floor takes a few seconds, so a moment of noise on a shared machine moves
        it (and the ratio) by tens of percent: 2.9 to 6.1 s at 1M on the same files;
        the median of three is steadier. The first run's log gives `rows`.
    """
    runs = [
        steps.run(
            "baseline" if n == 0 else f"baseline_{n}", floor_command(landing, scratch / f"b{n}")
        )
        for n in range(BASELINE_RUNS)
    ]
    return _median(runs)


def floor_command(landing: Path, out: Path) -> list[str]:
    """The floor's command: pyarrow converts every CSV export of `landing` into `out`."""
    return [sys.executable, "-m", "spinemet_etl.bench.baseline", str(landing), str(out)]


def time_preview(steps: _Steps, scratch: Path) -> Timing:
    """`spinemet centers preview` of a demo-sized center (the demo consortium, default seed).

    Notes:
        The inner loop of writing a mapping file is one center of demo size, not a
        bench-sized one, so the step writes the demo's exports (`spinemet synth`
        defaults) rather than reusing the bench consortium.
    """
    from spinemet_etl.synth import write_consortium

    landing = scratch / "demo-landing"
    write_consortium(landing)
    args = ["centers", "preview", PREVIEW_CENTER, "--landing", str(landing)]
    return steps.run("preview", _spinemet(*args, "--centers", str(repo_root() / "centers")))


def measure_preview(work: Path) -> dict[str, Any]:
    """Only the preview step (`python -m spinemet_etl.bench --only-preview`): its key."""
    scratch = work / "preview"
    shutil.rmtree(scratch, ignore_errors=True)
    timing = time_preview(_Steps(scratch), scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    return {"preview_center": PREVIEW_CENTER, "preview_s": _seconds(timing)}


def linked_landing(source: Path, target: Path) -> Path:
    """`source`'s files hard-linked under `target` (copied where a link fails): the bench's
    landing, in which one center's export can change without touching the cached consortium."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            link = target / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, link)
            except OSError:
                shutil.copy2(path, link)
    return target


def change_one_export(center_folder: Path) -> None:
    """Drop the last data row of the center's first CSV export: a new file replaces the link,
    so the center is processed again, as after a night when its export changed."""
    path = sorted(center_folder.glob("*.csv"))[0]
    lines = path.read_bytes().splitlines(keepends=True)
    replacement = path.with_name(f".{path.name}.tmp")
    replacement.write_bytes(b"".join(lines[:-1]))
    os.replace(replacement, path)


def _nights(
    steps: _Steps, landing: Path, centers: Path, data: Path, runs: int
) -> dict[str, Timing]:
    """`runs` pairs of nights: a no-op run, then a run after CHANGED_CENTER's export
    changed (its last data row dropped once more); the run of median time of each kind.

    Notes:
        One pair of runs gave `one_changed_ratio` 1.89, 2.1, 2.32 and 2.50 on the same
        code: a few seconds' run moves with any noise on a shared machine. The median
        of three, interleaved so that noise falls on both kinds alike, is steadier.
    """
    nights: dict[str, list[Timing]] = {"noop": [], "one_changed": []}
    for n in range(runs):
        suffix = "" if n == 0 else f"_{n}"
        nights["noop"].append(steps.pipeline(f"noop{suffix}", landing, centers, data))
        change_one_export(landing / CHANGED_CENTER)
        run = steps.pipeline(f"one_changed{suffix}", landing, centers, data)
        nights["one_changed"].append(run)
    return {kind: _median(timings) for kind, timings in nights.items()}


def _median(timings: list[Timing]) -> Timing:
    return sorted(timings, key=lambda timing: timing.seconds)[len(timings) // 2]


def _timed_steps(
    steps: _Steps, config: BenchConfig, landing: Path, scratch: Path
) -> dict[str, Timing]:
    """Run every timed step in order; their timings by name."""
    from spinemet_etl.federated.cache import CACHE_ROOT

    landing = linked_landing(landing, scratch / "landing")
    sets = write_mapping_sets(landing, repo_root() / "centers", scratch / "centers")
    data = scratch / "data"
    timings = {"baseline": _baseline(steps, landing, scratch)}
    empty_cmd = [sys.executable, str(repo_root() / "bench" / "empty_flow.py")]
    if not config.quick:
        steps.run("empty_flow_warmup", empty_cmd)
    timings["empty"] = steps.run("empty_flow", empty_cmd)
    for name, kind in (("ingest", "csv"), ("excel", "excel"), ("spss", "spss")):
        timings[name] = steps.pipeline(
            f"ingest_{kind}", landing, sets[kind], data, "--full-refresh"
        )
    timings.update(_nights(steps, landing, sets["all"], data, 1 if config.quick else NIGHT_RUNS))
    # `report_s` is a report that reads every patient: the statistics cache goes first.
    shutil.rmtree(data / CACHE_ROOT, ignore_errors=True)
    timings["report"] = steps.run("report", _spinemet("report", "--data", str(data)))
    timings["preview"] = time_preview(steps, scratch)
    outbox = scratch / "outbox"
    summaries = [sys.executable, "-m", "spinemet_etl.bench.summaries", str(data), str(outbox)]
    timings["summarize"] = steps.run("summarize", summaries)
    pool = _spinemet("pool", "--summaries", str(outbox), "--data", str(scratch / "pooled"))
    timings["pool"] = steps.run("pool", pool, (0, RUN_NEEDS_ATTENTION))
    rowcost = [sys.executable, "-m", "spinemet_etl.bench.rowcost", str(landing), str(sets["all"])]
    steps.run("row_cost", rowcost)
    return timings


def _row_costs(log: Path) -> dict[str, float]:
    """The row costs the rowcost step printed on its last line."""
    costs = json.loads(log.read_text(encoding="utf-8").strip().splitlines()[-1])
    return {kind: float(costs[kind]) for kind in ("excel", "csv")}


def measure(config: BenchConfig) -> dict[str, Any]:
    """Generate (or reuse) the consortium, time every step, and return the results' keys."""
    landing, _ = cached_consortium(
        config.work, centers=config.centers, patients=config.patients,
        seed=config.seed, workers=config.workers,
    )  # fmt: skip
    scratch = config.work / f"run-c{config.centers}-p{config.patients}"
    shutil.rmtree(scratch, ignore_errors=True)
    steps = _Steps(scratch, config.excel_engine)
    if config.quick:
        with prefect_server(steps.logs / "prefect_server.log", steps.env) as api_url:
            steps.env["PREFECT_API_URL"] = api_url
            timings = _timed_steps(steps, config, landing, scratch)
    else:
        timings = _timed_steps(steps, config, landing, scratch)
    results = results_record(
        **timings, rows=_rows(steps.logs / "baseline.log"),
        row_costs=_row_costs(steps.logs / "row_cost.log"), config=config,
    )  # fmt: skip
    if not config.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def _seconds(timing: Timing) -> float:
    return round(timing.seconds, 3)


def results_record(
    *,
    baseline: Timing,
    ingest: Timing,
    excel: Timing,
    spss: Timing,
    empty: Timing,
    noop: Timing,
    one_changed: Timing,
    report: Timing,
    preview: Timing,
    summarize: Timing,
    pool: Timing,
    rows: int,
    row_costs: dict[str, float],
    config: BenchConfig,
) -> dict[str, Any]:
    """The content of `bench/results.json`.

    `rows` counts the data rows of the CSV exports (what the floor converts and the
    CSV ingest reads); `ingest_ratio = ingest_s / baseline_s`, `noop_ratio =
    noop_s / empty_flow_s`; `excel_row_us` and `csv_row_us` are the CPU
    microseconds a row of harmonizing the Excel and the CSV template centers (rowcost.py),
    `excel_row_ratio` the first over the second;
    `noop_s` and `one_changed_s` are the medians of NIGHT_RUNS no-op runs and of as many
    runs after CHANGED_CENTER's export changed, interleaved (one each in quick mode),
    `one_changed_ratio = one_changed_s / noop_s`; `peak_rss_mb` is that of the CSV
    ingest's process;
    `prefect_server` is `temporary` (each step starts its own, as users run it) or
    `shared` (quick mode); `preview_s` is the wall time of `spinemet centers preview` of
    the demo's PREVIEW_CENTER at its demo size (whatever `patients` is). `summarize_s` is
    every center summarized in one process (the hospitals' side, docs/federated.md),
    `pool_s` `spinemet pool` on those summaries.
    """
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "package_version": spinemet_etl.__version__,
        "machine": machine_facts(),
        "patients": config.patients,
        "centers": config.centers,
        "prefect_server": "shared" if config.quick else "temporary",
        "rows": rows,
        "baseline_s": _seconds(baseline),
        "ingest_s": _seconds(ingest),
        "ingest_excel_s": _seconds(excel),
        "ingest_spss_s": _seconds(spss),
        "empty_flow_s": _seconds(empty),
        "noop_s": _seconds(noop),
        "one_changed_s": _seconds(one_changed),
        "report_s": _seconds(report),
        "preview_s": _seconds(preview),
        "summarize_s": _seconds(summarize),
        "pool_s": _seconds(pool),
        "peak_rss_mb": round(ingest.peak_rss_mb, 1),
        "ingest_ratio": _seconds(ingest) / _seconds(baseline),
        "noop_ratio": _seconds(noop) / _seconds(empty),
        "one_changed_ratio": _seconds(one_changed) / _seconds(noop),
        "excel_engine": config.excel_engine,
        "excel_row_us": round(row_costs["excel"] * 1e6, 2),
        "csv_row_us": round(row_costs["csv"] * 1e6, 2),
        "excel_row_ratio": round(row_costs["excel"] / row_costs["csv"], 3),
    }
