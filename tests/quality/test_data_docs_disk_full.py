"""The Data Docs after a full disk: cut-short stores are dropped, the site is whole or absent."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from spinemet_etl.errors import DiskFullError
from spinemet_etl.quality.config import load_quality_config
from spinemet_etl.quality.docs import GX_FOLDER, RENDER_LOGGER, build_data_docs
from spinemet_etl.quality.gate import run_quality_gate
from tests.quality.quality_helpers import center, patients
from tests.reliability.diskfull import FillingDisk, filling_disk

CONFIG = load_quality_config(None)
SITE = Path("reports") / "data_docs"


def _gates() -> list:  # type: ignore[type-arg]
    return [run_quality_gate(center(patients(12)), patients(30), CONFIG)]


def _pages(root: Path) -> list[Path]:
    return sorted((root / SITE / "validations").rglob("*.html"))


def _stored(root: Path) -> list[Path]:
    return sorted((root / GX_FOLDER / "uncommitted" / "validations").rglob("*.json"))


def test_a_run_id_with_a_digit_suffix_renders_its_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`…Z-6427` parses as a UTC offset of 64 h 27 min, which broke GX's page title."""
    with caplog.at_level(logging.WARNING):
        build_data_docs(tmp_path, _gates(), run_id="20261202T170932Z-6427")
    assert len(_pages(tmp_path)) == 1
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_cut_short_store_is_dropped_and_the_next_build_renders_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build_data_docs(tmp_path, _gates(), run_id="20261126T020000Z-0001")
    build_data_docs(tmp_path, _gates(), run_id="20261127T020000Z-0002")
    first, second = _stored(tmp_path)
    first.write_bytes(first.read_bytes()[:300])  # a validation cut short by a full disk
    project = tmp_path / GX_FOLDER / "great_expectations.yml"
    project.write_text("config_version: 4\nstores:\n  x: [", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        build_data_docs(tmp_path, _gates(), run_id="20261128T020000Z-0003")
    assert not first.exists() and second.exists() and project.is_file()
    assert len(_stored(tmp_path)) == 2 and len(_pages(tmp_path)) >= 2
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert messages == ["Data Docs: 2 cut-short file(s) of GX's stores removed"]


@pytest.mark.parametrize(("place", "room"), [("_gx/uncommitted/validations", 300),
                                             ("reports/data_docs", 20_000)])  # fmt: skip
def test_a_full_disk_removes_the_site_and_raises_one_sentence(
    tmp_path: Path, place: str, room: int, capsys: pytest.CaptureFixture[str]
) -> None:
    build_data_docs(tmp_path, _gates(), run_id="20261126T020000Z-0001")
    disk = FillingDisk(lambda path: path.startswith(str(tmp_path / place)), room)
    with filling_disk(pytest.MonkeyPatch(), disk), pytest.raises(DiskFullError) as raised:
        build_data_docs(tmp_path, _gates(), run_id="20261127T020000Z-0002")
    assert disk.failures >= 1
    assert raised.value.path == str(tmp_path / SITE)
    assert not (tmp_path / SITE).exists()
    assert "Traceback" not in capsys.readouterr().err
    assert logging.getLogger(RENDER_LOGGER).filters == []
    build_data_docs(tmp_path, [], run_id="20261128T020000Z-0003")
    assert (tmp_path / SITE / "index.html").is_file()
    assert len(_pages(tmp_path)) == len(_stored(tmp_path)) >= 1
