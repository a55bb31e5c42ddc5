"""A summary that fails verification makes its center `failed`, with one sentence naming the
file and the problem; the other centers are pooled."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spinemet_etl.errors import SpinemetError
from spinemet_etl.federated.folder import SUMMARY_FILES, sha256_of
from spinemet_etl.federated.pool import load_centers
from spinemet_etl.federated.report import pool_report
from tests.endpoints.conftest import build_patients
from tests.federated.conftest import write_summaries

CENTERS = ["alpha", "bravo", "charlie", "delta"]
Damage = Callable[[Path], str]
"""Damages the outbox; returns the center that must fail and a text its problem must hold."""


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    short = pd.DataFrame({
        "center_id": [c for c in CENTERS for _ in range(6)],
        "procedure": ["palliative", "curettage", "en_bloc"] * 8,
        "days": [40 + 13 * i for i in range(24)],
        "dead": [i % 3 != 0 for i in range(24)],
    })  # fmt: skip
    folder = tmp_path_factory.mktemp("outbox")
    write_summaries(build_patients(short), folder)
    return folder


def _run(outbox: Path, center: str) -> Path:
    return next((outbox / center).iterdir())


def _reseal(folder: Path) -> None:
    """SHA256SUMS written again, as a center that really sent these bytes would have."""
    lines = [f"{sha256_of(folder / name)}  {name}\n" for name in sorted(SUMMARY_FILES)]
    (folder / "SHA256SUMS").write_text("".join(lines))


def _edit_json(folder: Path, edit: Callable[[str], str]) -> None:
    path = folder / "summary.json"
    path.write_text(edit(path.read_text()))
    _reseal(folder)


def _set(key: str, value: object) -> Callable[[str], str]:
    def edit(text: str) -> str:
        document = json.loads(text)
        document[key] = value
        return json.dumps(document)

    return edit


def changed_byte(box: Path) -> tuple[str, str]:
    path = _run(box, "alpha") / "risk_sets.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return "alpha", f"{path}: its SHA-256 differs from SHA256SUMS"


def unknown_format(box: Path) -> tuple[str, str]:
    _edit_json(_run(box, "bravo"), _set("format", "other-summary"))
    return "bravo", "format 'other-summary' is not 'spinemet-summary'"


def unknown_version(box: Path) -> tuple[str, str]:
    _edit_json(_run(box, "bravo"), _set("version", 7))
    return "bravo", "version 7 is not 1"


def folder_and_id_disagree(box: Path) -> tuple[str, str]:
    _edit_json(_run(box, "charlie"), _set("center_id", "echo"))
    return "charlie", "center_id 'echo' disagrees with its folder 'charlie'"


def id_not_a_slug(box: Path) -> tuple[str, str]:
    _edit_json(_run(box, "charlie"), _set("center_id", "Charlie Hospital"))
    return "charlie", "center_id 'Charlie Hospital' is not a center slug"


def folder_not_a_slug(box: Path) -> tuple[str, str]:
    (box / "delta").rename(box / "Delta")
    return "Delta", "the folder name is not a center slug"


def two_claim_one_center(box: Path) -> tuple[str, str]:
    shutil.copytree(box / "alpha", box / "echo")
    return "alpha", "2 summaries claim center 'alpha' (folders alpha, echo)"


def risk_sets_not_parquet(box: Path) -> tuple[str, str]:
    folder = _run(box, "delta")
    (folder / "risk_sets.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    _reseal(folder)
    return "delta", f"{folder / 'risk_sets.parquet'}: not a readable Parquet file"


def risk_sets_wrong_columns(box: Path) -> tuple[str, str]:
    folder = _run(box, "delta")
    pq.write_table(pa.table({"patient": ["a", "b"], "time": [1, 2]}), folder / "risk_sets.parquet")
    _reseal(folder)
    return "delta", "columns or types are not those of the contract"


def risk_sets_not_adding_up(box: Path) -> tuple[str, str]:
    folder = _run(box, "delta")
    table = pq.read_table(folder / "risk_sets.parquet").slice(1)
    pq.write_table(table, folder / "risk_sets.parquet")
    _reseal(folder)
    return "delta", "patients, not n = 2"


def deep_nesting(box: Path) -> tuple[str, str]:
    deep = "[" * 200_000 + "]" * 200_000
    _edit_json(
        _run(box, "alpha"), lambda text: text.replace('"quality": {', f'"x": {deep}, "quality": {{')
    )
    return "alpha", "nested too deeply"


def huge_float(box: Path) -> tuple[str, str]:
    _edit_json(
        _run(box, "bravo"), lambda text: text.replace('"age_sum": ', '"age_sum": 1e999, "y": ', 1)
    )
    return "bravo", "out of range"


def huge_integer(box: Path) -> tuple[str, str]:
    _edit_json(_run(box, "bravo"), lambda text: text.replace('"n": 6', '"n": ' + "9" * 5000, 1))
    return "bravo", "out of range"


def cutoff_a_patients_date(box: Path) -> tuple[str, str]:
    cutoff = {"date": "2023-04-05", "source": "latest_last_contact"}
    _edit_json(_run(box, "alpha"), _set("data_cutoff", cutoff))
    return "alpha", "is not a stated date"


def cutoff_not_a_date(box: Path) -> tuple[str, str]:
    _edit_json(_run(box, "alpha"), _set("data_cutoff", {"date": "25.11.2026", "source": "mapping"}))
    return "alpha", "data_cutoff '25.11.2026' is not a date"


DAMAGES = [
    changed_byte, unknown_format, unknown_version, folder_and_id_disagree, id_not_a_slug,
    folder_not_a_slug, two_claim_one_center, risk_sets_not_parquet, risk_sets_wrong_columns,
    risk_sets_not_adding_up, deep_nesting, huge_float, huge_integer, cutoff_a_patients_date,
    cutoff_not_a_date,
]  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.__name__ for d in DAMAGES])
def test_a_bad_summary_fails_its_center_only(
    damage: Callable[[Path], tuple[str, str]], outbox: Path, tmp_path: Path
) -> None:
    box = shutil.copytree(outbox, tmp_path / "inbox")
    failing, problem = damage(box)
    data = tmp_path / "data"
    centers = {c.center_id: c for c in pool_report(box, data, run_id="20260101T000000Z-bbbb")}
    assert centers[failing].status == "failed"
    assert problem in centers[failing].problem, centers[failing].problem
    assert str(box) in centers[failing].problem
    assert "\n" not in centers[failing].problem
    pooled_ok = {name for name, c in centers.items() if c.status == "used"}
    assert pooled_ok == {name for name, c in centers.items() if c.status != "failed"}
    assert len(pooled_ok) >= 2
    endpoints = pd.read_parquet(data / "reports" / "endpoints.parquet")
    assert set(endpoints["center_id"]) == pooled_ok | {"ALL"}
    summaries = json.loads((data / "reports" / "summaries.json").read_text())
    assert {c["center_id"]: c["status"] for c in summaries["centers"]}[failing] == "failed"
    assert failing in (data / "reports" / "report.html").read_text()


def test_an_old_summary_is_used_and_marked_stale(outbox: Path) -> None:
    now = datetime.now(UTC) + timedelta(days=46)
    centers = load_centers(outbox, max_age_days=45, now=now)
    assert [c.status for c in centers] == ["stale"] * 4
    assert all("older than 45 days" in c.problem and c.summary for c in centers)
    assert [c.status for c in load_centers(outbox, max_age_days=60, now=now)] == ["used"] * 4


def test_an_empty_inbox_is_an_error_and_leaves_the_previous_report(
    outbox: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    pool_report(outbox, data, run_id="20260101T000000Z-aaaa")
    before = (data / "reports" / "endpoints.parquet").read_bytes()
    empty = tmp_path / "empty-inbox"
    empty.mkdir()
    with pytest.raises(SpinemetError) as raised:
        pool_report(empty, data, run_id="20260102T000000Z-aaaa")
    assert raised.value.code == "no-summaries"
    assert f"no center summary under {empty}" in raised.value.message
    assert (data / "reports" / "endpoints.parquet").read_bytes() == before
