"""Helpers for tier-1 tests: load an environment's data and assert the one error line it fails with."""

from __future__ import annotations

import re
from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, parse_environment

Data = dict[str, Any]
SOURCE = "environments/dev.toml"


def parse(data: Data) -> EnvironmentConfig:
    """``data`` validated as environments/dev.toml."""
    return parse_environment(data, source=SOURCE, expected_name="dev")


def fails(data: Data, line: str) -> None:
    """Loading fails with exactly one problem, and its line matches ``line`` (a regex after the file name)."""
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert len(caught.value.lines) == 1, caught.value.lines
    assert re.fullmatch(f"{re.escape(SOURCE)}: {line}", caught.value.lines[0]), caught.value.lines[0]
