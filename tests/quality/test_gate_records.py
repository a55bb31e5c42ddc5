"""The gate's check records, field by field, for a frame that fails each kind of check.

Every expected record is worked out by hand from the frame and the default thresholds
(`spinemet_etl/quality/default.yaml`), so a faster gate must keep the manifest identical.
"""

from __future__ import annotations

import gc
import pickle
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from spinemet_etl.quality.config import load_quality_config
from spinemet_etl.quality.docs import build_data_docs
from spinemet_etl.quality.gate import run_quality_gate
from tests.quality.quality_helpers import center, failed, patients

CONFIG = load_quality_config(None)
IDS = [f"{i:032x}" for i in range(30)]


def record(name: str, category: str, observed: Any, threshold: Any, message: str) -> dict:
    return {
        "name": name, "kahn_category": category, "passed": False,
        "observed": observed, "threshold": threshold, "message": message,
    }  # fmt: skip


def gate_checks(frame: pd.DataFrame, previous: pd.DataFrame | None, quarantined: int = 0) -> dict:
    gate = run_quality_gate(center(frame, quarantined), previous, CONFIG)
    return {c["name"]: c for c in gate.checks}


CASES = [
    (
        # run_id dropped: the column set misses it, and its completeness cannot be measured.
        patients(30).drop(columns=["run_id"]), patients(30), 0,
        record("canonical_columns", "conformance", ["run_id"], [],
               "canonical columns missing: ['run_id']."),
        {"canonical_columns", "completeness:run_id"},
    ),
    (
        # 12 of 30: band [ceil(30 * 0.7), floor(30 * 3.0)] = [21, 90].
        patients(12), patients(30), 0,
        record("patient_count", "plausibility", 12, [21, 90],
               "12 patients; expected at least 21, at most 90."),
        {"patient_count"},
    ),
    (
        # The first four rows share one pseudonym: all four rows are duplicates.
        patients(30, patient_id=[IDS[0]] * 4 + IDS[4:]), patients(30), 0,
        record("unique_patient_id", "plausibility", 4, 0,
               "4 rows share a pseudonym with another row; expected none."),
        {"unique_patient_id"},
    ),
    (
        # Required column, 24 of 30 filled: 0.8 against the floor 1.0.
        patients(30, age_at_surgery_years=[None] * 6 + [61.0] * 24), patients(30), 0,
        record("completeness:age_at_surgery_years", "completeness", 0.8, 1.0,
               "`age_at_surgery_years` is 80% filled; at least 100% expected."),
        {"completeness:age_at_surgery_years"},
    ),
    (
        # Nullable column filled in every previous row: floor 1.0 - 0.5; now 12 of 30 = 0.4.
        patients(30, vas_pain_postop=[None] * 18 + [2.0] * 12), patients(30), 0,
        record("completeness:vas_pain_postop", "completeness", 0.4, 0.5,
               "`vas_pain_postop` is 40% filled; at least 50% expected."),
        {"completeness:vas_pain_postop"},
    ),
    (
        # All female before, half male now: (|0.5 - 1| + |0.5 - 0|) / 2 = 0.5 > 0.3.
        patients(30, sex=["male"] * 15 + ["female"] * 15), patients(30), 0,
        record("category_shift:sex", "plausibility", 0.5, 0.3,
               "`sex` distribution moved 0.50 (total variation) since the last publication, "
               "beyond the limit 0.3."),
        {"category_shift:sex"},
    ),
    (
        # 10 quarantined of 40 read: 0.25 > 0.2.
        patients(30), patients(30), 10,
        record("quarantine_share", "conformance", 0.25, 0.2,
               "10 of 40 rows read were quarantined (25.0%), above the limit 20%."),
        {"quarantine_share"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("frame", "previous", "quarantined", "expected", "failing"),
    CASES,
    ids=["columns", "count", "unique", "required", "usually-filled", "shift", "quarantine"],
)
def test_failed_check_record_field_by_field(
    frame: pd.DataFrame, previous: pd.DataFrame, quarantined: int, expected: dict, failing: set
) -> None:
    checks = gate_checks(frame, previous, quarantined)
    assert checks[expected["name"]] == expected
    assert {name for name, c in checks.items() if not c["passed"]} == failing


def test_missing_column_fails_its_completeness_without_an_observation() -> None:
    checks = gate_checks(patients(30).drop(columns=["run_id"]), patients(30))
    assert checks["completeness:run_id"] == {
        "name": "completeness:run_id", "kahn_category": "completeness", "passed": False,
        "observed": None, "threshold": 1.0,
        "message": "`run_id` is 0% filled; at least 100% expected.",
    }  # fmt: skip


def test_passing_records_and_the_checks_a_first_publication_gets() -> None:
    checks = gate_checks(patients(3), None)
    assert checks["patient_count"] == {
        "name": "patient_count", "kahn_category": "plausibility", "passed": True,
        "observed": 3, "threshold": [1, None],
        "message": "3 patients; expected at least 1, no upper limit.",
    }  # fmt: skip
    assert checks["completeness:sex"]["observed"] == 1.0
    # Without a previous partition nullable columns have floor 0: no completeness check.
    assert "completeness:vas_pain_postop" not in checks
    # 3 table checks, 17 non-nullable columns + 8 shift columns + quarantine.
    assert len(checks) == 3 + 17 + 8 + 1


def test_same_center_twice_in_a_process_gets_each_frame_judged() -> None:
    duplicated = patients(30, patient_id=[IDS[0]] * 30)
    assert failed(run_quality_gate(center(duplicated), None, CONFIG).checks) == {
        "unique_patient_id"
    }
    assert run_quality_gate(center(patients(30)), None, CONFIG).passed
    assert not run_quality_gate(center(duplicated), None, CONFIG).passed


def test_gate_keeps_no_reference_to_the_validated_frame() -> None:
    frame = patients(40)
    alive = weakref.ref(frame)
    gate = run_quality_gate(center(frame), None, CONFIG)
    del frame
    gc.collect()
    assert gate.passed
    assert alive() is None


def test_two_threads_gating_two_centers_get_their_own_verdicts() -> None:
    frames = {"lyon": patients(30, patient_id=[IDS[0]] * 30), "bologna": patients(30)}
    verdicts: dict[str, set[str]] = {}

    def work(center_id: str) -> None:
        for _ in range(3):
            gate = run_quality_gate(center(frames[center_id], center_id=center_id), None, CONFIG)
            verdicts[center_id] = failed(gate.checks) | verdicts.get(center_id, set())

    threads = [threading.Thread(target=work, args=(c,)) for c in frames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verdicts == {"lyon": {"unique_patient_id"}, "bologna": set()}


def test_validation_result_carries_what_the_data_docs_render() -> None:
    gate = run_quality_gate(center(patients(12)), patients(30), CONFIG)
    meta = gate.validation.meta
    assert meta["active_batch_definition"]["data_asset_name"] == "patients.boston"
    assert meta["batch_parameters"] == {"dataframe": "<DATAFRAME>"}
    assert {"run_id", "validation_time", "batch_markers"} <= set(meta)
    assert gate.validation.suite_name == "patients.boston"
    assert len(gate.validation.results) == len(gate.checks) - 9  # 8 shift + quarantine


def test_importing_the_gate_does_not_import_great_expectations() -> None:
    code = (
        "import sys, spinemet_etl.quality.gate, spinemet_etl.quality.docs;"
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_pickled_verdict_renders_its_failures_in_the_data_docs(tmp_path: Path) -> None:
    # Worker processes send the verdict back pickled; the run's process builds the docs.
    frame = patients(30, patient_id=[IDS[0]] * 4 + IDS[4:])
    gate = pickle.loads(pickle.dumps(run_quality_gate(center(frame), None, CONFIG)))
    assert failed(gate.checks) == {"unique_patient_id"}
    build_data_docs(tmp_path, [gate], run_id="20261126T020000Z-3f2a")
    pages = list((tmp_path / "reports" / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == 1
    page = pages[0].read_text(encoding="utf-8")
    assert "4 unexpected values found" in page
    assert IDS[0] in page  # the duplicated pseudonym, listed once
    assert IDS[5] not in page
