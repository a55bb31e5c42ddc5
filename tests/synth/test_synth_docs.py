"""docs/synthetic-consortium.md names every column and word in the files, for mapping authors."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import ModuleType

import openpyxl
import pyreadstat
import pytest
import xlrd

from spinemet_etl.synth import csv_boston, csv_muenchen, redcap_barcelona, xls_lyon, xlsx_bologna

DOC = (Path(__file__).parents[2] / "docs/synthetic-consortium.md").read_text(encoding="utf-8")


def _csv_header(path: Path, encoding: str, delimiter: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter))


def _headers(root: Path) -> dict[str, list[str]]:
    workbook = openpyxl.load_workbook(root / "bologna/registro_metastasi_vertebrali.xlsx")
    lyon = xlrd.open_workbook(root / "lyon/registre_metastases_rachis.xls").sheet_by_index(0)
    _, meta = pyreadstat.read_sav(root / "rotterdam/wervelmetastasen.sav", metadataonly=True)
    return {
        **{f"bologna/{s.title}": [c.value for c in s[3]] for s in workbook},
        "barcelona": _csv_header(root / "barcelona/SPINEMETS_DATA_2026-03-31.csv", "utf-8", ","),
        "rotterdam": meta.column_names,
        "muenchen": _csv_header(
            root / "muenchen/wirbelsaeulenmetastasen_export.csv", "cp1252", ";"
        ),
        "boston": _csv_header(root / "boston/spine_mets_registry.csv", "utf-8", ","),
        "lyon": lyon.row_values(0),
    }


def test_every_source_column_is_documented(small_consortium: Path) -> None:
    undocumented = {
        source: [name for name in names if f"`{name}`" not in DOC]
        for source, names in _headers(small_consortium).items()
    }
    assert {source: names for source, names in undocumented.items() if names} == {}


@pytest.mark.parametrize(
    "module",
    [xlsx_bologna, csv_muenchen, csv_boston, xls_lyon],
    ids=["bologna", "muenchen", "boston", "lyon"],
)
def test_every_local_word_is_documented(module: ModuleType) -> None:
    primary = module.PRIMARY
    procedures = [word for words in module.PROCEDURES.values() for word in words]
    missing = [w for w in [*primary.values(), *procedures] if w not in DOC]
    assert missing == []


def test_every_redcap_label_is_documented() -> None:
    missing = [label for label in redcap_barcelona.PRIMARY_LABELS if f"| {label} |" not in DOC]
    assert missing == []


def test_the_python_examples_run_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/synthetic-consortium.md", "exec"), {})
    assert "tau2" in capsys.readouterr().out
