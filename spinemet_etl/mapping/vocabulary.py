"""Shared vocabularies: code lists of source terms -> canonical values, in YAML or CSV."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from spinemet_etl.text import code_key

VOCABULARY_FOLDER = "vocabularies"
SUFFIXES = (".yaml", ".yml", ".csv")


class VocabularyError(Exception):
    """A vocabulary file is missing or malformed; the message names the file."""


def vocabulary_path(mapping_dir: Path, name: str) -> Path | None:
    """The vocabulary file `<mapping_dir>/vocabularies/<name>.(yaml|yml|csv)`, if it exists."""
    for suffix in SUFFIXES:
        candidate = mapping_dir / VOCABULARY_FOLDER / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_vocabulary(mapping_dir: Path, name: str) -> dict[str, Any]:
    """The vocabulary `name` as {source term: canonical value}.

    A YAML vocabulary lists, per canonical value, its source terms
    (`palliative: [palliativa, debulking]`); a CSV vocabulary has the columns
    `term,value`. Terms are matched as code_key (case, blanks and NFC aside).
    """
    path = vocabulary_path(mapping_dir, name)
    if path is not None:
        stat = path.stat()
        return dict(_load_terms(path, stat.st_mtime_ns, stat.st_size))
    raise VocabularyError(
        f"vocabulary `{name}` not found: expected "
        f"{mapping_dir / VOCABULARY_FOLDER}/{name}.yaml or .csv"
    )


@lru_cache(maxsize=64)
def _load_terms(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """The terms of one vocabulary file version (cached by path, modification time and size)."""
    pairs = _read_csv(path) if path.suffix == ".csv" else _read_yaml(path)
    terms: dict[str, Any] = {}
    for term, value in pairs:
        key = code_key(term)
        _refuse_one_character(path, term, key, value)
        if key in terms and terms[key] != value:
            raise VocabularyError(
                f"vocabulary {path.name}: term `{term}` maps to both `{terms[key]}` and `{value}`"
            )
        terms[key] = value
    return terms


def _refuse_one_character(path: Path, term: str, key: str, value: Any) -> None:
    """Raise for a one-character term: its meaning depends on the center's language.

    Notes:
        `M` is male in English, German, French and Italian but mujer (female) in Spanish;
        `1`/`2` code sex either way round. A shared vocabulary serves every center, so such
        a code is mapped in the center's own mapping file instead.
    """
    if len(key) == 1:
        raise VocabularyError(
            f"vocabulary {path.name}: term `{term}` (-> `{value}`) is a one-character code, "
            "whose meaning differs between centers and languages; remove it from the shared "
            f'vocabulary and map it per center with `values: {{"{term}": {value}}}`'
        )


def _read_yaml(path: Path) -> list[tuple[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise VocabularyError(
            f"vocabulary {path.name} cannot be read ({type(exc).__name__})"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise VocabularyError(
            f"vocabulary {path.name} must map each canonical value to a list of source terms"
        )
    pairs = [(term, value) for value, terms in data.items() for term in terms]
    if not all(isinstance(term, str) for term, _ in pairs):
        raise VocabularyError(
            f"vocabulary {path.name}: every term must be text; quote terms such as 'no' or '1'"
        )
    return pairs


def _read_csv(path: Path) -> list[tuple[str, Any]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise VocabularyError(
            f"vocabulary {path.name} cannot be read ({type(exc).__name__})"
        ) from None
    if rows and not {"term", "value"} <= set(rows[0]):
        raise VocabularyError(f"vocabulary {path.name} must have the columns `term,value`")
    return [(row["term"], row["value"] or None) for row in rows]
