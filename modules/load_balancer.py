"""Application Load Balancer: listeners, one target group and one listener rule per service, and
the access-log bucket."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHostHeader,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from constructs import Construct

from config.load_balancer import HTTP_PORT, HTTPS_PORT, AlbConfig, LoadBalancerAlarmsConfig
from config.naming import ALB_NAME_MAX, TARGET_GROUP_NAME_MAX
from config.regions import partition
from config.service import ServiceConfig

from .block import Alarm, AlarmPolicy, Block, Naming, Signal, Statistic
from .bucket import LOG_NONCURRENT_VERSION_DAYS, private_bucket, tls_only_policy
from .domain import AliasTarget
from .iam import allow
from .network import Network
from .security_groups import SecurityGroups

TARGET_TYPE = "ip"  # Fargate tasks (awsvpc networking) register by IP
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ACCESS_LOG_PREFIX = "alb"
LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
NOT_FOUND_BODY = '{"message":"no route for this path"}'

# The AWS account Elastic Load Balancing writes access logs from, for regions launched before
# August 2022. Regions launched later (and any region missing here) use LOG_DELIVERY_SERVICE.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}


def log_delivery_principal(region: str) -> dict[str, str]:
    """Who writes ALB access logs in ``region``: the regional ELB account or the service principal."""
    account = ELB_LOG_ACCOUNTS.get(region)
    if account is None:
        return {"Service": LOG_DELIVERY_SERVICE}
    return {"AWS": f"arn:{partition(region)}:iam::{account}:root"}


def target_group_name(naming: Naming, service: str, *, port: int, protocol: str) -> str:
    """Target-group name, at most 32 characters, that changes whenever port, protocol or target type do.

    AWS cannot change those on an existing target group, and cannot replace one while a listener
    rule uses it (ResourceInUse); a new name lets create-before-destroy make the new group first.
    """
    identity = hashlib.sha256(f"{port}/{protocol}/{TARGET_TYPE}".encode()).hexdigest()[:4]
    return naming.name(f"{service}-{identity}", max_length=TARGET_GROUP_NAME_MAX)


def load_balancer_alarms(arn_suffix: str, settings: LoadBalancerAlarmsConfig) -> list[Alarm]:
    """5xx from the targets and from the load balancer itself (no healthy target, timeouts)."""
    return [
        Alarm(
            construct_id=construct_id,
            namespace="AWS/ApplicationELB",
            metric=metric,
            dimensions={"LoadBalancer": arn_suffix},
            threshold=threshold,
            statistic=Statistic.SUM,
            signal=Signal.SPARSE,
            description=f"More than {threshold} {what} per period",
        )
        for construct_id, metric, threshold, what in (
            ("alb-target-5xx", "HTTPCode_Target_5XX_Count", settings.target_5xx_count, "5xx from the targets"),
            ("alb-elb-5xx", "HTTPCode_ELB_5XX_Count", settings.elb_5xx_count, "5xx from the load balancer itself"),
        )
    ]


@dataclass(frozen=True)
class ServiceTarget:
    """What a service's ECS service attaches to: its target group, and the listener rule it must
    depend on (a service created before its rule fails: the target group has no load balancer)."""

    target_group: LbTargetGroup
    listener_rule: LbListenerRule


class LoadBalancer(Block):
    """ALB with a fixed 404 JSON default response, path/host rules per service, and access logs.

    Internet-facing in the public subnets, or internal in the private-app subnets. With a certificate,
    HTTPS on 443 serves the rules (TLS 1.3 and 1.2 only) and HTTP on 80 redirects to it; without one,
    HTTP on 80 serves them. Access logs go to a versioned, private, TLS-only bucket it creates."""

    stateful_types = frozenset({"aws_s3_bucket"})

    alb: Lb
    dns_name: str
    zone_id: str
    arn_suffix: str
    http_listener: LbListener
    https_listener: LbListener | None
    listener: LbListener
    services: dict[str, ServiceTarget]
    access_logs_bucket: S3Bucket | None

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: AlbConfig,
        naming: Naming,
        network: Network,
        security_groups: SecurityGroups,
        services: Mapping[str, ServiceConfig],
        priorities: Mapping[str, int],
        moved_first: Mapping[str, Sequence[str]] | None = None,
        certificate_arn: str | None = None,
    ) -> None:
        """``services``: the web services by name, each one target group and listener rule (the name
        keys their construct IDs, so reordering never churns resources). ``priorities``: each one's
        listener-rule priority (config/routing.py allocates them); ``moved_first``: per service, the
        services whose rules must leave its number before its rule takes it (``routing.moves_first``).
        ``certificate_arn``: the certificate ``[domain]`` issues, served like ``settings.certificate_arn``
        (the load refuses both at once)."""
        super().__init__(scope, construct_id)
        alb_sg_id = self._checked(security_groups, services)
        self._settings = settings
        self._certificate_arn = certificate_arn or settings.certificate_arn
        self._naming = naming
        self._vpc_id = network.vpc_id
        self.alb = self._alb(network, alb_sg_id)
        self.dns_name = self.alb.dns_name
        self.zone_id = self.alb.zone_id
        self.arn_suffix = self.alb.arn_suffix
        self._listeners()
        self.services = {
            name: self._route(name, service, priorities[name]) for name, service in sorted(services.items())
        }
        self._order_rules(moved_first or {})

    @staticmethod
    def _checked(security_groups: SecurityGroups, services: Mapping[str, ServiceConfig]) -> str:
        """Refuses security groups without an ALB group and services that are not web; the ALB group's ID."""
        if security_groups.alb_sg_id is None:
            raise ValueError("security_groups has no ALB group: build it with the load balancer's settings")
        unrouted = sorted(name for name, service in services.items() if service.kind != "web")
        if unrouted:
            raise ValueError(f"only web services are routed by the load balancer, not {', '.join(unrouted)}")
        return security_groups.alb_sg_id

    def _alb(self, network: Network, security_group_id: str) -> Lb:
        """Adds the ALB in its subnets, after its access-log bucket and that bucket's policy when logs are on."""
        settings = self._settings
        name = self._naming.name("alb", max_length=ALB_NAME_MAX)
        access_logs, depends_on = self._access_logs()
        return Lb(
            self,
            "alb",
            name=name,
            load_balancer_type="application",
            internal=settings.internal,
            subnets=list(network.private_app_subnet_ids if settings.internal else network.public_subnet_ids),
            security_groups=[security_group_id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=settings.deletion_protection,
            idle_timeout=settings.idle_timeout_seconds,
            access_logs=access_logs,
            depends_on=depends_on,
            tags={"Name": name},
        )

    def _order_rules(self, moved_first: Mapping[str, Sequence[str]]) -> None:
        """Makes each service's rule depend on the rules that must leave its priority before it takes it."""
        for name, others in moved_first.items():
            if others:
                rules = [self.services[other].listener_rule for other in others]
                self.services[name].listener_rule.depends_on = [
                    f"{rule.terraform_resource_type}.{rule.friendly_unique_id}" for rule in rules
                ]

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        return load_balancer_alarms(self.arn_suffix, self._settings.alarms)

    def alias_target(self) -> AliasTarget:
        """Where an alias record to the ALB points; Route 53 answers while it has a healthy target."""
        return AliasTarget(dns_name=self.dns_name, zone_id=self.zone_id, evaluate_target_health=True)

    def _access_logs(self) -> tuple[LbAccessLogs | None, list[ITerraformDependable] | None]:
        """The ALB's access-log setting and what the ALB must wait for; no bucket when logs are off."""
        self.access_logs_bucket = None
        if not self._settings.access_logs.enabled:
            return None, None
        bucket, policy = self._log_bucket(self._settings.access_logs.expiry_days)
        self.access_logs_bucket = bucket
        # ELB checks it can write to the bucket when logging is turned on: without the policy in place
        # first, creating the ALB fails with Access Denied (aws-cdk #5758).
        return LbAccessLogs(bucket=bucket.id, prefix=ACCESS_LOG_PREFIX, enabled=True), [policy]

    def _listeners(self) -> None:
        """HTTPS serving the rules and HTTP redirecting to it with a certificate; else HTTP serving them."""
        not_found = LbListenerDefaultAction(
            type="fixed-response",
            fixed_response=LbListenerDefaultActionFixedResponse(
                content_type="application/json", message_body=NOT_FOUND_BODY, status_code="404"
            ),
        )
        certificate_arn = self._certificate_arn
        self.https_listener = None
        http_action = not_found
        if certificate_arn:
            self.https_listener = LbListener(
                self,
                "https",
                load_balancer_arn=self.alb.arn,
                port=HTTPS_PORT,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=certificate_arn,
                default_action=[not_found],
            )
            http_action = LbListenerDefaultAction(
                type="redirect",
                redirect=LbListenerDefaultActionRedirect(
                    protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"
                ),
            )
        self.http_listener = LbListener(
            self, "http", load_balancer_arn=self.alb.arn, port=HTTP_PORT, protocol="HTTP", default_action=[http_action]
        )
        self.listener = self.https_listener or self.http_listener

    def _route(self, service: str, settings: ServiceConfig, priority: int) -> ServiceTarget:
        """The service's target group, and the listener rule forwarding its paths and hosts to it."""
        group = self._target_group(service, settings)
        conditions = []
        if settings.path_patterns:
            conditions.append(
                LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=settings.path_patterns))
            )
        if settings.host_headers:
            conditions.append(
                LbListenerRuleCondition(host_header=LbListenerRuleConditionHostHeader(values=settings.host_headers))
            )
        rule = LbListenerRule(
            self,
            f"rule-{service}",
            listener_arn=self.listener.arn,
            priority=priority,
            action=[LbListenerRuleAction(type="forward", target_group_arn=group.arn)],
            condition=conditions,
            tags={"Name": f"{self._naming.prefix}-{service}", "service": service},
        )
        return ServiceTarget(target_group=group, listener_rule=rule)

    def _target_group(self, service: str, settings: ServiceConfig) -> LbTargetGroup:
        port, protocol, health = settings.container_port, settings.protocol, settings.target_health_check
        assert port is not None  # config/service.py: a web service has a container_port
        name = target_group_name(self._naming, service, port=port, protocol=protocol)
        return LbTargetGroup(
            self,
            f"tg-{service}",
            name=name,
            port=port,
            protocol=protocol,
            target_type=TARGET_TYPE,
            vpc_id=self._vpc_id,
            deregistration_delay=str(settings.deregistration_delay_seconds),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                protocol=protocol,
                port="traffic-port",
                path=health.path,
                matcher=health.matcher,
                interval=health.interval_seconds,
                timeout=health.timeout_seconds,
                healthy_threshold=health.healthy_threshold,
                unhealthy_threshold=health.unhealthy_threshold,
            ),
            # The name changes with port/protocol (see target_group_name), so the replacement can
            # exist next to the old group while the listener rule switches over.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            tags={"Name": name, "service": service},
        )

    def _log_bucket(self, expiry_days: int) -> tuple[S3Bucket, S3BucketPolicy]:
        # ALB access logs support only S3-managed keys (SSE-S3), not KMS.
        bucket = private_bucket(
            self,
            "logs",
            project=self._naming.project,
            environment=self._naming.environment,
            role="alb-logs",
            lifecycle_rule_id="expire-access-logs",
            expiry_days=expiry_days,
            noncurrent_version_expiry_days=LOG_NONCURRENT_VERSION_DAYS,
        ).bucket
        account = DataAwsCallerIdentity(self, "account")
        write = allow(
            ["s3:PutObject"],
            [f"{bucket.arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account.account_id}/*"],
            Sid="ElbAccessLogDelivery",
            Principal=log_delivery_principal(self._naming.region),
        )
        return bucket, tls_only_policy(self, "logs-policy", bucket, [write])
