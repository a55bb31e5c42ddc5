"""The privacy scan: every text a run leaves behind, searched for direct identifiers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Needles:
    """What must never appear: a marker carried by every name, address and phone, and the
    exact record numbers, birth dates and secrets of the run."""

    marker: str
    exact: set[str] = field(default_factory=set)

    def pattern(self) -> re.Pattern[str]:
        words = sorted({self.marker, *self.exact}, key=len, reverse=True)
        alternatives = "|".join(re.escape(word) for word in words)
        return re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives})|{re.escape(self.marker)}")


def parquet_texts(path: Path) -> Iterable[str]:
    """Every value of every column as text, plus the file's and every field's metadata."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    yield str(table.schema.metadata or {})
    for schema_field in table.schema:
        yield f"{schema_field.name} {schema_field.metadata or {}}"
    for column in table.columns:
        yield "\n".join(str(value) for value in column.to_pylist())


def file_texts(root: Path) -> dict[str, str]:
    """Every file under `root` as text: Parquet decoded, anything else decoded as UTF-8."""
    texts: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            texts[str(path)] = "\n".join(parquet_texts(path))
        else:
            texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    return texts


def date_forms(days: Iterable[object]) -> set[str]:
    """Each date as ISO, dd/mm/yyyy, dd.mm.yyyy and mm/dd/yyyy text."""
    import pandas as pd

    forms: set[str] = set()
    for day in pd.to_datetime(pd.Series(list(days))).dropna():
        forms |= {day.strftime(f) for f in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%Y")}
    return forms


def leaks(texts: Mapping[str, str], needles: Needles) -> list[str]:
    """`where: what` for each needle found (the first few per place)."""
    pattern = needles.pattern()
    found: list[str] = []
    for where, text in texts.items():
        hits = sorted({match.group(0) for match in pattern.finditer(text)})
        found += [f"{where}: {hit}" for hit in hits[:5]]
    return found


def _marked_style(style: Any, marker: str) -> Any:
    """A center's identity style with the marker in every name, street, city and phone."""
    return dataclasses.replace(
        style,
        first_names_male=tuple(f"{n}{marker}" for n in style.first_names_male),
        first_names_female=tuple(f"{n}{marker}" for n in style.first_names_female),
        surnames=tuple(f"{n}{marker}" for n in style.surnames),
        street=f"{style.street} {marker}",
        city=f"{style.city} {marker}",
        phone_prefix=f"{style.phone_prefix} {marker}",
    )


def write_marked_consortium(landing: Path, marker: str, secrets: set[str], **synth: Any) -> Needles:
    """The synthetic consortium with `marker` in every identity, and the needles to scan for.

    Record numbers and birth dates cannot carry a marker (readers parse them), so their
    exact values are needles. Barcelona's REDCap `record_id` is a bare small integer: its
    record number is the needle instead (`nhc`, the same number with the `HC` prefix).
    """
    import pandas as pd

    import spinemet_etl.synth.consortium as consortium

    identities: list[pd.DataFrame] = []
    original = consortium.add_identifiers

    def add_marked(frame: pd.DataFrame, style: Any, start: int, rng: Any) -> pd.DataFrame:
        out = original(frame, _marked_style(style, marker), start, rng)
        identities.append(out[["record_number", "birth_date"]])
        return out

    consortium.add_identifiers = add_marked  # type: ignore[assignment]
    try:
        consortium.write_consortium(landing, **synth)
    finally:
        consortium.add_identifiers = original  # type: ignore[assignment]
    records = pd.concat(identities, ignore_index=True)
    needles = Needles(marker, set(secrets))
    needles.exact |= set(records["record_number"])
    needles.exact |= date_forms(records["birth_date"])
    return needles
