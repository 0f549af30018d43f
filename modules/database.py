"""RDS for PostgreSQL in the private-data subnets, with optional read replica and RDS Proxy.

Built from ``[database]`` (``config.database.DatabaseConfig``). Storage is always encrypted gp3 and
the instance is never public. The environment's key (``key``) encrypts Performance Insights, the
master secret and the log groups when the settings name no key of their own; it is not applied to
storage on its own: a storage key is fixed at creation, so adopting it would replace the instance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from cdktf import Fn, Precondition, TerraformLocal, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import DataAwsSecretsmanagerRandomPassword
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_proxy import DbProxy, DbProxyAuth
from cdktf_cdktf_provider_aws.db_proxy_default_target_group import (
    DbProxyDefaultTargetGroup,
    DbProxyDefaultTargetGroupConnectionPoolConfig,
)
from cdktf_cdktf_provider_aws.db_proxy_target import DbProxyTarget
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from config.database import POSTGRES_PORT, DatabaseConfig, max_connections

from .block import Alarm, AlarmPolicy, Block, Comparison, DiagramNode, Naming, Signal, Statistic
from .iam import Statement, allow, secret_read_statements, service_role
from .network import instance_type_offerings, offered
from .provider import AwsProviders

if TYPE_CHECKING:
    from .kms import PlatformKey
    from .network import Network
    from .security_groups import SecurityGroups

LOG_EXPORTS = ("postgresql", "upgrade")
# RDS for PostgreSQL keeps automated backups of read replicas from major 14 on.
REPLICA_BACKUPS_MIN_MAJOR = 14
PROXY_USER_PASSWORD_LENGTH = 40
GIB = 1024**3


class Database(Block):
    """DB subnet group, parameter group, log groups, monitoring role, instance, replica, proxy."""

    stateful_types = frozenset({"aws_db_instance", "aws_secretsmanager_secret", "aws_cloudwatch_log_group"})
    diagram_nodes: ClassVar[Mapping[str, DiagramNode]] = {
        "aws_db_proxy": DiagramNode("RDS Proxy"),
        "aws_db_instance": DiagramNode("RDS PostgreSQL"),
    }

    instance: DbInstance
    identifier: str
    address: str
    """Hostname of the primary instance."""
    port: int
    db_name: str
    master_username: str
    master_secret_arn: str
    """ARN of the RDS-managed secret holding ``{"username", "password"}`` of the master user."""
    master_secret_kms_key_arn: str | None
    """Customer-managed key encrypting that secret (its readers need kms:Decrypt); None: AWS-managed."""
    resource_id: str
    """DbiResourceId (``db-...``) of the primary: what rds-db:connect ARNs name, not the identifier."""
    replica_address: str | None
    proxy_endpoint: str | None
    proxy_resource_id: str | None
    """The proxy's resource id (``prx-...``, the last part of its ARN) for rds-db:connect via the proxy."""
    iam_auth: bool

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DatabaseConfig,
        naming: Naming,
        network: Network,
        security_groups: SecurityGroups,
        key: PlatformKey | None,
        iam_database_users: Sequence[str] = (),
        secret_recovery_window_days: int,
    ) -> None:
        """``iam_database_users``: the users services connect as with IAM (the proxy's role may
        connect as exactly these). ``secret_recovery_window_days``: of the secrets this construct
        creates (proxy users on AWS provider 5.x)."""
        super().__init__(scope, construct_id)
        self._settings = settings
        self._naming = naming
        self._network = network
        self._security_groups = security_groups
        self._iam_database_users = sorted(set(iam_database_users))
        self._secret_recovery_window_days = secret_recovery_window_days
        environment_key_arn = key.arn if key else None
        # Performance Insights, the master secret and the proxy users' secrets; storage uses only the
        # database's own key (see the module docstring), the log groups only the environment's.
        self._kms_key_arn = settings.kms_key_arn or environment_key_arn
        self._log_kms_key_arn = environment_key_arn
        self.iam_auth = settings.iam_auth
        self.identifier = f"{naming.prefix}-postgres"
        self.port = POSTGRES_PORT
        self.db_name = settings.db_name
        self.master_username = settings.master_username
        self.master_secret_kms_key_arn = self._kms_key_arn

        self._partition = DataAwsPartition(self, "partition").partition
        self._account_id = DataAwsCallerIdentity(self, "account").account_id
        classes = [settings.instance_class, settings.read_replica.instance_class or settings.instance_class]
        self._offered_types = instance_type_offerings(self, "offered-types", map(_instance_type, classes))
        common = self._instance_settings()
        self._primary(common)
        self.replica_address = self._replica(common) if settings.read_replica.enabled else None
        self.proxy_endpoint = None
        self.proxy_resource_id = None
        if settings.proxy.enabled:
            self._proxy()

    def _instance_settings(self) -> dict[str, Any]:
        """What the primary and the replica share: network, parameters, monitoring, insights."""
        settings, name = self._settings, self._naming.prefix
        assert self._security_groups.database_sg_id is not None  # created whenever [database] exists
        subnet_group = DbSubnetGroup(
            self,
            "subnet-group",
            name=f"{name}-db",
            description=f"{name} database: private-data subnets",
            subnet_ids=self._network.private_data_subnet_ids,
        )
        parameter_group = self._parameter_group()
        monitoring_role_arn = self._monitoring_role_arn()
        return {
            "publicly_accessible": False,
            "vpc_security_group_ids": [self._security_groups.database_sg_id],
            "db_subnet_group_name": subnet_group.name,
            "parameter_group_name": parameter_group.name,
            "port": POSTGRES_PORT,
            "iam_database_authentication_enabled": True,
            "deletion_protection": settings.deletion_protection,
            "copy_tags_to_snapshot": True,
            "auto_minor_version_upgrade": settings.auto_minor_version_upgrade,
            "enabled_cloudwatch_logs_exports": list(LOG_EXPORTS),
            "performance_insights_enabled": True,
            "database_insights_mode": settings.database_insights,
            "performance_insights_retention_period": settings.performance_insights_retention_days,
            "performance_insights_kms_key_id": self._kms_key_arn,
            "monitoring_interval": settings.monitoring_interval_seconds,
            "monitoring_role_arn": monitoring_role_arn,
            "apply_immediately": settings.apply_immediately,
            # A major upgrade (engine_version 16 -> 17) is refused without it. The replica moves with
            # its primary: RDS upgrades in-region replicas together with their source.
            "allow_major_version_upgrade": True,
        }

    def _parameter_group(self) -> DbParameterGroup:
        logs, name, major = self._settings.logs, self._naming.prefix, self._settings.major_version
        parameters = {
            "rds.force_ssl": "1",
            "log_min_duration_statement": str(logs.min_duration_statement_ms),
            "log_connections": _flag(logs.connections),
            "log_disconnections": _flag(logs.disconnections),
            "log_statement": logs.statement,
            "log_lock_waits": _flag(logs.lock_waits),
        }
        return DbParameterGroup(
            self,
            "parameters",
            # A prefix, not a fixed name: a major upgrade needs a new group (new family) while the
            # instance still uses the old one, so the new one is created first.
            name_prefix=f"{name}-postgres{major}-",
            family=f"postgres{major}",
            description=f"{name} PostgreSQL {major}: TLS only, query and connection logging",
            parameter=[DbParameterGroupParameter(name=k, value=v) for k, v in sorted(parameters.items())],
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

    def _monitoring_role_arn(self) -> str | None:
        if not self._settings.monitoring_interval_seconds:
            return None
        return service_role(
            self,
            "monitoring-role",
            name=f"{self._naming.prefix}-rds-monitoring",
            service="monitoring.rds.amazonaws.com",
            managed_policy_arns=[f"arn:{self._partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"],
            condition={"StringEquals": {"aws:SourceAccount": self._account_id}},
        ).arn

    def _primary(self, common: dict[str, Any]) -> None:
        settings = self._settings
        skip_final_snapshot = settings.skip_final_snapshot
        self.instance = DbInstance(
            self,
            "instance",
            identifier=self.identifier,
            engine="postgres",
            # With automatic minor upgrades only the major is pinned: a full "16.4" would show the
            # minor AWS applies as drift, and the plan would try (and fail) to downgrade it.
            engine_version=str(settings.major_version)
            if settings.auto_minor_version_upgrade
            else settings.engine_version,
            instance_class=settings.instance_class,
            storage_type="gp3",
            allocated_storage=settings.allocated_storage_gib,
            max_allocated_storage=settings.max_allocated_storage_gib,
            storage_encrypted=True,
            kms_key_id=settings.kms_key_arn,
            db_name=settings.db_name,
            username=settings.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=self._kms_key_arn,
            multi_az=settings.multi_az,
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            skip_final_snapshot=skip_final_snapshot,
            # Unique per incarnation (the creation time, then ignored): a fixed name would make the
            # second destroy of a rebuilt environment fail on DBSnapshotAlreadyExists.
            final_snapshot_identifier=None
            if skip_final_snapshot
            else f"{self.identifier}-final-{Fn.formatdate('YYYYMMDDhhmmss', Fn.timestamp())}",
            lifecycle=TerraformResourceLifecycle(
                precondition=[self._class_offered("database.instance_class", settings.instance_class)],
                ignore_changes=None if skip_final_snapshot else ["final_snapshot_identifier"],
            ),
            delete_automated_backups=False,
            # RDS creates the export log groups itself (never expiring) unless they already exist.
            depends_on=self._log_groups("instance", self.identifier),
            **common,
        )
        self.address = self.instance.address
        self.resource_id = self.instance.resource_id
        self.master_secret_arn = self.instance.master_user_secret.get(0).secret_arn

    def _class_offered(self, setting: str, instance_class: str) -> Precondition:
        region = self._naming.region
        return offered(
            self._offered_types,
            _instance_type(instance_class),
            naming=self._naming,
            setting=setting,
            value=instance_class,
            where=f"aws rds describe-orderable-db-instance-options --engine postgres --region {region}",
        )

    def _replica(self, common: dict[str, Any]) -> str:
        settings = self._settings
        replica_id = f"{self.identifier}-replica"
        own_class = settings.read_replica.instance_class
        # Backups of the replica (RDS for PostgreSQL 14+) let it be promoted with point-in-time
        # recovery intact and feed cascading replicas; older majors cannot keep them.
        backup_days = settings.backup_retention_days if settings.major_version >= REPLICA_BACKUPS_MIN_MAJOR else 0
        replica = DbInstance(
            self,
            "replica",
            identifier=replica_id,
            # The ARN, not the identifier: with a db_subnet_group_name set, the provider (since
            # terraform-provider-aws PR #40426, 5.100 and 6.x) rejects anything else at plan time.
            replicate_source_db=self.instance.arn,
            instance_class=settings.read_replica.instance_class or settings.instance_class,
            storage_type="gp3",
            max_allocated_storage=settings.max_allocated_storage_gib,
            storage_encrypted=True,
            kms_key_id=settings.kms_key_arn,
            # A standby of its own, so read capacity survives an AZ outage as the primary does.
            multi_az=settings.multi_az,
            backup_retention_period=backup_days,
            backup_window=settings.backup_window if backup_days else None,
            # The primary's window, which is checked not to overlap the backup window. Left
            # unset, RDS draws one at random and about one create in five fails on "backup
            # window and maintenance window must not overlap" (terraform-provider-aws #7046).
            maintenance_window=settings.maintenance_window,
            # Its data is a copy of the primary's, which keeps its own final snapshot.
            skip_final_snapshot=True,
            # A class of its own is checked here; the primary's is checked on the primary.
            lifecycle=TerraformResourceLifecycle(
                precondition=[self._class_offered("database.read_replica.instance_class", own_class)]
            )
            if own_class
            else None,
            depends_on=self._log_groups("replica", replica_id),
            **common,
        )
        return replica.address

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """CPU, free storage and connections (against the class's max_connections) of the primary."""
        settings = self._settings
        thresholds = settings.alarms
        dimensions = {"DBInstanceIdentifier": self.identifier}
        free_gib = thresholds.free_storage_threshold_gib(settings.allocated_storage_gib)
        limit = thresholds.max_connections or max_connections(settings.instance_class)
        return [
            Alarm(
                construct_id="rds-cpu",
                namespace="AWS/RDS",
                metric="CPUUtilization",
                dimensions=dimensions,
                threshold=thresholds.cpu_percent,
                description=f"RDS CPU above {thresholds.cpu_percent} %",
            ),
            Alarm(
                construct_id="rds-free-storage",
                namespace="AWS/RDS",
                metric="FreeStorageSpace",
                dimensions=dimensions,
                threshold=free_gib * GIB,
                comparison=Comparison.BELOW,
                statistic=Statistic.MINIMUM,
                signal=Signal.STORAGE,
                description=f"RDS free storage below {free_gib:g} GiB",
            ),
            Alarm(
                construct_id="rds-connections",
                namespace="AWS/RDS",
                metric="DatabaseConnections",
                dimensions=dimensions,
                threshold=math.floor(limit * thresholds.connections_percent / 100),
                statistic=Statistic.MAXIMUM,
                description=f"RDS connections above {thresholds.connections_percent} % of max_connections ({limit})",
            ),
        ]

    def _log_groups(self, construct_id: str, identifier: str) -> list[Any]:
        return [
            CloudwatchLogGroup(
                self,
                f"{construct_id}-logs-{export}",
                name=f"/aws/rds/instance/{identifier}/{export}",
                retention_in_days=self._settings.logs.retention_days,
                kms_key_id=self._log_kms_key_arn,
            )
            for export in LOG_EXPORTS
        ]

    def _proxy(self) -> None:
        settings, name = self._settings.proxy, self._naming.prefix
        auth, statements, default_auth_scheme = self._proxy_auth()
        role = service_role(
            self,
            "proxy-role",
            name=f"{name}-rds-proxy",
            service="rds.amazonaws.com",
            inline_policy=statements,
            condition={"StringEquals": {"aws:SourceAccount": self._account_id}},
        )
        assert self._security_groups.database_proxy_sg_id is not None  # created whenever the proxy is enabled
        proxy = DbProxy(
            self,
            "proxy",
            name=f"{name}-postgres-proxy",
            engine_family="POSTGRESQL",
            role_arn=role.arn,
            vpc_subnet_ids=self._network.private_app_subnet_ids,
            vpc_security_group_ids=[self._security_groups.database_proxy_sg_id],
            require_tls=True,
            debug_logging=False,
            idle_client_timeout=settings.idle_client_timeout_seconds,
            default_auth_scheme=default_auth_scheme,
            auth=auth,
        )
        target_group = DbProxyDefaultTargetGroup(
            self,
            "proxy-target-group",
            db_proxy_name=proxy.name,
            connection_pool_config=DbProxyDefaultTargetGroupConnectionPoolConfig(
                max_connections_percent=settings.max_connections_percent,
                max_idle_connections_percent=settings.max_idle_connections_percent,
                connection_borrow_timeout=settings.connection_borrow_timeout_seconds,
            ),
        )
        DbProxyTarget(
            self,
            "proxy-target",
            db_proxy_name=proxy.name,
            target_group_name=target_group.name,
            db_instance_identifier=self.instance.identifier,
        )
        self.proxy_endpoint = proxy.endpoint
        # arn:<partition>:rds:<region>:<account>:db-proxy:prx-<id>: the resource id is the 7th field.
        # A local, so policies reference ${local.x}: the expression's own quotes inside a JSON policy
        # string would make the unevaluated document unparseable for scanners (checkov) and tests.
        resource_id = TerraformLocal(self, "proxy-resource-id", Fn.element(Fn.split(":", proxy.arn), 6))
        self.proxy_resource_id = resource_id.as_string

    def _proxy_auth(self) -> tuple[list[DbProxyAuth] | None, list[Statement], str | None]:
        """How the proxy signs in to the database: its auth blocks, its role's statements, and its
        default auth scheme."""
        if not self.iam_auth:
            master = DbProxyAuth(
                description="master user, password from the RDS-managed secret",
                auth_scheme="SECRETS",
                secret_arn=self.master_secret_arn,
                iam_auth="DISABLED",
                client_password_auth_type="POSTGRES_SCRAM_SHA_256",
            )
            return [master], self.master_secret_statements(), None
        if AwsProviders.of(self).proxy_default_auth_scheme:
            # End-to-end IAM (AWS provider 6): the proxy signs in to the database as each service's
            # own user with an IAM token. No password exists anywhere.
            users = self._iam_database_users
            arns = [self._dbuser_arn(self.resource_id, user) for user in users]
            return None, [allow(["rds-db:connect"], arns)] if users else [], "IAM_AUTH"
        auth, statements = self._proxy_user_secrets()
        return auth, statements, None

    def _proxy_user_secrets(self) -> tuple[list[DbProxyAuth], list[Statement]]:
        """AWS provider 5.x cannot express end-to-end IAM (no ``default_auth_scheme``): services still
        sign in to the proxy with IAM tokens, but the proxy signs in to the database with a password
        per user, kept in a secret of that user's (weaker than 6.x: a password exists). Secrets Manager
        generates each password at apply time; it is never in config or the synthesized JSON, and
        the user's password in PostgreSQL must be set from the secret (see docs/quality.md: the RDS Proxy on provider 5.x)."""
        if not self._iam_database_users:
            raise ValueError(
                "proxy with iam_auth on AWS provider 5.x needs at least one service using the database "
                "(one auth block per database user); use AWS provider 6 or give a service data_access.uses_database"
            )
        auth: list[DbProxyAuth] = []
        secret_arns: list[str] = []
        for user in self._iam_database_users:
            secret = SecretsmanagerSecret(
                self,
                f"proxy-user-{user}",
                name=f"{self._naming.prefix}/rds-proxy/{user}",
                description=f"RDS Proxy sign-in of database user {user}; password generated at apply time",
                kms_key_id=self._kms_key_arn,
                recovery_window_in_days=self._secret_recovery_window_days,
            )
            generated = DataAwsSecretsmanagerRandomPassword(
                self,
                f"proxy-user-{user}-password",
                password_length=PROXY_USER_PASSWORD_LENGTH,
                # Letters and digits only: safe in a connection string, ALTER ROLE and JSON alike.
                exclude_punctuation=True,
                include_space=False,
            )
            SecretsmanagerSecretVersion(
                self,
                f"proxy-user-{user}-version",
                secret_id=secret.id,
                secret_string=Fn.jsonencode({"username": user, "password": generated.random_password}),
                # The data source draws a new value on every plan; only the first one is ever stored.
                lifecycle=TerraformResourceLifecycle(ignore_changes=["secret_string"]),
            )
            secret_arns.append(secret.arn)
            auth.append(
                DbProxyAuth(
                    description=f"{user}: IAM from clients, password from its secret to the database",
                    auth_scheme="SECRETS",
                    secret_arn=secret.arn,
                    iam_auth="REQUIRED",
                )
            )
        return auth, self._secret_read_statements(secret_arns)

    def _dbuser_arn(self, resource_id: str, db_user: str) -> str:
        return f"arn:{self._partition}:rds-db:{self._naming.region}:{self._account_id}:dbuser:{resource_id}/{db_user}"

    @property
    def connect_address(self) -> str:
        """Where services connect: the proxy endpoint when there is a proxy, else the primary."""
        return self.proxy_endpoint or self.address

    def instance_connect_arn(self, db_user: str) -> str:
        """``arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<db_user>`` of the primary."""
        return self._dbuser_arn(self.resource_id, db_user)

    def proxy_connect_arn(self, db_user: str) -> str:
        """``arn:aws:rds-db:<region>:<account>:dbuser:prx-<id>/<db_user>`` of the proxy."""
        if self.proxy_resource_id is None:
            raise ValueError("this database has no proxy")
        return self._dbuser_arn(self.proxy_resource_id, db_user)

    def connect_arn(self, db_user: str) -> str:
        """The ``rds-db:connect`` resource of ``db_user`` where services connect (the proxy when present)."""
        return self.proxy_connect_arn(db_user) if self.proxy_resource_id else self.instance_connect_arn(db_user)

    def connect_statement(self, db_user: str) -> Statement:
        """rds-db:connect as ``db_user`` where services connect."""
        return allow(["rds-db:connect"], [self.connect_arn(db_user)])

    def master_secret_statements(self) -> list[Statement]:
        """Read exactly the master secret (and decrypt it when a customer key encrypts it)."""
        return self._secret_read_statements([self.master_secret_arn])

    def _secret_read_statements(self, secret_arns: list[str]) -> list[Statement]:
        return secret_read_statements(secret_arns, kms_key_arn=self._kms_key_arn, region=self._naming.region)

    def connection_environment(self, db_user: str) -> dict[str, str]:
        """Plain environment variables for a service connecting as ``db_user``."""
        return {
            "RDS_ENDPOINT": self.connect_address,
            "RDS_PORT": str(self.port),
            "RDS_DB_NAME": self.db_name,
            "RDS_USERNAME": db_user,
            "USE_IAM_AUTH": "true" if self.iam_auth else "false",
        }

    def connection_secrets(self) -> dict[str, str]:
        """ECS secrets: with password auth, RDS_PASSWORD from the managed secret's ``password`` key."""
        if self.iam_auth:
            return {}
        return {"RDS_PASSWORD": f"{self.master_secret_arn}:password::"}


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _instance_type(instance_class: str) -> str:
    """The EC2 instance type an RDS class runs on: db.t4g.micro -> t4g.micro."""
    return instance_class.removeprefix("db.")
