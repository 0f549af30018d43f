"""Data-tier wiring: RDS PostgreSQL and ElastiCache, and what each service gets from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from config.data_access import database_user_for
from config.database import DatabaseConfig
from modules import Cache, Database, Network, PlatformKey, SecurityGroups
from modules.block import Naming
from modules.cache import USER_ID_MAX
from modules.iam import Statement


@dataclass(frozen=True)
class DataTier:
    """The environment's database and cache (either may be absent)."""

    database: Database | None
    cache: Cache | None
    cache_users: dict[str, str] = field(default_factory=dict)
    """The cache user (IAM auth) each service that uses the cache signs in as, by service name."""


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


def cache_user_name(naming: Naming, service: str) -> str:
    """The ElastiCache user (id = name) a service signs in as with IAM auth; unique per account/region."""
    return naming.name(service, max_length=USER_ID_MAX)


def build_data_tier(
    stack: TerraformStack,
    config: EnvironmentConfig,
    network: Network,
    security_groups: SecurityGroups,
    *,
    naming: Naming,
    key: PlatformKey | None,
) -> DataTier:
    """RDS PostgreSQL and ElastiCache from [database] / [cache], plus their outputs. ``key`` (the
    environment's) encrypts whatever has no key of its own in the config."""
    database = cache = None
    cache_users: dict[str, str] = {}
    if config.database is not None:
        database = Database(
            stack,
            "database",
            settings=config.database,
            naming=naming,
            network=network,
            security_groups=security_groups,
            key=key,
            iam_database_users=_iam_database_users(config, config.database),
            secret_recovery_window_days=config.secrets.recovery_window_days,
        )
        _database_outputs(stack, database)
    if config.cache is not None:
        cache_users = {
            name: cache_user_name(naming, name)
            for name, service in config.services.items()
            if service.data_access.uses_cache
        }
        cache = Cache(
            stack,
            "cache",
            settings=config.cache,
            naming=naming,
            network=network,
            security_groups=security_groups,
            key=key,
            iam_user_names=list(cache_users.values()),
            secret_recovery_window_days=config.secrets.recovery_window_days,
        )
        _cache_outputs(stack, cache)
    return DataTier(database=database, cache=cache, cache_users=cache_users)


def _iam_database_users(config: EnvironmentConfig, database: DatabaseConfig) -> list[str]:
    """The database users services connect as with IAM auth (none with password auth)."""
    if not database.iam_auth:
        return []
    return [
        database_user_for(name, service.data_access, database)
        for name, service in config.services.items()
        if service.data_access.uses_database
    ]


def _database_outputs(stack: TerraformStack, database: Database) -> None:
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


def _cache_outputs(stack: TerraformStack, cache: Cache) -> None:
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
        cache_user = tier.cache_users[name] if tier.cache.auth == "iam" else None
        result.environment.update(tier.cache.connection_environment(cache_user))
        result.secrets.update(tier.cache.connection_secrets())
        if cache_user is not None:
            result.task_statements.append(tier.cache.connect_statement(cache_user))
        result.execution_statements.extend(tier.cache.secret_read_statements())
    return result
