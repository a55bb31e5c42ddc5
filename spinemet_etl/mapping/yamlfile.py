"""Reading YAML safely while keeping line numbers, to point at the key a mistake is in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

Loc = Sequence[str | int]


class YamlFileError(Exception):
    """The file cannot be read or is not valid YAML; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The file's data (via `yaml.safe_load`, no tags constructed) and its node tree."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlFileError(f"cannot read the file ({type(exc).__name__})", None) from None
    loader = yaml.SafeLoader(text)
    try:  # yaml.safe_load's own steps, keeping the node tree it constructs the data from
        node = loader.get_single_node()
        # Constructing a merge key (`<<`) rewrites its mapping's node: locate needs the file's.
        tree = yaml.compose(text, Loader=yaml.SafeLoader) if "<<" in text else node
        return (None if node is None else loader.construct_document(node)), tree
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlFileError(f"not valid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(f"not valid YAML: {exc}", None) from None
    finally:
        loader.dispose()


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """The (key node, value node) of `part` under `node`, or None when it is not there."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item
    return None


def locate(
    root: yaml.Node | None, loc: Loc, *, tags: frozenset[str] = frozenset()
) -> tuple[int | None, str]:
    """The 1-based line of the key at `loc` and its dotted path (`tables[0].columns.sex`).

    Parts in `tags` (pydantic's names for union members, such as a table's `kind`) are
    skipped when they are not keys of the file; a missing last key points at its parent.
    """
    line = root.start_mark.line + 1 if root is not None else None
    node, path = root, ""
    for index, part in enumerate(loc):
        found = _child(node, part) if node is not None else None
        if found is None:
            if str(part) in tags and index < len(loc) - 1:
                continue
            path = _join(path, part)
            node = None
            continue
        key, node = found
        line = key.start_mark.line + 1
        path = _join(path, part)
    return line, path


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else str(part)
