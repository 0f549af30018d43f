"""Shared fixtures. Every environment and example is synthesized once per session."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import provider_import
from config import EnvironmentConfig, environment_files, example_files, load_environments
from config.provider import BINDINGS_AWS_PROVIDER, AwsProviderVersion

# Before any test module imports the provider package: each of its submodules then loads alone (fast,
# partial import). Nothing here starts jsii's node process: pytest-xdist's controller loads this file too.
provider_import.install()

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
    from cdktf import App  # jsii: only in the worker that synthesizes

    from stacks import PlatformStack

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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's worker reads the groups off the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark per-environment tests ``stack``: ``make check`` (config and construct tests) leaves them out.
    Under ``pytest -n --dist loadgroup`` (``make check``, ``make test``) they share one xdist group, so one
    worker synthesizes the environments for all of them instead of every worker its own copy; every
    other test runs with its module's, so a module-scoped fixture (a synthesized construct) is built once.
    Longest work first: the Makefile passes --no-loadscope-reorder, so xdist hands the groups out in this
    order (the environments' group and every group holding a slow test, then the rest, in file order)."""
    groups = []
    for item in items:
        group = item.nodeid.split("::", 1)[0]
        if _STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.stack)
            group = "stacks"
        item.add_marker(pytest.mark.xdist_group(group))
        groups.append(group)
    first = {"stacks"} | {group for item, group in zip(items, groups, strict=True) if item.get_closest_marker("slow")}
    ranked = sorted(zip(items, groups, strict=True), key=lambda pair: pair[1] not in first)
    items[:] = [item for item, _ in ranked]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail where pytest-xdist would silently ignore the groups above (on pytest 9.2: pytest-xdist#1386)."""
    if getattr(session.config.option, "loadgroup", False) and session.items and "@" not in session.items[0].nodeid:
        raise pytest.UsageError(
            "pytest-xdist's --dist loadgroup ignores the xdist_group marks on this pytest (pytest-xdist#1386): "
            "every worker would synthesize every environment. Use the pytest version requirements.in pins."
        )
