"""The rules a well-typed mapping must still follow: targets, conversions, coverage, no repeats."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from spinemet_etl.mapping.model import DURATION_UNITS, CenterMapping, ColumnMap, TableBase
from spinemet_etl.mapping.targets import (
    BIRTH_DATE,
    DERIVABLE_FROM,
    REQUIRED,
    TARGETS,
    VISIT_OUTPUTS,
    Target,
)
from spinemet_etl.mapping.vocabulary import VocabularyError, load_vocabulary
from spinemet_etl.mapping.yamlfile import Loc

Problems = list[tuple[Loc, str]]
VISIT_KINDS = {"date": "date", "dead": "boolean", "recurrence": "boolean"}
_NUMERIC_KINDS = {"int", "float"}


def column_specs(table: TableBase) -> dict[tuple[str, ...], tuple[ColumnMap, Target]]:
    """Every column spec of a table with the target it fills, keyed by its key path."""
    specs: dict[tuple[str, ...], tuple[ColumnMap, Target]] = {
        ("columns", name): (spec, TARGETS[name]) for name, spec in table.mapped().items()
    }
    if table.visits is not None:
        for field, kind in VISIT_KINDS.items():
            spec = getattr(table.visits, field)
            if spec is not None:
                specs[("visits", field)] = (spec, Target(f"visit {field}", kind, True))
    return specs


def value_kind(spec: ColumnMap, target: Target) -> str:
    """The kind of value the source holds before conversion (a duration is a number).

    An ASIA grade is `text` (`ASIA C`, `c`): asia_to_frankel reads it, and the schema
    judges the Frankel grade it becomes.
    """
    if spec.convert in DURATION_UNITS or spec.convert == "vas_0_100":
        return "float"
    if spec.convert == "asia_to_frankel":
        return "text"
    return target.kind


def table_problems(table: TableBase, mapping_dir: Path) -> Problems:
    """Problems inside one table: roles, repeated sources, targets, conversions, vocabularies."""
    problems = _role_problems(table)
    problems += _repeated_sources(table)
    if _states_death_at_last_contact(table) and "death_date" in table.mapped():
        problems.append(
            (
                ("columns", "vital_status", "follow_up_ends_at_death"),
                "map `death_date` or state `follow_up_ends_at_death`, not both",
            )
        )
    if table.thousands == table.decimal:
        problems.append((("thousands",), "the thousands separator must differ from `decimal`"))
    for loc, (spec, target) in column_specs(table).items():
        problems += spec_problems(loc, spec, target, mapping_dir)
    return problems


def spec_problems(loc: Loc, spec: ColumnMap, target: Target, mapping_dir: Path) -> Problems:
    """Problems of one column spec: conversions, value-map targets, its vocabulary."""
    problems = [((*loc, *sub), message) for sub, message in _spec_problems(spec, target)]
    return problems + _vocabulary_problems(loc, spec, target, mapping_dir)


def _role_problems(table: TableBase) -> Problems:
    problems: Problems = []
    if table.role == "visits" and table.visits is None:
        problems.append((("visits",), "a table of role `visits` needs a `visits` section"))
    if table.role != "visits" and table.visits is not None:
        problems.append((("visits",), "only a table of role `visits` has a `visits` section"))
    if table.role == "visits" and table.mapped():
        problems.append(
            (("columns",), "a visits table fills canonical columns through `visits`, not `columns`")
        )
    return problems


def _repeated_sources(table: TableBase) -> Problems:
    sources: list[tuple[Loc, str]] = [(("patient_id",), table.patient_id)]
    record = getattr(table, "record_id", None)
    if record is not None:
        sources.append((("record_id",), record))
    sources += [
        ((*loc, "source"), spec.source)
        for loc, (spec, _) in column_specs(table).items()
        if spec.source
    ]
    counts = Counter(source for _, source in sources)
    problems: Problems = [
        (loc, f"source column `{source}` is mapped more than once in this table")
        for loc, source in sources[1:]
        if counts[source] > 1
    ]
    dropped = set(table.identifiers)
    problems += [
        (loc, f"source column `{source}` is listed in `identifiers`, which are dropped unread")
        for loc, source in sources
        if source in dropped
    ]
    return problems


def _spec_problems(spec: ColumnMap, target: Target) -> Problems:
    problems: Problems = []
    kind = value_kind(spec, target)
    if spec.convert == "vas_0_100" and target.kind != "float":
        problems.append((("convert",), f"`vas_0_100` applies to pain scores, not `{target.name}`"))
    if spec.convert == "asia_to_frankel" and target.name not in ("frankel_preop", "frankel_postop"):
        problems.append((("convert",), "`asia_to_frankel` applies to frankel_preop/frankel_postop"))
    if spec.convert in DURATION_UNITS and (target.kind != "date" or target.name == "surgery_date"):
        problems.append((("convert",), f"a duration since surgery cannot fill `{target.name}`"))
    if spec.follow_up_ends_at_death and target.name != "vital_status":
        problems.append(
            (("follow_up_ends_at_death",), "the statement belongs under `vital_status` only")
        )
    if (spec.date_format or spec.excel_serial or spec.century_pivot is not None) and kind != "date":
        problems.append((("date_format",), f"`{target.name}` is not a date column"))
    for key in ("decimal", "thousands"):
        if getattr(spec, key) is not None and kind not in _NUMERIC_KINDS:
            problems.append(((key,), f"`{target.name}` is not a number column"))
    if spec.thousands is not None and spec.thousands == spec.decimal:
        problems.append((("thousands",), "the thousands separator must differ from `decimal`"))
    if spec.values is not None:
        problems += [
            (("values", key), message)
            for key, value in spec.values.items()
            if (message := target_problem(value, kind, target)) is not None
        ]
    if spec.constant is not None and (message := target_problem(spec.constant, kind, target)):
        problems.append((("constant",), message))
    return problems


def target_problem(value: Any, kind: str, target: Target) -> str | None:
    """Why `value` cannot be a value of `target` (None when it can)."""
    if value is None:
        return None
    allowed = target.categories if kind == "category" else ()
    if allowed and value not in allowed:
        return f"`{value}` is not one of {', '.join(allowed)} (column `{target.name}`)"
    valid = {
        "boolean": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "date": False,
        "category": isinstance(value, str),
    }.get(kind, True)
    if not valid:
        return f"`{value}` is not a {kind} value (column `{target.name}`)"
    return None


def _vocabulary_problems(loc: Loc, spec: ColumnMap, target: Target, mapping_dir: Path) -> Problems:
    if spec.vocabulary is None:
        return []
    try:
        terms = load_vocabulary(mapping_dir, spec.vocabulary)
    except VocabularyError as exc:
        return [((*loc, "vocabulary"), str(exc))]
    kind = value_kind(spec, target)
    return [
        ((*loc, "vocabulary"), f"in vocabulary `{spec.vocabulary}`, term `{term}`: {message}")
        for term, value in terms.items()
        if (message := target_problem(value, kind, target)) is not None
    ]


def _states_death_at_last_contact(table: TableBase) -> bool:
    spec = table.mapped().get("vital_status")
    return spec is not None and spec.follow_up_ends_at_death


def death_at_last_contact(mapping: CenterMapping) -> bool:
    """Whether the mapping states that the center's follow-up ends at death."""
    return any(_states_death_at_last_contact(table) for table in mapping.tables)


def provided_columns(table: TableBase) -> list[str]:
    """The canonical columns (and inputs) a table fills."""
    names = list(table.mapped())
    if _states_death_at_last_contact(table) and "death_date" not in names:
        names.append("death_date")
    if table.visits is not None:
        for field, outputs in VISIT_OUTPUTS.items():
            if getattr(table.visits, field) is not None:
                names += outputs
    return names


def _both_visits(mapping: CenterMapping, first: int, second: int) -> bool:
    """Whether two tables are visits tables, whose visits are summarized together."""
    return mapping.tables[first].role == mapping.tables[second].role == "visits"


def cross_table_problems(mapping: CenterMapping) -> Problems:
    """Problems across tables: one baseline, no column filled twice, required columns covered."""
    roles = Counter(table.role for table in mapping.tables)
    problems: Problems = []
    if roles["baseline"] != 1:
        problems.append(
            (("tables",), f"exactly one table must have role `baseline` ({roles['baseline']} do)")
        )
    seen: dict[str, int] = {}
    for index, table in enumerate(mapping.tables):
        for name in provided_columns(table):
            if name in seen and not _both_visits(mapping, seen[name], index):
                problems.append(
                    (
                        ("tables", index, "columns", name),
                        f"`{name}` is already filled by table `{mapping.tables[seen[name]].name}`",
                    )
                )
            seen.setdefault(name, index)
    for name in REQUIRED:
        if name not in seen and not any(source in seen for source in DERIVABLE_FROM.get(name, ())):
            inputs = " or ".join(f"`{s}`" for s in DERIVABLE_FROM.get(name, ()))
            hint = f" (or map {inputs} to derive it)" if inputs else ""
            problems.append((("tables",), f"required column `{name}` is not mapped{hint}"))
    if BIRTH_DATE in seen and "age_at_surgery_years" in seen:
        problems.append((("tables",), "map `age_at_surgery_years` or `birth_date`, not both"))
    return problems
