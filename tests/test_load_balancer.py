"""Tier 2/3: the load balancer construct, and the ALB of every synthesized environment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf_cdktf_provider_aws.lb_listener_rule import LbListenerRule
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup

from config import EnvironmentConfig
from modules import LoadBalancer, LoadBalancerProps, TargetProps
from modules.load_balancer import ELB_LOG_ACCOUNTS, LOG_DELIVERY_SERVICE, TLS_POLICY, target_group_name
from tests.synth import Json, only, ref, resources, synth_construct

CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
TARGETS = {
    "movie-service": TargetProps(port=8080, priority=45978, path_patterns=["/api/movies*"]),
    "customer-service": TargetProps(
        port=8081,
        protocol="HTTPS",
        priority=44275,
        path_patterns=["/api/customers/*"],
        host_headers=["api.example.com"],
        health_check_path="/health",
        health_check_matcher="200-299",
        health_check_interval_seconds=20,
        health_check_timeout_seconds=4,
        healthy_threshold=2,
        unhealthy_threshold=4,
        deregistration_delay_seconds=45,
    ),
}


def lb_props(**overrides: Any) -> LoadBalancerProps:
    values: dict[str, Any] = {
        "project": "netflux",
        "environment": "unit",
        "region": "eu-west-1",
        "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "security_group_id": "sg-alb",
        "targets": TARGETS,
    }
    return LoadBalancerProps(**{**values, **overrides})


def synth_lb(**overrides: Any) -> Json:
    props = lb_props(**overrides)
    return synth_construct(lambda stack: LoadBalancer(stack, "lb", props=props), region=props.region)


def listeners_by_port(document: Json) -> dict[int, Json]:
    return {listener["port"]: listener for listener in resources(document, "aws_lb_listener").values()}


def bucket_policy(document: Json) -> Json:
    policy: Json = json.loads(only(document, "aws_s3_bucket_policy")["policy"])
    return policy


@pytest.fixture(scope="module")
def http_only() -> Json:
    return synth_lb()


@pytest.fixture(scope="module")
def https() -> Json:
    return synth_lb(certificate_arn=CERT)


# --- the ALB -----------------------------------------------------------------------------------


def test_alb_drops_invalid_headers_and_uses_config_values() -> None:
    document = synth_lb(idle_timeout_seconds=120, deletion_protection=False, internal=True)
    alb = only(document, "aws_lb")
    assert alb["load_balancer_type"] == "application"
    assert alb["drop_invalid_header_fields"] is True
    assert alb["enable_deletion_protection"] is False
    assert alb["idle_timeout"] == 120
    assert alb["internal"] is True
    assert alb["subnets"] == ["subnet-a", "subnet-b"]
    assert alb["security_groups"] == ["sg-alb"]
    assert len(alb["name"]) <= 32


def test_deletion_protection_is_on_by_default(http_only: Json) -> None:
    assert only(http_only, "aws_lb")["enable_deletion_protection"] is True


@pytest.mark.parametrize("seconds", [0, 4001])
def test_fails_when_idle_timeout_is_out_of_range(seconds: int) -> None:
    with pytest.raises(ValueError, match=f"idle_timeout_seconds must be between 1 and 4000, got {seconds}"):
        synth_lb(idle_timeout_seconds=seconds)


def test_fails_when_two_targets_share_a_priority() -> None:
    clash = {**TARGETS, "other": TargetProps(port=80, priority=45978, path_patterns=["/other/*"])}
    with pytest.raises(ValueError, match=r"targets\['other'\]\.priority 45978 is also used by 'movie-service'"):
        synth_lb(targets=clash)


def test_fails_when_a_target_has_no_condition() -> None:
    with pytest.raises(ValueError, match=r"targets\['bare'\] needs at least one path pattern or host header"):
        synth_lb(targets={"bare": TargetProps(port=80, priority=5)})


# --- listeners ---------------------------------------------------------------------------------


def test_without_certificate_http_serves_the_rules(http_only: Json) -> None:
    listeners = listeners_by_port(http_only)
    assert set(listeners) == {80}
    http = listeners[80]
    assert http["protocol"] == "HTTP"
    assert [action["type"] for action in http["default_action"]] == ["fixed-response"]
    http_ref = ref(http_only, "aws_lb_listener", http, "arn")
    assert {rule["listener_arn"] for rule in resources(http_only, "aws_lb_listener_rule").values()} == {http_ref}


def test_with_certificate_https_serves_the_rules_and_http_redirects(https: Json) -> None:
    listeners = listeners_by_port(https)
    assert set(listeners) == {80, 443}
    secure = listeners[443]
    assert secure["protocol"] == "HTTPS"
    assert secure["certificate_arn"] == CERT
    assert secure["ssl_policy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[80]["default_action"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}
    ]
    https_ref = ref(https, "aws_lb_listener", secure, "arn")
    assert {rule["listener_arn"] for rule in resources(https, "aws_lb_listener_rule").values()} == {https_ref}


@pytest.mark.parametrize("certificate", [None, CERT])
def test_redirect_exists_exactly_when_a_certificate_is_configured(certificate: str | None) -> None:
    document = synth_lb(certificate_arn=certificate)
    redirects = [
        action
        for listener in resources(document, "aws_lb_listener").values()
        for action in listener["default_action"]
        if action["type"] == "redirect"
    ]
    assert bool(redirects) == (certificate is not None)


def test_default_action_is_a_404_json_response(https: Json) -> None:
    action = listeners_by_port(https)[443]["default_action"][0]
    response = action["fixed_response"]
    assert response["status_code"] == "404"
    assert response["content_type"] == "application/json"
    json.loads(response["message_body"])


def test_construct_exposes_the_listener_the_rules_live_on() -> None:
    captured: dict[str, LoadBalancer] = {}

    def build(stack: Any) -> None:
        captured["lb"] = LoadBalancer(stack, "lb", props=lb_props(certificate_arn=CERT))

    synth_construct(build)
    lb = captured["lb"]
    assert lb.https_listener is not None
    assert lb.listener is lb.https_listener
    assert set(lb.services) == set(TARGETS)
    target = lb.services["movie-service"]
    assert isinstance(target.target_group, LbTargetGroup)
    assert isinstance(target.listener_rule, LbListenerRule)


# --- target groups and rules ---------------------------------------------------------------------


def target_group(document: Json, service: str) -> Json:
    [group] = [g for g in resources(document, "aws_lb_target_group").values() if g["tags"]["service"] == service]
    return group


def test_target_group_takes_port_protocol_and_health_check_from_props(http_only: Json) -> None:
    group = target_group(http_only, "customer-service")
    assert group["target_type"] == "ip"
    assert group["port"] == 8081
    assert group["protocol"] == "HTTPS"
    assert group["deregistration_delay"] == "45"
    assert group["vpc_id"] == "vpc-1"
    assert group["lifecycle"] == {"create_before_destroy": True}
    assert group["health_check"] == {
        "enabled": True,
        "protocol": "HTTPS",
        "port": "traffic-port",
        "path": "/health",
        "matcher": "200-299",
        "interval": 20,
        "timeout": 4,
        "healthy_threshold": 2,
        "unhealthy_threshold": 4,
    }


def test_listener_rule_forwards_path_and_host_to_its_target_group(http_only: Json) -> None:
    [rule] = [r for r in resources(http_only, "aws_lb_listener_rule").values() if r["priority"] == 44275]
    group = target_group(http_only, "customer-service")
    assert rule["action"] == [
        {"type": "forward", "target_group_arn": ref(http_only, "aws_lb_target_group", group, "arn")}
    ]
    assert rule["condition"] == [
        {"path_pattern": {"values": ["/api/customers/*"]}},
        {"host_header": {"values": ["api.example.com"]}},
    ]


def test_resources_are_keyed_by_service_name(http_only: Json) -> None:
    reordered = synth_lb(targets=dict(reversed(TARGETS.items())))
    for kind in ("aws_lb_target_group", "aws_lb_listener_rule"):
        assert set(resources(reordered, kind)) == set(resources(http_only, kind))


@pytest.mark.parametrize("service", ["movie-service", "customer-service", "recommendations-engine"])
def test_target_group_names_fit_32_characters(service: str) -> None:
    name = target_group_name("platform-project", "staging", service, port=8080, protocol="HTTP")
    assert len(name) <= 32
    assert not name.endswith("-")


def test_target_group_name_changes_with_port_and_protocol_only() -> None:
    def name(port: int = 8080, protocol: str = "HTTP") -> str:
        return target_group_name("netflux", "prod", "customer-service", port=port, protocol=protocol)

    assert name() == name()
    assert name(port=8081) != name()
    assert name(protocol="HTTPS") != name()
    assert name(port=8081) != name(protocol="HTTPS")


def test_synthesized_target_group_name_changes_when_the_port_changes(http_only: Json) -> None:
    moved = {**TARGETS, "movie-service": TargetProps(port=9090, priority=45978, path_patterns=["/api/movies*"])}
    before = target_group(http_only, "movie-service")["name"]
    after = target_group(synth_lb(targets=moved), "movie-service")["name"]
    assert before != after
    assert len(after) <= 32


# --- access logs --------------------------------------------------------------------------------


def test_access_log_bucket_is_private_encrypted_and_expires(http_only: Json) -> None:
    block = only(http_only, "aws_s3_bucket_public_access_block")
    assert all(
        block[key] is True
        for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    encryption = only(http_only, "aws_s3_bucket_server_side_encryption_configuration")
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    ownership = only(http_only, "aws_s3_bucket_ownership_controls")
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"
    [rule] = only(http_only, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"] == [{"days": 365}]
    # Versioned, so a log overwritten or deleted before its expiry stays recoverable for 30 days.
    assert only(http_only, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]


def test_alb_writes_access_logs_after_the_bucket_policy_exists(http_only: Json) -> None:
    alb = only(http_only, "aws_lb")
    bucket = only(http_only, "aws_s3_bucket")
    assert alb["access_logs"] == {"bucket": ref(http_only, "aws_s3_bucket", bucket), "prefix": "alb", "enabled": True}
    [policy_id] = resources(http_only, "aws_s3_bucket_policy")
    assert alb["depends_on"] == [f"aws_s3_bucket_policy.{policy_id}"]


@pytest.mark.parametrize(
    ("region", "principal"),
    [
        ("eu-west-1", {"AWS": "arn:aws:iam::156460612806:root"}),
        ("us-east-1", {"AWS": "arn:aws:iam::127311923021:root"}),
        ("ap-southeast-3", {"AWS": "arn:aws:iam::589379963580:root"}),
        ("us-gov-west-1", {"AWS": "arn:aws-us-gov:iam::048591011584:root"}),
        ("eu-central-2", {"Service": LOG_DELIVERY_SERVICE}),
        ("il-central-1", {"Service": LOG_DELIVERY_SERVICE}),
        ("ap-south-2", {"Service": LOG_DELIVERY_SERVICE}),
    ],
)
def test_bucket_policy_lets_the_regions_log_delivery_principal_write(region: str, principal: dict[str, str]) -> None:
    document = synth_lb(region=region)
    [write] = [s for s in bucket_policy(document)["Statement"] if s["Effect"] == "Allow"]
    assert write["Principal"] == principal
    assert write["Action"] == ["s3:PutObject"]
    [resource] = write["Resource"]
    bucket = ref(document, "aws_s3_bucket", only(document, "aws_s3_bucket"), "arn")
    assert resource.startswith(f"{bucket}/alb/AWSLogs/${{data.aws_caller_identity.")
    assert resource.endswith(".account_id}/*")


def test_every_pre_august_2022_region_is_in_the_account_map() -> None:
    assert len(ELB_LOG_ACCOUNTS) == 26
    assert ELB_LOG_ACCOUNTS["eu-west-1"] == "156460612806"
    assert ELB_LOG_ACCOUNTS["us-east-1"] == "127311923021"
    assert all(len(account) == 12 and account.isdigit() for account in ELB_LOG_ACCOUNTS.values())


def test_bucket_policy_denies_plain_http(http_only: Json) -> None:
    [deny] = [s for s in bucket_policy(http_only)["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(deny["Resource"]) == 2


def test_no_bucket_when_access_logs_are_off() -> None:
    document = synth_lb(access_logs_enabled=False)
    assert resources(document, "aws_s3_bucket") == {}
    assert "access_logs" not in only(document, "aws_lb")


# --- every environment -------------------------------------------------------------------------


def test_dev_is_http_only(synthesized: dict[str, Json]) -> None:
    dev = synthesized["dev"]
    listeners = listeners_by_port(dev)
    assert set(listeners) == {80}
    assert listeners[80]["default_action"][0]["type"] == "fixed-response"
    assert "https_listener_arn" not in dev["output"]
    assert only(dev, "aws_lb")["enable_deletion_protection"] is False
    assert [k for k in resources(dev, "aws_s3_bucket") if k.startswith("load-balancer")] == []  # no access-log bucket


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_shared_environments_serve_https_and_redirect_http(synthesized: dict[str, Json], env: str) -> None:
    document = synthesized[env]
    listeners = listeners_by_port(document)
    assert listeners[443]["ssl_policy"] == TLS_POLICY
    assert listeners[80]["default_action"][0]["redirect"]["status_code"] == "HTTP_301"
    assert "https_listener_arn" in document["output"]
    assert only(document, "aws_lb")["access_logs"]["enabled"] is True


def test_prod_alb_has_deletion_protection(synthesized: dict[str, Json]) -> None:
    assert only(synthesized["prod"], "aws_lb")["enable_deletion_protection"] is True


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_rules_and_outputs_follow_config(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document, config = synthesized[env], environments[env]
    priorities = config.listener_rule_priorities()
    by_service = {rule["tags"]["service"]: rule for rule in resources(document, "aws_lb_listener_rule").values()}
    assert {name: rule["priority"] for name, rule in by_service.items()} == priorities
    assert by_service["movie-service"]["condition"] == [{"path_pattern": {"values": ["/api/movies*"]}}]
    assert set(document["output"]["target_group_arns"]["value"]) == set(config.services)
    assert "alb_dns_name" in document["output"]
    assert "http_listener_arn" in document["output"]
    for group in resources(document, "aws_lb_target_group").values():
        assert len(group["name"]) <= 32
        assert group["target_type"] == "ip"
