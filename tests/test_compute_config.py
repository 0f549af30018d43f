"""Compute config: per-service task/deployment/scaling tables and the cluster-wide [compute] table."""

from __future__ import annotations

import re
from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, parse_environment

Data = dict[str, Any]
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/dev/db-AbC123"
PARAMETER_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/netflux/dev/api-url"


def parse(data: Data) -> EnvironmentConfig:
    return parse_environment(data, source="environments/dev.toml", expected_name="dev")


def dev(env_data: dict[str, Data], *, service: str = "movie-service", **tables: Data) -> Data:
    """The dev file with ``tables`` (task=..., deployment=..., scaling=...) set on one service."""
    data = env_data["dev"]
    for table, values in tables.items():
        data["services"][service][table] = values
    return data


def with_compute(env_data: dict[str, Data], compute: Data) -> Data:
    data = env_data["dev"]
    data["compute"] = compute
    return data


def fails(data: Data, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse(data)


# --- defaults ----------------------------------------------------------------------------------


def test_defaults_are_secure_and_highly_available(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data.pop("compute", None)
    for service in data["services"].values():
        for table in ("task", "deployment", "scaling"):
            service.pop(table, None)

    config = parse(data)

    service = config.services["movie-service"]
    assert service.task.readonly_root_filesystem is True
    assert service.task.enable_execute_command is False
    assert service.task.image_tag is None  # the pipeline passes it as a Terraform variable
    assert service.task.log_retention_days == 365
    assert service.deployment.image_deploys == "terraform"
    assert (service.deployment.minimum_healthy_percent, service.deployment.maximum_percent) == (100, 200)
    assert (service.scaling.desired_count, service.scaling.autoscaling) == (2, True)
    assert config.compute.container_insights == "enabled"
    assert {k: (v.base, v.weight) for k, v in config.compute.capacity_provider_strategy.items()} == {"FARGATE": (0, 1)}
    assert config.compute.ecr.force_delete is False
    assert config.compute.ecr.kms_key_arn is None
    assert config.compute.ecr.encryption == "AES256"  # a schema default; every environment file picks KMS


# --- task size ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "memory_mib"),
    [(256, 512), (256, 2048), (512, 4096), (1024, 2048), (2048, 16384), (4096, 30720), (8192, 61440), (16384, 122880)],
)
def test_accepts_every_fargate_size_boundary(env_data: dict[str, Data], cpu: int, memory_mib: int) -> None:
    config = parse(dev(env_data, task={"cpu": cpu, "memory_mib": memory_mib}))

    assert config.services["movie-service"].task.memory_mib == memory_mib


def test_fails_when_memory_is_not_valid_for_cpu(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"cpu": 256, "memory_mib": 4096}),
        re.escape("services.movie-service.task.memory_mib = 4096: is not a valid Fargate size for cpu = 256; ")
        + re.escape("allowed memory_mib: 512, 1024, 2048"),
    )


def test_fails_when_memory_is_off_the_step_for_a_large_cpu(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"cpu": 8192, "memory_mib": 20000}),
        re.escape("allowed memory_mib: 16384 to 61440 in steps of 4096 (16384, 20480, ..., 61440)"),
    )


def test_fails_when_memory_is_below_the_range_for_cpu(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"cpu": 4096, "memory_mib": 4096}), "8192 to 30720 in steps of 1024")


def test_fails_when_cpu_is_not_a_fargate_size(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"cpu": 300, "memory_mib": 512}),
        re.escape("task.cpu = 300: must be one of Fargate's task sizes: 256, 512, 1024, 2048, 4096, 8192, 16384"),
    )


def test_fails_when_architecture_is_unknown(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"cpu_architecture": "ARM"}), r"task\.cpu_architecture = 'ARM': .*'X86_64' or 'ARM64'")


# --- image, environment, secrets ---------------------------------------------------------------


def test_fails_when_image_tag_is_latest(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"image_tag": "latest"}), "IMMUTABLE tags")


def test_fails_when_image_tag_is_not_a_docker_tag(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"image_tag": "v1/2"}), "must be a Docker tag")


def test_accepts_secrets_manager_and_ssm_references(env_data: dict[str, Data]) -> None:
    secrets = {"DB_PASSWORD": f"{SECRET_ARN}:password::", "API_URL": PARAMETER_ARN, "DB_URL": SECRET_ARN}
    config = parse(dev(env_data, task={"secrets": secrets}))

    assert config.services["movie-service"].task.secrets == secrets


@pytest.mark.parametrize(
    "arn",
    [
        "netflux/dev/db",  # a name, not an ARN
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/dev/db",  # partial: no 6-character suffix
        "arn:aws:secretsmanager:eu-west-1:1234:secret:db-AbC123",  # bad account
        "arn:aws:s3:::bucket/key",  # not a secret store
    ],
)
def test_fails_when_secret_is_not_a_secret_arn(env_data: dict[str, Data], arn: str) -> None:
    fails(
        dev(env_data, task={"secrets": {"DB_PASSWORD": arn}}),
        r"task\.secrets\.DB_PASSWORD = .*must be the full ARN of a Secrets Manager secret",
    )


def test_fails_when_a_variable_is_both_environment_and_secret(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"environment": {"DB_URL": "x"}, "secrets": {"DB_URL": SECRET_ARN}}),
        r"task\.secrets\.DB_URL = .*set both here and under environment",
    )


@pytest.mark.parametrize("name", ["DB_PASSWORD", "jwt_secret", "GITHUB_TOKEN", "STRIPE_API_KEY"])
def test_fails_when_a_plain_environment_variable_looks_like_a_secret(env_data: dict[str, Data], name: str) -> None:
    fails(dev(env_data, task={"environment": {name: "hunter2"}}), f"task.environment.{name} = .*looks like a secret")


def test_accepts_environment_names_that_only_mention_tokens(env_data: dict[str, Data]) -> None:
    config = parse(dev(env_data, task={"environment": {"TOKEN_URL": "https://auth/token", "AWS_KEY_ID_HINT": "x"}}))

    assert "TOKEN_URL" in config.services["movie-service"].task.environment


def test_fails_when_variable_name_is_invalid(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"environment": {"1ST": "x"}}), "variable names must be letters, digits and underscores")


def test_fails_when_log_retention_is_not_a_cloudwatch_period(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"log_retention_days": 10}), r"task\.log_retention_days = 10: must be one of CloudWatch")


def test_fails_when_exec_is_on_with_a_read_only_root(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"enable_execute_command": True}),
        r"task\.enable_execute_command = True: needs readonly_root_filesystem = false",
    )


def test_fails_when_health_check_command_has_no_cmd_prefix(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"health_check": {"command": ["curl", "-f", "x"]}}), 'must start with "CMD" or "CMD-SHELL"'
    )


def test_fails_when_health_check_timeout_is_not_below_interval(env_data: dict[str, Data]) -> None:
    check = {"command": ["CMD", "true"], "interval_seconds": 10, "timeout_seconds": 10}
    fails(dev(env_data, task={"health_check": check}), r"health_check\.timeout_seconds = 10: must be shorter")


def test_fails_on_unknown_task_key_listing_allowed_keys(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"memory": 512}), r"task\.memory = 512: unknown key; allowed keys here: cpu, memory_mib")


# --- deployment and scaling --------------------------------------------------------------------


def test_fails_when_maximum_percent_does_not_exceed_minimum(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, deployment={"minimum_healthy_percent": 100, "maximum_percent": 100}),
        r"deployment\.maximum_percent = 100: must be greater than minimum_healthy_percent \(100\)",
    )


def test_fails_when_image_deploys_is_unknown(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, deployment={"image_deploys": "ci"}), "'terraform' or 'pipeline'")


def test_fails_when_desired_count_is_above_max(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, scaling={"desired_count": 5, "min_count": 1, "max_count": 4}),
        r"scaling\.desired_count = 5: must be between min_count \(1\) and max_count \(4\)",
    )


def test_fails_when_desired_count_is_below_min(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, scaling={"desired_count": 1, "min_count": 2, "max_count": 4}),
        r"desired_count = 1: must be between",
    )


def test_fails_when_min_count_exceeds_max_count(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, scaling={"desired_count": 3, "min_count": 5, "max_count": 3}),
        r"scaling\.min_count = 5: must be at most max_count \(3\)",
    )


@pytest.mark.parametrize("field", ["desired_count", "min_count"])
def test_fails_when_a_count_is_negative(env_data: dict[str, Data], field: str) -> None:
    fails(dev(env_data, scaling={field: -1}), rf"scaling\.{field} = -1: must be at least 0, got -1")


def test_fails_when_autoscaling_settings_are_given_with_autoscaling_off(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, scaling={"autoscaling": False, "desired_count": 1, "max_count": 3}),
        r"scaling\.max_count = 3: is only used when autoscaling = true",
    )


def test_accepts_a_fixed_count_outside_the_default_autoscaling_range(env_data: dict[str, Data]) -> None:
    config = parse(dev(env_data, scaling={"autoscaling": False, "desired_count": 1}))

    assert config.services["movie-service"].scaling.desired_count == 1


def test_fails_when_cpu_target_is_above_100(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, scaling={"cpu_target_percent": 120}), r"scaling\.cpu_target_percent = 120")


# --- cluster -----------------------------------------------------------------------------------


def test_accepts_a_spot_heavy_strategy_with_an_on_demand_base(env_data: dict[str, Data]) -> None:
    strategy = {"FARGATE": {"base": 1, "weight": 1}, "FARGATE_SPOT": {"weight": 3}}
    config = parse(with_compute(env_data, {"capacity_provider_strategy": strategy}))

    assert config.compute.capacity_provider_strategy["FARGATE_SPOT"].weight == 3


def test_fails_when_capacity_provider_is_unknown(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"capacity_provider_strategy": {"EC2": {"weight": 1}}}),
        r"compute\.capacity_provider_strategy\.EC2 = 'EC2': unknown capacity provider; allowed: FARGATE, FARGATE_SPOT",
    )


def test_fails_when_no_capacity_provider_has_weight(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"capacity_provider_strategy": {"FARGATE": {"base": 2, "weight": 0}}}),
        "needs at least one provider with weight > 0",
    )


def test_fails_when_two_capacity_providers_have_a_base(env_data: dict[str, Data]) -> None:
    strategy = {"FARGATE": {"base": 1, "weight": 1}, "FARGATE_SPOT": {"base": 1, "weight": 1}}
    fails(
        with_compute(env_data, {"capacity_provider_strategy": strategy}),
        r"capacity_provider_strategy\.FARGATE_SPOT\.base = 1: may give a base to only one provider",
    )


def test_fails_when_capacity_weight_is_out_of_range(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"capacity_provider_strategy": {"FARGATE": {"weight": 1001}}}),
        r"FARGATE\.weight = 1001: must be between 0 and 1000, got 1001",
    )


def test_fails_when_container_insights_value_is_unknown(env_data: dict[str, Data]) -> None:
    fails(with_compute(env_data, {"container_insights": "on"}), r"compute\.container_insights = 'on'")


def test_fails_when_ecr_kms_key_is_not_a_key_arn(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"ecr": {"kms_key_arn": "alias/ecr"}}),
        r"compute\.ecr\.kms_key_arn = 'alias/ecr': must be a KMS key ARN",
    )


def test_ecr_kms_key_is_accepted_with_kms_encryption(env_data: dict[str, Data]) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
    ecr = parse(with_compute(env_data, {"ecr": {"encryption": "KMS", "kms_key_arn": key}})).compute.ecr

    assert (ecr.encryption, ecr.kms_key_arn) == ("KMS", key)


def test_fails_when_ecr_kms_key_is_given_with_aes256_encryption(env_data: dict[str, Data]) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
    fails(
        with_compute(env_data, {"ecr": {"kms_key_arn": key}}),
        r"compute\.ecr\.kms_key_arn = .*: is only used with encryption = 'KMS'",
    )


def test_fails_when_ecr_encryption_is_unknown(env_data: dict[str, Data]) -> None:
    fails(with_compute(env_data, {"ecr": {"encryption": "SSE"}}), r"compute\.ecr\.encryption = 'SSE'")


def test_fails_when_ecr_counts_are_zero(env_data: dict[str, Data]) -> None:
    fails(with_compute(env_data, {"ecr": {"keep_tagged_images": 0}}), r"compute\.ecr\.keep_tagged_images = 0")


def test_fails_when_compute_kind_is_unknown(env_data: dict[str, Data]) -> None:
    fails(with_compute(env_data, {"kind": "lambda"}), r"compute\.kind = 'lambda'")
