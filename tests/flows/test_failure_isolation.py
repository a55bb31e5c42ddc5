"""Failure isolation end to end, through the CLI and the nightly flow, on real exports.

A corrupted export, a renamed required column and a 60 % drop in patients each leave that
center's published partition byte-identical, with the right status and a one-sentence
error, while the other centers publish; the exit codes are the spec's.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.entrypoints import demo_centers_dir
from spinemet_etl.cli import app
from spinemet_etl.manifest import latest_manifest

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

BROKEN = ("lyon", "boston", "muenchen")


def partition_bytes(data: Path, center_id: str) -> dict[str, bytes]:
    found = {}
    for table in ("harmonized", "quarantine"):
        path = data / table / "patients" / f"center_id={center_id}" / "part-0.parquet"
        found[table] = path.read_bytes()
    return found


def corrupt_exports(landing: Path) -> None:
    """Random bytes for lyon's .xls, a renamed column for boston, 60 % fewer muenchen rows."""
    (landing / "lyon" / "registre_metastases_rachis.xls").write_bytes(
        random.Random(7).randbytes(8192)
    )
    boston = landing / "boston" / "spine_mets_registry.csv"
    header, rest = boston.read_text(encoding="utf-8").split("\n", 1)
    boston.write_text(header.replace("surgery_date", "surgery_dt") + "\n" + rest, "utf-8")
    muenchen = landing / "muenchen" / "wirbelsaeulenmetastasen_export.csv"
    lines = muenchen.read_bytes().split(b"\r\n" if b"\r\n" in muenchen.read_bytes() else b"\n")
    rows = [line for line in lines[1:] if line]
    kept = [lines[0], *rows[: int(len(rows) * 0.4)], b""]
    muenchen.write_bytes(b"\n".join(kept))


def test_broken_centers_keep_their_partition_and_the_others_publish(tmp_path: Path) -> None:
    from spinemet_etl.synth import write_consortium

    landing, data = tmp_path / "landing", tmp_path / "data"
    write_consortium(landing, n_patients=400, seed=5, dirt_rate=0.0)
    args = ["run", "--landing", str(landing), "--centers", str(demo_centers_dir())]
    args += ["--data", str(data)]
    runner = CliRunner()

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    before = {center: partition_bytes(data, center) for center in BROKEN}

    corrupt_exports(landing)
    second = runner.invoke(app, [*args, "--full-refresh"])
    assert second.exit_code == 1, second.output

    manifest = latest_manifest(data)
    assert manifest is not None and manifest["status"] == "needs_attention"
    status = {center: entry["status"] for center, entry in manifest["centers"].items()}
    assert status == {
        "lyon": "failed", "boston": "failed", "muenchen": "held",
        "bologna": "published", "barcelona": "published", "rotterdam": "published",
    }  # fmt: skip
    for center in BROKEN:
        assert partition_bytes(data, center) == before[center], center
    for center, file_name in (("lyon", "registre_metastases_rachis.xls"),
                              ("boston", "spine_mets_registry.csv")):  # fmt: skip
        message = manifest["centers"][center]["error"]["message"]
        assert center in message and file_name in message, message
        assert "\n" not in message and message.endswith("."), message
    assert "surgery_date" in manifest["centers"]["boston"]["error"]["message"]
    held_checks = manifest["centers"]["muenchen"]["quality_gate"]["checks"]
    assert [c["name"] for c in held_checks if not c["passed"]] == ["patient_count"]
