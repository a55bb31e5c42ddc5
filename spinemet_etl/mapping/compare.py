"""How many canonical fields a draft maps exactly as a reference mapping file does."""

from __future__ import annotations

from typing import Any

COMPARED_KEYS = ("source", "checkbox", "constant", "labels", "values", "vocabulary", "convert")
"""What makes two specs the same mapping of a field; formats and missing codes are the table's."""


def _normalized(spec: Any) -> dict[str, Any]:
    spec = {"source": spec} if isinstance(spec, str) else dict(spec or {})
    found = {key: spec[key] for key in COMPARED_KEYS if spec.get(key) not in (None, False)}
    if isinstance(found.get("values"), dict):
        found["values"] = {
            str(k).strip().casefold(): (v.casefold() if isinstance(v, str) else v)
            for k, v in found["values"].items()
        }
    return found


def field_specs(mapping: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field a mapping fills -> its normalized spec: canonical columns and `visits.<f>`."""
    fields: dict[str, dict[str, Any]] = {}
    for table in mapping.get("tables") or []:
        for target, spec in (table.get("columns") or {}).items():
            fields[target] = _normalized(spec)
        for name, spec in (table.get("visits") or {}).items():
            fields[f"visits.{name}"] = _normalized(spec)
    return fields


def matching_fields(draft: dict[str, Any], reference: dict[str, Any]) -> tuple[list[str], int]:
    """The reference's fields the draft maps exactly alike, and how many the reference maps."""
    drafted, wanted = field_specs(draft), field_specs(reference)
    same = [name for name, spec in wanted.items() if drafted.get(name) == spec]
    return same, len(wanted)
