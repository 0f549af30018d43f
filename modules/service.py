"""One containerised service on ECS Fargate: logs, IAM roles, task definition, service, autoscaling.
A web service sits behind its target group; a backend is reached through Service Connect only; a
worker consumes its own queue and scales on its backlog."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cdktf import TerraformResourceLifecycle, TerraformStack, TerraformVariable, TerraformVariableValidationConfig
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecification as CustomizedMetric,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetrics as MetricQuery,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStat as MetricStat,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetric as Metric,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetricDimensions as MetricDimension,
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

from config.naming import IAM_ROLE_NAME_MAX
from config.queue import QUEUE_URL_VARIABLE
from config.service import IMAGE_TAG_PATTERN, ContainerHealthCheckConfig, ServiceConfig

from .block import Alarm, AlarmPolicy, Block, Naming, Statistic
from .cluster import Cluster
from .iam import Statement, allow, policy_document, service_role
from .load_balancer import LoadBalancer, ServiceTarget
from .network import Network
from .queue import Queue
from .repository import Repository
from .security_groups import SecurityGroups

ECS_TASKS = "ecs-tasks.amazonaws.com"
PORT_NAME = "http"
"""Name of the container's port mapping; Service Connect refers to the port by this name."""
TMP_VOLUME = "tmp"

# How long targets must stay unhealthy before the unhealthy-host alarm fires (longer than a rolling
# deployment keeps a starting or draining target unhealthy).
UNHEALTHY_SUSTAINED_SECONDS = 300


class DataAccess(Protocol):
    """What a service gets from the data tier (see stacks/data.py): settings, secrets, permissions."""

    @property
    def environment(self) -> Mapping[str, str]:
        """Connection settings, added to the task's plain environment variables."""

    @property
    def secrets(self) -> Mapping[str, str]:
        """Credentials, added to the task's secrets: name -> ARN (or a Terraform reference to one)."""

    @property
    def task_statements(self) -> Sequence[Statement]:
        """What the application itself may do, e.g. ``rds-db:connect`` as its own database user."""

    @property
    def execution_statements(self) -> Sequence[Statement]:
        """More that ECS needs to start the task: reading secrets whose ARNs are Terraform references
        (literal ARNs in ``secrets`` are granted automatically)."""


# --- IAM ---------------------------------------------------------------------------------------


def secret_policy_resource(arn: str) -> str:
    """The IAM resource of a secret reference: a Secrets Manager ARN without ECS's ``:json-key:stage:id``."""
    if ":secretsmanager:" in arn:
        return ":".join(arn.split(":")[:7])
    return arn


def execution_policy(*, repository_arn: str, log_group_arn: str, secrets: Mapping[str, str]) -> list[Statement]:
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


@dataclass(frozen=True)
class TaskRoles:
    """The two roles of a Fargate task (a service's or a job's)."""

    execution_role: IamRole
    """Role ECS uses to pull the image, write the logs and read the secrets."""
    execution_policy: IamRolePolicy
    task_role: IamRole
    """Role the application assumes: only what its data access grants."""


def task_roles(
    scope: Construct,
    *,
    naming: Naming,
    name: str,
    repository_arn: str,
    log_group_arn: str,
    secrets: Mapping[str, str],
    data_access: DataAccess,
) -> TaskRoles:
    """``<project>-<environment>-<name>-execution`` (this image, this log group, these secrets) and
    ``...-task`` (what ``data_access`` grants), as ``execution-role``, ``execution-policy`` and
    ``task-role`` under ``scope``."""
    # Named like every resource of the task, and shortened with a stable hash if ever too long.
    execution = naming.name(f"{name}-execution", max_length=IAM_ROLE_NAME_MAX)
    task = naming.name(f"{name}-task", max_length=IAM_ROLE_NAME_MAX)
    execution_role = service_role(scope, "execution-role", name=execution, service=ECS_TASKS)
    statements = execution_policy(repository_arn=repository_arn, log_group_arn=log_group_arn, secrets=secrets)
    policy = IamRolePolicy(
        scope,
        "execution-policy",
        name=execution,
        role=execution_role.id,
        policy=policy_document([*statements, *data_access.execution_statements]),
    )
    task_role = service_role(
        scope, "task-role", name=task, service=ECS_TASKS, inline_policy=data_access.task_statements
    )
    return TaskRoles(execution_role=execution_role, execution_policy=policy, task_role=task_role)


# --- the container -----------------------------------------------------------------------------


def image_tag_variable(stack: TerraformStack, service: str) -> TerraformVariable:
    """``image_tag_<service>``: the tag a pipeline passes (``-var image_tag_movie_service=<sha>``)."""
    name = f"image_tag_{service.replace('-', '_')}"
    return TerraformVariable(
        stack,
        name,
        type="string",
        nullable=False,
        description=f"Image tag of {service} to run: a version or commit SHA (tags are immutable)",
        validation=[
            TerraformVariableValidationConfig(
                condition=f'${{can(regex("{IMAGE_TAG_PATTERN}", var.{name})) && var.{name} != "latest"}}',
                error_message="The image tag must be a Docker tag other than 'latest', e.g. a version or commit SHA.",
            )
        ],
    )


def log_options(*, log_group_name: str, region: str, stream_prefix: str) -> dict[str, str]:
    """The awslogs driver's options: streams ``<stream_prefix>/<container>/<task id>`` in the group."""
    return {"awslogs-group": log_group_name, "awslogs-region": region, "awslogs-stream-prefix": stream_prefix}


def container_definition(
    *,
    name: str,
    image: str,
    port: int | None,
    readonly_root_filesystem: bool,
    environment: Mapping[str, str],
    secrets: Mapping[str, str],
    logs: Mapping[str, str],
    execute_command: bool = False,
    health_check: ContainerHealthCheckConfig | None = None,
    command: Sequence[str] = (),
) -> dict[str, Any]:
    """The one container of a task: ``port`` is the port it serves (None: it serves none, a job);
    ``logs`` are the awslogs driver's options; ``execute_command``: the task accepts ECS Exec sessions;
    ``command`` replaces the image's."""
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "essential": True,
        "readonlyRootFilesystem": readonly_root_filesystem,
        "logConfiguration": {"logDriver": "awslogs", "options": dict(logs)},
    }
    if port is not None:
        container["portMappings"] = [
            {"name": PORT_NAME, "containerPort": port, "protocol": "tcp", "appProtocol": "http"}
        ]
    if command:
        container["command"] = list(command)
    # Empty lists are left out: AWS drops them, and Terraform would then show a perpetual diff.
    if environment:
        container["environment"] = [{"name": k, "value": v} for k, v in sorted(environment.items())]
    if secrets:
        container["secrets"] = [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())]
    if readonly_root_filesystem:
        container["mountPoints"] = [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp", "readOnly": False}]
    if execute_command:
        # An init process reaps the SSM agent's child processes in exec sessions.
        container["linuxParameters"] = {"initProcessEnabled": True}
    if health_check is not None:
        container["healthCheck"] = {
            "command": list(health_check.command),
            "interval": health_check.interval_seconds,
            "timeout": health_check.timeout_seconds,
            "retries": health_check.retries,
            "startPeriod": health_check.start_period_seconds,
        }
    return container


def fargate_task_definition(
    scope: Construct,
    *,
    family: str,
    cpu: int,
    memory_mib: int,
    cpu_architecture: str,
    roles: TaskRoles,
    container: Mapping[str, Any],
) -> EcsTaskDefinition:
    """A Fargate task definition ``task`` under ``scope`` of one container, with the /tmp volume a
    read-only root filesystem mounts."""
    return EcsTaskDefinition(
        scope,
        "task",
        family=family,
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu=str(cpu),
        memory=str(memory_mib),
        runtime_platform=EcsTaskDefinitionRuntimePlatform(
            operating_system_family="LINUX", cpu_architecture=cpu_architecture
        ),
        execution_role_arn=roles.execution_role.arn,
        task_role_arn=roles.task_role.arn,
        container_definitions=json.dumps([container], sort_keys=True),
        volume=[EcsTaskDefinitionVolume(name=TMP_VOLUME)] if container.get("mountPoints") else None,
    )


# --- the service -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _QueueConsumer:
    """``access`` plus what consuming ``queue`` takes: its URL in QUEUE_URL, and permission to receive,
    delete and return exactly its messages."""

    access: DataAccess
    queue: Queue

    @property
    def environment(self) -> Mapping[str, str]:
        return {**self.access.environment, QUEUE_URL_VARIABLE: self.queue.url}

    @property
    def secrets(self) -> Mapping[str, str]:
        return self.access.secrets

    @property
    def task_statements(self) -> Sequence[Statement]:
        return [*self.access.task_statements, *self.queue.consume_statements()]

    @property
    def execution_statements(self) -> Sequence[Statement]:
        return self.access.execution_statements


class Service(Block):
    """A Fargate service with its own log group, roles, task definition and scaling, of one of three kinds.

    Resources are named ``<project>-<environment>-<name>`` (task family, log group ``/ecs/<that>``,
    roles ``<that>-execution`` and ``<that>-task``). ``name`` is the ECS service and its container.
    Tasks run in the private-app subnets, never with a public IP, in their kind's security group.

    - web: registers in the target group ``load_balancer.services[name]`` and is created after that
      target's listener rule (ECS rejects a target group not yet attached to a load balancer); scales
      on CPU and ALB requests per task. Other services call it by its Service Connect name
      (``http://<name>:<container_port>``).
    - backend: the same Service Connect name, and no load balancer at all; scales on CPU.
    - worker: no port; a Service Connect client only (it calls the others by name, none calls it).
      Its task role consumes exactly ``queue``, whose URL is its ``QUEUE_URL``; it scales on CPU and
      on the queue's backlog per running task.

    ``first_deploy`` starts it at zero tasks (no image can exist in a repository created by the same apply).
    """

    stateful_types = frozenset({"aws_cloudwatch_log_group"})

    roles: TaskRoles
    """Its execution role (its image, its log group, its secrets) and task role: only what
    ``data_access`` grants and a worker's own queue, nothing by default (plus ECS Exec's session
    permissions where the service accepts sessions)."""
    log_group: CloudwatchLogGroup
    task_definition: EcsTaskDefinition
    service: EcsService
    service_name: str
    autoscaling_target: AppautoscalingTarget | None
    settings: ServiceConfig
    image: str
    """``<repository url>:<tag>``: the tag from the settings or the ``image_tag_<service>`` variable."""
    repository_url: str
    repository_arn: str
    environment: dict[str, str]
    """The container's plain settings: the task's own and the data tier's."""
    secrets: dict[str, str]
    """The container's secrets: the task's own and the data tier's (name -> ARN or reference)."""
    data_access: DataAccess

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        settings: ServiceConfig,
        naming: Naming,
        cluster: Cluster,
        repository: Repository,
        network: Network,
        security_groups: SecurityGroups,
        load_balancer: LoadBalancer | None,
        data_access: DataAccess,
        queue: Queue | None = None,
        first_deploy: bool = False,
    ) -> None:
        """``load_balancer``: the ALB whose target group a web service registers in (unused by the other
        kinds); ``queue``: a worker's own queue (required for a worker, refused for the others)."""
        super().__init__(scope, construct_id)
        self._name, self.settings, self._naming = name, settings, naming
        self._cluster, self._load_balancer, self._first_deploy = cluster, load_balancer, first_deploy
        if (settings.kind == "worker") != (queue is not None):
            raise ValueError(f"{name}: a worker consumes exactly one queue, and only a worker has one")
        self._queue = queue
        self._target: ServiceTarget | None = None
        if settings.kind == "web":
            if load_balancer is None:
                raise ValueError(f"{name}: a web service needs the load balancer that routes to it")
            self._target = load_balancer.services[name]
        if queue is not None:
            data_access = _QueueConsumer(data_access, queue)
        self._exec = cluster.exec_sessions_for(settings.task)
        self._prefix = naming.name(name)
        self.repository_url, self.repository_arn, self.data_access = repository.url, repository.arn, data_access
        self.environment = {**settings.task.environment, **data_access.environment}
        self.secrets = {**settings.task.secrets, **data_access.secrets}

        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/ecs/{self._prefix}",
            retention_in_days=settings.task.log_retention_days,
            kms_key_id=cluster.log_kms_key_arn,
        )
        self._roles()
        self._task_definition()
        self._service(network, security_groups)
        self.autoscaling_target = self._autoscaling() if settings.scaling.autoscaling else None

    def _roles(self) -> None:
        self.roles = task_roles(
            self,
            naming=self._naming,
            name=self._name,
            repository_arn=self.repository_arn,
            log_group_arn=self.log_group.arn,
            secrets=self.secrets,
            data_access=self.data_access,
        )
        self._exec_policy: IamRolePolicy | None = None
        if self._exec is not None:
            self._exec_policy = IamRolePolicy(
                self,
                "task-exec-policy",
                name=f"{self._prefix}-ecs-exec",
                role=self.roles.task_role.id,
                policy=policy_document(self._exec.task_statements()),
            )

    def _task_definition(self) -> None:
        task = self.settings.task
        if task.image_tag is not None:
            tag = task.image_tag
        else:
            tag = image_tag_variable(TerraformStack.of(self), self._name).string_value
        self.image = f"{self.repository_url}:{tag}"
        container = container_definition(
            name=self._name,
            image=self.image,
            port=self.settings.container_port,
            readonly_root_filesystem=task.readonly_root_filesystem,
            environment=self.environment,
            secrets=self.secrets,
            logs=self._log_options(self._name),
            execute_command=self._exec is not None,
            health_check=task.container_health_check,
        )
        self.task_definition = fargate_task_definition(
            self,
            family=self._prefix,
            cpu=task.cpu,
            memory_mib=task.memory_mib,
            cpu_architecture=task.cpu_architecture,
            roles=self.roles,
            container=container,
        )

    def _log_options(self, stream_prefix: str) -> dict[str, str]:
        return log_options(log_group_name=self.log_group.name, region=self._naming.region, stream_prefix=stream_prefix)

    def _service(self, network: Network, security_groups: SecurityGroups) -> None:
        """The ECS service running the task definition, behind its target group if it is a web service."""
        settings, cluster, deployment = self.settings, self._cluster, self.settings.deployment
        load_balancer, grace_period, rule = None, None, []
        if self._target is not None:
            load_balancer = [self._target_group_attachment(self._target)]
            grace_period = deployment.health_check_grace_period_seconds
            rule = [self._target.listener_rule]
        self.service = EcsService(
            self,
            "service",
            name=self._name,
            cluster=cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=0 if self._first_deploy else settings.scaling.desired_count,
            capacity_provider_strategy=self._capacity_provider_strategy(),
            network_configuration=self._network_configuration(network, security_groups),
            load_balancer=load_balancer,
            # A grace period for load-balancer health checks: only a web service has them.
            health_check_grace_period_seconds=grace_period,
            deployment_minimum_healthy_percent=deployment.minimum_healthy_percent,
            deployment_maximum_percent=deployment.maximum_percent,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            # Lets a changed capacity provider strategy roll out as a deployment; without it the
            # provider replaces (destroys, then recreates) the whole service.
            force_new_deployment=True,
            enable_execute_command=self._exec is not None,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            service_connect_configuration=self._service_connect(),
            lifecycle=self._lifecycle(),
            # The listener rule attaches the target group to the ALB (ECS rejects it otherwise); the
            # capacity providers and the execution policy must exist before the first task starts, and
            # so must ECS Exec's permissions (the agent starts with the task).
            depends_on=[
                *rule,
                cluster.capacity_providers,
                self.roles.execution_policy,
                *([self._exec_policy] if self._exec_policy else []),
            ],
        )
        self.service_name = self.service.name

    def _target_group_attachment(self, target: ServiceTarget) -> EcsServiceLoadBalancer:
        """The web service's container port, registered in ``target``'s target group."""
        assert self.settings.container_port is not None  # config/service.py: a web service has a container_port
        return EcsServiceLoadBalancer(
            target_group_arn=target.target_group.arn,
            container_name=self._name,
            container_port=self.settings.container_port,
        )

    def _capacity_provider_strategy(self) -> list[EcsServiceCapacityProviderStrategy]:
        """The cluster's capacity provider shares (base and weight), in provider-name order."""
        return [
            EcsServiceCapacityProviderStrategy(capacity_provider=provider, base=share.base, weight=share.weight)
            for provider, share in sorted(self._cluster.strategy.items())
        ]

    def _network_configuration(
        self, network: Network, security_groups: SecurityGroups
    ) -> EcsServiceNetworkConfiguration:
        """Tasks in the private-app subnets, without public IPs, in the security group of the service's kind."""
        return EcsServiceNetworkConfiguration(
            subnets=list(network.private_app_subnet_ids),
            security_groups=[self._security_group(security_groups)],
            assign_public_ip=False,
        )

    def _security_group(self, security_groups: SecurityGroups) -> str:
        attribute = {"web": "app_sg_id", "backend": "backend_sg_id", "worker": "worker_sg_id"}[self.settings.kind]
        group: str | None = getattr(security_groups, attribute)
        if group is None:
            raise ValueError(f"{self._name}: security_groups has no group for {self.settings.kind} services")
        return group

    def _service_connect(self) -> EcsServiceServiceConnectConfiguration:
        # A worker has no port: a client only, it resolves the others' names and is called by none.
        port = self.settings.container_port
        return EcsServiceServiceConnectConfiguration(
            enabled=True,
            namespace=self._cluster.namespace_arn,
            service=None
            if port is None
            else [
                EcsServiceServiceConnectConfigurationService(
                    port_name=PORT_NAME,
                    discovery_name=self._name,
                    client_alias=EcsServiceServiceConnectConfigurationServiceClientAlias(
                        dns_name=self._name, port=port
                    ),
                )
            ],
            log_configuration=EcsServiceServiceConnectConfigurationLogConfiguration(
                log_driver="awslogs", options=self._log_options("service-connect")
            ),
        )

    def _lifecycle(self) -> TerraformResourceLifecycle | None:
        if self.settings.deployment.image_deploys == "pipeline":
            return TerraformResourceLifecycle(ignore_changes=["task_definition", "desired_count"])
        if self.settings.scaling.autoscaling:
            # Autoscaling owns the count after creation.
            return TerraformResourceLifecycle(ignore_changes=["desired_count"])
        return None

    def _autoscaling(self) -> AppautoscalingTarget:
        scaling = self.settings.scaling
        target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self._cluster.name}/{self.service.name}",
            min_capacity=0 if self._first_deploy else scaling.min_count,
            max_capacity=scaling.max_count,
        )
        self._scaling_policy(
            target,
            "cpu",
            scaling.cpu_target_percent,
            predefined=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                predefined_metric_type="ECSServiceAverageCPUUtilization", resource_label=None
            ),
        )
        if self._target is not None and self._load_balancer is not None:
            label = f"{self._load_balancer.arn_suffix}/{self._target.target_group.arn_suffix}"
            self._scaling_policy(
                target,
                "requests",
                scaling.requests_per_target,
                predefined=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type="ALBRequestCountPerTarget", resource_label=label
                ),
            )
        if self._queue is not None:
            self._scaling_policy(
                target, "backlog", scaling.messages_per_task, customized=self._backlog_per_task(self._queue)
            )
        return target

    def _scaling_policy(
        self,
        target: AppautoscalingTarget,
        key: str,
        target_value: float,
        *,
        predefined: AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification
        | None = None,
        customized: CustomizedMetric | None = None,
    ) -> None:
        """Target tracking that holds one metric at ``target_value``, named ``<prefix>-<key>``."""
        scaling = self.settings.scaling
        AppautoscalingPolicy(
            self,
            f"scaling-{key}",
            name=f"{self._prefix}-{key}",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=target_value,
                predefined_metric_specification=predefined,
                customized_metric_specification=customized,
                scale_in_cooldown=scaling.scale_in_cooldown_seconds,
                scale_out_cooldown=scaling.scale_out_cooldown_seconds,
            ),
        )

    def _backlog_per_task(self, queue: Queue) -> CustomizedMetric:
        """The queue's visible messages divided by the service's running tasks (AWS's "backlog per task"):
        a metric that falls as tasks are added, which target tracking needs; the queue depth alone does
        not. Running tasks come from Container Insights (config refuses a worker's autoscaling without it)."""
        visible = Metric(
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions=[MetricDimension(name="QueueName", value=queue.name)],
        )
        running = Metric(
            namespace="ECS/ContainerInsights",
            metric_name="RunningTaskCount",
            dimensions=[
                MetricDimension(name="ClusterName", value=self._cluster.name),
                MetricDimension(name="ServiceName", value=self.service.name),
            ],
        )
        return CustomizedMetric(
            metrics=[
                MetricQuery(
                    id="visible",
                    label="Visible messages",
                    metric_stat=MetricStat(metric=visible, stat="Sum"),
                    return_data=False,
                ),
                MetricQuery(
                    id="tasks",
                    label="Running tasks",
                    metric_stat=MetricStat(metric=running, stat="Average"),
                    return_data=False,
                ),
                MetricQuery(
                    id="backlog",
                    label="Visible messages per running task",
                    expression="visible / tasks",
                    return_data=True,
                ),
            ]
        )

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """CPU and memory of the service, and (web services) targets of its target group that stay unhealthy."""
        name, settings = self._name, self.settings.alarms
        dimensions = {"ClusterName": self._cluster.name, "ServiceName": self.service_name}
        found = [
            Alarm(
                construct_id=f"ecs-{short}-{name}",
                namespace="AWS/ECS",
                metric=metric,
                dimensions=dimensions,
                threshold=threshold,
                description=f"{name}: {short} above {threshold} %",
            )
            for metric, short, threshold in (
                ("CPUUtilization", "cpu", settings.cpu_percent),
                ("MemoryUtilization", "memory", settings.memory_percent),
            )
        ]
        if self._target is None or self._load_balancer is None:
            return found
        # A rolling deployment briefly has targets failing health checks while they start or drain:
        # the fewest unhealthy targets seen in a period (Minimum), over a sustained stretch, fires
        # only when targets stay unhealthy, not on every deployment.
        periods = policy.periods_for(UNHEALTHY_SUSTAINED_SECONDS)
        found.append(
            Alarm(
                construct_id=f"unhealthy-{name}",
                namespace="AWS/ApplicationELB",
                metric="UnHealthyHostCount",
                dimensions={
                    "LoadBalancer": self._load_balancer.arn_suffix,
                    "TargetGroup": self._target.target_group.arn_suffix,
                },
                threshold=settings.unhealthy_hosts,
                statistic=Statistic.MINIMUM,
                evaluation_periods=periods,
                description=f"{name}: more than {settings.unhealthy_hosts} unhealthy targets for "
                f"{periods * policy.period_seconds // 60} minutes in a row",
            )
        )
        return found
