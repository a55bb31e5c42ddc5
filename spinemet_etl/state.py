"""Change detection: a center's fingerprint, and what was last published for it."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas.codes import SCHEMA_VERSION
from schemas.contract import PACKAGE_VERSION
from spinemet_etl.mapping.vocabulary import VOCABULARY_FOLDER
from spinemet_etl.publish import staging_root, write_bytes_atomically

STATE = "_state"
CHUNK_BYTES = 1024 * 1024


def state_path(data_root: Path, center_id: str) -> Path:
    """`<data>/_state/<center_id>.json`: the center's last publish."""
    return data_root / STATE / f"{center_id}.json"


def hash_cache_path(data_root: Path, center_id: str) -> Path:
    """`<data>/_state/<center_id>.hashes.json`: SHA-256 of its landing files by size and times."""
    return data_root / STATE / f"{center_id}.hashes.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return loaded


def _write_json(path: Path, data_root: Path, content: Mapping[str, Any]) -> None:
    text = json.dumps(content, indent=2, sort_keys=True) + "\n"
    write_bytes_atomically(path, text.encode("utf-8"), staging_root(data_root))


def _regular_files(center_folder: Path) -> list[tuple[str, Path]]:
    """Every regular file under the center's landing folder, by relative POSIX name."""
    if not center_folder.is_dir():
        return []
    found = [
        (path.relative_to(center_folder).as_posix(), path) for path in center_folder.rglob("*")
    ]
    return sorted((name, path) for name, path in found if path.is_file() and not path.is_symlink())


def _stat_key(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def landing_hashes(
    center_folder: Path, cache: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """SHA-256 of every landing file, reusing `cache` where size, mtime and ctime match.

    Returns {relative name: {"stat": [size, mtime_ns, ctime_ns], "sha256": hex}}.
    """
    cache = cache or {}
    hashes: dict[str, dict[str, Any]] = {}
    for name, path in _regular_files(center_folder):
        stat_key = _stat_key(path.stat())
        cached = cache.get(name)
        if cached is not None and cached.get("stat") == stat_key:
            hashes[name] = dict(cached)
        else:
            hashes[name] = {"stat": stat_key, "sha256": sha256_file(path)}
    return hashes


def mapping_hashes(mapping_path: Path) -> list[list[str]]:
    """[name, SHA-256] of the mapping file and of every shared vocabulary beside it.

    All of `<mapping folder>/vocabularies/` counts, not only what this mapping uses: a
    vocabulary edit then re-runs every center, never misses one.
    """
    vocabularies = _regular_files(mapping_path.parent / VOCABULARY_FOLDER)
    return [[mapping_path.name, sha256_file(mapping_path)]] + [
        [f"{VOCABULARY_FOLDER}/{name}", sha256_file(path)] for name, path in vocabularies
    ]


def fingerprint_of(
    file_hashes: Mapping[str, Mapping[str, Any]],
    mapping: list[list[str]],
    key_fingerprint: str | None,
) -> str:
    """SHA-256 over the files' names and hashes, the mapping, the schema and code versions."""
    content = {
        "files": [[name, entry["sha256"]] for name, entry in sorted(file_hashes.items())],
        "mapping": mapping,
        "schema_version": SCHEMA_VERSION,
        "package_version": PACKAGE_VERSION,
        "key_fingerprint": key_fingerprint,
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def center_fingerprint(
    mapping_path: Path,
    landing_dir: Path,
    center_id: str,
    *,
    key_fingerprint: str | None = None,
    data_root: Path | None = None,
) -> str:
    """What a center's published data depend on, as one SHA-256 hex digest.

    Covers every regular file under `<landing_dir>/<center_id>/` (recursively, sorted by
    relative name; not only the files the mapping selects, so a stray file costs a re-run,
    never a missed change), the mapping file and the shared vocabularies beside it
    (`mapping_hashes`), `SCHEMA_VERSION`, the package version and, when given, the
    pseudonymization key's fingerprint (a new key gives new patient ids). With
    `data_root`, landing file hashes are cached in `_state/<center_id>.hashes.json` and a
    file is hashed again only when its size, mtime or ctime changed, so an unchanged
    center costs a few `stat` calls.
    """
    cache_path = hash_cache_path(data_root, center_id) if data_root is not None else None
    cache = _read_json(cache_path) if cache_path is not None else None
    hashes = landing_hashes(landing_dir / center_id, cache)
    if data_root is not None and cache_path is not None and hashes != cache:
        _write_json(cache_path, data_root, hashes)
    return fingerprint_of(hashes, mapping_hashes(mapping_path), key_fingerprint)


def cached_fingerprint(
    mapping_path: Path,
    landing_dir: Path,
    center_id: str,
    *,
    key_fingerprint: str | None,
    data_root: Path,
) -> str | None:
    """`center_fingerprint` from the hash cache alone, reading and writing nothing else.

    None when a landing file is new or its size or times changed since it was hashed:
    the answer would need hashing. A cheap "has anything changed?" for a warm-up.
    """
    cache = _read_json(hash_cache_path(data_root, center_id)) or {}
    files = _regular_files(landing_dir / center_id)
    if {name for name, _path in files} != set(cache):
        return None
    if any(cache[name].get("stat") != _stat_key(path.stat()) for name, path in files):
        return None
    return fingerprint_of(cache, mapping_hashes(mapping_path), key_fingerprint)


def published_state(data_root: Path, center_id: str) -> dict[str, Any] | None:
    """The center's last publish {center_id, fingerprint, run_id, stats}, or None."""
    return _read_json(state_path(data_root, center_id))


def record_published(
    data_root: Path, center_id: str, fingerprint: str, run_id: str, stats: Mapping[str, Any]
) -> None:
    """Record a successful publish, atomically; call it only after `publish_center` returned."""
    content = {
        "center_id": center_id,
        "fingerprint": fingerprint,
        "run_id": run_id,
        "stats": dict(stats),
    }
    _write_json(state_path(data_root, center_id), data_root, content)
