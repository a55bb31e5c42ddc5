"""Version 2 endpoints on the page, in headless Chromium, each cell read against R.

The page is the one the endpoint engine gives for R's veteran cohort with the edge cases
(tests/r/reference/veteran_and_odd), and each number it shows is compared with R's
committed result for it, formatted as the page's legend says.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import pytest

from spinemet_etl.endpoints import compute_endpoints
from spinemet_etl.report import render_report
from tests.browser import chromium_offline
from tests.endpoints.r_reference import REFERENCE, cohort_patients, read_datasets

pytestmark = pytest.mark.integration

COHORT = "veteran_and_odd"
R_ROWS = pd.read_csv(REFERENCE / COHORT / "endpoints.csv").set_index(
    ["center_id", "stratum", "endpoint"]
)
CENTERS = sorted(set(R_ROWS.index.get_level_values(0)) - {"ALL"})


@pytest.fixture(scope="module")
def dom(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The rendered page's DOM, as Chromium builds it offline."""
    patients = cohort_patients(COHORT, read_datasets(REFERENCE))
    folder = tmp_path_factory.mktemp("version2")
    page = folder / "report.html"
    page.write_text(render_report(patients, compute_endpoints(patients)), encoding="utf-8")
    return chromium_offline(page, folder / "profile", "--dump-dom").stdout


def _section(dom: str, section: str) -> str:
    start = dom.index(f'<section id="{section}">')
    return dom[start : dom.index("</section>", start)]


def _cells(dom: str, label: str, section: str = "endpoints") -> list[str]:
    """The cells of the first table row headed `label`: centers in order, then pooled."""
    found = re.search(rf">{re.escape(label)}</th>(.*?)</tr>", _section(dom, section), re.S)
    assert found is not None, f"no row '{label}' in section {section}"
    return re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)


def _r(endpoint: str, center: str = "ALL", stratum: str = "all") -> pd.Series:
    return R_ROWS.loc[(center, stratum, endpoint)]


def _ci(r: pd.Series, digits: int = 1) -> str:
    return f"(95 % CI {r['ci_lower']:.{digits}f}–{r['ci_upper']:.{digits}f})"


def _count_cells(endpoint: str) -> list[str]:
    return [f"{_r(endpoint, c)['estimate']:.0f}" for c in [*CENTERS, "ALL"]]


@pytest.mark.parametrize(
    ("label", "endpoint"),
    [
        ("Deaths (events of overall survival)", "os_events_n"),
        ("At risk at 6 months", "os_at_risk_6m"),
        ("At risk at 12 months", "os_at_risk_12m"),
        ("At risk at 24 months", "os_at_risk_24m"),
    ],
)
def test_events_and_numbers_at_risk_per_center(dom: str, label: str, endpoint: str) -> None:
    assert _cells(dom, label) == _count_cells(endpoint)


@pytest.mark.parametrize("horizon", [24, 60])
def test_restricted_mean_to_a_common_horizon(dom: str, horizon: int) -> None:
    r = _r(f"os_rmst_{horizon}m")
    pooled = _cells(dom, f"Overall survival, restricted mean to {horizon} months")[-1]
    assert pooled == f"{r['estimate']:.1f} ± {r['se']:.1f} {_ci(r)}"
    assert "Overall survival, restricted mean (months)" not in dom  # replaced by the horizons


@pytest.mark.parametrize("months", [12, 24])
def test_cumulative_incidence_of_local_recurrence(dom: str, months: int) -> None:
    label = f"Local recurrence by {months} months, cumulative incidence (death competing)"
    cells = _cells(dom, label)
    r = _r(f"lc_cuminc_{months}m", "syn_long")
    assert cells[CENTERS.index("syn_long")] == f"{r['estimate']:.1f} % {_ci(r)}"
    assert cells[CENTERS.index("syn_censored")] == "0.0 %"  # no recurrence: no CI
    assert "Free of local recurrence at 12 months (KM)" not in dom


def test_follow_up_completeness_and_patients_seen(dom: str) -> None:
    label = "Follow-up completeness, Clark's index (observed ÷ potential follow-up)"
    expected = [
        f"{_r('followup_completeness_pct', c)['estimate']:.1f} %" for c in [*CENTERS, "ALL"]
    ]
    assert _cells(dom, label) == expected
    r = _r("alive_seen_12m_pct")
    seen = _cells(dom, "Alive at last contact and seen within 12 months of the data cut-off")
    assert seen[-1] == f"{r['estimate']:.1f} % {_ci(r)} {r['numerator']:.0f}/{r['denominator']:.0f}"


def test_c_indices_have_their_confidence_intervals(dom: str) -> None:
    r = _r("tokuhashi_cindex")
    cells = _cells(dom, "Revised Tokuhashi vs survival, Harrell's C")
    assert cells[-1] == f"{r['estimate']:.2f} {_ci(r, 2)}, n = {r['n']:.0f}"
    r = _r("tomita_cindex_stratified")
    stratified = _cells(dom, "Tomita vs survival, Harrell's C stratified by center", "pooled")
    assert stratified[0] == f"{r['estimate']:.2f} {_ci(r, 2)}, n = {r['n']:.0f}"


def test_hazard_ratios_carry_the_caveat_and_the_ph_test(dom: str) -> None:
    p = _r("os_cox_ph_global_p")["p_value"]
    caveat = re.search(r'id="not-randomized">(.*?)</p>', dom, re.S)
    assert caveat is not None and "not randomized" in caveat.group(1)
    assert f"p = {p:.2f}" in re.sub(r"<[^>]+>", "", caveat.group(1))
    hazard = _cells(dom, "En bloc vs palliative, Cox HR for death", "pooled")
    assert f"proportional hazards (global test) p = {p:.2f}" in hazard[0]


def test_a_median_of_fewer_than_10_deaths_is_flagged(dom: str) -> None:
    cells = _cells(dom, "Overall survival, median ± SE (months)")
    half = _r("os_median_months", "syn_half")
    assert _r("os_events_n", "syn_half")["estimate"] < 10
    assert cells[CENTERS.index("syn_half")].startswith(f"{half['estimate']:.1f}")
    assert cells[CENTERS.index("syn_half")].endswith("‡")
    assert not cells[-1].endswith("‡")  # the pooled median rests on over 100 deaths


def test_flow_gives_each_center_its_cutoff(dom: str) -> None:
    flow = _section(dom, "flow")
    longest = date(2010, 1, 1) + timedelta(days=2400)  # syn_long's last contact
    assert f"{longest.isoformat()} (latest last contact)" in flow
    assert flow.count("(latest last contact)") == len(CENTERS)


def test_numbers_at_risk_under_the_curves_are_rs(dom: str) -> None:
    """Each center's row of the per-center figure gives R's numbers at risk at 6–24 months."""
    for row, center in enumerate(CENTERS):
        for months in (6, 12, 24):
            found = re.search(
                rf'<g id="km-centers-at-risk-{row}-{months}">\s*<text[^>]*>(\d+)<', dom
            )
            assert found is not None
            assert int(found.group(1)) == _r(f"os_at_risk_{months}m", center)["estimate"]
    assert re.search(r'<g id="km-centers-at-risk-0-60">', dom)  # the axis runs to 60


def test_forest_plot_of_a_heterogeneous_endpoint(dom: str) -> None:
    """30-day mortality varies between these centers: τ² > 0, prediction interval drawn."""
    forest = _section(dom, "forest")
    assert re.search(r"τ² = 0\.[1-9]\d*, I² = [1-9]\d?\.\d %", forest)
    assert "95 % prediction interval" in forest and "axis cut to" in forest
    # Pain relief: only syn_ties has patients with both VAS scores; the others are not empty.
    assert forest.count(">none eligible<") >= len(CENTERS) - 1
    r = _r("mortality_30d_pct_pi")
    pooled = _cells(dom, "30-day mortality, intraoperative included, 95 % prediction interval "
                         "of a new center (REML)", "pooled")  # fmt: skip
    band = f"{r['ci_lower']:.1f}–{r['ci_upper']:.1f}"
    assert pooled[0] == f"{r['estimate']:.1f} % (95 % prediction interval {band})"
