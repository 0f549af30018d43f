"""ElastiCache (Redis OSS or Valkey) replication group in the private-data subnets.

Encryption in transit (TLS required) and at rest is always on. Clients authenticate either with an
AUTH token or as IAM-authenticated RBAC users:

- token: Secrets Manager generates the token at apply time (``GetRandomPassword`` through the
  ``aws_secretsmanager_random_password`` data source). It goes into a secret version whose
  ``secret_string`` is then ignored, and the replication group reads it from there, so later plans
  neither churn the token nor see it. The synthesized JSON holds only references; the token lives
  in Secrets Manager and in the (encrypted, access-controlled) Terraform state.
- iam: a user group of one ElastiCache user per service that signs in with an IAM token
  (``elasticache:Connect``); no secret exists at all. The group's mandatory ``default`` user is off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import DataAwsSecretsmanagerRandomPassword
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.elasticache_user import ElasticacheUser, ElasticacheUserAuthenticationMode
from cdktf_cdktf_provider_aws.elasticache_user_group import ElasticacheUserGroup
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from config.alarms import CacheAlarmsConfig

from .block import Alarm, AlarmPolicy, Block, DiagramNode, Signal, Statistic
from .iam import Statement, allow, secret_read_statements
from .provider import AwsProviders

CACHE_PORT = 6379
REPLICATION_GROUP_ID_MAX = 40
TOKEN_LENGTH = 64
# Read/write on every key, nothing that can wipe or reconfigure the cache (FLUSHALL, CONFIG, KEYS...).
SERVICE_ACCESS_STRING = "on ~* +@all -@dangerous"
# ElastiCache names a replication group's clusters <group id>-001, -002, ...
MEMBER_CLUSTER_FORMAT = "{group}-{index:03d}"
_USER_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True, kw_only=True)
class CacheProps:
    """What the cache is built from."""

    name: str
    """Prefix of names, e.g. ``netflux-prod``; the replication group is ``<name>-cache`` (at most 40 characters)."""
    subnet_ids: list[str]
    """Private-data subnets for the cache subnet group."""
    security_group_id: str
    """The cache security group (allows 6379 from the app tier only); owned by the caller."""
    engine: Literal["redis", "valkey"] = "valkey"
    """Engine: Valkey or Redis OSS."""
    engine_version: str
    """Engine ``<major>.<minor>``, e.g. ``7.1`` (redis) or ``8.0`` (valkey)."""
    node_type: str
    """Node type, e.g. ``cache.t4g.micro``."""
    num_cache_clusters: int = 2
    """Nodes (primary + replicas). With 2 or more the group is multi-AZ with automatic failover."""
    auth: Literal["token", "iam"] = "token"
    """token: AUTH token generated at apply time into Secrets Manager; iam: RBAC user group of IAM users."""
    iam_user_names: list[str] = field(default_factory=list)
    """With ``auth = "iam"``: one ElastiCache user per entry (user id = user name, as IAM auth requires;
    unique in the account and region)."""
    snapshot_retention_days: int = 7
    """Daily snapshots kept; 0 turns snapshots (and the final snapshot) off."""
    snapshot_window: str | None = None
    """Daily snapshot window ``hh24:mi-hh24:mi`` UTC; ElastiCache picks one when unset."""
    maintenance_window: str | None = None
    """Weekly maintenance window ``ddd:hh24:mi-ddd:hh24:mi`` UTC; ElastiCache picks one when unset."""
    kms_key_arn: str | None = None
    """Customer-managed key for data at rest and the token secret; AWS-managed keys when unset."""
    log_retention_days: int = 365
    """Retention of the slow-log log group this module creates."""
    log_kms_key_arn: str | None = None
    """KMS key for the slow-log group; CloudWatch's default encryption when unset."""
    auto_minor_version_upgrade: bool = True
    """Minor engine versions apply automatically in the maintenance window."""
    apply_immediately: bool = False
    """Changes apply at once; false: in the maintenance window (and plans show them until then)."""
    secret_recovery_window_days: int = 30
    """Recovery window of the token secret; 0 deletes it at once (so the name is free for a rebuild)."""
    alarms: CacheAlarmsConfig = field(default_factory=CacheAlarmsConfig)
    """When each node's CPU, memory and evictions alarms fire."""


def parameter_group_family(engine: str, engine_version: str) -> str:
    """The parameter group family of an engine version: redis6.x, redis7, valkey7, valkey8."""
    major = engine_version.split(".")[0]
    return f"{engine}{major}.x" if (engine, major) == ("redis", "6") else f"{engine}{major}"


class Cache(Block):
    """Subnet group, slow-log group, credentials (token secret or IAM user group), replication group."""

    stateful_types = frozenset(
        {"aws_elasticache_replication_group", "aws_secretsmanager_secret", "aws_cloudwatch_log_group"}
    )
    diagram_nodes: ClassVar[Mapping[str, DiagramNode]] = {
        "aws_elasticache_replication_group": DiagramNode("ElastiCache")
    }

    replication_group: ElasticacheReplicationGroup
    primary_endpoint_address: str
    """Hostname of the primary (writes); follows failover."""
    reader_endpoint_address: str
    """Hostname spreading reads over the replicas."""
    group_id: str
    """Replication group id: its nodes are the clusters ``<group_id>-001``, ``-002``, ..."""
    port: int
    auth: Literal["token", "iam"]
    auth_token_secret_arn: str | None
    """Secret holding the AUTH token as a plain string (token auth only)."""
    auth_token_kms_key_arn: str | None
    """Customer-managed key encrypting that secret (its readers need kms:Decrypt); None: AWS-managed or no secret."""
    user_arns: dict[str, str]
    """ARN of each IAM user by user name (iam auth only)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: CacheProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        self._props = props
        self.port = CACHE_PORT
        self.auth = props.auth
        group_id = f"{props.name}-cache"
        self.group_id = group_id

        subnet_group = ElasticacheSubnetGroup(
            self,
            "subnet-group",
            name=group_id,
            description=f"{props.name} cache: private-data subnets",
            subnet_ids=props.subnet_ids,
        )
        slow_log = CloudwatchLogGroup(
            self,
            "slow-log",
            name=f"/aws/elasticache/{group_id}/slow-log",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.log_kms_key_arn,
        )

        self.auth_token_secret_arn = None
        self.auth_token_kms_key_arn = props.kms_key_arn if props.auth == "token" else None
        self.user_arns = {}
        auth_token: str | None = None
        user_group_ids: list[str] | None = None
        if props.auth == "token":
            auth_token = self._token(props, group_id)
        else:
            user_group_ids = [self._user_group(props, group_id)]

        highly_available = props.num_cache_clusters >= 2
        snapshots = props.snapshot_retention_days > 0
        self.replication_group = ElasticacheReplicationGroup(
            self,
            "replication-group",
            replication_group_id=group_id,
            description=f"{props.name} {props.engine}",
            engine=props.engine,
            engine_version=props.engine_version,
            node_type=props.node_type,
            num_cache_clusters=props.num_cache_clusters,
            port=CACHE_PORT,
            subnet_group_name=subnet_group.name,
            security_group_ids=[props.security_group_id],
            at_rest_encryption_enabled="true",
            kms_key_id=props.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=auth_token,
            user_group_ids=user_group_ids,
            automatic_failover_enabled=highly_available,
            multi_az_enabled=highly_available,
            snapshot_retention_limit=props.snapshot_retention_days,
            snapshot_window=props.snapshot_window,
            # Unique per incarnation (the creation time, then ignored): a fixed name would make the
            # second destroy of a rebuilt environment fail on an existing snapshot.
            final_snapshot_identifier=f"{group_id}-final-{Fn.formatdate('YYYYMMDDhhmmss', Fn.timestamp())}"
            if snapshots
            else None,
            # The engine family's default group, named after the version: a major upgrade (valkey
            # 7.2 -> 8.0) must move to the new family's group in the same ModifyReplicationGroup.
            parameter_group_name=f"default.{parameter_group_family(props.engine, props.engine_version)}",
            apply_immediately=props.apply_immediately,
            maintenance_window=props.maintenance_window,
            auto_minor_version_upgrade="true" if props.auto_minor_version_upgrade else "false",
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=slow_log.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                )
            ],
            lifecycle=TerraformResourceLifecycle(ignore_changes=["final_snapshot_identifier"]) if snapshots else None,
        )
        self.primary_endpoint_address = self.replication_group.primary_endpoint_address
        self.reader_endpoint_address = self.replication_group.reader_endpoint_address

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """Engine CPU, memory and evictions of every node (the group's clusters ``<id>-001``, ...)."""
        settings = self._props.alarms
        found: list[Alarm] = []
        for index in range(1, self._props.num_cache_clusters + 1):
            node = f"{index:03d}"
            # The group id by reference, so alarms wait for the group (and follow it if it is renamed).
            group = self.replication_group.replication_group_id
            dimensions = {"CacheClusterId": MEMBER_CLUSTER_FORMAT.format(group=group, index=index)}
            found += [
                Alarm(
                    construct_id=f"redis-cpu-{node}",
                    namespace="AWS/ElastiCache",
                    metric="EngineCPUUtilization",
                    dimensions=dimensions,
                    threshold=settings.cpu_percent,
                    description=f"Cache node {node}: engine CPU above {settings.cpu_percent} %",
                ),
                Alarm(
                    construct_id=f"redis-memory-{node}",
                    namespace="AWS/ElastiCache",
                    metric="DatabaseMemoryUsagePercentage",
                    dimensions=dimensions,
                    threshold=settings.memory_percent,
                    description=f"Cache node {node}: memory above {settings.memory_percent} %",
                ),
                Alarm(
                    construct_id=f"redis-evictions-{node}",
                    namespace="AWS/ElastiCache",
                    metric="Evictions",
                    dimensions=dimensions,
                    threshold=settings.evictions,
                    statistic=Statistic.SUM,
                    signal=Signal.SPARSE,
                    description=f"Cache node {node}: more than {settings.evictions} evictions per period",
                ),
            ]
        return found

    def _token(self, props: CacheProps, group_id: str) -> str:
        secret = SecretsmanagerSecret(
            self,
            "auth-token",
            name=f"{group_id}/auth-token",
            description=f"AUTH token of {group_id}; generated at apply time, never in config",
            kms_key_id=props.kms_key_arn,
            recovery_window_in_days=props.secret_recovery_window_days,
        )
        generated = DataAwsSecretsmanagerRandomPassword(
            self,
            "auth-token-value",
            password_length=TOKEN_LENGTH,
            # AUTH tokens allow printable ASCII except / " @ and spaces: letters and digits are safe everywhere.
            exclude_punctuation=True,
            include_space=False,
        )
        version = SecretsmanagerSecretVersion(
            self,
            "auth-token-version",
            secret_id=secret.id,
            secret_string=generated.random_password,
            # The data source draws a new value on every plan; only the first one is ever stored.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["secret_string"]),
        )
        self.auth_token_secret_arn = secret.arn
        return version.secret_string

    def _user_group(self, props: CacheProps, group_id: str) -> str:
        # Every user group must hold a user named "default"; this one is switched off.
        default = ElasticacheUser(
            self,
            "user-default",
            user_id=f"{group_id}-default",
            user_name="default",
            engine=props.engine,
            access_string="off -@all",
            authentication_mode=ElasticacheUserAuthenticationMode(type="no-password-required"),
        )
        users = [default]
        for user_name in sorted(set(props.iam_user_names)):
            user = ElasticacheUser(
                self,
                f"user-{user_name}",
                user_id=user_name,
                user_name=user_name,
                engine=props.engine,
                access_string=SERVICE_ACCESS_STRING,
                authentication_mode=ElasticacheUserAuthenticationMode(type="iam"),
            )
            self.user_arns[user_name] = user.arn
            users.append(user)
        group = ElasticacheUserGroup(
            self,
            "user-group",
            user_group_id=group_id,
            engine=props.engine,
            user_ids=[u.user_id for u in users],
        )
        return group.user_group_id

    def secret_read_statements(self) -> list[Statement]:
        """Read exactly the token secret (and decrypt it with the customer key, if any); none with IAM auth."""
        if self.auth_token_secret_arn is None:
            return []
        return secret_read_statements(
            [self.auth_token_secret_arn], kms_key_arn=self._props.kms_key_arn, region=AwsProviders.of(self).region
        )

    def connect_statement(self, user_name: str) -> Statement:
        """IAM auth: elasticache:Connect to this replication group as ``user_name``."""
        if user_name not in self.user_arns:
            raise ValueError(f"{user_name!r} is not an IAM user of this cache; known: {sorted(self.user_arns)}")
        return allow(["elasticache:Connect"], [self.replication_group.arn, self.user_arns[user_name]])

    def connection_environment(self, user_name: str | None = None) -> dict[str, str]:
        """Plain environment variables for a client; with IAM auth, ``user_name`` is its cache user."""
        environment = {
            "REDIS_HOST": self.primary_endpoint_address,
            "REDIS_PORT": str(self.port),
            "REDIS_TLS": "true",
        }
        if self.auth == "iam":
            if user_name is None:
                raise ValueError("IAM auth needs the client's cache user name")
            environment["REDIS_USER"] = user_name
            environment["REDIS_AUTH_MODE"] = "iam"
        return environment

    def connection_secrets(self) -> dict[str, str]:
        """ECS secrets: with token auth, REDIS_AUTH_TOKEN from the token secret (a plain string)."""
        if self.auth_token_secret_arn is None:
            return {}
        return {"REDIS_AUTH_TOKEN": self.auth_token_secret_arn}


def _validate(props: CacheProps) -> None:
    group_id = f"{props.name}-cache"
    if len(group_id) > REPLICATION_GROUP_ID_MAX:
        raise ValueError(
            f"replication group id {group_id!r} is {len(group_id)} characters; the limit is {REPLICATION_GROUP_ID_MAX}"
        )
    if not props.subnet_ids:
        raise ValueError("subnet_ids must list the private-data subnets")
    if not 1 <= props.num_cache_clusters <= 6:
        raise ValueError(f"num_cache_clusters must be between 1 and 6, got {props.num_cache_clusters}")
    if not 0 <= props.snapshot_retention_days <= 35:
        raise ValueError(f"snapshot_retention_days must be between 0 and 35, got {props.snapshot_retention_days}")
    if props.auth == "token" and props.iam_user_names:
        raise ValueError("iam_user_names is only used with auth = 'iam'")
    for user_name in props.iam_user_names:
        if not _USER_ID.match(user_name) or user_name.endswith("-default"):
            raise ValueError(
                f"cache user name must be lowercase letters, digits and single hyphens, starting with a letter "
                f"(and not end in -default), got {user_name!r}"
            )
