"""Small centers and the gate: the share floor, a center's own thresholds, a held quarantine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from spinemet_etl.pipeline import run_pipeline
from spinemet_etl.quality.config import load_quality_config
from spinemet_etl.quality.docs import build_data_docs
from spinemet_etl.quality.gate import GateResult, run_quality_gate
from spinemet_etl.results import CenterResult
from spinemet_etl.settings import Settings

CONFIG = load_quality_config(None)
MAPPING = """\
center_id: {center}
tables:
  - name: register
    kind: csv
    files: "*.csv"
    patient_id: id
    columns:
      sex: sex
      age_at_surgery_years: age
      primary_tumor: tumor
      surgery_date: surgery
      procedure: procedure
      intraop_death: {{constant: false}}
      vital_status: status
      death_date: death
      last_contact_date: contact
{quality}"""
HEADER = "id,sex,age,tumor,surgery,procedure,status,death,contact\n"
ROW = "{id},female,60,breast,2020-01-01,palliative,alive,,2021-01-01\n"


def _consortium(root: Path, center: str, ids: list[str], quality: str = "") -> Settings:
    (root / "landing" / center).mkdir(parents=True)
    text = HEADER + "".join(ROW.format(id=source_id) for source_id in ids)
    (root / "landing" / center / "export.csv").write_text(text, encoding="utf-8")
    (root / "centers").mkdir()
    mapping = MAPPING.format(center=center, quality=quality)
    (root / "centers" / f"{center}.yaml").write_text(mapping, encoding="utf-8")
    return Settings(landing=root / "landing", centers_dir=root / "centers", data=str(root / "data"))


def _gate(verdicts: list[GateResult]) -> Any:
    def gate(result: CenterResult, previous: pd.DataFrame | None) -> GateResult:
        verdicts.append(run_quality_gate(result, previous, CONFIG))
        return verdicts[-1]

    return gate


def _share(manifest: dict[str, Any], center: str) -> dict[str, Any]:
    checks = manifest["centers"][center]["quality_gate"]["checks"]
    return next(c for c in checks if c["name"] == "quarantine_share")


def test_five_patients_with_one_duplicated_pair_are_published(tmp_path: Path) -> None:
    settings = _consortium(tmp_path, "tiny", ["T1", "T2", "T2", "T3", "T4"])
    manifest = run_pipeline(settings, gate=_gate([]))
    entry = manifest["centers"]["tiny"]
    assert (entry["status"], entry["rows_harmonized"], entry["rows_quarantined"]) == (
        "published", 3, 2
    )  # fmt: skip
    share = _share(manifest, "tiny")
    assert (share["passed"], share["observed"]) == (True, 0.4)
    assert "Not judged: fewer than 20 rows read and fewer than 5 quarantined" in share["message"]


@pytest.mark.parametrize(
    ("read", "quarantined", "passed"),
    [(5, 2, True), (19, 4, True), (20, 5, False), (10, 5, False), (40, 8, True), (40, 9, False)],
    ids=["5-of-2", "19-of-4", "20-of-5", "10-of-5", "40-of-8", "40-of-9"],
)
def test_the_share_is_judged_from_20_rows_or_5_quarantined(
    read: int, quarantined: int, passed: bool
) -> None:
    from spinemet_etl.quality.checks import quarantine_share_check
    from spinemet_etl.results import FileStats

    stats = FileStats("export.csv", 1, "a" * 64, read, read - quarantined, quarantined)
    result = CenterResult("boston", pd.DataFrame(), pd.DataFrame(), [stats])
    assert quarantine_share_check(result, CONFIG.quarantine)["passed"] is passed


REASON = (
    "4 patients entered twice by one data manager; the center is fixing it (steering committee)"
)
QUALITY = f"""\
quality:
  reason: "{REASON}"
  quarantine: {{max_share: 0.3}}
"""
MANY = [f"P{n}" for n in range(26)] + [f"P{n}" for n in range(4)]  # 8 quarantined of 30


def test_a_held_center_writes_its_quarantine_under_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.entrypoints import _print_run

    settings = _consortium(tmp_path, "lyon", MANY)
    manifest = run_pipeline(settings, gate=_gate([]))
    entry = manifest["centers"]["lyon"]
    assert entry["status"] == "held" and not _share(manifest, "lyon")["passed"]
    run_id = manifest["run_id"]
    held = settings.data_path / "_runs" / run_id / "held" / "lyon" / "quarantine.parquet"
    assert entry["held_quarantine"] == str(held)
    rows = duckdb.sql(
        f"SELECT count(DISTINCT source_row), min(check_code), max(check_code), min(run_id) "
        f"FROM read_parquet('{held}')"
    ).fetchall()
    assert rows[0] == (8, "duplicate-patient", "duplicate-patient", run_id)
    assert not (settings.data_path / "harmonized").exists()
    assert not (settings.data_path / "quarantine").exists()
    _print_run(manifest, settings)
    printed = capsys.readouterr().out
    assert f"its quarantined rows: {held}" in printed
    assert "8 of 30 rows read were quarantined (26.7%), above the limit 20%." in printed
    accept = "set `quarantine.max_share` under `quality:`, with a `reason:`, in centers/lyon.yaml"
    assert accept in printed


def test_a_center_s_own_threshold_accepts_it_and_is_recorded(tmp_path: Path) -> None:
    settings = _consortium(tmp_path, "lyon", MANY, QUALITY)
    verdicts: list[GateResult] = []
    manifest = run_pipeline(settings, gate=_gate(verdicts))
    entry = manifest["centers"]["lyon"]
    assert entry["status"] == "published"
    share = _share(manifest, "lyon")
    assert (share["passed"], share["observed"], share["threshold"]) == (True, 0.2667, 0.3)
    assert entry["quality_gate"]["center_thresholds"] == {
        "reason": REASON, "settings": {"quarantine": {"max_share": 0.3}},
    }  # fmt: skip
    index = build_data_docs(tmp_path / "docs", verdicts, run_id="20261126T020000Z-3f2a")
    pages = [p.read_text(encoding="utf-8") for p in index.parent.rglob("lyon.html")]
    assert pages and all(REASON in page for page in pages)
