"""The Data Docs keep each center's newest validations: GX's store, the pages and the index."""

from __future__ import annotations

from pathlib import Path

from spinemet_etl.quality.docs import GX_FOLDER, VALIDATIONS, build_data_docs, prune_validations
from spinemet_etl.quality.gate import run_quality_gate
from tests.quality.quality_helpers import center, patients
from tests.quality.test_gate import CONFIG

SITE = Path("reports") / "data_docs"


def _gate(center_id: str) -> object:
    return run_quality_gate(center(patients(12), center_id=center_id), patients(30), CONFIG)


def _runs(root: Path, center_id: str) -> tuple[list[str], list[str]]:
    """The run names of a center's stored validations and of its pages."""
    stored = sorted(
        p.parts[-3] for p in (root / GX_FOLDER / VALIDATIONS / center_id).rglob("*.json")
    )
    pages = root / SITE / "validations" / "patients" / center_id
    return stored, sorted(p.parts[-3] for p in pages.rglob("*.html"))


def test_each_center_keeps_its_newest_validations_in_store_pages_and_index(
    tmp_path: Path,
) -> None:
    nights = [f"2026112{day}T020000Z-000{day}" for day in range(1, 6)]
    for night in nights:
        gates = [_gate("lyon")] + ([_gate("boston")] if night == nights[0] else [])
        index = build_data_docs(tmp_path, gates, run_id=night, keep=2)
    newest = [f"run-{night}" for night in nights[-2:]]
    assert _runs(tmp_path, "lyon") == (newest, newest)
    text = index.read_text(encoding="utf-8")
    assert all(f"run-{night}" in text for night in nights[-2:])
    assert not any(f"run-{night}" in text for night in nights[1:3])
    # boston was validated once, in the first night: another center's pruning leaves it.
    assert _runs(tmp_path, "boston") == ([f"run-{nights[0]}"], [f"run-{nights[0]}"])
    assert f"run-{nights[0]}" in text


def test_keep_zero_keeps_every_validation(tmp_path: Path) -> None:
    nights = [f"2026112{day}T020000Z-000{day}" for day in range(1, 4)]
    for night in nights:
        build_data_docs(tmp_path, [_gate("lyon")], run_id=night, keep=0)
    every = [f"run-{night}" for night in nights]
    assert _runs(tmp_path, "lyon") == (every, every)
    assert prune_validations(tmp_path, ["lyon"], 0) == 0


def test_pruning_orders_by_run_time_not_by_run_name(tmp_path: Path) -> None:
    """A validation's age is GX's run time, whatever its run's name says."""
    stored = tmp_path / GX_FOLDER / VALIDATIONS / "lyon"
    for run, time in [("run-b", "20261120T020000.000000Z"), ("run-a", "20261125T020000.000000Z")]:
        (stored / run / time).mkdir(parents=True)
        (stored / run / time / "lyon.json").write_text("{}", encoding="utf-8")
        page = tmp_path / SITE / "validations" / "patients" / "lyon" / run / time
        page.mkdir(parents=True)
        (page / "lyon.html").write_text("<html></html>", encoding="utf-8")
    assert prune_validations(tmp_path, ["lyon", "absent"], 1) == 1
    assert _runs(tmp_path, "lyon") == (["run-a"], ["run-a"])
    assert not (stored / "run-b").exists()
    assert not (tmp_path / SITE / "validations" / "patients" / "lyon" / "run-b").exists()
