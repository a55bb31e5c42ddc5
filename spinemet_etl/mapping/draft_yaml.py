"""Write a Draft as a mapping file: block tables, one flow line per column, TODOs marked."""

from __future__ import annotations

import json
import re
from typing import Any

from spinemet_etl.mapping.draft import Draft, DraftTable, files_pattern, is_required
from spinemet_etl.mapping.synonyms import fold

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_YAML_WORDS = frozenset({"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"})
HEADER = """\
# Draft mapping for `{center}`, written by `spinemet centers draft` from its exports.
# Review every line against the profile. Each `TODO` is a target the draft could not
# resolve: fill it in or delete the line, then run `spinemet centers check` and
# `spinemet centers preview {center}`.
"""


def scalar(value: Any) -> str:
    """A YAML scalar: plain when unambiguous, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(value: Any) -> str:
    """A value on one line: a mapping or list in flow style, or a scalar."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(str(k))}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _spec(spec: dict[str, Any]) -> str:
    return scalar(spec["source"]) if list(spec) == ["source"] else flow(spec)


def table_name(draft: DraftTable) -> str:
    profile = draft.profile
    raw = profile.instrument or profile.event or profile.sheet or profile.name
    slug = fold(raw).replace(" ", "_") or "table"
    return slug if slug[0].isalpha() else f"t_{slug}"


def _read_options(draft: DraftTable) -> dict[str, Any]:
    source = draft.profile.source
    options = {k: v for k, v in source.read.items() if k != "header_row_by_sheet"}
    by_sheet = source.read.get("header_row_by_sheet", {})
    if draft.profile.sheet is not None and by_sheet.get(draft.profile.sheet, 1) != 1:
        options["header_row"] = by_sheet[draft.profile.sheet]
    if source.kind == "redcap":
        pattern = files_pattern(source.dictionary.name) if source.dictionary else "TODO"
        options = {"data_dictionary": pattern}
    return options


def _table_lines(draft: DraftTable, todo: list[str]) -> list[str]:
    profile = draft.profile
    lines = [f"  - name: {table_name(draft)}", f"    kind: {profile.source.kind}"]
    if draft.role != "baseline":
        lines.append(f"    role: {draft.role}")
    lines += [f"    files: {scalar(files_pattern(profile.source.name))}", "    pick: latest"]
    if profile.sheet is not None:
        lines.append(f"    sheet: {scalar(profile.sheet)}")
    if options := _read_options(draft):
        lines.append(f"    read: {flow(options)}")
    if profile.event is not None:
        lines.append(f"    where: {{redcap_event_name: {scalar(profile.event)}}}")
    if profile.instrument is not None:
        lines.append(f"    instrument: {scalar(profile.instrument)}")
    lines.append(f"    patient_id: {scalar(draft.patient_id)}")
    if draft.record_id is not None:
        lines.append(f"    record_id: {scalar(draft.record_id)}")
    if draft.identifiers:
        lines.append(f"    identifiers: {flow(draft.identifiers)}")
    lines += [f"    {key}: {flow(value)}" for key, value in draft.defaults.items()]
    if draft.role == "visits":
        lines.append("    visits:")
        lines += [f"      {name}: {_spec(spec)}" for name, spec in draft.visits.items()]
        return lines
    lines.append("    columns:")
    lines += [f"      {target}: {_spec(spec)}" for target, spec in draft.columns.items()]
    for target in todo if draft.role == "baseline" else []:
        why = "required, no column found" if is_required(target) else "no column found"
        lines.append(f"      # {target}: TODO ({why})")
    return lines


def draft_yaml(draft: Draft) -> str:
    """The draft mapping file's text."""
    lines = HEADER.format(center=draft.center_id).splitlines()
    if draft.stable_id is not None:
        field_name, event = draft.stable_id
        lines += [
            f"# REDCap: the stable patient id is `{field_name}`, recorded on event `{event}` only;",
            "# `record_id:` carries it to every row of its record (record_id can be renumbered).",
        ]
    lines += [f"center_id: {draft.center_id}", "description: Drafted by spinemet centers draft.",
              "tables:"]  # fmt: skip
    for table in draft.tables:
        lines += _table_lines(table, draft.todo)
    return "\n".join(lines) + "\n"
