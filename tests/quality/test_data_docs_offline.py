"""The Data Docs work offline: the index, in Chromium without a network, lists every center.

GX's index draws its list with bootstrap-table from a CDN; offline that list is empty
unless `spinemet_etl.quality.offline` wrote it out as HTML.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from spinemet_etl.quality.docs import build_data_docs
from spinemet_etl.quality.gate import run_quality_gate
from tests.browser import chromium_offline, remote_loads
from tests.quality.quality_helpers import center, patients
from tests.quality.test_gate import CONFIG

CENTERS = ["bologna", "boston", "lyon"]
RUN_ID = "20261126T020000Z-3f2a"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data Docs of one run of three centers, then a second run of lyon alone."""
    root = tmp_path_factory.mktemp("data_root")
    gates = [run_quality_gate(center(patients(12), center_id=c), patients(30), CONFIG)
             for c in CENTERS]  # fmt: skip
    build_data_docs(root, gates, run_id=RUN_ID)
    later = [run_quality_gate(center(patients(30), center_id="lyon"), patients(30), CONFIG)]
    return build_data_docs(root, later, run_id="20261127T020000Z-aaaa")


def _rows(dom: str) -> list[tuple[list[str], set[str]]]:
    """Each row of the index's table body: its cells' words and the links in it."""
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", dom, re.DOTALL):
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL):
            words = re.sub(r"<[^>]+>", " ", row).split()
            rows.append((words, set(re.findall(r'href="([^"]+)"', row))))
    return rows


def test_no_page_loads_anything_from_the_network(index: Path) -> None:
    pages = sorted(index.parent.rglob("*.html"))
    assert len(pages) == 1 + len(CENTERS) + 1  # the index, one page per validation
    assert {page.name: remote_loads(page.read_text(encoding="utf-8")) for page in pages} == {
        page.name: [] for page in pages
    }


def test_every_link_of_every_page_leads_to_a_file_of_the_site(index: Path) -> None:
    """GX links each validation to an expectation-suite page it never writes, and its
    favicon at a wrong depth: those links are dropped, their text kept."""
    dead = {}
    for page in sorted(index.parent.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        hrefs = re.findall(r'\b(?:href|src)="([^"#:]+)(?:#[^"]*)?"', text)
        dead[page.name] = [h for h in hrefs if not (page.parent / unquote(h)).is_file()]
        assert hrefs or page != index, "the index links to its validations"
    assert dead == {name: [] for name in dead}
    assert "patients.lyon" in index.read_text(encoding="utf-8")  # a dropped link's text


@pytest.mark.integration
def test_offline_index_lists_every_centers_validations(index: Path, tmp_path: Path) -> None:
    dom = chromium_offline(index, tmp_path / "profile", "--dump-dom").stdout
    rows = _rows(dom)
    listed = {(words[1 + words.index("UTC")], words[-1]): words[0] for words, _ in rows}
    assert listed == {  # 12 patients where 30 were last time fail the gate; 30 pass
        **{(f"run-{RUN_ID}", f"patients.{c}"): "failed" for c in CENTERS},
        ("run-20261127T020000Z-aaaa", "patients.lyon"): "passed",
    }
    assert len(rows) == len(listed)
    for words, links in rows:
        pages = [index.parent / link for link in links if link.startswith("validations/")]
        assert len(pages) == 1 and pages[0].is_file(), words
        assert pages[0].stem == words[-1].removeprefix("patients."), words


def test_a_later_run_writes_its_own_pages_and_the_index_only(tmp_path: Path) -> None:
    """Re-rendering every stored validation each night grows with the history; a run adds
    its pages and rewrites the index, and the earlier pages stay as they were."""
    gates = [run_quality_gate(center(patients(30), center_id=c), patients(30), CONFIG)
             for c in CENTERS]  # fmt: skip
    index = build_data_docs(tmp_path, gates, run_id=RUN_ID)
    earlier = {page: (page.stat().st_mtime_ns, page.read_bytes())
               for page in index.parent.rglob("*.html") if page != index}  # fmt: skip
    later = [run_quality_gate(center(patients(30), center_id="lyon"), patients(30), CONFIG)]
    build_data_docs(tmp_path, later, run_id="20261127T020000Z-aaaa")
    pages = set(index.parent.rglob("*.html")) - {index}
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in earlier} == earlier
    (new,) = pages - set(earlier)
    assert "run-20261127T020000Z-aaaa" in str(new) and new.stem == "lyon"
    assert remote_loads(new.read_text(encoding="utf-8")) == []
    text = index.read_text(encoding="utf-8")
    assert f"run-{RUN_ID}" in text and "run-20261127T020000Z-aaaa" in text
    assert remote_loads(text) == []
