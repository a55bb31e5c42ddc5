"""The consortium plan, reproducible bytes, and dirt at the center level."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spinemet_etl.errors import ConfigError
from spinemet_etl.synth import latent_cohort, plan_consortium, write_consortium
from spinemet_etl.synth.consortium import PATIENT_CAPS
from spinemet_etl.synth.dirt import DIRT_KINDS

TINY = {"n_patients": 60, "dirt_rate": 0.1}


def _contents(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = write_consortium(tmp_path / "a", seed=5, **TINY)  # type: ignore[arg-type]
    write_consortium(tmp_path / "b", seed=5, **TINY)  # type: ignore[arg-type]
    assert len(first) == 7
    assert _contents(tmp_path / "a") == _contents(tmp_path / "b")


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    write_consortium(tmp_path / "a", seed=5, **TINY)  # type: ignore[arg-type]
    write_consortium(tmp_path / "b", seed=6, **TINY)  # type: ignore[arg-type]
    a, b = _contents(tmp_path / "a"), _contents(tmp_path / "b")
    same = sorted(name for name in a if a[name] == b[name])
    assert same == ["barcelona/SPINEMETS_DataDictionary_2026-03-31.csv"]


def test_default_plan_is_the_six_demo_centers() -> None:
    plan = plan_consortium(6, None)
    assert [(p.center_id, p.patients) for p in plan] == [
        ("bologna", 249), ("barcelona", 150), ("rotterdam", 120),
        ("muenchen", 180), ("boston", 200), ("lyon", 90),
    ]  # fmt: skip


def test_clones_cycle_through_the_kinds() -> None:
    plan = plan_consortium(14, None)
    assert [p.center_id for p in plan[6:]] == [
        "bologna_07", "barcelona_08", "rotterdam_09", "muenchen_10", "boston_11", "lyon_12",
        "bologna_13", "barcelona_14",
    ]  # fmt: skip
    assert plan[12].kind == "bologna"


@pytest.mark.parametrize("total", [6, 1_000, 1_000_000], ids=["one-each", "thousand", "million"])
def test_patients_are_split_exactly_within_caps(total: int) -> None:
    plan = plan_consortium(6, total)
    assert sum(p.patients for p in plan) == total
    assert all(p.patients >= 1 for p in plan)
    assert all(p.patients <= PATIENT_CAPS.get(p.kind, total) for p in plan)


def test_a_million_patients_go_mostly_to_csv_centers() -> None:
    sizes = {p.center_id: p.patients for p in plan_consortium(6, 1_000_000)}
    assert sizes["bologna"] == PATIENT_CAPS["bologna"]
    assert sizes["barcelona"] + sizes["muenchen"] + sizes["boston"] > 800_000


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"n_centers": 5}, "--centers 5"),
        ({"n_centers": 6, "n_patients": 3}, "--patients 3"),
        ({"dirt_rate": 1.5}, "--dirt 1.5"),
    ],
    ids=["too-few-centers", "too-few-patients", "dirt-out-of-range"],
)
def test_bad_arguments_are_config_errors(
    tmp_path: Path, arguments: dict[str, float], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        write_consortium(tmp_path, **arguments)  # type: ignore[arg-type]


def test_dirt_count_and_kinds() -> None:
    frame = latent_cohort("boston", seed=3, dirt_rate=0.04)
    originals = frame[~frame["is_copy"]]
    assert len(originals) == 200
    assert (originals["dirt"] != "").sum() == 8
    assert sorted(originals.loc[originals["dirt"] != "", "dirt"]) == sorted(DIRT_KINDS)


def test_clean_run_has_no_dirt_and_the_same_patients() -> None:
    clean = latent_cohort("muenchen", seed=3, dirt_rate=0.0)
    dirty = latent_cohort("muenchen", seed=3, dirt_rate=0.05)
    assert (clean["dirt"] == "").all() and not clean["is_copy"].any()
    untouched = dirty[(dirty["dirt"] == "") & ~dirty["is_copy"]].set_index("record_number")
    same = clean.set_index("record_number").loc[untouched.index, "surgery_date"]
    pd.testing.assert_series_equal(same, untouched["surgery_date"])


def test_duplicate_patient_appears_twice_with_one_source_id() -> None:
    frame = latent_cohort("lyon", seed=9, dirt_rate=0.1)
    doubled = frame[frame["dirt"] == "duplicate_patient"]
    assert len(doubled) == 2 and doubled["record_number"].nunique() == 1
    assert doubled["is_copy"].tolist() == [False, True]


def test_unknown_center_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="milano"):
        latent_cohort("milano")
