"""The one composition root for settings: flags beat environment variables beat defaults."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spinemet_etl.errors import ConfigError
from spinemet_etl.readers.options import ReadLimits

DEVELOPMENT_KEY = "spinemet-DEVELOPMENT-KEY-not-for-real-data"
"""Used when no pseudonymization key is configured; runs say so loudly."""

ENV_PREFIX = "SPINEMET_"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, built once from flags and the environment."""

    landing: Path = Path("landing")
    centers_dir: Path = Path("centers")
    data: str = "data"
    pseudonym_key: str = field(default=DEVELOPMENT_KEY, repr=False)
    centers: tuple[str, ...] | None = None
    full_refresh: bool = False
    settle_seconds: float = 0.0
    pain_mcid: float = 2.0
    suppress_below: int = 0
    quality_config: Path | None = None
    task_runner: str = "default"
    dask_address: str | None = None
    max_workers: int | None = None
    max_file_mb: float = 512.0
    max_rows: int = 20_000_000
    max_decompression_ratio: float = 200.0
    timeout_seconds: float | None = None

    @property
    def uses_development_key(self) -> bool:
        return self.pseudonym_key == DEVELOPMENT_KEY

    @property
    def key_fingerprint(self) -> str:
        """SHA-256 of the key's SHA-256: identifies the key without revealing it."""
        inner = hashlib.sha256(self.pseudonym_key.encode("utf-8")).hexdigest()
        return hashlib.sha256(inner.encode("ascii")).hexdigest()

    @property
    def read_limits(self) -> ReadLimits:
        """The per-file size limits every reader applies."""
        return ReadLimits(
            max_bytes=int(self.max_file_mb * 1024 * 1024),
            max_rows=self.max_rows,
            max_decompression_ratio=self.max_decompression_ratio,
        )

    @property
    def data_path(self) -> Path:
        """The data root as a local path (a `file://` URL is accepted)."""
        return Path(self.data.removeprefix("file://"))


_CONVERTERS: dict[str, Any] = {
    "landing": Path,
    "centers_dir": Path,
    "data": str,
    "pseudonym_key": str,
    "settle_seconds": float,
    "pain_mcid": float,
    "suppress_below": int,
    "quality_config": Path,
    "task_runner": str,
    "dask_address": str,
    "max_workers": int,
    "max_file_mb": float,
    "max_rows": int,
    "max_decompression_ratio": float,
    "timeout_seconds": float,
}
_ENV_NAMES = {"centers_dir": "CENTERS", "timeout_seconds": "TIMEOUT"}


def env_name(setting: str) -> str:
    """The environment variable of a setting (`centers_dir` -> `SPINEMET_CENTERS`)."""
    return ENV_PREFIX + _ENV_NAMES.get(setting, setting).upper()


def load_settings(
    flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings: a flag that is not None beats the variable, which beats the default."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, convert in _CONVERTERS.items():
        raw = environ.get(env_name(name))
        if raw not in (None, ""):
            try:
                values[name] = convert(raw)
            except ValueError as exc:
                raise ConfigError(
                    f"environment variable {env_name(name)}={raw!r} is not a valid "
                    f"{convert.__name__}; fix or unset it."
                ) from exc
    for name, value in (flags or {}).items():
        if value is not None:
            values[name] = tuple(value) if name == "centers" else value
    return replace(Settings(), **values)
