"""The load balancer: [alb] loads or fails (tier 1), the construct on synthesized JSON (tier 2), and the
ALB of every synthesized environment (tier 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.lb_listener_rule import LbListenerRule
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup

from config import EnvironmentConfig
from config.load_balancer import AlbConfig
from config.service import ServiceConfig
from modules import LoadBalancer
from modules.block import AlarmPolicy, Naming
from modules.load_balancer import (
    ELB_LOG_ACCOUNTS,
    LOG_DELIVERY_SERVICE,
    TLS_POLICY,
    log_delivery_principal,
    target_group_name,
)
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, ref, resources, synth_construct

ROOT = Path(__file__).resolve().parent.parent
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
VPC = "vpc-unit"
PUBLIC_SUBNETS = ["subnet-public-a", "subnet-public-b"]
APP_SUBNETS = ["subnet-app-a", "subnet-app-b"]
ALB_SG = "sg-alb"
# Stand-ins for the blocks the load balancer reads from (the attributes it reads only).
NETWORK = SimpleNamespace(vpc_id=VPC, public_subnet_ids=PUBLIC_SUBNETS, private_app_subnet_ids=APP_SUBNETS)
SECURITY_GROUPS = SimpleNamespace(alb_sg_id=ALB_SG)
SERVICES = {
    "movie-service": ServiceConfig(container_port=8080, path_patterns=["/api/movies*"]),
    "customer-service": ServiceConfig.model_validate(
        {
            "container_port": 8081,
            "protocol": "HTTPS",
            "path_patterns": ["/api/customers/*"],
            "host_headers": ["api.example.com"],
            "target_health_check": {
                "path": "/health",
                "matcher": "200-299",
                "interval_seconds": 20,
                "timeout_seconds": 4,
                "healthy_threshold": 2,
                "unhealthy_threshold": 4,
            },
            "deregistration_delay_seconds": 45,
        }
    ),
}
PRIORITIES = {"movie-service": 45978, "customer-service": 44275}


def build_lb(
    stack: TerraformStack,
    *,
    region: str = "eu-west-1",
    services: dict[str, ServiceConfig] = SERVICES,
    moved_first: dict[str, list[str]] | None = None,
    **settings: Any,
) -> LoadBalancer:
    """The load balancer of ``services`` (priorities from PRIORITIES) with [alb] ``settings``, in the
    stand-in NETWORK behind the stand-in SECURITY_GROUPS."""
    naming = Naming(project="netflux", environment="unit", region=region)
    return LoadBalancer(
        stack,
        "lb",
        settings=AlbConfig.model_validate(settings),
        naming=naming,
        network=NETWORK,
        security_groups=SECURITY_GROUPS,
        services=services,
        priorities={name: PRIORITIES.get(name, 100) for name in services},
        moved_first=moved_first,
    )


def synth_lb(*, region: str = "eu-west-1", **settings: Any) -> Json:
    return synth_construct(lambda stack: build_lb(stack, region=region, **settings), region=region)


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
    assert alb["subnets"] == APP_SUBNETS
    assert alb["security_groups"] == [ALB_SG]
    assert alb["name"] == "netflux-unit-alb"


def test_internet_facing_alb_lives_in_the_public_subnets(http_only: Json) -> None:
    alb = only(http_only, "aws_lb")
    assert alb["internal"] is False
    assert alb["subnets"] == PUBLIC_SUBNETS


def test_deletion_protection_is_on_by_default(http_only: Json) -> None:
    assert only(http_only, "aws_lb")["enable_deletion_protection"] is True


def test_alarms_read_the_thresholds_of_the_settings() -> None:
    built: list[LoadBalancer] = []
    synth_construct(lambda stack: built.append(build_lb(stack, alarms={"target_5xx_count": 3})))
    alarms = {
        alarm.construct_id: alarm for alarm in built[0].alarms(AlarmPolicy(period_seconds=60, evaluation_periods=3))
    }
    assert {name: alarm.threshold for name, alarm in alarms.items()} == {"alb-target-5xx": 3, "alb-elb-5xx": 10}
    assert alarms["alb-target-5xx"].dimensions == {"LoadBalancer": built[0].arn_suffix}


def test_a_load_balancer_without_its_security_group_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        LoadBalancer(
            stack,
            "lb",
            settings=AlbConfig(),
            naming=Naming(project="netflux", environment="unit", region="eu-west-1"),
            network=NETWORK,
            security_groups=SimpleNamespace(alb_sg_id=None),  # built without the load balancer's settings
            services=SERVICES,
            priorities=PRIORITIES,
        )

    with pytest.raises(ValueError, match="security_groups has no ALB group"):
        synth_construct(build)


def test_only_web_services_are_routed() -> None:
    backend = ServiceConfig.model_validate({"kind": "backend", "container_port": 9090})
    with pytest.raises(ValueError, match="only web services are routed by the load balancer, not rating-service"):
        synth_construct(lambda stack: build_lb(stack, services={**SERVICES, "rating-service": backend}))


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
        captured["lb"] = build_lb(stack, certificate_arn=CERT)

    synth_construct(build)
    lb = captured["lb"]
    assert lb.https_listener is not None
    assert lb.listener is lb.https_listener
    assert set(lb.services) == set(SERVICES)
    target = lb.services["movie-service"]
    assert isinstance(target.target_group, LbTargetGroup)
    assert isinstance(target.listener_rule, LbListenerRule)


# --- target groups and rules ---------------------------------------------------------------------


def target_group(document: Json, service: str) -> Json:
    [group] = [g for g in resources(document, "aws_lb_target_group").values() if g["tags"]["service"] == service]
    return group


def test_target_group_takes_port_protocol_and_health_check_from_the_service(http_only: Json) -> None:
    group = target_group(http_only, "customer-service")
    assert group["target_type"] == "ip"
    assert group["port"] == 8081
    assert group["protocol"] == "HTTPS"
    assert group["deregistration_delay"] == "45"
    assert group["vpc_id"] == VPC
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
    assert rule["tags"] == {"Name": "netflux-unit-customer-service", "service": "customer-service"}


def test_resources_are_keyed_by_service_name(http_only: Json) -> None:
    reordered = synth_lb(services=dict(reversed(SERVICES.items())))
    for kind in ("aws_lb_target_group", "aws_lb_listener_rule"):
        assert set(resources(reordered, kind)) == set(resources(http_only, kind))


@pytest.mark.parametrize("service", ["movie-service", "customer-service", "recommendations-engine"])
def test_target_group_names_fit_32_characters(service: str) -> None:
    naming = Naming(project="platform-project", environment="staging", region="eu-west-1")
    name = target_group_name(naming, service, port=8080, protocol="HTTP")
    assert len(name) <= 32
    assert not name.endswith("-")


def test_target_group_name_changes_with_port_and_protocol_only() -> None:
    def name(port: int = 8080, protocol: str = "HTTP") -> str:
        naming = Naming(project="netflux", environment="prod", region="eu-west-1")
        return target_group_name(naming, "customer-service", port=port, protocol=protocol)

    assert name() == name()
    assert name(port=8081) != name()
    assert name(protocol="HTTPS") != name()
    assert name(port=8081) != name(protocol="HTTPS")


def test_synthesized_target_group_name_changes_when_the_port_changes(http_only: Json) -> None:
    moved = {**SERVICES, "movie-service": ServiceConfig(container_port=9090, path_patterns=["/api/movies*"])}
    before = target_group(http_only, "movie-service")["name"]
    after = target_group(synth_lb(services=moved), "movie-service")["name"]
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
def test_each_region_has_its_log_delivery_principal(region: str, principal: dict[str, str]) -> None:
    assert log_delivery_principal(region) == principal


def test_bucket_policy_lets_the_regions_log_delivery_principal_write() -> None:
    document = synth_lb(region="us-gov-west-1")
    [write] = [s for s in bucket_policy(document)["Statement"] if s["Effect"] == "Allow"]
    assert write["Principal"] == log_delivery_principal("us-gov-west-1")
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
    document = synth_lb(access_logs={"enabled": False})
    assert resources(document, "aws_s3_bucket") == {}
    assert "access_logs" not in only(document, "aws_lb")


def test_access_logs_expire_after_the_configured_days() -> None:
    document = synth_lb(access_logs={"expiry_days": 90})
    [rule] = only(document, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["expiration"] == [{"days": 90}]


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
    priorities = config.listener_rules.priorities
    by_service = {rule["tags"]["service"]: rule for rule in resources(document, "aws_lb_listener_rule").values()}
    assert {name: rule["priority"] for name, rule in by_service.items()} == priorities
    assert by_service["movie-service"]["condition"] == [{"path_pattern": {"values": ["/api/movies*"]}}]
    web = {name for name, service in config.services.items() if service.kind == "web"}
    # One target group and rule per web service; backends and workers have neither.
    assert set(by_service) == set(document["output"]["target_group_arns"]["value"]) == web
    assert len(resources(document, "aws_lb_target_group")) == len(web)
    assert "alb_dns_name" in document["output"]
    assert "http_listener_arn" in document["output"]
    for group in resources(document, "aws_lb_target_group").values():
        assert len(group["name"]) <= 32
        assert group["target_type"] == "ip"


# --- [alb] loads or fails --------------------------------------------------------------------


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


def movie(dev: Data) -> Data:
    service: Data = dev["services"]["movie-service"]
    return service


def test_dev_is_http_only_without_access_logs_or_deletion_protection(
    environments: dict[str, EnvironmentConfig],
) -> None:
    alb = environments["dev"].alb
    assert alb.certificate_arn is None
    assert environments["dev"].domain is None
    assert alb.access_logs.enabled is False
    assert alb.deletion_protection is False


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_shared_environments_have_a_certificate_from_their_domain_and_access_logs(
    environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    # [domain] issues the ALB's certificate (tests/test_domain.py): no placeholder ARN to replace.
    assert config.domain is not None
    assert config.alb.certificate_arn is None
    assert config.alb.access_logs.enabled is True
    assert config.alb.deletion_protection is True


@pytest.mark.parametrize("setting", ["deletion_protection = false", "enabled = false"])
def test_dev_says_why_it_weakens_a_default(setting: str) -> None:
    lines = (ROOT / "environments" / "dev.toml").read_text().splitlines()
    index = lines.index(setting)
    assert lines[index - 1].startswith("#"), f"{setting!r} needs a comment saying why"


def test_alb_defaults_are_the_secure_ones(dev: Data) -> None:
    del dev["alb"]
    alb = parse(dev).alb
    assert alb.deletion_protection is True
    assert alb.access_logs.enabled is True
    assert alb.access_logs.expiry_days == 365
    assert alb.internal is False
    assert alb.effective_ingress_cidrs("10.10.0.0/16") == ["0.0.0.0/0"]


def test_internal_alb_accepts_only_the_vpc_by_default(dev: Data) -> None:
    dev["alb"]["internal"] = True
    dev["frontend"]["api_origin"] = False  # an internal ALB cannot be CloudFront's /api/* origin
    assert parse(dev).alb.effective_ingress_cidrs("10.10.0.0/16") == ["10.10.0.0/16"]


def test_configured_ingress_cidrs_replace_the_default(dev: Data) -> None:
    dev["alb"]["ingress_cidrs"] = ["203.0.113.0/24"]
    dev["frontend"]["api_origin"] = False  # CloudFront could not reach an ALB open to one range only
    assert parse(dev).alb.effective_ingress_cidrs("10.10.0.0/16") == ["203.0.113.0/24"]


@pytest.mark.parametrize("seconds", [0, 4001])
def test_fails_when_idle_timeout_is_out_of_range(dev: Data, seconds: int) -> None:
    dev["alb"]["idle_timeout_seconds"] = seconds
    fails(dev, rf"alb\.idle_timeout_seconds = {seconds}: must be between 1 and 4000, got {seconds}")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:acm:eu-west-1:123456789012:certificate/not-a-uuid",
        "arn:aws:iam::123456789012:server-certificate/x",
        "arn:aws:acm:eu-west-1:1234:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37",
    ],
)
def test_fails_when_certificate_arn_is_not_an_acm_arn(dev: Data, arn: str) -> None:
    dev["alb"]["certificate_arn"] = arn
    fails(dev, rf"alb\.certificate_arn = '{re.escape(arn)}': must be an ACM certificate ARN: .*")


def test_fails_when_certificate_is_in_another_region(dev: Data) -> None:
    arn = CERT.replace("eu-west-1", "us-east-1")
    dev["alb"]["certificate_arn"] = arn
    dev["frontend"]["api_origin_domain"] = "api.dev.example.com"  # CloudFront -> ALB over HTTPS needs a name
    fails(
        dev,
        rf"alb\.certificate_arn = '{re.escape(arn)}': must be an ACM certificate in the environment's region "
        r"eu-west-1 .*got one in us-east-1",
    )


def test_certificate_in_the_region_is_accepted(dev: Data) -> None:
    dev["alb"]["certificate_arn"] = CERT
    dev["frontend"]["api_origin_domain"] = "api.dev.example.com"  # CloudFront -> ALB over HTTPS needs a name
    assert parse(dev).alb.certificate_arn == CERT


@pytest.mark.parametrize("cidr", ["0.0.0.0/33", "10.0.0.1/8", "anywhere"])
def test_fails_when_an_ingress_cidr_is_invalid(dev: Data, cidr: str) -> None:
    dev["alb"]["ingress_cidrs"] = ["203.0.113.0/24", cidr]
    fails(dev, rf"alb\.ingress_cidrs\[1\] = '{re.escape(cidr)}': ingress CIDR must be an IPv4 network .*")


def test_fails_when_an_ingress_cidr_is_listed_twice(dev: Data) -> None:
    dev["alb"]["ingress_cidrs"] = ["203.0.113.0/24", "198.51.100.0/24", "203.0.113.0/24"]
    fails(dev, r"alb\.ingress_cidrs\[2\] = '203\.0\.113\.0/24': is listed twice")


def test_fails_when_ingress_cidrs_is_empty(dev: Data) -> None:
    dev["alb"]["ingress_cidrs"] = []
    fails(dev, r"alb\.ingress_cidrs = \[\]: must list at least one CIDR; remove the key for the default")


@pytest.mark.parametrize("days", [0, 3651])
def test_fails_when_access_log_expiry_is_out_of_range(dev: Data, days: int) -> None:
    dev["alb"]["access_logs"]["expiry_days"] = days
    fails(dev, rf"alb\.access_logs\.expiry_days = {days}: must be between 1 and 3650, got {days}")


def test_fails_when_an_alb_key_is_misspelled(dev: Data) -> None:
    dev["alb"]["deletion_protect"] = True
    fails(dev, r"alb\.deletion_protect = True: unknown key; allowed keys here: internal, ingress_cidrs, .*")


# --- the service settings its target group is built from ---------------------------------------


@pytest.mark.parametrize("protocol", ["TCP", "http", "GRPC"])
def test_fails_when_target_protocol_is_unknown(dev: Data, protocol: str) -> None:
    movie(dev)["protocol"] = protocol
    fails(dev, rf"services\.movie-service\.protocol = '{protocol}': must be one of 'HTTP' or 'HTTPS'")


def test_fails_when_deregistration_delay_is_too_long(dev: Data) -> None:
    movie(dev)["deregistration_delay_seconds"] = 3601
    fails(
        dev,
        r"services\.movie-service\.deregistration_delay_seconds = 3601: must be between 0 and 3600 seconds, got 3601",
    )


@pytest.mark.parametrize(
    ("alarms", "line"),
    [
        ({"target_5xx_count": -1}, r"alb\.alarms\.target_5xx_count = -1: must be between 0 and 1000000, got -1"),
        ({"cpu": 80}, r"alb\.alarms\.cpu = 80: unknown key; allowed keys here: target_5xx_count, elb_5xx_count"),
    ],
)
def test_fails_when_an_alarm_threshold_is_out_of_range(env_data: dict[str, Data], alarms: Data, line: str) -> None:
    data = env_data["dev"]
    data["alb"]["alarms"] = alarms
    fails(data, line)


def test_a_rule_taking_a_displaced_rules_number_is_applied_after_it_moves() -> None:
    document = synth_construct(
        lambda stack: build_lb(stack, moved_first={"movie-service": ["customer-service"], "customer-service": []})
    )
    rules = {
        body["tags"]["service"]: (logical_id, body)
        for logical_id, body in resources(document, "aws_lb_listener_rule").items()
    }
    customer_id, _ = rules["customer-service"]
    assert rules["movie-service"][1]["depends_on"] == [f"aws_lb_listener_rule.{customer_id}"]
    assert "depends_on" not in rules["customer-service"][1]


def test_no_environment_rule_waits_for_another(
    synthesized: dict[str, Json], synthesized_examples: dict[str, Json]
) -> None:
    # No collision in any environment: the ordering above is only for displaced rules.
    routed = {
        name: d for name, d in {**synthesized, **synthesized_examples}.items() if resources(d, "aws_lb_listener_rule")
    }
    assert routed, "no environment has listener rules: the assertion below would prove nothing"
    for name, document in routed.items():
        assert all("depends_on" not in body for body in resources(document, "aws_lb_listener_rule").values()), name
