"""Write the mapping language's JSON Schema (docs/mapping.schema.json) for editors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spinemet_etl.mapping.model import mapping_json_schema


def json_schema_text() -> str:
    """The JSON Schema as the text of docs/mapping.schema.json (sorted keys, trailing newline)."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **mapping_json_schema()}
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the mapping files' JSON Schema.")
    parser.add_argument("--write", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args()
    args.write.write_text(json_schema_text(), encoding="utf-8")


if __name__ == "__main__":
    main()
