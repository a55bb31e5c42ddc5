"""Change detection: what changes a center's fingerprint, the hash cache, the state file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from spinemet_etl import state
from spinemet_etl.state import (
    cached_fingerprint,
    center_fingerprint,
    hash_cache_path,
    published_state,
    record_published,
)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A landing folder with two exports for `boston` and its mapping file."""
    landing = tmp_path / "landing"
    (landing / "boston" / "2026").mkdir(parents=True)
    (landing / "boston" / "export.csv").write_bytes(b"id,sex\n1,M\n")
    (landing / "boston" / "2026" / "followup.csv").write_bytes(b"id,date\n1,2026-01-01\n")
    mapping = tmp_path / "centers" / "boston.yaml"
    mapping.parent.mkdir()
    mapping.write_text("center_id: boston\n", encoding="utf-8")
    (mapping.parent / "vocabularies").mkdir()
    (mapping.parent / "vocabularies" / "sex.csv").write_text("M,male\n", encoding="utf-8")
    return mapping, landing


def _fingerprint(inputs: tuple[Path, Path], **options: object) -> str:
    mapping, landing = inputs
    return center_fingerprint(mapping, landing, "boston", **options)  # type: ignore[arg-type]


def _flip_one_byte_keeping_size_and_mtime(path: Path) -> None:
    stat = path.stat()
    content = bytearray(path.read_bytes())
    content[-2] ^= 0x01
    path.write_bytes(bytes(content))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _append_line(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"2,F\n")


def _change_mapping(inputs: tuple[Path, Path]) -> None:
    inputs[0].write_text("center_id: boston\nsheet: 2\n", encoding="utf-8")


def _change_vocabulary(inputs: tuple[Path, Path]) -> None:
    (inputs[0].parent / "vocabularies" / "sex.csv").write_text("M,male\nH,male\n", encoding="utf-8")


def _add_file(inputs: tuple[Path, Path]) -> None:
    (inputs[1] / "boston" / "late.csv").write_bytes(b"id\n")


def _rename_file(inputs: tuple[Path, Path]) -> None:
    folder = inputs[1] / "boston"
    (folder / "export.csv").rename(folder / "export_v2.csv")


CHANGES: dict[str, Callable[[tuple[Path, Path]], None]] = {
    "one-byte-same-size-same-mtime": lambda i: _flip_one_byte_keeping_size_and_mtime(
        i[1] / "boston" / "export.csv"
    ),
    "line-appended-in-subfolder": lambda i: _append_line(i[1] / "boston" / "2026" / "followup.csv"),
    "mapping-changed": _change_mapping,
    "vocabulary-changed": _change_vocabulary,
    "file-added": _add_file,
    "file-renamed": _rename_file,
}


@pytest.mark.parametrize("cached", [False, True], ids=["no-cache", "cache"])
@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_any_input_change_changes_the_fingerprint(
    inputs: tuple[Path, Path], tmp_path: Path, change: str, cached: bool
) -> None:
    options = {"data_root": tmp_path / "data"} if cached else {}
    before = _fingerprint(inputs, **options)
    CHANGES[change](inputs)
    assert _fingerprint(inputs, **options) != before


def test_unchanged_inputs_give_the_same_fingerprint(inputs: tuple[Path, Path]) -> None:
    assert _fingerprint(inputs) == _fingerprint(inputs)
    assert len(_fingerprint(inputs)) == 64


def test_the_key_is_part_of_the_fingerprint(inputs: tuple[Path, Path]) -> None:
    assert _fingerprint(inputs, key_fingerprint="a" * 64) != _fingerprint(
        inputs, key_fingerprint="b" * 64
    )


@pytest.mark.parametrize(
    ("constant", "value"),
    [("SCHEMA_VERSION", "2"), ("PACKAGE_VERSION", "9.9.9")],
    ids=["schema-version", "package-version"],
)
def test_versions_are_part_of_the_fingerprint(
    inputs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, constant: str, value: str
) -> None:
    before = _fingerprint(inputs)
    monkeypatch.setattr(state, constant, value)
    assert _fingerprint(inputs) != before


def test_cached_landing_files_are_not_hashed_again(
    inputs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_root = tmp_path / "data"
    first = _fingerprint(inputs, data_root=data_root)
    assert hash_cache_path(data_root, "boston").is_file()
    hashed: list[Path] = []
    real_sha256 = state.sha256_file
    monkeypatch.setattr(state, "sha256_file", lambda p: hashed.append(p) or real_sha256(p))
    assert _fingerprint(inputs, data_root=data_root) == first
    assert hashed == [inputs[0], inputs[0].parent / "vocabularies" / "sex.csv"]


def test_cache_and_no_cache_agree(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    assert _fingerprint(inputs, data_root=tmp_path / "data") == _fingerprint(inputs)


def test_missing_landing_folder_has_a_fingerprint(tmp_path: Path) -> None:
    mapping = tmp_path / "lyon.yaml"
    mapping.write_text("center_id: lyon\n", encoding="utf-8")
    assert len(center_fingerprint(mapping, tmp_path / "landing", "lyon")) == 64


def test_published_state_round_trip(tmp_path: Path) -> None:
    assert published_state(tmp_path, "boston") is None
    stats = {"rows_harmonized": 3, "files": [{"name": "export.csv"}]}
    record_published(tmp_path, "boston", "f" * 64, "run-1", stats)
    assert published_state(tmp_path, "boston") == {
        "center_id": "boston",
        "fingerprint": "f" * 64,
        "run_id": "run-1",
        "stats": stats,
    }
    record_published(tmp_path, "boston", "e" * 64, "run-2", stats)
    recorded = published_state(tmp_path, "boston")
    assert recorded is not None and recorded["run_id"] == "run-2"
    assert os.listdir(tmp_path / "_state") == ["boston.json"]


def _cached(inputs: tuple[Path, Path], data_root: Path) -> str | None:
    mapping, landing = inputs
    return cached_fingerprint(mapping, landing, "boston", key_fingerprint="k", data_root=data_root)


def test_the_cached_fingerprint_is_the_fingerprint(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    data_root = tmp_path / "data"
    assert _cached(inputs, data_root) is None  # nothing hashed yet
    full = _fingerprint(inputs, key_fingerprint="k", data_root=data_root)
    assert _cached(inputs, data_root) == full


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_the_cached_fingerprint_sees_every_change(
    inputs: tuple[Path, Path], tmp_path: Path, change: str
) -> None:
    data_root = tmp_path / "data"
    before = _fingerprint(inputs, key_fingerprint="k", data_root=data_root)
    CHANGES[change](inputs)
    assert _cached(inputs, data_root) != before
