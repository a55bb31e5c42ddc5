"""Task runner choice and where the pseudonymization key comes from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows.runtime import (
    KEY_BLOCK,
    make_task_runner,
    max_workers,
    settings_from_parameters,
    with_key,
)
from spinemet_etl.errors import ConfigError
from spinemet_etl.settings import DEVELOPMENT_KEY, Settings


@pytest.mark.parametrize(
    ("settings", "runner"),
    [
        (Settings(), "ThreadPoolTaskRunner"),
        (Settings(task_runner="dask"), "DaskTaskRunner"),
    ],
    ids=["default-threads", "dask"],
)
def test_make_task_runner(settings: Settings, runner: str) -> None:
    assert type(make_task_runner(settings)).__name__ == runner


def test_unknown_task_runner_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="`ray` is unknown"):
        make_task_runner(Settings(task_runner="ray"))


def test_default_runner_is_prefects_thread_pool_bounded_by_the_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    runner = make_task_runner(Settings())
    assert isinstance(runner, ThreadPoolTaskRunner)
    assert runner._max_workers == 3


@dataclass(frozen=True)
class WithWorkers(Settings):
    """Settings with the `max_workers` field the runner reads."""

    max_workers: int | None = None


@pytest.mark.parametrize(
    ("configured", "expected"), [(1, 1), (None, 3)], ids=["configured", "unset-means-cores"]
)
def test_max_workers(
    configured: int | None, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    assert max_workers(WithWorkers(max_workers=configured)) == expected


def test_zero_workers_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="max_workers is 0"):
        max_workers(WithWorkers(max_workers=0))


@flow
def key_of(landing: str) -> tuple[str, str]:
    settings = with_key(settings_from_parameters(landing=landing))
    return settings.pseudonym_key, str(settings.landing)


@pytest.fixture
def secret_block(prefect_harness: None) -> Iterator[str]:
    from prefect.blocks.system import Secret
    from pydantic import SecretStr

    Secret(value=SecretStr("block-key-for-tests")).save(KEY_BLOCK, overwrite=True)
    yield "block-key-for-tests"
    Secret.delete(KEY_BLOCK)


def test_key_from_the_secret_block_when_the_environment_has_none(
    secret_block: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPINEMET_PSEUDONYM_KEY", raising=False)
    assert key_of("landing") == (secret_block, "landing")


def test_environment_key_beats_the_secret_block(
    secret_block: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPINEMET_PSEUDONYM_KEY", "env-key-for-tests")
    assert key_of("landing")[0] == "env-key-for-tests"


@pytest.mark.usefixtures("prefect_harness")
def test_development_key_without_environment_or_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPINEMET_PSEUDONYM_KEY", raising=False)
    assert key_of("landing")[0] == DEVELOPMENT_KEY
