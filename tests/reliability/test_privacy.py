"""No direct identifier survives a run: every file, the manifest and the logs are scanned."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spinemet_etl.pipeline import run_pipeline
from spinemet_etl.settings import load_settings
from tests.reliability.helpers import CENTERS
from tests.reliability.privacy_scan import file_texts, leaks, write_marked_consortium

MARKER = "Qzxmark"
KEY = "privacy-test-KEY-0f3c9d1e7b5a"


@pytest.fixture(scope="module")
def marked_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The six-center consortium with marked identities, run once, its logs captured."""
    root = tmp_path_factory.mktemp("privacy")
    needles = write_marked_consortium(
        root / "landing", MARKER, {KEY}, n_patients=90, seed=11, dirt_rate=0.2
    )
    handler = _Capture()
    logging.getLogger().addHandler(handler)
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        flags = {"landing": root / "landing", "centers_dir": CENTERS, "data": str(root / "data")}
        manifest = run_pipeline(load_settings(flags, {"SPINEMET_PSEUDONYM_KEY": KEY}))
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    yield {"root": root, "manifest": manifest, "needles": needles, "log": handler.text()}


class _Capture(logging.Handler):
    """Every record of every logger, formatted with its traceback, as the log file would be."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


def test_the_marked_exports_really_hold_the_identifiers(marked_run: dict[str, Any]) -> None:
    """The scan's needles are in the input (else finding none in the output proves nothing)."""
    landing = file_texts(marked_run["root"] / "landing")
    csv_texts = {k: v for k, v in landing.items() if k.endswith(".csv")}
    assert len(leaks(csv_texts, marked_run["needles"])) >= 3
    assert all(status == "published" for status in _statuses(marked_run["manifest"]).values()), (
        marked_run["manifest"]["centers"]
    )


def _statuses(manifest: dict[str, Any]) -> dict[str, str]:
    return {center: entry["status"] for center, entry in manifest["centers"].items()}


def test_no_identifier_in_any_output_file(marked_run: dict[str, Any]) -> None:
    texts = file_texts(marked_run["root"] / "data")
    assert any(path.endswith(".parquet") for path in texts)
    assert any("/_runs/" in path for path in texts)
    assert leaks(texts, marked_run["needles"]) == []


def test_no_identifier_in_the_logs(marked_run: dict[str, Any]) -> None:
    log = marked_run["log"]
    assert "center " in log  # the run did log about its centers
    assert leaks({"log": log}, marked_run["needles"]) == []


def test_key_is_never_written_its_fingerprint_is(marked_run: dict[str, Any]) -> None:
    settings = load_settings({}, {"SPINEMET_PSEUDONYM_KEY": KEY})
    assert marked_run["manifest"]["key_fingerprint"] == settings.key_fingerprint
    everything = "\n".join(file_texts(marked_run["root"] / "data").values()) + marked_run["log"]
    assert KEY not in everything
    assert settings.key_fingerprint in everything


def test_the_scan_catches_a_planted_leak(marked_run: dict[str, Any], tmp_path: Path) -> None:
    """A record number in a quarantine value, a name in file metadata, a birth date in a log."""
    record = sorted(n for n in marked_run["needles"].exact if n.startswith("Z"))[0]
    birth = sorted(n for n in marked_run["needles"].exact if "." in n)[0]
    table = pa.table({"failure_value": ["ok", record]}).replace_schema_metadata(
        {"note": f"Rossi{MARKER}"}
    )
    pq.write_table(table, tmp_path / "part-0.parquet")
    (tmp_path / "run.json").write_text(json.dumps({"message": "all fine"}))
    found = leaks(
        {**file_texts(tmp_path), "log": f"center boston: born {birth}"}, marked_run["needles"]
    )
    assert sorted(hit.rsplit(": ", 1)[1] for hit in found) == sorted([record, MARKER, birth]), found
    assert leaks({"pseudonym": f"ab12{record[1:]}ff"}, marked_run["needles"]) == []
