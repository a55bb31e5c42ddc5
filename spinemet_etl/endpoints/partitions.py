"""Cheap checks that a published patients partition is the contract's: schema, nulls, values."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.contract import patients_arrow_schema
from schemas.patients import CENTER_ID_PATTERN, PatientsModel
from spinemet_etl.errors import SpinemetError


class PartitionError(SpinemetError):
    """A published patients partition that is not what the pipeline writes."""

    code = "partition-invalid"


@dataclass(frozen=True)
class ColumnRule:
    """What the endpoints rely on in one column: no nulls, allowed categories, bounds."""

    nullable: bool
    categories: tuple[str, ...] | None
    minimum: Any
    maximum: Any


def _bound(value: Any) -> Any:
    """A model bound as Arrow compares it (dates as `datetime.date`)."""
    return value.date() if isinstance(value, pd.Timestamp) else value


@functools.cache
def column_rules() -> dict[str, ColumnRule]:
    """The rules of every PatientsModel column that a partition's Arrow data can show."""
    rules = {}
    for name, column in PatientsModel.to_schema().columns.items():
        stats = {check.name: check.statistics for check in column.checks}
        allowed = stats.get("isin", {}).get("allowed_values")
        rules[name] = ColumnRule(
            nullable=bool(column.nullable),
            categories=None if allowed is None else tuple(str(v) for v in allowed),
            minimum=_bound(stats.get("greater_than_or_equal_to", {}).get("min_value")),
            maximum=_bound(stats.get("less_than_or_equal_to", {}).get("max_value")),
        )
    return rules


def _where(path: Path) -> str:
    return f"center {path.parent.name.split('=', 1)[-1]}, file {path}"


def _fail(path: Path, problem: str) -> PartitionError:
    return PartitionError(
        f"{_where(path)}: {problem}; the partition is not one the pipeline published, so "
        f"re-run `spinemet run --full-refresh` for that center or remove the file."
    )


def check_partition_schema(path: Path, schema: pa.Schema) -> None:
    """The file's columns are the contract's, in order, with the contract's Arrow types.

    Also checks the Hive folder's center id against the model's pattern (the only place
    the center id lives).
    """
    center_id = path.parent.name.split("=", 1)[-1]
    if not re.fullmatch(CENTER_ID_PATTERN, center_id):
        raise _fail(path, f"the folder name gives center id {center_id!r}, not a valid slug")
    expected = [field for field in patients_arrow_schema() if field.name != "center_id"]
    if schema.names != [field.name for field in expected]:
        missing = sorted({f.name for f in expected} - set(schema.names))
        extra = sorted(set(schema.names) - {f.name for f in expected})
        detail = f"missing {missing}, unexpected {extra}" if missing or extra else "out of order"
        raise _fail(path, f"its columns differ from the contract ({detail})")
    for field in expected:
        found = schema.field(field.name).type
        if found != field.type:
            raise _fail(path, f"column {field.name} is {found}, the contract says {field.type}")


def _check_column(path: Path, name: str, values: pa.ChunkedArray, rule: ColumnRule) -> None:
    if not rule.nullable and values.null_count:
        raise _fail(path, f"column {name} has {values.null_count} missing values")
    if pa.types.is_floating(values.type) and pc.any(pc.is_nan(values)).as_py():
        raise _fail(path, f"column {name} holds NaN, which the pipeline writes as missing")
    if rule.categories is not None and pa.types.is_dictionary(values.type):
        allowed = pa.array(rule.categories, pa.string())
        for chunk in values.chunks:
            used = pc.unique(chunk.indices.drop_null())
            words = chunk.dictionary.take(used)
            bad = words.filter(pc.invert(pc.is_in(words, value_set=allowed)))
            if len(bad):
                raise _fail(path, f"column {name} has values outside the model: {bad.to_pylist()}")
    if rule.minimum is None and rule.maximum is None:
        return
    low, high = pc.min_max(values).values()
    if rule.minimum is not None and low.is_valid and low.as_py() < rule.minimum:
        raise _fail(path, f"column {name} has {low.as_py()} below its minimum {rule.minimum}")
    if rule.maximum is not None and high.is_valid and high.as_py() > rule.maximum:
        raise _fail(path, f"column {name} has {high.as_py()} above its maximum {rule.maximum}")


def check_partition_values(path: Path, table: pa.Table) -> None:
    """Vectorized checks of the columns read: no nulls where the model has none, no NaN,
    category values within the model's, numbers and dates within the model's bounds.

    Notes:
        The partitions were fully validated (every PatientsModel rule, row by row) before
        they were published; this pass is what the endpoints rely on and catches a
        foreign or corrupt file at the cost of a few Arrow kernels per column, not a
        second row-by-row validation. Pattern rules of identifier strings, steps of 10
        and the cross-field rules are not re-checked here.
    """
    rules = column_rules()
    for name in table.column_names:
        _check_column(path, name, table.column(name), rules[name])
