"""Tier 1: how the loader reports bad environment config, whatever the block: one line per problem with
file, field path, value and what is allowed; every problem of every file at once. Each block's own
rules are tested in its tests/test_<block>.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, environment_files, load_environment, load_environments
from tests.config_check import SOURCE, fails, parse


@pytest.fixture
def dev(env_data: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return env_data["dev"]


def test_every_environment_file_is_valid() -> None:
    assert {c.environment for c in load_environments(environment_files())} == {"dev", "staging", "prod"}


@pytest.mark.parametrize("region", ["eu-wst-1", "EU-WEST-1", "moon-base-1", "eu-west-0", ""])
def test_fails_when_region_is_not_an_aws_region(dev: dict[str, Any], region: str) -> None:
    dev["region"] = region
    fails(dev, rf"region = '{region}': must be an AWS region such as us-east-1, eu-west-1 or ap-southeast-2")


@pytest.mark.parametrize("project", ["Netflux", "net_flux", "-netflux", "netflux-", "net--flux", "1netflux"])
def test_fails_when_project_has_bad_characters(dev: dict[str, Any], project: str) -> None:
    dev["project"] = project
    fails(dev, rf"project = '{project}': must be lowercase letters, digits and single hyphens, starting with a letter")


def test_fails_when_project_is_too_long(dev: dict[str, Any]) -> None:
    dev["project"] = "netflux-platform-x"
    fails(dev, r"project = 'netflux-platform-x': must be at most 16 characters \(got 18\)")


@pytest.mark.parametrize("environment", ["Dev", "dev-1", "d_v"])
def test_fails_when_environment_has_bad_characters(dev: dict[str, Any], environment: str) -> None:
    dev["environment"] = environment
    fails(dev, rf"environment = '{environment}': must be lowercase letters and digits, starting with a letter")


def test_fails_when_environment_is_too_long(dev: dict[str, Any]) -> None:
    dev["environment"] = "development1"
    fails(dev, r"environment = 'development1': must be at most 10 characters \(got 12\)")


def test_fails_when_environment_does_not_match_the_file_name(dev: dict[str, Any]) -> None:
    dev["environment"] = "qa"
    fails(dev, r"environment = 'qa': must match the file name \('dev'\), so one file is one environment")


def test_fails_when_a_key_is_unknown(dev: dict[str, Any]) -> None:
    dev["network"]["nat_gateways"] = 2
    fails(dev, r"network\.nat_gateways = 2: unknown key; allowed keys here: vpc_cidr, availability_zones, .*nat.*")


def test_fails_when_a_top_level_key_is_misspelled(dev: dict[str, Any]) -> None:
    dev["regoin"] = "eu-west-1"
    fails(dev, r"regoin = 'eu-west-1': unknown key; allowed keys here: project, environment, region, .*")


def test_fails_when_a_required_field_is_missing(dev: dict[str, Any]) -> None:
    del dev["network"]["vpc_cidr"]
    fails(dev, r"network\.vpc_cidr: is required")


def test_every_problem_in_a_file_is_reported_at_once(dev: dict[str, Any]) -> None:
    dev["region"] = "nowhere"
    dev["network"]["nat"] = "lots"
    with pytest.raises(ConfigError) as caught:
        parse(dev)
    assert [line.split(" = ")[0] for line in caught.value.lines] == [f"{SOURCE}: region", f"{SOURCE}: network.nat"]


def test_fails_when_the_file_is_not_valid_toml(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.write_text('project = "netflux\n')
    with pytest.raises(ConfigError, match=r"dev\.toml: is not valid TOML: .*line 1"):
        load_environment(path)


def test_errors_of_several_files_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('project = "x"\n')
    (tmp_path / "b.toml").write_text('region = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_environments(sorted(tmp_path.glob("*.toml")))
    files = {line.split(":")[0].rsplit("/", 1)[-1] for line in caught.value.lines}
    assert files == {"a.toml", "b.toml"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["services"]["movie-service"].update(container_port=0), "must be between 1 and 65535, got 0"),
        (lambda d: d["database"].update(backup_retention_days=36), "must be between 0 and 35, got 36"),
        (lambda d: d["network"].update(nat="sometimes"), "must be one of 'none', 'single' or 'per_az'"),
        (lambda d: d["database"].update(multi_az="no"), "must be true or false"),
        (lambda d: d["services"]["movie-service"].update(container_port="http"), "must be a whole number"),
        (lambda d: d.update(network="10.0.0.0/16"), "must be a table"),
    ],
)
def test_every_message_speaks_in_the_projects_voice(
    env_data: dict[str, dict[str, Any]], edit: Any, expected: str
) -> None:
    """pydantic's own checks read like the project's: field path, value, what is allowed."""
    dev = env_data["dev"]
    edit(dev)
    with pytest.raises(ConfigError) as error:
        parse(dev)
    message = str(error.value)
    assert expected in message
    assert "Input should" not in message
