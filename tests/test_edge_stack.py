"""Tier 3: the frontend and the alarms in every environment, and the Elastic Beanstalk example stack."""

from __future__ import annotations

import json

import pytest

from config import EnvironmentConfig
from tests.synth import Json, only, resources

ENVIRONMENTS = ["dev", "staging", "prod"]


def topic_ref(document: Json) -> str:
    [topic_id] = resources(document, "aws_sns_topic")
    return f"${{aws_sns_topic.{topic_id}.arn}}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_frontend_bucket_is_private_and_served_only_through_cloudfront(synthesized: dict[str, Json], env: str) -> None:
    document = synthesized[env]
    distribution = only(document, "aws_cloudfront_distribution")
    [site_id] = [k for k in resources(document, "aws_s3_bucket") if k.startswith("frontend_site")]
    [s3_origin] = [o for o in distribution["origin"] if o["origin_id"] == "s3"]
    assert s3_origin["domain_name"] == f"${{aws_s3_bucket.{site_id}.bucket_regional_domain_name}}"
    assert s3_origin["origin_access_control_id"].startswith("${aws_cloudfront_origin_access_control.")
    assert distribution["default_cache_behavior"]["viewer_protocol_policy"] == "redirect-to-https"
    [block] = [b for b in resources(document, "aws_s3_bucket_public_access_block").values() if site_id in b["bucket"]]
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    [policy] = [p for p in resources(document, "aws_s3_bucket_policy").values() if site_id in p["bucket"]]
    statements = json.loads(policy["policy"])["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allowed] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allowed[0]["Condition"]["StringEquals"]["AWS:SourceArn"].startswith("${aws_cloudfront_distribution.")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_api_paths_go_to_the_load_balancer_over_https_when_it_has_a_certificate(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    config = environments[env]
    distribution = only(document, "aws_cloudfront_distribution")
    [api] = [o for o in distribution["origin"] if o["origin_id"] == "api"]
    [behaviour] = distribution["ordered_cache_behavior"]
    assert behaviour["path_pattern"] == "/api/*"
    assert behaviour["target_origin_id"] == "api"
    if config.alb.certificate_arn:
        assert api["custom_origin_config"]["origin_protocol_policy"] == "https-only"
        assert api["domain_name"] == config.frontend.api_origin_domain
    else:  # dev: no certificate on the ALB, so CloudFront reaches its DNS name over HTTP
        assert api["custom_origin_config"]["origin_protocol_policy"] == "http-only"
        [alb_id] = resources(document, "aws_lb")
        assert api["domain_name"] == f"${{aws_lb.{alb_id}.dns_name}}"


@pytest.mark.parametrize(
    ("env", "domain"), [("staging", "www.staging.netflux.example.com"), ("prod", "www.netflux.example.com")]
)
def test_shared_environments_frontend_has_its_domain_and_certificate(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str, domain: str
) -> None:
    distribution = only(synthesized[env], "aws_cloudfront_distribution")
    assert distribution["aliases"] == [domain]
    certificate = distribution["viewer_certificate"]
    assert certificate["acm_certificate_arn"] == environments[env].frontend.certificate_arn
    assert certificate["ssl_support_method"] == "sni-only"
    assert certificate["minimum_protocol_version"] == "TLSv1.2_2021"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alarm_notifies_the_topic_when_firing_and_recovering(synthesized: dict[str, Json], env: str) -> None:
    document = synthesized[env]
    topic = topic_ref(document)
    alarms = resources(document, "aws_cloudwatch_metric_alarm").values()
    assert alarms
    for alarm in alarms:
        assert alarm["alarm_actions"] == [topic], alarm["alarm_name"]
        assert alarm["ok_actions"] == [topic], alarm["alarm_name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarms_cover_every_tier_the_environment_has(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    metrics: dict[str, int] = {}
    for alarm in resources(synthesized[env], "aws_cloudwatch_metric_alarm").values():
        metrics[alarm["metric_name"]] = metrics.get(alarm["metric_name"], 0) + 1
    services = len(config.services)
    nodes = config.cache.num_cache_clusters if config.cache else 0
    assert metrics["UnHealthyHostCount"] == services
    assert metrics["MemoryUtilization"] == services
    assert metrics["HTTPCode_Target_5XX_Count"] == metrics["HTTPCode_ELB_5XX_Count"] == 1
    assert metrics["CPUUtilization"] == services + (1 if config.database else 0)  # ECS per service + RDS
    assert metrics["FreeStorageSpace"] == metrics["DatabaseConnections"] == (1 if config.database else 0)
    for cache_metric in ("EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions"):
        assert metrics[cache_metric] == nodes


def test_alarm_emails_subscribe_to_the_topic(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig]
) -> None:
    subscriptions = resources(synthesized["prod"], "aws_sns_topic_subscription").values()
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(environments["prod"].monitoring.alarm_emails)
    assert {s["protocol"] for s in subscriptions} == {"email"}


# --- the Elastic Beanstalk example --------------------------------------------------------------


@pytest.fixture(scope="module")
def beanstalk(synthesized_examples: dict[str, Json]) -> Json:
    return synthesized_examples["beanstalk"]


def settings(document: Json) -> dict[tuple[str, str], str]:
    environment = only(document, "aws_elastic_beanstalk_environment")
    return {(s["namespace"], s["name"]): s["value"] for s in environment["setting"]}


def test_beanstalk_example_replaces_fargate_and_the_platform_alb(beanstalk: Json) -> None:
    assert resources(beanstalk, "aws_ecs_service") == {}
    assert resources(beanstalk, "aws_ecs_cluster") == {}
    assert resources(beanstalk, "aws_lb") == {}
    assert len(resources(beanstalk, "aws_elastic_beanstalk_environment")) == 1
    assert sorted(r["name"] for r in resources(beanstalk, "aws_ecr_repository").values()) == [
        "netflux-beanstalk-api",
        "netflux-beanstalk-nginx",
        "netflux-beanstalk-worker",
    ]


def test_beanstalk_instances_are_private_and_share_the_data_tier_group(beanstalk: Json) -> None:
    values = settings(beanstalk)
    private = {
        f"${{aws_subnet.{k}.id}}"
        for k, v in resources(beanstalk, "aws_subnet").items()
        if v["tags"]["tier"] == "private-app"
    }
    public = {
        f"${{aws_subnet.{k}.id}}"
        for k, v in resources(beanstalk, "aws_subnet").items()
        if v["tags"]["tier"] == "public"
    }
    assert set(values[("aws:ec2:vpc", "Subnets")].split(",")) == private
    assert set(values[("aws:ec2:vpc", "ELBSubnets")].split(",")) == public
    assert values[("aws:ec2:vpc", "AssociatePublicIpAddress")] == "false"
    assert values[("aws:autoscaling:launchconfiguration", "DisableIMDSv1")] == "true"
    # Seed 000: one shared group on the instances, the database and the cache.
    [shared] = [k for k, v in resources(beanstalk, "aws_security_group").items() if v["name"].endswith("-shared")]
    shared_ref = f"${{aws_security_group.{shared}.id}}"
    assert values[("aws:autoscaling:launchconfiguration", "SecurityGroups")] == shared_ref
    assert only(beanstalk, "aws_db_instance")["vpc_security_group_ids"] == [shared_ref]
    assert only(beanstalk, "aws_elasticache_replication_group")["security_group_ids"] == [shared_ref]


def test_beanstalk_instances_may_decrypt_the_token_secret_with_the_environment_key(beanstalk: Json) -> None:
    [key_id] = [k for k in resources(beanstalk, "aws_kms_key") if k.startswith("kms_")]
    [policy] = [p for k, p in resources(beanstalk, "aws_iam_role_policy").items() if k.startswith("beanstalk_instance")]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}

    assert only(beanstalk, "aws_secretsmanager_secret")["kms_key_id"] == f"${{aws_kms_key.{key_id}.arn}}"
    # IAM database auth: the master secret is never read, so only the token's key is granted.
    assert statements["DecryptOwnSecrets"]["Resource"] == [f"${{aws_kms_key.{key_id}.arn}}"]


def test_beanstalk_gets_seed_003_connection_settings_without_secret_values(beanstalk: Json) -> None:
    values = settings(beanstalk)
    environment = {
        name: value
        for (namespace, name), value in values.items()
        if namespace == "aws:elasticbeanstalk:application:environment"
    }
    assert environment["RDS_ENDPOINT"].startswith("${aws_db_instance.")
    assert environment["RDS_PORT"] == "5432"
    assert environment["RDS_USERNAME"] == "web_app"
    assert environment["REDIS_HOST"].startswith("${aws_elasticache_replication_group.")
    assert environment["REDIS_AUTH_SECRET_ARN"].startswith("${aws_secretsmanager_secret.")
    assert not any("PASSWORD" in name or name.endswith("_TOKEN") for name in environment)


def test_beanstalk_rolls_deployments_and_takes_managed_updates(beanstalk: Json) -> None:
    values = settings(beanstalk)
    assert values[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == "RollingWithAdditionalBatch"
    assert values[("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled")] == "true"
    assert values[("aws:elasticbeanstalk:healthreporting:system", "SystemType")] == "enhanced"
    assert (values[("aws:autoscaling:asg", "MinSize")], values[("aws:autoscaling:asg", "MaxSize")]) == ("2", "4")
