"""Tier 1: [secrets], the Secrets Manager secrets the platform creates, loads or fails."""

from __future__ import annotations

import pytest

from config import EnvironmentConfig
from tests.config_check import Data, fails, parse


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


def test_deleted_secrets_stay_recoverable_for_30_days_by_default(dev: Data) -> None:
    dev.pop("secrets", None)
    assert parse(dev).secrets.recovery_window_days == 30


def test_only_disposable_dev_deletes_its_secrets_at_once(environments: dict[str, EnvironmentConfig]) -> None:
    windows = {name: config.secrets.recovery_window_days for name, config in environments.items()}
    assert windows == {"dev": 0, "staging": 30, "prod": 30}


@pytest.mark.parametrize("days", [0, 7, 30])
def test_accepts_no_window_or_7_to_30_days(dev: Data, days: int) -> None:
    dev["secrets"] = {"recovery_window_days": days}
    assert parse(dev).secrets.recovery_window_days == days


@pytest.mark.parametrize("days", [1, 6, 31, -1])
def test_fails_when_the_recovery_window_is_not_0_or_7_to_30_days(dev: Data, days: int) -> None:
    dev["secrets"] = {"recovery_window_days": days}
    fails(
        dev,
        rf"secrets\.recovery_window_days = {days}: must be 0 \(delete at once\) or 7-30 days "
        r"\(Secrets Manager's recovery window\)",
    )
