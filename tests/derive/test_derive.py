"""Derived columns and source-shape derivations on hand-worked literal frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spinemet_etl.derive import (
    add_derived_columns,
    age_from_birth_date,
    date_from_duration,
    frankel_from_asia,
    summarize_visits,
    vas_from_0_100,
)


def dates(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype="datetime64[ns]")


def canonical_rows() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "surgery_date": dates("2020-01-01", "2020-01-01", "2020-01-01", "2021-06-15"),
            "last_contact_date": dates("2020-07-01", "2020-07-01", "2020-04-10", "2021-06-15"),
            "vital_status": pd.Categorical(
                ["dead", "alive", "alive", "dead"], categories=["alive", "dead"]
            ),
            "local_recurrence": pd.array([True, True, None, False], dtype="boolean"),
            "local_recurrence_date": dates("2020-03-01", None, None, None),
            "kps_preop": pd.array([90, 50, None, 30], dtype="Int16"),
            "extraspinal_bone_mets_n": pd.array([0, 2, 0, 4], dtype="Int16"),
            "vertebral_mets_n": pd.array([1, 2, 1, 3], dtype="Int16"),
            "visceral_mets": pd.Categorical(
                ["none", "removable", "none", "unremovable"],
                categories=["none", "removable", "unremovable"],
            ),
            "primary_tumor": pd.Categorical(["breast", "kidney", "lung", "lung"]),
            "frankel_preop": pd.Categorical(["E", "C", "E", "A"], categories=list("ABCDE")),
        }
    )
    return frame


def test_survival_times_and_events_by_hand() -> None:
    out = add_derived_columns(canonical_rows())
    # 2020-01-01 -> 2020-07-01 is 182 days (leap year); -> 2020-04-10 is 100 days
    assert out["os_months"].tolist() == pytest.approx(
        [182 / 30.4375, 182 / 30.4375, 100 / 30.4375, 0.0]
    )
    assert out["os_event"].tolist() == [True, False, False, True]
    # recurrence dated 2020-03-01 (60 days); flagged without a date: censored at last contact
    assert out["lc_months"].tolist() == pytest.approx(
        [60 / 30.4375, 182 / 30.4375, 100 / 30.4375, 0.0]
    )
    assert out["lc_event"].tolist() == [True, False, False, False]
    assert out["os_event"].dtype == bool and out["lc_event"].dtype == bool
    assert out["os_months"].dtype == "float64"


def test_scores_added_with_nulls() -> None:
    out = add_derived_columns(canonical_rows())
    # row 0: 2+2+2+2+5+2 = 15 ; row 1: 1+1+1+1+3+1 = 8 ; row 2: KPS unknown ; row 3: 0
    assert out["tokuhashi_revised"].tolist() == [15, 8, pd.NA, 0]
    # row 0: 1+0+1 ; row 1: 2+2+2 ; row 2: 4+0+1 ; row 3: 4+4+2
    assert out["tomita"].tolist() == [2, 6, 5, 10]
    assert str(out["tomita"].dtype) == "Int16"


def test_input_frame_is_not_changed() -> None:
    frame = canonical_rows()
    add_derived_columns(frame)
    assert "os_months" not in frame.columns


@pytest.mark.parametrize(
    ("surgery", "birth", "years"),
    [
        ("2020-01-01", "1960-01-01", 21915 / 365.25),  # 60 × 365 + 15 leap days = 60.0
        ("2001-02-28", "2000-02-29", 365 / 365.25),
        ("2020-06-15", "2020-06-15", 0.0),
    ],
    ids=["sixty-years", "leap-birthday", "same-day"],
)
def test_age_from_birth_date(surgery: str, birth: str, years: float) -> None:
    assert age_from_birth_date(dates(surgery), dates(birth)).iloc[0] == pytest.approx(years)


def test_age_missing_birth_is_nan() -> None:
    assert np.isnan(age_from_birth_date(dates("2020-01-01"), dates(None)).iloc[0])


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        (10, "days", "2020-01-11"),
        (0.5, "days", "2020-01-02"),  # floor(0.5 + 0.5) = 1
        (0.49, "days", "2020-01-01"),
        (1.5, "weeks", "2020-01-12"),  # floor(10.5 + 0.5) = 11
        (1, "months", "2020-01-31"),  # floor(30.4375 + 0.5) = 30
        (2, "months", "2020-03-02"),  # floor(60.875 + 0.5) = 61, over 29 February
        (1, "years", "2020-12-31"),  # floor(365.25 + 0.5) = 365 in a leap year
        (2, "years", "2022-01-01"),  # floor(730.5 + 0.5) = 731
    ],
    ids=["days", "half-day-up", "just-below-half", "weeks", "one-month", "two-months",
         "one-year", "two-years"],
)  # fmt: skip
def test_date_from_duration(amount: float, unit: str, expected: str) -> None:
    result = date_from_duration(dates("2020-01-01"), pd.Series([amount]), unit)
    assert result.iloc[0] == pd.Timestamp(expected)


def test_date_from_duration_missing_amount_and_unknown_unit() -> None:
    result = date_from_duration(dates("2020-01-01", None), pd.Series([None, 3.0]), "months")
    assert result.isna().tolist() == [True, True]
    with pytest.raises(ValueError, match="unknown duration unit"):
        date_from_duration(dates("2020-01-01"), pd.Series([1]), "fortnights")


def test_vas_from_0_100() -> None:
    result = vas_from_0_100(pd.Series([0, 55, 100, None], dtype=object))
    assert result.tolist()[:3] == [0.0, 5.5, 10.0]
    assert np.isnan(result.iloc[3])
    with pytest.raises(ValueError):
        vas_from_0_100(pd.Series(["approx 5"]))


def test_frankel_from_asia() -> None:
    result = frankel_from_asia(pd.Series(["A", " c", "ASIA D", "e", "F", None]))
    assert result.tolist() == ["A", "C", "D", "E", "F", None]


def visits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": ["a", "a", "a", "a", "b", "b", "c", None],
            "visit": dates(
                "2020-02-01",
                "2020-05-01",
                "2020-08-01",
                "2020-09-01",
                "2020-03-01",
                "2020-01-15",
                "2020-04-04",
                "2021-01-01",
            ),
            "died": pd.array([False, False, False, True, False, False, None, True], "boolean"),
            "relapse": [0, 1, 1, 0, 0, 0, np.nan, 1],
        }
    )


def test_summarize_visits_by_hand() -> None:
    summary = summarize_visits(
        visits(), id_col="pid", date_col="visit", dead_col="died", recurrence_col="relapse"
    )
    assert summary["pid"].tolist() == ["a", "b", "c"]
    assert summary["last_contact_date"].tolist() == [
        pd.Timestamp("2020-09-01"), pd.Timestamp("2020-03-01"), pd.Timestamp("2020-04-04")
    ]  # fmt: skip
    assert summary["vital_status"].astype(str).tolist() == ["dead", "alive", "alive"]
    assert summary["death_date"].tolist()[0] == pd.Timestamp("2020-09-01")
    assert summary["death_date"].iloc[1:].isna().all()
    assert summary["local_recurrence"].tolist() == [True, False, False]
    assert summary["local_recurrence_date"].iloc[0] == pd.Timestamp("2020-05-01")
    assert summary["local_recurrence_date"].iloc[1:].isna().all()


def _visits_by_groupby(visits: pd.DataFrame) -> pd.DataFrame:
    """The summary as a pandas groupby of the visits gives it: the reference."""
    dead = visits["died"].astype("boolean").fillna(False).astype(bool)
    recurred = visits["relapse"].astype("boolean").fillna(False).astype(bool)
    groups = pd.DataFrame(
        {
            "id": visits["pid"],
            "date": visits["visit"],
            "dead": dead,
            "death_date": visits["visit"].where(dead),
            "recurred": recurred,
            "recurrence_date": visits["visit"].where(recurred),
        }
    ).groupby("id", sort=True, dropna=True)
    return pd.DataFrame(
        {
            "pid": groups["date"].max().index.to_numpy(dtype=object),
            "last_contact_date": groups["date"].max().to_numpy(),
            "vital_status": pd.Categorical(
                np.where(groups["dead"].any(), "dead", "alive"), categories=["alive", "dead"]
            ),
            "death_date": groups["death_date"].min().to_numpy(),
            "local_recurrence": pd.array(groups["recurred"].any().to_numpy(), dtype="boolean"),
            "local_recurrence_date": groups["recurrence_date"].min().to_numpy(),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summarize_visits_agrees_with_a_groupby(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2_000
    ids = ["p07", "p1", "P1", "é", "10", *(f"x{number}" for number in range(300))]
    days = rng.integers(0, 4_000, n).astype("timedelta64[D]") + np.datetime64("2012-01-01")
    visits = pd.DataFrame(
        {
            "pid": pd.Series(rng.choice([*ids, None], n), dtype=object),
            "visit": pd.Series(days.astype("datetime64[ns]")).where(rng.random(n) > 0.1),
            "died": pd.array(rng.choice([True, False, None], n, p=[0.05, 0.85, 0.1]), "boolean"),
            "relapse": rng.choice([1.0, 0.0, np.nan], n, p=[0.1, 0.8, 0.1]),
        }
    )
    summary = summarize_visits(
        visits, id_col="pid", date_col="visit", dead_col="died", recurrence_col="relapse"
    )
    expected = _visits_by_groupby(visits)
    vital = pd.CategoricalDtype(["alive", "dead"])
    summary["vital_status"] = summary["vital_status"].astype(str).astype(vital)
    expected["vital_status"] = expected["vital_status"].astype(vital)
    pd.testing.assert_frame_equal(summary, expected, check_exact=True)
    assert summary["death_date"].notna().sum() > 0 and summary["death_date"].isna().sum() > 0


def test_summarize_visits_without_recurrence_column() -> None:
    summary = summarize_visits(
        visits(), id_col="pid", date_col="visit", dead_col="died", recurrence_col=None
    )
    assert summary["local_recurrence"].isna().all()
    assert str(summary["local_recurrence"].dtype) == "boolean"
    assert summary["local_recurrence_date"].isna().all()


def test_summarize_visits_earliest_of_two_death_records_and_undated_death() -> None:
    frame = pd.DataFrame(
        {
            "pid": ["a", "a", "b"],
            "visit": dates("2020-06-01", "2020-05-01", None),
            "died": [True, True, True],
        }
    )
    summary = summarize_visits(
        frame, id_col="pid", date_col="visit", dead_col="died", recurrence_col=None
    )
    assert summary["death_date"].iloc[0] == pd.Timestamp("2020-05-01")
    assert summary["vital_status"].astype(str).tolist() == ["dead", "dead"]
    assert pd.isna(summary["death_date"].iloc[1])
