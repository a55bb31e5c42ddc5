"""`make bench-scaling`: the marginal ratio's definition, and one tiny run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spinemet_etl.bench.scaling import ScalingConfig, main, scaling_record

SCALING_KEYS = {
    "date", "package_version", "machine", "centers", "seed", "repeats", "runs", "marginal_ratio",
    "peak_rss_mb", "peak_rss_patients",
}  # fmt: skip


def _run(patients: int, baseline_s: float, ingest_s: float, peak: float) -> dict[str, float]:
    return {"patients": patients, "rows": 2 * patients, "baseline_s": baseline_s,
            "ingest_s": ingest_s, "peak_rss_mb": peak}  # fmt: skip


def test_marginal_ratio_is_the_ingests_extra_seconds_over_the_floors() -> None:
    config = ScalingConfig(sizes=(5000, 1000), centers=6, seed=1, work=Path("unused"))
    runs = [_run(5000, 14.0, 110.0, 1800.0), _run(1000, 4.0, 30.0, 1200.0)]
    record = scaling_record(config, runs)
    assert set(record) == SCALING_KEYS
    assert record["marginal_ratio"] == 8.0  # (110 - 30) / (14 - 4), whatever the order
    assert (record["peak_rss_mb"], record["peak_rss_patients"]) == (1800.0, 5000)


def test_one_size_is_refused() -> None:
    with pytest.raises(SystemExit, match="two different sizes"):
        main(["--sizes", "1000", "1000"])


def test_no_repeat_is_refused() -> None:
    with pytest.raises(SystemExit, match="at least one ingest"):
        main(["--sizes", "1000", "2000", "--repeats", "0"])


@pytest.mark.slow
def test_bench_scaling_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "scaling.json"
    main(["--sizes", "300", "3000", "--centers", "6", "--repeats", "2",
          "--work", str(tmp_path), "--out", str(out)])  # fmt: skip
    record = json.loads(out.read_text(encoding="utf-8"))
    small, large = sorted(record["runs"], key=lambda run: run["patients"])
    assert small["rows"] < large["rows"]
    for run in (small, large):
        assert len(run["ingest_runs_s"]) == len(run["baseline_runs_s"]) == record["repeats"] == 2
        assert run["ingest_s"] == pytest.approx(sum(run["ingest_runs_s"]) / 2, abs=1e-3)
        assert run["baseline_s"] == pytest.approx(sum(run["baseline_runs_s"]) / 2, abs=1e-3)
    expected = (large["ingest_s"] - small["ingest_s"]) / (large["baseline_s"] - small["baseline_s"])
    assert record["marginal_ratio"] == pytest.approx(expected, abs=1e-3)
    assert record["peak_rss_mb"] == large["peak_rss_mb"] > 0
