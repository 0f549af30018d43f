"""Application Load Balancer: listeners, one target group and one listener rule per service, and
the access-log bucket."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

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

from config.alarms import LoadBalancerAlarmsConfig
from config.naming import ALB_NAME_MAX, TARGET_GROUP_NAME_MAX, resource_name

from .block import Alarm, AlarmPolicy, Block, Signal, Statistic
from .bucket import LOG_NONCURRENT_VERSION_DAYS, private_bucket, tls_only_policy
from .iam import allow

TargetProtocol = Literal["HTTP", "HTTPS"]
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


def partition(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def log_delivery_principal(region: str) -> dict[str, str]:
    """Who writes ALB access logs in ``region``: the regional ELB account or the service principal."""
    account = ELB_LOG_ACCOUNTS.get(region)
    if account is None:
        return {"Service": LOG_DELIVERY_SERVICE}
    return {"AWS": f"arn:{partition(region)}:iam::{account}:root"}


def target_group_name(project: str, environment: str, service: str, *, port: int, protocol: str) -> str:
    """Target-group name, at most 32 characters, that changes whenever port, protocol or target type do.

    AWS cannot change those on an existing target group, and cannot replace one while a listener
    rule uses it (ResourceInUse); a new name lets create-before-destroy make the new group first.
    """
    identity = hashlib.sha256(f"{port}/{protocol}/{TARGET_TYPE}".encode()).hexdigest()[:4]
    return resource_name(project, environment, f"{service}-{identity}", max_length=TARGET_GROUP_NAME_MAX)


@dataclass(frozen=True, kw_only=True)
class TargetProps:
    """One service behind the ALB: its target group and listener rule."""

    port: int
    """Container port traffic and health checks go to."""
    protocol: TargetProtocol = "HTTP"
    """ALB -> container protocol; HTTP means TLS ends at the ALB."""
    priority: int
    """Listener-rule priority (allocated by config/routing.py)."""
    path_patterns: list[str] = field(default_factory=list)
    """Path-pattern condition values; no path condition when empty."""
    host_headers: list[str] = field(default_factory=list)
    """Host-header condition values; any host when empty."""
    health_check_path: str = "/"
    """Path the health check requests."""
    health_check_matcher: str = "200"
    """HTTP codes that count as healthy."""
    health_check_interval_seconds: int = 15
    """Seconds between health checks."""
    health_check_timeout_seconds: int = 5
    """Seconds without an answer that count as a failed check."""
    healthy_threshold: int = 3
    """Consecutive successes before a target receives traffic."""
    unhealthy_threshold: int = 3
    """Consecutive failures before a target stops receiving traffic."""
    deregistration_delay_seconds: int = 30
    """Seconds a deregistering target keeps serving in-flight requests."""


@dataclass(frozen=True, kw_only=True)
class LoadBalancerProps:
    """The ALB and everything routed through it."""

    project: str
    """Project slug, for names."""
    environment: str
    """Environment slug, for names."""
    region: str
    """Region of the stack: selects the access-log delivery principal."""
    vpc_id: str
    """VPC of the target groups."""
    subnet_ids: list[str]
    """Subnets of the ALB, at least two AZs: the public ones, or private ones when internal."""
    security_group_id: str
    """The ALB's security group."""
    targets: Mapping[str, TargetProps] = field(default_factory=dict)
    """Services by name; the name keys construct IDs, so reordering never churns resources."""
    internal: bool = False
    """false: internet-facing; true: reachable only from inside the VPC (and peered networks)."""
    idle_timeout_seconds: int = 60
    """Seconds an idle connection stays open, 1-4000."""
    deletion_protection: bool = True
    """The ALB cannot be deleted (not even by Terraform) until this is turned off."""
    certificate_arn: str | None = None
    """ACM certificate: HTTPS on 443 serves the rules and HTTP on 80 redirects to it (301). Unset:
    HTTP on 80 serves the rules."""
    ssl_policy: str = TLS_POLICY
    """TLS policy of the HTTPS listener: TLS 1.3 and 1.2 only."""
    access_logs_enabled: bool = True
    """Access logs to an S3 bucket this construct creates (versioned, private, TLS-only; SSE-S3, the
    only encryption ALB access logs support)."""
    access_logs_expiry_days: int = 365
    """Days before S3 deletes an access-log object."""
    alarms: LoadBalancerAlarmsConfig = field(default_factory=LoadBalancerAlarmsConfig)
    """When the 5xx alarms fire."""


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
    """ALB with a fixed 404 JSON default response, path/host rules per service, and access logs."""

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

    def __init__(self, scope: Construct, construct_id: str, *, props: LoadBalancerProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        self._alarm_settings = props.alarms
        name = resource_name(props.project, props.environment, "alb", max_length=ALB_NAME_MAX)

        self.access_logs_bucket = None
        access_logs = None
        depends_on: list[ITerraformDependable] = []
        if props.access_logs_enabled:
            bucket, policy = self._log_bucket(props)
            self.access_logs_bucket = bucket
            access_logs = LbAccessLogs(bucket=bucket.id, prefix=ACCESS_LOG_PREFIX, enabled=True)
            # ELB checks it can write to the bucket when logging is turned on: without the policy
            # in place first, creating the ALB fails with Access Denied (aws-cdk #5758).
            depends_on = [policy]

        self.alb = Lb(
            self,
            "alb",
            name=name,
            load_balancer_type="application",
            internal=props.internal,
            subnets=list(props.subnet_ids),
            security_groups=[props.security_group_id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=props.deletion_protection,
            idle_timeout=props.idle_timeout_seconds,
            access_logs=access_logs,
            depends_on=depends_on or None,
            tags={"Name": name},
        )
        self.dns_name = self.alb.dns_name
        self.zone_id = self.alb.zone_id
        self.arn_suffix = self.alb.arn_suffix

        not_found = LbListenerDefaultAction(
            type="fixed-response",
            fixed_response=LbListenerDefaultActionFixedResponse(
                content_type="application/json", message_body=NOT_FOUND_BODY, status_code="404"
            ),
        )
        self.https_listener = None
        if props.certificate_arn:
            self.https_listener = LbListener(
                self,
                "https",
                load_balancer_arn=self.alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=props.ssl_policy,
                certificate_arn=props.certificate_arn,
                default_action=[not_found],
            )
            redirect = LbListenerDefaultAction(
                type="redirect",
                redirect=LbListenerDefaultActionRedirect(protocol="HTTPS", port="443", status_code="HTTP_301"),
            )
            self.http_listener = LbListener(
                self, "http", load_balancer_arn=self.alb.arn, port=80, protocol="HTTP", default_action=[redirect]
            )
        else:
            self.http_listener = LbListener(
                self, "http", load_balancer_arn=self.alb.arn, port=80, protocol="HTTP", default_action=[not_found]
            )
        self.listener = self.https_listener or self.http_listener

        self.services = {
            service: self._route(props, service, target) for service, target in sorted(props.targets.items())
        }

    def _route(self, props: LoadBalancerProps, service: str, target: TargetProps) -> ServiceTarget:
        name = target_group_name(props.project, props.environment, service, port=target.port, protocol=target.protocol)
        group = LbTargetGroup(
            self,
            f"tg-{service}",
            name=name,
            port=target.port,
            protocol=target.protocol,
            target_type=TARGET_TYPE,
            vpc_id=props.vpc_id,
            deregistration_delay=str(target.deregistration_delay_seconds),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                protocol=target.protocol,
                port="traffic-port",
                path=target.health_check_path,
                matcher=target.health_check_matcher,
                interval=target.health_check_interval_seconds,
                timeout=target.health_check_timeout_seconds,
                healthy_threshold=target.healthy_threshold,
                unhealthy_threshold=target.unhealthy_threshold,
            ),
            # The name changes with port/protocol (see target_group_name), so the replacement can
            # exist next to the old group while the listener rule switches over.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            tags={"Name": name, "service": service},
        )
        conditions = []
        if target.path_patterns:
            conditions.append(
                LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=target.path_patterns))
            )
        if target.host_headers:
            conditions.append(
                LbListenerRuleCondition(host_header=LbListenerRuleConditionHostHeader(values=target.host_headers))
            )
        rule = LbListenerRule(
            self,
            f"rule-{service}",
            listener_arn=self.listener.arn,
            priority=target.priority,
            action=[LbListenerRuleAction(type="forward", target_group_arn=group.arn)],
            condition=conditions,
            tags={"Name": f"{props.project}-{props.environment}-{service}", "service": service},
        )
        return ServiceTarget(target_group=group, listener_rule=rule)

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        return load_balancer_alarms(self.arn_suffix, self._alarm_settings)

    def _log_bucket(self, props: LoadBalancerProps) -> tuple[S3Bucket, S3BucketPolicy]:
        # ALB access logs support only S3-managed keys (SSE-S3), not KMS.
        bucket = private_bucket(
            self,
            "logs",
            project=props.project,
            environment=props.environment,
            role="alb-logs",
            lifecycle_rule_id="expire-access-logs",
            expiry_days=props.access_logs_expiry_days,
            noncurrent_version_expiry_days=LOG_NONCURRENT_VERSION_DAYS,
        ).bucket
        account = DataAwsCallerIdentity(self, "account")
        write = allow(
            ["s3:PutObject"],
            [f"{bucket.arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account.account_id}/*"],
            Sid="ElbAccessLogDelivery",
            Principal=log_delivery_principal(props.region),
        )
        return bucket, tls_only_policy(self, "logs-policy", bucket, [write])


def _validate(props: LoadBalancerProps) -> None:
    """Fail before any resource exists, naming the field, the value and what is allowed."""
    if not 1 <= props.idle_timeout_seconds <= 4000:
        raise ValueError(f"idle_timeout_seconds must be between 1 and 4000, got {props.idle_timeout_seconds}")
    if len(props.subnet_ids) < 2:
        raise ValueError(f"subnet_ids must span at least 2 availability zones, got {len(props.subnet_ids)}")
    if not 1 <= props.access_logs_expiry_days <= 3650:
        raise ValueError(f"access_logs_expiry_days must be between 1 and 3650, got {props.access_logs_expiry_days}")
    seen: dict[int, str] = {}
    for service, target in sorted(props.targets.items()):
        if not 1 <= target.priority <= 50_000:
            raise ValueError(f"targets[{service!r}].priority must be between 1 and 50000, got {target.priority}")
        if target.priority in seen:
            raise ValueError(
                f"targets[{service!r}].priority {target.priority} is also used by {seen[target.priority]!r}"
            )
        seen[target.priority] = service
        if not target.path_patterns and not target.host_headers:
            raise ValueError(f"targets[{service!r}] needs at least one path pattern or host header")
