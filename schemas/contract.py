"""Everything derived from the pandera models: Arrow schemas, metadata, the data dictionary."""

from __future__ import annotations

import argparse
import functools
from importlib.metadata import version
from pathlib import Path

import pandera.pandas as pa
import pyarrow as pa_arrow

from schemas.codes import CHECK_CODES, CROSS_FIELD_RULES, SCHEMA_VERSION
from schemas.endpoints import EndpointsModel
from schemas.patients import PatientsModel
from schemas.quarantine import QuarantineModel

PACKAGE_VERSION = version("spinemet-etl")

_ARROW_TYPES: dict[str, pa_arrow.DataType] = {
    "str": pa_arrow.string(),
    "string": pa_arrow.string(),
    "object": pa_arrow.string(),
    "Int64": pa_arrow.int64(),
    "int64": pa_arrow.int64(),
    "Int16": pa_arrow.int16(),
    "float64": pa_arrow.float64(),
    "bool": pa_arrow.bool_(),
    "boolean": pa_arrow.bool_(),
    "category": pa_arrow.dictionary(pa_arrow.int32(), pa_arrow.string()),
    "date32": pa_arrow.date32(),
}
_CONTRACT_TYPES = {
    "str": "string", "string": "string", "object": "string", "Int64": "int64",
    "int64": "int64", "Int16": "int16", "float64": "float64", "bool": "boolean",
    "boolean": "boolean", "category": "category", "date32": "date32",
}  # fmt: skip


def _dtype_name(column: pa.Column) -> str:
    if (column.metadata or {}).get("arrow_type"):
        return str(column.metadata["arrow_type"])
    return str(column.dtype)


def _categories(column: pa.Column) -> list[str] | None:
    for check in column.checks:
        if check.name == "isin":
            return [str(value) for value in check.statistics["allowed_values"]]
    return None


def _ordered(column: pa.Column) -> bool:
    return bool(getattr(column.dtype.type, "ordered", False))


def contract_type(column: pa.Column) -> str:
    """The spec's name for a column's type (`string`, `int16`, `category (ordered)`, ...)."""
    name = _CONTRACT_TYPES[_dtype_name(column)]
    return "category (ordered)" if name == "category" and _ordered(column) else name


@functools.cache
def arrow_schema(model: type[pa.DataFrameModel]) -> pa_arrow.Schema:
    """The Arrow schema a model's table is written with, descriptions in field metadata."""
    fields = []
    for name, column in model.to_schema().columns.items():
        meta = {"description": column.description or ""}
        arrow_type = _ARROW_TYPES[_dtype_name(column)]
        if _ordered(column):
            arrow_type = pa_arrow.dictionary(pa_arrow.int32(), pa_arrow.string(), ordered=True)
        fields.append(pa_arrow.field(name, arrow_type, nullable=column.nullable, metadata=meta))
    return pa_arrow.schema(fields)


def file_metadata(run_id: str) -> dict[str, str]:
    """The key-value metadata every Parquet file of the pipeline carries."""
    return {
        "spinemet.schema_version": SCHEMA_VERSION,
        "spinemet.run_id": run_id,
        "spinemet.package_version": PACKAGE_VERSION,
    }


def patients_arrow_schema() -> pa_arrow.Schema:
    return arrow_schema(PatientsModel)


def quarantine_arrow_schema() -> pa_arrow.Schema:
    return arrow_schema(QuarantineModel)


def endpoints_arrow_schema() -> pa_arrow.Schema:
    return arrow_schema(EndpointsModel)


def _rule(column: pa.Column) -> str:
    parts = []
    for check in column.checks:
        stats = check.statistics
        if check.name == "isin":
            parts.append("one of " + ", ".join(f"`{v}`" for v in stats["allowed_values"]))
        elif check.name == "greater_than_or_equal_to":
            parts.append(f"≥ {stats['min_value']}")
        elif check.name == "less_than_or_equal_to":
            parts.append(f"≤ {stats['max_value']}")
        elif check.name == "multiple_of_10":
            parts.append("a multiple of 10")
        elif check.name == "str_matches":
            parts.append(f"matches `{stats['pattern']}`")
    return "; ".join(str(p).replace(" 00:00:00", "") for p in parts)


def _table(model: type[pa.DataFrameModel]) -> list[str]:
    schema = model.to_schema()
    lines = [
        (model.__doc__ or "").strip().splitlines()[0],
        "",
        "| column | type | nullable | rule | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, column in schema.columns.items():
        nullable = "yes" if column.nullable else "no"
        lines.append(
            f"| `{name}` | {contract_type(column)} | {nullable} | {_rule(column)} "
            f"| {column.description} |"
        )
    return lines


def data_dictionary_markdown() -> str:
    """The data dictionary of docs/data-dictionary.md, generated from the models."""
    lines = [
        f"# Data dictionary (schema version {SCHEMA_VERSION})",
        "",
        "Generated from the pandera models in `schemas/` by `make docs`; do not edit by hand.",
        "A test fails when this file is stale.",
        "",
    ]
    for title, model in (
        ("patients", PatientsModel),
        ("quarantine", QuarantineModel),
        ("endpoints", EndpointsModel),
    ):
        lines += [f"## `{title}`", "", *_table(model), ""]
    lines += ["## Check codes", "", "| code | kind | meaning |", "| --- | --- | --- |"]
    for code, meaning in CHECK_CODES.items():
        kind = "cross-field rule" if code in CROSS_FIELD_RULES else "value check"
        lines.append(f"| `{code}` | {kind} | {meaning} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the generated data dictionary.")
    parser.add_argument("--write", type=Path, required=True, help="markdown file to write")
    args = parser.parse_args()
    args.write.write_text(data_dictionary_markdown(), encoding="utf-8")


if __name__ == "__main__":
    main()
