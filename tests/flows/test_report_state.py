"""When a no-op run may keep the report on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.report_state import current_report, report_inputs, write_report_stamp


def data_root(tmp_path: Path, centers: dict[str, bytes]) -> Path:
    for center_id, content in centers.items():
        folder = tmp_path / "harmonized" / "patients" / f"center_id={center_id}"
        folder.mkdir(parents=True)
        (folder / "part-0.parquet").write_bytes(content)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "report.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "reports" / "endpoints.parquet").write_bytes(b"PAR1")
    return tmp_path


def inputs(root: Path, suppress_below: int = 0) -> dict[str, Any]:
    return report_inputs(root, pain_mcid=2.0, suppress_below=suppress_below)


def test_the_stamped_report_is_current_for_the_same_inputs(tmp_path: Path) -> None:
    root = data_root(tmp_path, {"alpha": b"a", "beta": b"bb"})
    write_report_stamp(root, "20261126T020000Z-0001", inputs(root), {"status": "ok"})
    assert current_report(root, inputs(root)) == "20261126T020000Z-0001"
    assert [p[0] for p in inputs(root)["partitions"]] == ["center_id=alpha", "center_id=beta"]


def republish_beta(root: Path) -> None:
    (root / "harmonized/patients/center_id=beta/part-0.parquet").write_bytes(b"bbbb")


def add_gamma(root: Path) -> None:
    folder = root / "harmonized/patients/center_id=gamma"
    folder.mkdir(parents=True)
    (folder / "part-0.parquet").write_bytes(b"g")


def drop_html(root: Path) -> None:
    (root / "reports" / "report.html").unlink()


def drop_stamp(root: Path) -> None:
    (root / "reports" / ".report-inputs.json").unlink()


def corrupt_stamp(root: Path) -> None:
    (root / "reports" / ".report-inputs.json").write_text("{not json", encoding="utf-8")


@pytest.mark.parametrize(
    "change",
    [republish_beta, add_gamma, drop_html, drop_stamp, corrupt_stamp],
    ids=["partition-replaced", "partition-added", "html-missing", "no-stamp", "bad-stamp"],
)
def test_the_report_is_stale_after(tmp_path: Path, change: Any) -> None:
    root = data_root(tmp_path, {"alpha": b"a", "beta": b"bb"})
    write_report_stamp(root, "20261126T020000Z-0001", inputs(root), {"status": "ok"})
    change(root)
    assert current_report(root, inputs(root)) is None


def test_other_settings_make_the_report_stale(tmp_path: Path) -> None:
    root = data_root(tmp_path, {"alpha": b"a"})
    write_report_stamp(root, "20261126T020000Z-0001", inputs(root), {"status": "ok"})
    assert current_report(root, inputs(root, suppress_below=5)) is None


def test_a_report_of_a_run_that_needed_attention_is_never_kept(tmp_path: Path) -> None:
    root = data_root(tmp_path, {"alpha": b"a"})
    write_report_stamp(root, "20261126T020000Z-0001", inputs(root), {"status": "needs_attention"})
    assert current_report(root, inputs(root)) is None
