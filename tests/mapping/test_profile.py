"""The profiler's pieces on tiny inputs: column kinds, headers, encodings, labels, synonyms."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spinemet_etl.mapping.compare import matching_fields
from spinemet_etl.mapping.draft import files_pattern
from spinemet_etl.mapping.draft_specs import boolean_spec
from spinemet_etl.mapping.profile import ColumnProfile, profile_column
from spinemet_etl.mapping.profile_center import profile_center
from spinemet_etl.mapping.profile_read import find_sources, sniff_text
from spinemet_etl.mapping.synonyms import duration_unit, fold, is_identifier_like, match_header

REPO_CENTERS = Path(__file__).resolve().parents[2] / "centers"


@pytest.mark.parametrize(
    ("values", "kind", "formats", "decimal"),
    [
        (["7,5", "6", "8,5", None], "number", [], ","),
        (["7.5", "6", "n.d."], "number", [], "."),
        (["12", "7", "0"], "integer", [], None),
        (["31.12.2020", "01.02.2021"], "date", ["%d.%m.%Y"], None),
        (["01/02/2021", "03/04/2021"], "date", ["%d/%m/%Y", "%m/%d/%Y"], None),
        (["palliativa", "en bloc"], "text", [], None),
        ([None, " "], "empty", [], None),
    ],
    ids=[
        "decimal-comma",
        "decimal-point",
        "integer",
        "german-date",
        "ambiguous-date",
        "text",
        "empty",
    ],
)
def test_profile_column_kinds(
    values: list[str | None], kind: str, formats: list[str], decimal: str | None
) -> None:
    profile = profile_column("c", pd.Series(values, dtype=object), identifier=False,
                             missing_codes=frozenset({"n.d."}))  # fmt: skip
    assert (profile.kind, profile.date_formats, profile.decimal) == (kind, formats, decimal)


def test_profile_column_counts_fill_and_values_but_never_an_identifiers() -> None:
    values = pd.Series(["Rossi", "Bianchi", "Rossi", "NA", None], dtype=object)
    plain = profile_column("c", values, identifier=False, missing_codes=frozenset({"NA"}))
    assert (plain.rows, plain.filled, plain.missing_codes) == (5, 3, ["NA"])
    assert plain.values == [("Rossi", 2), ("Bianchi", 1), ("NA", 1)]
    hidden = profile_column("Cognome", values, identifier=True)
    assert (hidden.values, hidden.distinct) == ([], 3)


def test_date_text_no_one_format_reads_counts_what_each_reads() -> None:
    values = pd.Series(["13/01/2020", "14/02/2020", "04/25/2020", "01/02/2020"], dtype=object)
    profile = profile_column("Data", values, identifier=False)
    assert (profile.kind, profile.date_formats) == ("date", [])
    assert (profile.date_reads, profile.date_texts) == ([("%d/%m/%Y", 3), ("%m/%d/%Y", 2)], 4)
    cells = pd.Series([pd.Timestamp("2020-01-02"), pd.Timestamp("2020-03-04")])
    assert profile_column("Data", cells, identifier=False).date_reads == []
    a_bad_day = pd.Series(["12/03/2019", "04/07/2020", "31/02/2021"], dtype=object)
    assert profile_column("Data", a_bad_day, identifier=False).date_reads == []  # no format


def test_whole_numbers_in_a_date_column_are_excel_serial_dates() -> None:
    values = pd.Series([pd.Timestamp("2020-01-02"), pd.Timestamp("2020-03-04"), 43_900.0])
    assert profile_column("Date", values, identifier=False).excel_serial


def test_a_workbook_header_below_title_rows_is_found(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Pazienti"
    sheet.append(["Registro (dati sintetici)"])
    sheet.merge_cells("A1:C1")
    sheet.append(["export del 2026-11-30"])
    sheet.append(["N. cartella", "Sesso", "KPS"])
    sheet.append(["A1", "M", 80])
    sheet.append(["A2", "F", 70])
    (tmp_path / "c").mkdir()
    book.save(tmp_path / "c" / "registro.xlsx")
    [table] = profile_center(tmp_path / "c", "c").tables
    assert table.source.read == {"header_row_by_sheet": {"Pazienti": 3}}
    assert [c.name for c in table.columns] == ["N. cartella", "Sesso", "KPS"]
    assert table.column("Sesso").values == [("M", 1), ("F", 1)]  # type: ignore[union-attr]


def test_a_cp1252_semicolon_export_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("Nr;Primärtumor;Größe\n1;Schilddrüse;1,5\n".encode("cp1252"))
    assert sniff_text(path) == ("cp1252", ";", ["nr", "primärtumor", "größe"])
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfid,sex\n1,M\n")
    assert sniff_text(bom) == ("utf-8", ",", ["id", "sex"])


def test_spss_value_labels_and_user_missing_codes_are_profiled(tmp_path: Path) -> None:
    import pyreadstat

    frame = pd.DataFrame({"patnr": ["p1", "p2", "p3"], "geslacht": [1.0, 2.0, 99.0]})
    (tmp_path / "c").mkdir()
    pyreadstat.write_sav(
        frame, str(tmp_path / "c" / "db.sav"),
        variable_value_labels={"geslacht": {1.0: "man", 2.0: "vrouw"}},
        missing_ranges={"geslacht": [99.0]},
    )  # fmt: skip
    [table] = profile_center(tmp_path / "c", "c").tables
    sex = table.column("geslacht")
    assert sex is not None
    assert (sex.value_labels, sex.user_missing, sex.filled) == (
        {"1": "man", "2": "vrouw"},
        ["99"],
        2,
    )


def test_the_redcap_dictionary_is_not_taken_for_an_export(tmp_path: Path) -> None:
    (tmp_path / "DATA_2026.csv").write_text("record_id,redcap_event_name,sexo\n1,basal_arm_1,1\n")
    (tmp_path / "Dictionary_2026.csv").write_text(
        'Variable / Field Name,Form Name,Field Type,"Choices, Calculations, OR Slider Labels"\n'
        'sexo,basal,radio,"1, Hombre | 2, Mujer"\n'
    )
    sources, skipped = find_sources(tmp_path)
    assert [(s.name, s.kind) for s in sources] == [("DATA_2026.csv", "redcap")]
    assert sources[0].dictionary == tmp_path / "Dictionary_2026.csv" and skipped == []


def test_a_redcap_export_without_its_dictionary_is_profiled_as_csv(tmp_path: Path) -> None:
    (tmp_path / "DATA_2026.csv").write_text("record_id,redcap_event_name,sexo\n1,basal_arm_1,1\n")
    profile = profile_center(tmp_path, "c")
    assert [t.source.kind for t in profile.tables] == ["csv"]
    assert profile.problems == [
        "DATA_2026.csv: a REDCap export without its data dictionary: profiled as a plain CSV"
    ]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("VAS präop (0-100)", "vas_pain_preop"),
        ("Décès peropératoire", "intraop_death"),
        ("Date du décès", "death_date"),
        ("Décès", "vital_status"),
        ("Metastasi ossee extravertebrali (n)", "extraspinal_bone_mets_n"),
        ("Nb métastases vertébrales", "vertebral_mets_n"),
        ("fecha_cirugia", "surgery_date"),
        ("Straße", None),
        ("Bemerkung", None),
    ],
)
def test_headers_match_targets_across_languages(header: str, target: str | None) -> None:
    assert match_header(header) == target


def test_folding_and_the_identifier_and_duration_words() -> None:
    assert fold("  Größe (cm)  ") == "grosse cm"
    assert is_identifier_like("Straße") and is_identifier_like("fecha_nacimiento")
    assert not is_identifier_like("redcap_event_name") and not is_identifier_like("Sesso")
    assert (duration_unit("Suivi (jours)"), duration_unit("fu_maanden")) == ("days", "months")
    assert duration_unit("Letzter Kontakt") is None


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("SPINEMETS_DATA_2026-03-31.csv", "SPINEMETS_DATA_*.csv"),
        ("registro_metastasi_vertebrali.xlsx", "registro_metastasi_vertebrali*.xlsx"),
        ("export_202611.csv", "export_*.csv"),
    ],
)
def test_files_pattern_turns_a_date_into_a_glob(name: str, pattern: str) -> None:
    assert files_pattern(name) == pattern


def test_matching_fields_compares_what_a_field_maps() -> None:
    reference = {"tables": [
        {"columns": {"sex": "Sesso", "vital_status": {"source": "S", "values": {"vivo": "alive"}},
                     "procedure": {"source": "T", "vocabulary": "procedure"}}},
        {"visits": {"date": {"source": "D", "date_format": "%d/%m/%Y"}}},
    ]}  # fmt: skip
    draft = {"tables": [
        {"columns": {"sex": {"source": "Sesso"}, "vital_status": {"source": "S",
                     "values": {"Vivo": "ALIVE"}}, "procedure": {"source": "T", "labels": True}}},
        {"visits": {"date": "D"}},
    ]}  # fmt: skip
    same, total = matching_fields(draft, reference)
    assert (sorted(same), total) == (["sex", "visits.date", "vital_status"], 4)


def _coded(values: list[tuple[str, int]], labels: dict[str, str] | None = None) -> ColumnProfile:
    column = ColumnProfile("c", "text", 10, 10, len(values), values=values)
    column.value_labels = labels or {}
    return column


@pytest.mark.parametrize(
    ("column", "as_status", "spec"),
    [
        (_coded([("0", 5), ("1", 5)]), False, {"source": "c"}),
        (_coded([("sì", 5), ("no", 5)]), False, {"source": "c", "vocabulary": "yes_no"}),
        (_coded([("Alive", 5), ("dead", 5)]), True, {"source": "c"}),
        (
            _coded([("lebend", 5), ("verstorben", 5)]),
            True,
            {"source": "c", "values": {"lebend": "alive", "verstorben": "dead"}},
        ),
        (
            _coded([("oui", 5), ("non", 5)]),
            True,
            {"source": "c", "values": {"oui": "dead", "non": "alive"}},
        ),
        (
            _coded([("1", 5), ("2", 5)], {"1": "Vivo", "2": "Fallecido"}),
            False,
            {"source": "c", "values": {"1": False, "2": True}},
        ),
        (
            _coded([("vivo", 5), ("in cura", 5)]),
            True,
            {"source": "c", "values": {"vivo": "alive", "in cura": "TODO"}},
        ),
    ],
    ids=[
        "zero-one",
        "yes-no-words",
        "canonical-status",
        "status-words",
        "yes-no-as-status",
        "redcap-labels",
        "unknown-word",
    ],
)
def test_boolean_and_status_specs(column: ColumnProfile, as_status: bool, spec: dict) -> None:
    assert boolean_spec(column, REPO_CENTERS, as_status=as_status) == spec
