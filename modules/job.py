"""A scheduled or one-off job: a Fargate task definition that runs a service's image with a command of
its own, and, with a schedule, the EventBridge Scheduler schedule that starts it."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetEcsParameters,
    SchedulerScheduleTargetEcsParametersNetworkConfiguration,
    SchedulerScheduleTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from config.job import JobConfig, JobScheduleConfig
from config.naming import IAM_ROLE_NAME_MAX

from .block import Alarm, AlarmPolicy, Block, Naming, Signal, Statistic
from .cluster import Cluster
from .iam import Statement, allow, policy_document, service_role
from .kms import PlatformKey
from .network import Network
from .security_groups import SecurityGroups
from .service import (
    ECS_TASKS,
    Service,
    TaskRoles,
    container_definition,
    fargate_task_definition,
    log_options,
    task_roles,
)

SCHEDULER = "scheduler.amazonaws.com"
SCHEDULE_GROUP = "default"
SCHEDULE_NAME_MAX = 64
QUEUE_NAME_MAX = 80
# SQS keeps a message at most 14 days: the longest a failed start can wait for someone to look.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# The encryption-context key EventBridge Scheduler binds a schedule's encrypted data to.
SCHEDULE_CONTEXT = "aws:scheduler:schedule:arn"


class Job(Block):
    """The task definition ``<project>-<environment>-<name>`` of one job: its service's image (or
    another tag of it, ``settings.image_tag``), plain settings, secrets and data access, the job's
    ``command``, size and log group ``/ecs/<that>``
    (encrypted like the service's, kept as long), and roles of its own named like a service's, which
    may do exactly what the service's may. The task runs in the private-app subnets with the app
    security group, never with a public IP: where its service runs, reaching what its service reaches.

    With ``settings.schedule``, an EventBridge Scheduler schedule of the same name (flexible window
    off) starts one task of the task definition's current revision on Fargate (launch type FARGATE:
    on-demand capacity, so no Spot interruption cuts a run short), through a role ``...-scheduler``
    that only EventBridge Scheduler of this account may assume and that may run only this task
    family, only in this cluster, pass only the job's two roles to ECS and tag only the tasks it
    starts. Without a schedule, `make run-job` starts it from the ``ecs_jobs`` output.
    """

    stateful_types = frozenset({"aws_cloudwatch_log_group", "aws_sqs_queue"})

    log_group: CloudwatchLogGroup
    roles: TaskRoles
    task_definition: EcsTaskDefinition
    family: str
    """The task family (``<project>-<environment>-<name>``): RunTask runs its latest revision."""
    container_name: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    schedule: SchedulerSchedule | None
    scheduler_role: IamRole | None
    dead_letter_queue: SqsQueue | None

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        settings: JobConfig,
        naming: Naming,
        cluster: Cluster,
        service: Service,
        network: Network,
        security_groups: SecurityGroups,
        key: PlatformKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._name, self._naming, self._cluster, self._key = name, naming, cluster, key
        self.family, self.container_name = naming.name(name), name
        self.subnet_ids = list(network.private_app_subnet_ids)
        self.security_group_ids = [security_groups.app_sg_id]
        self.log_group = self._log_group(service)
        self.roles = self._task_roles(service)
        self.task_definition = self._task_definition(settings, service)
        self.schedule = self.scheduler_role = self.dead_letter_queue = None
        if settings.schedule is not None:
            self._schedule(settings.schedule)

    def _log_group(self, service: Service) -> CloudwatchLogGroup:
        """Adds the log group ``/ecs/<family>``, encrypted like the service's and kept as long."""
        return CloudwatchLogGroup(
            self,
            "logs",
            name=f"/ecs/{self.family}",
            retention_in_days=service.settings.task.log_retention_days,
            kms_key_id=self._cluster.log_kms_key_arn,
        )

    def _task_roles(self, service: Service) -> TaskRoles:
        """Adds the job's execution and task roles, allowed exactly what the service's are."""
        return task_roles(
            self,
            naming=self._naming,
            name=self._name,
            repository_arn=service.repository_arn,
            log_group_arn=self.log_group.arn,
            secrets=service.secrets,
            data_access=service.data_access,
        )

    def _task_definition(self, settings: JobConfig, service: Service) -> EcsTaskDefinition:
        """Adds the task definition: the service's image (or its ``image_tag``) running the job's command."""
        name, task = self._name, service.settings.task
        container = container_definition(
            name=name,
            image=f"{service.repository_url}:{settings.image_tag}" if settings.image_tag else service.image,
            port=None,
            readonly_root_filesystem=task.readonly_root_filesystem,
            environment=service.environment,
            secrets=service.secrets,
            logs=log_options(log_group_name=self.log_group.name, region=self._naming.region, stream_prefix=name),
            command=settings.command,
        )
        return fargate_task_definition(
            self,
            family=self.family,
            cpu=settings.cpu,
            memory_mib=settings.memory_mib,
            cpu_architecture=task.cpu_architecture,
            roles=self.roles,
            container=container,
        )

    def _schedule(self, settings: JobScheduleConfig) -> None:
        """Adds the schedule that starts the task, its role and, when asked for, its dead-letter queue."""
        naming, key = self._naming, self._key
        partition = DataAwsPartition(self, "partition").partition
        account = DataAwsCallerIdentity(self, "account").account_id
        name = naming.name(self._name, max_length=SCHEDULE_NAME_MAX)
        if settings.dead_letter_queue:
            self.dead_letter_queue = self._dead_letter_queue()
        schedule_arn = f"arn:{partition}:scheduler:{naming.region}:{account}:schedule/{SCHEDULE_GROUP}/{name}"
        self.scheduler_role, policy = self._scheduler_role(partition, account, schedule_arn)
        self.schedule = SchedulerSchedule(
            self,
            "schedule",
            name=name,
            group_name=SCHEDULE_GROUP,
            description=f"Runs the {self._name} job of {naming.prefix}",
            schedule_expression=settings.expression,
            schedule_expression_timezone=settings.timezone,
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            state="DISABLED" if settings.paused else "ENABLED",
            kms_key_arn=key.arn if key else None,
            target=self._schedule_target(settings, self.scheduler_role),
            # A run must find its permissions: the scheduler's to start the task, ECS's to pull the
            # image and write the logs.
            depends_on=[policy, self.roles.execution_policy],
        )

    def _dead_letter_queue(self) -> SqsQueue:
        """Adds the queue that keeps the events of runs EventBridge Scheduler could not start."""
        key = self._key
        return SqsQueue(
            self,
            "dead-letter-queue",
            name=self._naming.name(f"{self._name}-dlq", max_length=QUEUE_NAME_MAX),
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            kms_master_key_id=key.arn if key else None,
            sqs_managed_sse_enabled=None if key else True,
        )

    def _scheduler_role(self, partition: str, account: str, schedule_arn: str) -> tuple[IamRole, IamRolePolicy]:
        """Adds the role only this account's EventBridge Scheduler may assume, and its policy."""
        role_name = self._naming.name(f"{self._name}-scheduler", max_length=IAM_ROLE_NAME_MAX)
        role = service_role(
            self,
            "scheduler-role",
            name=role_name,
            service=SCHEDULER,
            condition={"StringEquals": {"aws:SourceAccount": account}},
        )
        policy = IamRolePolicy(
            self,
            "scheduler-policy",
            name=role_name,
            role=role.id,
            policy=policy_document(self._scheduler_statements(partition, account, schedule_arn)),
        )
        return role, policy

    def _schedule_target(self, settings: JobScheduleConfig, role: IamRole) -> SchedulerScheduleTarget:
        """One Fargate task of the current revision, in the job's subnets, with retries and dead letters."""
        return SchedulerScheduleTarget(
            arn=self._cluster.arn,
            role_arn=role.arn,
            ecs_parameters=SchedulerScheduleTargetEcsParameters(
                task_definition_arn=self.task_definition.arn,
                task_count=1,
                launch_type="FARGATE",
                platform_version="LATEST",
                network_configuration=SchedulerScheduleTargetEcsParametersNetworkConfiguration(
                    subnets=self.subnet_ids, security_groups=self.security_group_ids, assign_public_ip=False
                ),
                enable_ecs_managed_tags=True,
                propagate_tags="TASK_DEFINITION",
            ),
            retry_policy=SchedulerScheduleTargetRetryPolicy(
                maximum_retry_attempts=settings.retry_attempts,
                maximum_event_age_in_seconds=settings.max_event_age_minutes * 60,
            ),
            dead_letter_config=(
                SchedulerScheduleTargetDeadLetterConfig(arn=self.dead_letter_queue.arn)
                if self.dead_letter_queue
                else None
            ),
        )

    def _scheduler_statements(self, partition: str, account: str, schedule_arn: str) -> list[Statement]:
        """Run this task family (any revision: a new one replaces the current on apply) in this cluster,
        pass exactly the job's two roles to ECS, tag the tasks it starts (the task definition's tags are
        propagated), send failed starts to the dead-letter queue, and decrypt this schedule's data."""
        cluster, roles, key, region = self._cluster, self.roles, self._key, self._naming.region
        statements: list[Statement] = [
            allow(
                ["ecs:RunTask"],
                [f"{self.task_definition.arn_without_revision}:*"],
                Condition={"ArnEquals": {"ecs:cluster": cluster.arn}},
            ),
            allow(
                ["iam:PassRole"],
                [roles.execution_role.arn, roles.task_role.arn],
                Condition={"StringEquals": {"iam:PassedToService": ECS_TASKS}},
            ),
            allow(
                ["ecs:TagResource"],
                [f"arn:{partition}:ecs:{region}:{account}:task/{cluster.name}/*"],
                Condition={"StringEquals": {"ecs:CreateAction": "RunTask"}},
            ),
        ]
        if self.dead_letter_queue is not None:
            statements.append(allow(["sqs:SendMessage"], [self.dead_letter_queue.arn]))
            if key is not None:
                # SQS encrypts each message with a data key of the queue's key, as the sender.
                statements.append(
                    allow(
                        ["kms:Decrypt", "kms:GenerateDataKey"],
                        [key.arn],
                        Condition={"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
                    )
                )
        if key is not None:
            statements.append(
                allow(
                    ["kms:Decrypt"],
                    [key.arn],
                    Condition={"StringEquals": {f"kms:EncryptionContext:{SCHEDULE_CONTEXT}": schedule_arn}},
                )
            )
        return statements

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """A run EventBridge Scheduler could not start, in the dead-letter queue (when there is one)."""
        if self.dead_letter_queue is None:
            return []
        return [
            Alarm(
                construct_id=f"job-dead-letters-{self._name}",
                namespace="AWS/SQS",
                metric="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": self.dead_letter_queue.name},
                threshold=0,
                statistic=Statistic.MAXIMUM,
                signal=Signal.SPARSE,
                description=f"{self._name}: a scheduled run could not be started (its event is in the dead-letter "
                "queue)",
            )
        ]
