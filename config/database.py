"""Settings of the database (``[database]``): RDS for PostgreSQL in the private-data subnets, with an
optional read replica and RDS Proxy, its logs and its alarms.

A missing ``[database]`` table means the environment has none; a present one gets the secure,
highly-available default for every field it leaves out. Nothing here holds a secret: RDS manages
the master password in Secrets Manager.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import KmsKeyArn, RetentionDays, Strict, between, major_minor
from .errors import FieldError
from .windows import check_apart, daily, weekly

# PostgreSQL's port on RDS and RDS Proxy (the platform does not change it).
POSTGRES_PORT = 5432
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
GP3_STORAGE_GIB = (20, 65536)
# RDS refuses a maintenance window that overlaps the backup window; both last at least 30 minutes.
WINDOW_MIN_MINUTES = 30
MIB = 1024**2
# RDS for PostgreSQL's default: max_connections = LEAST({DBInstanceClassMemory/9531392}, 5000).
POSTGRES_BYTES_PER_CONNECTION = 9_531_392
POSTGRES_MAX_CONNECTIONS_CAP = 5000
# DBInstanceClassMemory is the class's memory minus what the OS and RDS processes keep: observed
# max_connections (db.t3.micro ~81, db.m5.large ~823) fit "memory minus max(10 %, 300 MiB)".
# An estimate that errs low makes the alarm fire early rather than never.
RESERVED_MEMORY_FRACTION = 0.10
RESERVED_MEMORY_MIN_MIB = 300
# The RDS for PostgreSQL instance classes the platform accepts: the current-generation families of
# AWS's "Supported DB engines for DB instance classes" table (PostgreSQL column, every region together),
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html.
# Each family's memory is known, so the connections alarm can always estimate max_connections; which
# classes a region offers is checked at plan time (modules/database.py). A family added here needs its
# sizes and memory, nothing else.
# Burstable classes: memory by size.
BURSTABLE_MEMORY_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
BURSTABLE_FAMILIES = ("t3", "t4g")
_TO_16XL = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_TO_24XL = (*_TO_16XL, "24xlarge")
_TO_32XL = (*_TO_24XL, "32xlarge")
_TO_48XL = (*_TO_24XL, "48xlarge")
# The other families: (GiB of memory per vCPU, sizes); large = 2 vCPU, xlarge = 4, <n>xlarge = 4n.
MEMORY_FAMILIES: dict[str, tuple[int, tuple[str, ...]]] = {
    **dict.fromkeys(("m5", "m5d"), (4, _TO_24XL)),
    **dict.fromkeys(("m6g", "m6gd", "m7g"), (4, _TO_16XL)),
    **dict.fromkeys(("m6i", "m6id", "m6in", "m6idn"), (4, _TO_32XL)),
    **dict.fromkeys(("m7i", "m8g", "m8gd", "m8a", "m9g"), (4, _TO_48XL)),
    **dict.fromkeys(("r5", "r5b", "r5d"), (8, _TO_24XL)),
    **dict.fromkeys(("r6g", "r6gd", "r7g"), (8, _TO_16XL)),
    **dict.fromkeys(("r6i", "r6id", "r6in", "r6idn"), (8, _TO_32XL)),
    **dict.fromkeys(("r7i", "r8g", "r8gd", "r8a"), (8, _TO_48XL)),
    "x2g": (16, _TO_16XL),
    "x2idn": (16, ("16xlarge", "24xlarge", "32xlarge")),
    "x2iedn": (32, ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "24xlarge", "32xlarge")),
}
_CLASS = re.compile(r"^db\.(?P<family>[a-z][a-z0-9]*)\.(?P<size>[a-z0-9]+)$")
_PG_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Names RDS or PostgreSQL reserve, and the well-known default an attacker tries first.
_RESERVED_USERS = frozenset({"postgres", "rdsadmin", "rdsrepladmin", "rdstopmgr", "public", "admin", "root",
                             "user", "all", "none", "current_user", "session_user"})  # fmt: skip
_RESERVED_DATABASES = frozenset({"postgres", "rdsadmin", "template0", "template1"})


class ReadReplicaConfig(Strict):
    """An optional same-region read replica ``<identifier>-replica`` of the primary instance, in the
    same subnets and security group, multi-AZ like the primary, with automated backups of its own
    (PostgreSQL 14 and later)."""

    enabled: bool = Field(default=False, description="No replica unless asked for.")
    instance_class: str | None = Field(default=None, description="Replica class; the primary's when unset.")

    @field_validator("instance_class")
    @classmethod
    def _class(cls, value: str | None) -> str | None:
        return None if value is None else valid_db_instance_class(value)


class DatabaseProxyConfig(Strict):
    """RDS Proxy in front of the primary, in the private-app subnets: pooled connections, TLS
    required, IAM auth end to end. Services then connect through its endpoint."""

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

    retention_days: RetentionDays = Field(default=365, description="Retention of the exported postgresql/upgrade logs.")
    min_duration_statement_ms: int = Field(
        default=1000, ge=-1, le=2147483647, description="Log statements slower than this; -1 off, 0 every statement."
    )
    connections: bool = Field(default=True, description="Log every connection (who connected, from where).")
    disconnections: bool = Field(default=True, description="Log session ends with their duration.")
    statement: Literal["none", "ddl", "mod", "all"] = Field(
        default="ddl", description="Which statements are logged: ddl records schema changes only."
    )
    lock_waits: bool = Field(default=True, description="Log waits longer than deadlock_timeout.")


class DatabaseAlarmsConfig(Strict):
    """Alarms on the RDS instance (``[database.alarms]``). Percentages are 1-100."""

    cpu_percent: int = Field(default=80, description="CPUUtilization average above this.")
    free_storage_percent: int = Field(
        default=10, description="FreeStorageSpace below this share of allocated_storage_gib, 1-99."
    )
    free_storage_gib: int | None = Field(
        default=None, description="FreeStorageSpace below this many GiB; replaces the percentage when set."
    )
    connections_percent: int = Field(
        default=80, description="DatabaseConnections above this share of the instance class's max_connections."
    )
    max_connections: int | None = Field(
        default=None,
        description="The database's max_connections; estimated from the instance class's memory when unset "
        "(PostgreSQL's default for RDS). Set it when the database runs with another value.",
    )

    @field_validator("cpu_percent", "connections_percent")
    @classmethod
    def _percent(cls, value: int) -> int:
        between(value, 1, 100, " %")
        return value

    @field_validator("free_storage_percent")
    @classmethod
    def _storage_percent(cls, value: int) -> int:
        between(value, 1, 99, " %")
        return value

    @field_validator("free_storage_gib")
    @classmethod
    def _storage_gib(cls, value: int | None) -> int | None:
        if value is not None:
            between(value, 1, 65536, " GiB")
        return value

    @field_validator("max_connections")
    @classmethod
    def _max_connections(cls, value: int | None) -> int | None:
        if value is not None:
            between(value, 1, 262143)  # PostgreSQL's own upper bound for max_connections
        return value

    def free_storage_threshold_gib(self, allocated_storage_gib: int) -> float:
        """Free-storage alarm threshold in GiB: the absolute value, else the share of allocated storage."""
        if self.free_storage_gib is not None:
            return float(self.free_storage_gib)
        return allocated_storage_gib * self.free_storage_percent / 100


class DatabaseConfig(Strict):
    """RDS for PostgreSQL ``<project>-<environment>-postgres`` in the private-data subnets, never
    public, storage always encrypted gp3. Present means the environment has a database."""

    engine_version: str = Field(
        description="PostgreSQL <major>.<minor>, e.g. 16.4; majors 13-18. With auto_minor_version_upgrade only "
        "the major is pinned and RDS keeps the minor current; the parameter group family follows the major."
    )
    instance_class: str = Field(
        description="db.<family>.<size> of a current-generation family, e.g. db.t4g.micro or db.m7g.large. A class "
        "the region does not offer fails the plan."
    )
    allocated_storage_gib: int = Field(default=20, description="gp3 storage at creation, 20-65536 GiB.")
    max_allocated_storage_gib: int | None = Field(
        default=None,
        description="Storage autoscaling ceiling (> allocated_storage_gib); autoscaling off when unset.",
    )
    db_name: str = Field(default="app", description="Database created with the instance.")
    master_username: str = Field(
        default="app_admin",
        description="Master user; its password is generated by RDS and kept in a Secrets Manager secret RDS "
        "rotates. It never appears in the configuration, the synthesized JSON or the outputs.",
    )
    iam_auth: bool = Field(
        default=True,
        description="Services connect as their own database user with IAM tokens (the proxy, if any, does too, end "
        "to end); false: as the master user with its password. IAM database authentication is enabled on the "
        "instance either way.",
    )
    backup_retention_days: int = Field(default=7, ge=0, le=35, description="Automated backups; 0 turns them off.")
    backup_window: Annotated[str, daily(WINDOW_MIN_MINUTES)] | None = Field(
        default=None,
        description="hh24:mi-hh24:mi UTC, at least 30 minutes; RDS picks one when unset. Only with backups "
        "(backup_retention_days > 0).",
    )
    maintenance_window: Annotated[str, weekly(WINDOW_MIN_MINUTES)] | None = Field(
        default=None, description="ddd:hh24:mi-ddd:hh24:mi UTC, at least 30 minutes; RDS picks one when unset."
    )
    multi_az: bool = Field(default=True, description="Synchronous standby in another AZ with automatic failover.")
    deletion_protection: bool = Field(
        default=True, description="The instance (and replica) cannot be deleted until this is off."
    )
    skip_final_snapshot: bool = Field(
        default=False, description="Deleting the instance takes a final snapshot unless this is true."
    )
    auto_minor_version_upgrade: bool = Field(
        default=True, description="Minor versions apply in the maintenance window."
    )
    apply_immediately: bool = Field(
        default=False,
        description="Instance changes (class, storage, engine version) apply at once, with the restart some of "
        "them need; false: they wait for the maintenance window, and every plan shows them as changes until "
        "then. Off by default, so no apply restarts a production database in business hours.",
    )
    kms_key_arn: KmsKeyArn | None = Field(
        default=None,
        description="Customer-managed key for storage, Performance Insights and the master secret. Unset: the "
        "environment's key (see [encryption]) for Performance Insights and the secret, and the AWS-managed aws/rds "
        "key for storage (a storage key is fixed at creation: changing it replaces the instance). Storage is "
        "always encrypted.",
    )
    performance_insights_retention_days: int = Field(
        default=7, description="Performance Insights retention (always on): 7 (free), 31 x months, or 731."
    )
    database_insights: Literal["standard", "advanced"] = Field(
        default="standard",
        description="CloudWatch Database Insights mode, which replaces the Performance Insights console in 2026: "
        "standard (free, 7 days) or advanced (fleet-level, paid; needs performance_insights_retention_days >= 465).",
    )
    monitoring_interval_seconds: int = Field(
        default=60,
        description="Enhanced monitoring granularity, with a role the platform creates; 0 turns it off. One of "
        "0, 1, 5, 10, 15, 30, 60.",
    )
    logs: DatabaseLogsConfig = Field(default_factory=DatabaseLogsConfig)
    alarms: DatabaseAlarmsConfig = Field(default_factory=DatabaseAlarmsConfig)
    read_replica: ReadReplicaConfig = Field(default_factory=ReadReplicaConfig)
    proxy: DatabaseProxyConfig = Field(default_factory=DatabaseProxyConfig)

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        major, _ = major_minor(value, "16.4")
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
    def _storage_and_replica(self) -> DatabaseConfig:
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
        if self.backup_retention_days == 0 and self.backup_window is not None:
            raise FieldError(
                "is set but database.backup_retention_days is 0 (automated backups off), so nothing uses it: "
                "remove it or keep backups for 1-35 days",
                path=("backup_window",),
                value=self.backup_window,
            )
        return self

    @model_validator(mode="after")
    def _engine_features(self) -> DatabaseConfig:
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
        return self

    @model_validator(mode="after")
    def _windows_apart(self) -> DatabaseConfig:
        if self.read_replica.enabled and self.backup_window and not self.maintenance_window:
            raise FieldError(
                f"is required with read_replica and backup_window ({self.backup_window}): the replica takes the "
                "backup window, and a maintenance window RDS draws at random may overlap it (the create then fails); "
                "give one that does not overlap, e.g. 'sun:04:00-sun:05:00'",
                path=("maintenance_window",),
                value=None,
            )
        if self.backup_window and self.maintenance_window:
            check_apart(
                self.maintenance_window,
                daily_field="backup_window",
                daily_value=self.backup_window,
                min_minutes=WINDOW_MIN_MINUTES,
                owner="RDS",
            )
        return self

    @property
    def major_version(self) -> int:
        """PostgreSQL major version, e.g. 16 (parameter group family ``postgres16``)."""
        return int(self.engine_version.split(".")[0])


def instance_class_sizes(family: str) -> tuple[str, ...]:
    """The sizes of an instance class family the platform accepts (none for an unknown family)."""
    if family in BURSTABLE_FAMILIES:
        return tuple(BURSTABLE_MEMORY_GIB)
    return MEMORY_FAMILIES.get(family, (0, ()))[1]


def valid_db_instance_class(value: str) -> str:
    """Check an RDS instance class name: a size of a family in the table above."""
    shape = "must be an RDS instance class db.<family>.<size>, e.g. db.t4g.micro, db.m7g.large, db.r6g.2xlarge"
    found = _CLASS.match(value)
    if found is None:
        raise FieldError(shape, value=value)
    family, size = found["family"], found["size"]
    sizes = instance_class_sizes(family)
    if not sizes:
        families = ", ".join((*BURSTABLE_FAMILIES, *MEMORY_FAMILIES))
        raise FieldError(
            f"{shape}; db.{family} is not a current-generation RDS for PostgreSQL family: use one of {families}",
            value=value,
        )
    if size not in sizes:
        raise FieldError(f"{shape}; db.{family} comes in {', '.join(sizes)}", value=value)
    return value


def valid_database_user(value: str) -> str:
    """Check a PostgreSQL user name (master or a service's IAM user)."""
    return _identifier(value, "database user", _RESERVED_USERS)


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


def instance_class_memory_gib(instance_class: str) -> int | None:
    """Memory of an RDS instance class in GiB, or None when the class is not one the platform accepts."""
    found = _CLASS.match(instance_class)
    if not found or found["size"] not in instance_class_sizes(found["family"]):
        return None
    family, size = found["family"], found["size"]
    if family in BURSTABLE_FAMILIES:
        return BURSTABLE_MEMORY_GIB[size]
    vcpus = 2 if size == "large" else 4 * int(size.removesuffix("xlarge") or 1)
    return MEMORY_FAMILIES[family][0] * vcpus


def max_connections(instance_class: str) -> int:
    """PostgreSQL's default max_connections on ``instance_class`` (estimated, see RESERVED_MEMORY_*)."""
    memory_gib = instance_class_memory_gib(instance_class)
    if memory_gib is None:
        raise ValueError(f"instance class {instance_class!r} is not one valid_db_instance_class accepts")
    memory_mib = memory_gib * 1024
    usable_bytes = (memory_mib - max(memory_mib * RESERVED_MEMORY_FRACTION, RESERVED_MEMORY_MIN_MIB)) * MIB
    return min(int(usable_bytes // POSTGRES_BYTES_PER_CONNECTION), POSTGRES_MAX_CONNECTIONS_CAP)
