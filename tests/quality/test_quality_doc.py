"""docs/quality.md: its configuration block is every key with its default, its error is real."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from spinemet_etl.errors import ConfigError
from spinemet_etl.quality.config import QualityConfig, load_quality_config

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "quality.md").read_text(encoding="utf-8")


def _block(info: str) -> str:
    [block] = re.findall(rf"^```{info}\n(.*?)^```$", DOC, flags=re.S | re.M)
    return str(block)


def _keys(model: Any, prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(prefix + name)
        if isinstance(field.annotation, type) and hasattr(field.annotation, "model_fields"):
            keys |= _keys(field.annotation, f"{prefix}{name}.")
    return keys


def _doc_keys(values: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for name, value in values.items():
        keys.add(prefix + name)
        if isinstance(value, dict) and name != "columns":
            keys |= _doc_keys(value, f"{prefix}{name}.")
    return keys


def test_the_documented_configuration_is_every_key_with_its_default(tmp_path: Path) -> None:
    text = _block("yaml quality-config")
    assert _doc_keys(yaml.safe_load(text)) == _keys(QualityConfig)
    path = tmp_path / "quality.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_quality_config(path) == load_quality_config(None)


def test_the_documented_error_is_the_real_one(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    Path("quality.yaml").write_text("quarantine:\n  max_shares: 0.3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_quality_config(Path("quality.yaml"))
    assert str(caught.value) == _block("text quality-config-error").strip()
