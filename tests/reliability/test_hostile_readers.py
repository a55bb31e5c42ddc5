"""Each hostile file read in a forked child: its exact outcome, in bounded time and memory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hostile import make_corpus as corpus
from tests.reliability.helpers import Driver

MAX_RSS_MIB = 400
MAX_SECONDS = 5.0
ROWS: list[list[object]] = [["mrn", "age"], ["Z1", 50], ["Z2", 60], ["Z3", 70]]

Build = Callable[[Path], tuple[str, Path, dict[str, Any] | None]]


def _symlink_out(tmp: Path) -> tuple[str, Path, dict[str, Any] | None]:
    outside = tmp / "outside" / "secret.csv"
    outside.parent.mkdir()
    outside.write_text("mrn,age\nOUTSIDE-SECRET,1\n", encoding="utf-8")
    link = tmp / "landing" / "export.csv"
    link.parent.mkdir()
    link.symlink_to(outside)
    return "csv", link, None


CASES: list[tuple[str, Build, str, str]] = [
    (
        "zip-bomb-xlsx",
        lambda t: ("xlsx", corpus.zip_bomb_xlsx(t / "bomb.xlsx", 64), None),
        "decompression-bomb",
        "unpacks to",
    ),
    (
        "zip-bomb-lying-directory",
        lambda t: ("xlsx", corpus.lying_zip_xlsx(t / "lying.xlsx", 64), None),
        "file-truncated",
        "could not be unpacked",
    ),
    (
        "xml-entity-expansion",
        lambda t: ("xlsx", corpus.billion_laughs_xlsx(t / "laughs.xlsx", ROWS), None),
        "unsafe-workbook",
        "XML entities",
    ),
    (
        "sav-lying-header",
        lambda t: ("sav", corpus.lying_sav(t / "lying.sav"), None),
        "file-truncated",
        "declares 100000000 cases",
    ),
    (
        "csv-100-mib-line",
        lambda t: ("csv", corpus.long_line_csv(t / "long.csv", "mrn,age", 100), None),
        "line-too-long",
        "line 2",
    ),
    (
        "csv-nul-bytes",
        lambda t: ("csv", corpus.nul_csv(t / "nul.csv", "mrn,age\nZ1,50\nZ2,60\n"), None),
        "binary-content",
        "line 2",
    ),
    (
        "csv-utf8-with-a-cp1252-line",
        lambda t: (
            "csv",
            corpus.mixed_encoding_csv(t / "mixed.csv", "mrn,name\nZ1,Müller\n", "Z2,Weiß"),
            None,
        ),
        "encoding-error",
        "line 3",
    ),
    (
        "csv-cp1252-with-a-utf8-line",
        lambda t: (
            "csv",
            _cp1252_then_utf8(t / "mixed.csv"),
            {"encoding": "cp1252", "delimiter": ";"},
        ),
        "encoding-error",
        "mixes UTF-8 and cp1252",
    ),
    ("symlink-out-of-landing", _symlink_out, "unsafe-path", "symbolic link"),
]


def _cp1252_then_utf8(path: Path) -> Path:
    path.write_bytes("Fallnummer;Name\n1;Weiß\n".encode("cp1252") + "2;Müller\n".encode())
    return path


@pytest.mark.parametrize(
    ("build", "code", "says"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hostile_file_has_its_exact_outcome_in_bounded_time_and_memory(
    driver: Driver, tmp_path: Path, build: Build, code: str, says: str
) -> None:
    kind, path, options = build(tmp_path)
    answer = driver.ask(
        op="read", kind=kind, path=str(path), name=path.name, options=options, timeout=30
    )
    assert answer.get("exit") == 0, answer
    assert answer["outcome"] == code, answer
    message = answer["message"]
    assert message.startswith(f"center `hostile`, file `{path.name}`")
    assert says in message
    assert message.endswith(".") and "\n" not in message
    assert "OUTSIDE-SECRET" not in message
    assert answer["seconds"] < MAX_SECONDS
    assert answer["peak_rss_mib"] < MAX_RSS_MIB


def test_xlsx_formulas_give_cached_values_and_links_are_not_followed(
    driver: Driver, tmp_path: Path
) -> None:
    path = corpus.external_links_xlsx(tmp_path / "links.xlsx", ROWS, column=1)
    answer = driver.ask(op="read", kind="xlsx", path=str(path), name=path.name, options=None)
    assert answer["outcome"] == "ok", answer
    assert answer["rows"] == 3
    assert {"50", "60", "70"} <= set(answer["values"])
    text = " ".join(answer["values"])
    for never in ("WEBSERVICE", "attacker", "[1]", "passwd", "root:"):
        assert never not in text
    assert answer["peak_rss_mib"] < MAX_RSS_MIB


def test_the_corpus_files_are_what_they_claim(tmp_path: Path) -> None:
    """The generators really build bombs and liars (else the tests above prove nothing)."""
    import zipfile

    bomb = corpus.zip_bomb_xlsx(tmp_path / "bomb.xlsx", 64)
    with zipfile.ZipFile(bomb) as archive:
        part = archive.getinfo("xl/worksheets/sheet1.xml")
    assert part.file_size > 64 * corpus.MIB and part.file_size / part.compress_size > 500
    assert os.path.getsize(bomb) < corpus.MIB
    lying = corpus.lying_zip_xlsx(tmp_path / "lying.xlsx", 64)
    with zipfile.ZipFile(lying) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    laughs = corpus.billion_laughs_xlsx(tmp_path / "laughs.xlsx", ROWS)
    with zipfile.ZipFile(laughs) as archive:
        assert b'<!ENTITY lol9 "&lol8;' in archive.read("xl/worksheets/sheet1.xml")
    assert os.path.getsize(corpus.long_line_csv(tmp_path / "l.csv", "a", 100)) > 100 * corpus.MIB
