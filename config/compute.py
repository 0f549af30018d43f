"""Compute config: how each service's containers run (``[services.<name>.task|deployment|scaling]``)
and the cluster-wide settings every service shares (``[compute]``).

Defaults are the secure, highly-available choice: read-only root filesystem, no ECS Exec, two
tasks with autoscaling, on-demand Fargate only, Container Insights on, ECR repositories that
cannot be deleted while they hold images.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import (
    SECRET_LOOKING,
    SECRETS_MANAGER_ARN,
    SSM_PARAMETER_ARN,
    VARIABLE_NAME,
    Strict,
    valid_kms_key_arn,
    valid_retention,
)
from .errors import FieldError

# Valid Fargate task sizes: cpu units -> allowed memory in MiB.
FARGATE_MEMORY_MIB: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")

# A full Secrets Manager ARN, optionally followed by ECS's ``:json-key:version-stage:version-id`` selector.
_SECRETS_MANAGER_ARN = re.compile(rf"^{SECRETS_MANAGER_ARN}(?::[^:]*:[^:]*:[^:]*)?$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def allowed_memory_text(cpu: int) -> str:
    """The memory sizes Fargate accepts for ``cpu``, written out for an error message."""
    values = FARGATE_MEMORY_MIB[cpu]
    if len(values) <= 8:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step} ({values[0]}, {values[1]}, ..., {values[-1]})"


# --- per service -------------------------------------------------------------------------------


class ContainerHealthCheckConfig(Strict):
    """A container health check run by the ECS agent inside the task (``[services.<name>.task.health_check]``)."""

    command: list[str] = Field(
        description='Command, e.g. ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"].'
    )
    interval_seconds: int = Field(default=30, ge=5, le=300, description="Time between checks, 5-300.")
    timeout_seconds: int = Field(default=5, ge=2, le=120, description="Time a check may take, 2-120.")
    retries: int = Field(default=3, ge=1, le=10, description="Consecutive failures before unhealthy, 1-10.")
    start_period_seconds: int = Field(
        default=0, ge=0, le=300, description="Grace time after start before failures count, 0-300."
    )

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        if len(value) < 2 or value[0] not in ("CMD", "CMD-SHELL"):
            raise FieldError(
                'must start with "CMD" or "CMD-SHELL" followed by the command, e.g. ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]',
                value=value,
            )
        return value

    @model_validator(mode="after")
    def _timeout(self) -> ContainerHealthCheckConfig:
        if self.timeout_seconds >= self.interval_seconds:
            raise FieldError(
                f"must be shorter than interval_seconds ({self.interval_seconds})",
                path=("timeout_seconds",),
                value=self.timeout_seconds,
            )
        return self


class ServiceTaskConfig(Strict):
    """What one service runs: the Fargate task size, image, settings and logs (``[services.<name>.task]``)."""

    cpu: int = Field(default=256, description="Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384.")
    memory_mib: int = Field(default=512, description="Task memory in MiB; the allowed values depend on cpu.")
    cpu_architecture: Literal["X86_64", "ARM64"] = Field(
        default="X86_64", description="CPU architecture the image is built for; ARM64 (Graviton) costs ~20% less."
    )
    image_tag: str | None = Field(
        default=None,
        description="Image tag to run. When unset it comes from the Terraform variable image_tag_<service> "
        "(e.g. terraform apply -var image_tag_movie_service=<git sha>), so a pipeline can pass it.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Plain environment variables; never secrets (they are readable in the task definition).",
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables injected from Secrets Manager or SSM Parameter Store: name -> ARN.",
    )
    log_retention_days: int = Field(default=365, description="Container log retention; a CloudWatch period.")
    readonly_root_filesystem: bool = Field(
        default=True, description="Root filesystem read-only; a writable /tmp volume is mounted for scratch files."
    )
    health_check: ContainerHealthCheckConfig | None = Field(
        default=None, description="Container health check; only the load balancer's check when unset."
    )
    enable_execute_command: bool = Field(
        default=False, description="ECS Exec (shell into running tasks); off: no interactive access."
    )

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int) -> int:
        if value not in FARGATE_MEMORY_MIB:
            raise FieldError(
                f"must be one of Fargate's task sizes: {', '.join(map(str, FARGATE_MEMORY_MIB))}", value=value
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return valid_retention(value)

    @field_validator("image_tag")
    @classmethod
    def _image_tag(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _IMAGE_TAG.match(value):
            raise FieldError(
                "must be a Docker tag: up to 128 letters, digits, underscores, dots and hyphens, not starting with . or -",
                value=value,
            )
        if value == "latest":
            raise FieldError(
                "must name one immutable build (a version or commit SHA): repositories use IMMUTABLE tags, "
                "so 'latest' could be pushed only once",
                value=value,
            )
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        for name, variable in value.items():
            _variable_name(name, variable)
            if SECRET_LOOKING.search(name):
                raise FieldError(
                    "looks like a secret; store it in Secrets Manager or SSM and reference it under secrets instead "
                    "(environment values are readable by anyone who can describe the task definition)",
                    path=(name,),
                    value=variable,
                )
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, arn in value.items():
            _variable_name(name, arn)
            if not (_SECRETS_MANAGER_ARN.match(arn) or SSM_PARAMETER_ARN.match(arn)):
                raise FieldError(
                    "must be the full ARN of a Secrets Manager secret "
                    "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>[:<json-key>::]) "
                    "or of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>)",
                    path=(name,),
                    value=arn,
                )
        return value

    @model_validator(mode="after")
    def _task(self) -> ServiceTaskConfig:
        allowed = FARGATE_MEMORY_MIB[self.cpu]
        if self.memory_mib not in allowed:
            raise FieldError(
                f"is not a valid Fargate size for cpu = {self.cpu}; allowed memory_mib: {allowed_memory_text(self.cpu)}",
                path=("memory_mib",),
                value=self.memory_mib,
            )
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise FieldError(
                f"{', '.join(both)} is set both here and under environment; keep one",
                path=("secrets", both[0]),
                value=self.secrets[both[0]],
            )
        # The SSM agent ECS Exec injects crashes on a read-only root (aws/containers-roadmap #1359).
        if self.enable_execute_command and self.readonly_root_filesystem:
            raise FieldError(
                "needs readonly_root_filesystem = false: the SSM agent ECS Exec injects writes to the container's "
                "root filesystem",
                path=("enable_execute_command",),
                value=True,
            )
        return self


def _variable_name(name: str, value: str) -> None:
    if not VARIABLE_NAME.match(name):
        raise FieldError(
            "variable names must be letters, digits and underscores, not starting with a digit",
            path=(name,),
            value=value,
        )


class ServiceDeploymentConfig(Strict):
    """How new versions roll out (``[services.<name>.deployment]``). Circuit breaker with rollback is always on."""

    image_deploys: Literal["terraform", "pipeline"] = Field(
        default="terraform",
        description="Who deploys new images. terraform: every apply sets the task definition and desired count; "
        "pipeline: CI registers task definitions and updates the service, Terraform ignores that drift.",
    )
    minimum_healthy_percent: int = Field(
        default=100, ge=0, le=100, description="Tasks that must stay running during a deployment, % of desired."
    )
    maximum_percent: int = Field(
        default=200, ge=100, description="Tasks that may run during a deployment, % of desired (at least 100)."
    )
    health_check_grace_period_seconds: int = Field(
        default=60,
        ge=0,
        le=2_147_483_647,
        description="Time a new task has before failed load-balancer health checks count against it.",
    )

    @model_validator(mode="after")
    def _percentages(self) -> ServiceDeploymentConfig:
        if self.maximum_percent <= self.minimum_healthy_percent:
            raise FieldError(
                f"must be greater than minimum_healthy_percent ({self.minimum_healthy_percent}), otherwise a "
                "deployment can neither start a new task nor stop an old one",
                path=("maximum_percent",),
                value=self.maximum_percent,
            )
        return self


_AUTOSCALING_FIELDS = (
    "min_count",
    "max_count",
    "cpu_target_percent",
    "requests_per_target",
    "scale_in_cooldown_seconds",
    "scale_out_cooldown_seconds",
)


class ServiceScalingConfig(Strict):
    """How many tasks run (``[services.<name>.scaling]``): a fixed count, or target-tracking autoscaling."""

    desired_count: int = Field(
        default=2, ge=0, description="Tasks to run; with autoscaling, the count at creation (kept within min..max)."
    )
    autoscaling: bool = Field(
        default=True, description="Target tracking on average CPU and on ALB requests per task; off: a fixed count."
    )
    min_count: int = Field(default=2, ge=0, description="Fewest tasks autoscaling keeps.")
    max_count: int = Field(default=4, ge=1, description="Most tasks autoscaling starts.")
    cpu_target_percent: int = Field(default=70, ge=1, le=100, description="Average CPU utilisation to hold, 1-100.")
    requests_per_target: int = Field(default=1000, ge=1, description="ALB requests per task per minute to hold.")
    scale_in_cooldown_seconds: int = Field(
        default=300, ge=0, le=3600, description="Wait after a scale-in before scaling in again."
    )
    scale_out_cooldown_seconds: int = Field(
        default=60, ge=0, le=3600, description="Wait after a scale-out before scaling out again."
    )

    @model_validator(mode="after")
    def _counts(self) -> ServiceScalingConfig:
        if not self.autoscaling:
            unused = [name for name in _AUTOSCALING_FIELDS if name in self.model_fields_set]
            if unused:
                raise FieldError(
                    "is only used when autoscaling = true; remove it or turn autoscaling on",
                    path=(unused[0],),
                    value=getattr(self, unused[0]),
                )
            return self
        if self.min_count > self.max_count:
            raise FieldError(f"must be at most max_count ({self.max_count})", path=("min_count",), value=self.min_count)
        if not self.min_count <= self.desired_count <= self.max_count:
            raise FieldError(
                f"must be between min_count ({self.min_count}) and max_count ({self.max_count}) when autoscaling is on",
                path=("desired_count",),
                value=self.desired_count,
            )
        return self


# --- cluster -----------------------------------------------------------------------------------


class CapacityProviderShareConfig(Strict):
    """One capacity provider's part of the strategy (``[compute.capacity_provider_strategy.<PROVIDER>]``)."""

    base: int = Field(default=0, ge=0, le=100_000, description="Tasks always placed here first, 0-100000.")
    weight: int = Field(default=0, ge=0, le=1000, description="Relative share of the tasks beyond base, 0-1000.")


class EcrConfig(Strict):
    """Image repositories, one per service (``[compute.ecr]``). Tags are immutable and scanned on push."""

    untagged_expiry_days: int = Field(default=7, ge=1, le=3650, description="Untagged images expire after this.")
    keep_tagged_images: int = Field(
        default=50, ge=1, le=10_000, description="Newest tagged images kept; older ones expire (rollback depth)."
    )
    encryption: Literal["AES256", "KMS"] = Field(
        default="AES256",
        description="How images are encrypted at rest. AES256: ECR-managed keys; KMS: kms_key_arn, else the "
        "environment's customer-managed key (see [encryption]), else the AWS-managed aws/ecr key. Fixed when a "
        "repository is created: changing it replaces the repositories and the images in them.",
    )
    kms_key_arn: str | None = Field(
        default=None, description="With encryption = 'KMS': this key instead of the environment's key."
    )
    force_delete: bool = Field(
        default=False, description="Destroy deletes repositories that still hold images; off: destroy fails instead."
    )

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return valid_kms_key_arn(value)

    @model_validator(mode="after")
    def _key_needs_kms(self) -> EcrConfig:
        if self.kms_key_arn is not None and self.encryption != "KMS":
            raise FieldError(
                "is only used with encryption = 'KMS'; set encryption = 'KMS' or remove it",
                path=("kms_key_arn",),
                value=self.kms_key_arn,
            )
        return self


class ComputeConfig(Strict):
    """The container cluster shared by every service (``[compute]``)."""

    kind: Literal["fargate", "beanstalk"] = Field(
        default="fargate",
        description="fargate: one ECS Fargate service per [services.<name>] behind the platform ALB; "
        "beanstalk: one Elastic Beanstalk environment running a docker-compose bundle (needs [beanstalk]).",
    )
    container_insights: Literal["enabled", "enhanced", "disabled"] = Field(
        default="enabled", description="CloudWatch Container Insights metrics for the cluster."
    )
    capacity_provider_strategy: dict[str, CapacityProviderShareConfig] = Field(
        default_factory=lambda: {"FARGATE": CapacityProviderShareConfig(weight=1)},
        description="Default strategy, keyed by FARGATE / FARGATE_SPOT; on-demand Fargate only by default.",
    )
    log_kms_key_arn: str | None = Field(
        default=None,
        description="KMS key for the services' log groups; the environment's key (see [encryption]) when unset.",
    )
    ecr: EcrConfig = Field(default_factory=EcrConfig)

    @field_validator("log_kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return valid_kms_key_arn(value)

    @field_validator("capacity_provider_strategy")
    @classmethod
    def _strategy(cls, value: dict[str, CapacityProviderShareConfig]) -> dict[str, CapacityProviderShareConfig]:
        for provider in value:
            if provider not in CAPACITY_PROVIDERS:
                raise FieldError(
                    f"unknown capacity provider; allowed: {', '.join(CAPACITY_PROVIDERS)}",
                    path=(provider,),
                    value=provider,
                )
        if not any(share.weight > 0 for share in value.values()):
            raise FieldError(
                "needs at least one provider with weight > 0, otherwise no task beyond base can be placed",
                value={name: share.model_dump() for name, share in value.items()},
            )
        with_base = [name for name, share in value.items() if share.base > 0]
        if len(with_base) > 1:
            raise FieldError(
                f"may give a base to only one provider (ECS rule); {' and '.join(with_base)} both have one",
                path=(with_base[1], "base"),
                value=value[with_base[1]].base,
            )
        return value
