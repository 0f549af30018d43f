"""ECS cluster: Container Insights, Fargate / Fargate Spot capacity, and a Service Connect namespace."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterServiceConnectDefaults, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.service_discovery_http_namespace import ServiceDiscoveryHttpNamespace
from constructs import Construct

from config.cluster import CAPACITY_PROVIDERS, CapacityProviderShareConfig, ComputeConfig

from .block import Block, Naming
from .kms import PlatformKey


class Cluster(Block):
    """An ECS cluster named ``<project>-<environment>`` with both Fargate capacity providers and a
    Service Connect namespace ``<project>-<environment>.internal``, in which services reach each other
    by their Service Connect alias."""

    cluster: EcsCluster
    arn: str
    name: str
    namespace_arn: str
    namespace_name: str
    capacity_providers: EcsClusterCapacityProviders
    """The capacity-provider association; services depend on it so they never start before it exists."""
    strategy: dict[str, CapacityProviderShareConfig]
    """The default capacity provider strategy, for services to state explicitly."""
    log_kms_key_arn: str | None
    """KMS key of the services' log groups: ``[compute] log_kms_key_arn``, else the environment's key."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: ComputeConfig,
        naming: Naming,
        key: PlatformKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.strategy = dict(settings.capacity_provider_strategy)
        self.log_kms_key_arn = settings.log_kms_key_arn or (key.arn if key else None)

        namespace = ServiceDiscoveryHttpNamespace(
            self,
            "namespace",
            name=f"{naming.prefix}.internal",
            description=f"Service Connect names of the {naming.prefix} services",
        )
        self.namespace_arn = namespace.arn
        self.namespace_name = namespace.name

        self.cluster = EcsCluster(
            self,
            "cluster",
            name=naming.prefix,
            setting=[EcsClusterSetting(name="containerInsights", value=settings.container_insights)],
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
                for provider, share in sorted(self.strategy.items())
            ],
        )
