"""The ECS cluster (``[compute]``): config errors, the construct's JSON, and every environment."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, parse_environment
from config.cluster import ComputeConfig
from config.service import ServiceTaskConfig
from modules import Cluster
from modules.block import Naming
from tests.synth import Json, only, ref, synth_construct

Data = dict[str, Any]
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
ENVIRONMENT_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-1111-2222-3333-444455556666"
ENVIRONMENTS = ["dev", "staging", "prod"]
BEANSTALK_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "beanstalk" / "beanstalk.toml"


def with_compute(env_data: dict[str, Data], compute: Data) -> Data:
    data = env_data["dev"]
    data["compute"] = compute
    return data


def fails(data: Data, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_environment(data, source="environments/dev.toml", expected_name="dev")


# --- config ------------------------------------------------------------------------------------


def test_defaults_are_fargate_on_demand_with_container_insights(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data.pop("compute", None)

    compute = parse_environment(data, source="environments/dev.toml").compute

    assert compute.kind == "fargate"
    assert compute.container_insights == "enabled"
    assert {k: (v.base, v.weight) for k, v in compute.capacity_provider_strategy.items()} == {"FARGATE": (0, 1)}
    assert compute.log_kms_key_arn is None


def test_accepts_a_spot_heavy_strategy_with_an_on_demand_base(env_data: dict[str, Data]) -> None:
    strategy = {"FARGATE": {"base": 1, "weight": 1}, "FARGATE_SPOT": {"weight": 3}}
    config = parse_environment(with_compute(env_data, {"capacity_provider_strategy": strategy}), source="dev.toml")

    assert config.compute.capacity_provider_strategy["FARGATE_SPOT"].weight == 3


def test_fails_when_capacity_provider_is_unknown(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"capacity_provider_strategy": {"EC2": {"weight": 1}}}),
        r"compute\.capacity_provider_strategy\.EC2 = 'EC2': unknown capacity provider; allowed: FARGATE, FARGATE_SPOT",
    )


def test_fails_when_no_capacity_provider_has_weight(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"capacity_provider_strategy": {"FARGATE": {"base": 2, "weight": 0}}}),
        r"compute\.capacity_provider_strategy = .*needs at least one provider with weight > 0",
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


def test_fails_when_compute_kind_is_unknown(env_data: dict[str, Data]) -> None:
    fails(with_compute(env_data, {"kind": "lambda"}), r"compute\.kind = 'lambda'")


def test_fails_when_log_kms_key_is_not_a_key_arn(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"log_kms_key_arn": "alias/logs"}),
        r"compute\.log_kms_key_arn = 'alias/logs': must be a KMS key ARN",
    )


# --- construct ---------------------------------------------------------------------------------


def cluster(settings: Data, *, key: str | None = None) -> Json:
    """GIVEN [compute] ``settings`` (and the environment's key) WHEN the cluster is synthesized."""
    compute = ComputeConfig.model_validate(settings)
    environment_key = SimpleNamespace(arn=key) if key else None
    return synth_construct(
        lambda stack: Cluster(stack, "cluster", settings=compute, naming=NAMING, key=environment_key)
    )


@pytest.fixture(scope="module")
def spot_heavy() -> Json:
    return cluster({"capacity_provider_strategy": {"FARGATE": {"base": 1, "weight": 1}, "FARGATE_SPOT": {"weight": 3}}})


def test_cluster_has_container_insights_and_a_service_connect_namespace(spot_heavy: Json) -> None:
    ecs_cluster = only(spot_heavy, "aws_ecs_cluster")
    namespace = only(spot_heavy, "aws_service_discovery_http_namespace")

    assert ecs_cluster["name"] == "netflux-unit"
    assert ecs_cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    assert namespace["name"] == "netflux-unit.internal"
    assert ecs_cluster["service_connect_defaults"] == {
        "namespace": ref(spot_heavy, "aws_service_discovery_http_namespace", namespace, "arn")
    }


def test_cluster_offers_fargate_and_spot_with_the_configured_default_strategy(spot_heavy: Json) -> None:
    providers = only(spot_heavy, "aws_ecs_cluster_capacity_providers")

    assert providers["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]
    assert providers["default_capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]
    assert providers["cluster_name"] == ref(spot_heavy, "aws_ecs_cluster", only(spot_heavy, "aws_ecs_cluster"), "name")


def test_cluster_passes_enhanced_insights_through_with_the_default_strategy() -> None:
    document = cluster({"container_insights": "enhanced"})

    assert only(document, "aws_ecs_cluster")["setting"] == [{"name": "containerInsights", "value": "enhanced"}]
    assert only(document, "aws_ecs_cluster_capacity_providers")["default_capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 0, "weight": 1}
    ]


@pytest.mark.parametrize(
    ("settings", "key", "expected"),
    [
        ({"log_kms_key_arn": KMS_KEY}, ENVIRONMENT_KEY, KMS_KEY),
        ({}, ENVIRONMENT_KEY, ENVIRONMENT_KEY),
        ({}, None, None),
    ],
)
def test_service_logs_use_the_configured_key_else_the_environments(
    settings: Data, key: str | None, expected: str | None
) -> None:
    compute = ComputeConfig.model_validate(settings)
    environment_key = SimpleNamespace(arn=key) if key else None
    found: list[Cluster] = []
    synth_construct(
        lambda stack: found.append(Cluster(stack, "cluster", settings=compute, naming=NAMING, key=environment_key))
    )

    assert found[0].log_kms_key_arn == expected


# --- every environment -------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_cluster_per_environment_named_after_it(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]

    assert only(document, "aws_ecs_cluster")["name"] == environments[env].stack_name
    assert document["output"]["ecs_cluster_name"]["value"].startswith("${aws_ecs_cluster.")


def test_dev_runs_on_spot_and_prod_on_demand(synthesized: dict[str, Json]) -> None:
    def strategy(env: str) -> list[Json]:
        found: list[Json] = only(synthesized[env], "aws_ecs_cluster_capacity_providers")[
            "default_capacity_provider_strategy"
        ]
        return found

    assert [s["capacity_provider"] for s in strategy("dev") if s["weight"] > 0] == ["FARGATE_SPOT"]
    assert [s["capacity_provider"] for s in strategy("prod") if s["weight"] > 0] == ["FARGATE"]


# --- ECS Exec ([compute.exec]) -----------------------------------------------------------------


def test_exec_is_off_by_default(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["compute"].pop("exec")

    exec_settings = parse_environment(data, source="environments/dev.toml").compute.exec

    assert (exec_settings.enabled, exec_settings.log_retention_days) == (False, 365)


@pytest.mark.parametrize(
    ("enabled", "task", "accepts"),
    [
        (True, {"readonly_root_filesystem": False}, True),
        (True, {}, False),
        (True, {"readonly_root_filesystem": False, "enable_execute_command": False}, False),
        (True, {"readonly_root_filesystem": False, "enable_execute_command": True}, True),
        (False, {"readonly_root_filesystem": False}, False),
    ],
    ids=["writable-root", "read-only-root", "service-off", "service-on", "environment-off"],
)
def test_a_service_accepts_sessions_where_the_environment_offers_them(enabled: bool, task: Data, accepts: bool) -> None:
    compute = ComputeConfig.model_validate({"exec": {"enabled": enabled}})

    assert compute.exec.on_for(ServiceTaskConfig.model_validate(task)) is accepts


def test_fails_when_exec_log_retention_is_not_a_cloudwatch_period(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"exec": {"enabled": True, "log_retention_days": 10}}),
        r"compute\.exec\.log_retention_days = 10: must be one of CloudWatch's retention periods",
    )


def test_fails_when_exec_is_on_without_the_environments_key(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["encryption"] = {"customer_managed_key": False}
    data["compute"]["ecr"].pop("encryption")  # KMS images need the key too

    fails(
        data,
        r"compute\.exec\.enabled = True: needs encryption\.customer_managed_key = true: ECS Exec sessions and "
        r"their log group are encrypted with the environment's key",
    )


def test_fails_when_a_service_asks_for_exec_where_the_environment_offers_none(env_data: dict[str, Data]) -> None:
    data = env_data["prod"]
    data["services"]["movie-service"]["task"].update(enable_execute_command=True, readonly_root_filesystem=False)

    with pytest.raises(ConfigError, match=r"services\.movie-service\.task\.enable_execute_command = True: needs "):
        parse_environment(data, source="environments/prod.toml", expected_name="prod")


def test_fails_when_exec_settings_are_given_while_it_is_off(env_data: dict[str, Data]) -> None:
    fails(
        with_compute(env_data, {"exec": {"enabled": False, "log_retention_days": 30}}),
        r"compute\.exec\.log_retention_days = 30: is set but compute\.exec\.enabled is false",
    )


def test_fails_when_exec_is_asked_of_a_beanstalk_environment() -> None:
    data = tomllib.loads(BEANSTALK_EXAMPLE.read_text())
    data.setdefault("compute", {})["exec"] = {"enabled": True}

    with pytest.raises(ConfigError, match=r"compute\.exec\.enabled = True: is set but compute\.kind is 'beanstalk'"):
        parse_environment(data, source="examples/beanstalk/beanstalk.toml")


def test_exec_sessions_are_encrypted_with_the_environments_key_and_logged() -> None:
    document = cluster({"exec": {"enabled": True, "log_retention_days": 90}}, key=ENVIRONMENT_KEY)
    log_group = only(document, "aws_cloudwatch_log_group")

    assert only(document, "aws_ecs_cluster")["configuration"] == {
        "execute_command_configuration": {
            "kms_key_id": ENVIRONMENT_KEY,
            "logging": "OVERRIDE",
            "log_configuration": {
                "cloud_watch_log_group_name": ref(document, "aws_cloudwatch_log_group", log_group, "name"),
                "cloud_watch_encryption_enabled": True,
            },
        }
    }
    assert log_group == {"name": "/ecs/netflux-unit/exec", "retention_in_days": 90, "kms_key_id": ENVIRONMENT_KEY}


def test_a_cluster_without_exec_has_no_session_configuration_or_log_group(spot_heavy: Json) -> None:
    assert "configuration" not in only(spot_heavy, "aws_ecs_cluster")
    assert "aws_cloudwatch_log_group" not in spot_heavy.get("resource", {})


def test_exec_without_a_key_fails_in_the_construct() -> None:
    with pytest.raises(ValueError, match="ECS Exec needs the environment's key"):
        cluster({"exec": {"enabled": True}})


def test_dev_and_staging_offer_exec_and_prod_does_not(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig]
) -> None:
    for env in ENVIRONMENTS:
        document = synthesized[env]
        offered = "configuration" in only(document, "aws_ecs_cluster")
        services = [s["enable_execute_command"] for s in document["resource"]["aws_ecs_service"].values()]

        assert offered is (env != "prod"), env
        assert services == [offered] * len(services), env
        assert environments[env].compute.exec.enabled is offered
