"""Settings of the cache (``[cache]``): an ElastiCache (Redis OSS or Valkey) replication group in the
private-data subnets, and its alarms.

A missing ``[cache]`` table means the environment has none; a present one gets the secure,
highly-available default for every field it leaves out. Nothing here holds a secret: the AUTH token
is generated at apply time.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import KmsKeyArn, RetentionDays, Strict, between, major_minor
from .errors import FieldError
from .windows import check_apart, daily, weekly

# Redis/Valkey's port on ElastiCache (TLS on the same port).
CACHE_PORT = 6379
REDIS_VERSIONS = ("6.2", "7.0", "7.1")
VALKEY_VERSIONS = ("7.2", "8.0", "8.1")
# IAM authentication of ElastiCache users needs Redis OSS 7.0+ or Valkey 7.2+.
IAM_AUTH_VERSIONS = {"redis": ("7.0", "7.1"), "valkey": VALKEY_VERSIONS}
MAX_CACHE_CLUSTERS = 6  # primary + 5 replicas without cluster mode
# ElastiCache refuses a maintenance window that overlaps the snapshot window; both last at least an hour.
WINDOW_MIN_MINUTES = 60
# The ElastiCache node types the platform accepts: the current-generation families AWS lists under
# "Supported node types" (every region together), family -> sizes,
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html. Previous
# generations (t2, m4, r4 and older) are left out: AWS is retiring them. Which types a region offers is
# checked at plan time (modules/cache.py).
_SMALL = ("micro", "small", "medium")
_TO_16XL = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
NODE_TYPES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("t3", "t4g"), _SMALL),
    **dict.fromkeys(("m5", "r5"), ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge")),
    **dict.fromkeys(("m6g", "m7g", "m8g", "r6g", "r7g", "r8g", "c7gn", "c8gn"), _TO_16XL),
    "r6gd": _TO_16XL[1:],
}
_CACHE_NODE = re.compile(r"^cache\.(?P<family>[a-z][a-z0-9]*)\.(?P<size>[a-z0-9]+)$")


class CacheAlarmsConfig(Strict):
    """Alarms on every node of the cache (``[cache.alarms]``)."""

    cpu_percent: int = Field(default=80, description="EngineCPUUtilization average above this, 1-100.")
    memory_percent: int = Field(default=80, description="DatabaseMemoryUsagePercentage above this, 1-100.")
    evictions: int = Field(default=100, description="Keys evicted for lack of memory per period, above this.")

    @field_validator("cpu_percent", "memory_percent")
    @classmethod
    def _percent(cls, value: int) -> int:
        between(value, 1, 100, " %")
        return value

    @field_validator("evictions")
    @classmethod
    def _count(cls, value: int) -> int:
        between(value, 0, 1_000_000)
        return value


class CacheConfig(Strict):
    """ElastiCache (Redis OSS or Valkey) replication group ``<project>-<environment>-cache`` in the
    private-data subnets. Encryption in transit (TLS required) and at rest is always on."""

    engine: Literal["redis", "valkey"] = Field(default="valkey", description="valkey (Redis-compatible) or redis.")
    engine_version: str = Field(description="<major>.<minor>: redis 6.2, 7.0, 7.1; valkey 7.2, 8.0, 8.1.")
    node_type: str = Field(
        description="cache.<family>.<size> of a current-generation family, e.g. cache.t4g.micro or cache.r7g.large. "
        "A type the region does not offer fails the plan."
    )
    num_cache_clusters: int = Field(
        default=2,
        ge=1,
        le=MAX_CACHE_CLUSTERS,
        description="Nodes (primary + replicas). With 2 or more: multi-AZ and automatic failover.",
    )
    auth: Literal["token", "iam"] = Field(
        default="token",
        description="token: an AUTH token generated at apply time into Secrets Manager; iam: an RBAC user group of "
        "IAM-authenticated users, one per service that uses the cache.",
    )
    snapshot_retention_days: int = Field(
        default=7, ge=0, le=35, description="Daily snapshots kept; 0 turns snapshots (and the final snapshot) off."
    )
    snapshot_window: Annotated[str, daily(WINDOW_MIN_MINUTES)] | None = Field(
        default=None, description="hh24:mi-hh24:mi UTC, at least 60 minutes; ElastiCache picks one when unset."
    )
    maintenance_window: Annotated[str, weekly(WINDOW_MIN_MINUTES)] | None = Field(
        default=None, description="ddd:hh24:mi-ddd:hh24:mi UTC, at least 60 minutes; ElastiCache picks one when unset."
    )
    kms_key_arn: KmsKeyArn | None = Field(
        default=None,
        description="Customer-managed key for data at rest and the token secret; the environment's key (see "
        "[encryption]) when unset. Encryption is always on; changing the at-rest key replaces the replication group.",
    )
    log_retention_days: RetentionDays = Field(default=365, description="Retention of the slow-log log group.")
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
        shape = "must be an ElastiCache node type cache.<family>.<size>, e.g. cache.t4g.micro, cache.r7g.large"
        found = _CACHE_NODE.match(value)
        if found is None:
            raise FieldError(shape, value=value)
        family, size = found["family"], found["size"]
        if family not in NODE_TYPES:
            raise FieldError(
                f"{shape}; cache.{family} is not a current-generation ElastiCache family: use one of "
                f"{', '.join(NODE_TYPES)}",
                value=value,
            )
        if size not in NODE_TYPES[family]:
            raise FieldError(f"{shape}; cache.{family} comes in {', '.join(NODE_TYPES[family])}", value=value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CacheConfig:
        allowed = REDIS_VERSIONS if self.engine == "redis" else VALKEY_VERSIONS
        try:
            major_minor(self.engine_version, allowed[-1])
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
        if self.snapshot_window is not None and self.snapshot_retention_days == 0:
            raise FieldError(
                "is set but snapshot_retention_days = 0 turns snapshots off, so nothing uses it: remove it or "
                "keep snapshots (snapshot_retention_days >= 1)",
                path=("snapshot_window",),
                value=self.snapshot_window,
            )
        if self.snapshot_window and self.maintenance_window:
            check_apart(
                self.maintenance_window,
                daily_field="snapshot_window",
                daily_value=self.snapshot_window,
                min_minutes=WINDOW_MIN_MINUTES,
                owner="ElastiCache",
            )
        return self

    @property
    def highly_available(self) -> bool:
        """Multi-AZ with automatic failover: true whenever there is a replica to fail over to."""
        return self.num_cache_clusters >= 2
