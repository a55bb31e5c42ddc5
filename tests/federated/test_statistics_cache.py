"""The report's per-center statistics cache: the same table, only changed centers read.

Each case compares with `compute_endpoints` on every patient row read at once (the
table as it is computed without any cache), with `DataFrame.equals`: value for value,
not within a tolerance.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import spinemet_etl.federated.cache as statistics_cache
from spinemet_etl.dataset import partition_file
from spinemet_etl.endpoints import compute_endpoints, endpoints_of
from spinemet_etl.endpoints.io import REPORT_COLUMNS, read_patients
from spinemet_etl.federated.cache import (
    CACHE_ROOT,
    ENTRY_FILES,
    PAGE_JSON,
    PAIRS,
    consortium_statistics,
)
from spinemet_etl.federated.folder import RISK_SETS, SUMMARY_JSON, sha256_of
from spinemet_etl.report import build_report, render_report
from tests.report.test_report_cache import _publish

CENTERS = {"alpha": 60, "bravo": 35, "charlie": 90}
RUN = "20261201T000000Z-cafe"


@pytest.fixture
def published(tmp_path: Path) -> Path:
    for seed, (center, n) in enumerate(CENTERS.items(), start=1):
        _publish(tmp_path, center, n, seed=seed)
    return tmp_path


def _central(data_root: Path) -> pd.DataFrame:
    """The endpoint table from every patient row at once, no cache involved."""
    return compute_endpoints(read_patients(data_root, columns=REPORT_COLUMNS))


def _table(data_root: Path) -> tuple[pd.DataFrame, list[str]]:
    """The endpoint table through the cache, and the centers whose rows were read."""
    stats, use = consortium_statistics(data_root)
    return endpoints_of(stats), use.computed


def _entries(data_root: Path, center: str) -> list[Path]:
    return sorted((data_root / CACHE_ROOT / center).iterdir())


def test_cold_and_cached_tables_equal_the_table_from_all_rows(published: Path) -> None:
    central = _central(published)
    cold, read = _table(published)
    assert read == sorted(CENTERS)
    cached, read = _table(published)
    assert read == []
    assert cold.equals(central) and cached.equals(central)
    assert all(len(_entries(published, center)) == 1 for center in CENTERS)


def test_after_one_center_changed_only_it_is_read(
    published: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _table(published)
    (old_entry,) = _entries(published, "bravo")
    _publish(published, "bravo", 48, seed=9)
    read_centers: list[str] = []

    def recording(data_root: Path, **options: list[str]) -> pd.DataFrame:
        read_centers.extend(options["centers"])
        return read_patients(data_root, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(statistics_cache, "read_patients", recording)
    with caplog.at_level(logging.INFO, logger=statistics_cache.__name__):
        table, read = _table(published)
    assert read == read_centers == ["bravo"]
    assert "2 centers from the cache, 1 read from their partitions (bravo)" in caplog.text
    assert table.equals(_central(published))
    (new_entry,) = _entries(published, "bravo")
    assert new_entry != old_entry  # the stale entry is gone


@pytest.mark.parametrize(
    "damage",
    ["changed byte", "missing file", "garbage key", "checksums of another entry"],
)
def test_a_corrupt_entry_is_recomputed_never_trusted(
    published: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    _table(published)
    (entry,) = _entries(published, "charlie")
    if damage == "changed byte":
        data = bytearray((entry / PAIRS).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (entry / PAIRS).write_bytes(bytes(data))
    elif damage == "missing file":
        (entry / RISK_SETS).unlink()
    elif damage == "garbage key":
        (entry / "key.json").write_text("{not json", encoding="utf-8")
    else:
        (other,) = _entries(published, "alpha")
        for name in ("SHA256SUMS", SUMMARY_JSON, RISK_SETS, PAIRS, PAGE_JSON):
            (entry / name).write_bytes((other / name).read_bytes())
    with caplog.at_level(logging.WARNING, logger=statistics_cache.__name__):
        table, read = _table(published)
    assert read == ["charlie"]
    assert "statistics cache of charlie not used, recomputed" in caplog.text
    assert table.equals(_central(published))
    _, read = _table(published)  # the recomputed entry replaced the damaged one
    assert read == []


def _page(data_root: Path) -> str:
    """The report page without its time of writing."""
    html = (data_root / "reports" / "report.html").read_text(encoding="utf-8")
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "<time>", html)


@pytest.mark.parametrize(
    "damage", ["changed count", "counts of another center"], ids=["changed", "other"]
)
def test_damaged_page_counts_are_recomputed_never_trusted(
    published: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    build_report(published, run_id=RUN)
    fresh = _page(published)
    (entry,) = _entries(published, "charlie")
    document = json.loads((entry / PAGE_JSON).read_text(encoding="utf-8"))
    if damage == "changed count":  # the checksum no longer matches
        document["crosstab"][0] += 1
        (entry / PAGE_JSON).write_text(json.dumps(document), encoding="utf-8")
    else:  # alpha's counts, with checksums that match them
        (other,) = _entries(published, "alpha")
        (entry / PAGE_JSON).write_bytes((other / PAGE_JSON).read_bytes())
        sums = [f"{sha256_of(entry / name)}  {name}\n" for name in sorted(ENTRY_FILES)]
        (entry / "SHA256SUMS").write_text("".join(sums), encoding="ascii")
    with caplog.at_level(logging.WARNING, logger=statistics_cache.__name__):
        build_report(published, run_id=RUN)
    assert "statistics cache of charlie not used, recomputed" in caplog.text
    assert _page(published) == fresh
    _, read = _table(published)  # the recomputed entry replaced the damaged one
    assert read == []


@pytest.mark.parametrize("k", [0, 40], ids=["exact", "suppressed"])
def test_the_page_is_the_same_cold_cached_after_one_change_and_from_all_rows(
    published: Path, k: int
) -> None:
    build_report(published, run_id=RUN, suppress_below=k)
    cold = _page(published)
    build_report(published, run_id=RUN, suppress_below=k)  # every center from the cache
    assert _page(published) == cold
    _publish(published, "bravo", 48, seed=9)
    build_report(published, run_id=RUN, suppress_below=k)  # bravo read, the others cached
    after_one = _page(published)
    assert after_one != cold and "bravo (n = 48)" in after_one
    shutil.rmtree(published / CACHE_ROOT)
    build_report(published, run_id=RUN, suppress_below=k)  # no cache at all
    assert _page(published) == after_one
    patients = read_patients(published)
    endpoints = pd.read_parquet(published / "reports" / "endpoints.parquet")
    central = render_report(patients, endpoints, suppress_below=k, generated_for_run=RUN)
    assert re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "<time>", central) == after_one


def test_an_entry_of_other_code_or_settings_is_not_used(
    published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _table(published)
    monkeypatch.setattr(statistics_cache, "engine_version", lambda: "another engine")
    _, read = _table(published)
    assert read == sorted(CENTERS)
    stats, use = consortium_statistics(published, pain_mcid=3.0)
    assert use.computed == sorted(CENTERS)
    assert endpoints_of(stats).equals(
        compute_endpoints(read_patients(published, columns=REPORT_COLUMNS), pain_mcid=3.0)
    )


def test_a_republished_partition_with_the_same_bytes_keeps_its_entry(published: Path) -> None:
    _table(published)
    path = partition_file(published, "patients", "alpha")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    _, read = _table(published)
    assert read == []  # keyed by the partition's content, not its times


def test_an_entry_is_never_half_written(
    published: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(statistics_cache.pq, "write_table", full_disk)
    with caplog.at_level(logging.WARNING, logger=statistics_cache.__name__):
        table, _ = _table(published)
    assert table.equals(_central(published))  # the report goes on without a cache
    assert "not written (" in caplog.text
    assert not any((published / CACHE_ROOT).rglob("*.json"))
    assert not any((published / "_staging").iterdir())


def test_the_report_writes_the_same_table_cold_and_cached(published: Path) -> None:
    build_report(published, run_id=RUN)
    cold = pd.read_parquet(published / "reports" / "endpoints.parquet")
    build_report(published, run_id=RUN)
    cached = pd.read_parquet(published / "reports" / "endpoints.parquet")
    assert cold.equals(cached)
    pd.testing.assert_frame_equal(cold, _central(published), check_dtype=False, rtol=0, atol=0)


@pytest.mark.slow
def test_a_night_when_one_center_changed_reads_only_that_center(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The demo consortium through the pipeline, one export changed, the report rebuilt."""
    from spinemet_etl.bench.run import change_one_export
    from spinemet_etl.pipeline import run_pipeline
    from spinemet_etl.settings import load_settings
    from spinemet_etl.synth import write_consortium
    from tests.reliability.helpers import CENTERS as MAPPINGS

    write_consortium(tmp_path / "landing")
    data = str(tmp_path / "data")
    flags = {"landing": tmp_path / "landing", "centers_dir": MAPPINGS, "data": data}
    settings = load_settings(flags, {"SPINEMET_PSEUDONYM_KEY": "statistics-cache-test-key"})
    run_pipeline(settings)
    build_report(settings.data_path, run_id=RUN)
    change_one_export(tmp_path / "landing" / "boston")
    manifest = run_pipeline(settings)
    assert [c for c, e in manifest["centers"].items() if e["status"] == "published"] == ["boston"]
    with caplog.at_level(logging.INFO, logger=statistics_cache.__name__):
        build_report(settings.data_path, run_id=RUN)
    assert "5 centers from the cache, 1 read from their partitions (boston)" in caplog.text
    table = pd.read_parquet(settings.data_path / "reports" / "endpoints.parquet")
    central = _central(settings.data_path)
    pd.testing.assert_frame_equal(table, central, check_dtype=False, rtol=0, atol=0)
