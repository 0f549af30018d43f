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

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from cdktf import Fn, Precondition, TerraformResourceLifecycle
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

from config.cache import CACHE_PORT, CacheConfig

from .block import Alarm, AlarmPolicy, Block, DiagramNode, Naming, Signal, Statistic
from .iam import Statement, allow, secret_read_statements
from .network import instance_type_offerings, offered

if TYPE_CHECKING:
    from .kms import PlatformKey
    from .network import Network
    from .security_groups import SecurityGroups

REPLICATION_GROUP_ID_MAX = 40
# An ElastiCache user id (which IAM authentication needs equal to the user name) has at most 40 characters.
USER_ID_MAX = 40
TOKEN_LENGTH = 64
# Read/write on every key, nothing that can wipe or reconfigure the cache (FLUSHALL, CONFIG, KEYS...).
SERVICE_ACCESS_STRING = "on ~* +@all -@dangerous"
# ElastiCache names a replication group's clusters <group id>-001, -002, ...
MEMBER_CLUSTER_FORMAT = "{group}-{index:03d}"
SUPPORTED_NODE_TYPES_BY_REGION = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html#CacheNodes.SupportedTypesByRegion"


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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: CacheConfig,
        naming: Naming,
        network: Network,
        security_groups: SecurityGroups,
        key: PlatformKey | None,
        iam_user_names: Sequence[str] = (),
        secret_recovery_window_days: int,
    ) -> None:
        """``iam_user_names``: with ``auth = "iam"``, one ElastiCache user per entry (user id = user
        name, as IAM auth requires; unique in the account and region). ``secret_recovery_window_days``:
        of the token secret; 0 deletes it at once (so the name is free for a rebuild)."""
        super().__init__(scope, construct_id)
        self._settings = settings
        self._naming = naming
        environment_key_arn = key.arn if key else None
        # Data at rest and the token secret; the slow log always uses the environment's key.
        self._kms_key_arn = settings.kms_key_arn or environment_key_arn
        self.port = CACHE_PORT
        self.auth = settings.auth
        # <project>-<environment>-cache always fits: project and environment names are bounded.
        self.group_id = naming.name("cache", max_length=REPLICATION_GROUP_ID_MAX)

        subnet_group = ElasticacheSubnetGroup(
            self,
            "subnet-group",
            name=self.group_id,
            description=f"{naming.prefix} cache: private-data subnets",
            subnet_ids=network.private_data_subnet_ids,
        )
        slow_log = CloudwatchLogGroup(
            self,
            "slow-log",
            name=f"/aws/elasticache/{self.group_id}/slow-log",
            retention_in_days=settings.log_retention_days,
            kms_key_id=environment_key_arn,
        )
        self.auth_token_secret_arn = None
        self.auth_token_kms_key_arn = self._kms_key_arn if settings.auth == "token" else None
        self.user_arns = {}
        credentials = self._credentials(iam_user_names, secret_recovery_window_days)
        assert security_groups.cache_sg_id is not None  # created whenever [cache] exists
        self.replication_group = self._replication_group(
            subnet_group.name, security_groups.cache_sg_id, slow_log.name, credentials
        )
        self.primary_endpoint_address = self.replication_group.primary_endpoint_address
        self.reader_endpoint_address = self.replication_group.reader_endpoint_address

    def _replication_group(
        self, subnet_group_name: str, security_group_id: str, slow_log_name: str, credentials: dict[str, Any]
    ) -> ElasticacheReplicationGroup:
        """The replication group itself: encrypted in transit and at rest, signing clients in with ``credentials``."""
        settings, group_id = self._settings, self.group_id
        snapshots = settings.snapshot_retention_days > 0
        node_type_offered = self._node_type_offered()
        return ElasticacheReplicationGroup(
            self,
            "replication-group",
            replication_group_id=group_id,
            description=f"{self._naming.prefix} {settings.engine}",
            engine=settings.engine,
            engine_version=settings.engine_version,
            node_type=settings.node_type,
            num_cache_clusters=settings.num_cache_clusters,
            port=CACHE_PORT,
            subnet_group_name=subnet_group_name,
            security_group_ids=[security_group_id],
            at_rest_encryption_enabled="true",
            kms_key_id=self._kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            automatic_failover_enabled=settings.highly_available,
            multi_az_enabled=settings.highly_available,
            snapshot_retention_limit=settings.snapshot_retention_days,
            snapshot_window=settings.snapshot_window,
            # Unique per incarnation (the creation time, then ignored): a fixed name would make the
            # second destroy of a rebuilt environment fail on an existing snapshot.
            final_snapshot_identifier=f"{group_id}-final-{Fn.formatdate('YYYYMMDDhhmmss', Fn.timestamp())}"
            if snapshots
            else None,
            # The engine family's default group, named after the version: a major upgrade (valkey
            # 7.2 -> 8.0) must move to the new family's group in the same ModifyReplicationGroup.
            parameter_group_name=f"default.{parameter_group_family(settings.engine, settings.engine_version)}",
            apply_immediately=settings.apply_immediately,
            maintenance_window=settings.maintenance_window,
            auto_minor_version_upgrade="true" if settings.auto_minor_version_upgrade else "false",
            log_delivery_configuration=self._log_delivery(slow_log_name),
            lifecycle=TerraformResourceLifecycle(
                precondition=[node_type_offered],
                ignore_changes=["final_snapshot_identifier"] if snapshots else None,
            ),
            **credentials,
        )

    def _node_type_offered(self) -> Precondition:
        """A precondition that the region offers the EC2 instance type the node type runs on (looked up at plan)."""
        node_type = self._settings.node_type
        instance_type = node_type.removeprefix("cache.")  # cache.t4g.micro runs on t4g.micro
        return offered(
            instance_type_offerings(self, "offered-types", [instance_type]),
            instance_type,
            naming=self._naming,
            setting="cache.node_type",
            value=node_type,
            where=f"ElastiCache's node types by region: {SUPPORTED_NODE_TYPES_BY_REGION}",
        )

    @staticmethod
    def _log_delivery(slow_log_name: str) -> list[ElasticacheReplicationGroupLogDeliveryConfiguration]:
        """The slow log, as JSON, delivered to the CloudWatch log group ``slow_log_name``."""
        return [
            ElasticacheReplicationGroupLogDeliveryConfiguration(
                destination=slow_log_name,
                destination_type="cloudwatch-logs",
                log_format="json",
                log_type="slow-log",
            )
        ]

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """Engine CPU, memory and evictions of every node (the group's clusters ``<id>-001``, ...)."""
        settings = self._settings.alarms
        found: list[Alarm] = []
        for index in range(1, self._settings.num_cache_clusters + 1):
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

    def _credentials(self, iam_user_names: Sequence[str], recovery_window_days: int) -> dict[str, Any]:
        """How clients sign in: the replication group's auth_token, or its IAM user group."""
        if self._settings.auth == "token":
            return {"auth_token": self._token(recovery_window_days)}
        return {"user_group_ids": [self._user_group(iam_user_names)]}

    def _token(self, recovery_window_days: int) -> str:
        group_id = self.group_id
        secret = SecretsmanagerSecret(
            self,
            "auth-token",
            name=f"{group_id}/auth-token",
            description=f"AUTH token of {group_id}; generated at apply time, never in config",
            kms_key_id=self._kms_key_arn,
            recovery_window_in_days=recovery_window_days,
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

    def _user_group(self, iam_user_names: Sequence[str]) -> str:
        group_id, engine = self.group_id, self._settings.engine
        # Every user group must hold a user named "default"; this one is switched off.
        default = ElasticacheUser(
            self,
            "user-default",
            user_id=f"{group_id}-default",
            user_name="default",
            engine=engine,
            access_string="off -@all",
            authentication_mode=ElasticacheUserAuthenticationMode(type="no-password-required"),
        )
        users = [default]
        for user_name in sorted(set(iam_user_names)):
            user = ElasticacheUser(
                self,
                f"user-{user_name}",
                user_id=user_name,
                user_name=user_name,
                engine=engine,
                access_string=SERVICE_ACCESS_STRING,
                authentication_mode=ElasticacheUserAuthenticationMode(type="iam"),
            )
            self.user_arns[user_name] = user.arn
            users.append(user)
        group = ElasticacheUserGroup(
            self,
            "user-group",
            user_group_id=group_id,
            engine=engine,
            user_ids=[u.user_id for u in users],
        )
        return group.user_group_id

    def secret_read_statements(self) -> list[Statement]:
        """Read exactly the token secret (and decrypt it with the customer key, if any); none with IAM auth."""
        if self.auth_token_secret_arn is None:
            return []
        return secret_read_statements(
            [self.auth_token_secret_arn], kms_key_arn=self._kms_key_arn, region=self._naming.region
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
