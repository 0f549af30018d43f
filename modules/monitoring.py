"""CloudWatch alarms on the data and traffic tiers, all notifying one encrypted SNS topic."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from .iam import allow, policy_document
from .kms import account_administers_key

TreatMissingData = Literal["missing", "notBreaching", "breaching", "ignore"]
GIB = 1024**3
# How long targets must stay unhealthy before the unhealthy-host alarm fires (longer than a rolling
# deployment keeps a starting or draining target unhealthy).
UNHEALTHY_SUSTAINED_SECONDS = 300
MIB = 1024**2
# RDS for PostgreSQL's default: max_connections = LEAST({DBInstanceClassMemory/9531392}, 5000).
POSTGRES_BYTES_PER_CONNECTION = 9_531_392
POSTGRES_MAX_CONNECTIONS_CAP = 5000
# DBInstanceClassMemory is the class's memory minus what the OS and RDS processes keep: observed
# max_connections (db.t3.micro ~81, db.m5.large ~823) fit "memory minus max(10 %, 300 MiB)".
# An estimate that errs low makes the alarm fire early rather than never.
RESERVED_MEMORY_FRACTION = 0.10
RESERVED_MEMORY_MIN_MIB = 300
# Memory per RDS instance class, in GiB. Burstable classes by size; the others by family letter
# as GiB per vCPU (large = 2 vCPU, xlarge = 4, <n>xlarge = 4n).
BURSTABLE_MEMORY_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
BURSTABLE_FAMILIES = ("t3", "t4g")
GIB_PER_VCPU = {"m": 4, "r": 8, "x": 16}
KNOWN_FAMILIES = re.compile(
    r"^(m5|m5d|m6g|m6gd|m6i|m6id|m7g|m7gd|m7i|m8g|r5|r5b|r5d|r6g|r6gd|r6i|r6id|r7g|r7gd|r7i|r8g|x2g)$"
)
_CLASS = re.compile(r"^db\.(?P<family>[a-z0-9-]+)\.(?P<size>[a-z0-9]+)$")
# ElastiCache names a replication group's clusters <group id>-001, -002, ...
MEMBER_CLUSTER_FORMAT = "{group}-{index:03d}"
MAX_CACHE_NODES = 6  # primary + 5 replicas without cluster mode

# Why each alarm treats missing data as it does.
TREAT_MISSING: dict[str, tuple[TreatMissingData, str]] = {
    # Gauges reported every period while the resource runs: a gap (reboot, maintenance, a service
    # scaled to zero) is not evidence of load, so the alarm keeps its state.
    "gauge": ("missing", "always reported while the resource runs; a gap is not evidence of the condition"),
    # Counters CloudWatch publishes only when non-zero: no data means zero errors/evictions.
    "sparse": ("notBreaching", "published only when non-zero, so no data means none happened"),
    # Free storage vanishing means the instance stopped reporting while it should: worth a page.
    "storage": ("breaching", "a running instance always reports it; losing it hides a filling disk"),
}


@dataclass(frozen=True, kw_only=True)
class DatabaseAlarms:
    """Alarms on one RDS PostgreSQL instance."""

    instance_identifier: str
    """DBInstanceIdentifier dimension."""
    instance_class: str
    """Instance class, e.g. db.t4g.micro: sets the connections threshold."""
    cpu_percent: int = 80
    """CPUUtilization average above this fires."""
    free_storage_threshold_gib: float = 2.0
    """FreeStorageSpace below this fires."""
    connections_percent: int = 80
    """DatabaseConnections above this share of max_connections fires."""
    max_connections: int | None = None
    """max_connections of the instance; estimated from instance_class when unset (see max_connections())."""


@dataclass(frozen=True, kw_only=True)
class LoadBalancerAlarms:
    """Alarms on one Application Load Balancer and its target groups."""

    arn_suffix: str
    """LoadBalancer dimension (``app/<name>/<id>``)."""
    target_group_arn_suffixes: Mapping[str, str] = field(default_factory=dict)
    """TargetGroup dimension (``targetgroup/<name>/<id>``) by service name: one unhealthy-host alarm each."""
    target_5xx_count: int = 10
    """HTTPCode_Target_5XX_Count per period above this fires."""
    elb_5xx_count: int = 10
    """HTTPCode_ELB_5XX_Count (the load balancer's own 5xx: no healthy target, timeouts) above this fires."""
    unhealthy_hosts: int = 0
    """UnHealthyHostCount (maximum) of a target group above this fires."""


@dataclass(frozen=True, kw_only=True)
class ServiceAlarms:
    """Alarms on the ECS services of one cluster."""

    cluster_name: str
    """ClusterName dimension."""
    service_names: Mapping[str, str]
    """ServiceName dimension by service key (the key names the alarm's construct ID)."""
    cpu_percent: int = 85
    """CPUUtilization average above this fires."""
    memory_percent: int = 85
    """MemoryUtilization average above this fires."""


@dataclass(frozen=True, kw_only=True)
class CacheAlarms:
    """Alarms on every node of one ElastiCache replication group."""

    replication_group_id: str
    """Replication group id; its nodes are the clusters ``<id>-001``, ``<id>-002``, ..."""
    node_count: int
    """Nodes in the group (primary + replicas): one set of alarms per node."""
    cpu_percent: int = 80
    """EngineCPUUtilization average above this fires."""
    memory_percent: int = 80
    """DatabaseMemoryUsagePercentage average above this fires."""
    evictions: int = 100
    """Evictions per period above this fires."""


@dataclass(frozen=True, kw_only=True)
class BeanstalkAlarms:
    """Alarm on one Elastic Beanstalk environment's health (needs enhanced health publishing it)."""

    environment_name: str
    """EnvironmentName dimension."""


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    """The alarm topic and the alarms of every tier given; a tier left unset gets none."""

    name: str
    """Prefix of the topic and alarm names, e.g. ``netflux-prod``."""
    alarm_emails: list[str] = field(default_factory=list)
    """Email subscriptions of the topic (each address confirms once); none by default."""
    kms_key_arn: str | None = None
    """Key encrypting the topic; its policy must let cloudwatch.amazonaws.com use it. Unset: a key
    is created for it (the AWS-managed aws/sns key does not let CloudWatch alarms publish)."""
    period_seconds: int = 300
    """Length of one evaluated period, a multiple of 60."""
    evaluation_periods: int = 3
    """Consecutive breaching periods before an alarm fires."""
    database: DatabaseAlarms | None = None
    """RDS alarms; none when unset."""
    load_balancer: LoadBalancerAlarms | None = None
    """ALB alarms; none when unset."""
    services: ServiceAlarms | None = None
    """ECS service alarms; none when unset."""
    cache: CacheAlarms | None = None
    """ElastiCache alarms; none when unset."""
    beanstalk: BeanstalkAlarms | None = None
    """Elastic Beanstalk environment health alarm; none when unset."""


def instance_class_memory_gib(instance_class: str) -> int | None:
    """Memory of an RDS instance class in GiB, or None when the class is not in the table."""
    found = _CLASS.match(instance_class)
    if not found:
        return None
    family, size = found["family"], found["size"]
    if family in BURSTABLE_FAMILIES:
        return BURSTABLE_MEMORY_GIB.get(size)
    if not KNOWN_FAMILIES.match(family):
        return None
    if size == "large":
        vcpus = 2
    elif size == "xlarge":
        vcpus = 4
    elif size.endswith("xlarge") and size[: -len("xlarge")].isdigit():
        vcpus = 4 * int(size[: -len("xlarge")])
    else:
        return None
    return GIB_PER_VCPU[family[0]] * vcpus


def max_connections(instance_class: str) -> int:
    """PostgreSQL's default max_connections on ``instance_class`` (estimated, see RESERVED_MEMORY_*)."""
    memory_gib = instance_class_memory_gib(instance_class)
    if memory_gib is None:
        raise ValueError(
            f"instance class {instance_class!r} is not in the memory table (db.t3/t4g, and m/r/x families from "
            "m5/r5 on); set max_connections explicitly"
        )
    memory_mib = memory_gib * 1024
    usable_bytes = (memory_mib - max(memory_mib * RESERVED_MEMORY_FRACTION, RESERVED_MEMORY_MIN_MIB)) * MIB
    return min(int(usable_bytes // POSTGRES_BYTES_PER_CONNECTION), POSTGRES_MAX_CONNECTIONS_CAP)


def member_cluster_ids(replication_group_id: str, node_count: int) -> list[str]:
    """CacheClusterId of each node of a (non-cluster-mode) replication group."""
    return [MEMBER_CLUSTER_FORMAT.format(group=replication_group_id, index=i) for i in range(1, node_count + 1)]


class Monitoring(Construct):
    """SNS topic (KMS-encrypted, email subscriptions) and one alarm per metric and resource, each
    notifying the topic when it fires and when it recovers."""

    topic: SnsTopic
    topic_arn: str
    kms_key: KmsKey | None
    alarms: dict[str, CloudwatchMetricAlarm]

    def __init__(self, scope: Construct, construct_id: str, *, props: MonitoringProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        self._props = props
        self.alarms = {}

        self.kms_key = None
        key_id = props.kms_key_arn
        if key_id is None:
            self.kms_key = self._key()
            key_id = self.kms_key.arn
        self.topic = SnsTopic(self, "topic", name=f"{props.name}-alarms", kms_master_key_id=key_id)
        self.topic_arn = self.topic.arn
        for email in props.alarm_emails:
            SnsTopicSubscription(
                self, f"email-{email.lower()}", topic_arn=self.topic.arn, protocol="email", endpoint=email
            )

        if props.database is not None:
            self._database(props.database)
        if props.load_balancer is not None:
            self._load_balancer(props.load_balancer)
        if props.services is not None:
            self._services(props.services)
        if props.cache is not None:
            self._cache(props.cache)
        if props.beanstalk is not None:
            self._alarm(
                "eb-health",
                "AWS/ElasticBeanstalk",
                "EnvironmentHealth",
                {"EnvironmentName": props.beanstalk.environment_name},
                # 0 Ok, 1 Info, 5 Unknown, 10 No data, 15 Warning, 20 Degraded, 25 Severe.
                threshold=20,
                comparison="GreaterThanOrEqualToThreshold",
                statistic="Maximum",
                kind="gauge",
                description="Beanstalk environment health is Degraded or Severe",
            )

    def _key(self) -> KmsKey:
        partition = DataAwsPartition(self, "partition").partition
        account = DataAwsCallerIdentity(self, "account").account_id
        administer = account_administers_key(partition, account)
        alarms_publish = allow(
            ["kms:Decrypt", "kms:GenerateDataKey*"],
            ["*"],
            Sid="CloudWatchAlarmsPublish",
            Principal={"Service": "cloudwatch.amazonaws.com"},
        )
        key = KmsKey(
            self,
            "key",
            description=f"{self._props.name} alarm topic: lets CloudWatch alarms publish encrypted notifications",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy_document([administer, alarms_publish]),
        )
        KmsAlias(self, "key-alias", name=f"alias/{self._props.name}-alarms", target_key_id=key.key_id)
        return key

    def _database(self, alarms: DatabaseAlarms) -> None:
        dimensions = {"DBInstanceIdentifier": alarms.instance_identifier}
        self._alarm(
            "rds-cpu",
            "AWS/RDS",
            "CPUUtilization",
            dimensions,
            threshold=alarms.cpu_percent,
            description=f"RDS CPU above {alarms.cpu_percent} %",
        )
        self._alarm(
            "rds-free-storage",
            "AWS/RDS",
            "FreeStorageSpace",
            dimensions,
            threshold=alarms.free_storage_threshold_gib * GIB,
            comparison="LessThanThreshold",
            statistic="Minimum",
            kind="storage",
            description=f"RDS free storage below {alarms.free_storage_threshold_gib:g} GiB",
        )
        limit = alarms.max_connections or max_connections(alarms.instance_class)
        threshold = math.floor(limit * alarms.connections_percent / 100)
        self._alarm(
            "rds-connections",
            "AWS/RDS",
            "DatabaseConnections",
            dimensions,
            threshold=threshold,
            statistic="Maximum",
            description=f"RDS connections above {alarms.connections_percent} % of max_connections ({limit})",
        )

    def _load_balancer(self, alarms: LoadBalancerAlarms) -> None:
        dimensions = {"LoadBalancer": alarms.arn_suffix}
        for construct_id, metric, threshold, what in (
            ("alb-target-5xx", "HTTPCode_Target_5XX_Count", alarms.target_5xx_count, "5xx from the targets"),
            ("alb-elb-5xx", "HTTPCode_ELB_5XX_Count", alarms.elb_5xx_count, "5xx from the load balancer itself"),
        ):
            self._alarm(
                construct_id,
                "AWS/ApplicationELB",
                metric,
                dimensions,
                threshold=threshold,
                statistic="Sum",
                kind="sparse",
                description=f"More than {threshold} {what} per period",
            )
        # A rolling deployment briefly has targets failing health checks while they start or drain:
        # the fewest unhealthy targets seen in a period (Minimum), over a sustained stretch, fires
        # only when targets stay unhealthy, not on every deployment.
        evaluation = max(
            self._props.evaluation_periods, math.ceil(UNHEALTHY_SUSTAINED_SECONDS / self._props.period_seconds)
        )
        for service, suffix in sorted(alarms.target_group_arn_suffixes.items()):
            self._alarm(
                f"unhealthy-{service}",
                "AWS/ApplicationELB",
                "UnHealthyHostCount",
                {**dimensions, "TargetGroup": suffix},
                threshold=alarms.unhealthy_hosts,
                statistic="Minimum",
                evaluation_periods=evaluation,
                description=f"{service}: more than {alarms.unhealthy_hosts} unhealthy targets for "
                f"{evaluation * self._props.period_seconds // 60} minutes in a row",
            )

    def _services(self, alarms: ServiceAlarms) -> None:
        for service, service_name in sorted(alarms.service_names.items()):
            dimensions = {"ClusterName": alarms.cluster_name, "ServiceName": service_name}
            for metric, short, threshold in (
                ("CPUUtilization", "cpu", alarms.cpu_percent),
                ("MemoryUtilization", "memory", alarms.memory_percent),
            ):
                self._alarm(
                    f"ecs-{short}-{service}",
                    "AWS/ECS",
                    metric,
                    dimensions,
                    threshold=threshold,
                    description=f"{service}: {short} above {threshold} %",
                )

    def _cache(self, alarms: CacheAlarms) -> None:
        for index, member in enumerate(member_cluster_ids(alarms.replication_group_id, alarms.node_count), start=1):
            node = f"{index:03d}"
            dimensions = {"CacheClusterId": member}
            self._alarm(
                f"redis-cpu-{node}",
                "AWS/ElastiCache",
                "EngineCPUUtilization",
                dimensions,
                threshold=alarms.cpu_percent,
                description=f"Cache node {node}: engine CPU above {alarms.cpu_percent} %",
            )
            self._alarm(
                f"redis-memory-{node}",
                "AWS/ElastiCache",
                "DatabaseMemoryUsagePercentage",
                dimensions,
                threshold=alarms.memory_percent,
                description=f"Cache node {node}: memory above {alarms.memory_percent} %",
            )
            self._alarm(
                f"redis-evictions-{node}",
                "AWS/ElastiCache",
                "Evictions",
                dimensions,
                threshold=alarms.evictions,
                statistic="Sum",
                kind="sparse",
                description=f"Cache node {node}: more than {alarms.evictions} evictions per period",
            )

    def _alarm(
        self,
        construct_id: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        *,
        threshold: float,
        description: str,
        comparison: str = "GreaterThanThreshold",
        statistic: str = "Average",
        kind: str = "gauge",
        evaluation_periods: int | None = None,
    ) -> None:
        treat_missing, reason = TREAT_MISSING[kind]
        self.alarms[construct_id] = CloudwatchMetricAlarm(
            self,
            construct_id,
            alarm_name=f"{self._props.name}-{construct_id}",
            alarm_description=f"{description}. Missing data: {treat_missing} ({reason}).",
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=statistic,
            period=self._props.period_seconds,
            evaluation_periods=evaluation_periods or self._props.evaluation_periods,
            threshold=threshold,
            comparison_operator=comparison,
            treat_missing_data=treat_missing,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
        )


def _validate(props: MonitoringProps) -> None:
    """Fail before any resource exists, naming the field, the value and what is allowed."""
    if props.period_seconds < 60 or props.period_seconds % 60:
        raise ValueError(f"period_seconds must be a positive multiple of 60, got {props.period_seconds}")
    if props.evaluation_periods < 1 or props.evaluation_periods * props.period_seconds > 86400:
        raise ValueError(
            f"evaluation_periods must be at least 1 and evaluation_periods * period_seconds at most 86400, "
            f"got {props.evaluation_periods} * {props.period_seconds}"
        )
    if len({email.lower() for email in props.alarm_emails}) != len(props.alarm_emails):
        raise ValueError("alarm_emails lists an address twice")
    percents: list[tuple[str, int]] = []
    if props.database is not None:
        percents += [("database.cpu_percent", props.database.cpu_percent)]
        percents += [("database.connections_percent", props.database.connections_percent)]
        if props.database.max_connections is None:
            max_connections(props.database.instance_class)  # raises for an unknown class
    if props.services is not None:
        percents += [("services.cpu_percent", props.services.cpu_percent)]
        percents += [("services.memory_percent", props.services.memory_percent)]
    if props.cache is not None:
        percents += [
            ("cache.cpu_percent", props.cache.cpu_percent),
            ("cache.memory_percent", props.cache.memory_percent),
        ]
        if not 1 <= props.cache.node_count <= MAX_CACHE_NODES:
            raise ValueError(f"cache.node_count must be between 1 and {MAX_CACHE_NODES}, got {props.cache.node_count}")
    for name, value in percents:
        if not 1 <= value <= 100:
            raise ValueError(f"{name} must be between 1 and 100, got {value}")
