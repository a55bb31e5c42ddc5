"""The cheap read check: a partition breaking any checked rule is refused with its name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from schemas.contract import patients_arrow_schema
from spinemet_etl.endpoints.io import REPORT_COLUMNS, read_patients
from spinemet_etl.endpoints.partitions import PartitionError

Build = Callable[[pd.DataFrame], pd.DataFrame]
Break = Callable[[pa.Table], pa.Table]


def _valid_table(make_patients: Build) -> pa.Table:
    patients = make_patients(pd.DataFrame({
        "center_id": ["aa", "aa", "aa"], "procedure": ["en_bloc", "palliative", "curettage"],
        "days": [5, 50, 500], "dead": [1, 0, 1], "vas_pre": [7.0, None, 3.0],
        "vas_post": [2.0, None, 3.0], "frankel_pre": ["A", None, "E"],
    }))  # fmt: skip
    schema = pa.schema([field for field in patients_arrow_schema() if field.name != "center_id"])
    return pa.Table.from_pandas(
        patients.drop(columns="center_id"), schema=schema, preserve_index=False
    )


def _write(table: pa.Table, root: Path, center: str = "aa") -> None:
    folder = root / "harmonized" / "patients" / f"center_id={center}"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "part-0.parquet")


def _replace(name: str, values: list[object], type_: pa.DataType | None = None) -> Break:
    def apply(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index(name)
        field = table.schema.field(name)
        array = pa.array(values, type=type_ or field.type)
        return table.set_column(index, pa.field(name, array.type, nullable=True), array)

    return apply


def _category(name: str, values: list[str]) -> Break:
    def apply(table: pa.Table) -> pa.Table:
        array = pc.cast(pa.array(values), table.schema.field(name).type)
        index = table.schema.get_field_index(name)
        return table.set_column(index, table.schema.field(name), array)

    return apply


def _drop(name: str) -> Break:
    return lambda table: table.drop_columns([name])


def _extra(table: pa.Table) -> pa.Table:
    return table.append_column("mrn", pa.array(["1", "2", "3"]))


def _swap(table: pa.Table) -> pa.Table:
    names = table.column_names
    names[0], names[1] = names[1], names[0]
    return table.select(names)


BREAKS = [
    ("missing column", _drop("os_months"), "missing ['os_months']"),
    ("foreign column", _extra, "unexpected ['mrn']"),
    ("columns out of order", _swap, "out of order"),
    ("wrong type", _replace("os_months", ["1", "2", "3"], pa.string()), "os_months is string"),
    ("float32", _replace("os_months", [1.0, 2.0, 3.0], pa.float32()), "os_months is float"),
    ("null where none allowed", _replace("os_months", [1.0, None, 3.0]), "os_months has 1 missing"),
    ("NaN", _replace("vas_pain_preop", [1.0, float("nan"), None]), "vas_pain_preop holds NaN"),
    ("category outside the model", _category("procedure", ["laminectomy"] * 3), "laminectomy"),
    ("below the minimum", _replace("os_months", [1.0, -2.0, 3.0]), "os_months has -2.0 below"),
    ("above the maximum", _replace("age_at_surgery_years", [61.0, 150.0, 1.0]), "150.0 above"),
    ("nullable above maximum", _replace("tomita", [11, None, 5]), "tomita has 11 above"),
    (
        "date before 1990",
        _replace("surgery_date", [pd.Timestamp("1980-05-01").date()] * 3),
        "surgery_date has 1980-05-01 below",
    ),
]


@pytest.mark.parametrize(("broken", "message"), [b[1:] for b in BREAKS], ids=[b[0] for b in BREAKS])
def test_a_broken_partition_is_refused_naming_center_and_file(
    make_patients: Build, tmp_path: Path, broken: Break, message: str
) -> None:
    _write(broken(_valid_table(make_patients)), tmp_path)
    with pytest.raises(PartitionError, match=r"center aa, file .*part-0\.parquet") as error:
        read_patients(tmp_path, columns=REPORT_COLUMNS)
    assert message in str(error.value)
    assert error.value.code == "partition-invalid"


def test_a_folder_that_is_no_center_slug_is_refused(make_patients: Build, tmp_path: Path) -> None:
    _write(_valid_table(make_patients), tmp_path, center="Not-A-Slug")
    with pytest.raises(PartitionError, match="not a valid slug"):
        read_patients(tmp_path, columns=REPORT_COLUMNS)


def test_unchecked_reads_skip_the_checks(make_patients: Build, tmp_path: Path) -> None:
    _write(_replace("os_months", [1.0, -2.0, 3.0])(_valid_table(make_patients)), tmp_path)
    read = read_patients(tmp_path, columns=["center_id", "os_months"], validate=False)
    assert read["os_months"].tolist() == [1.0, -2.0, 3.0]


def test_the_valid_partition_passes(make_patients: Build, tmp_path: Path) -> None:
    _write(_valid_table(make_patients), tmp_path)
    read = read_patients(tmp_path, columns=REPORT_COLUMNS)
    assert read["vas_pain_preop"].isna().tolist() == [False, True, False]
    assert read["frankel_preop"].cat.ordered
