"""One containerised service on ECS Fargate: logs, IAM roles, task definition, service, autoscaling."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceCapacityProviderStrategy,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
    EcsServiceServiceConnectConfiguration,
    EcsServiceServiceConnectConfigurationLogConfiguration,
    EcsServiceServiceConnectConfigurationService,
    EcsServiceServiceConnectConfigurationServiceClientAlias,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from config.alarms import ServiceAlarmsConfig
from config.naming import IAM_ROLE_NAME_MAX

from .block import Alarm, AlarmPolicy, Block, Statistic
from .cluster import Cluster
from .iam import Statement, allow, policy_document, service_role
from .registry import Registry

ECS_TASKS = "ecs-tasks.amazonaws.com"
PORT_NAME = "http"
"""Name of the container's port mapping; Service Connect refers to the port by this name."""
TMP_VOLUME = "tmp"

ImageDeploys = Literal["terraform", "pipeline"]

# How long targets must stay unhealthy before the unhealthy-host alarm fires (longer than a rolling
# deployment keeps a starting or draining target unhealthy).
UNHEALTHY_SUSTAINED_SECONDS = 300


@dataclass(frozen=True, kw_only=True)
class ContainerHealthCheck:
    """A health check the ECS agent runs inside the container."""

    command: list[str]
    """``["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"]`` or ``["CMD", ...]``."""
    interval_seconds: int = 30
    """Time between checks."""
    timeout_seconds: int = 5
    """Time one check may take before it counts as failed."""
    retries: int = 3
    """Consecutive failures before the container is unhealthy and the task is replaced."""
    start_period_seconds: int = 0
    """Time after start during which failures do not count."""


@dataclass(frozen=True, kw_only=True)
class ServiceAutoscaling:
    """Target-tracking autoscaling of the service's task count."""

    min_count: int
    """Fewest tasks."""
    max_count: int
    """Most tasks."""
    cpu_target_percent: int = 70
    """Average CPU utilisation of the service's tasks to hold."""
    requests_per_target: int = 1000
    """ALB requests per task per minute to hold."""
    scale_in_cooldown_seconds: int = 300
    """Wait after a scale-in before the next one."""
    scale_out_cooldown_seconds: int = 60
    """Wait after a scale-out before the next one."""


@dataclass(frozen=True, kw_only=True)
class ServiceProps:
    """One service: its task, where it runs, how it is reached, deployed and scaled."""

    name: str
    """Short service name, unique in the cluster: the ECS service, its container, and the Service Connect
    name other services call it by (``http://<name>:<container_port>``)."""
    resource_prefix: str
    """Account-unique prefix of the task family, log group and IAM role names, e.g. ``netflux-prod-movie-service``."""
    region: str
    """AWS region, for the awslogs driver."""
    cluster: Cluster
    """The cluster the service runs in; its capacity provider strategy and Service Connect namespace are used."""
    repository: Registry
    """The service's own image repository; the execution role may pull from it and nothing else."""
    image_tag: str
    """Tag of the image to run: a literal tag, or a Terraform variable reference a pipeline sets."""
    container_port: int
    """Port the container listens on; the target group and Service Connect send traffic here."""
    cpu: int = 256
    """Task CPU units (a valid Fargate size)."""
    memory_mib: int = 512
    """Task memory (valid for ``cpu`` on Fargate)."""
    cpu_architecture: Literal["X86_64", "ARM64"] = "X86_64"
    """CPU architecture of the image."""
    environment: dict[str, str] = field(default_factory=dict)
    """Plain environment variables."""
    secrets: dict[str, str] = field(default_factory=dict)
    """Environment variables from Secrets Manager / SSM: name -> ARN. The execution role may read exactly these."""
    readonly_root_filesystem: bool = True
    """Read-only root filesystem, with an empty task-local volume mounted writable at /tmp."""
    health_check: ContainerHealthCheck | None = None
    """Container health check; only the load balancer's health check when unset."""
    log_retention_days: int = 365
    """Retention of the service's log group."""
    log_kms_key_arn: str | None = None
    """KMS key for the log group; CloudWatch's default encryption when unset."""
    subnet_ids: list[str]
    """Private-app subnets the tasks run in; tasks never get a public IP."""
    security_group_ids: list[str]
    """Security groups of the tasks."""
    target_group_arn: str
    """Target group the service registers its tasks in."""
    target_group_arn_suffix: str
    """ARN suffix of that target group, for the request-count scaling metric."""
    load_balancer_arn_suffix: str
    """ARN suffix of the ALB in front of the target group, for the request-count scaling metric."""
    listener_rule: ITerraformDependable
    """The listener rule forwarding to the target group; the service is created after it because ECS
    rejects a target group that is not yet attached to a load balancer."""
    desired_count: int = 2
    """Tasks to run; with autoscaling, only the count at creation."""
    minimum_healthy_percent: int = 100
    """Running tasks kept during a deployment, % of desired."""
    maximum_percent: int = 200
    """Tasks allowed during a deployment, % of desired."""
    health_check_grace_period_seconds: int = 60
    """Time new tasks have before failing load-balancer health checks count."""
    enable_execute_command: bool = False
    """ECS Exec into running tasks; off: no interactive access."""
    image_deploys: ImageDeploys = "terraform"
    """terraform: applies set the task definition and desired count; pipeline: CI deploys new task definitions
    and Terraform ignores drift in the service's task definition and desired count."""
    autoscaling: ServiceAutoscaling | None = None
    """Target tracking on CPU and ALB requests per task; a fixed ``desired_count`` when unset."""
    task_policy_statements: list[Statement] = field(default_factory=list)
    """What the application itself may do (e.g. ``rds-db:connect`` as its own database user); nothing by default."""
    execution_policy_statements: list[Statement] = field(default_factory=list)
    """More that ECS needs to start the task, e.g. reading secrets whose ARNs are Terraform references
    (``secrets`` values that are literal ARNs are granted automatically)."""
    alarms: ServiceAlarmsConfig = field(default_factory=ServiceAlarmsConfig)
    """When the service's CPU, memory and unhealthy-target alarms fire."""


def secret_policy_resource(arn: str) -> str:
    """The IAM resource of a secret reference: a Secrets Manager ARN without ECS's ``:json-key:stage:id``."""
    if ":secretsmanager:" in arn:
        return ":".join(arn.split(":")[:7])
    return arn


def execution_policy(*, repository_arn: str, log_group_arn: str, secrets: dict[str, str]) -> list[Statement]:
    """What ECS needs to start one service's tasks: its own image, its own log group, its own secrets."""
    statements: list[Statement] = [
        # The only ECR action without resource-level permissions: it returns a registry login token.
        allow(["ecr:GetAuthorizationToken"], ["*"]),
        allow(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [repository_arn]),
        allow(["logs:CreateLogStream", "logs:PutLogEvents"], [log_group_arn, f"{log_group_arn}:*"]),
    ]
    secrets_manager = sorted({secret_policy_resource(a) for a in secrets.values() if ":secretsmanager:" in a})
    parameters = sorted({a for a in secrets.values() if ":ssm:" in a})
    if secrets_manager:
        statements.append(allow(["secretsmanager:GetSecretValue"], secrets_manager))
    if parameters:
        statements.append(allow(["ssm:GetParameters"], parameters))
    return statements


class Service(Block):
    """A Fargate service behind its target group, with its own log group, roles, task definition and scaling."""

    stateful_types = frozenset({"aws_cloudwatch_log_group"})

    task_role: IamRole
    """Role the application assumes; no permissions by default. Attach policies to it (e.g. IAM DB auth)."""
    execution_role: IamRole
    """Role ECS uses to pull the image, write logs and read the service's secrets."""
    log_group: CloudwatchLogGroup
    task_definition: EcsTaskDefinition
    service: EcsService
    service_name: str
    autoscaling_target: AppautoscalingTarget | None

    def __init__(self, scope: Construct, construct_id: str, *, props: ServiceProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        self._props = props
        prefix = props.resource_prefix

        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/ecs/{prefix}",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.log_kms_key_arn,
        )

        self.execution_role = service_role(self, "execution-role", name=f"{prefix}-execution", service=ECS_TASKS)
        execution_policy_resource = IamRolePolicy(
            self,
            "execution-policy",
            name=f"{prefix}-execution",
            role=self.execution_role.id,
            policy=policy_document(
                [
                    *execution_policy(
                        repository_arn=props.repository.arn, log_group_arn=self.log_group.arn, secrets=props.secrets
                    ),
                    *props.execution_policy_statements,
                ]
            ),
        )

        self.task_role = service_role(
            self,
            "task-role",
            name=f"{prefix}-task",
            service=ECS_TASKS,
            inline_policy=props.task_policy_statements,
        )
        if props.enable_execute_command:
            IamRolePolicy(
                self,
                "task-exec-policy",
                name=f"{prefix}-ecs-exec",
                role=self.task_role.id,
                # ECS Exec's Session Manager channels have no resource-level permissions.
                policy=policy_document(
                    [
                        allow(
                            [
                                "ssmmessages:CreateControlChannel",
                                "ssmmessages:CreateDataChannel",
                                "ssmmessages:OpenControlChannel",
                                "ssmmessages:OpenDataChannel",
                            ],
                            ["*"],
                        )
                    ]
                ),
            )

        self.task_definition = EcsTaskDefinition(
            self,
            "task",
            family=prefix,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(props.cpu),
            memory=str(props.memory_mib),
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture=props.cpu_architecture
            ),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            container_definitions=json.dumps([self._container(props)], sort_keys=True),
            volume=[EcsTaskDefinitionVolume(name=TMP_VOLUME)] if props.readonly_root_filesystem else None,
        )

        ignored = []
        if props.image_deploys == "pipeline":
            ignored += ["task_definition", "desired_count"]
        elif props.autoscaling is not None:
            ignored.append("desired_count")  # autoscaling owns the count after creation
        self.service = EcsService(
            self,
            "service",
            name=props.name,
            cluster=props.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=props.desired_count,
            capacity_provider_strategy=[
                EcsServiceCapacityProviderStrategy(capacity_provider=provider, base=share.base, weight=share.weight)
                for provider, share in sorted(props.cluster.strategy.items())
            ],
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(props.subnet_ids), security_groups=list(props.security_group_ids), assign_public_ip=False
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=props.target_group_arn,
                    container_name=props.name,
                    container_port=props.container_port,
                )
            ],
            health_check_grace_period_seconds=props.health_check_grace_period_seconds,
            deployment_minimum_healthy_percent=props.minimum_healthy_percent,
            deployment_maximum_percent=props.maximum_percent,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            # Lets a changed capacity provider strategy roll out as a deployment; without it the
            # provider replaces (destroys, then recreates) the whole service.
            force_new_deployment=True,
            enable_execute_command=props.enable_execute_command,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            service_connect_configuration=EcsServiceServiceConnectConfiguration(
                enabled=True,
                namespace=props.cluster.namespace_arn,
                service=[
                    EcsServiceServiceConnectConfigurationService(
                        port_name=PORT_NAME,
                        discovery_name=props.name,
                        client_alias=EcsServiceServiceConnectConfigurationServiceClientAlias(
                            dns_name=props.name, port=props.container_port
                        ),
                    )
                ],
                log_configuration=EcsServiceServiceConnectConfigurationLogConfiguration(
                    log_driver="awslogs",
                    options={
                        "awslogs-group": self.log_group.name,
                        "awslogs-region": props.region,
                        "awslogs-stream-prefix": "service-connect",
                    },
                ),
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=ignored) if ignored else None,
            # The listener rule attaches the target group to the ALB (ECS rejects it otherwise); the
            # capacity providers and the execution policy must exist before the first task starts.
            depends_on=[props.listener_rule, props.cluster.capacity_providers, execution_policy_resource],
        )
        self.service_name = self.service.name

        self.autoscaling_target = None
        if props.autoscaling is not None:
            self._autoscaling(props, props.autoscaling)

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """CPU and memory of the service, and targets of its target group that stay unhealthy."""
        props, settings = self._props, self._props.alarms
        dimensions = {"ClusterName": props.cluster.name, "ServiceName": self.service_name}
        found = [
            Alarm(
                construct_id=f"ecs-{short}-{props.name}",
                namespace="AWS/ECS",
                metric=metric,
                dimensions=dimensions,
                threshold=threshold,
                description=f"{props.name}: {short} above {threshold} %",
            )
            for metric, short, threshold in (
                ("CPUUtilization", "cpu", settings.cpu_percent),
                ("MemoryUtilization", "memory", settings.memory_percent),
            )
        ]
        # A rolling deployment briefly has targets failing health checks while they start or drain:
        # the fewest unhealthy targets seen in a period (Minimum), over a sustained stretch, fires
        # only when targets stay unhealthy, not on every deployment.
        periods = policy.periods_for(UNHEALTHY_SUSTAINED_SECONDS)
        found.append(
            Alarm(
                construct_id=f"unhealthy-{props.name}",
                namespace="AWS/ApplicationELB",
                metric="UnHealthyHostCount",
                dimensions={
                    "LoadBalancer": props.load_balancer_arn_suffix,
                    "TargetGroup": props.target_group_arn_suffix,
                },
                threshold=settings.unhealthy_hosts,
                statistic=Statistic.MINIMUM,
                evaluation_periods=periods,
                description=f"{props.name}: more than {settings.unhealthy_hosts} unhealthy targets for "
                f"{periods * policy.period_seconds // 60} minutes in a row",
            )
        )
        return found

    def _container(self, props: ServiceProps) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": props.name,
            "image": f"{props.repository.url}:{props.image_tag}",
            "essential": True,
            "portMappings": [
                {"name": PORT_NAME, "containerPort": props.container_port, "protocol": "tcp", "appProtocol": "http"}
            ],
            "readonlyRootFilesystem": props.readonly_root_filesystem,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.log_group.name,
                    "awslogs-region": props.region,
                    "awslogs-stream-prefix": props.name,
                },
            },
        }
        # Empty lists are left out: AWS drops them, and Terraform would then show a perpetual diff.
        if props.environment:
            container["environment"] = [{"name": k, "value": v} for k, v in sorted(props.environment.items())]
        if props.secrets:
            container["secrets"] = [{"name": k, "valueFrom": v} for k, v in sorted(props.secrets.items())]
        if props.readonly_root_filesystem:
            container["mountPoints"] = [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp", "readOnly": False}]
        if props.enable_execute_command:
            # An init process reaps the SSM agent's child processes in exec sessions.
            container["linuxParameters"] = {"initProcessEnabled": True}
        if props.health_check is not None:
            check = props.health_check
            container["healthCheck"] = {
                "command": list(check.command),
                "interval": check.interval_seconds,
                "timeout": check.timeout_seconds,
                "retries": check.retries,
                "startPeriod": check.start_period_seconds,
            }
        return container

    def _autoscaling(self, props: ServiceProps, scaling: ServiceAutoscaling) -> None:
        target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{props.cluster.name}/{self.service.name}",
            min_capacity=scaling.min_count,
            max_capacity=scaling.max_count,
        )
        self.autoscaling_target = target
        metrics = {
            "cpu": ("ECSServiceAverageCPUUtilization", scaling.cpu_target_percent, None),
            "requests": (
                "ALBRequestCountPerTarget",
                scaling.requests_per_target,
                f"{props.load_balancer_arn_suffix}/{props.target_group_arn_suffix}",
            ),
        }
        for key, (metric, target_value, label) in metrics.items():
            AppautoscalingPolicy(
                self,
                f"scaling-{key}",
                name=f"{props.resource_prefix}-{key}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                    target_value=target_value,
                    predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type=metric, resource_label=label
                    ),
                    scale_in_cooldown=scaling.scale_in_cooldown_seconds,
                    scale_out_cooldown=scaling.scale_out_cooldown_seconds,
                ),
            )


def _validate(props: ServiceProps) -> None:
    for suffix in ("-execution", "-task"):
        role = f"{props.resource_prefix}{suffix}"
        if len(role) > IAM_ROLE_NAME_MAX:
            raise ValueError(f"IAM role name {role!r} is {len(role)} characters; the limit is {IAM_ROLE_NAME_MAX}")
    if not props.subnet_ids:
        raise ValueError("subnet_ids must list at least one private-app subnet")
    if props.enable_execute_command and props.readonly_root_filesystem:
        raise ValueError("enable_execute_command needs readonly_root_filesystem = False (the SSM agent writes to it)")
    overlap = sorted(set(props.environment) & set(props.secrets))
    if overlap:
        raise ValueError(f"{', '.join(overlap)} is both an environment variable and a secret")
    scaling = props.autoscaling
    if scaling is not None and not 0 <= scaling.min_count <= props.desired_count <= scaling.max_count:
        raise ValueError(
            f"desired_count must be between autoscaling min_count and max_count, got "
            f"{scaling.min_count} <= {props.desired_count} <= {scaling.max_count}"
        )
