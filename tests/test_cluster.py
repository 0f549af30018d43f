"""The ECS cluster (``[compute]``): config errors, the construct's JSON, and every environment."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, parse_environment
from config.cluster import ComputeConfig
from modules import Cluster
from modules.block import Naming
from tests.synth import Json, only, ref, synth_construct

Data = dict[str, Any]
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
ENVIRONMENT_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-1111-2222-3333-444455556666"
ENVIRONMENTS = ["dev", "staging", "prod"]


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
