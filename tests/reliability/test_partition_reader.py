"""The crash test's reader records a read that raised, a Rust panic of Polars included."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.exceptions import PanicException

from tests.reliability import partition_reader


def test_a_polars_panic_is_a_read_that_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def panic(_data: Path, _table: str) -> None:
        raise PanicException("assertion failed: range.end as u64 <= self.size")

    monkeypatch.setitem(partition_reader.READERS, "polars", panic)
    problems, raised = partition_reader.read_once("polars", tmp_path, "patients", {})
    assert raised and problems == [
        "PanicException: assertion failed: range.end as u64 <= self.size"
    ]
