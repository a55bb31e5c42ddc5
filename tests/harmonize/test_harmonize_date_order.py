"""Day-first and month-first date text: never read in an order the column contradicts.

A `%d/%m/%Y` column from an export that writes `%m/%d/%Y` fails only on the dates whose
day is above 12; `04/05/2020` would read as 4 May, silently. These tests write such
exports and check that each date is read as written, quarantined, or the center refused.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from spinemet_etl.errors import SourceError
from spinemet_etl.harmonize.convert import Failure, compile_rule, convert_value
from spinemet_etl.harmonize.date_order import exchanged
from spinemet_etl.mapping.model import ColumnMap
from spinemet_etl.mapping.targets import TARGETS
from tests.harmonize.harmonize_helpers import reasons, row_of, run, write_mapping

DAY = pd.Timestamp
HEADER = "mrn;sex;age;primary;surgery;procedure;death;follow_up\n"
MAPPING = """\
center_id: demo
tables:
  - name: registry
    kind: csv
    files: "*.csv"
    read: {{delimiter: ";"}}
    date_format: {formats}
    missing: ["12/31/9999"]
    patient_id: mrn
    columns:
      sex: {{source: sex, values: {{m: male, f: female}}}}
      age_at_surgery_years: age
      primary_tumor: primary
      surgery_date: surgery
      procedure: procedure
      intraop_death: {{constant: false}}
      death_date: death
      last_contact_date: {{source: follow_up, convert: days_since_surgery}}
"""


def _center(tmp_path: Path, surgery_dates: list[str], formats: str = '"%d/%m/%Y"') -> Path:
    write_mapping(tmp_path / "centers", MAPPING.format(formats=formats))
    folder = tmp_path / "landing" / "demo"
    folder.mkdir(parents=True)
    rows = "".join(f"E{n};m;60;lung;{day};palliative;;30\n" for n, day in enumerate(surgery_dates))
    (folder / "export.csv").write_text(HEADER + rows)
    return tmp_path / "centers" / "demo.yaml"


def _run(tmp_path: Path, surgery_dates: list[str], formats: str = '"%d/%m/%Y"') -> object:
    return run(_center(tmp_path, surgery_dates, formats), tmp_path / "landing")


DAY_FIRST = [f"{day}/{month}/2020" for month in ("05", "06") for day in range(13, 25)]
"""24 dates that read day-first only: one month-first slip among them is under MIXED_SHARE."""


@pytest.mark.parametrize(
    ("date_format", "expected"),
    [
        ("%d/%m/%Y", "%m/%d/%Y"),
        ("%m.%d.%y", "%d.%m.%y"),
        ("%d-%m-%Y", "%m-%d-%Y"),
        ("%Y-%m-%d", None),
        ("%d %b %Y", None),
        ("%d/%m/%Y %H:%M", None),
    ],
)
def test_the_exchanged_format_swaps_day_and_month_before_the_year(
    date_format: str, expected: str | None
) -> None:
    assert exchanged(date_format) == expected


def _rule(formats: list[str]) -> object:
    return compile_rule(
        ColumnMap.model_validate({"source": "x"}), TARGETS["surgery_date"], "date",
        table_missing=[], table_decimal=".", table_formats=formats,
        table_excel_serial=False, labels=None, user_missing=[], vocabulary=None,
    )  # fmt: skip


@pytest.mark.parametrize("formats", [["%d/%m/%Y", "%m/%d/%Y"], ["%m/%d/%Y", "%d/%m/%Y"]])
def test_two_formats_that_read_one_text_as_two_days_refuse_it(formats: list[str]) -> None:
    rule = _rule(formats)
    with pytest.raises(Failure) as caught:
        convert_value(rule, "04/05/2020")
    assert caught.value.code == "ambiguous-date"
    assert convert_value(rule, "04/25/2020") == datetime(2020, 4, 25)
    assert convert_value(rule, "25/04/2020") == datetime(2020, 4, 25)
    assert convert_value(rule, "05/05/2020") == datetime(2020, 5, 5)


def test_a_four_and_a_two_digit_year_are_not_two_readings() -> None:
    rule = _rule(["%d.%m.%Y", "%d.%m.%y"])
    assert convert_value(rule, "01.02.2020") == datetime(2020, 2, 1)
    assert convert_value(rule, "01.02.20") == datetime(2020, 2, 1)


def test_a_mapping_with_both_orders_quarantines_the_dates_that_read_both_ways(
    tmp_path: Path,
) -> None:
    result = _run(tmp_path, ["04/05/2020", "04/25/2020", "25/04/2020"], '["%d/%m/%Y", "%m/%d/%Y"]')
    assert reasons(result) == [(1, "surgery_date", "ambiguous-date", "04/05/2020")]
    assert row_of(result, "E1")["surgery_date"] == DAY("2020-04-25")
    assert row_of(result, "E2")["surgery_date"] == DAY("2020-04-25")


def test_a_slip_into_month_first_is_quarantined_and_says_how_it_reads(tmp_path: Path) -> None:
    result = _run(tmp_path, [*DAY_FIRST, "04/25/2020", "04/05/2020"])
    assert reasons(result) == [(25, "surgery_date", "unparseable-date", "04/25/2020")]
    assert "reads as `%m/%d/%Y`" in result.quarantine["message"].iloc[0]
    assert row_of(result, "E25")["surgery_date"] == DAY("2020-05-04")  # one slip in 25


def test_a_column_holding_both_orders_refuses_its_dates_that_read_both_ways(
    tmp_path: Path,
) -> None:
    dates = [*DAY_FIRST[:10], "04/25/2020", "04/05/2020", "05/05/2020", "12/31/9999"]
    result = _run(tmp_path, dates)
    assert reasons(result) == [
        (11, "surgery_date", "unparseable-date", "04/25/2020"),
        (12, "surgery_date", "ambiguous-date", "04/05/2020"),
        (14, "surgery_date", "missing-required", None),
    ]
    message = result.quarantine["message"].iloc[1]
    assert "`%d/%m/%Y` and as `%m/%d/%Y`" in message and "in 1 of its rows" in message
    assert row_of(result, "E12")["surgery_date"] == DAY("2020-05-05")  # one day either way
    assert row_of(result, "E0")["surgery_date"] == DAY("2020-05-13")


def test_a_column_whose_dates_are_month_first_refuses_the_center(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        _run(tmp_path, ["04/25/2020", "05/30/2020", "04/05/2020", "13/05/2020"])
    assert caught.value.code == "date-order-contradicted"
    message = caught.value.message
    assert message.startswith("center `demo`, file `export.csv`, column `surgery`: 2 of")
    assert 'state `date_format: "%m/%d/%Y"`' in message


def test_month_first_dates_that_no_order_misreads_are_quarantined_only(tmp_path: Path) -> None:
    result = _run(tmp_path, ["04/25/2020", "05/30/2020", "05/05/2020"])
    assert [reason[2] for reason in reasons(result)] == ["unparseable-date"] * 2
    assert row_of(result, "E2")["surgery_date"] == DAY("2020-05-05")


def test_date_cells_carry_their_day_whatever_the_text_beside_them(tmp_path: Path) -> None:
    write_mapping(
        tmp_path / "centers",
        MAPPING.format(formats='"%d/%m/%Y"')
        .replace("kind: csv", "kind: xlsx")
        .replace('"*.csv"', '"*.xlsx"')
        .replace('    read: {delimiter: ";"}\n', ""),
    )
    folder = tmp_path / "landing" / "demo"
    folder.mkdir(parents=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(";"))
    for n, surgery in enumerate([datetime(2020, 4, 5), datetime(2020, 3, 2), "04/25/2020"]):
        sheet.append([f"E{n}", "m", 60, "lung", surgery, "palliative", None, 30])
    sheet.append(["E3", "m", 60, "lung", "13/05/2020", "palliative", None, 30])
    book.save(folder / "registry.xlsx")
    result = run(tmp_path / "centers" / "demo.yaml", tmp_path / "landing")
    assert [reason[:3] for reason in reasons(result)] == [(3, "surgery_date", "unparseable-date")]
    assert row_of(result, "E3")["surgery_date"] == DAY("2020-05-13")
    assert row_of(result, "E0")["surgery_date"] == DAY("2020-04-05")
    assert row_of(result, "E1")["surgery_date"] == DAY("2020-03-02")


def test_a_date_that_no_order_reads_is_no_evidence(tmp_path: Path) -> None:
    result = _run(tmp_path, ["02/30/2020", "31/31/2020", "04/05/2020", "13/05/2020"])
    assert [reason[2] for reason in reasons(result)] == ["unparseable-date"] * 2
    assert "reads as" not in " ".join(result.quarantine["message"])
    assert row_of(result, "E2")["surgery_date"] == DAY("2020-05-04")


def test_every_stated_format_is_weighed_and_named_in_its_messages(tmp_path: Path) -> None:
    dates = ["13.05.2020", "04.25.20", "04.05.20", "14.05.2020"]
    result = _run(tmp_path, dates, '["%d.%m.%Y", "%d.%m.%y"]')
    assert reasons(result) == [
        (2, "surgery_date", "unparseable-date", "04.25.20"),
        (3, "surgery_date", "ambiguous-date", "04.05.20"),
    ]
    first, second = result.quarantine["message"]
    assert first.endswith("(it reads as `%m.%d.%y`, the day and month exchanged)")
    assert "it reads as `%d.%m.%y` and as `%m.%d.%y`" in second
