"""The container cluster every service shares (``[compute]``): which compute runs the workload, and
for Fargate the cluster's metrics and capacity providers.

Defaults are the secure, highly-available choice: Container Insights on, on-demand Fargate only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import Strict, valid_kms_key_arn
from .errors import FieldError
from .repository import RepositoryConfig

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


class CapacityProviderShareConfig(Strict):
    """One capacity provider's part of the strategy (``[compute.capacity_provider_strategy.<PROVIDER>]``)."""

    base: int = Field(default=0, ge=0, le=100_000, description="Tasks always placed here first, 0-100000.")
    weight: int = Field(default=0, ge=0, le=1000, description="Relative share of the tasks beyond base, 0-1000.")


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
    log_kms_key_arn: str | None = Field(
        default=None,
        description="KMS key for the services' log groups; the environment's key (see [encryption]) when unset.",
    )
    ecr: RepositoryConfig = Field(default_factory=RepositoryConfig, description="The image repositories.")

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
