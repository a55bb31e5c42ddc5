"""The reading snippets of docs/layout.md run as written against a small data root."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from spinemet_etl.publish import publish_center
from tests.dataset.samples import sample_result

LAYOUT_DOC = Path(__file__).resolve().parents[2] / "docs" / "layout.md"


def _blocks(language: str) -> list[str]:
    text = LAYOUT_DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


@pytest.fixture
def data_root_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`data/` in the working directory, with two centers published."""
    for center_id, n in (("boston", 2), ("lyon", 3)):
        publish_center(sample_result(center_id, n=n), tmp_path / "data", "r1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_doc_has_snippets() -> None:
    assert len(_blocks("python")) >= 5
    assert len(_blocks("sql")) == 1


@pytest.mark.parametrize("index", range(len(_blocks("python"))), ids=lambda i: f"python-{i}")
def test_python_snippet_runs(data_root_here: Path, index: int) -> None:
    exec(compile(_blocks("python")[index], f"layout.md python block {index}", "exec"), {})


def test_sql_snippet_counts_patients_per_center(data_root_here: Path) -> None:
    rows = duckdb.sql(_blocks("sql")[0]).fetchall()
    assert [(center, patients) for center, patients, _ in rows] == [("boston", 2), ("lyon", 3)]
