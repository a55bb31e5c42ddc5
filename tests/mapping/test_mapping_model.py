"""The mapping model, its exported JSON Schema, safe loading and shared vocabularies."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from spinemet_etl.errors import MappingError
from spinemet_etl.mapping.loader import load_mapping
from spinemet_etl.mapping.model import CenterMapping, ColumnMap
from spinemet_etl.mapping.schema_export import json_schema_text
from spinemet_etl.mapping.vocabulary import VocabularyError, load_vocabulary

REPO = Path(__file__).resolve().parents[2]


def test_the_exported_json_schema_is_current() -> None:
    written = (REPO / "docs" / "mapping.schema.json").read_text(encoding="utf-8")
    assert written == json_schema_text(), (
        "docs/mapping.schema.json is stale: run "
        "`python -m spinemet_etl.mapping.schema_export --write docs/mapping.schema.json`"
    )


@pytest.mark.parametrize(
    "center", ["bologna", "barcelona", "rotterdam", "muenchen", "boston", "lyon"]
)
def test_demo_mappings_validate_against_the_json_schema(center: str) -> None:
    schema = json.loads((REPO / "docs" / "mapping.schema.json").read_text(encoding="utf-8"))
    data = yaml.safe_load((REPO / "centers" / f"{center}.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    assert load_mapping(REPO / "centers" / f"{center}.yaml").center_id == center


def test_the_json_schema_refuses_an_unknown_key() -> None:
    schema = json.loads(json_schema_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"center_id": "x1", "tables": [], "extra": 1}, schema)


def test_shorthands_expand() -> None:
    mapping = CenterMapping.model_validate(
        {
            "center_id": "demo",
            "tables": [
                {
                    "name": "t", "kind": "csv", "files": "*.csv", "patient_id": "id",
                    "missing": ["NA", -9], "where": {"event": "base"},
                    "columns": {
                        "sex": "Sex", "surgery_date": {"source": "S", "date_format": "%d.%m.%Y"}
                    },
                }
            ],
        }
    )  # fmt: skip
    table = mapping.tables[0]
    assert table.files == ["*.csv"]
    assert table.missing == ["NA", "-9"]
    assert table.where == {"event": ["base"]}
    assert table.mapped()["sex"] == ColumnMap(source="Sex")
    assert table.mapped()["surgery_date"].date_format == ["%d.%m.%Y"]


@pytest.mark.parametrize(
    "spec",
    [{"source": "a", "constant": 1}, {}, {"checkbox": "a", "constant": 1}],
    ids=["two-origins", "no-origin", "checkbox-and-constant"],
)
def test_a_column_spec_needs_exactly_one_origin(spec: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ColumnMap.model_validate(spec)


def test_values_beside_a_vocabulary_are_the_center_s_own_entries() -> None:
    spec = ColumnMap.model_validate({"source": "a", "values": {"M": "female"}, "vocabulary": "sex"})
    assert (spec.values, spec.vocabulary) == ({"M": "female"}, "sex")


def test_yaml_tags_are_never_constructed(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("center_id: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(path)


def test_vocabularies_load_from_yaml_and_csv(tmp_path: Path) -> None:
    folder = tmp_path / "vocabularies"
    folder.mkdir()
    (folder / "a.yaml").write_text('palliative: ["Palliativa ", "debulking"]\n', encoding="utf-8")
    (folder / "b.csv").write_text("term,value\nMamma,breast\nsconosciuto,\n", encoding="utf-8")
    assert load_vocabulary(tmp_path, "a") == {"palliativa": "palliative", "debulking": "palliative"}
    assert load_vocabulary(tmp_path, "b") == {"mamma": "breast", "sconosciuto": None}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('palliative: ["xy"]\ncurettage: ["XY"]\n', "maps to both"),
        ("true: [yes]\n", "quote terms"),
        ("palliative: x\n", "list of source terms"),
    ],
    ids=["conflict", "unquoted-boolean-term", "not-a-list"],
)
def test_a_bad_vocabulary_is_refused(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "vocabularies").mkdir()
    (tmp_path / "vocabularies" / "v.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError, match=words):
        load_vocabulary(tmp_path, "v")


def test_the_shared_vocabularies_cover_every_demo_term() -> None:
    procedures = load_vocabulary(REPO / "centers", "procedure")
    for term, value in [
        ("decompressione e stabilizzazione", "palliative"), ("Debulking", "curettage"),
        ("resección en bloque", "en_bloc"), ("Intraläsionale Kürettage", "curettage"),
        ("spondylectomie totale en bloc", "en_bloc"), ("En bloc spondylectomy", "en_bloc"),
    ]:  # fmt: skip
        assert procedures[term.casefold()] == value
    assert load_vocabulary(REPO / "centers", "yes_no")["sì"] is True
