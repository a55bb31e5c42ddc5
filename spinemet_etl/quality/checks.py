"""The gate's checks that GX does not express: distribution shift and quarantine share."""

from __future__ import annotations

from typing import Any

import pandas as pd

from spinemet_etl.quality.config import CategoryShiftConfig, QuarantineConfig
from spinemet_etl.results import CenterResult

CONFORMANCE, COMPLETENESS, PLAUSIBILITY = "conformance", "completeness", "plausibility"
"""The categories of Kahn et al.'s harmonized data-quality framework (eGEMs 2016)."""


def check(
    name: str, category: str, passed: bool, observed: Any, threshold: Any, message: str
) -> dict[str, Any]:
    """One check's record, as the manifest and the artifacts show it."""
    return {
        "name": name,
        "kahn_category": category,
        "passed": bool(passed),
        "observed": observed,
        "threshold": threshold,
        "message": message,
    }


def _shares(values: pd.Series) -> pd.Series:
    """Each value's share of the rows, missing as `<missing>`; counted in the column's own dtype."""
    counts = values.value_counts(dropna=False, sort=False)
    keys = counts.index.astype(object)
    keys = keys.where(keys.notna(), "<missing>")
    shares = pd.Series(counts.to_numpy(), index=keys)
    if not keys.is_unique:  # None and NaN are both `<missing>`
        shares = shares.groupby(level=0, sort=False).sum()
    return shares[shares > 0] / max(len(values), 1)


def total_variation_distance(current: pd.Series, previous: pd.Series) -> float:
    """Half the L1 distance between two value distributions; missing values count as a value.

    Notes:
        Missing is kept as its own category so that a column turning empty also shows as
        a shift; 0 means identical distributions, 1 disjoint ones.
    """
    new, old = _shares(current).align(_shares(previous), fill_value=0.0)
    return float((new - old).abs().sum() / 2)


def _shift_check(
    column: str, current: pd.DataFrame, previous: pd.DataFrame | None, config: CategoryShiftConfig
) -> dict[str, Any]:
    name, limit = f"category_shift:{column}", config.max_tvd
    if previous is None or column not in previous or column not in current:
        return check(name, PLAUSIBILITY, True, None, limit, f"`{column}`: nothing to compare with.")
    if min(len(current), len(previous)) < config.min_rows:
        message = f"`{column}` not compared: fewer than {config.min_rows} rows."
        return check(name, PLAUSIBILITY, True, None, limit, message)
    tvd = round(total_variation_distance(current[column], previous[column]), 4)
    verdict = "within" if tvd <= limit else "beyond"
    message = (
        f"`{column}` distribution moved {tvd:.2f} (total variation) since the last "
        f"publication, {verdict} the limit {limit}."
    )
    return check(name, PLAUSIBILITY, tvd <= limit, tvd, limit, message)


def category_shift_checks(
    current: pd.DataFrame, previous: pd.DataFrame | None, config: CategoryShiftConfig
) -> list[dict[str, Any]]:
    """Per configured column: the distribution moved at most `max_tvd` since the last publication.

    Notes:
        Small samples move by chance (with 20 patients one patient is 5 points), so the
        comparison is made only when both frames have `min_rows` rows; otherwise it passes
        and says why.
    """
    return [_shift_check(column, current, previous, config) for column in config.columns]


def rows_quarantined(result: CenterResult) -> tuple[int, int]:
    """(rows quarantined, rows read) of a center: from its files, else from its tables."""
    if result.files:
        return (
            sum(stats.rows_quarantined for stats in result.files),
            sum(stats.rows_read for stats in result.files),
        )
    keys = [c for c in ("source_file", "source_row") if c in result.quarantine]
    quarantined = len(result.quarantine.drop_duplicates(keys)) if keys else 0
    return quarantined, quarantined + len(result.patients)


def quarantine_share_check(result: CenterResult, config: QuarantineConfig) -> dict[str, Any]:
    """The share of rows read that went to quarantine stays below `max_share`.

    Notes:
        A share of a handful of rows is noise: one duplicated pair of a 5-patient center
        is 40 %. The share is judged only when at least `min_rows` rows were read or at
        least `min_quarantined` were quarantined; below both the check passes and says so
        (the quarantined rows are still in the quarantine, with their reasons).
    """
    quarantined, read = rows_quarantined(result)
    share = round(quarantined / read, 4) if read else 1.0
    judged = read >= config.min_rows or quarantined >= config.min_quarantined
    passed = share <= config.max_share or not judged
    verdict = "within" if share <= config.max_share else "above"
    message = (
        f"{quarantined} of {read} rows read were quarantined ({share:.1%}), "
        f"{verdict} the limit {config.max_share:.0%}."
    )
    if not judged:
        message += (
            f" Not judged: fewer than {config.min_rows} rows read and fewer than "
            f"{config.min_quarantined} quarantined."
        )
    return check("quarantine_share", CONFORMANCE, passed, share, config.max_share, message)


ACCEPT_KEYS = {
    "patient_count": "patient_count.min_ratio",
    "completeness": "completeness.columns.{column}",
    "category_shift": "category_shift.max_tvd",
    "quarantine_share": "quarantine.max_share",
}
"""The threshold that accepts a failed check, by the check's name (before `:`)."""


def how_to_accept(center_id: str, checks: list[dict[str, Any]]) -> str:
    """The sentence a hold message ends with: how to accept the center as it is."""
    keys = []
    for record in checks:
        kind, _, column = str(record["name"]).partition(":")
        if not record["passed"] and kind in ACCEPT_KEYS:
            keys.append(f"`{ACCEPT_KEYS[kind].format(column=column)}`")
    if not keys:
        return "Fix the export or the mapping and run again."
    return (
        f"If the data are right, accept them: set {', '.join(dict.fromkeys(keys))} under "
        f"`quality:`, with a `reason:`, in centers/{center_id}.yaml (docs/quality.md)."
    )
