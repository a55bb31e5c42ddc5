"""compute_endpoints: shape and order of the table, hand-worked endpoints, empty strata."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pytest

from spinemet_etl.endpoints import ENDPOINT_CODES, compute_endpoints

Build = Callable[[pd.DataFrame], pd.DataFrame]
POOLED_ONLY = {code for code in ENDPOINT_CODES if code.startswith("os_logrank") or
               code.startswith("os_cox") or code.endswith(("_re", "_re_reml", "_pi"))}  # fmt: skip
ALL_ONLY = {"procedure_palliative_n", "procedure_curettage_n", "procedure_en_bloc_n"}
POOLED_SCOPE_ONLY = {"tokuhashi_cindex_stratified", "tomita_cindex_stratified"}
PER_STRATUM = len(
    [code for code in ENDPOINT_CODES if code not in POOLED_ONLY | ALL_ONLY | POOLED_SCOPE_ONLY]
)


@pytest.fixture
def two_centers(make_patients: Build) -> pd.DataFrame:
    """Center `aa`: 4 palliative patients; center `bb`: 1 curettage patient. No en bloc."""
    return make_patients(pd.DataFrame({
        "center_id": ["aa", "aa", "aa", "aa", "bb"],
        "procedure": ["palliative"] * 4 + ["curettage"],
        "days": [0, 30, 31, 400, 75],
        "dead": [1, 1, 1, 0, 1],
        "intraop_death": [True, False, False, False, False],
        "sex": ["male", "female", "female", "male", "female"],
        "age": [50.0, 60.0, 70.0, 80.0, 40.0],
        "vas_pre": [8.0, 7.3, 1.0, 6.0, 9.0],
        "vas_post": [2.0, 5.3, 0.0, 5.0, 9.0],
        "frankel_pre": [None, "C", "E", "D", "B"],
        "frankel_post": [None, "D", "D", "D", "B"],
        "local_recurrence": [None, None, True, False, False],
        "lr_days": [np.nan, np.nan, 20.0, np.nan, np.nan],
        "anesthetic_risk": ["high", "high", None, "low", "low"],
    }))  # fmt: skip


def _row(table: pd.DataFrame, center: str, endpoint: str, stratum: str = "all") -> pd.Series:
    hit = table[(table["center_id"] == center) & (table["stratum"] == stratum)
                & (table["endpoint"] == endpoint)]  # fmt: skip
    assert len(hit) == 1
    return hit.iloc[0]


def test_every_scope_stratum_and_endpoint_is_present_in_display_order(
    two_centers: pd.DataFrame,
) -> None:
    table = compute_endpoints(two_centers)
    expected = []
    for center in ["aa", "bb", "ALL"]:
        for stratum in ["all", "procedure=palliative", "procedure=curettage", "procedure=en_bloc"]:
            left_out = POOLED_ONLY | (set() if stratum == "all" else ALL_ONLY)
            if center != "ALL":
                left_out |= POOLED_SCOPE_ONLY
            codes = [c for c in ENDPOINT_CODES if c not in left_out]
            if center == "ALL" and stratum == "all":
                codes = ENDPOINT_CODES
            expected += [(center, stratum, code) for code in codes]
    assert list(table[["center_id", "stratum", "endpoint"]].itertuples(index=False)) == expected


def test_a_stratum_without_patients_has_n_zero_and_null_estimates(
    two_centers: pd.DataFrame,
) -> None:
    table = compute_endpoints(two_centers)
    empty = table[(table["center_id"] == "aa") & (table["stratum"] == "procedure=en_bloc")]
    assert len(empty) == PER_STRATUM
    assert (empty["n"] == 0).all()
    values = ["estimate", "numerator", "denominator", "se", "ci_lower", "ci_upper", "p_value"]
    assert empty[values].isna().all().all()


@pytest.mark.parametrize(
    ("endpoint", "estimate", "numerator", "denominator"),
    [
        ("patients_n", 4, 4, None),
        ("male_n", 2, 2, 4),
        ("anesthetic_risk_high_n", 2, 2, 3),
        ("intraop_death_n", 1, 1, 4),
        # day 30 counts (0 ≤ 30 ≤ 30), day 31 does not; the intraoperative death is apart
        ("death_30d_postop_n", 1, 1, 4),
        ("mortality_30d_pct", 50.0, 2, 4),
        # eligible: 7.3 (→ 5.3, relieved by exactly 2) and 6 (→ 5, not); 1.0 < 2 is not
        ("pain_relief_pct", 50.0, 1, 2),
        # eligible: C → D (improved), D → D; E → D is left out (nothing to improve)
        ("neuro_improvement_pct", 50.0, 1, 2),
        # eligible: C → D, E → D (worse), D → D
        ("neuro_worsening_pct", 100 / 3, 1, 3),
        # followed up: > 30 days, so days 31 and 400
        ("followed_up_n", 2, 2, 4),
        ("local_control_pct", 50.0, 1, 2),
    ],
    ids=lambda value: str(value),
)
def test_hand_worked_counts_and_proportions_of_center_aa(
    two_centers: pd.DataFrame,
    endpoint: str,
    estimate: float,
    numerator: int,
    denominator: int | None,
) -> None:
    row = _row(compute_endpoints(two_centers), "aa", endpoint)
    assert row["estimate"] == pytest.approx(estimate)
    assert row["numerator"] == numerator
    assert pd.isna(row["denominator"]) if denominator is None else row["denominator"] == denominator


def test_age_mean_and_sd_and_follow_up_mean(two_centers: pd.DataFrame) -> None:
    table = compute_endpoints(two_centers)
    assert _row(table, "aa", "age_mean_years")["estimate"] == 65.0
    assert _row(table, "aa", "age_sd_years")["estimate"] == pytest.approx(
        np.std([50, 60, 70, 80], ddof=1)
    )
    assert pd.isna(_row(table, "bb", "age_sd_years")["estimate"])
    followup = _row(table, "aa", "followup_mean_months")["estimate"]
    assert followup == pytest.approx((31 + 400) / 2 / 30.4375)


def test_wilson_interval_is_in_percent(two_centers: pd.DataFrame) -> None:
    row = _row(compute_endpoints(two_centers), "aa", "mortality_30d_pct")
    z2 = 1.959963984540054**2
    centre = (0.5 + z2 / 8) / (1 + z2 / 4)
    assert row["ci_lower"] + row["ci_upper"] == pytest.approx(200 * centre)


def test_center_with_one_patient(two_centers: pd.DataFrame) -> None:
    table = compute_endpoints(two_centers)
    assert _row(table, "bb", "os_median_months")["estimate"] == pytest.approx(75 / 30.4375)
    assert pd.isna(_row(table, "bb", "os_median_months")["se"])
    assert pd.isna(_row(table, "bb", "tokuhashi_cindex")["estimate"])
    assert _row(table, "bb", "tokuhashi_cindex")["n"] == 0


def test_pooled_analyses_only_at_all_all(two_centers: pd.DataFrame) -> None:
    table = compute_endpoints(two_centers)
    pooled = table[table["endpoint"].isin(POOLED_ONLY)]
    assert set(zip(pooled["center_id"], pooled["stratum"], strict=True)) == {("ALL", "all")}
    assert len(pooled) == len(POOLED_ONLY)
    assert _row(table, "ALL", "mortality_30d_pct_re")["n"] == 5


def test_pooled_tests_of_a_single_center_are_null_with_the_reason(make_patients: Build) -> None:
    patients = make_patients(pd.DataFrame({
        "center_id": "solo", "procedure": ["palliative", "curettage"], "days": [10, 20],
        "dead": [1, 1],
    }))  # fmt: skip
    table = compute_endpoints(patients)
    row = _row(table, "ALL", "os_logrank_centers")
    assert pd.isna(row["estimate"]) and "not computed" in row["method"]
    assert "not computed" in _row(table, "ALL", "local_control_pct_re")["method"]
    assert pd.isna(_row(table, "ALL", "os_cox_hr_en_bloc")["estimate"])


def test_pain_threshold_is_a_parameter_recorded_in_method(two_centers: pd.DataFrame) -> None:
    row = _row(compute_endpoints(two_centers, pain_mcid=1.0), "aa", "pain_relief_pct")
    # with 1 point: eligible 8 is intraop (excluded); 7.3→5.3, 1→0 and 6→5 all relieved
    assert (row["numerator"], row["denominator"]) == (3, 3)
    assert "pain_mcid=1" in row["method"]


def test_no_patients_at_all_gives_the_pooled_rows_with_n_zero(two_centers: pd.DataFrame) -> None:
    table = compute_endpoints(two_centers.iloc[0:0])
    assert set(table["center_id"]) == {"ALL"}
    assert (table["n"] == 0).all()
    assert table["estimate"].isna().all()
    assert len(table) == len(ENDPOINT_CODES) + 3 * (PER_STRATUM + len(POOLED_SCOPE_ONLY))


@pytest.mark.parametrize(
    "categories",
    [["aa", "bb"], ["zz", "bb", "aa"], ["bb", "aa", "unused"]],
    ids=["sorted", "unsorted-with-unused", "unused-last"],
)
def test_center_id_as_category_gives_the_same_table(
    two_centers: pd.DataFrame, categories: list[str]
) -> None:
    as_category = two_centers.assign(
        center_id=pd.Categorical(two_centers["center_id"], categories=categories)
    )
    expected = compute_endpoints(two_centers)
    pd.testing.assert_frame_equal(compute_endpoints(as_category), expected, check_exact=True)
    assert set(expected["center_id"]) == {"aa", "bb", "ALL"}


@pytest.mark.parametrize(
    ("cutoffs", "clark", "seen"),
    [({}, (150, 150), (1, 1)), ({"aa": date(2011, 5, 16)}, (150, 550), (0, 1))],
    ids=["latest-contact", "stated"],
)
def test_followup_completeness_against_the_data_cutoff(
    make_patients: Build, cutoffs: dict[str, date], clark: tuple[int, int], seen: tuple[int, int]
) -> None:
    """Worked by hand: one patient alive, last seen on day 100; one dead on day 50. Without a
    stated cut-off it is day 100 (the latest contact): observed 100 + 50 = potential 100 +
    50, and the alive patient was seen on the cut-off day. Stated as day 500 (2011-05-16):
    potential 500 + 50, and the alive patient was last seen 400 days before it."""
    short = {"center_id": "aa", "procedure": "palliative", "days": [100, 50], "dead": [0, 1]}
    patients = make_patients(pd.DataFrame(short))
    table = compute_endpoints(patients, data_cutoffs=cutoffs)
    completeness = _row(table, "aa", "followup_completeness_pct")
    assert (completeness["numerator"], completeness["denominator"]) == clark
    assert completeness["estimate"] == pytest.approx(100 * clark[0] / clark[1])
    alive = _row(table, "aa", "alive_seen_12m_pct")
    assert (alive["numerator"], alive["denominator"]) == seen
