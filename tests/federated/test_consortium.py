"""The demo consortium through the pipeline, summarized per hospital and pooled centrally.

One published data root (six centers, identities marked for the leak scan) serves the
equivalence, mixed-mode, privacy and bad-summary tests.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from spinemet_etl.endpoints import compute_endpoints
from spinemet_etl.endpoints.io import REPORT_COLUMNS, read_patients
from spinemet_etl.federated.pool import load_centers
from spinemet_etl.federated.report import local_centers, pool_report
from spinemet_etl.federated.summarize import summarize
from spinemet_etl.pipeline import run_pipeline
from spinemet_etl.settings import load_settings
from tests.endpoints.r_reference import require_rscript, write_canonical
from tests.federated.conftest import assert_same_endpoints, pooled_c_rows, stratified_c_rows
from tests.reliability.helpers import CENTERS
from tests.reliability.privacy_scan import date_forms, file_texts, leaks, write_marked_consortium

pytestmark = pytest.mark.slow
MARKER = "Qzxfedmark"
KEY = "federated-test-KEY-5e1d"
RUN = "20261201T000000Z-aaaa"


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo-sized consortium run once; every center summarized into one outbox."""
    root = tmp_path_factory.mktemp("federated")
    needles = write_marked_consortium(root / "landing", MARKER, {KEY}, seed=20100)
    flags = {"landing": root / "landing", "centers_dir": CENTERS, "data": str(root / "data")}
    run_pipeline(load_settings(flags, {"SPINEMET_PSEUDONYM_KEY": KEY}))
    centers = local_centers(root / "data")
    for center in centers:
        summarize(root / "data", center, root / "outbox")
    central = compute_endpoints(read_patients(root / "data", columns=REPORT_COLUMNS))
    yield {"root": root, "needles": needles, "centers": centers, "central": central}


def _pool(inbox: Path, data: Path, **options: Any) -> pd.DataFrame:
    data.mkdir(parents=True, exist_ok=True)
    pool_report(inbox, data, run_id=RUN, **options)
    return pd.read_parquet(data / "reports" / "endpoints.parquet")


def test_pool_equals_the_central_report(consortium: dict[str, Any], tmp_path: Path) -> None:
    root = consortium["root"]
    assert len(consortium["centers"]) == 6
    central = consortium["central"]
    pooled = _pool(root / "outbox", tmp_path / "coordinator")
    assert_same_endpoints(central, pooled)
    html = (tmp_path / "coordinator" / "reports" / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 3  # KM by center, KM by procedure, forest plot
    for section in ("flow", "baseline", "tomita"):  # these need patient rows
        part = html[html.index(f'<section id="{section}">') :].split("</section>")[0]
        assert "Not available from summaries" in part
    assert "Not available from summaries: the transition table" in html
    assert 'id="procedure-en_bloc"' in html  # the strata's endpoints come from summaries
    assert (tmp_path / "coordinator" / "reports" / "summaries.json").is_file()


def test_three_summaries_and_three_local_centers_equal_all_central(
    consortium: dict[str, Any], tmp_path: Path
) -> None:
    root, centers = consortium["root"], consortium["centers"]
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    for center in centers[:3]:
        shutil.copytree(root / "outbox" / center, inbox / center)
    for center in centers[3:]:
        partition = Path("harmonized") / "patients" / f"center_id={center}"
        shutil.copytree(root / "data" / partition, data / partition)
    mixed = _pool(inbox, data, with_local=True)
    all_summaries = _pool(root / "outbox", tmp_path / "all")
    assert_same_endpoints(consortium["central"], mixed)
    c_rows = pooled_c_rows(mixed)
    assert mixed[c_rows]["estimate"].equals(all_summaries[c_rows]["estimate"])


def _needles(consortium: dict[str, Any]) -> Any:
    """The marked identities plus every pseudonym, source file name and patient date."""
    needles = consortium["needles"]
    paths = (consortium["root"] / "data" / "harmonized" / "patients").glob("*/part-0.parquet")
    patients = pd.concat([pd.read_parquet(path) for path in paths], ignore_index=True)
    needles.exact |= set(patients["patient_id"]) | set(patients["source_file"])
    for column in ("surgery_date", "last_contact_date", "death_date", "local_recurrence_date"):
        needles.exact |= date_forms(patients[column])
    # The one date a summary may hold: the cut-off its center's mapping states
    # (federated.md), which is also the last contact of the patients seen on that day.
    needles.exact -= date_forms(_stated_cutoffs().values())
    return needles


def _stated_cutoffs() -> dict[str, str]:
    mappings = {path.stem: yaml.safe_load(path.read_text()) for path in CENTERS.glob("*.yaml")}
    return {c: str(m["data_cutoff"]) for c, m in mappings.items() if "data_cutoff" in m}


def test_no_identifier_pseudonym_date_or_file_name_in_any_summary(
    consortium: dict[str, Any],
) -> None:
    needles = _needles(consortium)
    folders = sorted((consortium["root"] / "outbox").glob("*/*"))
    assert len(folders) == 6
    for folder in folders:
        texts = file_texts(folder)
        assert sorted(Path(path).name for path in texts) == [
            "SHA256SUMS", "risk_sets.parquet", "summary.html", "summary.json",
        ]  # fmt: skip
        assert leaks(texts, needles) == [], folder
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["data_cutoff"]["date"] == _stated_cutoffs()[folder.parent.name]


def test_the_scan_catches_a_leak_planted_in_a_summary(
    consortium: dict[str, Any], tmp_path: Path
) -> None:
    needles = _needles(consortium)
    source = sorted((consortium["root"] / "outbox").glob("*/*"))[0]
    planted = shutil.copytree(source, tmp_path / "planted")
    pseudonym = sorted(n for n in needles.exact if len(n) == 32)[0]
    document = planted / "summary.json"
    document.write_text(
        document.read_text().replace('"quality": {', f'"quality": {{"note": "{pseudonym}",'),
    )
    found = leaks(file_texts(planted), needles)
    assert found == [f"{document}: {pseudonym}"]


def test_pooling_reads_only_the_summary_folders(consortium: dict[str, Any]) -> None:
    centers = load_centers(consortium["root"] / "outbox")
    assert [c.status for c in centers] == ["used"] * 6
    assert {c.center_id for c in centers} == set(consortium["centers"])


DOC = Path(__file__).resolve().parents[2] / "docs" / "federated.md"


def test_the_docs_protocol_runs(
    consortium: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/federated.md's first example, as written (the outbox copied to the inbox)."""
    from typer.testing import CliRunner

    from spinemet_etl.cli import app

    block = DOC.read_text(encoding="utf-8").split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("spinemet")]
    (tmp_path / "data").symlink_to(consortium["root"] / "data")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    summarize_line, *coordinator = commands
    assert runner.invoke(app, summarize_line).exit_code == 0
    shutil.copytree(tmp_path / "outbox", tmp_path / "inbox")
    for command in coordinator:
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "coordinator" / "reports" / "report.html").is_file()
    assert "bologna: used" in result.output


def test_every_summary_key_is_documented() -> None:
    from spinemet_etl.endpoints.sums import SUM_COLUMNS

    text = DOC.read_text(encoding="utf-8")
    documented = [name for name in SUM_COLUMNS if f"`{name}`" in text]
    proportions = [name for name in SUM_COLUMNS if name.endswith(("_numerator", "_denominator"))]
    assert sorted(documented + proportions) == sorted(SUM_COLUMNS)


@pytest.mark.integration
def test_the_demos_pooled_c_is_rs_center_stratified_c(
    consortium: dict[str, Any], tmp_path: Path
) -> None:
    require_rscript()
    patients = read_patients(consortium["root"] / "data")
    patients["center_id"] = patients["center_id"].astype(str)
    write_canonical(patients, tmp_path / "patients.csv")
    script = Path(__file__).resolve().parents[1] / "r" / "stratified_concordance.R"
    subprocess.run(
        ["Rscript", str(script), str(tmp_path / "patients.csv"), str(tmp_path / "r.csv")],
        check=True, timeout=120,
    )  # fmt: skip
    pooled = _pool(consortium["root"] / "outbox", tmp_path / "coordinator")
    ours = pooled[stratified_c_rows(pooled)].merge(
        pd.read_csv(tmp_path / "r.csv"), on=["stratum", "endpoint"], suffixes=("", "_r")
    )
    assert len(ours) == 8
    assert np.allclose(ours["estimate"], ours["estimate_r"], rtol=1e-9, equal_nan=True)
