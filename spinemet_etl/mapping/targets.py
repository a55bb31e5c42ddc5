"""What a mapping may map onto: the canonical columns, read from PatientsModel, plus inputs."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.patients import PatientsModel
from spinemet_etl.derive import DERIVED_COLUMNS

LINEAGE_COLUMNS = (
    "center_id",
    "patient_id",
    "source_file",
    "source_sha256",
    "source_row",
    "run_id",
)

BIRTH_DATE = "birth_date"
"""The one input column that is not canonical: used for the age, then dropped (identifying)."""

VISIT_OUTPUTS = {
    "date": ("last_contact_date",),
    "dead": ("vital_status", "death_date"),
    "recurrence": ("local_recurrence", "local_recurrence_date"),
}
"""The canonical columns a visits table provides, by the visit field that feeds them."""


@dataclass(frozen=True)
class Target:
    """A column a mapping can fill: its kind (`category`, `boolean`, `int`, `float`, `date`)."""

    name: str
    kind: str
    nullable: bool
    categories: tuple[str, ...] = ()
    description: str = ""
    ordered: bool = False


def _kind(dtype: str) -> str:
    if dtype == "category":
        return "category"
    if dtype in ("bool", "boolean"):
        return "boolean"
    if dtype.startswith(("Int", "int")):
        return "int"
    if dtype.startswith("datetime"):
        return "date"
    return "float" if dtype.startswith("float") else "string"


def _targets() -> dict[str, Target]:
    targets: dict[str, Target] = {}
    for name, column in PatientsModel.to_schema().columns.items():
        if name in LINEAGE_COLUMNS or name in DERIVED_COLUMNS:
            continue
        categories: tuple[str, ...] = ()
        for check in column.checks:
            if check.name == "isin" and _kind(str(column.dtype)) == "category":
                categories = tuple(str(v) for v in check.statistics["allowed_values"])
        ordered = bool(getattr(column.dtype.type, "ordered", False))
        targets[name] = Target(
            name,
            _kind(str(column.dtype)),
            column.nullable,
            categories,
            column.description or "",
            ordered,
        )
    targets[BIRTH_DATE] = Target(
        BIRTH_DATE,
        "date",
        True,
        description=(
            "Date of birth: only to derive age_at_surgery_years, then dropped; "
            "masked in quarantine."
        ),
    )
    return targets


TARGETS: dict[str, Target] = _targets()
"""Every column a mapping's `columns:` may name, in the contract's order."""

DERIVABLE_FROM: dict[str, tuple[str, ...]] = {
    "age_at_surgery_years": (BIRTH_DATE,),
    "vital_status": ("death_date",),
}
"""A required column is satisfied when it, or one of these inputs, is mapped."""

REQUIRED: tuple[str, ...] = tuple(name for name, t in TARGETS.items() if not t.nullable)
