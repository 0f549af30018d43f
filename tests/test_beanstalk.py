"""Elastic Beanstalk (``[beanstalk]``, ``compute.kind = "beanstalk"``): config errors (tier 1), the
construct on synthesized JSON with stand-in dependencies (tier 2), and the example stack (tier 3)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from config import EnvironmentConfig, FieldError, load_environment
from config.beanstalk import BEANSTALK_PLATFORM_EXAMPLE, BeanstalkConfig, check_beanstalk_choice
from config.cache import CacheConfig
from config.database import DatabaseConfig
from modules import Beanstalk
from modules.block import Naming
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, ref, resources, synth_construct

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "beanstalk"
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
PLATFORM = BEANSTALK_PLATFORM_EXAMPLE
CERT_EU_WEST_1 = "arn:aws:acm:eu-west-1:123456789012:certificate/9a7e3c51-0d2b-4f86-b1e4-6c8d2f5a3e90"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/api-key-AbCdEf"
PARAMETER = "arn:aws:ssm:eu-west-1:123456789012:parameter/netflux/feature-flags"
DB_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbCdEf"
REDIS_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux-unit-cache/auth-token-GhIjKl"
API_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/api-MnOpQr"
FLAGS_PARAMETER = "arn:aws:ssm:eu-west-1:123456789012:parameter/netflux/flags"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPOSITORY = "arn:aws:ecr:eu-west-1:123456789012:repository/netflux-unit-api"
REPOSITORY_URL = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/netflux-unit-api"
DBUSER = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABCDEFGHIJKL"


def with_beanstalk(env_data: dict[str, Data], beanstalk: Data) -> Data:
    """The dev file switched to Beanstalk (compute.kind = "beanstalk", no ECS services or jobs) with ``beanstalk``."""
    data = env_data["dev"]
    data["compute"] = {"kind": "beanstalk"}
    data.pop("services")
    data.pop("jobs", None)  # jobs run on the ECS cluster Beanstalk does not build
    data["beanstalk"] = beanstalk
    return data


# --- config ----------------------------------------------------------------------------------------


def test_no_beanstalk_table_by_default(env_data: dict[str, Data]) -> None:
    assert parse(env_data["dev"]).beanstalk is None


def test_beanstalk_secrets_split_json_keys_from_the_arn(env_data: dict[str, Data]) -> None:
    beanstalk = {"platform": PLATFORM, "secrets": {"API_KEY": f"{SECRET}:key", "FLAGS": PARAMETER}}
    config = parse(with_beanstalk(env_data, beanstalk))

    assert config.beanstalk is not None
    assert config.beanstalk.secret_references() == {"API_KEY": (SECRET, "key"), "FLAGS": (PARAMETER, None)}


def test_the_example_is_a_valid_beanstalk_environment() -> None:
    config = load_environment(EXAMPLE / "beanstalk.toml")
    assert config.beanstalk is not None

    check_beanstalk_choice("beanstalk", config.beanstalk, config.database, config.cache, list(config.services))
    assert config.environment == "beanstalk"
    assert config.security_groups.mode == "shared"
    assert config.database is not None
    assert config.cache is not None
    assert config.beanstalk.health_check_path == "/health"


def test_fails_when_beanstalk_is_chosen_without_a_beanstalk_table_but_the_platform_may_be_left_to_plan_time() -> None:
    with pytest.raises(FieldError, match=r"is required with compute.kind = 'beanstalk'") as error:
        check_beanstalk_choice("beanstalk", None)
    assert error.value.path == ("beanstalk",)
    check_beanstalk_choice("beanstalk", BeanstalkConfig())  # resolved at plan time
    check_beanstalk_choice("beanstalk", BeanstalkConfig(platform=PLATFORM))


def test_fails_when_beanstalk_signs_in_as_the_master_user_with_iam_auth() -> None:
    beanstalk = BeanstalkConfig(platform=PLATFORM, database_user="app_admin")
    database = DatabaseConfig(engine_version="16.4", instance_class="db.t4g.micro")

    with pytest.raises(FieldError, match="must not be the master user") as error:
        check_beanstalk_choice("beanstalk", beanstalk, database)
    assert error.value.path == ("beanstalk", "database_user")
    # Password auth signs in as the master user anyway: no clash.
    check_beanstalk_choice("beanstalk", beanstalk, database.model_copy(update={"iam_auth": False}))


def test_fails_when_beanstalk_uses_a_cache_with_iam_users() -> None:
    beanstalk = BeanstalkConfig(platform=PLATFORM)
    cache = CacheConfig(engine_version="8.0", node_type="cache.t4g.micro", auth="iam")

    with pytest.raises(FieldError, match=r"must be 'token' with compute\.kind = 'beanstalk'") as error:
        check_beanstalk_choice("beanstalk", beanstalk, None, cache)
    assert error.value.path == ("cache", "auth")


def test_fails_when_beanstalk_environment_declares_ecs_services() -> None:
    beanstalk = BeanstalkConfig(platform=PLATFORM)

    with pytest.raises(FieldError, match=r"declare ECS services, which compute\.kind = 'beanstalk' does not run"):
        check_beanstalk_choice("beanstalk", beanstalk, service_names=["movie-service"])


def test_fails_when_beanstalk_table_is_given_for_fargate() -> None:
    with pytest.raises(
        FieldError,
        match=r"\[beanstalk\] is only used with compute.kind = 'beanstalk' \(this environment runs on 'fargate'\)",
    ):
        check_beanstalk_choice("fargate", BeanstalkConfig(platform=PLATFORM))
    check_beanstalk_choice("fargate", None)


def test_fails_when_compute_kind_is_unknown(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["compute"]["kind"] = "lambda"
    fails(data, r"compute\.kind = 'lambda': must be one of 'fargate' or 'beanstalk'")


def test_fails_when_beanstalk_is_chosen_without_a_beanstalk_table(env_data: dict[str, Data]) -> None:
    data = with_beanstalk(env_data, {})
    data.pop("beanstalk")
    fails(data, r"beanstalk = None: is required with compute\.kind = 'beanstalk' .*")


def test_fails_when_a_fargate_environment_has_a_beanstalk_table(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["beanstalk"] = {"platform": PLATFORM}
    fails(data, r"compute\.kind = 'fargate': \[beanstalk\] is only used with compute\.kind = 'beanstalk' .*")


def test_fails_when_a_beanstalk_environment_declares_services(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["compute"] = {"kind": "beanstalk"}
    data["beanstalk"] = {"platform": PLATFORM}
    data.pop("jobs")  # refused too (tests/test_job.py): this test is about the services
    fails(data, r"services = \[.*\]: declare ECS services, which compute\.kind = 'beanstalk' does not run.*")


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
        with_beanstalk(env_data, {"platform": platform}),
        r"beanstalk\.platform = .*: must be a Docker platform on Amazon Linux 2023, .*",
    )


@pytest.mark.parametrize(
    ("beanstalk", "line"),
    [
        (
            {"min_instances": 3, "max_instances": 2},
            r"beanstalk\.max_instances = 2: must be between min_instances \(3\) and 10000",
        ),
        ({"min_instances": 0}, r"beanstalk\.min_instances = 0: must be between 1 and 10000, got 0"),
        (
            {"batch_size": 150},
            r"beanstalk\.batch_size = 150: must be between 1 and 100% with batch_size_type = 'Percentage'",
        ),
        (
            {"batch_size_type": "Fixed", "batch_size": 5, "max_instances": 4},
            r"beanstalk\.batch_size = 5: must be between 1 and 4 instances \(max_instances\) .*",
        ),
        (
            {"deployment_policy": "AllAtOnce"},
            r"beanstalk\.deployment_policy = 'AllAtOnce': .*'RollingWithAdditionalBatch' or 'Immutable'",
        ),
        (
            {"instance_types": ["t3.small", "huge"]},
            r"beanstalk\.instance_types\[1\] = 'huge': must be an EC2 instance type .*",
        ),
        (
            {"enhanced_health": False},
            r"beanstalk\.enhanced_health = False: must be true while managed_updates\.enabled = true .*",
        ),
        (
            {"managed_updates": {"window_start": "sunday 3am"}},
            r"beanstalk\.managed_updates\.window_start = 'sunday 3am': must be 'Ddd:hh:mm' .*",
        ),
        (
            {"managed_updates": {"update_level": "major"}},
            r"beanstalk\.managed_updates\.update_level = 'major': must be one of 'minor' or 'patch'",
        ),
        (
            {"log_retention_days": 10},
            r"beanstalk\.log_retention_days = 10: must be one of CloudWatch's retention periods: .*",
        ),
        (
            {"environment": {"DB_PASSWORD": "x"}},
            r"beanstalk\.environment\.DB_PASSWORD = <redacted>: looks like a secret.*",
        ),
        (
            {"environment": {"RDS_ENDPOINT": "db"}},
            r"beanstalk\.environment\.RDS_ENDPOINT = 'RDS_ENDPOINT': is set from the database/cache .*",
        ),
        (
            {"secrets": {"REDIS_HOST": SECRET}},
            r"beanstalk\.secrets\.REDIS_HOST = 'REDIS_HOST': is set from the database/cache .*",
        ),
        (
            {"repositories": ["api"], "environment": {"IMAGE_API": "x"}},
            r"beanstalk\.environment\.IMAGE_API = 'IMAGE_API': is set to the URL of the 'api' repository .*",
        ),
        ({"database_user": "postgres"}, r"beanstalk\.database_user = 'postgres': .*"),
        ({"repositories": ["api", "API"]}, r"beanstalk\.repositories\[1\] = 'API': must be lowercase .*"),
        (
            {"environment": {"1BAD": "x"}},
            r"beanstalk\.environment\.1BAD = '1BAD': variable names must be letters, digits and underscores.*",
        ),
        (
            {"secrets": {"BAD-NAME": SECRET}},
            r"beanstalk\.secrets\.BAD-NAME = 'BAD-NAME': variable names must be letters, digits and underscores.*",
        ),
        (
            {"secrets": {"API_KEY": "plaintext-value"}},
            r"beanstalk\.secrets\.API_KEY = <redacted>: must be a Secrets Manager secret ARN .*"
            r"\(the value is not shown: it may be the secret itself\)",
        ),
        (
            {"environment": {"MODE": "x"}, "secrets": {"MODE": SECRET}},
            r"beanstalk\.secrets\.MODE = 'MODE': is also a plain property in \[beanstalk\.environment\].*",
        ),
    ],
)
def test_fails_on_bad_beanstalk_settings(env_data: dict[str, Data], beanstalk: Data, line: str) -> None:
    fails(with_beanstalk(env_data, {"platform": PLATFORM, **beanstalk}), line)


# --- construct ------------------------------------------------------------------------------------

NETWORK = SimpleNamespace(
    vpc_id="vpc-1",
    public_subnet_ids=["subnet-pub-a", "subnet-pub-b"],
    private_app_subnet_ids=["subnet-app-a", "subnet-app-b"],
)
SECURITY_GROUPS = SimpleNamespace(app_sg_id="sg-app")
CACHE = SimpleNamespace(
    primary_endpoint_address="cache.internal", port=6379, auth_token_secret_arn=REDIS_SECRET, auth_token_kms_key_arn=KEY
)
REPOSITORIES = {"api": SimpleNamespace(url=REPOSITORY_URL, arn=REPOSITORY)}


def stand_in_database(*, iam_auth: bool) -> Any:
    """A database at db.internal whose master user is app_admin (password in DB_SECRET)."""
    return SimpleNamespace(
        connect_address="db.internal",
        port=5432,
        db_name="app",
        master_username="app_admin",
        iam_auth=iam_auth,
        master_secret_arn=DB_SECRET,
        master_secret_kms_key_arn=None,
        connect_arn=lambda user: f"{DBUSER}/{user}",
    )


def synth_beanstalk(settings: Data | None = None, *, region: str = "eu-west-1", **dependencies: Any) -> Json:
    """GIVEN [beanstalk] ``settings`` and stand-in dependencies (a password-auth database, a token cache,
    one repository unless overridden) WHEN the environment is synthesized."""
    beanstalk = BeanstalkConfig.model_validate({"platform": PLATFORM, **(settings or {})})
    wiring: dict[str, Any] = {
        "naming": NAMING,
        "network": NETWORK,
        "security_groups": SECURITY_GROUPS,
        "repositories": REPOSITORIES,
        "database": stand_in_database(iam_auth=False),
        "cache": CACHE,
        **dependencies,
    }
    return synth_construct(lambda stack: Beanstalk(stack, "eb", settings=beanstalk, **wiring), region=region)


def options(document: Json) -> dict[tuple[str, str], str]:
    environment = only(document, "aws_elastic_beanstalk_environment")
    return {(s["namespace"], s["name"]): s["value"] for s in environment["setting"]}


def namespace(document: Json, suffix: str) -> dict[str, str]:
    return {name: value for (space, name), value in options(document).items() if space.endswith(suffix)}


def roles(document: Json) -> dict[str, Json]:
    return {role["name"]: role for role in resources(document, "aws_iam_role").values()}


@pytest.fixture(scope="module")
def eb() -> Json:
    return synth_beanstalk(
        {
            "environment": {"NODE_ENV": "production"},
            "secrets": {"API_KEY": f"{API_SECRET}:key", "FLAGS": FLAGS_PARAMETER},
            "repositories": ["api"],
        }
    )


def test_environment_runs_the_docker_platform_behind_an_application_load_balancer(eb: Json) -> None:
    environment = only(eb, "aws_elastic_beanstalk_environment")
    settings = options(eb)

    assert environment["solution_stack_name"] == PLATFORM
    assert environment["tier"] == "WebServer"
    assert environment["application"] == ref(
        eb, "aws_elastic_beanstalk_application", only(eb, "aws_elastic_beanstalk_application"), "name"
    )
    assert settings["aws:elasticbeanstalk:environment", "EnvironmentType"] == "LoadBalanced"
    assert settings["aws:elasticbeanstalk:environment", "LoadBalancerType"] == "application"


def test_unpinned_platform_is_the_newest_docker_al2023_stack_at_plan_time() -> None:
    document = synth_beanstalk({"platform": None})
    [stack_id] = document["data"]["aws_elastic_beanstalk_solution_stack"]
    lookup = document["data"]["aws_elastic_beanstalk_solution_stack"][stack_id]

    assert lookup["most_recent"] is True
    assert lookup["name_regex"] == r"^64bit Amazon Linux 2023 v4\.[0-9]+\.[0-9]+ running Docker$"
    assert only(document, "aws_elastic_beanstalk_environment")["solution_stack_name"] == (
        f"${{data.aws_elastic_beanstalk_solution_stack.{stack_id}.name}}"
    )


def test_load_balancer_is_public_and_instances_private_with_the_app_group(eb: Json) -> None:
    settings = options(eb)

    assert settings["aws:ec2:vpc", "VPCId"] == "vpc-1"
    assert settings["aws:ec2:vpc", "ELBSubnets"] == "subnet-pub-a,subnet-pub-b"
    assert settings["aws:ec2:vpc", "ELBScheme"] == "public"
    assert settings["aws:ec2:vpc", "Subnets"] == "subnet-app-a,subnet-app-b"
    assert settings["aws:ec2:vpc", "AssociatePublicIpAddress"] == "false"
    assert settings["aws:autoscaling:launchconfiguration", "SecurityGroups"] == "sg-app"


def test_instances_require_imdsv2(eb: Json) -> None:
    assert options(eb)["aws:autoscaling:launchconfiguration", "DisableIMDSv1"] == "true"


def test_connection_settings_and_image_urls_are_plain_and_secrets_are_arns_only(eb: Json) -> None:
    plain = namespace(eb, ":application:environment")
    secret = namespace(eb, ":environmentsecrets")

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
        "IMAGE_API": REPOSITORY_URL,  # docker-compose.yml's ${IMAGE_API}
    }
    assert secret == {"API_KEY": f"{API_SECRET}:key", "FLAGS": FLAGS_PARAMETER}
    assert not [name for name in plain if "PASSWORD" in name or name.endswith("TOKEN")]


def test_instance_role_reads_exactly_its_secrets_and_repositories(eb: Json) -> None:
    policy = json.loads(only(eb, "aws_iam_role_policy")["policy"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}

    assert by_sid["ReadOwnSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert by_sid["ReadOwnSecrets"]["Resource"] == [DB_SECRET, REDIS_SECRET, API_SECRET]
    assert by_sid["ReadOwnParameters"]["Resource"] == [FLAGS_PARAMETER]
    # The cache token's customer-managed key; the database's secret uses the AWS-managed one.
    assert by_sid["DecryptOwnSecrets"]["Resource"] == [KEY]
    assert by_sid["PullOwnImages"]["Resource"] == [REPOSITORY]
    assert by_sid["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]
    for statement in policy["Statement"]:
        assert not any("*" in action for action in statement["Action"]), statement
        assert statement["Resource"] != ["*"] or statement["Sid"] == "EcrLogin"


def test_iam_database_auth_grants_connect_as_the_configured_user_and_no_password_secret() -> None:
    document = synth_beanstalk(database=stand_in_database(iam_auth=True), cache=None, repositories={})
    statements = json.loads(only(document, "aws_iam_role_policy")["policy"])["Statement"]
    plain = namespace(document, ":application:environment")

    assert statements == [
        {"Action": ["rds-db:connect"], "Effect": "Allow", "Resource": [f"{DBUSER}/web_app"], "Sid": "IamDatabaseAuth"}
    ]
    assert (plain["USE_IAM_AUTH"], plain["RDS_USERNAME"]) == ("true", "web_app")
    assert "RDS_SECRET_ARN" not in plain
    assert "REDIS_HOST" not in plain


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
    assert options(eb)["aws:autoscaling:launchconfiguration", "IamInstanceProfile"] == ref(
        eb, "aws_iam_instance_profile", profile, "name"
    )
    assert options(eb)["aws:elasticbeanstalk:environment", "ServiceRole"] == ref(eb, "aws_iam_role", service, "arn")


def test_rolling_deployments_managed_updates_and_enhanced_health(eb: Json) -> None:
    settings = options(eb)

    assert settings["aws:elasticbeanstalk:command", "DeploymentPolicy"] == "RollingWithAdditionalBatch"
    assert settings["aws:elasticbeanstalk:command", "BatchSizeType"] == "Percentage"
    assert settings["aws:elasticbeanstalk:command", "BatchSize"] == "50"
    assert settings["aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType"] == "Health"
    assert settings["aws:autoscaling:asg", "MinSize"] == "2"
    assert settings["aws:autoscaling:asg", "MaxSize"] == "4"
    assert settings["aws:elasticbeanstalk:healthreporting:system", "SystemType"] == "enhanced"
    assert "EnvironmentHealth" in settings["aws:elasticbeanstalk:healthreporting:system", "ConfigDocument"]
    assert settings["aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled"] == "true"
    assert settings["aws:elasticbeanstalk:managedactions", "PreferredStartTime"] == "Sun:03:00"
    assert settings["aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel"] == "minor"
    assert settings["aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs"] == "true"
    assert settings["aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays"] == "365"
    # Managed updates move the platform version; the pipeline deploys versions.
    lifecycle = only(eb, "aws_elastic_beanstalk_environment")["lifecycle"]
    assert set(lifecycle["ignore_changes"]) == {"solution_stack_name", "version_label"}


def test_basic_health_without_managed_updates_has_no_health_streaming_or_update_window() -> None:
    settings = options(synth_beanstalk({"enhanced_health": False, "managed_updates": {"enabled": False}}))

    assert settings["aws:elasticbeanstalk:healthreporting:system", "SystemType"] == "basic"
    assert settings["aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled"] == "false"
    assert ("aws:elasticbeanstalk:cloudwatch:logs:health", "HealthStreamingEnabled") not in settings
    assert ("aws:elasticbeanstalk:managedactions", "PreferredStartTime") not in settings


def test_immutable_policy_also_replaces_instances_immutably_on_configuration_changes() -> None:
    settings = options(synth_beanstalk({"deployment_policy": "Immutable"}))

    assert settings["aws:elasticbeanstalk:command", "DeploymentPolicy"] == "Immutable"
    assert settings["aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType"] == "Immutable"


def test_certificate_turns_on_https_only_listener() -> None:
    settings = options(synth_beanstalk(certificate_arn=CERT_EU_WEST_1))

    assert settings["aws:elbv2:listener:443", "Protocol"] == "HTTPS"
    assert settings["aws:elbv2:listener:443", "SSLCertificateArns"] == CERT_EU_WEST_1
    assert settings["aws:elbv2:listener:443", "SSLPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert settings["aws:elbv2:listener:default", "ListenerEnabled"] == "false"


def test_the_examples_settings_reach_the_construct() -> None:
    config = load_environment(EXAMPLE / "beanstalk.toml")
    assert config.beanstalk is not None
    assert config.database is not None
    naming = Naming(project=config.project, environment=config.environment, region=config.region)
    database = stand_in_database(iam_auth=config.database.iam_auth)
    document = synth_construct(
        lambda stack: Beanstalk(
            stack,
            "beanstalk",
            settings=config.beanstalk,
            naming=naming,
            network=NETWORK,
            security_groups=SECURITY_GROUPS,
            repositories={},
            database=database,
        ),
        region=config.region,
    )
    settings = options(document)

    assert settings["aws:elasticbeanstalk:command", "BatchSizeType"] == "Fixed"
    assert settings["aws:elasticbeanstalk:command", "BatchSize"] == "1"
    assert settings["aws:elasticbeanstalk:environment:process:default", "HealthCheckPath"] == "/health"
    assert settings["aws:elasticbeanstalk:application:environment", "RDS_USERNAME"] == "web_app"
    assert settings["aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays"] == "30"


def test_the_example_compose_file_runs_the_app_and_keeps_data_services_local_only() -> None:
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


# --- the Beanstalk example stack ------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(synthesized_examples: dict[str, Json]) -> Json:
    return synthesized_examples["beanstalk"]


def test_the_example_replaces_fargate_and_the_platform_alb(example: Json) -> None:
    assert resources(example, "aws_ecs_service") == {}
    assert resources(example, "aws_ecs_cluster") == {}
    assert resources(example, "aws_lb") == {}
    assert len(resources(example, "aws_elastic_beanstalk_environment")) == 1
    assert sorted(r["name"] for r in resources(example, "aws_ecr_repository").values()) == [
        "netflux-beanstalk-api",
        "netflux-beanstalk-nginx",
        "netflux-beanstalk-worker",
    ]


def test_the_examples_instances_are_private_and_share_the_data_tier_group(example: Json) -> None:
    settings = options(example)
    subnets = resources(example, "aws_subnet")
    private = {f"${{aws_subnet.{k}.id}}" for k, v in subnets.items() if v["tags"]["tier"] == "private-app"}
    public = {f"${{aws_subnet.{k}.id}}" for k, v in subnets.items() if v["tags"]["tier"] == "public"}
    assert set(settings[("aws:ec2:vpc", "Subnets")].split(",")) == private
    assert set(settings[("aws:ec2:vpc", "ELBSubnets")].split(",")) == public
    assert settings[("aws:ec2:vpc", "AssociatePublicIpAddress")] == "false"
    assert settings[("aws:autoscaling:launchconfiguration", "DisableIMDSv1")] == "true"
    # Seed 000: one shared group on the instances, the database and the cache.
    [shared] = [k for k, v in resources(example, "aws_security_group").items() if v["name"].endswith("-shared")]
    shared_ref = f"${{aws_security_group.{shared}.id}}"
    assert settings[("aws:autoscaling:launchconfiguration", "SecurityGroups")] == shared_ref
    assert only(example, "aws_db_instance")["vpc_security_group_ids"] == [shared_ref]
    assert only(example, "aws_elasticache_replication_group")["security_group_ids"] == [shared_ref]


def test_the_examples_instances_may_decrypt_the_token_secret_with_the_environment_key(example: Json) -> None:
    [key_id] = [k for k in resources(example, "aws_kms_key") if k.startswith("kms_")]
    [policy] = [p for k, p in resources(example, "aws_iam_role_policy").items() if k.startswith("beanstalk_instance")]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}

    assert only(example, "aws_secretsmanager_secret")["kms_key_id"] == f"${{aws_kms_key.{key_id}.arn}}"
    # IAM database auth: the master secret is never read, so only the token's key is granted.
    assert statements["DecryptOwnSecrets"]["Resource"] == [f"${{aws_kms_key.{key_id}.arn}}"]


def test_the_example_gets_seed_003_connection_settings_and_image_urls_without_secret_values(example: Json) -> None:
    environment = namespace(example, ":application:environment")
    repositories = {r["name"]: k for k, r in resources(example, "aws_ecr_repository").items()}

    assert environment["RDS_ENDPOINT"].startswith("${aws_db_instance.")
    assert environment["RDS_PORT"] == "5432"
    assert environment["RDS_USERNAME"] == "web_app"
    assert environment["REDIS_HOST"].startswith("${aws_elasticache_replication_group.")
    assert environment["REDIS_AUTH_SECRET_ARN"].startswith("${aws_secretsmanager_secret.")
    assert environment["IMAGE_API"] == f"${{aws_ecr_repository.{repositories['netflux-beanstalk-api']}.repository_url}}"
    assert not any("PASSWORD" in name or name.endswith("_TOKEN") for name in environment)


def test_the_example_rolls_deployments_and_takes_managed_updates(example: Json) -> None:
    settings = options(example)
    assert settings[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == "RollingWithAdditionalBatch"
    assert settings[("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled")] == "true"
    assert settings[("aws:elasticbeanstalk:healthreporting:system", "SystemType")] == "enhanced"
    assert (settings[("aws:autoscaling:asg", "MinSize")], settings[("aws:autoscaling:asg", "MaxSize")]) == ("2", "4")


def test_the_example_watches_its_own_load_balancer_and_health(
    example: Json, example_environments: dict[str, EnvironmentConfig]
) -> None:
    found = {
        a["alarm_name"].removeprefix("netflux-beanstalk-"): a
        for a in resources(example, "aws_cloudwatch_metric_alarm").values()
    }
    settings = example_environments["beanstalk"].beanstalk
    assert settings is not None
    thresholds = settings.alarms
    assert {"alb-target-5xx", "alb-elb-5xx", "eb-health", "rds-cpu", "redis-cpu-001"} <= set(found)
    assert not any(name.startswith(("ecs-", "unhealthy-")) for name in found)
    assert found["alb-target-5xx"]["threshold"] == thresholds.target_5xx_count
    assert found["alb-elb-5xx"]["threshold"] == thresholds.elb_5xx_count
    assert found["eb-health"]["dimensions"] == {"EnvironmentName": "netflux-beanstalk-web"}
