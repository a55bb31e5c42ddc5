"""Our synonym list (synonyms.yaml): column headers in six languages -> canonical targets."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SYNONYMS_PATH = Path(__file__).with_name("synonyms.yaml")
EXACT = 100.0
"""The score of a header equal to a term; a term found inside a header scores its word count."""


def fold(text: str) -> str:
    """Lower case, no accents, punctuation and blanks as one space: `präop (%)` -> `praop`."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


@lru_cache(maxsize=1)
def synonyms() -> dict[str, Any]:
    """The synonym file, with every term folded (missing codes stay as written)."""
    data = yaml.safe_load(SYNONYMS_PATH.read_text(encoding="utf-8"))
    folded: dict[str, Any] = {"missing_codes": [str(code) for code in data.pop("missing_codes")]}
    for section, content in data.items():
        if isinstance(content, dict):
            folded[section] = {key: [fold(t) for t in terms] for key, terms in content.items()}
        else:
            folded[section] = [fold(term) for term in content]
    return folded


def term_score(header: str, term: str) -> float:
    """How well `term` names `header` (both folded): EXACT, its word count when inside, else 0."""
    if header == term:
        return EXACT
    padded, words = f" {header} ", term.split()
    return float(len(words)) if f" {term} " in padded else 0.0


def best_score(header: str, terms: list[str]) -> float:
    return max((term_score(header, term) for term in terms), default=0.0)


def match_header(header: str, section: str = "targets") -> str | None:
    """The one target of `section` the header names best; None when none or a tie."""
    folded = fold(header)
    scores = {target: best_score(folded, terms) for target, terms in synonyms()[section].items()}
    ranked = sorted(scores.values(), reverse=True)
    if not ranked or ranked[0] == 0 or (len(ranked) > 1 and ranked[0] == ranked[1]):
        return None
    return max(scores, key=lambda target: scores[target])


def names_any(header: str, section: str) -> bool:
    """Whether the header holds one of a list section's terms (e.g. `identifiers`)."""
    return best_score(fold(header), synonyms()[section]) > 0


def is_identifier_like(header: str) -> bool:
    """A name, address, phone, record number or birth date: its values are never shown."""
    folded, targets = fold(header), synonyms()["targets"]
    if best_score(folded, synonyms()["not_identifiers"]) == EXACT:
        return False
    terms = [*synonyms()["identifiers"], *targets["patient_id"], *targets["birth_date"]]
    return best_score(folded, terms) > 0


def duration_unit(header: str) -> str | None:
    """The duration unit a header names (`Suivi (jours)` -> `days`), if exactly one."""
    folded = fold(header)
    units = [unit for unit, words in synonyms()["duration_units"].items()
             if best_score(folded, words) > 0]  # fmt: skip
    return units[0] if len(units) == 1 else None


def word_values(section: str) -> dict[str, str]:
    """A value section as {folded term: canonical value} (e.g. `vital_status_values`)."""
    return {term: value for value, terms in synonyms()[section].items() for term in terms}
