"""Elastic Beanstalk compute: an application and one load-balanced environment running docker
compose (multi-container) on the Amazon Linux 2023 Docker platform, inside the platform's VPC."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_elastic_beanstalk_solution_stack import DataAwsElasticBeanstalkSolutionStack
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.elastic_beanstalk_application import (
    ElasticBeanstalkApplication,
    ElasticBeanstalkApplicationAppversionLifecycle,
)
from cdktf_cdktf_provider_aws.elastic_beanstalk_environment import (
    ElasticBeanstalkEnvironment,
    ElasticBeanstalkEnvironmentSetting,
)
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct

from config.alarms import LoadBalancerAlarmsConfig
from config.naming import IAM_ROLE_NAME_MAX, resource_name

from .block import Alarm, AlarmPolicy, Block, Comparison, Statistic
from .iam import Statement, allow, decrypt_via, service_role
from .load_balancer import load_balancer_alarms
from .provider import AwsProviders

DeploymentPolicy = Literal["RollingWithAdditionalBatch", "Immutable"]
ENVIRONMENT_NAME_MAX = 40  # Beanstalk environment names: 4-40 characters
# The Docker (docker compose) branch on Amazon Linux 2023; the data source picks its newest version.
DOCKER_AL2023_STACKS = r"^64bit Amazon Linux 2023 v4\.[0-9]+\.[0-9]+ running Docker$"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# How long unused application versions are kept; Beanstalk's quota is 1000 per region.
MAX_APPLICATION_VERSIONS = 200
# Enhanced health publishes the environment's health as a CloudWatch metric every 60 s, so an
# alarm can watch it (see modules/monitoring.py).
HEALTH_CONFIG_DOCUMENT = json.dumps(
    {"CloudWatchMetrics": {"Environment": {"EnvironmentHealth": 60}}, "Version": 1}, sort_keys=True
)
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_LOOKING = re.compile(r"(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|(API|PRIVATE|ACCESS|SECRET)_?KEY)$", re.I)
# Variables this construct sets from the database and cache connections.
DATABASE_VARIABLES = ("RDS_ENDPOINT", "RDS_PORT", "RDS_DB_NAME", "RDS_USERNAME", "USE_IAM_AUTH", "RDS_SECRET_ARN")
CACHE_VARIABLES = ("REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "REDIS_AUTH_SECRET_ARN")


@dataclass(frozen=True, kw_only=True)
class DatabaseConnection:
    """Where the application finds PostgreSQL (seed 003's RDS_* settings)."""

    endpoint: str
    """Host name of the instance (or of the RDS Proxy)."""
    port: int | str
    """Port, 5432 for PostgreSQL."""
    db_name: str
    """Database to connect to."""
    username: str
    """User to connect as."""
    iam_auth: bool = True
    """The application signs in with IAM tokens (USE_IAM_AUTH=true); false: with the password in secret_arn."""
    secret_arn: str | None = None
    """Secrets Manager secret holding the password (RDS's managed master secret): its ARN is passed
    as RDS_SECRET_ARN and the instances may read exactly that secret. None with IAM auth."""
    connect_arns: list[str] = field(default_factory=list)
    """``rds-db:connect`` ARNs (``...:dbuser:<DbiResourceId>/<user>``) the instances may use with IAM auth."""


@dataclass(frozen=True, kw_only=True)
class CacheConnection:
    """Where the application finds Redis/Valkey."""

    host: str
    """Primary endpoint host name."""
    port: int | str
    """Port, 6379."""
    tls: bool = True
    """In-transit encryption is on: clients must connect with TLS (REDIS_TLS=true)."""
    auth_secret_arn: str | None = None
    """Secrets Manager secret holding the AUTH token: passed as REDIS_AUTH_SECRET_ARN and readable
    by the instances. None when the cache uses IAM users."""


@dataclass(frozen=True, kw_only=True)
class EnvironmentSecret:
    """An environment property Beanstalk fills from Secrets Manager or SSM Parameter Store when an
    instance starts; Beanstalk's configuration only ever holds the ARN."""

    arn: str
    """Secrets Manager secret ARN or SSM parameter ARN."""
    json_key: str | None = None
    """Top-level key of a JSON secret to extract (platform versions from 2026-01-13 on); the whole value when unset."""


@dataclass(frozen=True, kw_only=True)
class BeanstalkProps:
    """One web-server environment and everything it runs with."""

    project: str
    """Project slug, for names."""
    environment: str
    """Environment slug, for names."""
    platform: str | None = None
    """Solution stack to pin, e.g. '64bit Amazon Linux 2023 v4.8.0 running Docker'; unset: the newest
    Docker-on-Amazon-Linux-2023 stack AWS lists, resolved at plan time."""
    vpc_id: str
    """VPC of the instances and the load balancer."""
    public_subnet_ids: list[str]
    """Subnets of the internet-facing load balancer, at least two AZs."""
    private_subnet_ids: list[str]
    """Subnets of the instances (private-app), at least two AZs; instances get no public IP."""
    security_group_ids: list[str]
    """Extra groups on the instances (the app group, or the shared group in shared mode) so the
    database and cache accept them. Beanstalk adds its own group for load balancer -> instance traffic."""
    instance_types: list[str] = field(default_factory=lambda: ["t3.small"])
    """EC2 instance types, first preferred."""
    min_instances: int = 2
    """Fewest instances."""
    max_instances: int = 4
    """Most instances autoscaling starts."""
    deployment_policy: DeploymentPolicy = "RollingWithAdditionalBatch"
    """How application versions roll out; configuration changes that replace instances roll
    health-based (or immutably with the Immutable policy)."""
    batch_size_type: Literal["Percentage", "Fixed"] = "Percentage"
    """Whether batch_size is a share of the fleet or an instance count."""
    batch_size: int = 50
    """Instances per rolling batch."""
    health_check_path: str = "/"
    """Path the load balancer checks on port 80 of the instances."""
    enhanced_health: bool = True
    """Enhanced health reporting, with the environment's health published as a CloudWatch metric."""
    managed_updates: bool = True
    """Beanstalk applies platform updates in the weekly window (needs enhanced health)."""
    managed_update_window: str = "Sun:03:00"
    """Start of the 2-hour weekly window, 'Ddd:hh:mm' UTC."""
    update_level: Literal["minor", "patch"] = "minor"
    """Highest platform update applied automatically."""
    instance_refresh: bool = False
    """Replace every instance weekly when no platform update is due."""
    log_retention_days: int = 365
    """Instance and health logs streamed to CloudWatch Logs, kept this long (also after the environment is gone)."""
    certificate_arn: str | None = None
    """ACM certificate (stack region): the load balancer serves HTTPS on 443 only and HTTP is off.
    Unset: HTTP on 80."""
    database: DatabaseConnection | None = None
    """The PostgreSQL connection passed as RDS_* properties; none when unset."""
    cache: CacheConnection | None = None
    """The Redis connection passed as REDIS_* properties; none when unset."""
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    """Plain environment properties; never secrets (names that look like one are rejected)."""
    environment_secrets: Mapping[str, EnvironmentSecret] = field(default_factory=dict)
    """Properties Beanstalk fills from Secrets Manager / Parameter Store at instance start."""
    secrets_kms_key_arns: list[str] = field(default_factory=list)
    """Customer-managed keys of those secrets (kms:Decrypt); none needed for AWS-managed keys."""
    ecr_repository_arns: list[str] = field(default_factory=list)
    """Repositories the instances may pull images from; no ECR access when empty."""
    version_label: str | None = None
    """Application version to run. Unset: the pipeline deploys versions (eb deploy /
    update-environment) and Terraform ignores which one runs; a new environment starts with
    Beanstalk's sample application."""
    alarms: LoadBalancerAlarmsConfig = field(default_factory=LoadBalancerAlarmsConfig)
    """When the 5xx alarms of the environment's own load balancer fire."""


class Beanstalk(Block):
    """Beanstalk application and environment: ALB in the public subnets, instances in the private
    ones with IMDSv2 only, rolling deployments, managed updates and CloudWatch log streaming."""

    application: ElasticBeanstalkApplication
    environment: ElasticBeanstalkEnvironment
    instance_role: IamRole
    service_role: IamRole
    instance_profile: IamInstanceProfile
    application_name: str
    environment_name: str
    cname: str
    endpoint_url: str
    load_balancer_arn: str
    """ARN of the application load balancer Beanstalk created for the environment."""
    load_balancer_arn_suffix: str

    def __init__(self, scope: Construct, construct_id: str, *, props: BeanstalkProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        _validate(props)
        self.application_name = resource_name(props.project, props.environment, "eb", max_length=100)
        self.environment_name = resource_name(props.project, props.environment, "web", max_length=ENVIRONMENT_NAME_MAX)
        partition = DataAwsPartition(self, "partition").partition

        def managed(policy: str) -> str:
            return f"arn:{partition}:iam::aws:policy/{policy}"

        self.service_role = service_role(
            self,
            "service-role",
            name=resource_name(props.project, props.environment, "eb-service", max_length=IAM_ROLE_NAME_MAX),
            service="elasticbeanstalk.amazonaws.com",
            condition={"StringEquals": {"sts:ExternalId": "elasticbeanstalk"}},
            managed_policy_arns=[
                managed("service-role/AWSElasticBeanstalkEnhancedHealth"),
                managed("AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"),
            ],
        )
        instance_role_name = resource_name(
            props.project, props.environment, "eb-instance", max_length=IAM_ROLE_NAME_MAX
        )
        self.instance_role = service_role(
            self,
            "instance-role",
            name=instance_role_name,
            service="ec2.amazonaws.com",
            # Web tier: log streaming to /aws/elasticbeanstalk/*, the health agent, bundle download.
            managed_policy_arns=[managed("AWSElasticBeanstalkWebTier")],
            inline_policy=_instance_statements(props, AwsProviders.of(self).region),
        )
        self.instance_profile = IamInstanceProfile(
            self, "instance-profile", name=instance_role_name, role=self.instance_role.name
        )

        self.application = ElasticBeanstalkApplication(
            self,
            "application",
            name=self.application_name,
            description=f"{props.project} {props.environment}: docker compose on Amazon Linux 2023",
            appversion_lifecycle=ElasticBeanstalkApplicationAppversionLifecycle(
                service_role=self.service_role.arn, max_count=MAX_APPLICATION_VERSIONS, delete_source_from_s3=False
            ),
        )

        ignored = []
        if props.version_label is None:
            ignored.append("version_label")
        # The stack an environment was created on is what it runs until managed updates (or an
        # operator) move it forward within the branch: neither a newer listing nor an older pin may
        # replan it (that would be an in-place platform update outside the maintenance window).
        ignored.append("solution_stack_name")
        platform = props.platform
        if platform is None:
            # CreateEnvironment accepts only currently listed stacks; a fixed name goes stale.
            platform = DataAwsElasticBeanstalkSolutionStack(
                self, "platform", most_recent=True, name_regex=DOCKER_AL2023_STACKS
            ).name
        self.environment = ElasticBeanstalkEnvironment(
            self,
            "environment",
            name=self.environment_name,
            application=self.application.name,
            description=f"{props.project} {props.environment} web tier",
            tier="WebServer",
            solution_stack_name=platform,
            version_label=props.version_label,
            setting=[
                ElasticBeanstalkEnvironmentSetting(namespace=namespace, name=name, value=value)
                for namespace, name, value in self._settings(props)
            ],
            lifecycle=TerraformResourceLifecycle(ignore_changes=ignored) if ignored else None,
            tags={"Name": self.environment_name},
        )
        self.cname = self.environment.cname
        self.endpoint_url = self.environment.endpoint_url
        self.load_balancer_arn = Fn.element(self.environment.load_balancers, 0)
        # CloudWatch's LoadBalancer dimension is the part of the ALB ARN after "loadbalancer/".
        self.load_balancer_arn_suffix = Fn.element(Fn.split(":loadbalancer/", self.load_balancer_arn), 1)

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """5xx of the environment's own load balancer (its target groups are Beanstalk's: the
        environment-health alarm covers them), and the environment's health when enhanced health
        reports it."""
        found = load_balancer_alarms(self.load_balancer_arn_suffix, self._props.alarms)
        if self._props.enhanced_health:
            found.append(
                Alarm(
                    construct_id="eb-health",
                    namespace="AWS/ElasticBeanstalk",
                    metric="EnvironmentHealth",
                    dimensions={"EnvironmentName": self.environment_name},
                    # 0 Ok, 1 Info, 5 Unknown, 10 No data, 15 Warning, 20 Degraded, 25 Severe.
                    threshold=20,
                    comparison=Comparison.AT_OR_ABOVE,
                    statistic=Statistic.MAXIMUM,
                    description="Beanstalk environment health is Degraded or Severe",
                )
            )
        return found

    def _settings(self, props: BeanstalkProps) -> list[tuple[str, str, str]]:
        """Every option setting as (namespace, option name, value)."""
        settings = [
            ("aws:ec2:vpc", "VPCId", props.vpc_id),
            ("aws:ec2:vpc", "Subnets", ",".join(props.private_subnet_ids)),
            ("aws:ec2:vpc", "ELBSubnets", ",".join(props.public_subnet_ids)),
            ("aws:ec2:vpc", "ELBScheme", "public"),
            ("aws:ec2:vpc", "AssociatePublicIpAddress", "false"),
            ("aws:ec2:instances", "InstanceTypes", ",".join(props.instance_types)),
            ("aws:autoscaling:launchconfiguration", "IamInstanceProfile", self.instance_profile.name),
            ("aws:autoscaling:launchconfiguration", "SecurityGroups", ",".join(props.security_group_ids)),
            ("aws:autoscaling:launchconfiguration", "DisableIMDSv1", "true"),
            ("aws:autoscaling:launchconfiguration", "RootVolumeType", "gp3"),
            ("aws:autoscaling:asg", "MinSize", str(props.min_instances)),
            ("aws:autoscaling:asg", "MaxSize", str(props.max_instances)),
            ("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced"),
            ("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
            ("aws:elasticbeanstalk:environment", "ServiceRole", self.service_role.arn),
            ("aws:elasticbeanstalk:environment:process:default", "Port", "80"),
            ("aws:elasticbeanstalk:environment:process:default", "Protocol", "HTTP"),
            ("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath", props.health_check_path),
            ("aws:elasticbeanstalk:environment:process:default", "MatcherHTTPCode", "200"),
            ("aws:elasticbeanstalk:command", "DeploymentPolicy", props.deployment_policy),
            ("aws:elasticbeanstalk:command", "BatchSizeType", props.batch_size_type),
            ("aws:elasticbeanstalk:command", "BatchSize", str(props.batch_size)),
            ("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateEnabled", "true"),
            (
                "aws:autoscaling:updatepolicy:rollingupdate",
                "RollingUpdateType",
                "Immutable" if props.deployment_policy == "Immutable" else "Health",
            ),
            (
                "aws:elasticbeanstalk:healthreporting:system",
                "SystemType",
                "enhanced" if props.enhanced_health else "basic",
            ),
            ("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs", "true"),
            ("aws:elasticbeanstalk:cloudwatch:logs", "DeleteOnTerminate", "false"),
            ("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays", str(props.log_retention_days)),
            ("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled", str(props.managed_updates).lower()),
        ]
        if props.enhanced_health:
            settings += [
                ("aws:elasticbeanstalk:healthreporting:system", "ConfigDocument", HEALTH_CONFIG_DOCUMENT),
                ("aws:elasticbeanstalk:cloudwatch:logs:health", "HealthStreamingEnabled", "true"),
                ("aws:elasticbeanstalk:cloudwatch:logs:health", "DeleteOnTerminate", "false"),
                ("aws:elasticbeanstalk:cloudwatch:logs:health", "RetentionInDays", str(props.log_retention_days)),
            ]
        if props.managed_updates:
            settings += [
                ("aws:elasticbeanstalk:managedactions", "PreferredStartTime", props.managed_update_window),
                ("aws:elasticbeanstalk:managedactions", "ServiceRoleForManagedUpdates", self.service_role.arn),
                ("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel", props.update_level),
                (
                    "aws:elasticbeanstalk:managedactions:platformupdate",
                    "InstanceRefreshEnabled",
                    str(props.instance_refresh).lower(),
                ),
            ]
        if props.certificate_arn is not None:
            # HTTPS only: Beanstalk's option settings cannot express an HTTP -> HTTPS redirect, and
            # serving the app on plain HTTP next to HTTPS would invite downgrade.
            settings += [
                ("aws:elbv2:listener:default", "ListenerEnabled", "false"),
                ("aws:elbv2:listener:443", "ListenerEnabled", "true"),
                ("aws:elbv2:listener:443", "Protocol", "HTTPS"),
                ("aws:elbv2:listener:443", "SSLCertificateArns", props.certificate_arn),
                ("aws:elbv2:listener:443", "SSLPolicy", TLS_POLICY),
            ]
        for name, value in sorted(_properties(props).items()):
            settings.append(("aws:elasticbeanstalk:application:environment", name, value))
        for name, secret in sorted(props.environment_secrets.items()):
            reference = secret.arn if secret.json_key is None else f"{secret.arn}:{secret.json_key}"
            settings.append(("aws:elasticbeanstalk:application:environmentsecrets", name, reference))
        return settings


def _properties(props: BeanstalkProps) -> dict[str, str]:
    """Plain environment properties: the connection settings plus the configured variables."""
    properties = dict(props.environment_variables)
    if props.database is not None:
        database = props.database
        properties |= {
            "RDS_ENDPOINT": database.endpoint,
            "RDS_PORT": str(database.port),
            "RDS_DB_NAME": database.db_name,
            "RDS_USERNAME": database.username,
            "USE_IAM_AUTH": str(database.iam_auth).lower(),
        }
        if database.secret_arn is not None:
            properties["RDS_SECRET_ARN"] = database.secret_arn
    if props.cache is not None:
        cache = props.cache
        properties |= {"REDIS_HOST": cache.host, "REDIS_PORT": str(cache.port), "REDIS_TLS": str(cache.tls).lower()}
        if cache.auth_secret_arn is not None:
            properties["REDIS_AUTH_SECRET_ARN"] = cache.auth_secret_arn
    return properties


def _instance_statements(props: BeanstalkProps, region: str) -> list[Statement]:
    """What the instances may do beyond the web tier: read exactly their secrets, connect to the
    database as their users, pull from their repositories."""
    secret_arns: list[str] = []
    parameter_arns: list[str] = []
    if props.database is not None and props.database.secret_arn is not None:
        secret_arns.append(props.database.secret_arn)
    if props.cache is not None and props.cache.auth_secret_arn is not None:
        secret_arns.append(props.cache.auth_secret_arn)
    for secret in props.environment_secrets.values():
        (parameter_arns if ":ssm:" in secret.arn else secret_arns).append(secret.arn)

    statements: list[Statement] = []
    if secret_arns:
        statements.append(allow(["secretsmanager:GetSecretValue"], _unique(secret_arns), Sid="ReadOwnSecrets"))
    if parameter_arns:
        statements.append(
            allow(["ssm:GetParameter", "ssm:GetParameters"], _unique(parameter_arns), Sid="ReadOwnParameters")
        )
    if props.secrets_kms_key_arns:
        statements.append(
            decrypt_via(_unique(props.secrets_kms_key_arns), ["secretsmanager", "ssm"], region, Sid="DecryptOwnSecrets")
        )
    if props.database is not None and props.database.connect_arns:
        statements.append(allow(["rds-db:connect"], _unique(props.database.connect_arns), Sid="IamDatabaseAuth"))
    if props.ecr_repository_arns:
        # GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
        statements.append(allow(["ecr:GetAuthorizationToken"], ["*"], Sid="EcrLogin"))
        statements.append(allow(list(ECR_PULL_ACTIONS), _unique(props.ecr_repository_arns), Sid="PullOwnImages"))
    return statements


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _validate(props: BeanstalkProps) -> None:
    """Fail before any resource exists, naming the field, the value and what is allowed."""
    if props.platform is not None and "running Docker" not in props.platform:
        raise ValueError(f"platform must be a Docker platform ('... running Docker'), got {props.platform!r}")
    for name in ("public_subnet_ids", "private_subnet_ids"):
        if len(getattr(props, name)) < 2:
            raise ValueError(f"{name} must span at least 2 availability zones, got {len(getattr(props, name))}")
    if not props.security_group_ids:
        raise ValueError("security_group_ids must name at least the app (or shared) security group")
    if not props.instance_types:
        raise ValueError("instance_types must list at least one instance type")
    if not 1 <= props.min_instances <= props.max_instances:
        raise ValueError(
            f"min_instances must be at least 1 and at most max_instances ({props.max_instances}), got {props.min_instances}"
        )
    high = 100 if props.batch_size_type == "Percentage" else props.max_instances
    if not 1 <= props.batch_size <= high:
        raise ValueError(f"batch_size must be between 1 and {high} for {props.batch_size_type}, got {props.batch_size}")
    if props.managed_updates and not props.enhanced_health:
        raise ValueError("managed_updates needs enhanced_health")
    reserved = (DATABASE_VARIABLES if props.database else ()) + (CACHE_VARIABLES if props.cache else ())
    for name in [*props.environment_variables, *props.environment_secrets]:
        if not _VARIABLE_NAME.match(name):
            raise ValueError(f"environment property {name!r} must be letters, digits and underscores")
        if name in reserved:
            raise ValueError(f"environment property {name!r} is set from the database/cache connection")
    for name in props.environment_variables:
        if _SECRET_LOOKING.search(name):
            raise ValueError(
                f"environment_variables[{name!r}] looks like a secret; pass it in environment_secrets as an ARN"
            )
        if name in props.environment_secrets:
            raise ValueError(f"environment property {name!r} is both plain and secret")
