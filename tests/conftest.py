"""Shared fixtures. Every environment and example is synthesized once per session."""

from __future__ import annotations

# Import `modules` before anything else touches the provider package (fast, partial import).
import modules  # noqa: F401  # isort: skip

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cdktf import App

from config import EnvironmentConfig, environment_files, example_files, load_environments
from stacks import PlatformStack

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def environments() -> dict[str, EnvironmentConfig]:
    """The validated config of every file in environments/ (dev, staging, prod), by environment name."""
    return {c.environment: c for c in load_environments(environment_files())}


@pytest.fixture(scope="session")
def example_environments() -> dict[str, EnvironmentConfig]:
    """The validated config of every example (examples/*/<env>.toml), by environment name."""
    return {c.environment: c for c in load_environments(example_files())}


@pytest.fixture(scope="session")
def _all_synthesized(
    tmp_path_factory: pytest.TempPathFactory,
    environments: dict[str, EnvironmentConfig],
    example_environments: dict[str, EnvironmentConfig],
) -> dict[str, Any]:
    outdir = tmp_path_factory.mktemp("cdktf.out")
    app = App(outdir=str(outdir))
    configs = {**environments, **example_environments}
    for config in configs.values():
        PlatformStack(app, config)
    app.synth()
    return {
        name: json.loads((outdir / "stacks" / config.stack_name / "cdk.tf.json").read_text())
        for name, config in configs.items()
    }


@pytest.fixture(scope="session")
def synthesized(_all_synthesized: dict[str, Any], environments: dict[str, EnvironmentConfig]) -> dict[str, Any]:
    """Each environment's cdk.tf.json (configured backends, as deployed), by environment name."""
    return {name: _all_synthesized[name] for name in environments}


@pytest.fixture(scope="session")
def synthesized_examples(
    _all_synthesized: dict[str, Any], example_environments: dict[str, EnvironmentConfig]
) -> dict[str, Any]:
    """Each example's cdk.tf.json, by environment name (``beanstalk``)."""
    return {name: _all_synthesized[name] for name in example_environments}


@pytest.fixture
def env_data() -> dict[str, dict[str, Any]]:
    """Raw (unvalidated) TOML of each environment, fresh per test so tests can mutate it."""
    return {path.stem: tomllib.loads(path.read_text()) for path in environment_files()}
