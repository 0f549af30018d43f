"""The container cluster every service shares (``[compute]``): which compute runs the workload, and
for Fargate the cluster's metrics, capacity providers and ECS Exec (``[compute.exec]``).

Defaults are the secure, highly-available choice: Container Insights on, on-demand Fargate only, no
ECS Exec.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import KmsKeyArn, RetentionDays, Strict
from .errors import FieldError
from .kms import EncryptionConfig
from .repository import RepositoryConfig
from .service import ServiceConfig, ServiceTaskConfig

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


class CapacityProviderShareConfig(Strict):
    """One capacity provider's part of the strategy (``[compute.capacity_provider_strategy.<PROVIDER>]``)."""

    base: int = Field(default=0, ge=0, le=100_000, description="Tasks always placed here first, 0-100000.")
    weight: int = Field(default=0, ge=0, le=1000, description="Relative share of the tasks beyond base, 0-1000.")


class ExecConfig(Strict):
    """ECS Exec, a shell in a running task (``[compute.exec]``): whether the environment offers it, and
    how long its sessions are kept."""

    enabled: bool = Field(
        default=False,
        description="ECS Exec in this environment (`make exec ENV=<env> SERVICE=<name>`): the cluster encrypts "
        "sessions with the environment's key (needs encryption.customer_managed_key = true) and logs them to its "
        "own log group /ecs/<project>-<environment>/exec, and every service with a writable root filesystem "
        "(task.readonly_root_filesystem = false) accepts sessions unless its task.enable_execute_command = false. "
        "Off: no task can be shelled into.",
    )
    log_retention_days: RetentionDays = Field(default=365, description="Session log retention; a CloudWatch period.")

    def on_for(self, task: ServiceTaskConfig) -> bool:
        """Whether a service with these task settings accepts ECS Exec sessions."""
        if not self.enabled:
            return False
        if task.enable_execute_command is None:
            # The SSM agent ECS Exec injects cannot run on a read-only root (see ServiceTaskConfig).
            return not task.readonly_root_filesystem
        return task.enable_execute_command


class ComputeConfig(Strict):
    """The container cluster shared by every service (``[compute]``)."""

    kind: Literal["fargate", "beanstalk"] = Field(
        default="fargate",
        description="fargate: one ECS Fargate service per [services.<name>] behind the platform ALB; "
        "beanstalk: one Elastic Beanstalk environment running a docker-compose bundle (needs [beanstalk]).",
    )
    container_insights: Literal["enabled", "enhanced", "disabled"] = Field(
        default="enabled",
        description="CloudWatch Container Insights: per-task and per-service CPU, memory and network metrics.",
    )
    capacity_provider_strategy: dict[str, CapacityProviderShareConfig] = Field(
        default_factory=lambda: {"FARGATE": CapacityProviderShareConfig(weight=1)},
        description="Default placement of tasks, keyed by FARGATE / FARGATE_SPOT; on-demand Fargate only by default.",
    )
    log_kms_key_arn: KmsKeyArn | None = Field(
        default=None,
        description="KMS key for the services' log groups; the environment's key (see [encryption]) when unset.",
    )
    ecr: RepositoryConfig = Field(default_factory=RepositoryConfig, description="The image repositories.")
    exec: ExecConfig = Field(default_factory=ExecConfig, description="ECS Exec: shells in running tasks.")

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


def check_exec(
    compute: ComputeConfig, services: dict[str, ServiceConfig], encryption: EncryptionConfig
) -> list[FieldError]:
    """ECS Exec asked of a service in an environment without it, or without the key that encrypts its sessions."""
    problems: list[FieldError] = []
    if compute.exec.enabled and not encryption.customer_managed_key:
        problems.append(
            FieldError(
                "needs encryption.customer_managed_key = true: ECS Exec sessions and their log group are encrypted "
                "with the environment's key; turn the key on or set compute.exec.enabled = false",
                path=("compute", "exec", "enabled"),
                value=True,
            )
        )
    if not compute.exec.enabled:
        problems += [
            FieldError(
                "needs compute.exec.enabled = true: the environment's ECS Exec switch also builds the cluster's "
                "session encryption and logging; turn it on (and set enable_execute_command = false on services "
                "that must stay closed) or remove this line",
                path=("services", name, "task", "enable_execute_command"),
                value=True,
            )
            for name, service in services.items()
            if service.task.enable_execute_command
        ]
    return problems
