"""Elastic Beanstalk compute: an application and one load-balanced environment running docker
compose (multi-container) on the Amazon Linux 2023 Docker platform, inside the platform's VPC."""

from __future__ import annotations

import json
from collections.abc import Mapping

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_elastic_beanstalk_hosted_zone import DataAwsElasticBeanstalkHostedZone
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

from config.beanstalk import DOCKER_PLATFORMS, BeanstalkConfig, image_variable
from config.naming import IAM_ROLE_NAME_MAX

from .block import Alarm, AlarmPolicy, Block, Comparison, Naming, Statistic
from .cache import Cache
from .database import Database
from .domain import AliasTarget
from .iam import Statement, allow, decrypt_via, service_role
from .load_balancer import load_balancer_alarms
from .network import Network
from .provider import AwsProviders
from .repository import Repository
from .security_groups import SecurityGroups

ENVIRONMENT_NAME_MAX = 40  # Beanstalk environment names: 4-40 characters
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# How long unused application versions are kept; Beanstalk's quota is 1000 per region.
MAX_APPLICATION_VERSIONS = 200
# Enhanced health publishes the environment's health as a CloudWatch metric every 60 s, so an
# alarm can watch it (see alarms()).
HEALTH_CONFIG_DOCUMENT = json.dumps(
    {"CloudWatchMetrics": {"Environment": {"EnvironmentHealth": 60}}, "Version": 1}, sort_keys=True
)
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PROPERTIES = "aws:elasticbeanstalk:application:environment"
SECRET_PROPERTIES = "aws:elasticbeanstalk:application:environmentsecrets"

Setting = tuple[str, str, str]
"""One option setting: (namespace, option name, value)."""


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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: BeanstalkConfig,
        naming: Naming,
        network: Network,
        security_groups: SecurityGroups,
        repositories: Mapping[str, Repository],
        database: Database | None = None,
        cache: Cache | None = None,
        certificate_arn: str | None = None,
    ) -> None:
        """The load balancer goes in the network's public subnets, the instances in its private-app
        subnets with the app (or shared) security group, which the database and cache accept.
        ``repositories``: the compose images' repositories by name; the instances may pull from exactly
        these, and find each one's URL in ``IMAGE_<NAME>``. ``database`` and ``cache``: passed as the
        RDS_* and REDIS_* properties, their secrets readable by the instances. ``certificate_arn``
        (stack region): HTTPS on 443 only; unset: HTTP on 80."""
        super().__init__(scope, construct_id)
        self._settings = settings
        self._naming = naming
        self._network = network
        self._security_groups = security_groups
        self._repositories = repositories
        self._database = database
        self._cache = cache
        self._certificate_arn = certificate_arn
        self.application_name = naming.name("eb", max_length=100)
        self.environment_name = naming.name("web", max_length=ENVIRONMENT_NAME_MAX)
        self._roles()
        self.application = ElasticBeanstalkApplication(
            self,
            "application",
            name=self.application_name,
            description=f"{naming.project} {naming.environment}: docker compose on Amazon Linux 2023",
            appversion_lifecycle=ElasticBeanstalkApplicationAppversionLifecycle(
                service_role=self.service_role.arn, max_count=MAX_APPLICATION_VERSIONS, delete_source_from_s3=False
            ),
        )
        self.environment = self._environment()
        self.cname = self.environment.cname
        self.endpoint_url = self.environment.endpoint_url
        self.load_balancer_arn = Fn.element(self.environment.load_balancers, 0)
        # CloudWatch's LoadBalancer dimension is the part of the ALB ARN after "loadbalancer/".
        self.load_balancer_arn_suffix = Fn.element(Fn.split(":loadbalancer/", self.load_balancer_arn), 1)

    def alias_target(self) -> AliasTarget:
        """Where an alias record to the environment points: its CNAME, in Elastic Beanstalk's hosted zone
        of the region (Route 53 resolves it to the environment's load balancer)."""
        zone = DataAwsElasticBeanstalkHostedZone(self, "hosted-zone")
        return AliasTarget(dns_name=self.cname, zone_id=zone.id, evaluate_target_health=True)

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """5xx of the environment's own load balancer (its target groups are Beanstalk's: the
        environment-health alarm covers them), and the environment's health when enhanced health
        reports it."""
        found = load_balancer_alarms(self.load_balancer_arn_suffix, self._settings.alarms)
        if self._settings.enhanced_health:
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

    def _roles(self) -> None:
        """The service role (enhanced health, managed updates) and the instances' role and profile."""
        partition = DataAwsPartition(self, "partition").partition

        def managed(policy: str) -> str:
            return f"arn:{partition}:iam::aws:policy/{policy}"

        self.service_role = service_role(
            self,
            "service-role",
            name=self._naming.name("eb-service", max_length=IAM_ROLE_NAME_MAX),
            service="elasticbeanstalk.amazonaws.com",
            condition={"StringEquals": {"sts:ExternalId": "elasticbeanstalk"}},
            managed_policy_arns=[
                managed("service-role/AWSElasticBeanstalkEnhancedHealth"),
                managed("AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"),
            ],
        )
        instance_role_name = self._naming.name("eb-instance", max_length=IAM_ROLE_NAME_MAX)
        self.instance_role = service_role(
            self,
            "instance-role",
            name=instance_role_name,
            service="ec2.amazonaws.com",
            # Web tier: log streaming to /aws/elasticbeanstalk/*, the health agent, bundle download.
            managed_policy_arns=[managed("AWSElasticBeanstalkWebTier")],
            inline_policy=self._instance_statements(AwsProviders.of(self).region),
        )
        self.instance_profile = IamInstanceProfile(
            self, "instance-profile", name=instance_role_name, role=self.instance_role.name
        )

    def _environment(self) -> ElasticBeanstalkEnvironment:
        """The web-tier environment on the pinned platform, else on the newest Docker stack listed at plan time."""
        platform = self._settings.platform
        if platform is None:
            # CreateEnvironment accepts only currently listed stacks; a fixed name goes stale.
            platform = DataAwsElasticBeanstalkSolutionStack(
                self, "platform", most_recent=True, name_regex=DOCKER_PLATFORMS
            ).name
        return ElasticBeanstalkEnvironment(
            self,
            "environment",
            name=self.environment_name,
            application=self.application.name,
            description=f"{self._naming.project} {self._naming.environment} web tier",
            tier="WebServer",
            solution_stack_name=platform,
            setting=[
                ElasticBeanstalkEnvironmentSetting(namespace=namespace, name=name, value=value)
                for namespace, name, value in self._option_settings()
            ],
            # The pipeline deploys application versions (eb deploy / update-environment; a new
            # environment starts with Beanstalk's sample application). The stack an environment was
            # created on is what it runs until managed updates (or an operator) move it forward within
            # the branch: neither a newer listing nor an older pin may replan it (that would be an
            # in-place platform update outside the maintenance window).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["version_label", "solution_stack_name"]),
            tags={"Name": self.environment_name},
        )

    def _option_settings(self) -> list[Setting]:
        """Every option setting of the environment."""
        return [
            *self._placement_settings(),
            *self._deployment_settings(),
            *self._health_and_update_settings(),
            *self._listener_settings(),
            *self._property_settings(),
        ]

    def _placement_settings(self) -> list[Setting]:
        """Where the load balancer and the instances run, and as whom."""
        settings = self._settings
        return [
            ("aws:ec2:vpc", "VPCId", self._network.vpc_id),
            ("aws:ec2:vpc", "Subnets", ",".join(self._network.private_app_subnet_ids)),
            ("aws:ec2:vpc", "ELBSubnets", ",".join(self._network.public_subnet_ids)),
            ("aws:ec2:vpc", "ELBScheme", "public"),
            ("aws:ec2:vpc", "AssociatePublicIpAddress", "false"),
            ("aws:ec2:instances", "InstanceTypes", ",".join(settings.instance_types)),
            ("aws:autoscaling:launchconfiguration", "IamInstanceProfile", self.instance_profile.name),
            # The app group (tiered) or the one shared group: the database and cache groups accept it.
            # Beanstalk adds its own group for load balancer -> instance traffic.
            ("aws:autoscaling:launchconfiguration", "SecurityGroups", self._security_groups.app_sg_id),
            ("aws:autoscaling:launchconfiguration", "DisableIMDSv1", "true"),
            ("aws:autoscaling:launchconfiguration", "RootVolumeType", "gp3"),
            ("aws:autoscaling:asg", "MinSize", str(settings.min_instances)),
            ("aws:autoscaling:asg", "MaxSize", str(settings.max_instances)),
            ("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced"),
            ("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
            ("aws:elasticbeanstalk:environment", "ServiceRole", self.service_role.arn),
        ]

    def _deployment_settings(self) -> list[Setting]:
        """The health-checked process and how versions and configuration changes roll out."""
        settings = self._settings
        process = "aws:elasticbeanstalk:environment:process:default"
        return [
            (process, "Port", "80"),
            (process, "Protocol", "HTTP"),
            (process, "HealthCheckPath", settings.health_check_path),
            (process, "MatcherHTTPCode", "200"),
            ("aws:elasticbeanstalk:command", "DeploymentPolicy", settings.deployment_policy),
            ("aws:elasticbeanstalk:command", "BatchSizeType", settings.batch_size_type),
            ("aws:elasticbeanstalk:command", "BatchSize", str(settings.batch_size)),
            ("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateEnabled", "true"),
            (
                "aws:autoscaling:updatepolicy:rollingupdate",
                "RollingUpdateType",
                "Immutable" if settings.deployment_policy == "Immutable" else "Health",
            ),
        ]

    def _health_and_update_settings(self) -> list[Setting]:
        """Health reporting, log streaming (kept after the environment is gone) and managed updates."""
        settings = self._settings
        updates = settings.managed_updates
        retention = str(settings.log_retention_days)
        found: list[Setting] = [
            (
                "aws:elasticbeanstalk:healthreporting:system",
                "SystemType",
                "enhanced" if settings.enhanced_health else "basic",
            ),
            ("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs", "true"),
            ("aws:elasticbeanstalk:cloudwatch:logs", "DeleteOnTerminate", "false"),
            ("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays", retention),
            ("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled", str(updates.enabled).lower()),
        ]
        if settings.enhanced_health:
            found += [
                ("aws:elasticbeanstalk:healthreporting:system", "ConfigDocument", HEALTH_CONFIG_DOCUMENT),
                ("aws:elasticbeanstalk:cloudwatch:logs:health", "HealthStreamingEnabled", "true"),
                ("aws:elasticbeanstalk:cloudwatch:logs:health", "DeleteOnTerminate", "false"),
                ("aws:elasticbeanstalk:cloudwatch:logs:health", "RetentionInDays", retention),
            ]
        if updates.enabled:
            found += [
                ("aws:elasticbeanstalk:managedactions", "PreferredStartTime", updates.window_start),
                ("aws:elasticbeanstalk:managedactions", "ServiceRoleForManagedUpdates", self.service_role.arn),
                ("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel", updates.update_level),
                (
                    "aws:elasticbeanstalk:managedactions:platformupdate",
                    "InstanceRefreshEnabled",
                    str(updates.instance_refresh).lower(),
                ),
            ]
        return found

    def _listener_settings(self) -> list[Setting]:
        """With a certificate, HTTPS only: Beanstalk's option settings cannot express an HTTP -> HTTPS
        redirect, and serving the app on plain HTTP next to HTTPS would invite downgrade."""
        if self._certificate_arn is None:
            return []
        return [
            ("aws:elbv2:listener:default", "ListenerEnabled", "false"),
            ("aws:elbv2:listener:443", "ListenerEnabled", "true"),
            ("aws:elbv2:listener:443", "Protocol", "HTTPS"),
            ("aws:elbv2:listener:443", "SSLCertificateArns", self._certificate_arn),
            ("aws:elbv2:listener:443", "SSLPolicy", TLS_POLICY),
        ]

    def _property_settings(self) -> list[Setting]:
        """Plain properties, then the ones Beanstalk fills from Secrets Manager or Parameter Store
        when an instance starts (its configuration only ever holds their ARNs)."""
        plain = [(PROPERTIES, name, value) for name, value in sorted(self._properties().items())]
        secret = [(SECRET_PROPERTIES, name, reference) for name, reference in sorted(self._settings.secrets.items())]
        return plain + secret

    def _database_user(self, database: Database) -> str:
        """IAM auth: the configured user (GRANT rds_iam); password auth: the master user."""
        return self._settings.database_user if database.iam_auth else database.master_username

    def _properties(self) -> dict[str, str]:
        """Plain environment properties: the configured ones, each image repository's URL (docker-compose.yml
        names its images ${IMAGE_<NAME>}:${IMAGE_TAG}) and where the database and cache are (seed 003)."""
        properties = dict(self._settings.environment)
        properties |= {image_variable(name): repository.url for name, repository in self._repositories.items()}
        database, cache = self._database, self._cache
        if database is not None:
            properties |= {
                "RDS_ENDPOINT": database.connect_address,
                "RDS_PORT": str(database.port),
                "RDS_DB_NAME": database.db_name,
                "RDS_USERNAME": self._database_user(database),
                "USE_IAM_AUTH": str(database.iam_auth).lower(),
            }
            if not database.iam_auth:
                properties["RDS_SECRET_ARN"] = database.master_secret_arn
        if cache is not None:
            # The cache always requires TLS in transit.
            properties |= {
                "REDIS_HOST": cache.primary_endpoint_address,
                "REDIS_PORT": str(cache.port),
                "REDIS_TLS": "true",
            }
            if cache.auth_token_secret_arn is not None:
                properties["REDIS_AUTH_SECRET_ARN"] = cache.auth_token_secret_arn
        return properties

    def _instance_statements(self, region: str) -> list[Statement]:
        """What the instances may do beyond the web tier: read exactly their secrets, connect to the
        database as their user, pull from their repositories."""
        database, cache = self._database, self._cache
        secret_arns: list[str] = []
        parameter_arns: list[str] = []
        # The customer-managed keys of those secrets (AWS-managed ones need no grant).
        kms_keys: list[str] = []
        if database is not None and not database.iam_auth:
            secret_arns.append(database.master_secret_arn)
            if database.master_secret_kms_key_arn:
                kms_keys.append(database.master_secret_kms_key_arn)
        if cache is not None and cache.auth_token_secret_arn is not None:
            secret_arns.append(cache.auth_token_secret_arn)
        if cache is not None and cache.auth_token_kms_key_arn:
            kms_keys.append(cache.auth_token_kms_key_arn)
        for arn, _ in self._settings.secret_references().values():
            (parameter_arns if ":ssm:" in arn else secret_arns).append(arn)

        statements: list[Statement] = []
        if secret_arns:
            statements.append(allow(["secretsmanager:GetSecretValue"], _unique(secret_arns), Sid="ReadOwnSecrets"))
        if parameter_arns:
            statements.append(
                allow(["ssm:GetParameter", "ssm:GetParameters"], _unique(parameter_arns), Sid="ReadOwnParameters")
            )
        if kms_keys:
            statements.append(
                decrypt_via(_unique(kms_keys), ["secretsmanager", "ssm"], region, Sid="DecryptOwnSecrets")
            )
        if database is not None and database.iam_auth:
            connect = database.connect_arn(self._database_user(database))
            statements.append(allow(["rds-db:connect"], [connect], Sid="IamDatabaseAuth"))
        if self._repositories:
            # GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
            statements.append(allow(["ecr:GetAuthorizationToken"], ["*"], Sid="EcrLogin"))
            arns = [repository.arn for repository in self._repositories.values()]
            statements.append(allow(list(ECR_PULL_ACTIONS), _unique(arns), Sid="PullOwnImages"))
        return statements


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
