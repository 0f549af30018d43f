"""Elastic Beanstalk as the compute of an environment (``[beanstalk]``): one load-balanced
environment running docker compose on the Amazon Linux 2023 Docker platform, inside the VPC.

Defaults are the secure choice: enhanced health, managed platform updates, rolling deployments that
never lower capacity. Nothing here holds a secret: secrets are referenced by ARN only.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import (
    SECRETS_MANAGER_ARN,
    SSM_PARAMETER_ARN,
    VARIABLE_NAME,
    RetentionDays,
    Strict,
    valid_url_path,
)
from .cache import CacheConfig
from .credentials import REDACTED, redaction_note, secret_in_plain_sight
from .database import DatabaseConfig, valid_database_user
from .errors import FieldError, raise_all
from .load_balancer import LoadBalancerAlarmsConfig

# The Docker branch (docker compose, multi-container) on Amazon Linux 2023: what a pinned platform
# must be, and what the newest stack is looked up by at plan time (an RE2 pattern Python reads alike).
DOCKER_PLATFORMS = r"^64bit Amazon Linux 2023 v4\.[0-9]+\.[0-9]+ running Docker$"
BEANSTALK_PLATFORM_EXAMPLE = "64bit Amazon Linux 2023 v4.8.0 running Docker"
MAX_BEANSTALK_INSTANCES = 10_000

_PLATFORM = re.compile(DOCKER_PLATFORMS)
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal)$")
_WEEKLY_START = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):([0-5]\d)$")
_REPOSITORY = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
# A Secrets Manager secret ARN (with AWS's 6-character suffix), optionally ``:<json-key>``, or an
# SSM parameter ARN: what Beanstalk's environment secrets accept.
_SECRETS_MANAGER_REF = re.compile(rf"^(?P<arn>{SECRETS_MANAGER_ARN})(?::(?P<key>[^:]+))?$")
# Variables the Beanstalk construct sets from the data tier; [beanstalk.environment] may not (nor the
# IMAGE_<REPOSITORY> variables it sets, see image_variable()).
BEANSTALK_RESERVED_VARIABLES = (
    "RDS_ENDPOINT",
    "RDS_PORT",
    "RDS_DB_NAME",
    "RDS_USERNAME",
    "USE_IAM_AUTH",
    "RDS_SECRET_ARN",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_TLS",
    "REDIS_AUTH_SECRET_ARN",
)


class ManagedUpdatesConfig(Strict):
    """Managed platform updates in a weekly window (``[beanstalk.managed_updates]``)."""

    enabled: bool = Field(default=True, description="Beanstalk applies platform updates itself in the weekly window.")
    window_start: str = Field(
        default="Sun:03:00", description="Start of the 2-hour weekly window, 'Ddd:hh:mm' in UTC, e.g. Sun:03:00."
    )
    update_level: Literal["minor", "patch"] = Field(
        default="minor", description="Highest update applied: minor (new features, same branch) or patch only."
    )
    instance_refresh: bool = Field(
        default=False, description="Also replace every instance weekly when no platform update is due."
    )

    @field_validator("window_start")
    @classmethod
    def _window(cls, value: str) -> str:
        if not _WEEKLY_START.match(value):
            raise FieldError("must be 'Ddd:hh:mm' in UTC with Ddd one of Mon..Sun, e.g. Sun:03:00", value=value)
        return value


class BeanstalkConfig(Strict):
    """Elastic Beanstalk settings, used when the environment runs on ``compute.kind = "beanstalk"`` (``[beanstalk]``)."""

    platform: str | None = Field(
        default=None,
        description="Solution stack of the Docker (docker compose) platform on Amazon Linux 2023 to pin, e.g. "
        f"'{BEANSTALK_PLATFORM_EXAMPLE}'. Unset (recommended): the newest such stack AWS lists, resolved at plan "
        "time (CreateEnvironment accepts only currently listed stacks, so a pin goes stale). Either way the "
        "environment keeps the version it runs: managed updates move it forward within the branch, and a newer "
        "listing never replans it.",
    )
    instance_types: list[str] = Field(
        default_factory=lambda: ["t3.small"], description="EC2 instance types, first preferred; at most 40."
    )
    min_instances: int = Field(
        default=2,
        ge=1,
        le=MAX_BEANSTALK_INSTANCES,
        description="Fewest instances, one per AZ at least for availability.",
    )
    max_instances: int = Field(
        default=4,
        ge=1,
        le=MAX_BEANSTALK_INSTANCES,
        description="Most instances autoscaling starts; at least min_instances.",
    )
    deployment_policy: Literal["RollingWithAdditionalBatch", "Immutable"] = Field(
        default="RollingWithAdditionalBatch",
        description="RollingWithAdditionalBatch: new batches launch first, so capacity never drops; "
        "Immutable: a whole new fleet, swapped in when healthy (safest, slowest). Configuration changes that "
        "replace instances roll health-based (immutably with Immutable).",
    )
    batch_size_type: Literal["Percentage", "Fixed"] = Field(
        default="Percentage", description="Whether batch_size is a share of the fleet or an instance count."
    )
    batch_size: int = Field(
        default=50,
        le=MAX_BEANSTALK_INSTANCES,
        description="Instances per rolling batch: 1-100 (%) or 1-max_instances. Not used by Immutable deployments.",
    )
    health_check_path: str = Field(
        default="/", description="Path the load balancer checks on port 80 of the instances."
    )
    enhanced_health: bool = Field(
        default=True,
        description="Enhanced health reporting, with the environment's health published as a CloudWatch metric "
        "(and alarmed on); required by managed updates.",
    )
    log_retention_days: RetentionDays = Field(
        default=365,
        description="Instance and health logs streamed to CloudWatch Logs, kept this long (also after the environment "
        "is gone); a CloudWatch period.",
    )
    managed_updates: ManagedUpdatesConfig = Field(default_factory=ManagedUpdatesConfig)
    alarms: LoadBalancerAlarmsConfig = Field(default_factory=LoadBalancerAlarmsConfig)
    database_user: str = Field(
        default="web_app",
        description="Database user the instances sign in as with IAM auth (it must exist with GRANT rds_iam); "
        "the master user with password auth.",
    )
    repositories: list[str] = Field(
        default_factory=list,
        description='ECR repositories created for the compose services\' images, e.g. ["nginx", "api", "worker"]; '
        "the instances may pull from exactly these.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Plain environment properties; never secrets (readable in the EB console): names and values "
        "that look like credentials are refused as for a service's task.environment.",
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Environment properties Beanstalk fills at instance start from Secrets Manager "
        "(secret ARN, optionally ':<json-key>' to extract one top-level key of a JSON secret, on platform versions "
        "from 2026-01-13 on) or SSM Parameter Store (parameter ARN): name -> ARN. The instances may read exactly these.",
    )

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str | None) -> str | None:
        if value is not None and not _PLATFORM.match(value):
            raise FieldError(
                "must be a Docker platform on Amazon Linux 2023, '64bit Amazon Linux 2023 v4.<minor>.<patch> running "
                f"Docker', e.g. '{BEANSTALK_PLATFORM_EXAMPLE}' (list them with aws elasticbeanstalk "
                "list-available-solution-stacks)",
                value=value,
            )
        return value

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: list[str]) -> list[str]:
        if not 1 <= len(value) <= 40:
            raise FieldError(f"must list 1 to 40 instance types, got {len(value)}", value=value)
        for index, name in enumerate(value):
            if not _INSTANCE_TYPE.match(name):
                raise FieldError(
                    "must be an EC2 instance type such as t3.small or m7g.large", path=(index,), value=name
                )
            if value.index(name) != index:
                raise FieldError("is listed twice", path=(index,), value=name)
        return value

    @field_validator("health_check_path")
    @classmethod
    def _health_path(cls, value: str) -> str:
        return valid_url_path(value)

    @field_validator("database_user")
    @classmethod
    def _database_user(cls, value: str) -> str:
        return valid_database_user(value)

    @field_validator("repositories")
    @classmethod
    def _repositories(cls, value: list[str]) -> list[str]:
        for index, name in enumerate(value):
            if not _REPOSITORY.match(name) or "--" in name:
                raise FieldError(
                    "must be lowercase letters, digits and single hyphens, starting with a letter (at most 40)",
                    path=(index,),
                    value=name,
                )
            if value.index(name) != index:
                raise FieldError("is listed twice", path=(index,), value=name)
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        problems: list[FieldError] = []
        for name, variable in value.items():
            try:
                _variable_name(name)
            except FieldError as error:
                problems.append(error)
                continue
            finding = secret_in_plain_sight(name, variable)
            if finding is not None:
                problems.append(
                    FieldError(
                        f"{finding}; plain properties are readable by anyone who can describe the environment: "
                        "put the value in Secrets Manager or SSM and the ARN in [beanstalk.secrets]",
                        path=(name,),
                        value=REDACTED,
                    )
                )
            elif name in BEANSTALK_RESERVED_VARIABLES:
                problems.append(
                    FieldError(
                        "is set from the database/cache of this environment; remove it", path=(name,), value=name
                    )
                )
        raise_all(problems)
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, arn in value.items():
            _variable_name(name)
            if name in BEANSTALK_RESERVED_VARIABLES:
                raise FieldError(
                    "is set from the database/cache of this environment; remove it", path=(name,), value=name
                )
            if not (_SECRETS_MANAGER_REF.match(arn) or SSM_PARAMETER_ARN.match(arn)):
                raise FieldError(
                    "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>, "
                    "optionally ':<json-key>') or an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>)"
                    + redaction_note(arn),
                    path=(name,),
                    value=arn if arn.startswith("arn:") else REDACTED,
                )
        return value

    @model_validator(mode="after")
    def _sizes(self) -> BeanstalkConfig:
        if self.max_instances < self.min_instances:
            raise FieldError(
                f"must be between min_instances ({self.min_instances}) and {MAX_BEANSTALK_INSTANCES}",
                path=("max_instances",),
                value=self.max_instances,
            )
        if self.deployment_policy == "Immutable":
            raise_all(
                [
                    FieldError(
                        "is only used by rolling deployments; Immutable deploys a whole new fleet at once: remove it "
                        "or use deployment_policy = 'RollingWithAdditionalBatch'",
                        path=(name,),
                        value=getattr(self, name),
                    )
                    for name in ("batch_size_type", "batch_size")
                    if name in self.model_fields_set
                ]
            )
        high = 100 if self.batch_size_type == "Percentage" else self.max_instances
        if not 1 <= self.batch_size <= high:
            unit = "%" if self.batch_size_type == "Percentage" else " instances (max_instances)"
            raise FieldError(
                f"must be between 1 and {high}{unit} with batch_size_type = {self.batch_size_type!r}",
                path=("batch_size",),
                value=self.batch_size,
            )
        if self.managed_updates.enabled and not self.enhanced_health:
            raise FieldError(
                "must be true while managed_updates.enabled = true (Beanstalk needs enhanced health to judge an update)",
                path=("enhanced_health",),
                value=False,
            )
        images = {image_variable(name): name for name in self.repositories}
        for table in ("environment", "secrets"):
            for name in getattr(self, table):
                if name in images:
                    raise FieldError(
                        f"is set to the URL of the {images[name]!r} repository (docker-compose.yml's image); remove it",
                        path=(table, name),
                        value=name,
                    )
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise FieldError(
                "is also a plain property in [beanstalk.environment]; a name is either plain or secret",
                path=("secrets", both[0]),
                value=both[0],
            )
        return self

    def secret_references(self) -> dict[str, tuple[str, str | None]]:
        """Each secret property as (ARN without any JSON key, JSON key or None)."""
        references: dict[str, tuple[str, str | None]] = {}
        for name, value in self.secrets.items():
            found = _SECRETS_MANAGER_REF.match(value)
            references[name] = (found["arn"], found["key"]) if found else (value, None)
        return references


def image_variable(repository: str) -> str:
    """Environment property holding a repository's URL, e.g. ``IMAGE_API`` for ``api``."""
    return "IMAGE_" + repository.upper().replace("-", "_")


def _variable_name(name: str) -> None:
    if not VARIABLE_NAME.match(name):
        raise FieldError(
            "variable names must be letters, digits and underscores, not starting with a digit",
            path=(name,),
            value=name,
        )


def check_beanstalk_choice(
    compute_kind: str,
    beanstalk: BeanstalkConfig | None,
    database: DatabaseConfig | None = None,
    cache: CacheConfig | None = None,
    service_names: Collection[str] = (),
) -> None:
    """Cross-check of ``compute.kind``, ``[beanstalk]`` and the data tier it connects to; paths are
    relative to the environment. Called by EnvironmentConfig's model validator.
    """
    if compute_kind == "beanstalk":
        if beanstalk is None:
            raise FieldError(
                "is required with compute.kind = 'beanstalk' (its instances, deployments and repositories)",
                path=("beanstalk",),
                value=None,
            )
        if service_names:
            raise FieldError(
                "declare ECS services, which compute.kind = 'beanstalk' does not run: Beanstalk runs the containers "
                "of the source bundle's docker-compose.yml; remove the [services] tables",
                path=("services",),
                value=sorted(service_names),
            )
        if database is not None and database.iam_auth and beanstalk.database_user == database.master_username:
            raise FieldError(
                "must not be the master user: GRANT rds_iam would disable the master password; use a dedicated user",
                path=("beanstalk", "database_user"),
                value=beanstalk.database_user,
            )
        if cache is not None and cache.auth != "token":
            raise FieldError(
                "must be 'token' with compute.kind = 'beanstalk': the instances read the AUTH token from Secrets "
                "Manager (IAM users of ElastiCache are per ECS service)",
                path=("cache", "auth"),
                value=cache.auth,
            )
    elif beanstalk is not None:
        raise FieldError(
            f"[beanstalk] is only used with compute.kind = 'beanstalk' (this environment runs on {compute_kind!r}); "
            "remove [beanstalk] or set compute.kind = 'beanstalk'",
            path=("compute", "kind"),
            value=compute_kind,
        )
