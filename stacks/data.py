"""Data-tier wiring: RDS PostgreSQL and ElastiCache, and what each service gets from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig, resource_name
from config.data import database_user_for
from modules import Cache, CacheProps, Database, DatabaseProps, Network, SecurityGroups
from modules.iam import Statement


@dataclass(frozen=True)
class DataTier:
    """The environment's database and cache (either may be absent)."""

    database: Database | None
    cache: Cache | None


@dataclass
class DataAccess:
    """What one service gets from the data tier: settings, secrets and the IAM statements behind them."""

    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    task_statements: list[Statement] = field(default_factory=list)
    """For the task role: rds-db:connect as its own user, elasticache:Connect as its own cache user."""
    execution_statements: list[Statement] = field(default_factory=list)
    """For the execution role: read exactly the secrets in ``secrets`` (tokens, so the service module
    cannot derive them from the ARN text)."""


def cache_user_name(config: EnvironmentConfig, service: str) -> str:
    """The ElastiCache user (id = name) a service signs in as with IAM auth; unique per account/region."""
    return resource_name(config.project, config.environment, service, max_length=40)


def build_data_tier(
    stack: TerraformStack,
    config: EnvironmentConfig,
    network: Network,
    security_groups: SecurityGroups,
    *,
    kms_key_arn: str | None,
) -> DataTier:
    """RDS PostgreSQL and ElastiCache from [database] / [cache], plus their outputs. ``kms_key_arn``
    (the environment's key) encrypts whatever has no key of its own in the config."""
    database = cache = None
    db = config.database
    if db is not None:
        users = sorted(
            {
                database_user_for(name, service.data_access, db)
                for name, service in config.services.items()
                if service.data_access.uses_database
            }
        )
        assert security_groups.database_sg_id is not None  # created whenever [database] exists
        database = Database(
            stack,
            "database",
            props=DatabaseProps(
                name=config.stack_name,
                region=config.region,
                subnet_ids=network.private_data_subnet_ids,
                security_group_id=security_groups.database_sg_id,
                engine_version=db.engine_version,
                instance_class=db.instance_class,
                allocated_storage_gib=db.allocated_storage_gib,
                max_allocated_storage_gib=db.max_allocated_storage_gib,
                db_name=db.db_name,
                master_username=db.master_username,
                iam_auth=db.iam_auth,
                iam_database_users=users if db.iam_auth else [],
                backup_retention_days=db.backup_retention_days,
                backup_window=db.backup_window,
                maintenance_window=db.maintenance_window,
                multi_az=db.multi_az,
                deletion_protection=db.deletion_protection,
                skip_final_snapshot=db.skip_final_snapshot,
                auto_minor_version_upgrade=db.auto_minor_version_upgrade,
                kms_key_arn=db.kms_key_arn or kms_key_arn,
                # The environment's key is not applied to storage on its own: a storage key is fixed
                # at creation, so adopting it would replace an existing instance.
                storage_kms_key_arn=db.kms_key_arn,
                log_kms_key_arn=kms_key_arn,
                performance_insights_retention_days=db.performance_insights_retention_days,
                monitoring_interval_seconds=db.monitoring_interval_seconds,
                log_retention_days=db.logs.retention_days,
                log_min_duration_statement_ms=db.logs.min_duration_statement_ms,
                log_connections=db.logs.connections,
                log_disconnections=db.logs.disconnections,
                log_statement=db.logs.statement,
                log_lock_waits=db.logs.lock_waits,
                read_replica=db.read_replica.enabled,
                read_replica_instance_class=db.read_replica.instance_class,
                proxy=db.proxy.enabled,
                proxy_subnet_ids=network.private_app_subnet_ids,
                proxy_security_group_id=security_groups.database_proxy_sg_id if db.proxy.enabled else None,
                proxy_idle_client_timeout_seconds=db.proxy.idle_client_timeout_seconds,
                proxy_max_connections_percent=db.proxy.max_connections_percent,
                proxy_max_idle_connections_percent=db.proxy.max_idle_connections_percent,
                proxy_connection_borrow_timeout_seconds=db.proxy.connection_borrow_timeout_seconds,
                apply_immediately=db.apply_immediately,
                database_insights=db.database_insights,
                secret_recovery_window_days=config.secrets.recovery_window_days,
                alarms=db.alarms,
            ),
        )
        TerraformOutput(stack, "database_address", value=database.address, description="RDS primary hostname")
        TerraformOutput(stack, "database_port", value=database.port, description="RDS port")
        TerraformOutput(
            stack,
            "database_master_secret_arn",
            value=database.master_secret_arn,
            description="Secrets Manager secret RDS manages for the master user (ARN only, never the value)",
        )
        if database.proxy_endpoint is not None:
            TerraformOutput(
                stack, "database_proxy_endpoint", value=database.proxy_endpoint, description="RDS Proxy endpoint"
            )
        if database.replica_address is not None:
            TerraformOutput(
                stack, "database_replica_address", value=database.replica_address, description="Read replica hostname"
            )

    cc = config.cache
    if cc is not None:
        assert security_groups.cache_sg_id is not None  # created whenever [cache] exists
        cache = Cache(
            stack,
            "cache",
            props=CacheProps(
                name=config.stack_name,
                subnet_ids=network.private_data_subnet_ids,
                security_group_id=security_groups.cache_sg_id,
                engine=cc.engine,
                engine_version=cc.engine_version,
                node_type=cc.node_type,
                num_cache_clusters=cc.num_cache_clusters,
                auth=cc.auth,
                iam_user_names=[
                    cache_user_name(config, name)
                    for name, service in config.services.items()
                    if service.data_access.uses_cache
                ]
                if cc.auth == "iam"
                else [],
                snapshot_retention_days=cc.snapshot_retention_days,
                snapshot_window=cc.snapshot_window,
                maintenance_window=cc.maintenance_window,
                kms_key_arn=cc.kms_key_arn or kms_key_arn,
                log_retention_days=cc.log_retention_days,
                log_kms_key_arn=kms_key_arn,
                auto_minor_version_upgrade=cc.auto_minor_version_upgrade,
                apply_immediately=cc.apply_immediately,
                secret_recovery_window_days=config.secrets.recovery_window_days,
                alarms=cc.alarms,
            ),
        )
        TerraformOutput(
            stack, "cache_primary_endpoint", value=cache.primary_endpoint_address, description="Cache primary hostname"
        )
        TerraformOutput(stack, "cache_port", value=cache.port, description="Cache port (TLS)")
        if cache.auth_token_secret_arn is not None:
            TerraformOutput(
                stack,
                "cache_auth_token_secret_arn",
                value=cache.auth_token_secret_arn,
                description="Secrets Manager secret holding the cache AUTH token (ARN only, never the value)",
            )
    return DataTier(database=database, cache=cache)


def data_access_for(config: EnvironmentConfig, name: str, tier: DataTier) -> DataAccess:
    """Connection settings, secrets and permissions of one service; empty when it uses neither store."""
    access = config.services[name].data_access
    result = DataAccess()
    if access.uses_database and tier.database is not None and config.database is not None:
        db_user = database_user_for(name, access, config.database)
        result.environment.update(tier.database.connection_environment(db_user))
        result.secrets.update(tier.database.connection_secrets())
        if tier.database.iam_auth:
            result.task_statements.append(tier.database.connect_statement(db_user))
        else:
            result.execution_statements.extend(tier.database.master_secret_statements())
    if access.uses_cache and tier.cache is not None:
        cache_user = cache_user_name(config, name) if tier.cache.auth == "iam" else None
        result.environment.update(tier.cache.connection_environment(cache_user))
        result.secrets.update(tier.cache.connection_secrets())
        if cache_user is not None:
            result.task_statements.append(tier.cache.connect_statement(cache_user))
        result.execution_statements.extend(tier.cache.secret_read_statements())
    return result
