"""Selecting a table's rows and columns: one copy, the same frame as drop-filter-select."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from flows.entrypoints import demo_centers_dir
from spinemet_etl.harmonize import process_center
from spinemet_etl.harmonize.read import ReadCache, _selected
from spinemet_etl.readers.arrow_csv import ArrowRawTable, column_names, to_frame
from spinemet_etl.readers.base import RawTable
from spinemet_etl.synth import write_consortium


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "event": ["basal", "cirugia", " basal ", None],
            "name": ["Ana", "Bo", "Cy", "Di"],
            "kps": ["80", None, "70", "60"],
            "_source_row": [1, 2, 3, 4],
        }
    )


def _raw(kind: str) -> RawTable:
    if kind == "arrow":
        return ArrowRawTable("t", pa.Table.from_pandas(_frame(), preserve_index=False))
    return RawTable("t", _frame())


@pytest.mark.parametrize("kind", ["frame", "arrow"], ids=["frame", "arrow"])
@pytest.mark.parametrize(
    ("where", "columns", "rows"),
    [
        ({}, ["id", "kps", "_source_row"], [0, 1, 2, 3]),
        ({"event": ["basal"]}, ["id", "event", "kps", "_source_row"], [0, 2]),
        ({"event": ["cirugia", None]}, ["kps", "event", "id"], [1, 3]),
    ],
    ids=["no-where", "where-basal", "where-with-blank"],
)
def test_rows_and_columns_are_selected_without_identifiers(
    kind: str, where: dict[str, Any], columns: list[str], rows: list[int]
) -> None:
    table: Any = SimpleNamespace(identifiers=["name"], where=where)
    selected = _selected(_raw(kind), table, columns)
    if isinstance(selected, pa.Table):  # Arrow rows stay Arrow until read_table converts them
        selected = to_frame(selected)
    expected = _frame().loc[rows, columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(selected.reset_index(drop=True), expected, check_exact=True)


@pytest.mark.parametrize("kind", ["frame", "arrow"], ids=["frame", "arrow"])
def test_an_identifier_the_mapping_also_uses_is_still_refused(kind: str) -> None:
    table: Any = SimpleNamespace(identifiers=["name"], where={})
    with pytest.raises(KeyError):
        _selected(_raw(kind), table, ["id", "name"])


def test_arrow_rows_become_a_frame_only_when_asked() -> None:
    raw = ArrowRawTable("t", pa.table({"a": ["1", None]}))
    assert raw._frame is None
    assert raw.frame["a"].tolist() == ["1", None]


def test_an_export_is_let_go_when_its_last_table_has_its_rows() -> None:
    cache = ReadCache({"a.csv": 2, "b.csv": 1})
    cache.tables = {("a.csv", "csv"): [], ("b.csv", "csv"): [], ("b.csv", "redcap"): []}
    assert not cache.taken("a.csv")
    assert cache.taken("b.csv")
    assert list(cache.tables) == [("a.csv", "csv")]  # a second table still reads a.csv
    assert cache.taken("a.csv")
    assert cache.tables == {}
    assert not cache.taken("c.csv")  # a file no count was given for is never let go here


def test_the_last_table_of_an_export_copies_its_rows_from_its_own_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spinemet_etl.harmonize import read

    write_consortium(tmp_path, n_patients=40, seed=5)
    held: list[tuple[list[str], list[str]]] = []
    select = read._selected

    def watched(raw: RawTable, table: Any, selected: list[str]) -> Any:
        assert isinstance(raw, ArrowRawTable)
        held.append((raw.rows.column_names, column_names(raw)))
        return select(raw, table, selected)

    monkeypatch.setattr(read, "_selected", watched)
    mapping = demo_centers_dir() / "barcelona.yaml"
    result = process_center(mapping, tmp_path, run_id="r", key="k")
    (first, names), (second, _), (last, last_names) = held  # basal, cirugia, seguimiento
    assert first == second and "fecha_cirugia" in first and "sexo" in first
    assert "fecha_visita" in last and "fecha_cirugia" not in last and "sexo" not in last
    assert len(last) < len(first) and last_names == names  # the export's names unchanged
    assert len(result.patients) > 0


def test_tables_with_the_same_options_share_a_workbooks_sheets() -> None:
    from spinemet_etl.harmonize.read import file_sheets
    from spinemet_etl.readers.options import XlsxOptions

    titled, plain = XlsxOptions(header_row=3), XlsxOptions()
    tables: list[Any] = [
        SimpleNamespace(sheet="B", read=titled),
        SimpleNamespace(sheet="A", read=titled),
        SimpleNamespace(sheet="C", read=plain),
        SimpleNamespace(sheet=None, read=titled),
        SimpleNamespace(sheet="B", read=titled),
    ]
    exports: list[Any] = [[SimpleNamespace(name="w.xlsx")]] * len(tables)
    assert file_sheets(tables, exports) == {
        ("w.xlsx", titled.model_dump_json()): ["B", "A"],
        ("w.xlsx", plain.model_dump_json()): ["C"],
    }


def test_the_records_are_let_go_once_they_are_canonical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weakref

    from spinemet_etl.harmonize import process

    write_consortium(tmp_path, n_patients=40, seed=5)
    records: list[weakref.ref[pd.DataFrame]] = []
    canonical, check = process._canonical, process.schema_reasons

    def converting(frame: pd.DataFrame, *args: Any) -> Any:
        records.append(weakref.ref(frame))
        return canonical(frame, *args)

    def checking(frame: pd.DataFrame) -> Any:
        assert records and records[0]() is None  # not held beside the canonical frame
        return check(frame)

    monkeypatch.setattr(process, "_canonical", converting)
    monkeypatch.setattr(process, "schema_reasons", checking)
    result = process_center(demo_centers_dir() / "boston.yaml", tmp_path, run_id="r", key="k")
    assert len(result.patients) > 0


@pytest.mark.parametrize(
    "wanted",
    [["basal"], ["1"], [1], ["cirugia", None], [None], ["Basal"], ["x"]],
    ids=["text", "code", "number", "with-blank", "blank-only", "case", "absent"],
)
def test_arrow_rows_are_kept_as_the_frames_rows_are(wanted: list[Any]) -> None:
    from spinemet_etl.harmonize.read import _arrow_row_mask, _row_mask

    events = ["basal", " basal ", "1.0", "1", "01", None, "cirugia", "Basal", "1.00", None]
    arrow = pa.chunked_array([events[:4], events[4:]], pa.string())  # two chunks
    table: Any = SimpleNamespace(where={"event": wanted})
    expected = _row_mask(pd.DataFrame({"event": pd.Series(events, dtype=object)}), table)
    found = _arrow_row_mask(pa.table({"event": arrow}), table)
    assert found.tolist() == expected.tolist()
    if wanted == ["basal"]:
        assert np.flatnonzero(found).tolist() == [0, 1]
    if wanted == ["1"]:
        assert np.flatnonzero(found).tolist() == [2, 3, 8]  # "01" is not the code 1
