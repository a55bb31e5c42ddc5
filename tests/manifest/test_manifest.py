"""The run manifest: run ids, shape, run status, atomic writing, the latest run."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from spinemet_etl.manifest import (
    build_manifest,
    latest_manifest,
    new_run_id,
    run_status,
    write_manifest,
)
from spinemet_etl.settings import Settings

STARTED = datetime(2026, 11, 26, 2, 0, 0, tzinfo=UTC)
FINISHED = datetime(2026, 11, 26, 2, 3, 12, tzinfo=UTC)
CENTER = {
    "status": "published",
    "error": None,
    "quality_gate": {"passed": True, "checks": []},
    "files": [
        {
            "name": "export_2026-11.xlsx",
            "size": 48213,
            "sha256": "0" * 64,
            "rows_read": 249,
            "rows_harmonized": 241,
            "rows_quarantined": 8,
        }
    ],
    "data_run_id": "20261126T020000Z-3f2a",
}


@pytest.mark.parametrize(
    ("now", "prefix"),
    [
        (STARTED, "20261126T020000Z-"),
        (datetime(2026, 11, 26, 3, 0, tzinfo=timezone(timedelta(hours=1))), "20261126T020000Z-"),
        (datetime(2026, 11, 26, 2, 0), "20261126T020000Z-"),
    ],
    ids=["utc", "cet-converted-to-utc", "naive-taken-as-utc"],
)
def test_run_id_is_the_utc_start_and_a_suffix(now: datetime, prefix: str) -> None:
    run_id = new_run_id(now)
    assert run_id.startswith(prefix)
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{4}", run_id)


def test_run_ids_of_the_same_second_differ() -> None:
    assert len({new_run_id(STARTED) for _ in range(20)}) > 1


def _manifest(settings: Settings, centers: dict) -> dict:
    return build_manifest(
        settings,
        run_id="20261126T020000Z-3f2a",
        started_at=STARTED,
        finished_at=FINISHED,
        parameters={"full_refresh": False, "centers": None},
        centers=centers,
    )


def test_manifest_has_the_layout_shape() -> None:
    manifest = _manifest(Settings(), {"bologna": CENTER})
    assert list(manifest) == [
        "run_id", "started_at", "finished_at", "status", "schema_version", "package_version",
        "key_fingerprint", "uses_development_key", "parameters", "centers",
    ]  # fmt: skip
    assert manifest["started_at"] == "2026-11-26T02:00:00+00:00"
    assert manifest["finished_at"] == "2026-11-26T02:03:12+00:00"
    assert manifest["status"] == "ok"
    assert manifest["schema_version"] == "1"
    assert manifest["package_version"] == "0.1.0"
    assert manifest["centers"]["bologna"] == CENTER


def test_manifest_never_holds_the_key() -> None:
    settings = Settings(pseudonym_key="consortium-secret-key")
    text = json.dumps(_manifest(settings, {"bologna": CENTER}))
    assert "consortium-secret-key" not in text
    assert json.loads(text)["key_fingerprint"] == settings.key_fingerprint
    assert json.loads(text)["uses_development_key"] is False


def test_development_key_is_flagged() -> None:
    assert _manifest(Settings(), {})["uses_development_key"] is True


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["published", "unchanged"], "ok"),
        ([], "ok"),
        (["published", "held"], "needs_attention"),
        (["unchanged", "failed"], "needs_attention"),
    ],
    ids=["all-good", "no-centers", "one-held", "one-failed"],
)
def test_run_status(statuses: list[str], expected: str) -> None:
    centers = {f"c{i}": {"status": status} for i, status in enumerate(statuses)}
    assert run_status(centers) == expected


def test_unknown_center_status_is_refused() -> None:
    with pytest.raises(ValueError, match="skipped"):
        _manifest(Settings(), {"bologna": {**CENTER, "status": "skipped"}})


def test_write_manifest_writes_the_run_file_and_nothing_else(tmp_path: Path) -> None:
    manifest = _manifest(Settings(), {"bologna": CENTER})
    path = write_manifest(manifest, tmp_path)
    assert path == tmp_path / "_runs" / "20261126T020000Z-3f2a.json"
    assert json.loads(path.read_text(encoding="utf-8")) == manifest
    assert os.listdir(tmp_path / "_runs") == ["20261126T020000Z-3f2a.json"]
    assert list((tmp_path / "_staging").iterdir()) == []


def test_latest_manifest_is_none_before_the_first_run(tmp_path: Path) -> None:
    assert latest_manifest(tmp_path) is None


def test_latest_manifest_is_the_last_started_run(tmp_path: Path) -> None:
    for run_id in ("20261127T020000Z-0001", "20261128T020000Z-0000", "20261126T020000Z-ffff"):
        write_manifest({"run_id": run_id}, tmp_path)
    latest = latest_manifest(tmp_path)
    assert latest is not None
    assert latest["run_id"] == "20261128T020000Z-0000"
