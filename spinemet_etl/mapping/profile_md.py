"""The readable profile (`profile.md`) of a center's exports, beside its draft mapping."""

from __future__ import annotations

from collections import defaultdict

from spinemet_etl.mapping.draft import Draft
from spinemet_etl.mapping.profile import ColumnProfile
from spinemet_etl.mapping.profile_center import CenterProfile, TableProfile

SHOWN_VALUES = 12
SHOWN_LABELS = 8
COLUMNS_HEADER = (
    "| column | type | filled | distinct | values (count) | formats, decimal | labels | target |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- |"
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _values(column: ColumnProfile) -> str:
    if column.identifier:
        return "*identifier: values not shown*"
    if not column.values:
        return "" if column.kind == "date" else f"*{column.distinct} distinct*"
    shown = ", ".join(f"`{v}` ({n})" for v, n in column.values[:SHOWN_VALUES])
    return shown + (", ..." if len(column.values) > SHOWN_VALUES else "")


def _labels(column: ColumnProfile) -> str:
    parts = [
        f"{code} = {label}" for code, label in list(column.value_labels.items())[:SHOWN_LABELS]
    ]
    if len(column.value_labels) > SHOWN_LABELS:
        parts.append("...")
    if column.user_missing:
        parts.append("user-missing: " + ", ".join(column.user_missing))
    return "; ".join(parts)


def _formats(column: ColumnProfile) -> str:
    parts = [f"`{form}`" for form in column.date_formats]
    if len(column.date_formats) > 1:
        parts.append("ambiguous")
    if column.date_reads:
        reads = ", ".join(f"`{form}` reads {count}" for form, count in column.date_reads)
        parts.append(f"no one format reads all {column.date_texts} dates ({reads})")
    if column.decimal:
        stated = " (stated by the source)" if column.decimal_stated else ""
        parts.append(f"decimal `{column.decimal}`{stated}")
    if column.excel_serial:
        parts.append("Excel serial numbers")
    if column.missing_codes:
        parts.append("missing codes " + ", ".join(f"`{c}`" for c in column.missing_codes))
    return ", ".join(parts)


def _column_row(column: ColumnProfile, target: str) -> str:
    name = column.name + (f" ({column.label})" if column.label else "")
    cells = [name, column.kind, f"{column.fill_rate:.0%}", str(column.distinct),
             _values(column), _formats(column), _labels(column), target]  # fmt: skip
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table_title(table: TableProfile) -> str:
    where = table.sheet and f"sheet `{table.sheet}`"
    where = where or (table.event and f"REDCap event `{table.event}`")
    where = where or (table.instrument and f"repeating instrument `{table.instrument}`")
    return f"### `{table.source.name}`" + (f", {where}" if where else "")


def _read_line(table: TableProfile) -> str:
    source = table.source
    facts = [f"kind `{source.kind}`", f"{table.rows} rows"]
    facts += [f"`{key}`: `{value}`" for key, value in source.read.items()]
    if source.kind in ("csv", "tsv", "redcap") and "encoding" not in source.read:
        facts.append("encoding `utf-8`")
    return ", ".join(facts)


def _targets(draft: Draft) -> dict[int, dict[str, str]]:
    """Per table (by id of its profile): source column -> the target(s) the draft gives it."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for table in draft.tables:
        specs = {**table.columns, **{f"visits.{k}": v for k, v in table.visits.items()}}
        for target, spec in specs.items():
            found[id(table.profile)][str(spec.get("source"))] = f"`{target}`"
        found[id(table.profile)][table.patient_id] = "patient id"
    return found


def _redcap_lines(profile: CenterProfile, draft: Draft) -> list[str]:
    events = [t for t in profile.tables if t.event is not None]
    if not events and not profile.dictionary:
        return []
    lines = ["## REDCap", ""]
    lines += [f"- event `{t.event}`: {t.rows} rows" for t in events]
    lines += [f"- repeating instrument `{t.instrument}`: {t.rows} rows"
              for t in profile.tables if t.instrument]  # fmt: skip
    forms = dict.fromkeys(row.get("form name", "") for row in profile.dictionary)
    lines.append("- instruments in the data dictionary: " + ", ".join(f"`{f}`" for f in forms if f))
    if draft.stable_id is not None:
        field_name, event = draft.stable_id
        lines.append(f"- the stable patient id `{field_name}` is recorded on event `{event}` only")
    return [*lines, ""]


def profile_markdown(profile: CenterProfile, draft: Draft) -> str:
    """The profile as Markdown: per file and table, every column; identifiers' values hidden."""
    lines = [f"# Profile of `{profile.center_id}`", "",
             "Written by `spinemet centers draft`. Values are listed for columns with few "
             "distinct values, never for identifier-like columns.", ""]  # fmt: skip
    lines += _redcap_lines(profile, draft)
    if profile.problems or profile.skipped:
        lines += ["## Not profiled", ""]
        lines += [f"- {problem}" for problem in profile.problems]
        lines += [f"- {reason}" for reason in profile.skipped]
        lines.append("")
    targets = _targets(draft)
    lines += ["## Tables", ""]
    for table in profile.tables:
        lines += [_table_title(table), "", _read_line(table), "", COLUMNS_HEADER]
        mapped = targets.get(id(table), {})
        lines += [_column_row(c, mapped.get(c.name, "")) for c in table.columns]
        lines.append("")
    if draft.todo:
        lines += ["## Unresolved targets (TODO)", "", ", ".join(f"`{t}`" for t in draft.todo), ""]
    return "\n".join(lines)
