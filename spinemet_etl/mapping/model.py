"""The typed mapping language: a pydantic model of `centers/<center_id>.yaml`."""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from schemas.patients import CENTER_ID_PATTERN
from spinemet_etl.mapping.targets import TARGETS
from spinemet_etl.quality.config import CenterQuality
from spinemet_etl.readers.options import (
    CsvOptions,
    ReaderOptions,
    RedcapOptions,
    SavOptions,
    TsvOptions,
    XlsOptions,
    XlsxOptions,
)
from spinemet_etl.text import code_text

Scalar = str | int | float | bool
Conversion = Literal[
    "vas_0_100",
    "asia_to_frankel",
    "days_since_surgery",
    "weeks_since_surgery",
    "months_since_surgery",
    "years_since_surgery",
]
DURATION_UNITS: dict[str, str] = {
    "days_since_surgery": "days",
    "weeks_since_surgery": "weeks",
    "months_since_surgery": "months",
    "years_since_surgery": "years",
}


def _one_or_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _codes(value: Any) -> Any:
    return [_as_key(code) for code in value] if isinstance(value, list) else value


def _where_values(value: Any) -> Any:
    values = value if isinstance(value, list) else [value]
    return [v if v is None else _as_key(v) for v in values]


_TEXT_OR_NUMBER = [{"type": "string"}, {"type": "number"}]
OneOrMany = Annotated[
    list[str],
    BeforeValidator(_one_or_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]
"""A text, or a list of texts (`files: "*.csv"` or `files: [a.csv, b.csv]`)."""
Codes = Annotated[
    list[str],
    BeforeValidator(_codes),
    WithJsonSchema({"type": "array", "items": {"anyOf": _TEXT_OR_NUMBER}}),
]
"""Missing-value codes, written as text or numbers (`["NA", -9]`), compared as text."""
WhereValues = Annotated[
    list[str | None],
    BeforeValidator(_where_values),
    WithJsonSchema(
        {
            "anyOf": [
                *_TEXT_OR_NUMBER,
                {"type": "null"},
                {"type": "array", "items": {"anyOf": [*_TEXT_OR_NUMBER, {"type": "null"}]}},
            ]
        }
    ),
]
"""Values a `where` filter keeps: one or a list; null stands for a blank cell."""


class StrictModel(BaseModel):
    """Every mapping model: unknown keys are mistakes, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_source(value: Any) -> Any:
    return {"source": value} if isinstance(value, str) else value


def _string_or_object(schema: dict[str, Any]) -> None:
    schema["type"] = ["object", "string"]


def _as_key(key: Any) -> str:
    if isinstance(key, bool):
        raise ValueError(
            "an unquoted yes/no/on/off/true/false key is read by YAML as a boolean; quote it"
        )
    return code_text(key)


class DateInName(StrictModel):
    """`pick: latest` by the date a file name carries, read with a strftime format."""

    date_in_name: str = Field(
        description="strftime format of the date in the file name, e.g. `%d.%m.%Y`."
    )

    @field_validator("date_in_name")
    @classmethod
    def _plain_date(cls, value: str) -> str:
        from spinemet_etl.harmonize.dates import digit_format

        if digit_format(value) is None:
            raise ValueError(
                "give a format of %Y, %m and %d with separators between them, e.g. `%d.%m.%Y`"
            )
        return value


class ColumnMap(StrictModel):
    """How one canonical column is filled from a source column (a bare string is `source`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_string_or_object)

    source: str | None = Field(default=None, description="The source column's name, as exported.")
    checkbox: str | None = Field(
        default=None,
        description=(
            "A REDCap checkbox field: the columns `<field>___<code>` collapse into the one "
            "checked code (none checked: missing; several: not in categories)."
        ),
    )
    constant: Scalar | None = Field(
        default=None, description="The same value for every row, when the source lacks the column."
    )
    labels: bool = Field(
        default=False,
        description="Replace codes by the source's value labels (SPSS, REDCap) before `values`.",
    )
    values: dict[str, Scalar | None] | None = Field(
        default=None,
        description=(
            "Inline value map, source value -> canonical value (null = missing); matched "
            "ignoring case and surrounding blanks. A value not in the map is not-in-categories. "
            "With `vocabulary`, these entries add to or override the vocabulary's terms."
        ),
    )
    vocabulary: str | None = Field(
        default=None,
        description="Name of a shared vocabulary file `vocabularies/<name>.yaml` or `.csv`.",
    )
    missing: Codes = Field(
        default_factory=list,
        description="Codes meaning 'unknown' in this column, on top of the table's `missing`.",
    )
    date_format: OneOrMany | None = Field(
        default=None,
        description="strftime formats tried in order (e.g. `%d.%m.%Y`); ISO dates when omitted.",
    )
    excel_serial: bool | None = Field(
        default=None, description="Numbers in a date column are Excel serial dates (1900 system)."
    )
    decimal: Literal[".", ","] | None = Field(
        default=None,
        description=(
            "Decimal mark of numbers typed as text; the table's by default, or, where the "
            "table states none, the one a REDCap field's validation gives."
        ),
    )
    century_pivot: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description=(
            "Two-digit years (`%y`) below this are 20xx, the others 19xx; the table's by "
            "default. Without it, a two-digit year landing after the surgery date is refused."
        ),
    )
    thousands: Literal[".", ",", "'"] | None = Field(
        default=None,
        description=(
            'Thousands separator of numbers typed as text (`1.096,5` with `decimal: ","`); '
            "the table's by default. Undeclared, a number holding it is unparseable."
        ),
    )
    convert: Conversion | None = Field(
        default=None,
        description=(
            "Unit conversion: `vas_0_100` divides by 10; `asia_to_frankel` maps ASIA A-E to "
            "Frankel A-E; `<unit>_since_surgery` turns a duration into a date."
        ),
    )
    optional: bool = Field(
        default=False,
        description="The source column may be absent from an export (then the value is missing).",
    )
    follow_up_ends_at_death: bool = Field(
        default=False,
        description=(
            "Only on `vital_status`: the center's statement that its follow-up ends at death, "
            "so for the dead death_date = last_contact_date (canonical-schema.md)."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_source(cls, value: Any) -> Any:
        return _as_source(value)

    @field_validator("values", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {_as_key(key): target for key, target in value.items()}
        return value

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnMap:
        given = [self.source, self.checkbox, self.constant]
        if sum(origin is not None for origin in given) != 1:
            raise ValueError("give exactly one of `source`, `checkbox` or `constant`")
        return self


def _columns_model() -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (ColumnMap | None, Field(default=None, description=target.description))
        for name, target in TARGETS.items()
    }
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Columns",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__="Canonical column -> how it is filled; only canonical columns are allowed.",
        **fields,
    )


Columns = _columns_model()


class VisitsMap(StrictModel):
    """The fields of one follow-up visit record, summarized to one row per patient."""

    date: ColumnMap = Field(description="Visit date: the latest is last_contact_date.")
    dead: ColumnMap | None = Field(
        default=None,
        description="Boolean: the visit records the death (its date is death_date).",
    )
    recurrence: ColumnMap | None = Field(
        default=None,
        description="Boolean: the visit records local recurrence (earliest such visit's date).",
    )


class TableBase(StrictModel):
    """One logical table: which files, how to read them, and how their columns map."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="A name for messages.")
    kind: str = Field(description="The source kind: csv, tsv, xlsx, xls, sav or redcap.")
    read: ReaderOptions = Field(
        default_factory=ReaderOptions, description="The reader's options for this kind."
    )
    role: Literal["baseline", "join", "visits"] = Field(
        default="baseline",
        description=(
            "`baseline`: one row per patient, the record counted in accounting; `join`: one "
            "row per patient joined on the patient id; `visits`: many rows per patient."
        ),
    )
    files: OneOrMany = Field(
        min_length=1, description="Glob patterns relative to the center's landing folder."
    )

    @field_validator("files")
    @classmethod
    def _inside_the_landing_folder(cls, patterns: list[str]) -> list[str]:
        """A pattern may not leave the center's landing folder (no absolute path, no `..`)."""
        for pattern in patterns:
            path = PurePosixPath(pattern)
            if path.is_absolute() or ".." in path.parts or "\\" in pattern:
                raise ValueError(
                    f"`{pattern}` leaves the center's landing folder; write a pattern "
                    "relative to it, without `..`"
                )
        return patterns

    pick: Literal["all", "latest"] = Field(
        default="all",
        description="`all` matched files (incremental exports) or only the `latest` by name.",
    )
    latest_by: Literal["name", "modified"] | DateInName = Field(
        default="name",
        description=(
            "How `pick: latest` finds the latest file: by `name` (in order), by `modified` "
            'time, or by the date in the name (`{date_in_name: "%d.%m.%Y"}`).'
        ),
    )
    where: dict[str, WhereValues] = Field(
        default_factory=dict,
        description=(
            "Keep only rows whose column holds one of these values (null = blank), e.g. a "
            "REDCap event or repeating instrument."
        ),
    )
    patient_id: str = Field(description="The source column holding the source patient id.")
    identifiers: list[str] = Field(
        default_factory=list,
        description="Direct identifiers (names, record numbers): dropped right after reading.",
    )
    missing: Codes = Field(
        default_factory=list, description="Codes meaning 'unknown' in every column of this table."
    )
    decimal: Literal[".", ","] = Field(
        default=".",
        description=(
            "Decimal mark of text numbers. Unstated, a REDCap field validated as a number "
            "uses its validation's (`,` for `number_comma_decimal`)."
        ),
    )
    thousands: Literal[".", ",", "'"] | None = Field(
        default=None, description="Thousands separator of text numbers (none by default)."
    )
    century_pivot: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Two-digit years below this are 20xx, the others 19xx (none by default).",
    )
    date_format: OneOrMany | None = Field(
        default=None, description="Default strftime formats of this table's date columns."
    )
    excel_serial: bool = Field(
        default=False, description="Default: numbers in date columns are Excel serial dates."
    )
    columns: Columns = Field(  # type: ignore[valid-type]
        default_factory=Columns, description="Canonical column -> how it is filled."
    )
    visits: VisitsMap | None = Field(
        default=None, description="For role `visits`: the visit fields."
    )

    def mapped(self) -> dict[str, ColumnMap]:
        """The canonical columns this table fills, in the contract's order."""
        found = {name: getattr(self.columns, name) for name in TARGETS}
        return {name: spec for name, spec in found.items() if spec is not None}


class CsvTable(TableBase):
    kind: Literal["csv"]
    read: CsvOptions = Field(default_factory=CsvOptions)


class TsvTable(TableBase):
    kind: Literal["tsv"]
    read: TsvOptions = Field(default_factory=TsvOptions)


class XlsxTable(TableBase):
    kind: Literal["xlsx"]
    read: XlsxOptions = Field(default_factory=XlsxOptions)
    sheet: str | None = Field(default=None, description="The sheet; the first one when omitted.")


class XlsTable(TableBase):
    kind: Literal["xls"]
    read: XlsOptions = Field(default_factory=XlsOptions)
    sheet: str | None = Field(default=None, description="The sheet; the first one when omitted.")


class SavTable(TableBase):
    kind: Literal["sav"]
    read: SavOptions = Field(default_factory=SavOptions)


class RedcapTable(TableBase):
    kind: Literal["redcap"]
    read: RedcapOptions
    record_id: str | None = Field(
        default=None,
        description=(
            "The record column (usually `record_id`): `patient_id` (e.g. the hospital record "
            "number, filled on one event only) is carried to every row of its record. A "
            "record holding two different ids, or none, is quarantined."
        ),
    )
    instrument: str | None = Field(
        default=None,
        description=(
            "A repeating instrument's rows (one per instance); the non-repeating rows "
            "(`where` picks the event) when omitted."
        ),
    )


Table = Annotated[
    CsvTable | TsvTable | XlsxTable | XlsTable | SavTable | RedcapTable,
    Field(discriminator="kind"),
]


class CenterMapping(StrictModel):
    """A center's mapping file: its id and the tables its exports hold."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"title": "spinemet center mapping"}
    )

    center_id: str = Field(
        pattern=CENTER_ID_PATTERN, description="The center's slug; equals the file name's stem."
    )
    description: str = Field(default="", description="Free text for people.")
    tables: list[Table] = Field(min_length=1, description="The tables, the baseline one first.")
    quality: CenterQuality | None = Field(
        default=None,
        description="This center's own quality-gate thresholds, with a required `reason`.",
    )
    data_cutoff: date | None = Field(
        default=None,
        description=(
            "The date up to which the center's follow-up is complete (YYYY-MM-DD); "
            "without it, the latest last_contact_date of the center's published patients."
        ),
    )

    def baseline(self) -> TableBase:
        """The one table whose rows are the patients' records."""
        return next(table for table in self.tables if table.role == "baseline")


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema of the mapping language, for editors (docs/mapping.schema.json)."""
    return CenterMapping.model_json_schema()
