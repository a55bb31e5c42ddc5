"""`spinemet centers draft`: a draft mapping file from a center's profiled exports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spinemet_etl.mapping.draft_specs import TODO, Spec, boolean_spec, column_spec
from spinemet_etl.mapping.profile import ColumnProfile
from spinemet_etl.mapping.profile_center import CenterProfile, TableProfile
from spinemet_etl.mapping.synonyms import best_score, fold, match_header, synonyms
from spinemet_etl.mapping.targets import BIRTH_DATE, REQUIRED, TARGETS, VISIT_OUTPUTS

ISO_DATE = "%Y-%m-%d"
RECORD_ID = "record_id"


@dataclass
class DraftTable:
    """One table of the draft: where its rows come from, its role, and what it fills."""

    profile: TableProfile
    role: str
    patient_id: str
    record_id: str | None = None
    columns: dict[str, Spec] = field(default_factory=dict)
    visits: dict[str, Spec] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass
class Draft:
    """The draft mapping of a center, and what it found (the REDCap event holding the id)."""

    center_id: str
    tables: list[DraftTable]
    todo: list[str] = field(default_factory=list)
    stable_id: tuple[str, str] | None = None


def match_columns(table: TableProfile, section: str = "targets") -> dict[str, ColumnProfile]:
    """Each target named by exactly one best column header (or REDCap field label).

    Two columns naming a target equally well leave it unresolved.
    """
    best: dict[str, tuple[float, ColumnProfile | None]] = {}
    for column in table.columns:
        for header in filter(None, (column.name, column.label)):
            target = match_header(header, section)
            if target is None:
                continue
            score = best_score(fold(header), synonyms()[section][target])
            held = best.get(target, (0.0, None))[0]
            if score >= held:
                best[target] = (score, column if score > held else None)
            break
    return {target: column for target, (_, column) in best.items() if column is not None}


def stable_redcap_id(tables: list[TableProfile]) -> tuple[str, str] | None:
    """The REDCap field holding the stable patient id (not record_id) and the one event with it."""
    events = [t for t in tables if t.event is not None]
    found = []
    for table in events:
        for column in table.columns:
            if column.name != RECORD_ID and match_header(column.name) == "patient_id":
                found.append((column.name, table.event or ""))
    return found[0] if len(found) == 1 else None


def _roles(profile: CenterProfile, stable: tuple[str, str] | None) -> list[DraftTable]:
    """Baseline, join and visits tables; a table with no patient id column gets a TODO id."""
    drafts: list[DraftTable] = []
    for table in profile.tables:
        record: str | None = None
        if table.source.kind != "redcap":
            pid = next(
                (c.name for c in table.columns if match_header(c.name) == "patient_id"), None
            )
        elif stable is not None:
            pid, record = stable[0], RECORD_ID
        else:
            pid = RECORD_ID
        repeated = table.instrument is not None or table.ids_repeat
        role = "visits" if repeated else "join"
        drafts.append(DraftTable(table, role, pid or TODO, record_id=record))
    plain = [d for d in drafts if d.role == "join"]
    held = [d for d in plain if stable is not None and d.profile.event == stable[1]]
    if held or plain:
        (held or plain)[0].role = "baseline"
    return sorted(drafts, key=lambda d: ("baseline", "join", "visits").index(d.role))


def _fill_visits(draft: DraftTable, mapping_dir: Path) -> None:
    matched = match_columns(draft.profile, "visits")
    dates = [c for c in draft.profile.columns if c.kind == "date"]
    date = matched.get("date") or (dates[0] if len(dates) == 1 else None)
    draft.visits["date"] = {"source": date.name} if date else {"source": TODO}
    if "dead" in matched:
        draft.visits["dead"] = boolean_spec(matched["dead"], mapping_dir)
    if "recurrence" in matched:
        draft.visits["recurrence"] = boolean_spec(matched["recurrence"], mapping_dir)


def _fill_columns(draft: DraftTable, taken: set[str], mapping_dir: Path) -> None:
    for target, column in match_columns(draft.profile).items():
        if target == "patient_id" or target in taken or column.name == draft.patient_id:
            continue
        draft.columns[target] = column_spec(column, TARGETS[target], mapping_dir)
        taken.add(target)


def _set_defaults(draft: DraftTable) -> None:
    """The table's missing codes, decimal mark, date format and Excel serial dates.

    A text date column whose one format is not the table's gets it on its own spec.
    """
    specs = [*draft.columns.values(), *draft.visits.values()]
    by_source = {c.name: c for c in draft.profile.columns}
    columns = [by_source[s["source"]] for s in specs if s.get("source") in by_source]
    codes = sorted({code for c in columns for code in c.missing_codes})
    dated = [c for c in columns if c.kind == "date" and len(c.date_formats) == 1]
    formats = {c.date_formats[0] for c in dated}
    table_format = formats.pop() if len(formats) == 1 and not draft.visits else ISO_DATE
    for spec in specs:
        own = by_source.get(spec.get("source", ""))
        if own is not None and own in dated and own.date_formats[0] != table_format:
            spec["date_format"] = own.date_formats[0]
    draft.defaults = {"missing": codes} if codes else {}
    if any(c.decimal == "," and not c.decimal_stated for c in columns):
        draft.defaults["decimal"] = ","  # a mark the source states needs no line
    if table_format != ISO_DATE:
        draft.defaults["date_format"] = table_format
    if any(c.excel_serial for c in columns):
        draft.defaults["excel_serial"] = True


def build_draft(profile: CenterProfile, mapping_dir: Path) -> Draft:
    """The draft: tables with roles, every confident column spec, every unresolved target TODO."""
    stable = stable_redcap_id(profile.tables)
    drafts = _roles(profile, stable)
    taken: set[str] = set()
    for draft in (d for d in drafts if d.role == "visits"):
        _fill_visits(draft, mapping_dir)
        taken |= {out for name in draft.visits for out in VISIT_OUTPUTS[name]}
    for draft in (d for d in drafts if d.role != "visits"):
        _fill_columns(draft, taken, mapping_dir)
    _age_or_birth(drafts)
    for draft in drafts:
        identifying = [c.name for c in draft.profile.columns if c.identifier]
        if draft.profile.source.kind == "redcap":
            identifying = _redcap_identifiers(profile)
        used = {s.get("source") for s in draft.columns.values()} | {draft.patient_id}
        draft.identifiers = [name for name in identifying if name not in used]
        _set_defaults(draft)
    provided = taken | {t for d in drafts for t in d.columns}
    todo = [t for t in TARGETS if t not in provided and not _derivable(t, provided)]
    return Draft(profile.center_id, drafts, todo, stable)


def _age_or_birth(drafts: list[DraftTable]) -> None:
    """Map the age when a column holds it, else the birth date (never both)."""
    if any("age_at_surgery_years" in d.columns for d in drafts):
        for draft in drafts:
            draft.columns.pop(BIRTH_DATE, None)


def _derivable(target: str, provided: set[str]) -> bool:
    if target == BIRTH_DATE:
        return "age_at_surgery_years" in provided
    if target == "age_at_surgery_years":
        return BIRTH_DATE in provided
    return target == "vital_status" and "death_date" in provided


def _redcap_identifiers(profile: CenterProfile) -> list[str]:
    names = [c.name for t in profile.tables for c in t.columns if c.identifier]
    return [name for name in dict.fromkeys(names) if name != RECORD_ID]


def files_pattern(name: str) -> str:
    """`SPINEMETS_DATA_2026-03-31.csv` -> `SPINEMETS_DATA_*.csv`: a date in the name is a glob."""
    path = Path(name)
    stem = re.sub(r"\d{4}[-_]?\d{2}([-_]?\d{2})?$", "", path.stem)
    return str(path.with_name(f"{stem}*{path.suffix}"))


def is_required(target: str) -> bool:
    return target in REQUIRED
