"""Check codes of the contract: every reason a row can be quarantined."""

from __future__ import annotations

SCHEMA_VERSION = "1"

CROSS_FIELD_RULES: dict[str, str] = {
    "death-before-surgery": "death_date must be on or after surgery_date",
    "contact-before-surgery": "last_contact_date must be on or after surgery_date",
    "death-contact-mismatch": "when dead, last_contact_date must equal death_date",
    "vital-status-mismatch": "death_date must be present exactly when vital_status is dead",
    "intraop-death-date": (
        "intraop_death implies vital_status dead and death_date equal to surgery_date"
    ),
    "recurrence-date-range": (
        "local_recurrence_date must lie between surgery_date and last_contact_date"
    ),
    "recurrence-date-without-flag": (
        "local_recurrence_date present implies local_recurrence is true"
    ),
    "duplicate-patient": (
        "(center_id, patient_id) must be unique; every row of a duplicated id is quarantined"
    ),
}

VALUE_CHECKS: dict[str, str] = {
    "missing-required": "a required value is empty, or a missing-value code stands in for it",
    "out-of-range": "a value lies outside the range the schema allows",
    "not-in-categories": "a value is not one of the allowed categories, nor mapped to one",
    "unparseable-date": "a date could not be read with the mapping's date formats",
    "ambiguous-date": (
        "date text that reads as different days day-first and month-first, in a column"
        " whose dates do not tell which"
    ),
    "unparseable-number": "a number could not be read (free text such as '<1' or 'approx 5')",
    "invalid-format": "a value does not match the required pattern",
    "wrong-type": "a value has the wrong type for its column",
}

CHECK_CODES: dict[str, str] = {**VALUE_CHECKS, **CROSS_FIELD_RULES}
"""Every quarantine `check_code`, with the sentence that explains it."""

_PANDERA_CHECK_CODES: dict[str, str] = {
    "not_nullable": "missing-required",
    "isin": "not-in-categories",
    "greater_than_or_equal_to": "out-of-range",
    "less_than_or_equal_to": "out-of-range",
    "greater_than": "out-of-range",
    "less_than": "out-of-range",
    "in_range": "out-of-range",
    "multiple_of_10": "out-of-range",
    "surgery_date_not_after_run_date": "out-of-range",
    "str_matches": "invalid-format",
    "field_uniqueness": "duplicate-patient",
    "multiple_fields_uniqueness": "duplicate-patient",
}


def code_for_pandera_check(check: str) -> str:
    """Translate the name pandera gives a failed check into a contract check code.

    Cross-field rules carry their code as the check's error text, so it passes through.
    """
    if check in CHECK_CODES:
        return check
    name = check.split("(", 1)[0]
    if name in _PANDERA_CHECK_CODES:
        return _PANDERA_CHECK_CODES[name]
    return "wrong-type"
