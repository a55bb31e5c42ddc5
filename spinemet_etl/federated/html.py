"""summary.html: every number of a center summary, in words and tables, for the privacy officer."""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from spinemet_etl.endpoints.sums import PROPORTIONS

MEANINGS = {
    "n": "patients",
    "age_n": "patients with a known age",
    "age_sum": "sum of the ages at surgery (years)",
    "age_squares_sum": "sum of the squared ages",
    "age_centered_squares_sum": "sum of the squared differences of the ages from their mean",
    "male_n": "men",
    "female_n": "women",
    "procedure_palliative_n": "patients operated palliatively",
    "procedure_curettage_n": "patients operated by curettage",
    "procedure_en_bloc_n": "patients operated en bloc",
    "anesthetic_risk_high_n": "patients with a high anesthetic risk",
    "anesthetic_risk_known_n": "patients with a known anesthetic risk",
    "intraop_death_n": "deaths during surgery",
    "death_30d_postop_n": "deaths within 30 days after surgery",
    "followed_up_n": "patients followed up for more than 30 days",
    "followed_up_os_months_sum": "sum of their follow-up times (months)",
}
PROPORTION_WORDS = {
    "mortality_30d_pct": "30-day mortality",
    "pain_relief_pct": "pain relief",
    "neuro_improvement_pct": "neurological improvement",
    "neuro_worsening_pct": "neurological worsening",
    "local_control_pct": "local control",
}
PAIR_WORDS = {
    "n": "patients with the score",
    "concordant": "concordant pairs of patients",
    "discordant": "discordant pairs of patients",
    "tied_score": "comparable pairs with equal scores",
}
STYLE = (
    "body{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:2px 8px}"
    "td.num{text-align:right}caption{text-align:left;font-weight:bold}"
)


def meaning(name: str) -> str:
    """What the summed quantity `name` counts, in words."""
    if name in MEANINGS:
        return MEANINGS[name]
    for code, words in PROPORTION_WORDS.items():
        if name.startswith(f"{code}_"):
            return f"{words}: {name.removeprefix(f'{code}_')}"
    score, _, part = name.partition("_")
    return f"{score.capitalize()} score: {PAIR_WORDS.get(part, part)}"


def _table(caption: str, header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>'
            if isinstance(cell, int | float)
            else f"<td>{escape(str(cell))}</td>"
            for cell in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><caption>{escape(caption)}</caption><tr>{head}</tr>{body}</table>"


def _sums_table(strata: dict[str, dict[str, Any]]) -> str:
    names = list(next(iter(strata.values())))
    rows = [[name, meaning(name), *(strata[s][name] for s in strata)] for name in names]
    return _table("Sums per stratum (summary.json, key strata)", ["key", "meaning", *strata], rows)


def _words(document: dict[str, Any], risk_sets: pd.DataFrame) -> str:
    unit = document["time_unit"]
    endpoints = ", ".join(PROPORTION_WORDS[code] for code in PROPORTIONS)
    return (
        f"<p>This folder is the summary of center <b>{escape(document['center_id'])}</b>, "
        f"run {escape(document['run_id'])}. It holds no patient row, no identifier or "
        "pseudonym, no date of a patient and no source file name: only the counts and sums "
        "below, each over a group of patients (all patients, or those of one procedure).</p>"
        f"<p>The sums table gives, per group, the counts behind the endpoints ({endpoints}: "
        "numerator and denominator), the sums from which the mean and SD of age follow, and "
        "for the Tokuhashi and Tomita scores the numbers of pairs of patients whose scores "
        "agree or disagree with their survival.</p>"
        f"<p>The risk-set table ({len(risk_sets)} rows, risk_sets.parquet) gives, for each "
        f"procedure and each follow-up time in whole {escape(unit)}s since surgery, how many "
        "patients died or had a local recurrence (events), died without a recurrence "
        "(competing) or were last seen alive (censored) at that time. It reveals how many "
        f"patients of a procedure had an event or were censored on a given {escape(unit)} "
        "after their surgery, never which patient.</p>"
    )


def summary_html(document: dict[str, Any], risk_sets: pd.DataFrame) -> str:
    """The self-contained page (inline CSS, no scripts or fetches) of one summary folder."""
    identification = [
        [key, document[key]]
        for key in (
            "format", "version", "center_id", "run_id", "package_version", "schema_version",
            "created", "time_unit", "pain_mcid",
        )
    ]  # fmt: skip
    cutoff = document["data_cutoff"]
    identification.append(
        ["data_cutoff", f"{cutoff['date']} (stated in the mapping file)" if cutoff["date"]
         else "not sent (the latest last contact, a patient's date)"]
    )  # fmt: skip
    quality = document["quality"]
    quality_rows = [[key, value] for key, value in quality.items() if key != "quarantined_by_check"]
    quality_rows += [
        [f"rows quarantined by check {code}", rows]
        for code, rows in quality["quarantined_by_check"].items()
    ]
    risk_rows = risk_sets.astype(object).to_numpy().tolist()
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Center summary {escape(document['center_id'])}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>What this center summary sends: {escape(document['center_id'])}</h1>"
        + _words(document, risk_sets)
        + _table("Identification (summary.json)", ["key", "value"], identification)
        + _sums_table(document["strata"])
        + _table(
            "Quality record of the run (summary.json, key quality)", ["key", "value"], quality_rows
        )
        + _table("Risk sets (risk_sets.parquet)", list(risk_sets.columns), risk_rows)
        + "</body></html>\n"
    )
