"""Tier 1: [frontend], [beanstalk] and [monitoring] config, and their cross-checks."""

from __future__ import annotations

from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, FieldError, parse_environment
from config.data import CacheConfig, DatabaseConfig
from config.edge import (
    BEANSTALK_PLATFORM_EXAMPLE,
    BeanstalkConfig,
    FrontendConfig,
    WafConfig,
    check_beanstalk_choice,
    check_frontend_origin,
)

Data = dict[str, Any]
CERT_US_EAST_1 = "arn:aws:acm:us-east-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
CERT_EU_WEST_1 = "arn:aws:acm:eu-west-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/api-key-AbCdEf"
PARAMETER = "arn:aws:ssm:eu-west-1:123456789012:parameter/netflux/feature-flags"


def parse(data: Data) -> EnvironmentConfig:
    return parse_environment(data, source="environments/dev.toml", expected_name="dev")


def dev(env_data: dict[str, Data], **tables: Data) -> Data:
    """The dev file with the given edge tables replaced; a [beanstalk] table switches it to Beanstalk
    (compute.kind = "beanstalk", no ECS services)."""
    data = env_data["dev"]
    for name in ("frontend", "beanstalk", "monitoring"):
        data.pop(name, None)
    data.update(tables)
    if "beanstalk" in tables:
        data["compute"] = {"kind": "beanstalk"}
        data.pop("services")
    return data


def fails(data: Data, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse(data)


# --- defaults ----------------------------------------------------------------------------------


def test_defaults_are_secure_and_keep_every_environment_valid(environments: dict[str, EnvironmentConfig]) -> None:
    defaults = FrontendConfig()
    assert defaults.enabled
    assert defaults.access_logs.enabled
    assert not defaults.force_destroy
    for config in environments.values():
        assert config.frontend.enabled
        # Only dev turns frontend access logs off (with a comment in its file).
        assert config.frontend.access_logs.enabled == (config.environment != "dev")
        assert config.frontend.certificate_arn is None or config.frontend.aliases
        assert config.monitoring.enabled
        assert config.monitoring.period_seconds % 60 == 0


def test_defaults_without_any_edge_table(env_data: dict[str, Data]) -> None:
    config = parse(dev(env_data))

    assert config.frontend.price_class == "PriceClass_100"
    assert config.frontend.default_root_object == "index.html"
    assert not config.frontend.api_origin
    assert config.beanstalk is None
    assert config.monitoring.alarm_emails == []


def test_custom_domain_with_us_east_1_certificate_is_accepted(env_data: dict[str, Data]) -> None:
    frontend = {
        "aliases": ["www.example.com", "example.com"],
        "certificate_arn": CERT_US_EAST_1,
        "price_class": "PriceClass_All",
    }
    config = parse(dev(env_data, frontend=frontend))

    assert config.frontend.aliases == ["www.example.com", "example.com"]
    assert config.frontend.price_class == "PriceClass_All"


def test_beanstalk_secrets_split_json_keys_from_the_arn(env_data: dict[str, Data]) -> None:
    beanstalk = {"platform": BEANSTALK_PLATFORM_EXAMPLE, "secrets": {"API_KEY": f"{SECRET}:key", "FLAGS": PARAMETER}}
    config = parse(dev(env_data, beanstalk=beanstalk))

    assert config.beanstalk is not None
    assert config.beanstalk.secret_references() == {"API_KEY": (SECRET, "key"), "FLAGS": (PARAMETER, None)}


# --- frontend failures -------------------------------------------------------------------------


def test_fails_when_certificate_is_not_in_us_east_1(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, frontend={"aliases": ["www.example.com"], "certificate_arn": CERT_EU_WEST_1}),
        r"frontend\.certificate_arn = .*must be an ACM certificate in us-east-1 .*got one in eu-west-1",
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:acm:us-east-1:123:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37",
        "arn:aws:iam::123456789012:server-certificate/www",
        "us-east-1/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37",
    ],
)
def test_fails_when_certificate_arn_is_malformed(env_data: dict[str, Data], arn: str) -> None:
    fails(
        dev(env_data, frontend={"aliases": ["www.example.com"], "certificate_arn": arn}),
        r"frontend\.certificate_arn = .*must be an ACM certificate ARN: arn:aws:acm:us-east-1:",
    )


def test_fails_when_aliases_have_no_certificate(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, frontend={"aliases": ["www.example.com"]}),
        r"frontend\.certificate_arn = None: is required with aliases",
    )


def test_fails_when_certificate_has_no_aliases(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, frontend={"certificate_arn": CERT_US_EAST_1}),
        r"frontend\.certificate_arn = .*only used with aliases",
    )


def test_fails_when_alias_is_not_a_dns_name(env_data: dict[str, Data]) -> None:
    frontend = {"aliases": ["www.example.com", "Not A Host"], "certificate_arn": CERT_US_EAST_1}
    fails(dev(env_data, frontend=frontend), r"frontend\.aliases\[1\] = 'Not A Host': must be a lowercase DNS name")


def test_fails_when_price_class_is_unknown(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, frontend={"price_class": "PriceClass_300"}),
        r"frontend\.price_class = 'PriceClass_300': .*'PriceClass_100', 'PriceClass_200' or 'PriceClass_All'",
    )


def test_fails_when_default_root_object_has_a_leading_slash(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, frontend={"default_root_object": "/index.html"}), r"frontend\.default_root_object = .*object key"
    )


def test_fails_when_api_origin_domain_is_set_without_api_origin(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, frontend={"api_origin_domain": "api.example.com"}),
        r"frontend\.api_origin_domain = 'api\.example\.com': is only used when api_origin = true",
    )


def test_fails_when_web_acl_is_not_a_cloudfront_scoped_wafv2_acl(env_data: dict[str, Data]) -> None:
    arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/edge/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
    fails(dev(env_data, frontend={"web_acl_arn": arn}), r"frontend\.web_acl_arn = .*scope CLOUDFRONT")


def test_fails_when_https_load_balancer_origin_has_no_domain() -> None:
    frontend = FrontendConfig(api_origin=True)

    with pytest.raises(FieldError, match="is required when the load balancer has a certificate") as error:
        check_frontend_origin(frontend, CERT_EU_WEST_1)
    assert error.value.path == ("frontend", "api_origin_domain")
    # Plain HTTP to the load balancer's own DNS name needs no domain; a named origin passes too.
    check_frontend_origin(frontend, None)
    check_frontend_origin(FrontendConfig(api_origin=True, api_origin_domain="api.example.com"), CERT_EU_WEST_1)


# --- beanstalk failures ------------------------------------------------------------------------


def test_fails_when_beanstalk_is_chosen_without_a_beanstalk_table_but_the_platform_may_be_left_to_plan_time() -> None:
    with pytest.raises(FieldError, match=r"is required with compute.kind = 'beanstalk'") as error:
        check_beanstalk_choice("beanstalk", None)
    assert error.value.path == ("beanstalk",)
    check_beanstalk_choice("beanstalk", BeanstalkConfig())  # resolved at plan time
    check_beanstalk_choice("beanstalk", BeanstalkConfig(platform=BEANSTALK_PLATFORM_EXAMPLE))


def test_fails_when_beanstalk_signs_in_as_the_master_user_with_iam_auth() -> None:
    beanstalk = BeanstalkConfig(platform=BEANSTALK_PLATFORM_EXAMPLE, database_user="app_admin")
    database = DatabaseConfig(engine_version="16.4", instance_class="db.t4g.micro")

    with pytest.raises(FieldError, match="must not be the master user") as error:
        check_beanstalk_choice("beanstalk", beanstalk, database)
    assert error.value.path == ("beanstalk", "database_user")
    # Password auth signs in as the master user anyway: no clash.
    check_beanstalk_choice("beanstalk", beanstalk, database.model_copy(update={"iam_auth": False}))


def test_fails_when_beanstalk_uses_a_cache_with_iam_users() -> None:
    beanstalk = BeanstalkConfig(platform=BEANSTALK_PLATFORM_EXAMPLE)
    cache = CacheConfig(engine_version="8.0", node_type="cache.t4g.micro", auth="iam")

    with pytest.raises(FieldError, match=r"must be 'token' with compute\.kind = 'beanstalk'") as error:
        check_beanstalk_choice("beanstalk", beanstalk, None, cache)
    assert error.value.path == ("cache", "auth")


def test_fails_when_beanstalk_environment_declares_ecs_services() -> None:
    beanstalk = BeanstalkConfig(platform=BEANSTALK_PLATFORM_EXAMPLE)

    with pytest.raises(FieldError, match=r"declare ECS services, which compute\.kind = 'beanstalk' does not run"):
        check_beanstalk_choice("beanstalk", beanstalk, service_names=["movie-service"])


def test_fails_when_beanstalk_table_is_given_for_fargate() -> None:
    with pytest.raises(
        FieldError,
        match=r"\[beanstalk\] is only used with compute.kind = 'beanstalk' \(this environment runs on 'fargate'\)",
    ):
        check_beanstalk_choice("fargate", BeanstalkConfig(platform=BEANSTALK_PLATFORM_EXAMPLE))
    check_beanstalk_choice("fargate", None)


@pytest.mark.parametrize(
    "platform",
    [
        "64bit Amazon Linux 2023 v6.4.0 running Node.js 20",  # not Docker
        "64bit Amazon Linux 2 v3.8.0 running Docker",  # AL2: end of life
        "64bit Amazon Linux 2023 v4.8 running Docker",  # not a full version
        "Docker",
    ],
)
def test_fails_when_platform_is_not_docker_on_al2023(env_data: dict[str, Data], platform: str) -> None:
    fails(
        dev(env_data, beanstalk={"platform": platform}),
        r"beanstalk\.platform = .*must be a Docker platform on Amazon Linux 2023",
    )


@pytest.mark.parametrize(
    ("beanstalk", "match"),
    [
        (
            {"min_instances": 3, "max_instances": 2},
            r"beanstalk\.max_instances = 2: must be between min_instances \(3\)",
        ),
        ({"min_instances": 0}, r"beanstalk\.min_instances = 0: must be between 1 and"),
        (
            {"batch_size": 150},
            r"beanstalk\.batch_size = 150: must be between 1 and 100% with batch_size_type = 'Percentage'",
        ),
        (
            {"batch_size_type": "Fixed", "batch_size": 5, "max_instances": 4},
            r"beanstalk\.batch_size = 5: must be between 1 and 4 instances",
        ),
        (
            {"deployment_policy": "AllAtOnce"},
            r"beanstalk\.deployment_policy = 'AllAtOnce': .*'RollingWithAdditionalBatch' or 'Immutable'",
        ),
        (
            {"instance_types": ["t3.small", "huge"]},
            r"beanstalk\.instance_types\[1\] = 'huge': must be an EC2 instance type",
        ),
        (
            {"enhanced_health": False},
            r"beanstalk\.enhanced_health = False: must be true while managed_updates\.enabled",
        ),
        (
            {"managed_updates": {"window_start": "sunday 3am"}},
            r"beanstalk\.managed_updates\.window_start = .*'Ddd:hh:mm'",
        ),
        ({"managed_updates": {"update_level": "major"}}, r"beanstalk\.managed_updates\.update_level = 'major'"),
        (
            {"log_retention_days": 10},
            r"beanstalk\.log_retention_days = 10: must be one of CloudWatch's retention periods",
        ),
        (
            {"environment": {"DB_PASSWORD": "x"}},
            r"beanstalk\.environment\.DB_PASSWORD = 'DB_PASSWORD': looks like a secret",
        ),
        (
            {"environment": {"RDS_ENDPOINT": "db"}},
            r"beanstalk\.environment\.RDS_ENDPOINT = .*set from the database/cache",
        ),
        (
            {"repositories": ["api"], "environment": {"IMAGE_API": "x"}},
            r"beanstalk\.environment\.IMAGE_API = 'IMAGE_API': is set to the URL of the 'api' repository",
        ),
        ({"database_user": "postgres"}, r"beanstalk\.database_user = 'postgres'"),
        ({"repositories": ["api", "API"]}, r"beanstalk\.repositories\[1\] = 'API': must be lowercase"),
        ({"environment": {"1BAD": "x"}}, r"beanstalk\.environment\.1BAD = .*letters, digits and underscores"),
        (
            {"secrets": {"API_KEY": "plaintext-value"}},
            r"beanstalk\.secrets\.API_KEY = 'plaintext-value': must be a Secrets Manager secret ARN",
        ),
        (
            {"environment": {"MODE": "x"}, "secrets": {"MODE": SECRET}},
            r"beanstalk\.secrets\.MODE = 'MODE': is also a plain property",
        ),
    ],
)
def test_fails_on_bad_beanstalk_settings(env_data: dict[str, Data], beanstalk: Data, match: str) -> None:
    fails(dev(env_data, beanstalk={"platform": BEANSTALK_PLATFORM_EXAMPLE, **beanstalk}), match)


# --- monitoring failures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monitoring", "match"),
    [
        ({"period_seconds": 90}, r"monitoring\.period_seconds = 90: must be a multiple of 60 seconds"),
        ({"period_seconds": 30}, r"monitoring\.period_seconds = 30: must be a multiple of 60 seconds"),
        ({"evaluation_periods": 0}, r"monitoring\.evaluation_periods = 0: must be between 1 and 100"),
        (
            {"period_seconds": 3600, "evaluation_periods": 25},
            r"monitoring\.evaluation_periods = 25: times period_seconds \(3600\) must be at most 86400 s",
        ),
        (
            {"alarm_emails": ["ops@example.com", "not-an-email"]},
            r"monitoring\.alarm_emails\[1\] = 'not-an-email': must be an email",
        ),
        ({"alarm_emails": ["ops@example"]}, r"monitoring\.alarm_emails\[0\] = 'ops@example': must be an email"),
        (
            {"alarm_emails": ["ops@example.com", "OPS@example.com"]},
            r"monitoring\.alarm_emails\[1\] = .*is listed twice",
        ),
        ({"kms_key_arn": "alias/aws/sns"}, r"monitoring\.kms_key_arn = 'alias/aws/sns': must be a KMS key ARN"),
    ],
)
def test_fails_on_bad_monitoring_settings(env_data: dict[str, Data], monitoring: Data, match: str) -> None:
    fails(dev(env_data, monitoring=monitoring), match)


# --- compute kind, through the whole environment ---------------------------------------------------


def test_fails_when_compute_kind_is_unknown(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["compute"]["kind"] = "lambda"
    fails(data, r"environments/dev\.toml: compute\.kind = 'lambda': must be one of 'fargate' or 'beanstalk'")


def test_fails_when_beanstalk_is_chosen_without_a_beanstalk_table(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["compute"] = {"kind": "beanstalk"}
    data.pop("services")
    fails(data, r"environments/dev\.toml: beanstalk = None: is required with compute\.kind = 'beanstalk'")


def test_fails_when_a_fargate_environment_has_a_beanstalk_table(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["beanstalk"] = {"platform": BEANSTALK_PLATFORM_EXAMPLE}
    fails(data, r"environments/dev\.toml: compute\.kind = 'fargate': \[beanstalk\] is only used with compute\.kind")


def test_fails_when_a_beanstalk_environment_declares_services(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["compute"] = {"kind": "beanstalk"}
    data["beanstalk"] = {"platform": BEANSTALK_PLATFORM_EXAMPLE}
    fails(data, r"environments/dev\.toml: services = \[.*\]: declare ECS services, which compute\.kind = 'beanstalk'")


# --- waf ---------------------------------------------------------------------------------------


def test_waf_is_on_by_default_and_only_dev_turns_it_off(environments: dict[str, EnvironmentConfig]) -> None:
    assert (WafConfig().enabled, WafConfig().log_retention_days) == (True, 365)
    assert {name: config.waf.enabled for name, config in environments.items()} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }


def test_fails_when_waf_log_retention_is_not_a_cloudwatch_period(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, waf={"log_retention_days": 100}), r"waf\.log_retention_days = 100: must be one of")
