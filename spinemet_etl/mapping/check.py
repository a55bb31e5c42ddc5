"""`spinemet centers check`: every mistake in a mapping file, with its line and key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from spinemet_etl.mapping.model import CenterMapping, ColumnMap, Table, TableBase
from spinemet_etl.mapping.rules import cross_table_problems, spec_problems, table_problems
from spinemet_etl.mapping.targets import TARGETS
from spinemet_etl.mapping.yamlfile import Loc, YamlFileError, locate, read_yaml
from spinemet_etl.readers.options import OPTIONS_FOR_KIND

_UNION_TAGS = frozenset([*OPTIONS_FOR_KIND, "ColumnMap", "str"])
_TABLE = TypeAdapter(Table)


@dataclass(frozen=True)
class MappingProblem:
    """One mistake: the file, the 1-based line, the key path, and what is wrong."""

    file: Path
    line: int | None
    key_path: str
    message: str

    def __str__(self) -> str:
        line = f":{self.line}" if self.line is not None else ""
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{self.file}{line}:{key} {self.message}"


def check_mapping_files(files: list[Path]) -> list[MappingProblem]:
    """Every problem in every file, in file order then line order."""
    return [problem for path in files for problem in check_mapping_file(path)[1]]


def check_mapping_file(path: Path) -> tuple[CenterMapping | None, list[MappingProblem]]:
    """The validated mapping (None when invalid) and every problem found in the file."""
    try:
        data, root = read_yaml(path)
    except YamlFileError as exc:
        return None, [MappingProblem(path, exc.line, "", exc.message)]
    if not isinstance(data, dict):
        return None, [MappingProblem(path, 1, "", "a mapping file must be a YAML mapping")]
    found: list[tuple[Loc, str]] = _center_id_problems(path, data)
    mapping: CenterMapping | None = None
    try:
        mapping = CenterMapping.model_validate(data)
    except ValidationError as exc:
        found += _pydantic_problems(exc)
    found += _per_table_problems(path, data)
    if mapping is not None:
        found += cross_table_problems(mapping)
    problems = [_problem(path, root, loc, message) for loc, message in found]
    unique = sorted(set(problems), key=lambda p: (p.line or 0, p.key_path, p.message))
    return (mapping if not unique else None), unique


def _problem(path: Path, root: Any, loc: Loc, message: str) -> MappingProblem:
    line, key_path = locate(root, loc, tags=_UNION_TAGS)
    return MappingProblem(path, line, key_path, message)


def _center_id_problems(path: Path, data: dict[str, Any]) -> list[tuple[Loc, str]]:
    center_id = data.get("center_id")
    if isinstance(center_id, str) and center_id != path.stem:
        return [
            (
                ("center_id",),
                f"`{center_id}` differs from the file name; name the file `{center_id}.yaml` "
                f"or set center_id: {path.stem}",
            )
        ]
    return []


def _pydantic_problems(exc: ValidationError) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = _unknown_key_message(loc)
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "kind")
            message = f"`kind` must be one of {', '.join(OPTIONS_FOR_KIND)}"
        problems.append((loc, message))
    return problems


def _unknown_key_message(loc: Loc) -> str:
    key = loc[-1]
    if len(loc) >= 2 and loc[-2] == "columns":
        return f"`{key}` is not a canonical column (see docs/data-dictionary.md)"
    return f"unknown key `{key}`"


def _per_table_problems(path: Path, data: dict[str, Any]) -> list[tuple[Loc, str]]:
    tables = data.get("tables")
    if not isinstance(tables, list):
        return []
    problems: list[tuple[Loc, str]] = []
    for index, raw in enumerate(tables):
        try:
            table: TableBase = _TABLE.validate_python(raw)
        except ValidationError:
            problems += [
                (("tables", index, *loc), message)
                for loc, message in _column_problems(raw, path.parent)
            ]
            continue
        problems += [
            (("tables", index, *loc), message)
            for loc, message in table_problems(table, path.parent)
        ]
    return problems


def _column_problems(raw: Any, mapping_dir: Path) -> list[tuple[Loc, str]]:
    """The rules of each well-formed column spec of a table that is itself malformed."""
    columns = raw.get("columns") if isinstance(raw, dict) else None
    if not isinstance(columns, dict):
        return []
    problems: list[tuple[Loc, str]] = []
    for name, spec_data in columns.items():
        if name not in TARGETS:
            continue
        try:
            spec = ColumnMap.model_validate(spec_data)
        except ValidationError:
            continue
        problems += spec_problems(("columns", name), spec, TARGETS[name], mapping_dir)
    return problems
