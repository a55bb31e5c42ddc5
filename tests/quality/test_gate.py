"""The data-quality gate: each check on tiny frames, and the Data Docs site."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spinemet_etl.errors import ConfigError
from spinemet_etl.quality.checks import total_variation_distance
from spinemet_etl.quality.config import load_quality_config
from spinemet_etl.quality.docs import build_data_docs
from spinemet_etl.quality.gate import QualityConfig, run_quality_gate
from tests.quality.quality_helpers import center, failed, patients

CONFIG = load_quality_config(None)


def test_steady_center_passes_every_check() -> None:
    gate = run_quality_gate(center(patients(30)), patients(28), CONFIG)
    assert gate.passed, failed(gate.checks)
    assert {c["kahn_category"] for c in gate.checks} == {
        "conformance", "completeness", "plausibility"
    }  # fmt: skip


def test_first_publication_passes_without_previous() -> None:
    assert run_quality_gate(center(patients(3)), None, CONFIG).passed


@pytest.mark.parametrize(
    ("new", "previous", "quarantined", "column_values", "failing"),
    [
        (12, 30, 0, {}, {"patient_count"}),
        (30, 30, 0, {"age_at_surgery_years": [None] * 30}, {"completeness:age_at_surgery_years"}),
        (30, 30, 0, {"vas_pain_postop": [None] * 30}, {"completeness:vas_pain_postop"}),
        (30, 30, 0, {"patient_id": ["0" * 32] * 30}, {"unique_patient_id"}),
        (30, 30, 0, {"sex": ["male"] * 30}, {"category_shift:sex"}),
        (30, 30, 10, {}, {"quarantine_share"}),
    ],
    ids=["60pct-drop", "required-emptied", "usually-filled-emptied", "duplicate-pseudonyms",
         "category-shift", "quarantine-share"],
)  # fmt: skip
def test_each_check_fails_on_its_problem(
    new: int, previous: int, quarantined: int, column_values: dict, failing: set[str]
) -> None:
    gate = run_quality_gate(
        center(patients(new, **column_values), quarantined), patients(previous), CONFIG
    )
    assert not gate.passed
    assert failed(gate.checks) == failing


def test_check_records_carry_observed_and_threshold() -> None:
    gate = run_quality_gate(center(patients(12)), patients(30), CONFIG)
    count = next(c for c in gate.checks if c["name"] == "patient_count")
    assert (count["observed"], count["threshold"]) == (12, [21, 90])
    assert count["message"].endswith(".")


def test_total_variation_distance_by_hand() -> None:
    old = pd.Series(["a", "a", "b", "b"])
    new = pd.Series(["a", "a", "a", None])
    # old: a .5, b .5; new: a .75, missing .25 -> (.25 + .5 + .25) / 2
    assert total_variation_distance(new, old) == pytest.approx(0.5)


def test_partial_config_file_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "quality.yaml"
    path.write_text("patient_count:\n  min_ratio: 0.3\n", encoding="utf-8")
    config = load_quality_config(path)
    assert config.patient_count.min_ratio == 0.3
    assert config.quarantine == CONFIG.quarantine
    assert run_quality_gate(center(patients(12)), patients(30), config).passed


@pytest.mark.parametrize(
    "text", ["quarantine:\n  max_share: 2\n", "patient_count: [1\n", "bogus: 1\n"],
    ids=["out-of-range", "bad-yaml", "unknown-key"],
)  # fmt: skip
def test_bad_config_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "quality.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="quality config"):
        load_quality_config(path)


@pytest.mark.parametrize(
    "run_id",
    ["20261126T020000Z-3f2a", "20261126T020000Z-3572", "20261126T020000Z-1200"],
    ids=["hex-suffix", "digits-beyond-a-day", "digits-like-an-offset"],
)
def test_build_data_docs_writes_an_index_and_a_page(tmp_path: Path, run_id: str) -> None:
    gates = [run_quality_gate(center(patients(12)), patients(30), CONFIG)]
    index = build_data_docs(tmp_path, gates, run_id=run_id)
    assert index == tmp_path / "reports" / "data_docs" / "index.html"
    assert "patients.boston" in index.read_text(encoding="utf-8")
    pages = list((index.parent / "validations").rglob("*.html"))
    assert len(pages) == 1
    assert run_id in pages[0].read_text(encoding="utf-8")
    assert not (tmp_path / "harmonized").exists()


def test_quality_config_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        CONFIG.quarantine.max_share = 0.9  # type: ignore[misc]
    assert isinstance(CONFIG, QualityConfig)


def test_the_gate_does_not_hash_the_patients(monkeypatch: pytest.MonkeyPatch) -> None:
    """GX would hash every cell of a batch below 1 GB for a batch marker nothing reads."""
    from great_expectations.execution_engine import pandas_execution_engine

    def refuse(frame: pd.DataFrame) -> str:
        raise AssertionError(f"a batch of {len(frame)} rows was hashed")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", refuse)
    verdict = run_quality_gate(center(patients(40)), patients(40), CONFIG)
    assert verdict.passed
    assert "pandas_data_fingerprint" not in verdict.gx_validation().meta.get("batch_markers", {})
