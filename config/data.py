"""Config of the data tier: RDS PostgreSQL (``[database]``), ElastiCache (``[cache]``), and which
services use them (``[services.<name>.data_access]``).

A missing ``[database]`` or ``[cache]`` table means the environment has none; a present one gets
the secure, highly-available default for every field it leaves out. Nothing here holds a secret:
RDS manages the master password in Secrets Manager and the cache token is generated at apply time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from .alarms import CacheAlarmsConfig, DatabaseAlarmsConfig
from .base import Strict, valid_kms_key_arn, valid_retention
from .errors import FieldError

if TYPE_CHECKING:
    from .schema import ServiceConfig

# RDS for PostgreSQL majors in standard support or newer (12 and older are extended support only).
POSTGRES_MAJORS = range(13, 19)
# Majors AWS lists for RDS Proxy with RDS for PostgreSQL when this was written. RDS Proxy usually
# lags a new major; add it here once AWS lists it under "Supported Regions and DB engines for
# Amazon RDS Proxy".
PROXY_POSTGRES_MAJORS = range(13, 18)
MONITORING_INTERVALS_SECONDS = (0, 1, 5, 10, 15, 30, 60)
# Performance Insights keeps 7 days free, or a whole number of months (31 days) up to 2 years.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7, *(31 * months for months in range(1, 24)), 731)
# Database Insights' advanced mode keeps 15 months of history.
ADVANCED_INSIGHTS_DAYS = 465
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

GP3_STORAGE_GIB = (20, 65536)
REDIS_VERSIONS = ("6.2", "7.0", "7.1")
VALKEY_VERSIONS = ("7.2", "8.0", "8.1")
# IAM authentication of ElastiCache users needs Redis OSS 7.0+ or Valkey 7.2+.
IAM_AUTH_VERSIONS = {"redis": ("7.0", "7.1"), "valkey": VALKEY_VERSIONS}
MAX_CACHE_CLUSTERS = 6  # primary + 5 replicas without cluster mode
# Variables the data tier sets on the services that use it; a service's own task settings may not.
DATABASE_VARIABLES = ("RDS_ENDPOINT", "RDS_PORT", "RDS_DB_NAME", "RDS_USERNAME", "USE_IAM_AUTH", "RDS_PASSWORD")
CACHE_VARIABLES = ("REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "REDIS_AUTH_TOKEN", "REDIS_USER", "REDIS_AUTH_MODE")

_VERSION = re.compile(r"^(\d+)\.(\d+)$")
_SIZE = r"(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal(-[0-9]+xl)?)"
_DB_CLASS = re.compile(rf"^db\.[a-z][a-z0-9-]*\.{_SIZE}$")
_CACHE_NODE = re.compile(rf"^cache\.[a-z][a-z0-9-]*\.{_SIZE}$")
_PG_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_WEEKLY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$")  # fmt: skip
# Names RDS or PostgreSQL reserve, and the well-known default an attacker tries first.
_RESERVED_USERS = frozenset({"postgres", "rdsadmin", "rdsrepladmin", "rdstopmgr", "public", "admin", "root",
                             "user", "all", "none", "current_user", "session_user"})  # fmt: skip
_RESERVED_DATABASES = frozenset({"postgres", "rdsadmin", "template0", "template1"})
_WEEK_MINUTES = 7 * 24 * 60


# --- shared validators -------------------------------------------------------------------------


def _version(value: str, allowed: str) -> tuple[int, int]:
    match = _VERSION.match(value)
    if not match:
        raise FieldError(f"must be <major>.<minor>, e.g. {allowed}", value=value)
    return int(match.group(1)), int(match.group(2))


def _identifier(value: str, what: str, reserved: frozenset[str]) -> str:
    if not _PG_IDENTIFIER.match(value):
        raise FieldError(
            f"{what} must be 1-63 lowercase letters, digits and underscores, starting with a letter", value=value
        )
    if value in reserved or value.startswith(("pg_", "rds_")):
        raise FieldError(
            f"{what} {value!r} is reserved by PostgreSQL/RDS or a guessable default; "
            f"choose another (not {', '.join(sorted(reserved))}, nor pg_*/rds_*)",
            value=value,
        )
    return value


def _daily_window(value: str, *, min_minutes: int) -> tuple[int, int]:
    """``hh24:mi-hh24:mi`` (UTC) -> (start, length) in minutes of the day."""
    match = _DAILY.match(value)
    if not match:
        raise FieldError("must be hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00", value=value)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    length = (end - start) % (24 * 60)
    if length < min_minutes:
        raise FieldError(f"must be at least {min_minutes} minutes long, got {length}", value=value)
    return start, length


def _weekly_window(value: str, *, min_minutes: int) -> tuple[int, int]:
    """``ddd:hh24:mi-ddd:hh24:mi`` (UTC) -> (start, length) in minutes of the week."""
    match = _WEEKLY.match(value.lower())
    if not match:
        raise FieldError("must be ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:05:00-sun:06:00", value=value)
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = _DAYS.index(d1) * 1440 + int(h1) * 60 + int(m1)
    end = _DAYS.index(d2) * 1440 + int(h2) * 60 + int(m2)
    length = (end - start) % _WEEK_MINUTES
    if length < min_minutes:
        raise FieldError(f"must be at least {min_minutes} minutes long, got {length}", value=value)
    return start, length


def _overlaps_daily(weekly: tuple[int, int], daily: tuple[int, int]) -> bool:
    """Whether a weekly window overlaps a window that repeats every day."""
    w_start, w_length = weekly
    d_start, d_length = daily
    for day in range(8):  # day 7 catches a daily window that wraps into the next week
        s = day * 1440 + d_start
        for shift in (0, _WEEK_MINUTES):
            if s < w_start + shift + w_length and w_start + shift < s + d_length:
                return True
    return False


# --- database ----------------------------------------------------------------------------------


class ReadReplicaConfig(Strict):
    """An optional same-region read replica of the primary instance."""

    enabled: bool = Field(default=False, description="No replica unless asked for.")
    instance_class: str | None = Field(default=None, description="Replica class; the primary's when unset.")

    @field_validator("instance_class")
    @classmethod
    def _class(cls, value: str | None) -> str | None:
        return None if value is None else valid_db_instance_class(value)


class DatabaseProxyConfig(Strict):
    """RDS Proxy in front of the primary: pooled connections, TLS required, IAM auth end to end."""

    enabled: bool = Field(default=False, description="No proxy unless asked for (it is billed per vCPU-hour).")
    idle_client_timeout_seconds: int = Field(
        default=1800, ge=1, le=28800, description="Idle client connections close after this long."
    )
    max_connections_percent: int = Field(
        default=100, ge=1, le=100, description="Share of the database's max_connections the pool may use."
    )
    max_idle_connections_percent: int = Field(
        default=50, ge=0, le=100, description="Share of max_connections the pool keeps open while idle."
    )
    connection_borrow_timeout_seconds: int = Field(
        default=120, ge=0, le=3600, description="How long a client waits for a pooled connection."
    )

    @model_validator(mode="after")
    def _idle_within_max(self) -> DatabaseProxyConfig:
        if self.max_idle_connections_percent > self.max_connections_percent:
            raise FieldError(
                f"must not exceed max_connections_percent ({self.max_connections_percent})",
                path=("max_idle_connections_percent",),
                value=self.max_idle_connections_percent,
            )
        return self


class DatabaseLogsConfig(Strict):
    """PostgreSQL logging (parameter group) and the CloudWatch log groups it is exported to."""

    retention_days: int = Field(default=365, description="Retention of the exported postgresql/upgrade logs.")
    min_duration_statement_ms: int = Field(
        default=1000, ge=-1, le=2147483647, description="Log statements slower than this; -1 off, 0 every statement."
    )
    connections: bool = Field(default=True, description="Log every connection (who connected, from where).")
    disconnections: bool = Field(default=True, description="Log session ends with their duration.")
    statement: Literal["none", "ddl", "mod", "all"] = Field(
        default="ddl", description="Which statements are logged: ddl records schema changes only."
    )
    lock_waits: bool = Field(default=True, description="Log waits longer than deadlock_timeout.")

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return valid_retention(value)


class DatabaseConfig(Strict):
    """RDS for PostgreSQL in the private-data subnets. Present means the environment has a database."""

    engine_version: str = Field(
        description="PostgreSQL <major>.<minor>, e.g. 16.4; majors 13-18. With auto_minor_version_upgrade only "
        "the major is pinned and RDS keeps the minor current."
    )
    instance_class: str = Field(description="db.<family>.<size>, e.g. db.t4g.micro or db.m7g.large.")
    allocated_storage_gib: int = Field(default=20, description="gp3 storage, 20-65536 GiB.")
    max_allocated_storage_gib: int | None = Field(
        default=None,
        description="Storage autoscaling ceiling (> allocated_storage_gib); autoscaling off when unset.",
    )
    db_name: str = Field(default="app", description="Database created with the instance.")
    master_username: str = Field(
        default="app_admin", description="Master user; its password is generated and kept by RDS in Secrets Manager."
    )
    iam_auth: bool = Field(
        default=True,
        description="Services connect as their own database user with IAM tokens; false: as the master user with its password.",
    )
    backup_retention_days: int = Field(default=7, ge=0, le=35, description="Automated backups; 0 turns them off.")
    backup_window: str | None = Field(default=None, description="hh24:mi-hh24:mi UTC; RDS picks one when unset.")
    maintenance_window: str | None = Field(
        default=None, description="ddd:hh24:mi-ddd:hh24:mi UTC; RDS picks one when unset."
    )
    multi_az: bool = Field(default=True, description="Synchronous standby in another AZ with automatic failover.")
    deletion_protection: bool = Field(default=True, description="The instance cannot be deleted until this is off.")
    skip_final_snapshot: bool = Field(default=False, description="A final snapshot is taken on deletion.")
    auto_minor_version_upgrade: bool = Field(
        default=True, description="Minor versions apply in the maintenance window."
    )
    apply_immediately: bool = Field(
        default=False,
        description="Instance changes (class, storage, engine version) apply at once, with the restart some of "
        "them need; false: they wait for the maintenance window, and every plan shows them as changes until "
        "then. Off by default, so no apply restarts a production database in business hours.",
    )
    kms_key_arn: str | None = Field(
        default=None,
        description="Customer-managed key for storage, Performance Insights and the master secret. Unset: the "
        "environment's key (see [encryption]) for Performance Insights and the secret, and the AWS-managed aws/rds "
        "key for storage (a storage key is fixed at creation: changing it replaces the instance). Storage is "
        "always encrypted.",
    )
    performance_insights_retention_days: int = Field(
        default=7, description="Performance Insights retention: 7 (free), 31 x months, or 731."
    )
    database_insights: Literal["standard", "advanced"] = Field(
        default="standard",
        description="CloudWatch Database Insights mode, which replaces the Performance Insights console in 2026: "
        "standard (free, 7 days) or advanced (fleet-level, paid; needs performance_insights_retention_days >= 465).",
    )
    monitoring_interval_seconds: int = Field(
        default=60, description="Enhanced monitoring granularity; 0 turns it off. One of 0, 1, 5, 10, 15, 30, 60."
    )
    logs: DatabaseLogsConfig = Field(default_factory=DatabaseLogsConfig)
    alarms: DatabaseAlarmsConfig = Field(default_factory=DatabaseAlarmsConfig)
    read_replica: ReadReplicaConfig = Field(default_factory=ReadReplicaConfig)
    proxy: DatabaseProxyConfig = Field(default_factory=DatabaseProxyConfig)

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        major, _ = _version(value, "16.4")
        if major not in POSTGRES_MAJORS:
            raise FieldError(
                f"PostgreSQL major {major} is not offered; use a major from {POSTGRES_MAJORS.start} to {POSTGRES_MAJORS.stop - 1}",
                value=value,
            )
        return value

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        return valid_db_instance_class(value)

    @field_validator("allocated_storage_gib")
    @classmethod
    def _storage(cls, value: int) -> int:
        low, high = GP3_STORAGE_GIB
        if not low <= value <= high:
            raise FieldError(f"gp3 storage must be between {low} and {high} GiB, got {value}", value=value)
        return value

    @field_validator("db_name")
    @classmethod
    def _db_name(cls, value: str) -> str:
        return _identifier(value, "database name", _RESERVED_DATABASES)

    @field_validator("master_username")
    @classmethod
    def _master_username(cls, value: str) -> str:
        return valid_database_user(value)

    @field_validator("backup_window")
    @classmethod
    def _backup_window(cls, value: str | None) -> str | None:
        if value is not None:
            _daily_window(value, min_minutes=30)
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str | None) -> str | None:
        if value is not None:
            _weekly_window(value, min_minutes=30)
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return valid_kms_key_arn(value)

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, value: int) -> int:
        if value not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
            raise FieldError(
                "must be 7, a multiple of 31 up to 713, or 731 (Performance Insights periods)", value=value
            )
        return value

    @field_validator("monitoring_interval_seconds")
    @classmethod
    def _monitoring(cls, value: int) -> int:
        if value not in MONITORING_INTERVALS_SECONDS:
            raise FieldError(
                f"must be one of {', '.join(map(str, MONITORING_INTERVALS_SECONDS))} (0 turns enhanced monitoring off)",
                value=value,
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatabaseConfig:
        maximum = self.max_allocated_storage_gib
        if maximum is not None and not self.allocated_storage_gib < maximum <= GP3_STORAGE_GIB[1]:
            raise FieldError(
                f"must be greater than allocated_storage_gib ({self.allocated_storage_gib}) and at most "
                f"{GP3_STORAGE_GIB[1]} GiB; remove it to turn storage autoscaling off",
                path=("max_allocated_storage_gib",),
                value=maximum,
            )
        if self.read_replica.enabled and self.backup_retention_days == 0:
            raise FieldError(
                "must be 1-35 when read_replica is enabled: RDS builds replicas from automated backups",
                path=("backup_retention_days",),
                value=0,
            )
        if self.proxy.enabled and self.major_version not in PROXY_POSTGRES_MAJORS:
            raise FieldError(
                f"RDS Proxy cannot front PostgreSQL {self.major_version}; it supports majors "
                f"{PROXY_POSTGRES_MAJORS.start}-{PROXY_POSTGRES_MAJORS.stop - 1}. Use one of those or disable the proxy",
                path=("proxy", "enabled"),
                value=True,
            )
        if self.database_insights == "advanced" and self.performance_insights_retention_days < ADVANCED_INSIGHTS_DAYS:
            raise FieldError(
                f"advanced needs performance_insights_retention_days of at least {ADVANCED_INSIGHTS_DAYS}, got "
                f"{self.performance_insights_retention_days}",
                path=("database_insights",),
                value=self.database_insights,
            )
        if self.read_replica.enabled and self.backup_window and not self.maintenance_window:
            raise FieldError(
                f"is required with read_replica and backup_window ({self.backup_window}): the replica takes the "
                "backup window, and a maintenance window RDS draws at random may overlap it (the create then fails); "
                "give one that does not overlap, e.g. 'sun:04:00-sun:05:00'",
                path=("maintenance_window",),
                value=None,
            )
        if self.backup_window and self.maintenance_window:
            backup = _daily_window(self.backup_window, min_minutes=30)
            maintenance = _weekly_window(self.maintenance_window, min_minutes=30)
            if _overlaps_daily(maintenance, backup):
                raise FieldError(
                    f"overlaps backup_window {self.backup_window}; RDS needs them apart",
                    path=("maintenance_window",),
                    value=self.maintenance_window,
                )
        return self

    @property
    def major_version(self) -> int:
        """PostgreSQL major version, e.g. 16 (parameter group family ``postgres16``)."""
        return int(self.engine_version.split(".")[0])


def valid_db_instance_class(value: str) -> str:
    """Check an RDS instance class name."""
    if not _DB_CLASS.match(value):
        raise FieldError(
            "must be an RDS instance class db.<family>.<size>, e.g. db.t4g.micro, db.m7g.large, db.r6g.2xlarge",
            value=value,
        )
    return value


def valid_database_user(value: str) -> str:
    """Check a PostgreSQL user name (master or a service's IAM user)."""
    return _identifier(value, "database user", _RESERVED_USERS)


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


# --- cache -------------------------------------------------------------------------------------


class CacheConfig(Strict):
    """ElastiCache (Redis OSS or Valkey) replication group in the private-data subnets."""

    engine: Literal["redis", "valkey"] = Field(default="valkey", description="valkey (Redis-compatible) or redis.")
    engine_version: str = Field(description="<major>.<minor>: redis 6.2, 7.0, 7.1; valkey 7.2, 8.0, 8.1.")
    node_type: str = Field(description="cache.<family>.<size>, e.g. cache.t4g.micro or cache.r7g.large.")
    num_cache_clusters: int = Field(
        default=2,
        ge=1,
        le=MAX_CACHE_CLUSTERS,
        description="Nodes (primary + replicas). With 2 or more: multi-AZ and automatic failover.",
    )
    auth: Literal["token", "iam"] = Field(
        default="token",
        description="token: an AUTH token generated at apply time into Secrets Manager; iam: an RBAC user group of IAM-authenticated users, one per service.",
    )
    snapshot_retention_days: int = Field(default=7, ge=0, le=35, description="Daily snapshots kept; 0 turns them off.")
    snapshot_window: str | None = Field(
        default=None, description="hh24:mi-hh24:mi UTC, at least 60 minutes; ElastiCache picks one when unset."
    )
    maintenance_window: str | None = Field(
        default=None, description="ddd:hh24:mi-ddd:hh24:mi UTC, at least 60 minutes; ElastiCache picks one when unset."
    )
    kms_key_arn: str | None = Field(
        default=None,
        description="Customer-managed key for data at rest and the token secret; the environment's key (see "
        "[encryption]) when unset. Encryption is always on; changing the at-rest key replaces the replication group.",
    )
    log_retention_days: int = Field(default=365, description="Retention of the slow-log log group.")
    auto_minor_version_upgrade: bool = Field(
        default=True, description="Minor versions apply in the maintenance window."
    )
    apply_immediately: bool = Field(
        default=False,
        description="Node type, engine version and parameter changes apply at once; false: in the maintenance "
        "window, and plans show them until then. Off by default: no apply disturbs production in business hours.",
    )
    alarms: CacheAlarmsConfig = Field(default_factory=CacheAlarmsConfig)

    @field_validator("node_type")
    @classmethod
    def _node_type(cls, value: str) -> str:
        if not _CACHE_NODE.match(value):
            raise FieldError(
                "must be an ElastiCache node type cache.<family>.<size>, e.g. cache.t4g.micro, cache.r7g.large",
                value=value,
            )
        return value

    @field_validator("snapshot_window")
    @classmethod
    def _snapshot_window(cls, value: str | None) -> str | None:
        if value is not None:
            _daily_window(value, min_minutes=60)
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str | None) -> str | None:
        if value is not None:
            _weekly_window(value, min_minutes=60)
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return valid_kms_key_arn(value)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return valid_retention(value)

    @model_validator(mode="after")
    def _consistent(self) -> CacheConfig:
        allowed = REDIS_VERSIONS if self.engine == "redis" else VALKEY_VERSIONS
        try:
            _version(self.engine_version, allowed[-1])
        except FieldError as error:
            raise FieldError(error.message, path=("engine_version",), value=self.engine_version) from None
        if self.engine_version not in allowed:
            raise FieldError(
                f"is not an ElastiCache {self.engine} version; use one of {', '.join(allowed)}",
                path=("engine_version",),
                value=self.engine_version,
            )
        if self.auth == "iam" and self.engine_version not in IAM_AUTH_VERSIONS[self.engine]:
            raise FieldError(
                f"IAM authentication needs {self.engine} {' or '.join(IAM_AUTH_VERSIONS[self.engine])}; "
                "upgrade engine_version or use auth = 'token'",
                path=("auth",),
                value=self.auth,
            )
        if self.snapshot_window and self.maintenance_window:
            snapshot = _daily_window(self.snapshot_window, min_minutes=60)
            maintenance = _weekly_window(self.maintenance_window, min_minutes=60)
            if _overlaps_daily(maintenance, snapshot):
                raise FieldError(
                    f"overlaps snapshot_window {self.snapshot_window}; ElastiCache needs them apart",
                    path=("maintenance_window",),
                    value=self.maintenance_window,
                )
        return self

    @property
    def highly_available(self) -> bool:
        """Multi-AZ with automatic failover: true whenever there is a replica to fail over to."""
        return self.num_cache_clusters >= 2


# --- per-service access ------------------------------------------------------------------------


class ServiceDataAccess(Strict):
    """What a service reads and writes: ``[services.<name>.data_access]``."""

    uses_database: bool = Field(default=False, description="The service gets RDS_* settings and permission to connect.")
    database_user: str | None = Field(
        default=None,
        description="Database user it connects as with IAM auth; its name with '-' as '_' when unset. The user must exist with GRANT rds_iam.",
    )
    uses_cache: bool = Field(default=False, description="The service gets REDIS_* settings and the cache credentials.")

    @field_validator("database_user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else valid_database_user(value)


def database_user_for(service: str, access: ServiceDataAccess, database: DatabaseConfig) -> str:
    """The database user ``service`` connects as: its own with IAM auth, else the master user."""
    if not database.iam_auth:
        return database.master_username
    return access.database_user or service.replace("-", "_")


def check_data_access(
    services: Mapping[str, ServiceConfig], database: DatabaseConfig | None, cache: CacheConfig | None
) -> None:
    """Cross-checks between services and the data tier; paths are relative to the environment."""
    for name, service in services.items():
        access = service.data_access
        base = ("services", name, "data_access")
        if access.uses_database and database is None:
            raise FieldError(
                "needs a [database] table in this environment; add one or set uses_database = false",
                path=(*base, "uses_database"),
                value=True,
            )
        if access.uses_cache and cache is None:
            raise FieldError(
                "needs a [cache] table in this environment; add one or set uses_cache = false",
                path=(*base, "uses_cache"),
                value=True,
            )
        if access.database_user is not None and not access.uses_database:
            raise FieldError(
                "is only used when uses_database = true", path=(*base, "database_user"), value=access.database_user
            )
        reserved = (DATABASE_VARIABLES if access.uses_database else ()) + (CACHE_VARIABLES if access.uses_cache else ())
        for table in ("environment", "secrets"):
            for variable in getattr(service.task, table):
                if variable in reserved:
                    raise FieldError(
                        "is set by the data tier for services that use it; remove it from the task settings",
                        path=("services", name, "task", table, variable),
                        value=variable,
                    )
        if database is None or not access.uses_database:
            continue
        if not database.iam_auth and access.database_user not in (None, database.master_username):
            raise FieldError(
                "password auth connects as the master user (the only password RDS manages); "
                "remove database_user or set database.iam_auth = true",
                path=(*base, "database_user"),
                value=access.database_user,
            )
        user = database_user_for(name, access, database)
        if database.iam_auth and user == database.master_username:
            raise FieldError(
                "must not be the master user: GRANT rds_iam would disable the master password; use a dedicated user",
                path=(*base, "database_user"),
                value=user,
            )
        try:
            valid_database_user(user)
        except FieldError as error:
            raise FieldError(
                f"derived from the service name: {error.message}; set database_user explicitly",
                path=(*base, "database_user"),
                value=user,
            ) from None
