"""The column spec a draft proposes for one canonical target from one profiled source column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spinemet_etl.mapping.profile import ColumnProfile
from spinemet_etl.mapping.synonyms import best_score, duration_unit, fold, synonyms, word_values
from spinemet_etl.mapping.targets import Target
from spinemet_etl.mapping.vocabulary import VocabularyError, load_vocabulary, vocabulary_path

TODO = "TODO"
COVERAGE = 0.95
"""A vocabulary is proposed when its terms cover this share of the column's filled rows.

The rest (a rare misspelling, a code without a label) is left for the quarantine to
show, not mapped by a guess.
"""
_PLAIN_BOOLEANS = frozenset({"0", "1", "true", "false"})
_STATUS_WORDS = frozenset({"alive", "dead"})
Spec = dict[str, Any]


def _vocabulary(mapping_dir: Path, name: str) -> dict[str, Any] | None:
    if vocabulary_path(mapping_dir, name) is None:
        return None
    try:
        return load_vocabulary(mapping_dir, name)
    except VocabularyError:
        return None


def _shown(column: ColumnProfile, labels: bool) -> dict[str, int]:
    """The column's distinct values (or their labels) with their row counts."""
    counts: dict[str, int] = {}
    for value, count in column.values:
        if value in column.missing_codes or value in column.user_missing:
            continue
        key = column.value_labels.get(value, value) if labels else value
        counts[key] = counts.get(key, 0) + count
    return counts


def _covered(counts: dict[str, int], terms: set[str] | dict[str, Any]) -> bool:
    total = sum(counts.values())
    inside = sum(n for value, n in counts.items() if " ".join(value.split()).casefold() in terms)
    return total > 0 and inside >= COVERAGE * total


def category_spec(column: ColumnProfile, target: Target, mapping_dir: Path) -> Spec:
    """A category: the shared vocabulary, the canonical codes as they are, or labels first."""
    spec: Spec = {"source": column.name}
    if target.name.startswith("frankel") and best_score(fold(column.name), synonyms()["asia"]):
        return {**spec, **({"labels": True} if column.value_labels else {}),
                "convert": "asia_to_frankel"}  # fmt: skip
    vocabulary = _vocabulary(mapping_dir, target.name)
    canonical = {c.casefold() for c in target.categories}
    for labels in [False, True] if column.value_labels else [False]:
        counts = _shown(column, labels)
        extra: Spec = {"labels": True} if labels else {}
        if vocabulary is not None and _covered(counts, vocabulary):
            return {**spec, **extra, "vocabulary": target.name}
        if _covered(counts, canonical):
            return {**spec, **extra}
    return {**spec, "values": _value_map(column, vocabulary or {}, canonical)}


def _value_map(column: ColumnProfile, vocabulary: dict[str, Any], canonical: set[str]) -> Spec:
    """Each source code -> its canonical value through the vocabulary or its label; else TODO."""
    values: Spec = {}
    for value, _ in column.values:
        if value in column.missing_codes or value in column.user_missing:
            continue
        for word in (value, column.value_labels.get(value, value)):
            key = " ".join(word.split()).casefold()
            found = vocabulary.get(key, key if key in canonical else None)
            if found is not None:
                values[value] = found
                break
        else:
            values[value] = TODO
    return values


def _flags(column: ColumnProfile, mapping_dir: Path) -> dict[str, bool | None]:
    """Each code -> True (yes / dead), False (no / alive), None (not recognised)."""
    terms = _vocabulary(mapping_dir, "yes_no") or {}
    yes_no = {fold(k): v in (True, "true") for k, v in terms.items()}
    status = {k: v == "dead" for k, v in word_values("vital_status_values").items()}
    found: dict[str, bool | None] = {}
    for value, _ in column.values:
        if value in column.missing_codes or value in column.user_missing:
            continue
        label = column.value_labels.get(value)
        words = [fold(word) for word in (label, value) if word]
        found[value] = next((m[w] for w in words for m in (status, yes_no) if w in m), None)
    return found


def boolean_spec(column: ColumnProfile, mapping_dir: Path, *, as_status: bool = False) -> Spec:
    """A yes/no column: 0/1 as it is, the shared yes_no vocabulary, or a value map.

    With `as_status` the map gives `dead`/`alive` (vital_status) instead of true/false.
    """
    spec: Spec = {"source": column.name}
    keys = {key.casefold() for key in _shown(column, labels=False)}
    if keys and keys <= (_STATUS_WORDS if as_status else _PLAIN_BOOLEANS):
        return spec
    yes_no = _vocabulary(mapping_dir, "yes_no") or {}
    if not as_status and not column.value_labels and _covered(_shown(column, False), yes_no):
        return {**spec, "vocabulary": "yes_no"}
    flags = _flags(column, mapping_dir)
    words = {True: "dead", False: "alive"} if as_status else {True: True, False: False}
    values = {code: TODO if flag is None else words[flag] for code, flag in flags.items()}
    return {**spec, "values": values}


def number_spec(column: ColumnProfile, target: Target) -> Spec:
    """A number; a pain score on 0-100 (by its header or its values) is divided by 10."""
    spec: Spec = {"source": column.name}
    if target.name.startswith("vas_pain"):
        header_says = best_score(fold(column.name), synonyms()["scale_0_100"]) > 0
        if header_says or (column.numeric_p90 or 0) > 10:
            spec["convert"] = "vas_0_100"
    return spec


def date_spec(column: ColumnProfile, target: Target) -> Spec:
    """A date; a number in a last-contact column is a duration since surgery in its unit."""
    spec: Spec = {"source": column.name}
    if column.kind in ("integer", "number") and not column.excel_serial:
        unit = duration_unit(column.name) if target.name != "surgery_date" else None
        spec["convert"] = f"{unit}_since_surgery" if unit else TODO
    elif len(column.date_formats) > 1 or column.date_reads:
        spec["date_format"] = TODO  # several formats read it all, or none does
    return spec


def column_spec(column: ColumnProfile, target: Target, mapping_dir: Path) -> Spec:
    """The proposed spec of `target` filled from `column`."""
    if target.name == "vital_status":
        return boolean_spec(column, mapping_dir, as_status=True)
    if target.kind == "category":
        return category_spec(column, target, mapping_dir)
    if target.kind == "boolean":
        return boolean_spec(column, mapping_dir)
    if target.kind == "date":
        return date_spec(column, target)
    return (
        number_spec(column, target) if target.kind in ("int", "float") else {"source": column.name}
    )
