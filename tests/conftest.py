"""Shared fixtures. Every environment and example is synthesized once per session."""

from __future__ import annotations

# Import `modules` before anything else touches the provider package (fast, partial import).
import modules  # noqa: F401  # isort: skip

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cdktf import App

from config import EnvironmentConfig, environment_files, example_files, load_environments
from config.provider import BINDINGS_AWS_PROVIDER, AwsProviderVersion
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


@dataclass(frozen=True)
class SynthOutput:
    """One synthesis of every environment and example: where it was written, and each stack's document."""

    outdir: Path
    documents: dict[str, Any]
    """By environment name."""
    stack_names: dict[str, str]
    """Environment name -> stack name (the directory under ``outdir/stacks``)."""

    def stack_dir(self, environment: str) -> Path:
        return self.outdir / "stacks" / self.stack_names[environment]


def _synthesize(
    outdir: Path, configs: dict[str, EnvironmentConfig], version: AwsProviderVersion = BINDINGS_AWS_PROVIDER
) -> SynthOutput:
    app = App(outdir=str(outdir))
    for config in configs.values():
        PlatformStack(app, config, aws_provider_version=version)
    app.synth()
    names = {name: config.stack_name for name, config in configs.items()}
    return SynthOutput(
        outdir=outdir,
        documents={
            name: json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text()) for name, stack in names.items()
        },
        stack_names=names,
    )


@pytest.fixture(scope="session")
def all_configs(
    environments: dict[str, EnvironmentConfig], example_environments: dict[str, EnvironmentConfig]
) -> dict[str, EnvironmentConfig]:
    """Every environment and example, by environment name."""
    return {**environments, **example_environments}


@pytest.fixture(scope="session")
def synth_default(tmp_path_factory: pytest.TempPathFactory, all_configs: dict[str, EnvironmentConfig]) -> SynthOutput:
    """Every stack as deployed (configured backends), for the bindings' AWS provider (6.25.0)."""
    return _synthesize(tmp_path_factory.mktemp("cdktf.out"), all_configs)


@pytest.fixture(scope="session")
def synth_provider5(tmp_path_factory: pytest.TempPathFactory, all_configs: dict[str, EnvironmentConfig]) -> SynthOutput:
    """Every stack written for AWS provider 5.100.0 (what terraform validate runs on here)."""
    return _synthesize(tmp_path_factory.mktemp("cdktf.out.provider5"), all_configs, "5.100.0")


@pytest.fixture(scope="session")
def _all_synthesized(synth_default: SynthOutput) -> dict[str, Any]:
    return synth_default.documents


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


@pytest.fixture(scope="session")
def _env_data_json() -> str:
    """Every environment file parsed once per session, kept as JSON (TOML's types here are JSON's)."""
    return json.dumps({path.stem: tomllib.loads(path.read_text()) for path in environment_files()})


@pytest.fixture
def env_data(_env_data_json: str) -> dict[str, dict[str, Any]]:
    """Raw (unvalidated) TOML of each environment, fresh per test so tests can mutate it: a deep copy
    of the session's parse (a JSON round trip: 0.07 ms against 4.2 ms to parse the files again)."""
    copy: dict[str, dict[str, Any]] = json.loads(_env_data_json)
    return copy


def pytest_report_header(config: pytest.Config) -> str:
    """One visible line for the tier this run leaves out."""
    if config.getoption("markexpr") == "not emulator":
        return "emulator tier (tests marked emulator) not run here: make e2e runs it"
    return ""


# Fixtures that synthesize whole environments: a test using one is a per-environment test (tier 3).
_STACK_FIXTURES = frozenset(
    {"synthesized", "synthesized_examples", "synth_default", "synth_provider5", "_all_synthesized"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark per-environment tests ``stack``: ``make check`` (config and construct tests) leaves them out.
    They also share one xdist group, so under ``pytest -n`` (``make test``) one worker synthesizes the
    environments for all of them instead of every worker synthesizing its own copy."""
    for item in items:
        if _STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.stack)
            item.add_marker(pytest.mark.xdist_group("stacks"))
