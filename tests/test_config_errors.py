"""Tier 1: bad environment config fails at load with file, field path, value and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, load_environment, load_environments, parse_environment

SOURCE = "environments/dev.toml"


def load(data: dict[str, Any]) -> None:
    parse_environment(data, source=SOURCE, expected_name="dev")


def fails(data: dict[str, Any], line: str) -> None:
    """Loading fails with exactly one problem, and its line matches ``line`` (a regex)."""
    with pytest.raises(ConfigError) as caught:
        load(data)
    assert len(caught.value.lines) == 1, caught.value.lines
    assert re.fullmatch(f"{re.escape(SOURCE)}: {line}", caught.value.lines[0]), caught.value.lines[0]


@pytest.fixture
def dev(env_data: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return env_data["dev"]


def test_every_environment_file_is_valid() -> None:
    from config import environment_files

    assert {c.environment for c in load_environments(environment_files())} == {"dev", "staging", "prod"}


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "10.0.0.1/16", "300.0.0.0/16", "banana"])
def test_fails_when_vpc_cidr_is_invalid(dev: dict[str, Any], cidr: str) -> None:
    dev["network"]["vpc_cidr"] = cidr
    fails(dev, rf"network\.vpc_cidr = '{re.escape(cidr)}': vpc_cidr must be an IPv4 network in CIDR notation .*")


def test_fails_when_vpc_is_larger_than_aws_allows(dev: dict[str, Any]) -> None:
    dev["network"]["vpc_cidr"] = "10.0.0.0/8"
    fails(dev, r"network\.vpc_cidr = '10\.0\.0\.0/8': prefix must be between /16 and /24 .*got /8")


def explicit_subnets(dev: dict[str, Any], **overrides: list[str]) -> None:
    subnets = {
        "public": ["10.10.0.0/24", "10.10.1.0/24"],
        "private_app": ["10.10.10.0/24", "10.10.11.0/24"],
        "private_data": ["10.10.20.0/24", "10.10.21.0/24"],
    }
    dev["network"]["subnets"] = {**subnets, **overrides}


def test_explicit_subnets_are_accepted(dev: dict[str, Any]) -> None:
    explicit_subnets(dev)
    load(dev)


def test_fails_when_a_subnet_is_outside_the_vpc(dev: dict[str, Any]) -> None:
    explicit_subnets(dev, private_app=["10.10.10.0/24", "10.99.11.0/24"])
    fails(dev, r"network\.subnets\.private_app\[1\] = '10\.99\.11\.0/24': is outside the VPC CIDR 10\.10\.0\.0/16")


def test_fails_when_subnets_overlap(dev: dict[str, Any]) -> None:
    explicit_subnets(dev, private_data=["10.10.20.0/24", "10.10.1.128/25"])
    fails(
        dev,
        r"network\.subnets\.private_data\[1\] = '10\.10\.1\.128/25': overlaps 10\.10\.1\.0/24 at network\.subnets\.public\[1\]",
    )


def test_fails_when_a_subnet_cidr_is_malformed(dev: dict[str, Any]) -> None:
    explicit_subnets(dev, public=["10.10.0.0/24", "10.10.1.0/99"])
    fails(dev, r"network\.subnets\.public\[1\] = '10\.10\.1\.0/99': subnet CIDR must be an IPv4 network .*")


def test_fails_when_a_tier_has_the_wrong_number_of_subnets(dev: dict[str, Any]) -> None:
    explicit_subnets(dev, public=["10.10.0.0/24"])
    fails(dev, r"network\.subnets\.public = \['10\.10\.0\.0/24'\]: needs one CIDR per availability zone \(2\), got 1")


def test_fails_when_fewer_than_two_azs(dev: dict[str, Any]) -> None:
    dev["network"]["availability_zones"] = ["eu-west-1a"]
    fails(dev, r"network\.availability_zones = \['eu-west-1a'\]: needs at least 2 availability zones .*got 1")


def test_fails_when_an_az_is_not_in_the_region(dev: dict[str, Any]) -> None:
    dev["network"]["availability_zones"] = ["eu-west-1a", "us-east-1b"]
    fails(dev, r"network\.availability_zones\[1\] = 'us-east-1b': must be an availability zone of eu-west-1.*")


def test_fails_when_more_azs_than_subnets_can_be_carved(dev: dict[str, Any]) -> None:
    # A /24 VPC carved into /27 subnets has 8 slots: 2 per tier, so 3 AZs cannot fit.
    dev["network"].update(
        vpc_cidr="10.10.0.0/24",
        subnet_prefix_length=27,
        availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    )
    fails(
        dev,
        r"network\.availability_zones = \[.*\]: has 3 AZs but 10\.10\.0\.0/24 split into /27 subnets fits only 2 per tier.*",
    )


def test_fails_when_subnet_prefix_is_not_inside_the_vpc(dev: dict[str, Any]) -> None:
    dev["network"]["subnet_prefix_length"] = 12
    fails(dev, r"network\.subnet_prefix_length = 12: must be between /17 and /28 for a /16 VPC")


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


def test_fails_when_nat_strategy_is_unknown(dev: dict[str, Any]) -> None:
    dev["network"]["nat"] = "per_subnet"
    fails(dev, r"network\.nat = 'per_subnet': must be one of 'none', 'single' or 'per_az'")


def test_fails_when_a_key_is_unknown(dev: dict[str, Any]) -> None:
    dev["network"]["nat_gateways"] = 2
    fails(dev, r"network\.nat_gateways = 2: unknown key; allowed keys here: vpc_cidr, availability_zones, .*nat.*")


def test_fails_when_a_top_level_key_is_misspelled(dev: dict[str, Any]) -> None:
    dev["regoin"] = "eu-west-1"
    fails(dev, r"regoin = 'eu-west-1': unknown key; allowed keys here: project, environment, region, .*")


def test_fails_when_a_required_field_is_missing(dev: dict[str, Any]) -> None:
    del dev["network"]["vpc_cidr"]
    fails(dev, r"network\.vpc_cidr: is required")


def test_fails_when_flow_log_retention_is_not_a_cloudwatch_period(dev: dict[str, Any]) -> None:
    dev["network"]["flow_logs"]["retention_days"] = 31
    fails(
        dev, r"network\.flow_logs\.retention_days = 31: must be one of CloudWatch's retention periods: 1, 3, .*, 3653"
    )


def test_fails_when_an_interface_endpoint_is_unknown(dev: dict[str, Any]) -> None:
    dev["network"]["endpoints"]["interface"] = ["ecr.api", "dynamodb"]
    fails(dev, r"network\.endpoints\.interface\[1\] = 'dynamodb': must be one of 'ecr\.api', 'ecr\.dkr', .*")


def test_fails_when_a_reserved_tag_is_overridden(dev: dict[str, Any]) -> None:
    dev["tags"]["managed-by"] = "terraform"
    fails(
        dev, r"tags\.managed-by = 'terraform': is set by the platform \(project, environment, managed-by\); remove it"
    )


def test_fails_when_backend_type_is_unknown(dev: dict[str, Any]) -> None:
    dev["backend"] = {"type": "gcs"}
    fails(dev, r"backend = \{'type': 'gcs'\}: unknown type; allowed: 'local', 's3', 'cloud'")


def test_fails_when_s3_backend_key_is_unknown(dev: dict[str, Any]) -> None:
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "key": "custom"}
    fails(
        dev,
        r"backend\.key = 'custom': unknown key; allowed keys here: type, bucket, region, locking, dynamodb_table, kms_key_id",
    )


def test_fails_when_dynamodb_locking_has_no_table(dev: dict[str, Any]) -> None:
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "locking": "dynamodb"}
    fails(dev, r"backend\.dynamodb_table = None: is required when locking = 'dynamodb'")


def test_fails_when_state_bucket_name_is_invalid(dev: dict[str, Any]) -> None:
    dev["backend"] = {"type": "s3", "bucket": "State_Bucket"}
    fails(dev, r"backend\.bucket = 'State_Bucket': must be a valid S3 bucket name .*")


def test_every_problem_in_a_file_is_reported_at_once(dev: dict[str, Any]) -> None:
    dev["region"] = "nowhere"
    dev["network"]["nat"] = "lots"
    with pytest.raises(ConfigError) as caught:
        load(dev)
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


def test_encryption_defaults_to_a_customer_managed_key_with_a_30_day_window(dev: dict[str, Any]) -> None:
    config = parse_environment(dev, source=SOURCE, expected_name="dev")

    assert (config.encryption.customer_managed_key, config.encryption.deletion_window_days) == (True, 30)


@pytest.mark.parametrize("days", [6, 31])
def test_fails_when_the_key_deletion_window_is_outside_7_to_30_days(dev: dict[str, Any], days: int) -> None:
    dev["encryption"] = {"deletion_window_days": days}
    fails(dev, rf"encryption\.deletion_window_days = {days}: .*")


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
        parse_environment(dev, source=SOURCE, expected_name="dev")
    message = str(error.value)
    assert expected in message
    assert "Input should" not in message
