"""Tier 2: the frontend and Beanstalk constructs on synthesized JSON (stand-in ids)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config import load_environment
from config.edge import check_beanstalk_choice
from modules import (
    Beanstalk,
    BeanstalkProps,
    CacheConnection,
    DatabaseConnection,
    EnvironmentSecret,
    Frontend,
    FrontendProps,
)
from modules.frontend import ALL_VIEWER_EXCEPT_HOST_HEADER, CACHING_DISABLED, CACHING_OPTIMIZED
from tests.synth import Json, only, ref, resources, synth_construct

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "beanstalk"
CERT_US_EAST_1 = "arn:aws:acm:us-east-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
CERT_EU_WEST_1 = "arn:aws:acm:eu-west-1:123456789012:certificate/9a7e3c51-0d2b-4f86-b1e4-6c8d2f5a3e90"
PLATFORM = "64bit Amazon Linux 2023 v4.8.0 running Docker"
DB_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbCdEf"
REDIS_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux-unit-cache/auth-token-GhIjKl"
API_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/api-MnOpQr"
FLAGS_PARAMETER = "arn:aws:ssm:eu-west-1:123456789012:parameter/netflux/flags"
REPOSITORY = "arn:aws:ecr:eu-west-1:123456789012:repository/netflux/api"
CONNECT = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABCDEFGHIJKL/web_app"


# --- frontend ----------------------------------------------------------------------------------


def synth_frontend(**overrides: Any) -> Json:
    props = FrontendProps(**{"project": "netflux", "environment": "unit", **overrides})
    return synth_construct(lambda stack: Frontend(stack, "frontend", props=props))


def site_bucket(document: Json) -> Json:
    (bucket,) = [
        b for b in resources(document, "aws_s3_bucket").values() if b["bucket_prefix"] == "netflux-unit-frontend-"
    ]
    return bucket


def for_bucket(document: Json, resource_type: str, bucket: Json) -> Json:
    expression = ref(document, "aws_s3_bucket", bucket)
    (found,) = [r for r in resources(document, resource_type).values() if r["bucket"] == expression]
    return found


@pytest.fixture(scope="module")
def plain() -> Json:
    return synth_frontend()


@pytest.fixture(scope="module")
def full() -> Json:
    return synth_frontend(
        aliases=["www.example.com"],
        certificate_arn=CERT_US_EAST_1,
        spa_fallback=True,
        api_origin_domain_name="api.example.com",
        price_class="PriceClass_200",
    )


def test_site_bucket_is_private_encrypted_versioned_and_owner_enforced(plain: Json) -> None:
    bucket = site_bucket(plain)

    block = for_bucket(plain, "aws_s3_bucket_public_access_block", bucket)
    assert all(
        block[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    encryption = for_bucket(plain, "aws_s3_bucket_server_side_encryption_configuration", bucket)
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    assert for_bucket(plain, "aws_s3_bucket_versioning", bucket)["versioning_configuration"]["status"] == "Enabled"
    ownership = for_bucket(plain, "aws_s3_bucket_ownership_controls", bucket)
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"
    lifecycle = for_bucket(plain, "aws_s3_bucket_lifecycle_configuration", bucket)
    assert lifecycle["rule"][0]["noncurrent_version_expiration"][0]["noncurrent_days"] == 90
    assert bucket["force_destroy"] is False


def test_bucket_policy_allows_only_this_distribution_through_oac_and_denies_plain_http(plain: Json) -> None:
    bucket = site_bucket(plain)
    policy = json.loads(for_bucket(plain, "aws_s3_bucket_policy", bucket)["policy"])
    read, deny = sorted(policy["Statement"], key=lambda s: s["Effect"])

    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == ["s3:GetObject"]
    assert read["Resource"] == [f"{ref(plain, 'aws_s3_bucket', bucket, 'arn')}/*"]
    distribution = only(plain, "aws_cloudfront_distribution")
    assert read["Condition"] == {
        "StringEquals": {"AWS:SourceArn": ref(plain, "aws_cloudfront_distribution", distribution, "arn")}
    }
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_distribution_reads_the_bucket_through_an_origin_access_control(plain: Json) -> None:
    oac = only(plain, "aws_cloudfront_origin_access_control")
    distribution = only(plain, "aws_cloudfront_distribution")
    (origin,) = distribution["origin"]

    assert (oac["origin_access_control_origin_type"], oac["signing_behavior"], oac["signing_protocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    assert origin["origin_access_control_id"] == ref(plain, "aws_cloudfront_origin_access_control", oac)
    assert origin["domain_name"].endswith(".bucket_regional_domain_name}")
    assert "s3_origin_config" not in origin


def test_viewers_are_redirected_to_https_with_optimized_caching_and_default_certificate(plain: Json) -> None:
    distribution = only(plain, "aws_cloudfront_distribution")
    behaviour = distribution["default_cache_behavior"]

    assert behaviour["viewer_protocol_policy"] == "redirect-to-https"
    assert behaviour["cache_policy_id"] == CACHING_OPTIMIZED
    assert behaviour["allowed_methods"] == ["GET", "HEAD", "OPTIONS"]
    assert distribution["default_root_object"] == "index.html"
    assert distribution["price_class"] == "PriceClass_100"
    assert distribution["viewer_certificate"] == {"cloudfront_default_certificate": True}
    assert "aliases" not in distribution


def test_no_api_behaviour_or_spa_rewrite_unless_asked(plain: Json) -> None:
    distribution = only(plain, "aws_cloudfront_distribution")

    assert "ordered_cache_behavior" not in distribution
    assert [o["origin_id"] for o in distribution["origin"]] == ["s3"]
    assert "function_association" not in distribution["default_cache_behavior"]
    assert not resources(plain, "aws_cloudfront_function")


def test_security_headers_policy_is_attached_to_every_behaviour(full: Json) -> None:
    policy = only(full, "aws_cloudfront_response_headers_policy")
    headers = policy["security_headers_config"]
    distribution = only(full, "aws_cloudfront_distribution")
    expression = ref(full, "aws_cloudfront_response_headers_policy", policy)

    assert headers["strict_transport_security"]["access_control_max_age_sec"] >= 31_536_000
    assert headers["strict_transport_security"]["include_subdomains"] is True
    assert headers["strict_transport_security"]["preload"] is True
    assert headers["strict_transport_security"]["override"] is True
    assert headers["content_type_options"] == {"override": True}
    assert headers["frame_options"] == {"frame_option": "DENY", "override": True}
    assert headers["referrer_policy"]["referrer_policy"] == "strict-origin-when-cross-origin"
    assert "default-src 'self'" in headers["content_security_policy"]["content_security_policy"]
    assert distribution["default_cache_behavior"]["response_headers_policy_id"] == expression
    assert all(b["response_headers_policy_id"] == expression for b in distribution["ordered_cache_behavior"])


def test_custom_domain_uses_sni_and_modern_tls(full: Json) -> None:
    distribution = only(full, "aws_cloudfront_distribution")

    assert distribution["aliases"] == ["www.example.com"]
    assert distribution["viewer_certificate"] == {
        "acm_certificate_arn": CERT_US_EAST_1,
        "ssl_support_method": "sni-only",
        "minimum_protocol_version": "TLSv1.2_2021",
    }
    assert distribution["price_class"] == "PriceClass_200"


def test_api_behaviour_goes_uncached_to_the_load_balancer(full: Json) -> None:
    distribution = only(full, "aws_cloudfront_distribution")
    (api,) = distribution["ordered_cache_behavior"]
    origin = next(o for o in distribution["origin"] if o["origin_id"] == api["target_origin_id"])

    assert api["path_pattern"] == "/api/*"
    assert api["cache_policy_id"] == CACHING_DISABLED
    assert api["origin_request_policy_id"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert api["viewer_protocol_policy"] == "https-only"
    assert set(api["allowed_methods"]) == {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
    assert origin["domain_name"] == "api.example.com"
    assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    assert origin["custom_origin_config"]["origin_ssl_protocols"] == ["TLSv1.2"]


def test_api_origin_without_certificate_is_http_only() -> None:
    document = synth_frontend(api_origin_domain_name="alb-123.eu-west-1.elb.amazonaws.com", api_origin_https=False)
    origin = next(o for o in only(document, "aws_cloudfront_distribution")["origin"] if o["origin_id"] == "api")

    assert origin["custom_origin_config"]["origin_protocol_policy"] == "http-only"


def test_spa_fallback_rewrites_deep_links_on_the_bucket_behaviour_only(full: Json) -> None:
    function = only(full, "aws_cloudfront_function")
    distribution = only(full, "aws_cloudfront_distribution")

    assert function["runtime"] == "cloudfront-js-2.0"
    assert "request.uri = '/index.html'" in function["code"]
    assert distribution["default_cache_behavior"]["function_association"] == [
        {"event_type": "viewer-request", "function_arn": ref(full, "aws_cloudfront_function", function, "arn")}
    ]
    assert "function_association" not in distribution["ordered_cache_behavior"][0]
    # Custom error responses apply to the API too (its 404 would become index.html): not used.
    assert "custom_error_response" not in distribution


def test_access_logs_go_to_a_private_bucket_that_expires_them(plain: Json) -> None:
    (logs,) = [
        b for b in resources(plain, "aws_s3_bucket").values() if b["bucket_prefix"] == "netflux-unit-frontend-logs-"
    ]
    distribution = only(plain, "aws_cloudfront_distribution")

    assert distribution["logging_config"]["bucket"] == ref(plain, "aws_s3_bucket", logs, "bucket_domain_name")
    assert for_bucket(plain, "aws_s3_bucket_public_access_block", logs)["restrict_public_buckets"] is True
    # CloudFront standard logs are delivered through an ACL grant: ACLs stay enabled on this bucket.
    assert (
        for_bucket(plain, "aws_s3_bucket_ownership_controls", logs)["rule"]["object_ownership"]
        == "BucketOwnerPreferred"
    )
    [rule] = for_bucket(plain, "aws_s3_bucket_lifecycle_configuration", logs)["rule"]
    assert rule["expiration"][0]["days"] == 365
    # Versioned, so a log overwritten or deleted before its expiry stays recoverable for 30 days.
    assert for_bucket(plain, "aws_s3_bucket_versioning", logs)["versioning_configuration"]["status"] == "Enabled"
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]


def log_bucket(document: Json) -> Json:
    (logs,) = [
        b for b in resources(document, "aws_s3_bucket").values() if b["bucket_prefix"] == "netflux-unit-frontend-logs-"
    ]
    return logs


def test_site_bucket_access_is_logged_to_the_log_bucket_which_admits_only_that_bucket(plain: Json) -> None:
    site, logs = site_bucket(plain), log_bucket(plain)
    logging = only(plain, "aws_s3_bucket_logging")
    policy = for_bucket(plain, "aws_s3_bucket_policy", logs)
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}

    assert logging["bucket"] == ref(plain, "aws_s3_bucket", site)
    assert (logging["target_bucket"], logging["target_prefix"]) == (ref(plain, "aws_s3_bucket", logs), "s3-access/")
    # S3 checks it may write when logging is turned on: the policy must exist first.
    [policy_id] = [k for k, v in resources(plain, "aws_s3_bucket_policy").items() if v is policy]
    assert logging["depends_on"] == [f"aws_s3_bucket_policy.{policy_id}"]
    write = statements["S3ServerAccessLogsOfTheSiteBucket"]
    assert write["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert write["Resource"] == [f"{ref(plain, 'aws_s3_bucket', logs, 'arn')}/s3-access/*"]
    assert write["Condition"]["ArnLike"] == {"aws:SourceArn": ref(plain, "aws_s3_bucket", site, "arn")}
    assert "aws:SourceAccount" in write["Condition"]["StringEquals"]
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"


def test_site_bucket_uses_sse_kms_with_a_bucket_key_when_given_a_key() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    document = synth_frontend(kms_key_arn=key)
    [rule] = for_bucket(document, "aws_s3_bucket_server_side_encryption_configuration", site_bucket(document))["rule"]
    [log_rule] = for_bucket(document, "aws_s3_bucket_server_side_encryption_configuration", log_bucket(document))[
        "rule"
    ]

    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": key}
    assert rule["bucket_key_enabled"] is True
    # The log bucket is an S3 server access log target, which supports SSE-S3 only.
    assert log_rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}


def test_no_log_bucket_when_access_logs_are_off() -> None:
    document = synth_frontend(access_logs_enabled=False)

    assert len(resources(document, "aws_s3_bucket")) == 1
    assert "logging_config" not in only(document, "aws_cloudfront_distribution")
    assert not resources(document, "aws_s3_bucket_logging")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"aliases": ["www.example.com"]}, "aliases need certificate_arn"),
        (
            {"aliases": ["www.example.com"], "certificate_arn": CERT_EU_WEST_1},
            "must be an ACM certificate in us-east-1",
        ),
        ({"default_root_object": "/index.html"}, "without a leading '/'"),
        ({"noncurrent_version_expiry_days": 0}, "noncurrent_version_expiry_days must be between 1 and 3650"),
    ],
)
def test_fails_when_frontend_props_are_invalid(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        synth_frontend(**overrides)


# --- beanstalk ---------------------------------------------------------------------------------


def beanstalk_props(**overrides: Any) -> BeanstalkProps:
    values: dict[str, Any] = {
        "project": "netflux",
        "environment": "unit",
        "platform": PLATFORM,
        "vpc_id": "vpc-1",
        "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b"],
        "private_subnet_ids": ["subnet-app-a", "subnet-app-b"],
        "security_group_ids": ["sg-app"],
        "database": DatabaseConnection(
            endpoint="db.internal",
            port=5432,
            db_name="app",
            username="app_admin",
            iam_auth=False,
            secret_arn=DB_SECRET,
        ),
        "cache": CacheConnection(host="cache.internal", port=6379, auth_secret_arn=REDIS_SECRET),
        "environment_variables": {"NODE_ENV": "production"},
        "environment_secrets": {
            "API_KEY": EnvironmentSecret(arn=API_SECRET, json_key="key"),
            "FLAGS": EnvironmentSecret(arn=FLAGS_PARAMETER),
        },
        "ecr_repository_arns": [REPOSITORY],
    }
    return BeanstalkProps(**{**values, **overrides})


def synth_beanstalk(**overrides: Any) -> Json:
    props = beanstalk_props(**overrides)
    return synth_construct(lambda stack: Beanstalk(stack, "eb", props=props))


def settings(document: Json) -> dict[tuple[str, str], str]:
    environment = only(document, "aws_elastic_beanstalk_environment")
    return {(s["namespace"], s["name"]): s["value"] for s in environment["setting"]}


def roles(document: Json) -> dict[str, Json]:
    return {role["name"]: role for role in resources(document, "aws_iam_role").values()}


@pytest.fixture(scope="module")
def eb() -> Json:
    return synth_beanstalk()


def test_environment_runs_the_docker_platform_behind_an_application_load_balancer(eb: Json) -> None:
    environment = only(eb, "aws_elastic_beanstalk_environment")
    options = settings(eb)

    assert environment["solution_stack_name"] == PLATFORM
    assert environment["tier"] == "WebServer"
    assert environment["application"] == ref(
        eb, "aws_elastic_beanstalk_application", only(eb, "aws_elastic_beanstalk_application"), "name"
    )
    assert options["aws:elasticbeanstalk:environment", "EnvironmentType"] == "LoadBalanced"
    assert options["aws:elasticbeanstalk:environment", "LoadBalancerType"] == "application"


def test_load_balancer_is_public_and_instances_private_with_the_given_groups(eb: Json) -> None:
    options = settings(eb)

    assert options["aws:ec2:vpc", "VPCId"] == "vpc-1"
    assert options["aws:ec2:vpc", "ELBSubnets"] == "subnet-pub-a,subnet-pub-b"
    assert options["aws:ec2:vpc", "ELBScheme"] == "public"
    assert options["aws:ec2:vpc", "Subnets"] == "subnet-app-a,subnet-app-b"
    assert options["aws:ec2:vpc", "AssociatePublicIpAddress"] == "false"
    assert options["aws:autoscaling:launchconfiguration", "SecurityGroups"] == "sg-app"


def test_instances_require_imdsv2(eb: Json) -> None:
    assert settings(eb)["aws:autoscaling:launchconfiguration", "DisableIMDSv1"] == "true"


def test_connection_settings_are_plain_and_secrets_are_arns_only(eb: Json) -> None:
    options = settings(eb)
    plain = {
        name: value
        for (namespace, name), value in options.items()
        if namespace == "aws:elasticbeanstalk:application:environment"
    }
    secret = {name: value for (namespace, name), value in options.items() if namespace.endswith(":environmentsecrets")}

    assert plain == {
        "RDS_ENDPOINT": "db.internal",
        "RDS_PORT": "5432",
        "RDS_DB_NAME": "app",
        "RDS_USERNAME": "app_admin",
        "USE_IAM_AUTH": "false",
        "RDS_SECRET_ARN": DB_SECRET,
        "REDIS_HOST": "cache.internal",
        "REDIS_PORT": "6379",
        "REDIS_TLS": "true",
        "REDIS_AUTH_SECRET_ARN": REDIS_SECRET,
        "NODE_ENV": "production",
    }
    assert secret == {"API_KEY": f"{API_SECRET}:key", "FLAGS": FLAGS_PARAMETER}
    assert not [name for name in plain if "PASSWORD" in name or name.endswith("TOKEN")]


def test_instance_role_reads_exactly_its_secrets_and_repositories(eb: Json) -> None:
    policy = json.loads(only(eb, "aws_iam_role_policy")["policy"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}

    assert by_sid["ReadOwnSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert sorted(by_sid["ReadOwnSecrets"]["Resource"]) == sorted([DB_SECRET, REDIS_SECRET, API_SECRET])
    assert by_sid["ReadOwnParameters"]["Resource"] == [FLAGS_PARAMETER]
    assert by_sid["PullOwnImages"]["Resource"] == [REPOSITORY]
    assert by_sid["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]
    for statement in policy["Statement"]:
        assert not any("*" in action for action in statement["Action"]), statement
        assert statement["Resource"] != ["*"] or statement["Sid"] == "EcrLogin"


def test_iam_database_auth_grants_connect_and_no_password_secret() -> None:
    database = DatabaseConnection(
        endpoint="db.internal", port=5432, db_name="app", username="web_app", iam_auth=True, connect_arns=[CONNECT]
    )
    document = synth_beanstalk(database=database, cache=None, environment_secrets={}, ecr_repository_arns=[])
    statements = json.loads(only(document, "aws_iam_role_policy")["policy"])["Statement"]
    options = settings(document)

    assert statements == [
        {"Action": ["rds-db:connect"], "Effect": "Allow", "Resource": [CONNECT], "Sid": "IamDatabaseAuth"}
    ]
    assert options["aws:elasticbeanstalk:application:environment", "USE_IAM_AUTH"] == "true"
    assert ("aws:elasticbeanstalk:application:environment", "RDS_SECRET_ARN") not in options
    assert ("aws:elasticbeanstalk:application:environment", "REDIS_HOST") not in options


def test_roles_carry_the_beanstalk_managed_policies(eb: Json) -> None:
    by_name = roles(eb)
    service = by_name["netflux-unit-eb-service"]
    instance = by_name["netflux-unit-eb-instance"]
    trust = json.loads(service["assume_role_policy"])["Statement"][0]

    assert trust["Principal"] == {"Service": "elasticbeanstalk.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "elasticbeanstalk"}}
    attachments = resources(eb, "aws_iam_role_policy_attachment").values()
    attached = {
        a["policy_arn"].rsplit("/", 1)[1] for a in attachments if a["role"].startswith("${aws_iam_role.eb_service-role")
    }
    assert "managed_policy_arns" not in service  # deprecated in AWS provider 6: attachments instead
    assert attached == {"AWSElasticBeanstalkEnhancedHealth", "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"}
    assert json.loads(instance["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert [
        a["policy_arn"].rsplit("/", 1)[1]
        for a in attachments
        if a["role"].startswith("${aws_iam_role.eb_instance-role")
    ] == ["AWSElasticBeanstalkWebTier"]
    profile = only(eb, "aws_iam_instance_profile")
    assert settings(eb)["aws:autoscaling:launchconfiguration", "IamInstanceProfile"] == ref(
        eb, "aws_iam_instance_profile", profile, "name"
    )
    assert settings(eb)["aws:elasticbeanstalk:environment", "ServiceRole"] == ref(eb, "aws_iam_role", service, "arn")


def test_rolling_deployments_managed_updates_and_enhanced_health(eb: Json) -> None:
    options = settings(eb)

    assert options["aws:elasticbeanstalk:command", "DeploymentPolicy"] == "RollingWithAdditionalBatch"
    assert options["aws:elasticbeanstalk:command", "BatchSizeType"] == "Percentage"
    assert options["aws:elasticbeanstalk:command", "BatchSize"] == "50"
    assert options["aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType"] == "Health"
    assert options["aws:autoscaling:asg", "MinSize"] == "2"
    assert options["aws:autoscaling:asg", "MaxSize"] == "4"
    assert options["aws:elasticbeanstalk:healthreporting:system", "SystemType"] == "enhanced"
    assert "EnvironmentHealth" in options["aws:elasticbeanstalk:healthreporting:system", "ConfigDocument"]
    assert options["aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled"] == "true"
    assert options["aws:elasticbeanstalk:managedactions", "PreferredStartTime"] == "Sun:03:00"
    assert options["aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel"] == "minor"
    assert options["aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs"] == "true"
    assert options["aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays"] == "365"
    # Managed updates move the platform version; the pipeline deploys versions.
    lifecycle = only(eb, "aws_elastic_beanstalk_environment")["lifecycle"]
    assert set(lifecycle["ignore_changes"]) == {"solution_stack_name", "version_label"}


def test_immutable_policy_also_replaces_instances_immutably_on_configuration_changes() -> None:
    options = settings(synth_beanstalk(deployment_policy="Immutable"))

    assert options["aws:elasticbeanstalk:command", "DeploymentPolicy"] == "Immutable"
    assert options["aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType"] == "Immutable"


def test_certificate_turns_on_https_only_listener() -> None:
    options = settings(synth_beanstalk(certificate_arn=CERT_EU_WEST_1))

    assert options["aws:elbv2:listener:443", "Protocol"] == "HTTPS"
    assert options["aws:elbv2:listener:443", "SSLCertificateArns"] == CERT_EU_WEST_1
    assert options["aws:elbv2:listener:443", "SSLPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert options["aws:elbv2:listener:default", "ListenerEnabled"] == "false"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"platform": "64bit Amazon Linux 2023 v6.4.0 running Node.js 20"}, "platform must be a Docker platform"),
        ({"private_subnet_ids": ["subnet-app-a"]}, "private_subnet_ids must span at least 2"),
        ({"security_group_ids": []}, "security_group_ids must name at least"),
        ({"environment_variables": {"DB_PASSWORD": "x"}}, "looks like a secret"),
        ({"environment_variables": {"RDS_ENDPOINT": "x"}}, "set from the database/cache connection"),
        ({"min_instances": 5, "max_instances": 2}, "min_instances must be at least 1 and at most max_instances"),
        ({"managed_updates": True, "enhanced_health": False}, "managed_updates needs enhanced_health"),
    ],
)
def test_fails_when_beanstalk_props_are_invalid(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        synth_beanstalk(**overrides)


# --- the Beanstalk example ---------------------------------------------------------------------


def test_example_is_a_valid_beanstalk_environment() -> None:
    config = load_environment(EXAMPLE / "beanstalk.toml")
    assert config.beanstalk is not None

    check_beanstalk_choice("beanstalk", config.beanstalk, config.database, config.cache, list(config.services))
    assert config.environment == "beanstalk"
    assert config.security_groups.mode == "shared"
    assert config.database is not None
    assert config.cache is not None
    assert config.beanstalk.health_check_path == "/health"


def test_example_compose_file_runs_the_app_and_keeps_data_services_local_only() -> None:
    compose = (EXAMPLE / "docker-compose.yml").read_text()
    services = {
        line.strip().rstrip(":")
        for line in compose.splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    }

    assert {"nginx", "api", "worker", "postgres", "redis"} <= services
    for local_only in ("postgres", "redis"):
        block = compose.split(f"  {local_only}:\n", 1)[1].split("\n\n", 1)[0]
        assert 'profiles: ["local"]' in block, local_only
    assert '"80:80"' in compose
    assert "PASSWORD:" not in compose


def test_example_synthesizes_through_the_beanstalk_construct() -> None:
    config = load_environment(EXAMPLE / "beanstalk.toml")
    assert config.beanstalk is not None
    assert config.database is not None
    beanstalk = config.beanstalk
    props = beanstalk_props(
        project=config.project,
        environment=config.environment,
        platform=beanstalk.platform,
        instance_types=list(beanstalk.instance_types),
        min_instances=beanstalk.min_instances,
        max_instances=beanstalk.max_instances,
        deployment_policy=beanstalk.deployment_policy,
        batch_size_type=beanstalk.batch_size_type,
        batch_size=beanstalk.batch_size,
        health_check_path=beanstalk.health_check_path,
        managed_update_window=beanstalk.managed_updates.window_start,
        log_retention_days=beanstalk.log_retention_days,
        database=DatabaseConnection(
            endpoint="db.internal",
            port=5432,
            db_name=config.database.db_name,
            username=beanstalk.database_user,
            iam_auth=config.database.iam_auth,
            connect_arns=[CONNECT],
        ),
        environment_variables=dict(beanstalk.environment),
        environment_secrets={},
    )
    document = synth_construct(lambda stack: Beanstalk(stack, "beanstalk", props=props), region=config.region)
    options = settings(document)

    assert options["aws:elasticbeanstalk:command", "BatchSizeType"] == "Fixed"
    assert options["aws:elasticbeanstalk:command", "BatchSize"] == "1"
    assert options["aws:elasticbeanstalk:environment:process:default", "HealthCheckPath"] == "/health"
    assert options["aws:elasticbeanstalk:application:environment", "RDS_USERNAME"] == "web_app"
    assert options["aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays"] == "30"
