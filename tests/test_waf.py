"""AWS WAF (``[waf]``): config errors (tier 1), the web ACL construct with stand-in dependencies
(tier 2), and where each stack puts the ACLs (tier 3)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from cdktf import App

from config import EnvironmentConfig, parse_environment
from config.waf import WafConfig
from modules import WebAcl
from modules.block import Naming
from stacks import PlatformStack
from tests.config_check import Data, fails
from tests.synth import Json, only, ref, resources, synth_construct, synth_stack

ALB = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/netflux-unit-alb/0123456789abcdef"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/mrk-0b1c2d3e11112222333344445555666"
REPLICA = "arn:aws:kms:us-east-1:123456789012:key/mrk-0b1c2d3e11112222333344445555666"


# --- config ----------------------------------------------------------------------------------------


def test_waf_is_on_by_default_and_only_dev_turns_it_off(environments: dict[str, EnvironmentConfig]) -> None:
    assert (WafConfig().enabled, WafConfig().log_retention_days) == (True, 365)
    assert {name: config.waf.enabled for name, config in environments.items()} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }


def test_fails_when_waf_log_retention_is_not_a_cloudwatch_period(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["waf"] = {"log_retention_days": 100}
    fails(data, r"waf\.log_retention_days = 100: must be one of CloudWatch's retention periods: .*")


# --- construct ------------------------------------------------------------------------------------


def stand_in_key() -> Any:
    """The environment's key with its us-east-1 replica (what a CLOUDFRONT ACL's log group needs)."""
    return SimpleNamespace(arn=KEY, arn_in=lambda region: KEY if region == "eu-west-1" else REPLICA)


def synth_acl(settings: Data | None = None, *, region: str = "eu-west-1", **dependencies: Any) -> Json:
    """GIVEN [waf] ``settings`` and stand-in dependencies WHEN one web ACL is synthesized."""
    waf = WafConfig.model_validate(settings or {})
    naming = Naming(project="netflux", environment="unit", region=region)
    wiring: dict[str, Any] = {"key": None, **dependencies}
    return synth_construct(lambda stack: WebAcl(stack, "waf", settings=waf, naming=naming, **wiring), region=region)


@pytest.fixture(scope="module")
def regional() -> Json:
    return synth_acl({"log_retention_days": 90}, load_balancer_arn=ALB, key=stand_in_key())


@pytest.fixture(scope="module")
def cloudfront() -> Json:
    return synth_acl(key=stand_in_key())


def managed_groups(acl: Json) -> list[str]:
    return [rule["statement"]["managed_rule_group_statement"]["name"] for rule in acl["rule"]]


def test_acl_allows_by_default_and_blocks_with_aws_managed_rule_groups(regional: Json) -> None:
    acl = only(regional, "aws_wafv2_web_acl")

    assert acl["default_action"] == {"allow": {}}
    assert acl["scope"] == "REGIONAL"
    assert "region" not in acl
    assert managed_groups(acl) == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesAnonymousIpList",
        "AWSManagedRulesKnownBadInputsRuleSet",  # Log4Shell among them
        "AWSManagedRulesCommonRuleSet",
    ]
    assert [rule["priority"] for rule in acl["rule"]] == [0, 1, 2, 3]
    # "none" keeps every rule's own block action; "count" would disarm the group.
    assert all(rule["override_action"] == {"none": {}} for rule in acl["rule"])


def test_only_the_hosting_provider_list_is_counted_instead_of_blocked(regional: Json) -> None:
    acl = only(regional, "aws_wafv2_web_acl")
    overrides = {
        rule["name"]: rule["statement"]["managed_rule_group_statement"].get("rule_action_override", [])
        for rule in acl["rule"]
    }

    assert {name: found for name, found in overrides.items() if found} == {
        "AWSManagedRulesAnonymousIpList": [{"name": "HostingProviderIPList", "action_to_use": {"count": {}}}]
    }


def test_metrics_and_sampled_requests_are_on_for_the_acl_and_every_rule(regional: Json) -> None:
    acl = only(regional, "aws_wafv2_web_acl")

    for config in [acl["visibility_config"], *(rule["visibility_config"] for rule in acl["rule"])]:
        assert (config["cloudwatch_metrics_enabled"], config["sampled_requests_enabled"]) == (True, True)
        assert config["metric_name"].startswith("netflux-unit-alb")


def test_regional_acl_protects_the_given_load_balancer(regional: Json) -> None:
    association = only(regional, "aws_wafv2_web_acl_association")

    assert association["resource_arn"] == ALB
    assert association["web_acl_arn"] == ref(regional, "aws_wafv2_web_acl", only(regional, "aws_wafv2_web_acl"), "arn")


def test_requests_are_logged_encrypted_with_credentials_redacted(regional: Json) -> None:
    group = only(regional, "aws_cloudwatch_log_group")
    logging = only(regional, "aws_wafv2_web_acl_logging_configuration")

    assert group["name"] == "aws-waf-logs-netflux-unit-alb"  # WAF logs only to aws-waf-logs-* groups
    assert (group["kms_key_id"], group["retention_in_days"]) == (KEY, 90)
    assert logging["resource_arn"] == ref(regional, "aws_wafv2_web_acl", only(regional, "aws_wafv2_web_acl"), "arn")
    assert logging["log_destination_configs"] == [ref(regional, "aws_cloudwatch_log_group", group, "arn")]
    assert [field["single_header"]["name"] for field in logging["redacted_fields"]] == ["authorization", "cookie"]


def test_cloudfront_acl_and_its_logs_live_in_us_east_1_without_an_association(cloudfront: Json) -> None:
    acl = only(cloudfront, "aws_wafv2_web_acl")

    assert acl["scope"] == "CLOUDFRONT"
    # A provider aliased to us-east-1 (both AWS provider 5 and 6 accept it), not a per-resource region.
    [aliased] = [p for p in cloudfront["provider"]["aws"] if p.get("alias")]
    assert aliased["region"] == "us-east-1"
    for resource_type in ("aws_wafv2_web_acl", "aws_cloudwatch_log_group", "aws_wafv2_web_acl_logging_configuration"):
        body = only(cloudfront, resource_type)
        assert body["provider"] == f"aws.{aliased['alias']}", resource_type
        assert "region" not in body
    assert not resources(cloudfront, "aws_wafv2_web_acl_association")


def test_cloudfront_acl_is_named_for_cloudfront_and_logs_with_the_keys_us_east_1_replica(cloudfront: Json) -> None:
    acl = only(cloudfront, "aws_wafv2_web_acl")
    group = only(cloudfront, "aws_cloudwatch_log_group")

    assert acl["name"] == "netflux-unit-cloudfront"
    assert (group["name"], group["kms_key_id"], group["retention_in_days"]) == (
        "aws-waf-logs-netflux-unit-cloudfront",
        REPLICA,
        365,
    )


def test_a_cloudfront_acl_of_a_stack_in_us_east_1_uses_the_default_provider() -> None:
    document = synth_acl(region="us-east-1")

    assert len(document["provider"]["aws"]) == 1
    assert "provider" not in only(document, "aws_wafv2_web_acl")
    assert "kms_key_id" not in only(document, "aws_cloudwatch_log_group")


# --- in every stack ----------------------------------------------------------------------------


def acl_by_scope(document: Json) -> dict[str, str]:
    """Logical id of each web ACL, by scope."""
    return {acl["scope"]: logical_id for logical_id, acl in resources(document, "aws_wafv2_web_acl").items()}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_shared_environments_put_waf_in_front_of_the_load_balancer_and_the_distribution(
    synthesized: dict[str, Json], env: str
) -> None:
    document = synthesized[env]
    acls = acl_by_scope(document)
    [alb_id] = resources(document, "aws_lb")

    association = only(document, "aws_wafv2_web_acl_association")
    assert association["resource_arn"] == f"${{aws_lb.{alb_id}.arn}}"
    assert association["web_acl_arn"] == f"${{aws_wafv2_web_acl.{acls['REGIONAL']}.arn}}"
    distribution = only(document, "aws_cloudfront_distribution")
    assert distribution["web_acl_id"] == f"${{aws_wafv2_web_acl.{acls['CLOUDFRONT']}.arn}}"
    assert len(resources(document, "aws_wafv2_web_acl_logging_configuration")) == 2


def test_dev_has_no_waf(synthesized: dict[str, Json]) -> None:
    document = synthesized["dev"]

    assert not resources(document, "aws_wafv2_web_acl")
    assert "web_acl_id" not in only(document, "aws_cloudfront_distribution")


def test_beanstalk_example_protects_beanstalks_own_load_balancer(synthesized_examples: dict[str, Json]) -> None:
    document = synthesized_examples["beanstalk"]
    [environment_id] = resources(document, "aws_elastic_beanstalk_environment")

    association = only(document, "aws_wafv2_web_acl_association")
    assert (
        association["resource_arn"]
        == f"${{element(aws_elastic_beanstalk_environment.{environment_id}.load_balancers, 0)}}"
    )
    assert set(acl_by_scope(document)) == {"REGIONAL", "CLOUDFRONT"}


@pytest.mark.stack  # synthesizes a whole environment
def test_a_configured_cloudfront_acl_replaces_the_platforms(env_data: dict[str, Json]) -> None:
    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shared/0b1c2d3e-1111-2222-3333-444455556666"
    data = env_data["staging"]
    data["frontend"]["web_acl_arn"] = arn
    config = parse_environment(data, source="environments/staging.toml", expected_name="staging")
    document = synth_stack(PlatformStack(App(), config, backend="local"))

    assert set(acl_by_scope(document)) == {"REGIONAL"}
    assert only(document, "aws_cloudfront_distribution")["web_acl_id"] == arn
    assert not resources(document, "aws_kms_replica_key")  # no us-east-1 log group to encrypt
