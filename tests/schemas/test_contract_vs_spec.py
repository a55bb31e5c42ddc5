"""The pandera models agree with the contract's tables in docs/contract/canonical-schema.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.codes import CHECK_CODES, CROSS_FIELD_RULES
from schemas.contract import contract_type, data_dictionary_markdown
from schemas.endpoints import EndpointsModel
from schemas.patients import PatientsModel
from schemas.quarantine import QuarantineModel

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "docs" / "contract"


def _markdown_rows(text: str, first_header: str) -> list[list[str]]:
    """Rows of every markdown table whose first header cell is `first_header`."""
    rows, inside = [], False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            inside = True
        elif inside and line.startswith("|") and not set(cells[0]) <= {"-", " "}:
            rows.append(cells)
        elif not line.startswith("|"):
            inside = False
    return rows


@pytest.fixture(scope="module")
def spec_columns() -> dict[str, list[str]]:
    text = (SPEC / "canonical-schema.md").read_text(encoding="utf-8")
    return {row[0].strip("`"): row[1:] for row in _markdown_rows(text, "column")}


def test_column_list_and_order_match_the_spec(spec_columns: dict[str, list[str]]) -> None:
    assert list(PatientsModel.to_schema().columns) == list(spec_columns)


def _spec_type_and_nullable(cells: list[str]) -> tuple[str, bool]:
    if len(cells) == 2:  # derived columns: "type | rule", nullability inside the type
        spec_type, _, flag = cells[0].partition(",")
        return spec_type.strip(), flag.strip() == "nullable"
    return cells[0], cells[1] == "yes"


def test_types_and_nullability_match_the_spec(spec_columns: dict[str, list[str]]) -> None:
    columns = PatientsModel.to_schema().columns
    mismatches = {
        name: (
            _spec_type_and_nullable(cells),
            (contract_type(columns[name]), columns[name].nullable),
        )
        for name, cells in spec_columns.items()
        if _spec_type_and_nullable(cells) != (contract_type(columns[name]), columns[name].nullable)
    }
    assert mismatches == {}


def test_category_sets_match_the_spec(spec_columns: dict[str, list[str]]) -> None:
    columns = PatientsModel.to_schema().columns
    checked = 0
    for name, cells in spec_columns.items():
        if not cells[0].startswith("category"):
            continue
        rule = re.sub(r"\(.*?\)", "", cells[-1])
        listed = re.findall(r"`([^`]+)`", rule)
        if name.startswith("frankel_postop"):
            listed = re.findall(r"`([^`]+)`", spec_columns["frankel_preop"][-1])
        model_categories = columns[name].dtype.type.categories.tolist()
        assert model_categories == listed, name
        checked += 1
    assert checked == 9


def test_cross_field_rule_codes_match_the_spec() -> None:
    text = (SPEC / "canonical-schema.md").read_text(encoding="utf-8")
    spec_codes = [row[0].strip("`") for row in _markdown_rows(text, "code")]
    assert spec_codes == list(CROSS_FIELD_RULES)
    model_codes = [check.error for check in PatientsModel.to_schema().checks]
    assert model_codes == spec_codes


def test_value_codes_named_by_the_spec_exist() -> None:
    for code in ("out-of-range", "not-in-categories", "unparseable-date", "missing-required"):
        assert code in CHECK_CODES


@pytest.mark.parametrize(
    ("model", "spec_file", "first_header"),
    [(EndpointsModel, "endpoints.md", "column")],
    ids=["endpoints"],
)
def test_endpoint_table_columns_match_the_spec(
    model: type, spec_file: str, first_header: str
) -> None:
    text = (SPEC / spec_file).read_text(encoding="utf-8")
    names: list[str] = []
    for row in _markdown_rows(text, first_header):
        names += [n.strip().strip("`") for n in row[0].split(",")]
    assert list(model.to_schema().columns) == names


def test_quarantine_columns_match_the_spec() -> None:
    text = (SPEC / "canonical-schema.md").read_text(encoding="utf-8")
    section = text.split("## Quarantine table", 1)[1].split("##", 1)[0]
    listed = re.findall(r"`([a-z_0-9]+)`", section.split("Columns:", 1)[1].split("Every", 1)[0])
    assert list(QuarantineModel.to_schema().columns) == listed


def test_generated_data_dictionary_is_current() -> None:
    committed = (REPO / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == data_dictionary_markdown(), "run `make docs` and commit the result"
