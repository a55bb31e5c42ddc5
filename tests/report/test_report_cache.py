"""A re-render with the endpoint table reused draws the same page from the cache, no patients."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import spinemet_etl.endpoints.io as endpoints_io
from schemas.patients import PatientsModel
from spinemet_etl.dataset import partition_file, table_schema, write_parquet
from spinemet_etl.derive import add_derived_columns
from spinemet_etl.report import build_report
from spinemet_etl.report.cache import CACHE_FILE, partition_stamp
from spinemet_etl.synth.cohort import simulate_cohort
from spinemet_etl.synth.profiles import profile_for

FIRST, SECOND = "20261126T030000Z-0001", "20261127T030000Z-0002"
GENERATED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def _publish(data_root: Path, center_id: str, n: int, seed: int) -> None:
    cohort = add_derived_columns(
        simulate_cohort(profile_for("boston"), n, np.random.default_rng(seed))
    )
    identity = pd.DataFrame({
        "center_id": center_id, "patient_id": [f"{seed:08x}{row:024x}" for row in range(n)],
        "source_file": "export.csv", "source_sha256": "a" * 64,
        "source_row": pd.array(range(1, n + 1), dtype="Int64"), "run_id": "r0",
    })  # fmt: skip
    frame = pd.concat([identity, cohort], axis=1)[list(PatientsModel.to_schema().columns)]
    path = partition_file(data_root, "patients", center_id)
    write_parquet(PatientsModel.validate(frame), table_schema("patients"), path, "r0")


def _page(data_root: Path, run_id: str) -> str:
    html = (data_root / "reports" / "report.html").read_text(encoding="utf-8")
    assert run_id in html
    return GENERATED.sub("<time>", html.replace(run_id, "<run>"))


@pytest.fixture
def published(tmp_path: Path) -> Path:
    _publish(tmp_path, "bologna", 40, seed=1)
    _publish(tmp_path, "lyon", 25, seed=2)
    return tmp_path


def _forbid_reading_patients(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> pd.DataFrame:
        raise AssertionError("the patients were read")

    monkeypatch.setattr(endpoints_io, "read_patients", refuse)


@pytest.mark.parametrize("k", [0, 30], ids=["exact", "suppressed"])
def test_rerender_equals_a_fresh_page_without_reading_patients(
    published: Path, monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    build_report(published, run_id=FIRST, suppress_below=k)
    fresh = _page(published, FIRST)
    _forbid_reading_patients(monkeypatch)
    build_report(published, run_id=SECOND, suppress_below=k, reuse_endpoints=True)
    assert _page(published, SECOND) == fresh
    assert "<svg" in fresh and "Overall survival by center" in fresh


@pytest.mark.parametrize(
    "change",
    ["republished partition", "other suppression", "corrupt cache", "no cache"],
    ids=["partition", "suppress", "corrupt", "absent"],
)
def test_a_stale_or_broken_cache_falls_back_to_the_patients(published: Path, change: str) -> None:
    build_report(published, run_id=FIRST)
    cache = published / CACHE_FILE
    k = 0
    if change == "republished partition":
        path = partition_file(published, "patients", "lyon")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    elif change == "other suppression":
        k = 30
    elif change == "corrupt cache":
        cache.write_text("{not json", encoding="utf-8")
    else:
        cache.unlink()
    build_report(published, run_id=SECOND, suppress_below=k, reuse_endpoints=True)
    rerendered = _page(published, SECOND)
    build_report(published, run_id=FIRST, suppress_below=k)
    assert rerendered == _page(published, FIRST)
    assert cache.is_file()


def test_stale_cache_is_redrawn_from_the_centers_entries(
    published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_report(published, run_id=FIRST)
    fresh = _page(published, FIRST)
    path = partition_file(published, "patients", "lyon")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    _forbid_reading_patients(monkeypatch)  # same bytes: the statistics cache entries hold
    build_report(published, run_id=SECOND, reuse_endpoints=True)
    key = json.loads((published / CACHE_FILE).read_text(encoding="utf-8"))["key"]
    assert key["partitions"] == partition_stamp(published)  # redrawn, not the stale parts
    assert _page(published, SECOND) == fresh


def test_suppression_changes_the_cached_figures(published: Path) -> None:
    build_report(published, run_id=FIRST, suppress_below=0)
    exact = _page(published, FIRST)
    build_report(published, run_id=SECOND, suppress_below=30, reuse_endpoints=True)
    assert "lyon (n = 25)" in exact
    assert "lyon (n = 25)" not in _page(published, SECOND)  # 25 < 30: not drawn


def _record_cutoff(published: Path, center: str, cutoff: bytes, source: bytes) -> None:
    import pyarrow.parquet as pq

    path = partition_file(published, "patients", center)
    table = pq.read_table(path)
    metadata = {
        **(table.schema.metadata or {}),
        b"spinemet.data_cutoff": cutoff,
        b"spinemet.data_cutoff_source": source,
    }
    pq.write_table(table.replace_schema_metadata(metadata), path)


def test_flow_gives_the_cutoff_a_partition_states(published: Path) -> None:
    _record_cutoff(published, "bologna", b"2026-11-25", b"mapping")
    _record_cutoff(published, "lyon", b"2026-10-01", b"latest_last_contact")
    build_report(published, run_id=FIRST)
    html = (published / "reports" / "report.html").read_text(encoding="utf-8")
    flow = html[html.index('<section id="flow">') :].split("</section>")[0]
    bologna = flow[flow.index(">bologna<") :].split("</tr>")[0]
    lyon = flow[flow.index(">lyon<") :].split("</tr>")[0]
    assert "2026-11-25 (stated)" in bologna
    assert "(latest last contact)" in lyon and "(stated)" not in lyon
