"""Revised Tokuhashi and Tomita scores against scores.md, item by item, with hand-summed totals."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from schemas.patients import FRANKEL_GRADES, PRIMARY_TUMORS, VISCERAL_METS
from spinemet_etl.scores import (
    tokuhashi_revised,
    tokuhashi_survival_class,
    tomita,
    tomita_strategy_class,
)

BEST = {  # revised Tokuhashi 2+2+2+2+5+2 = 15; Tomita 1+0+1 = 2
    "kps_preop": 90,
    "extraspinal_bone_mets_n": 0,
    "vertebral_mets_n": 1,
    "visceral_mets": "none",
    "primary_tumor": "breast",
    "frankel_preop": "E",
}


def patients(*changes: dict[str, Any]) -> pd.DataFrame:
    """Canonical-typed rows: BEST with each change applied."""
    rows = [{**BEST, **change} for change in changes]
    frame = pd.DataFrame(rows)
    return frame.astype(
        {
            "kps_preop": "Int16",
            "extraspinal_bone_mets_n": "Int16",
            "vertebral_mets_n": "Int16",
            "visceral_mets": pd.CategoricalDtype(VISCERAL_METS),
            "primary_tumor": pd.CategoricalDtype(PRIMARY_TUMORS),
            "frankel_preop": pd.CategoricalDtype(FRANKEL_GRADES, ordered=True),
        }
    )


TOKUHASHI_ITEMS = [
    ("kps_preop", 0, 0), ("kps_preop", 10, 0), ("kps_preop", 40, 0), ("kps_preop", 50, 1),
    ("kps_preop", 70, 1), ("kps_preop", 80, 2), ("kps_preop", 100, 2),
    ("extraspinal_bone_mets_n", 0, 2), ("extraspinal_bone_mets_n", 1, 1),
    ("extraspinal_bone_mets_n", 2, 1), ("extraspinal_bone_mets_n", 3, 0),
    ("extraspinal_bone_mets_n", 12, 0),
    ("vertebral_mets_n", 1, 2), ("vertebral_mets_n", 2, 1), ("vertebral_mets_n", 3, 0),
    ("vertebral_mets_n", 7, 0),
    ("visceral_mets", "unremovable", 0), ("visceral_mets", "removable", 1),
    ("visceral_mets", "none", 2),
    ("frankel_preop", "A", 0), ("frankel_preop", "B", 0), ("frankel_preop", "C", 1),
    ("frankel_preop", "D", 1), ("frankel_preop", "E", 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("column", "value", "points"),
    TOKUHASHI_ITEMS,
    ids=[f"{column}={value}" for column, value, _ in TOKUHASHI_ITEMS],
)
def test_tokuhashi_item_points(column: str, value: Any, points: int) -> None:
    # every other item at its maximum of 2, primary breast 5: total = 13 + points
    assert tokuhashi_revised(patients({column: value})).iloc[0] == 13 + points


TOKUHASHI_PRIMARY = {
    0: ["lung", "osteosarcoma", "stomach", "bladder", "esophagus", "pancreas"],
    1: ["liver", "gallbladder", "unknown_primary"],
    2: ["colon", "melanoma", "sarcoma", "myeloma", "lymphoma", "other"],
    3: ["kidney", "uterus"],
    4: ["rectum"],
    5: ["thyroid", "breast", "prostate", "carcinoid"],
}
PRIMARY_CASES = [(site, points) for points, sites in TOKUHASHI_PRIMARY.items() for site in sites]


def test_primary_table_covers_every_category() -> None:
    assert sorted(site for site, _ in PRIMARY_CASES) == sorted(PRIMARY_TUMORS)


@pytest.mark.parametrize(("site", "points"), PRIMARY_CASES, ids=[s for s, _ in PRIMARY_CASES])
def test_tokuhashi_primary_points(site: str, points: int) -> None:
    # the five other items at 2 each: total = 10 + points
    assert tokuhashi_revised(patients({"primary_tumor": site})).iloc[0] == 10 + points


def test_tokuhashi_hand_summed_mixed_patients() -> None:
    frame = patients(
        # KPS 60 ->1, 2 extraspinal ->1, 4 vertebrae ->0, removable ->1, kidney ->3, C ->1: 7
        {"kps_preop": 60, "extraspinal_bone_mets_n": 2, "vertebral_mets_n": 4,
         "visceral_mets": "removable", "primary_tumor": "kidney", "frankel_preop": "C"},
        # 30 ->0, 5 ->0, 3 ->0, unremovable ->0, lung ->0, A ->0: 0
        {"kps_preop": 30, "extraspinal_bone_mets_n": 5, "vertebral_mets_n": 3,
         "visceral_mets": "unremovable", "primary_tumor": "lung", "frankel_preop": "A"},
        # 80 ->2, 0 ->2, 2 ->1, none ->2, rectum ->4, D ->1: 12
        {"kps_preop": 80, "vertebral_mets_n": 2, "primary_tumor": "rectum",
         "frankel_preop": "D"},
    )  # fmt: skip
    result = tokuhashi_revised(frame)
    assert result.dtype == "Int16"
    assert result.tolist() == [7, 0, 12]


@pytest.mark.parametrize("column", list(BEST), ids=list(BEST))
def test_tokuhashi_null_when_any_item_unknown(column: str) -> None:
    result = tokuhashi_revised(patients({column: None}, {}))
    assert result.isna().tolist() == [True, False]


TOMITA_CASES: list[tuple[dict[str, Any], int]] = [
    # (changes, total by hand)
    ({}, 2),  # breast 1 + none 0 + solitary 1
    ({"primary_tumor": "prostate"}, 2), ({"primary_tumor": "thyroid"}, 2),
    ({"primary_tumor": "carcinoid"}, 2),
    ({"primary_tumor": "kidney"}, 3), ({"primary_tumor": "uterus"}, 3),
    ({"primary_tumor": "myeloma"}, 3), ({"primary_tumor": "lymphoma"}, 3),
    ({"primary_tumor": "lung"}, 5), ({"primary_tumor": "unknown_primary"}, 5),
    ({"primary_tumor": "other"}, 5), ({"primary_tumor": "rectum"}, 5),
    ({"visceral_mets": "removable"}, 4), ({"visceral_mets": "unremovable"}, 6),
    ({"vertebral_mets_n": 2}, 3), ({"extraspinal_bone_mets_n": 1}, 3),
    # lung 4 + unremovable 4 + 3 vertebrae and 2 elsewhere, multiple 2
    ({"primary_tumor": "lung", "visceral_mets": "unremovable", "vertebral_mets_n": 3,
      "extraspinal_bone_mets_n": 2}, 10),
    # kidney 2 + removable 2 + multiple 2
    ({"primary_tumor": "kidney", "visceral_mets": "removable", "vertebral_mets_n": 2}, 6),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "total"),
    TOMITA_CASES,
    ids=[",".join(f"{k}={v}" for k, v in c.items()) or "best" for c, _ in TOMITA_CASES],
)
def test_tomita_hand_summed(changes: dict[str, Any], total: int) -> None:
    result = tomita(patients(changes))
    assert result.dtype == "Int16"
    assert result.iloc[0] == total


@pytest.mark.parametrize(
    "column",
    ["primary_tumor", "visceral_mets", "vertebral_mets_n", "extraspinal_bone_mets_n"],
    ids=["primary", "visceral", "vertebral", "extraspinal"],
)
def test_tomita_null_when_any_item_unknown(column: str) -> None:
    assert tomita(patients({column: None}, {})).isna().tolist() == [True, False]


def test_tomita_ignores_kps_and_frankel() -> None:
    assert tomita(patients({"kps_preop": None, "frankel_preop": None})).iloc[0] == 2


@pytest.mark.parametrize(
    ("score", "label"),
    [(0, "<6m"), (8, "<6m"), (9, "6-12m"), (11, "6-12m"), (12, ">=12m"), (15, ">=12m")],
    ids=["0", "8", "9", "11", "12", "15"],
)
def test_tokuhashi_survival_class_boundaries(score: int, label: str) -> None:
    assert tokuhashi_survival_class(pd.Series([score], dtype="Int16")).iloc[0] == label


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (2, "wide_or_marginal_excision"), (3, "wide_or_marginal_excision"),
        (4, "marginal_or_intralesional"), (5, "marginal_or_intralesional"),
        (6, "palliative"), (7, "palliative"), (8, "supportive_care"), (10, "supportive_care"),
    ],
    ids=["2", "3", "4", "5", "6", "7", "8", "10"],
)  # fmt: skip
def test_tomita_strategy_class_boundaries(score: int, label: str) -> None:
    assert tomita_strategy_class(pd.Series([score], dtype="Int16")).iloc[0] == label


def test_classes_are_ordered_and_null_for_null_or_out_of_range() -> None:
    classes = tomita_strategy_class(pd.Series([None, 1, 11, 9], dtype="Int16", index=[5, 6, 7, 8]))
    assert classes.isna().tolist() == [True, True, True, False]
    assert classes.index.tolist() == [5, 6, 7, 8]
    assert classes.cat.ordered
    assert tokuhashi_survival_class(pd.Series([3, None], dtype="Int16")).isna().tolist() == [
        False,
        True,
    ]
