"""Property: every mapping that `centers check` accepts runs to published, held or a coded failure.

Mappings are drawn within the mapping language's grammar (sources, value maps, constants,
conversions, date formats, missing codes, `where`, joined and visits tables, REDCap record
ids, the death statement, a center's own thresholds) over one small export of each kind.
`SPINEMET_FUZZ_EXAMPLES` sets the examples (default 25; `make fuzz` sets 5000).
"""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyreadstat
import pytest
import xlwt
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spinemet_etl.mapping.check import check_mapping_file
from spinemet_etl.mapping.targets import TARGETS
from spinemet_etl.pipeline import process_center_safely
from spinemet_etl.quality.config import load_quality_config
from spinemet_etl.quality.gate import run_quality_gate
from spinemet_etl.settings import Settings

EXAMPLES = int(os.environ.get("SPINEMET_FUZZ_EXAMPLES", "25"))
QUALITY = load_quality_config(None)
KINDS = ("csv", "tsv", "xlsx", "xls", "sav", "redcap")
D = datetime
ROWS = [  # id, sex, age, tumor, surgery, later, months, flag, code, text
    ["A1", "M", "61,5", "lung", D(2020, 1, 5), D(2021, 2, 1), "12", "0", "1", "palliative"],
    ["A2", "F", "70", "breast", D(2019, 5, 1), D(2019, 9, 9), "3.5", "1", "2", "en_bloc"],
    ["A2", "f", "-9", "spleen", D(2018, 1, 1), D(2017, 1, 1), "", "1", "9", "debulking"],
    ["A4", "X", "<1", "", None, D(2022, 3, 3), "-2", "", "1", "NA"],
]
COLUMNS = ["id", "sex", "age", "tumor", "surgery", "later", "months", "flag", "code", "text"]
DATES = {"surgery", "later"}
VALUES = sorted({str(cell) for row in ROWS for cell in row if not isinstance(cell, datetime)})


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return "" if value is None else str(value)


def _write_rows(path: Path, header: list[str], rows: list[list[str]], delimiter: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])


def _write_delimited(folder: Path, kind: str) -> None:
    rows = [[_text(v) for v in row] for row in ROWS]
    _write_rows(folder / f"export.{kind}", COLUMNS, rows, "\t" if kind == "tsv" else ",")


def _write_xlsx(folder: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in ROWS:
        sheet.append(row)
    book.save(folder / "export.xlsx")


def _write_xls(folder: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    dates = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for column, title in enumerate(COLUMNS):
        sheet.write(0, column, title)
    for number, row in enumerate(ROWS, start=1):
        for column, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write(number, column, value, dates)
            elif value is not None:
                sheet.write(number, column, value)
    book.save(str(folder / "export.xls"))


def _write_sav(folder: Path) -> None:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    for column in ("flag", "code"):
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    for column in DATES:
        frame[column] = frame[column].dt.date.astype(object).where(frame[column].notna(), None)
    pyreadstat.write_sav(
        frame, str(folder / "export.sav"),
        variable_value_labels={"code": {1.0: "lung", 2.0: "breast", 9.0: "unknown"}},
        missing_ranges={"code": [9.0]},
    )  # fmt: skip


REDCAP_DICTIONARY = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note"\n'
    'record_id,base,,text,ID,,\ncode,base,,radio,Code,"1, lung | 2, breast | 9, unknown",\n'
)


def _write_redcap(folder: Path) -> None:
    header = ["record_id", "redcap_event_name", "redcap_repeat_instrument",
              "redcap_repeat_instance", *COLUMNS]  # fmt: skip
    rows = []
    for number, row in enumerate(ROWS, start=1):
        cells = [_text(v) for v in row]
        rows.append([str(number), "base_arm_1", "", "", *cells])
        follow = ["", "", "", "", "", cells[5], cells[6], cells[7], "", ""]
        rows.append([str(number), "fu_arm_1", "visit", "1", *follow])
    _write_rows(folder / "export.csv", header, rows, ",")
    (folder / "dictionary.csv").write_text(REDCAP_DICTIONARY, encoding="utf-8")


WRITERS = {
    "csv": lambda f: _write_delimited(f, "csv"), "tsv": lambda f: _write_delimited(f, "tsv"),
    "xlsx": _write_xlsx, "xls": _write_xls, "sav": _write_sav, "redcap": _write_redcap,
}  # fmt: skip
FILES = {"csv": "*.csv", "tsv": "*.tsv", "xlsx": "*.xlsx", "xls": "*.xls", "sav": "*.sav",
         "redcap": "export.csv"}  # fmt: skip


def _target_values(name: str) -> list[Any]:
    target = TARGETS[name]
    if target.kind == "category":
        return [*target.categories, None]
    if target.kind == "boolean":
        return [True, False, None]
    if target.kind in ("int", "float"):
        return [0, 1, 7, 120, None]
    return [None]


@st.composite
def column_specs(draw: st.DrawFn, name: str, kind: str, source: str) -> Any:
    """One column's spec: `source` with options, a value map, or a constant."""
    target = TARGETS[name]
    choice = draw(st.sampled_from(["bare", "options", "values", "constant"]))
    if choice == "constant" and target.kind != "date":
        return {"constant": draw(st.sampled_from([v for v in _target_values(name) if v is not None]
                                                 or [1]))}  # fmt: skip
    if choice == "bare" and not source.startswith("absent"):
        return source
    spec: dict[str, Any] = {"source": source}
    if choice == "values":
        keys = draw(st.lists(st.sampled_from(VALUES), max_size=4, unique=True))
        spec["values"] = {key: draw(st.sampled_from(_target_values(name))) for key in keys}
    if target.kind == "date":
        convert = draw(st.sampled_from([None, None, "months_since_surgery", "days_since_surgery"]))
        if convert and name != "surgery_date":
            spec["convert"] = convert
        else:
            spec["date_format"] = draw(st.sampled_from(["%Y-%m-%d", "%d/%m/%Y"]))
    if target.kind in ("int", "float") and draw(st.booleans()):
        spec["decimal"] = draw(st.sampled_from([",", "."]))
    if draw(st.booleans()):
        spec["missing"] = draw(st.lists(st.sampled_from(["NA", "-9", "", 9]), max_size=2))
    if kind in ("sav", "redcap") and draw(st.booleans()):
        spec["labels"] = True
    spec["optional"] = source.startswith("absent") or draw(st.booleans())
    return spec


FITTING = {
    "sex": {"source": "sex", "values": {"M": "male", "F": "female"}},
    "age_at_surgery_years": {"source": "age", "decimal": ","},
    "primary_tumor": "tumor",
    "surgery_date": "surgery",
    "procedure": "text",
    "intraop_death": {"constant": False},
    "vital_status": {"source": "flag", "values": {"0": "alive", "1": "dead"}},
    "last_contact_date": "later",
}
"""Columns that fit the export, drawn now and then so that some runs publish (row A1)."""
REQUIRED = ["sex", "age_at_surgery_years", "primary_tumor", "surgery_date", "procedure",
            "intraop_death"]  # fmt: skip
OPTIONAL = ["vas_pain_preop", "kps_preop", "frankel_preop", "visceral_mets"]


@st.composite
def mappings(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A center's mapping over the export of one kind, drawn within the grammar."""
    kind = draw(st.sampled_from(KINDS))
    patient_id = draw(st.sampled_from(["id", "id", "code", "text"]))
    base: dict[str, Any] = {
        "name": "base", "kind": kind, "files": FILES[kind], "patient_id": patient_id
    }  # fmt: skip
    if kind == "redcap":
        base["read"] = {"data_dictionary": "dictionary.csv"}
        if draw(st.booleans()):
            base["record_id"] = "record_id"
    if draw(st.booleans()):
        base["where"] = {"code": draw(st.sampled_from([1, 1.0, "1", [1, 2], None]))}
    if draw(st.booleans()):
        base["missing"] = ["NA"]
    pool = iter(draw(st.permutations([c for c in COLUMNS if c != base["patient_id"]])))
    absent = (f"absent{n}" for n in range(20))

    def spec(name: str) -> Any:
        return draw(column_specs(name, kind, next(pool, None) or next(absent)))

    columns = {name: spec(name) for name in REQUIRED}
    columns.update({name: spec(name) for name in draw(st.sets(st.sampled_from(OPTIONAL)))})
    tables = [base]
    death = draw(st.sampled_from(["status+date", "status+statement", "date", "visits"]))
    if death == "visits":
        visits = {**{k: v for k, v in base.items() if k not in ("name", "where")},
                  "name": "follow", "role": "visits"}  # fmt: skip
        if kind == "redcap":
            visits["instrument"] = "visit"
        months = draw(st.booleans())
        visits["visits"] = {
            "date": {"source": "months", "convert": "months_since_surgery"} if months else "later",
            "dead": {"source": "flag", "values": {"0": False, "1": True}},
        }
        tables.append(visits)
    else:
        columns["last_contact_date"] = spec("last_contact_date")
        if death != "date":
            status = next(pool, None) or next(absent)
            columns["vital_status"] = {"source": status, "values": {"0": "alive", "1": "dead"},
                                       "optional": status.startswith("absent")}  # fmt: skip
        if death == "status+statement":
            columns["vital_status"]["follow_up_ends_at_death"] = True
        else:
            columns["death_date"] = spec("death_date")
    base["columns"] = FITTING if draw(st.integers(0, 3)) == 0 else columns
    mapping: dict[str, Any] = {"center_id": "demo", "tables": tables}
    if draw(st.booleans()):
        mapping["quality"] = {"reason": "drawn", "quarantine": {"max_share": 0.5}}
    return kind, mapping


def _gate(result: Any, previous: Any) -> Any:
    return run_quality_gate(result, previous, QUALITY)


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES, deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)  # fmt: skip
@given(drawn=mappings())
def test_fuzz_every_accepted_mapping_runs_to_a_coded_end(drawn: tuple[str, dict]) -> None:
    kind, mapping = drawn
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "centers").mkdir()
        path = root / "centers" / "demo.yaml"
        path.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
        accepted, problems = check_mapping_file(path)
        if accepted is None:
            assert problems
            event("rejected by centers check", problems[0].message.split("`")[0])
            return
        (root / "landing" / "demo").mkdir(parents=True)
        WRITERS[kind](root / "landing" / "demo")
        run_settings = Settings(landing=root / "landing", centers_dir=root / "centers",
                                data=str(root / "data"))  # fmt: skip
        outcome = process_center_safely(run_settings, "demo", "run-fuzz", gate=_gate)
    event("outcome", outcome.status if outcome.error is None else outcome.error["code"])
    assert outcome.status in ("published", "held", "failed")
    if outcome.status == "failed":
        assert outcome.error is not None and outcome.error["code"] != "internal-error", outcome
