"""ECS cluster: Container Insights, Fargate / Fargate Spot capacity, and a Service Connect namespace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterServiceConnectDefaults, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.service_discovery_http_namespace import ServiceDiscoveryHttpNamespace
from constructs import Construct

from .block import Block

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


@dataclass(frozen=True, kw_only=True)
class CapacityShare:
    """One capacity provider's part of a strategy."""

    base: int = 0
    """Tasks always placed on this provider first; at most one provider of a strategy has a base."""
    weight: int = 0
    """Relative share of the tasks beyond the base."""


@dataclass(frozen=True, kw_only=True)
class ClusterProps:
    """The cluster every service of an environment runs in."""

    name: str
    """Cluster name, e.g. ``netflux-prod``."""
    namespace_name: str
    """Cloud Map HTTP namespace for Service Connect, e.g. ``netflux-prod.internal``; services reach each other
    by their Service Connect alias inside it."""
    container_insights: Literal["enabled", "enhanced", "disabled"] = "enabled"
    """CloudWatch Container Insights: per-task and per-service CPU, memory and network metrics."""
    capacity_provider_strategy: Mapping[str, CapacityShare] = field(
        default_factory=lambda: {"FARGATE": CapacityShare(weight=1)}
    )
    """Default placement of tasks, keyed by FARGATE / FARGATE_SPOT: on-demand Fargate only."""


class Cluster(Block):
    """An ECS cluster with both Fargate capacity providers and a Service Connect namespace."""

    cluster: EcsCluster
    arn: str
    name: str
    namespace_arn: str
    namespace_name: str
    capacity_providers: EcsClusterCapacityProviders
    """The capacity-provider association; services depend on it so they never start before it exists."""
    strategy: dict[str, CapacityShare]
    """The default capacity provider strategy, for services to state explicitly."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ClusterProps) -> None:
        super().__init__(scope, construct_id)
        strategy = props.capacity_provider_strategy
        unknown = sorted(set(strategy) - set(CAPACITY_PROVIDERS))
        if unknown:
            raise ValueError(f"unknown capacity providers {unknown}; allowed: {', '.join(CAPACITY_PROVIDERS)}")
        if not any(share.weight > 0 for share in strategy.values()):
            raise ValueError("capacity_provider_strategy needs at least one provider with weight > 0")
        if sum(1 for share in strategy.values() if share.base > 0) > 1:
            raise ValueError("capacity_provider_strategy may give a base to only one provider")
        self.strategy = dict(strategy)

        namespace = ServiceDiscoveryHttpNamespace(
            self,
            "namespace",
            name=props.namespace_name,
            description=f"Service Connect names of the {props.name} services",
        )
        self.namespace_arn = namespace.arn
        self.namespace_name = namespace.name

        self.cluster = EcsCluster(
            self,
            "cluster",
            name=props.name,
            setting=[EcsClusterSetting(name="containerInsights", value=props.container_insights)],
            service_connect_defaults=EcsClusterServiceConnectDefaults(namespace=namespace.arn),
        )
        self.arn = self.cluster.arn
        self.name = self.cluster.name

        self.capacity_providers = EcsClusterCapacityProviders(
            self,
            "capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=list(CAPACITY_PROVIDERS),
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    capacity_provider=provider, base=share.base, weight=share.weight
                )
                for provider, share in sorted(strategy.items())
            ],
        )
