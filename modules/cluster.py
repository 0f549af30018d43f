"""ECS cluster: Container Insights, Fargate / Fargate Spot capacity, a Service Connect namespace and,
when the environment offers it, ECS Exec sessions encrypted and logged."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_cluster import (
    EcsCluster,
    EcsClusterConfiguration,
    EcsClusterConfigurationExecuteCommandConfiguration,
    EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration,
    EcsClusterServiceConnectDefaults,
    EcsClusterSetting,
)
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.service_discovery_http_namespace import ServiceDiscoveryHttpNamespace
from constructs import Construct

from config.cluster import CAPACITY_PROVIDERS, CapacityProviderShareConfig, ComputeConfig, ExecConfig
from config.service import ServiceTaskConfig

from .block import Block, Naming
from .iam import Statement, allow
from .kms import PlatformKey

# ECS Exec's Session Manager channels have no resource-level permissions.
EXEC_CHANNELS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
# The encryption-context key of every Session Manager session's data key.
SESSION_CONTEXT = "aws:ssm:SessionId"


@dataclass(frozen=True)
class ExecSessions:
    """Where the cluster's ECS Exec sessions are logged, and the key that encrypts them."""

    log_group_name: str
    log_group_arn: str
    kms_key_arn: str

    def task_statements(self) -> list[Statement]:
        """What a task role needs to accept sessions: the Session Manager channels; the session log group
        (the agent looks the group up with DescribeLogGroups, which has no resource-level permissions, to
        check it is encrypted); and kms:Decrypt of the session's data key. The client that opens the
        session generates that key (kms:GenerateDataKey is the operator's permission, not the task's)
        under the encryption context aws:ssm:SessionId / aws:ssm:TargetId, and the agent decrypts it
        with the same context (amazon-ssm-agent, agent/session/crypto/blockcipher.go): the key decrypts
        nothing else for the task."""
        group = self.log_group_arn
        return [
            allow(EXEC_CHANNELS, ["*"]),
            allow(["logs:DescribeLogGroups"], ["*"]),
            allow(["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"], [group, f"{group}:*"]),
            allow(
                ["kms:Decrypt"],
                [self.kms_key_arn],
                Condition={"Null": {f"kms:EncryptionContext:{SESSION_CONTEXT}": "false"}},
            ),
        ]


class Cluster(Block):
    """An ECS cluster named ``<project>-<environment>`` with both Fargate capacity providers and a
    Service Connect namespace ``<project>-<environment>.internal``, in which services reach each other
    by their Service Connect alias. With ``[compute.exec]`` on, ECS Exec sessions are encrypted with
    the environment's key and logged (``logging = OVERRIDE``) to ``/ecs/<project>-<environment>/exec``,
    encrypted with the same key."""

    stateful_types = frozenset({"aws_cloudwatch_log_group"})

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
    exec: ExecSessions | None
    """ECS Exec's session log group and key; None when the environment offers no ECS Exec."""

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
        self._exec_settings = settings.exec
        self.exec = self._exec_sessions(settings.exec, naming, key) if settings.exec.enabled else None

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
            configuration=self._exec_configuration(),
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

    def _exec_sessions(self, settings: ExecConfig, naming: Naming, key: PlatformKey | None) -> ExecSessions:
        if key is None:
            # config/cluster.py check_exec refuses this at load.
            raise ValueError("ECS Exec needs the environment's key (encryption.customer_managed_key = true)")
        log_group = CloudwatchLogGroup(
            self,
            "exec-logs",
            name=f"/ecs/{naming.prefix}/exec",
            retention_in_days=settings.log_retention_days,
            kms_key_id=key.arn,
        )
        return ExecSessions(log_group_name=log_group.name, log_group_arn=log_group.arn, kms_key_arn=key.arn)

    def _exec_configuration(self) -> EcsClusterConfiguration | None:
        if self.exec is None:
            return None
        return EcsClusterConfiguration(
            execute_command_configuration=EcsClusterConfigurationExecuteCommandConfiguration(
                kms_key_id=self.exec.kms_key_arn,
                logging="OVERRIDE",
                log_configuration=EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration(
                    cloud_watch_log_group_name=self.exec.log_group_name,
                    cloud_watch_encryption_enabled=True,
                ),
            )
        )

    def exec_sessions_for(self, task: ServiceTaskConfig) -> ExecSessions | None:
        """The cluster's ECS Exec sessions when a service with these task settings accepts them, else None."""
        return self.exec if self._exec_settings.on_for(task) else None
