"""The per-center unit and the plain run: change detection, failure isolation, the manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from spinemet_etl.dataset import partition_file
from spinemet_etl.errors import ConfigError, LockedError, MappingError, SourceError
from spinemet_etl.lock import data_root_lock
from spinemet_etl.pipeline import (
    CenterOutcome,
    discover_centers,
    process_center_safely,
    run_pipeline,
    top_quarantine_reasons,
)
from spinemet_etl.publish import staging_root
from spinemet_etl.results import CenterResult
from spinemet_etl.settings import Settings
from spinemet_etl.state import published_state
from tests.dataset.samples import sample_quarantine, sample_result, stub_consortium

CENTERS = ("boston", "lyon", "muenchen")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@dataclass
class FakeProcess:
    """Stands in for harmonize.process_center: a small result, or an exception, per center."""

    failures: dict[str, Exception] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    cutoffs: dict[str, date] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, mapping_path: Path, landing_dir: Path, **options: Any) -> CenterResult:
        center_id = mapping_path.stem
        self.calls.append({"center_id": center_id, "landing_dir": landing_dir, **options})
        if center_id in self.failures:
            raise self.failures[center_id]
        n = self.sizes.get(center_id, 2)
        result = sample_result(center_id, n=n, run_id=options["run_id"])
        result.stated_cutoff = self.cutoffs.get(center_id)
        return result

    def centers_called(self) -> list[str]:
        return [call["center_id"] for call in self.calls]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return stub_consortium(tmp_path, CENTERS)


def _statuses(manifest: dict[str, Any]) -> dict[str, str]:
    return {center: entry["status"] for center, entry in manifest["centers"].items()}


def _partition_bytes(settings: Settings, center_id: str) -> tuple[bytes, bytes]:
    return tuple(  # type: ignore[return-value]
        partition_file(settings.data_path, table, center_id).read_bytes()
        for table in ("patients", "quarantine")
    )


def test_first_run_publishes_every_center(settings: Settings) -> None:
    process = FakeProcess()
    manifest = run_pipeline(settings, process=process, now=NOW)
    assert _statuses(manifest) == dict.fromkeys(CENTERS, "published")
    assert manifest["status"] == "ok"
    assert manifest["run_id"].startswith("20261126T020000Z-")
    for center_id in CENTERS:
        assert partition_file(settings.data_path, "patients", center_id).is_file()
        assert manifest["centers"][center_id]["data_run_id"] == manifest["run_id"]
    written = settings.data_path / "_runs" / f"{manifest['run_id']}.json"
    assert json.loads(written.read_text(encoding="utf-8")) == manifest


def test_process_gets_the_settings(settings: Settings) -> None:
    process = FakeProcess()
    run_pipeline(settings, process=process, only_file="export.csv")
    call = process.calls[0]
    assert call["landing_dir"] == settings.landing
    assert call["key"] == settings.pseudonym_key
    assert call["only_file"] == "export.csv"
    assert call["settle_seconds"] == settings.settle_seconds


def test_manifest_entry_of_a_published_center(settings: Settings) -> None:
    manifest = run_pipeline(settings, process=FakeProcess(sizes={"lyon": 4}))
    entry = manifest["centers"]["lyon"]
    assert entry["error"] is None
    assert entry["quality_gate"] == {"passed": True, "checks": []}
    assert entry["files"][0]["rows_read"] == 5
    assert entry["files"][0]["rows_harmonized"] + entry["files"][0]["rows_quarantined"] == 5
    assert entry["rows_harmonized"] == 4
    assert entry["rows_quarantined"] == 1
    assert entry["top_quarantine_reasons"] == [{"check_code": "missing-required", "rows": 1}]


def test_unchanged_centers_are_skipped(settings: Settings) -> None:
    first = run_pipeline(settings, process=FakeProcess())
    before = {c: _partition_bytes(settings, c) for c in CENTERS}
    process = FakeProcess()
    second = run_pipeline(settings, process=process)
    assert process.calls == []
    assert _statuses(second) == dict.fromkeys(CENTERS, "unchanged")
    assert second["status"] == "ok"
    assert second["centers"]["boston"]["data_run_id"] == first["run_id"]
    assert second["centers"]["boston"]["files"] == first["centers"]["boston"]["files"]
    assert {c: _partition_bytes(settings, c) for c in CENTERS} == before


def _change_export(settings: Settings) -> None:
    path = settings.landing / "lyon" / "export.csv"
    content = bytearray(path.read_bytes())
    content[-2] = ord("M")
    path.write_bytes(bytes(content))


def _change_mapping(settings: Settings) -> None:
    (settings.centers_dir / "lyon.yaml").write_text("center_id: lyon\nx: 1\n", encoding="utf-8")


@pytest.mark.parametrize(
    "change", [_change_export, _change_mapping], ids=["one-byte-of-an-export", "mapping"]
)
def test_a_changed_center_is_processed_again(settings: Settings, change: Any) -> None:
    run_pipeline(settings, process=FakeProcess())
    change(settings)
    process = FakeProcess()
    manifest = run_pipeline(settings, process=process)
    assert process.centers_called() == ["lyon"]
    assert _statuses(manifest) == {
        "boston": "unchanged",
        "lyon": "published",
        "muenchen": "unchanged",
    }


@pytest.mark.parametrize(
    "options",
    [{"force": True}, {"settings": {"full_refresh": True}}],
    ids=["force", "full-refresh"],
)
def test_force_and_full_refresh_process_unchanged_centers(
    settings: Settings, options: dict[str, Any]
) -> None:
    run_pipeline(settings, process=FakeProcess())
    process = FakeProcess()
    forced = Settings(**{**settings.__dict__, **options.get("settings", {})})
    manifest = run_pipeline(forced, process=process, force=options.get("force", False))
    assert sorted(process.centers_called()) == list(CENTERS)
    assert _statuses(manifest) == dict.fromkeys(CENTERS, "published")


def test_deleted_partition_is_published_again(settings: Settings) -> None:
    run_pipeline(settings, process=FakeProcess())
    partition_file(settings.data_path, "quarantine", "boston").unlink()
    process = FakeProcess()
    run_pipeline(settings, process=process)
    assert process.centers_called() == ["boston"]


def test_one_file_backfill_is_redone_by_the_next_run(settings: Settings) -> None:
    run_pipeline(settings, process=FakeProcess(), force=True, only_file="export.csv")
    process = FakeProcess()
    run_pipeline(settings, process=process)
    assert sorted(process.centers_called()) == list(CENTERS)


FAILURES = {
    "source-error": (SourceError("center `lyon`, file `x.csv`: bad; fix it.", code="bad-file"),
                     "SourceError", "bad-file"),
    "mapping-error": (MappingError("center `lyon`: mapping wrong; fix it."), "MappingError",
                      "mapping-invalid"),
    "unexpected": (KeyError("Rossi Mario 1961-04-02"), "KeyError", "internal-error"),
}  # fmt: skip


@pytest.mark.parametrize("failure", list(FAILURES), ids=list(FAILURES))
def test_a_failing_center_fails_alone_and_keeps_its_data(settings: Settings, failure: str) -> None:
    first = run_pipeline(settings, process=FakeProcess())
    before = _partition_bytes(settings, "lyon")
    _change_export(settings)
    (settings.landing / "boston" / "export.csv").write_bytes(b"id\n9\n")
    exception, error_type, code = FAILURES[failure]
    manifest = run_pipeline(settings, process=FakeProcess(failures={"lyon": exception}))
    assert _statuses(manifest) == {"boston": "published", "lyon": "failed", "muenchen": "unchanged"}
    assert manifest["status"] == "needs_attention"
    error = manifest["centers"]["lyon"]["error"]
    assert (error["type"], error["code"]) == (error_type, code)
    assert "lyon" in error["message"]
    assert "Rossi" not in json.dumps(manifest)
    assert manifest["centers"]["lyon"]["data_run_id"] == first["run_id"]
    assert _partition_bytes(settings, "lyon") == before
    recorded = published_state(settings.data_path, "lyon")
    assert recorded is not None and recorded["run_id"] == first["run_id"]


def test_a_failed_center_is_retried_by_the_next_run(settings: Settings) -> None:
    run_pipeline(settings, process=FakeProcess(failures={"lyon": SourceError("bad.")}))
    process = FakeProcess()
    manifest = run_pipeline(settings, process=process)
    assert process.centers_called() == ["lyon"]
    assert manifest["centers"]["lyon"]["status"] == "published"


@dataclass
class Verdict:
    passed: bool
    checks: list[dict[str, Any]]


@dataclass
class FakeGate:
    """Fails a center whose new data have fewer patients than its last published partition."""

    seen_previous: dict[str, int | None] = field(default_factory=dict)

    def __call__(self, result: CenterResult, previous: pd.DataFrame | None) -> Verdict:
        self.seen_previous[result.center_id] = None if previous is None else len(previous)
        passed = previous is None or len(result.patients) >= len(previous)
        return Verdict(passed, [{"check": "row-count", "passed": passed}])


def test_a_center_failing_the_gate_is_held_and_keeps_its_data(settings: Settings) -> None:
    first = run_pipeline(settings, process=FakeProcess(sizes={"lyon": 5}), gate=FakeGate())
    before = _partition_bytes(settings, "lyon")
    gate = FakeGate()
    manifest = run_pipeline(settings, process=FakeProcess(sizes={"lyon": 2}), gate=gate, force=True)
    assert gate.seen_previous == {"boston": 2, "lyon": 5, "muenchen": 2}
    assert _statuses(manifest) == {"boston": "published", "lyon": "held", "muenchen": "published"}
    entry = manifest["centers"]["lyon"]
    assert entry["quality_gate"] == {
        "passed": False,
        "checks": [{"check": "row-count", "passed": False}],
    }
    assert entry["data_run_id"] == first["run_id"]
    assert entry["error"] is None
    assert _partition_bytes(settings, "lyon") == before


def test_the_gate_sees_no_previous_data_on_a_first_run(settings: Settings) -> None:
    gate = FakeGate()
    run_pipeline(settings, process=FakeProcess(), gate=gate)
    assert gate.seen_previous == dict.fromkeys(CENTERS, None)


def test_a_raising_gate_fails_the_center(settings: Settings) -> None:
    def broken_gate(result: CenterResult, previous: pd.DataFrame | None) -> Verdict:
        raise ZeroDivisionError

    outcome = process_center_safely(
        settings, "boston", "run-1", gate=broken_gate, process=FakeProcess()
    )
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error["code"] == "internal-error"
    assert not partition_file(settings.data_path, "patients", "boston").exists()


def test_a_run_cleans_staging_left_by_a_killed_run(settings: Settings) -> None:
    leftover = staging_root(settings.data_path) / "old-run" / "lyon" / "patients" / "center_id=lyon"
    leftover.mkdir(parents=True)
    (leftover / "part-0.parquet").write_bytes(b"half")
    run_pipeline(settings, process=FakeProcess())
    assert not (staging_root(settings.data_path) / "old-run").exists()


def test_a_run_refuses_a_locked_data_root(settings: Settings) -> None:
    with data_root_lock(settings.data_path), pytest.raises(LockedError):
        run_pipeline(settings, process=FakeProcess())


def test_discover_centers_lists_mapping_files(settings: Settings) -> None:
    (settings.centers_dir / "_shared.yaml").write_text("x: 1\n", encoding="utf-8")
    (settings.centers_dir / "README.md").write_text("notes\n", encoding="utf-8")
    assert discover_centers(settings) == list(CENTERS)


def test_discover_centers_filters_requested_centers(settings: Settings) -> None:
    requested = Settings(**{**settings.__dict__, "centers": ("muenchen", "boston")})
    assert discover_centers(requested) == ["boston", "muenchen"]


def test_unknown_requested_center_lists_the_known_ones(settings: Settings) -> None:
    requested = Settings(**{**settings.__dict__, "centers": ("milano",)})
    with pytest.raises(ConfigError, match=r"`milano`.*known centers: boston, lyon, muenchen"):
        discover_centers(requested)


def test_mapping_file_not_named_after_a_center_id_is_refused(settings: Settings) -> None:
    (settings.centers_dir / "Milano Centro.yaml").write_text("x: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"Milano Centro\.yaml"):
        discover_centers(settings)


def test_missing_centers_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        discover_centers(Settings(centers_dir=tmp_path / "nowhere"))


def test_top_quarantine_reasons_count_rows_once_per_code() -> None:
    quarantine = pd.concat(
        [
            sample_quarantine(n=3),
            sample_quarantine(n=1).assign(check_code="out-of-range", column="kps_preop"),
            sample_quarantine(n=1).assign(check_code="out-of-range", column="sins_total"),
        ]
    )
    assert top_quarantine_reasons(quarantine) == [
        {"check_code": "missing-required", "rows": 3},
        {"check_code": "out-of-range", "rows": 1},
    ]


def test_the_data_cutoff_is_in_the_manifest_and_the_partition_metadata(
    settings: Settings,
) -> None:
    """lyon states its cut-off in its mapping file; boston's is its latest last contact."""
    process = FakeProcess(cutoffs={"lyon": date(2026, 11, 25)})
    manifest = run_pipeline(settings, process=process)
    boston = sample_result("boston", n=2, run_id="x").patients["last_contact_date"].max()
    expected = {
        "lyon": ("2026-11-25", "mapping"),
        "boston": (boston.date().isoformat(), "latest_last_contact"),
    }
    for center_id, (day, source) in expected.items():
        assert manifest["centers"][center_id]["data_cutoff"] == {"date": day, "source": source}
        path = partition_file(settings.data_path, "patients", center_id)
        metadata = pq.read_metadata(path).metadata
        assert metadata[b"spinemet.data_cutoff"] == day.encode()
        assert metadata[b"spinemet.data_cutoff_source"] == source.encode()


def test_outcome_manifest_entry_has_the_layout_keys() -> None:
    entry = CenterOutcome("boston", "failed").as_manifest_entry()
    assert {"status", "error", "quality_gate", "files", "data_run_id"} <= set(entry)


def test_a_corrupt_state_file_fails_the_center_without_raising(settings: Settings) -> None:
    run_pipeline(settings, process=FakeProcess())
    (settings.data_path / "_state" / "boston.json").write_text("{not json", encoding="utf-8")
    outcome = process_center_safely(settings, "boston", "run-2", process=FakeProcess())
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error["type"] == "JSONDecodeError"


def test_a_center_that_cannot_be_written_fails_and_keeps_its_data(settings: Settings) -> None:
    first = run_pipeline(settings, process=FakeProcess())
    before = _partition_bytes(settings, "lyon")
    run_id = "20261126T030000Z-feed"
    (staging_root(settings.data_path) / run_id).parent.mkdir(parents=True, exist_ok=True)
    (staging_root(settings.data_path) / run_id).write_text("x", encoding="utf-8")  # no folder
    outcome = process_center_safely(settings, "lyon", run_id, force=True, process=FakeProcess())
    assert outcome.status == "failed" and outcome.error is not None
    assert (outcome.error["code"], outcome.error["type"]) == (
        "publish-failed",
        "NotADirectoryError",
    )
    assert (
        "lyon" in outcome.error["message"]
        and "last published data stay" in outcome.error["message"]
    )
    assert outcome.data_run_id == first["run_id"]
    assert _partition_bytes(settings, "lyon") == before


def test_a_full_disk_while_a_worker_stages_fails_the_center_with_one_sentence(
    settings: Settings,
) -> None:
    from spinemet_etl.pipeline import harmonize_and_gate
    from tests.reliability.diskfull import FillingDisk, filling_disk

    run_id = "20261126T030000Z-feed"
    disk = FillingDisk(lambda path: "/_staging/" in path, room=600)
    with filling_disk(pytest.MonkeyPatch(), disk):
        prepared = harmonize_and_gate(
            settings, "lyon", run_id, None, None, FakeProcess(), stage=True
        )
    assert disk.failures >= 1 and prepared.staged is None
    assert prepared.publish_error is not None
    assert prepared.publish_error["code"] == "disk-full"
    message = prepared.publish_error["message"]
    assert message.startswith("center `lyon`: no space left on the device to write `")
    assert message.endswith("; its last published data stay; free space on that filesystem "
                            "(or raise the quota) and run again.")  # fmt: skip
    assert [p for p in staging_root(settings.data_path).rglob("*") if p.is_file()] == []
