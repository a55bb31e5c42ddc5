"""Round trip: a canonical table written as any source kind, in any locale, reads back exactly.

Each example draws a few patients and a way of exporting them (kind, decimal mark,
thousands separator, date format, 1900 or 1904 workbook, serial or date cells, NFC or NFD
text, encoding, blank rows), writes a real file with the library centers use, harmonizes
it, and checks that every patient is published with exactly its values or quarantined
with a reason: never a different value. `SPINEMET_FUZZ_EXAMPLES` scales the examples
(`make fuzz`: a fifth of them per kind).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spinemet_etl.errors import SourceError
from spinemet_etl.harmonize import process_center
from spinemet_etl.pseudonym import pseudonymize

EXAMPLES = max(50, int(os.environ.get("SPINEMET_FUZZ_EXAMPLES", "50")) // 5)
"""Examples per source kind: 50 (200 in all) in the suite, 1,000 each under `make fuzz`."""
ROUND_TRIP = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
KEY = "round-trip-key"
PRIMARY = {"próstata": "prostate", "riñón": "kidney", "pulmón": "lung", "mama": "breast"}
PROCEDURE = {"paliativa": "palliative", "curetaje": "curettage", "resección en bloque": "en_bloc"}
SEX = {"hombre": "male", "mujer": "female"}
STATUS = {"vivo": False, "fallecido": True}
HEADER = ["id", "sexo", "edad", "primario", "eva", "cirugía", "procedimiento", "estado",
          "muerte", "días"]  # fmt: skip
EPOCHS = {1900: datetime(1899, 12, 30), 1904: datetime(1904, 1, 1)}


@dataclass(frozen=True)
class Patient:
    source_id: str
    sex: str
    age_tenths: int
    primary: str
    vas_tenths: int
    surgery: date
    procedure: str
    dead: bool
    follow_days: int


@dataclass(frozen=True)
class Export:
    """How a center writes its export: the file kind and its locale choices."""

    kind: str
    decimal: str
    thousands: str | None
    declare_thousands: bool
    date_format: str
    encoding: str
    nfd: bool
    blank_rows: tuple[int, ...]
    numbers_as_text: bool
    serial_dates: bool
    epoch: int


def _patients() -> st.SearchStrategy[list[Patient]]:
    one = st.builds(
        Patient,
        source_id=st.just(""),
        sex=st.sampled_from(sorted(SEX)),
        age_tenths=st.integers(180, 950),
        primary=st.sampled_from(sorted(PRIMARY)),
        vas_tenths=st.integers(0, 100),
        surgery=st.dates(date(1990, 1, 1), date(2024, 12, 31)),
        procedure=st.sampled_from(sorted(PROCEDURE)),
        dead=st.booleans(),
        follow_days=st.integers(0, 4000),
    )
    return st.lists(one, min_size=1, max_size=4).map(
        lambda found: [
            Patient(f"P{n}", *[getattr(p, f) for f in list(Patient.__dataclass_fields__)[1:]])
            for n, p in enumerate(found, 1)
        ]
    )


@st.composite
def _exports(draw: st.DrawFn, kind: str) -> Export:
    decimal = draw(st.sampled_from([".", ","]))
    thousands = draw(st.sampled_from([None, "," if decimal == "." else ".", "'"]))
    encoding = draw(st.sampled_from(["utf-8", "cp1252"])) if kind == "csv" else "utf-8"
    return Export(
        kind=kind,
        decimal=decimal,
        thousands=thousands,
        declare_thousands=draw(st.booleans()),
        date_format=draw(st.sampled_from(["%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y"])),
        encoding=encoding,
        nfd=encoding == "utf-8" and draw(st.booleans()),
        blank_rows=tuple(draw(st.lists(st.integers(0, 4), max_size=2))),
        numbers_as_text=kind == "csv" or (kind != "sav" and draw(st.booleans())),
        serial_dates=kind in ("xlsx", "xls") and draw(st.booleans()),
        epoch=draw(st.sampled_from([1900, 1904])),
    )


def _number_text(tenths: int, export: Export) -> str:
    whole, fraction = divmod(tenths, 10)
    grouped = f"{whole:,}".replace(",", export.thousands or "")
    return grouped + (f"{export.decimal}{fraction}" if fraction else "")


def _text(term: str, export: Export) -> str:
    return unicodedata.normalize("NFD", term) if export.nfd else term


def _date_cell(day: date, export: Export) -> Any:
    if export.serial_dates:
        return (datetime(day.year, day.month, day.day) - EPOCHS[export.epoch]).days
    if export.numbers_as_text and export.kind != "sav":
        return day.strftime(export.date_format)
    return datetime(day.year, day.month, day.day) if export.kind != "sav" else day


def _number_cell(tenths: int, export: Export) -> Any:
    return _number_text(tenths, export) if export.numbers_as_text else tenths / 10


def _rows(patients: list[Patient], export: Export) -> list[list[Any]]:
    rows = []
    for p in patients:
        death = p.surgery + timedelta(days=p.follow_days) if p.dead else None
        rows.append([
            p.source_id, _text(p.sex, export), _number_cell(p.age_tenths, export),
            _text(p.primary, export), _number_cell(p.vas_tenths, export),
            _date_cell(p.surgery, export), _text(p.procedure, export),
            _text("fallecido" if p.dead else "vivo", export),
            None if death is None else _date_cell(death, export),
            _number_cell(p.follow_days * 10, export),
        ])  # fmt: skip
    for position in sorted(export.blank_rows, reverse=True):
        rows.insert(min(position, len(rows)), [None] * len(HEADER))
    return rows


def _write_csv(path: Path, rows: list[list[Any]], export: Export) -> None:
    sink = io.StringIO()  # fields holding the delimiter (`1,096` in a `,` file) are quoted
    csv.writer(sink, delimiter=_delimiter(export)).writerows([HEADER, *rows])
    path.write_bytes(sink.getvalue().encode(export.encoding))


def _delimiter(export: Export) -> str:
    return ";" if export.decimal == "," else ","


def _write_xlsx(path: Path, rows: list[list[Any]], export: Export) -> None:
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = openpyxl.Workbook()
    if export.epoch == 1904:
        book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    book.save(path)


def _write_xls(path: Path, rows: list[list[Any]], export: Export) -> None:
    import xlwt

    book = xlwt.Workbook()
    book.dates_1904 = export.epoch == 1904
    sheet = book.add_sheet("Datos")
    dates = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for r, row in enumerate([HEADER, *rows]):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(
                    r, c, value, dates if isinstance(value, datetime) else xlwt.Style.default_style
                )
    book.save(str(path))


def _write_sav(path: Path, rows: list[list[Any]], export: Export) -> None:
    import pyreadstat

    frame = pd.DataFrame([row for row in rows if row[0] is not None], columns=HEADER)
    frame = frame.rename(columns={"cirugía": "cirugia", "días": "dias"})
    for column in ("edad", "eva", "dias"):
        frame[column] = frame[column].astype("float64")
    pyreadstat.write_sav(frame, str(path))


def _mapping(export: Export) -> str:
    kind = export.kind
    read = {"csv": f'{{delimiter: "{_delimiter(export)}", encoding: {export.encoding}}}'}.get(
        kind, "{}"
    )
    thousands = export.thousands if export.declare_thousands else None
    surgery, days = ("cirugia", "dias") if kind == "sav" else ("cirugía", "días")
    return "\n".join([
        "center_id: roundtrip", "tables:", "  - name: datos", f"    kind: {kind}",
        f'    files: "export.{kind}"', f"    read: {read}", f'    decimal: "{export.decimal}"',
        *([f"    thousands: \"{thousands}\""] if thousands and thousands != export.decimal else []),
        f'    date_format: "{export.date_format}"',
        f"    excel_serial: {'true' if export.serial_dates else 'false'}",
        "    patient_id: id", "    columns:",
        f"      sex: {{source: sexo, values: {_inline(SEX)}}}",
        "      age_at_surgery_years: edad",
        f"      primary_tumor: {{source: primario, values: {_inline(PRIMARY)}}}",
        "      vas_pain_preop: eva", f'      surgery_date: "{surgery}"',
        f"      procedure: {{source: procedimiento, values: {_inline(PROCEDURE)}}}",
        "      intraop_death: {constant: false}",
        "      vital_status: {source: estado, values: {vivo: alive, fallecido: dead}}",
        "      death_date: muerte",
        f'      last_contact_date: {{source: "{days}", convert: days_since_surgery}}', "",
    ])  # fmt: skip


def _inline(values: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{k}": {v}' for k, v in values.items()) + "}"


WRITERS = {"csv": _write_csv, "xlsx": _write_xlsx, "xls": _write_xls, "sav": _write_sav}


def _expected(p: Patient) -> dict[str, Any]:
    surgery = pd.Timestamp(p.surgery)
    contact = surgery + pd.Timedelta(days=p.follow_days)
    return {
        "sex": SEX[p.sex], "age_at_surgery_years": p.age_tenths / 10,
        "primary_tumor": PRIMARY[p.primary], "vas_pain_preop": p.vas_tenths / 10,
        "surgery_date": surgery, "procedure": PROCEDURE[p.procedure],
        "vital_status": "dead" if p.dead else "alive",
        "death_date": contact if p.dead else pd.NaT, "last_contact_date": contact,
    }  # fmt: skip


def _check(patients: list[Patient], export: Export) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "roundtrip").mkdir()
        WRITERS[export.kind](
            root / "roundtrip" / f"export.{export.kind}", _rows(patients, export), export
        )
        (root / "roundtrip.yaml").write_text(_mapping(export), encoding="utf-8")
        try:
            result = process_center(
                root / "roundtrip.yaml", root / "roundtrip", run_id="rt", key=KEY
            )
        except SourceError as error:
            pytest.fail(f"a well-formed export was refused: {error.message}")
    ids = pseudonymize("roundtrip", pd.Series([p.source_id for p in patients]), KEY).tolist()
    published = result.patients.set_index("patient_id")
    quarantined = set(result.quarantine["patient_id"])
    assert result.files[0].rows_read == len(patients)
    for patient, pid in zip(patients, ids, strict=True):
        assert (pid in quarantined) != (pid in published.index)
        if pid in published.index:
            row = published.loc[pid]
            for column, value in _expected(patient).items():
                assert (pd.isna(row[column]) and pd.isna(value)) or row[column] == value, (
                    column, row[column], value, export
                )  # fmt: skip


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_fuzz_round_trip(kind: str) -> None:
    @ROUND_TRIP
    @given(patients=_patients(), export=_exports(kind))
    def round_trip(patients: list[Patient], export: Export) -> None:
        _check(patients, export)

    round_trip()
