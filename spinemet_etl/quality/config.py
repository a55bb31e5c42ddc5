"""Thresholds of the data-quality gate, read from YAML over embedded defaults."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from spinemet_etl.errors import ConfigError

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.yaml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatientCountConfig(_Section):
    min_ratio: float = Field(ge=0)
    max_ratio: float = Field(gt=0)


class CompletenessConfig(_Section):
    required: float = Field(ge=0, le=1)
    optional: float = Field(ge=0, le=1)
    columns: dict[str, float] = Field(default_factory=dict)
    max_drop: float = Field(ge=0, le=1)


class CategoryShiftConfig(_Section):
    max_tvd: float = Field(ge=0, le=1)
    min_rows: int = Field(ge=1)
    columns: list[str]


class QuarantineConfig(_Section):
    max_share: float = Field(ge=0, le=1)
    min_rows: int = Field(ge=0)
    min_quarantined: int = Field(ge=0)


class DataDocsConfig(_Section):
    keep_per_center: int = Field(ge=0)


class QualityConfig(_Section):
    """Every threshold the gate applies, and how many of each center's validations the
    Data Docs keep; `default.yaml` beside this module holds the defaults."""

    patient_count: PatientCountConfig
    completeness: CompletenessConfig
    category_shift: CategoryShiftConfig
    quarantine: QuarantineConfig
    data_docs: DataDocsConfig


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"quality config `{path}` cannot be read ({exc.__class__.__name__}); "
            "fix the file or unset SPINEMET_QUALITY_CONFIG."
        ) from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"quality config `{path}` is not a mapping; see docs/quality.md.")
    return loaded


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed beside the last key of `loc` (the sections at the top)."""
    model: Any = QualityConfig
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None or not isinstance(field.annotation, type):
            return []
        model = field.annotation
    return list(model.model_fields) if issubclass(model, BaseModel) else []


def _problem(exc: ValidationError) -> str:
    """The first problem of a validation, with the valid keys when a key is unknown."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        keys = ", ".join(valid_keys(tuple(first["loc"])))
        return f"`{where}` is not a setting; valid keys here: {keys}"
    return f"`{where}` {first['msg'].lower()}"


def load_quality_config(path: Path | None = None) -> QualityConfig:
    """The gate's thresholds: the file at `path` (may be partial) over the embedded defaults."""
    values = _read_yaml(DEFAULT_CONFIG_PATH)
    if path is not None:
        values = _merge(values, _read_yaml(path))
    try:
        return QualityConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(
            f"quality config `{path}`: {_problem(exc)}; see docs/quality.md."
        ) from exc


@functools.cache
def default_quality_config() -> QualityConfig:
    """The embedded defaults (`default.yaml`), read once."""
    return load_quality_config(None)


def with_center_thresholds(config: QualityConfig, thresholds: dict[str, Any]) -> QualityConfig:
    """The run's thresholds with one center's own (its mapping file's `quality:`) merged over.

    Raises ValueError naming the key (and the valid keys, for an unknown one).
    """
    try:
        return QualityConfig.model_validate(_merge(config.model_dump(), thresholds))
    except ValidationError as exc:
        raise ValueError(_problem(exc)) from exc


class CenterQuality(_Section):
    """One center's own quality-gate thresholds, merged over the run's, with the reason."""

    reason: str = Field(
        min_length=1,
        description="Why this center's thresholds differ (recorded in the manifest and Data Docs).",
    )
    patient_count: dict[str, Any] | None = Field(
        default=None, description="As in the quality configuration (docs/quality.md)."
    )
    completeness: dict[str, Any] | None = Field(
        default=None, description="As in the quality configuration (docs/quality.md)."
    )
    category_shift: dict[str, Any] | None = Field(
        default=None, description="As in the quality configuration (docs/quality.md)."
    )
    quarantine: dict[str, Any] | None = Field(
        default=None, description="As in the quality configuration (docs/quality.md)."
    )

    def thresholds(self) -> dict[str, Any]:
        """The sections this center sets, as in a quality configuration file."""
        return self.model_dump(exclude={"reason"}, exclude_none=True)

    @model_validator(mode="after")
    def _valid_thresholds(self) -> CenterQuality:
        if not self.thresholds():
            raise ValueError("set at least one threshold beside `reason` (docs/quality.md)")
        with_center_thresholds(default_quality_config(), self.thresholds())
        return self
