"""The data-quality gate: a center's new data against thresholds and its last publication."""

from __future__ import annotations

import functools
import math
import pickle
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Final

import pandas as pd

from schemas.patients import PatientsModel
from spinemet_etl.quality.checks import (
    COMPLETENESS,
    CONFORMANCE,
    PLAUSIBILITY,
    category_shift_checks,
    quarantine_share_check,
)
from spinemet_etl.quality.config import (
    QualityConfig,
    load_quality_config,
    with_center_thresholds,
)
from spinemet_etl.results import CenterResult

__all__ = ["GateResult", "QualityConfig", "load_quality_config", "run_quality_gate"]

_GX_LOCK = threading.Lock()
"""One validation at a time per process: the GX project and its execution engine are shared."""


@dataclass
class GateResult:
    """The gate's verdict on one center; `validation` is GX's result, for the Data Docs
    (pickled, once `packed`)."""

    center_id: str
    passed: bool
    checks: list[dict[str, Any]]
    validation: Any = field(default=None, repr=False)
    center_thresholds: dict[str, Any] | None = None

    def packed(self) -> GateResult:
        """This verdict with GX's result pickled, to cross processes that need only its
        checks: unpickling a GX object imports Great Expectations (~5 s of CPU), which
        the run's own process then paid while its workers waited (docs/performance.md)."""
        if self.validation is None or isinstance(self.validation, bytes):
            return self
        return replace(self, validation=pickle.dumps(self.validation))

    def gx_validation(self) -> Any:
        """GX's result (None if the gate ran without GX), unpickled if packed."""
        if isinstance(self.validation, bytes):
            return pickle.loads(self.validation)  # written by our own worker (packed)
        return self.validation

    def as_record(self) -> dict[str, Any]:
        """The manifest's `quality_gate` object (`center_thresholds` when the center sets any)."""
        record: dict[str, Any] = {"passed": self.passed, "checks": self.checks}
        if self.center_thresholds is not None:
            record["center_thresholds"] = self.center_thresholds
        return record

    @property
    def failed_checks(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["passed"]]


@functools.cache
def _canonical_columns() -> dict[str, bool]:
    """Canonical column -> nullable, without the partition key."""
    columns = PatientsModel.to_schema().columns
    return {name: col.nullable for name, col in columns.items() if name != "center_id"}


def _completeness_floor(
    column: str, nullable: bool, previous: pd.DataFrame | None, config: QualityConfig
) -> float:
    """The least non-null share a column may have: configured, or set by the last publication.

    Notes:
        A nullable column a center usually fills (for example postoperative pain, which
        the pain endpoint needs) may not suddenly lose more than `max_drop` of its values.
    """
    rules = config.completeness
    floor = rules.columns.get(column, rules.optional if nullable else rules.required)
    # A last share of at most 1 cannot raise a floor already at 1 - max_drop: not counted.
    if floor < 1 - rules.max_drop and previous is not None and len(previous) and column in previous:
        floor = max(floor, float(previous[column].notna().mean()) - rules.max_drop)
    return round(max(floor, 0.0), 4)


def _patient_count_band(
    previous: pd.DataFrame | None, config: QualityConfig
) -> tuple[int, int | None]:
    if previous is None or not len(previous):
        return 1, None
    rules = config.patient_count
    return math.ceil(len(previous) * rules.min_ratio), math.floor(len(previous) * rules.max_ratio)


def _expectations(
    columns: dict[str, bool], previous: pd.DataFrame | None, config: QualityConfig
) -> list[Any]:
    """The GX expectations of one center, each tagged with its check name and category.

    A column that may be empty (completeness floor 0) gets no completeness expectation.
    """
    import great_expectations.expectations as gxe

    def meta(name: str, category: str) -> dict[str, str]:
        return {"check": name, "kahn_category": category}

    low, high = _patient_count_band(previous, config)
    expectations: list[Any] = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=list(columns), exact_match=False,
            meta=meta("canonical_columns", CONFORMANCE),
        ),
        gxe.ExpectTableRowCountToBeBetween(
            min_value=low, max_value=high, meta=meta("patient_count", PLAUSIBILITY)
        ),
        gxe.ExpectColumnValuesToBeUnique(
            column="patient_id", meta=meta("unique_patient_id", PLAUSIBILITY)
        ),
    ]  # fmt: skip
    for column, nullable in columns.items():
        floor = _completeness_floor(column, nullable, previous, config)
        if floor == 0:
            continue
        expectations.append(
            gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(
                column=column, min_value=floor, meta=meta(f"completeness:{column}", COMPLETENESS)
            )
        )
    return expectations


RESULT_FORMAT: Final = "BASIC"
"""GX's result format: observed values, unexpected counts and up to 20 unexpected values.

The checks read only observed values and counts. "SUMMARY" (GX's default) also counts each
unexpected value and lists row indices, about 8 % more time per center; with "BASIC" the
Data Docs list the duplicated pseudonyms of a failed uniqueness check as sampled values
instead of a value-count table. "BOOLEAN_ONLY" drops the observed values the checks report.
"""


@dataclass
class _GxProject:
    """One ephemeral GX context per process, with its pandas datasource and per-center batches."""

    context: Any
    datasource: Any
    batches: dict[str, Any] = field(default_factory=dict)

    def batch_definition(self, center_id: str) -> Any:
        """The center's whole-dataframe batch definition, added on its first validation."""
        if center_id not in self.batches:
            asset = self.datasource.add_dataframe_asset(f"patients.{center_id}")
            self.batches[center_id] = asset.add_batch_definition_whole_dataframe(center_id)
        return self.batches[center_id]

    def release_batches(self) -> None:
        """Forget the validated frame and its metrics, so no center stays in memory.

        GX names a dataframe batch after its datasource and asset, so every validation of a
        center has the same batch id; its engine's metric cache, keyed by that id, is emptied
        too (each validation resolves its metrics anew, the cache only holds them).
        """
        engine = self.datasource.get_execution_engine()
        engine.batch_manager.reset_batch_cache()
        engine.batch_manager.batch_data_cache.clear()
        cache = getattr(engine, "_metric_cache", None)
        if isinstance(cache, dict):
            cache.clear()


@functools.cache
def _gx_project() -> _GxProject:
    """The process's GX project, created on the first gated center (call it under `_GX_LOCK`).

    Notes:
        GX fingerprints every pandas batch below 1 GB by hashing each of its cells, only to
        write the digest among the validation's batch markers, which nothing here reads
        (a center's own thresholds replace them): 0.12 s of Boston's 0.30 s gate at 5M, a
        cost per patient. Its threshold is set to 0, so no batch is hashed.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    return _GxProject(context, context.data_sources.add_pandas("spinemet"))


def _stamp(validation: Any) -> Any:
    """Add the run metadata that `ValidationDefinition.run` adds (the Data Docs show it)."""
    import datetime as dt

    from great_expectations.constants import DATAFRAME_REPLACEMENT_STR
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = RunIdentifier(run_time=dt.datetime.now(dt.UTC))
    validation.meta.update(
        validation_id=None,
        checkpoint_id=None,
        run_id=run_id,
        validation_time=run_id.run_time,
        batch_parameters={"dataframe": DATAFRAME_REPLACEMENT_STR},
    )
    return validation


def _validate(center_id: str, patients: pd.DataFrame, expectations: list[Any]) -> Any:
    """Run the expectations on the frame with GX Core; returns the suite's validation result.

    GX's own validator evaluates the suite (what `ValidationDefinition.run` does), in one
    context per process: neither the suite nor the result is saved in that context (the Data
    Docs store the result in the data root's project), which saves their serialization.
    """
    import great_expectations as gx
    from great_expectations.validator.v1_validator import Validator

    suite = gx.ExpectationSuite(name=f"patients.{center_id}", expectations=expectations)
    with _GX_LOCK:
        project = _gx_project()
        validator = Validator(
            batch_definition=project.batch_definition(center_id),
            batch_parameters={"dataframe": patients},
            result_format=RESULT_FORMAT,
        )
        try:
            validation = validator.validate_expectation_suite(suite)
        finally:
            project.release_batches()
    return _stamp(validation)


def _plain(value: Any) -> Any:
    """A JSON-able copy of an observed value (GX returns numpy scalars)."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    return round(value, 4) if isinstance(value, float) else value


def _check_from_gx(outcome: Any) -> dict[str, Any]:
    """Translate one GX expectation result into the gate's check record."""
    config = outcome.expectation_config
    kwargs, name = config.kwargs, config.meta["check"]
    observed: Any
    threshold: Any
    if "column_set" in kwargs:
        missing = sorted(set(kwargs["column_set"]) - set(outcome.result.get("observed_value", [])))
        observed, threshold = missing, []
        message = f"canonical columns missing: {missing}." if missing else "all columns present."
    elif name == "patient_count":
        observed = _plain(outcome.result.get("observed_value"))
        threshold = [kwargs.get("min_value"), kwargs.get("max_value")]
        expected = f"at most {threshold[1]}" if threshold[1] is not None else "no upper limit"
        message = f"{observed} patients; expected at least {threshold[0]}, {expected}."
    elif name == "unique_patient_id":
        observed = int(outcome.result.get("unexpected_count") or 0)
        threshold = 0
        message = f"{observed} rows share a pseudonym with another row; expected none."
    else:
        observed, threshold = _plain(outcome.result.get("observed_value")), kwargs["min_value"]
        filled = f"{observed or 0:.0%}"
        message = f"`{kwargs['column']}` is {filled} filled; at least {threshold:.0%} expected."
    return {
        "name": name, "kahn_category": config.meta["kahn_category"],
        "passed": bool(outcome.success), "observed": observed, "threshold": threshold,
        "message": message,
    }  # fmt: skip


def _thresholds_marker(validation: Any, own: dict[str, Any]) -> None:
    """Show the center's own thresholds and reason on its Data Docs page."""
    settings = "; ".join(
        f"{section}.{key}: {value}"
        for section, values in own["settings"].items()
        for key, value in values.items()
    )
    validation.meta["batch_markers"] = {
        "center thresholds": settings,
        "center thresholds reason": own["reason"],
    }


def run_quality_gate(
    result: CenterResult, previous: pd.DataFrame | None, config: QualityConfig
) -> GateResult:
    """Check a center's new harmonized rows against the thresholds and its last publication.

    `previous` is the center's last published partition (None for a first publication).
    The center's own thresholds (its mapping file's `quality:`) are merged over `config`.
    """
    own = result.center_thresholds
    if own is not None:
        config = with_center_thresholds(config, own["settings"])
    columns = dict(_canonical_columns())
    validation = _validate(
        result.center_id, result.patients, _expectations(columns, previous, config)
    )
    if own is not None:
        _thresholds_marker(validation, own)
    checks = [_check_from_gx(outcome) for outcome in validation.results]
    checks.extend(category_shift_checks(result.patients, previous, config.category_shift))
    checks.append(quarantine_share_check(result, config.quarantine))
    passed = all(c["passed"] for c in checks)
    return GateResult(result.center_id, passed, checks, validation, own)
