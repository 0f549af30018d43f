"""Tier 1: traffic config ([alb], [security_groups], service routing) loads or fails with
file, field path, value and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, parse_environment

Data = dict[str, Any]
SOURCE = "environments/dev.toml"
ROOT = Path(__file__).resolve().parent.parent
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"


def parse(data: Data) -> EnvironmentConfig:
    return parse_environment(data, source=SOURCE, expected_name="dev")


def fails(data: Data, line: str) -> None:
    """Loading fails with exactly one problem whose line matches ``line`` (a regex)."""
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert len(caught.value.lines) == 1, caught.value.lines
    assert re.fullmatch(f"{re.escape(SOURCE)}: {line}", caught.value.lines[0]), caught.value.lines[0]


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


def movie(dev: Data) -> Data:
    service: Data = dev["services"]["movie-service"]
    return service


# --- the environments ------------------------------------------------------------------------


def test_seed_routes_are_configured(environments: dict[str, EnvironmentConfig]) -> None:
    for config in environments.values():
        assert config.services["movie-service"].path_patterns == ["/api/movies*"]
        assert config.services["customer-service"].path_patterns == ["/api/customers/*"]
        assert config.security_groups.mode == "tiered"


def test_dev_is_http_only_without_access_logs_or_deletion_protection(
    environments: dict[str, EnvironmentConfig],
) -> None:
    alb = environments["dev"].alb
    assert alb.certificate_arn is None
    assert alb.access_logs.enabled is False
    assert alb.deletion_protection is False


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_shared_environments_have_a_certificate_in_their_region_and_access_logs(
    environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    assert config.alb.certificate_arn is not None
    assert config.alb.certificate_region == config.region
    assert config.alb.access_logs.enabled is True
    assert config.alb.deletion_protection is True


@pytest.mark.parametrize("setting", ["deletion_protection = false", "enabled = false"])
def test_dev_says_why_it_weakens_a_default(setting: str) -> None:
    lines = (ROOT / "environments" / "dev.toml").read_text().splitlines()
    index = lines.index(setting)
    assert lines[index - 1].startswith("#"), f"{setting!r} needs a comment saying why"


# --- defaults --------------------------------------------------------------------------------


def test_alb_defaults_are_the_secure_ones(dev: Data) -> None:
    del dev["alb"]
    alb = parse(dev).alb
    assert alb.deletion_protection is True
    assert alb.access_logs.enabled is True
    assert alb.internal is False
    assert alb.effective_ingress_cidrs("10.10.0.0/16") == ["0.0.0.0/0"]


def test_internal_alb_accepts_only_the_vpc_by_default(dev: Data) -> None:
    dev["alb"]["internal"] = True
    assert parse(dev).alb.effective_ingress_cidrs("10.10.0.0/16") == ["10.10.0.0/16"]


def test_configured_ingress_cidrs_replace_the_default(dev: Data) -> None:
    dev["alb"]["ingress_cidrs"] = ["203.0.113.0/24"]
    assert parse(dev).alb.effective_ingress_cidrs("10.10.0.0/16") == ["203.0.113.0/24"]


def test_service_routing_defaults(dev: Data) -> None:
    service = parse(dev).services["movie-service"]
    assert service.protocol == "HTTP"
    assert service.host_headers == []
    assert service.rule_priority is None
    assert service.health_check.timeout_seconds < service.health_check.interval_seconds


def test_priorities_are_exposed_per_service(environments: dict[str, EnvironmentConfig]) -> None:
    priorities = environments["prod"].listener_rule_priorities()
    assert set(priorities) == {"movie-service", "customer-service"}
    assert len(set(priorities.values())) == 2


def test_explicit_priority_is_used(dev: Data) -> None:
    movie(dev)["rule_priority"] = 10
    assert parse(dev).listener_rule_priorities()["movie-service"] == 10


def test_shared_security_groups_can_be_chosen(dev: Data) -> None:
    dev["security_groups"] = {"mode": "shared"}
    assert parse(dev).security_groups.mode == "shared"


# --- routing errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("/api/movies#", "is not a valid ALB path pattern; allowed characters: .*"),
        ("/api/mov ies", "is not a valid ALB path pattern; allowed characters: .*"),
        ("api/movies*", "must start with / .*"),
        ("/" + "a" * 128, r"must be 1-128 characters \(got 129\)"),
    ],
)
def test_fails_when_a_path_pattern_is_not_a_valid_alb_pattern(dev: Data, pattern: str, message: str) -> None:
    movie(dev)["path_patterns"] = ["/api/movies*", pattern]
    fails(dev, rf"services\.movie-service\.path_patterns\[1\] = '{re.escape(pattern)}': {message}")


def test_fails_when_a_host_header_has_no_dot(dev: Data) -> None:
    movie(dev)["host_headers"] = ["localhost"]
    fails(dev, r"services\.movie-service\.host_headers\[0\] = 'localhost': must contain at least one '\.'.*")


def test_fails_when_a_host_header_has_bad_characters(dev: Data) -> None:
    movie(dev)["host_headers"] = ["api_x.example.com"]
    fails(dev, r"services\.movie-service\.host_headers\[0\] = 'api_x\.example\.com': is not a valid ALB host header.*")


def test_fails_when_a_service_has_no_route(dev: Data) -> None:
    movie(dev)["path_patterns"] = []
    fails(
        dev,
        r"services\.movie-service\.path_patterns = \[\]: a routed service needs at least one path pattern or host header",
    )


def test_fails_when_a_condition_has_more_than_three_values(dev: Data) -> None:
    movie(dev)["path_patterns"] = ["/a", "/b", "/c", "/d"]
    fails(dev, r"services\.movie-service\.path_patterns = \[.*\]: has 4 values; an ALB condition takes at most 3")


def test_fails_when_a_rule_has_more_than_five_condition_values(dev: Data) -> None:
    movie(dev)["path_patterns"] = ["/a", "/b", "/c"]
    movie(dev)["host_headers"] = ["a.example.com", "b.example.com", "c.example.com"]
    fails(
        dev,
        r"services\.movie-service\.path_patterns = \[.*\]: path_patterns and host_headers have 6 values together; "
        r"an ALB rule takes at most 5 condition values",
    )


def test_fails_when_a_rule_has_more_than_five_wildcards(dev: Data) -> None:
    movie(dev)["path_patterns"] = ["/a*/*", "/b*/*"]
    movie(dev)["host_headers"] = ["*.example.?om"]
    fails(
        dev,
        r"services\.movie-service\.path_patterns = \[.*\]: path_patterns and host_headers use 6 wildcards together; "
        r"an ALB rule allows at most 5",
    )


def test_fails_when_a_pattern_is_listed_twice_in_one_service(dev: Data) -> None:
    movie(dev)["path_patterns"] = ["/api/movies*", "/api/movies*"]
    fails(dev, r"services\.movie-service\.path_patterns\[1\] = '/api/movies\*': is listed twice")


def test_fails_when_two_services_route_the_same_pattern(dev: Data) -> None:
    dev["services"]["customer-service"]["path_patterns"] = ["/api/movies*"]
    fails(
        dev,
        r"services\.movie-service\.path_patterns\[0\] = '/api/movies\*': matches exactly the requests of "
        r"services\.customer-service\.path_patterns\[0\] = '/api/movies\*'; two services cannot route the same pattern",
    )


@pytest.mark.parametrize("priority", [0, 50001, -3])
def test_fails_when_priority_is_outside_the_aws_range(dev: Data, priority: int) -> None:
    movie(dev)["rule_priority"] = priority
    fails(dev, rf"services\.movie-service\.rule_priority = {priority}: must be between 1 and 50000 .*")


def test_fails_when_two_priorities_clash(dev: Data) -> None:
    movie(dev)["rule_priority"] = 20
    dev["services"]["customer-service"]["rule_priority"] = 20
    fails(
        dev,
        r"services\.movie-service\.rule_priority = 20: is also the rule priority of services\.customer-service; "
        r"each listener rule needs its own .*",
    )


def test_fails_when_an_explicit_priority_would_shadow_a_more_specific_rule(dev: Data) -> None:
    dev["services"]["customer-service"]["path_patterns"] = ["/api/*"]
    dev["services"]["customer-service"]["rule_priority"] = 1
    fails(
        dev,
        r"services\.customer-service\.rule_priority = 1: services\.movie-service \('/api/movies\*', priority \d+\) "
        r"is more specific than services\.customer-service \('/api/\*', priority 1\) but would be evaluated after it.*",
    )


def test_fails_when_equally_specific_patterns_overlap(dev: Data) -> None:
    dev["services"]["customer-service"]["path_patterns"] = ["/api/*/admin"]
    fails(
        dev,
        r"services\.movie-service\.path_patterns\[0\] = '/api/movies\*': overlaps .*\(both match e\.g\. '/api/movies/admin'\).*",
    )


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


# --- health checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("interval_seconds", 4, "must be between 5 and 300, got 4"),
        ("timeout_seconds", 1, "must be between 2 and 120, got 1"),
        ("healthy_threshold", 11, "must be between 2 and 10, got 11"),
        ("unhealthy_threshold", 1, "must be between 2 and 10, got 1"),
        ("timeout_seconds", 15, r"must be less than interval_seconds \(15\)"),
        ("path", "health", "must be a URL path starting with / .*"),
        ("matcher", "600", "must be HTTP codes 200-499 as .*"),
        ("matcher", "ok", "must be HTTP codes 200-499 as .*"),
    ],
)
def test_fails_when_health_check_is_invalid(dev: Data, key: str, value: Any, message: str) -> None:
    movie(dev)["health_check"][key] = value
    fails(dev, rf"services\.movie-service\.health_check\.{key} = {re.escape(repr(value))}: {message}")


@pytest.mark.parametrize("matcher", ["200", "200,204", "200-299", "200-299,302"])
def test_health_check_matcher_forms_are_accepted(dev: Data, matcher: str) -> None:
    movie(dev)["health_check"]["matcher"] = matcher
    assert parse(dev).services["movie-service"].health_check.matcher == matcher


# --- alb errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0, 4001])
def test_fails_when_idle_timeout_is_out_of_range(dev: Data, seconds: int) -> None:
    dev["alb"]["idle_timeout_seconds"] = seconds
    fails(
        dev, rf"alb\.idle_timeout_seconds = {seconds}: idle_timeout_seconds must be between 1 and 4000, got {seconds}"
    )


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


def test_fails_when_ingress_cidrs_is_empty(dev: Data) -> None:
    dev["alb"]["ingress_cidrs"] = []
    fails(dev, r"alb\.ingress_cidrs = \[\]: must list at least one CIDR; remove the key for the default")


@pytest.mark.parametrize("days", [0, 3651])
def test_fails_when_access_log_expiry_is_out_of_range(dev: Data, days: int) -> None:
    dev["alb"]["access_logs"]["expiry_days"] = days
    fails(dev, rf"alb\.access_logs\.expiry_days = {days}: must be between 1 and 3650 days, got {days}")


def test_fails_when_security_group_mode_is_unknown(dev: Data) -> None:
    dev["security_groups"] = {"mode": "flat"}
    fails(dev, r"security_groups\.mode = 'flat': must be one of 'tiered' or 'shared'")


def test_fails_when_an_alb_key_is_misspelled(dev: Data) -> None:
    dev["alb"]["deletion_protect"] = True
    fails(dev, r"alb\.deletion_protect = True: unknown key; allowed keys here: internal, ingress_cidrs, .*")
