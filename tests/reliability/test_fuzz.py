"""Property-based fuzzing of the readers and the harmonizer (brief by default, long in `make fuzz`).

`SPINEMET_FUZZ_EXAMPLES` sets the examples per reader test (default 50; `make fuzz` sets
5000); the harmonizer, about a hundred times slower per example, gets a fifth of them.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spinemet_etl.errors import SourceError
from spinemet_etl.harmonize import process_center
from spinemet_etl.readers.registry import reader_for
from spinemet_etl.synth import write_consortium
from tests.hostile import make_corpus as corpus
from tests.reliability.helpers import copy_centers

EXAMPLES = int(os.environ.get("SPINEMET_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
FUZZ_HARMONIZER = settings(FUZZ, max_examples=max(5, EXAMPLES // 5))
MARKER = "Fuzzmark"
TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)


def _read(kind: str, data: bytes, name: str, options: Any = None) -> None:
    """Read `data` as a file of `kind`: a table or a SourceError, never anything else."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            tables = reader_for(kind, "fuzz").read(path, name, options)
        except SourceError as error:
            assert error.message.startswith(f"center `fuzz`, file `{name}`")
            return
        for table in tables:
            assert list(table.frame.columns[-3:]) == ["_source_file", "_sheet", "_source_row"]


def _sample(kind: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sample.{kind}"
        rows: list[list[object]] = [["mrn", "age"], ["Z1", 50], ["Z2", 60.5]]
        if kind == "xlsx":
            corpus.write_xlsx(path, "Data", sheet_part=corpus.sheet_xml(rows))
        elif kind == "sav":
            corpus.lying_sav(path, declared_cases=3)
        else:
            import xlwt

            book = xlwt.Workbook()
            sheet = book.add_sheet("Data")
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    sheet.write(r, c, value)
            book.save(str(path))
        return path.read_bytes()


SAMPLES = {kind: _sample(kind) for kind in ("xlsx", "sav", "xls")}


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """The bytes with a few bytes overwritten, a slice dropped, or cut off."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        start = draw(st.integers(0, len(data)))
        del data[start : start + draw(st.integers(0, 64))]
    return bytes(data[: draw(st.integers(1, len(data)))])


@FUZZ
@given(
    data=st.binary(max_size=2000) | TEXT.map(lambda t: t.encode("utf-8")),
    encoding=st.sampled_from(["utf-8", "cp1252", "latin-1"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_fuzz_csv_reader(data: bytes, encoding: str, delimiter: str) -> None:
    _read("csv", data, "export.csv", {"encoding": encoding, "delimiter": delimiter})


@pytest.mark.parametrize("kind", ["xlsx", "sav", "xls"], ids=["xlsx", "sav", "xls"])
def test_fuzz_binary_readers(kind: str) -> None:
    @FUZZ
    @given(data=mutated(SAMPLES[kind]))
    def read_mutated(data: bytes) -> None:
        _read(kind, data, f"export.{kind}")

    read_mutated()


@pytest.fixture(scope="module")
def boston(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fuzz")
    write_consortium(root / "landing", n_patients=30, seed=8, dirt_rate=0.0)
    text = (root / "landing" / "boston" / "spine_mets_registry.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    return {"centers": copy_centers(root / "centers", ["boston"]), "rows": rows[:4]}


def _csv_text(rows: list[list[str]]) -> str:
    sink = io.StringIO()  # the default CRLF line end: fields holding CR or LF get quoted
    csv.writer(sink).writerows(rows)
    return sink.getvalue()


def test_fuzz_harmonizer(boston: dict[str, Any]) -> None:
    """Any cell values: every row accounted for and no identifier in the output, or SourceError."""
    header, *rows = boston["rows"]
    identifying = [header.index(c) for c in ("first_name", "last_name", "address", "phone")]

    @FUZZ_HARMONIZER
    @given(st.data())
    def harmonize(data: st.DataObject) -> None:
        fuzzed = [list(row) for row in rows]
        for row in fuzzed:
            for index in identifying:
                row[index] = f"{row[index]}{MARKER}"
            for _ in range(data.draw(st.integers(0, 6))):
                column = data.draw(st.integers(0, len(header) - 1))
                if column not in identifying:
                    row[column] = data.draw(TEXT.filter(lambda t: "\x00" not in t))
        with tempfile.TemporaryDirectory() as folder:
            landing = Path(folder) / "boston"
            landing.mkdir()
            (landing / "spine_mets_registry.csv").write_bytes(
                _csv_text([header, *fuzzed]).encode("utf-8")
            )
            try:
                result = process_center(
                    boston["centers"] / "boston.yaml", landing, run_id="fuzz", key="k"
                )
            except SourceError:
                return
        stats = result.files[0]
        assert stats.rows_read == len(rows)
        assert stats.rows_read == stats.rows_harmonized + stats.rows_quarantined
        assert len(result.patients) == stats.rows_harmonized
        everything = pd.concat([result.patients.astype(str), result.quarantine.astype(str)])
        assert MARKER not in everything.to_csv()

    harmonize()
