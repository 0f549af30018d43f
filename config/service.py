"""One containerised service (``[services.<name>]``): what kind it is (``kind``: a web service the
load balancer routes to, a backend reached only inside the cluster, or a worker consuming its own
queue), how the load balancer reaches and checks a web service, what its task runs (``task``), how
new versions roll out (``deployment``), how many tasks run (``scaling``), which data stores it uses
(``data_access``), a worker's queue (``queue``) and when its alarms fire (``alarms``).

Defaults are the secure, highly-available choice: read-only root filesystem, no ECS Exec, two
tasks with autoscaling, rollback on failed deployments.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from . import routing
from .base import (
    SECRETS_MANAGER_ARN,
    SSM_PARAMETER_ARN,
    VARIABLE_NAME,
    RetentionDays,
    Strict,
    between,
    each,
    valid_url_path,
)
from .credentials import REDACTED, redaction_note, secret_in_plain_sight
from .data_access import ServiceDataAccess
from .errors import FieldError, raise_all
from .queue import QUEUE_URL_VARIABLE, QueueConfig

ServiceKind = Literal["web", "backend", "worker"]
# How each kind is reached, for messages that refuse a setting it has no use for.
REACHED = {
    "web": "through the load balancer",
    "backend": "only inside the cluster, through Service Connect",
    "worker": "by no one (it polls its queue)",
}

# ECS's quota of tasks per service (not adjustable): the ceiling of every task count.
MAX_TASKS_PER_SERVICE = 5000
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

# A full Secrets Manager ARN, optionally followed by ECS's ``:json-key:version-stage:version-id`` selector.
_SECRETS_MANAGER_ARN = re.compile(rf"^{SECRETS_MANAGER_ARN}(?::[^:]*:[^:]*:[^:]*)?$")
# A Docker tag; the Terraform variable a pipeline passes the tag in is validated with it too.
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
_IMAGE_TAG = re.compile(IMAGE_TAG_PATTERN)


def _looks_secret(name: str, value: str) -> bool:
    """Whether a plain variable's name or value looks like a secret: its value is then never shown."""
    return secret_in_plain_sight(name, value) is not None


def allowed_memory_text(cpu: int) -> str:
    """The memory sizes Fargate accepts for ``cpu``, written out for an error message."""
    values = FARGATE_MEMORY_MIB[cpu]
    if len(values) <= 8:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step} ({values[0]}, {values[1]}, ..., {values[-1]})"


def valid_fargate_cpu(value: int) -> int:
    """Check a task's CPU units: one of Fargate's task sizes."""
    if value not in FARGATE_MEMORY_MIB:
        raise FieldError(f"must be one of Fargate's task sizes: {', '.join(map(str, FARGATE_MEMORY_MIB))}", value=value)
    return value


def valid_image_tag(value: str | None) -> str | None:
    """Check an optional image tag: a Docker tag naming one immutable build (not ``latest``)."""
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


FargateCpu = Annotated[int, AfterValidator(valid_fargate_cpu)]
"""Task CPU units, checked as ``valid_fargate_cpu`` does (services and jobs)."""
ImageTag = Annotated[str, AfterValidator(valid_image_tag)]
"""A Docker tag naming one immutable build, checked as ``valid_image_tag`` does (services and jobs)."""


def check_fargate_memory(cpu: int, memory_mib: int) -> None:
    """Check that ``memory_mib`` is a Fargate size for ``cpu`` (an error at ``memory_mib``)."""
    if memory_mib not in FARGATE_MEMORY_MIB[cpu]:
        raise FieldError(
            f"is not a valid Fargate size for cpu = {cpu}; allowed memory_mib: {allowed_memory_text(cpu)}",
            path=("memory_mib",),
            value=memory_mib,
        )


# --- what the task runs ------------------------------------------------------------------------


class ContainerHealthCheckConfig(Strict):
    """A health check the ECS agent runs inside the container (``[services.<name>.task.container_health_check]``)."""

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

    cpu: FargateCpu = Field(default=256, description="Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384.")
    memory_mib: int = Field(
        default=512, ge=512, le=122880, description="Task memory in MiB; the allowed values depend on cpu."
    )
    cpu_architecture: Literal["X86_64", "ARM64"] = Field(
        default="X86_64", description="CPU architecture the image is built for; ARM64 (Graviton) costs ~20% less."
    )
    image_tag: ImageTag | None = Field(
        default=None,
        description="Image tag to run. When unset it comes from the Terraform variable image_tag_<service> "
        "(e.g. terraform apply -var image_tag_movie_service=<git sha>), so a pipeline can pass it.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Plain environment variables; never secrets (they are readable in the task definition): a "
        "name that ends like a credential (*_PASSWORD, *_PASS, *_PWD, *_SECRET, *_TOKEN, API_KEY, SECRET_KEY, "
        "ACCESS_KEY, PRIVATE_KEY, ...) or a value shaped like one (a password inside a URL or a password= parameter, "
        "an AWS access key id, a private key block, a JSON Web Token, GitHub/Slack/Stripe tokens) is refused: use "
        "secrets.",
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables injected from Secrets Manager or SSM Parameter Store: name -> ARN.",
    )
    log_retention_days: RetentionDays = Field(default=365, description="Container log retention; a CloudWatch period.")
    readonly_root_filesystem: bool = Field(
        default=True, description="Root filesystem read-only; a writable /tmp volume is mounted for scratch files."
    )
    container_health_check: ContainerHealthCheckConfig | None = Field(
        default=None,
        description="Health check the ECS agent runs inside the container; only the load balancer's target "
        "health check when unset.",
    )
    enable_execute_command: bool | None = Field(
        default=None,
        description="ECS Exec into this service's tasks (`make exec`). Unset: on when the environment offers it "
        "(compute.exec.enabled) and the root filesystem is writable (readonly_root_filesystem = false), else off; "
        "false: off even where the environment offers it; true: on, which needs compute.exec.enabled = true and "
        "readonly_root_filesystem = false.",
    )

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        problems: list[FieldError] = []
        for name, variable in value.items():
            try:
                _variable_name(name, variable)
            except FieldError as error:
                problems.append(error)
                continue
            finding = secret_in_plain_sight(name, variable)
            if finding is not None:
                problems.append(
                    FieldError(
                        f"{finding}; environment values are readable by anyone who can describe the task "
                        "definition: store it in Secrets Manager or SSM and reference it under secrets",
                        path=(name,),
                        value=REDACTED,
                    )
                )
        raise_all(problems)
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
                    "or of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>)" + redaction_note(arn),
                    path=(name,),
                    value=arn if arn.startswith("arn:") else REDACTED,
                )
        return value

    @model_validator(mode="after")
    def _task(self) -> ServiceTaskConfig:
        check_fargate_memory(self.cpu, self.memory_mib)
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise FieldError(
                f"{', '.join(both)} is set both here and under environment; keep one",
                path=("secrets", both[0]),
                value=self.secrets[both[0]],
            )
        # The SSM agent ECS Exec injects crashes on a read-only root (aws/containers-roadmap #1359; the
        # ECS Exec considerations in the ECS developer guide: a read-only root "isn't supported").
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
            value=REDACTED if _looks_secret(name, value) else value,
        )


# --- rollouts, task count, alarms --------------------------------------------------------------


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
        default=200,
        ge=100,
        le=1000,
        description="Tasks that may run during a deployment, % of desired (at least 100; at most 1000, a sanity bound).",
    )
    health_check_grace_period_seconds: int = Field(
        default=60,
        ge=0,
        le=2_147_483_647,
        description="Web services only: time a new task has before failed load-balancer health checks count "
        "against it (a backend or worker has no load balancer; its container health check has start_period_seconds).",
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
    "messages_per_task",
    "scale_in_cooldown_seconds",
    "scale_out_cooldown_seconds",
)


class ServiceScalingConfig(Strict):
    """How many tasks run (``[services.<name>.scaling]``): a fixed count, or target-tracking autoscaling."""

    desired_count: int = Field(
        default=2,
        ge=0,
        le=MAX_TASKS_PER_SERVICE,
        description="Tasks to run; with autoscaling, the count at creation (kept within min..max). At most "
        f"{MAX_TASKS_PER_SERVICE}, ECS's quota of tasks per service.",
    )
    autoscaling: bool = Field(
        default=True,
        description="Target tracking on average CPU, and on ALB requests per task (web) or the queue's backlog per "
        "task (worker); off: a fixed count.",
    )
    min_count: int = Field(default=2, ge=0, le=MAX_TASKS_PER_SERVICE, description="Fewest tasks autoscaling keeps.")
    max_count: int = Field(
        default=4, ge=1, le=MAX_TASKS_PER_SERVICE, description="Most tasks autoscaling starts (ECS quota: 5000)."
    )
    cpu_target_percent: int = Field(default=70, ge=1, le=100, description="Average CPU utilisation to hold, 1-100.")
    requests_per_target: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Web services only: ALB requests per task per minute to hold (at most 1000000, a sanity bound).",
    )
    messages_per_task: int = Field(
        default=100,
        ge=1,
        le=1_000_000,
        description="Workers only: visible messages in the queue per running task to hold (the backlog one task "
        "clears within the delay you accept: acceptable seconds / seconds per message). Counts tasks with Container "
        "Insights' RunningTaskCount, so it needs compute.container_insights on and min_count at least 1.",
    )
    scale_in_cooldown_seconds: int = Field(
        default=300, ge=0, le=3600, description="Wait after a scale-in before scaling in again."
    )
    scale_out_cooldown_seconds: int = Field(
        default=60, ge=0, le=3600, description="Wait after a scale-out before scaling out again."
    )

    @model_validator(mode="after")
    def _counts(self) -> ServiceScalingConfig:
        if not self.autoscaling:
            raise_all(
                [
                    FieldError(
                        "is only used when autoscaling = true; remove it or turn autoscaling on",
                        path=(name,),
                        value=getattr(self, name),
                    )
                    for name in _AUTOSCALING_FIELDS
                    if name in self.model_fields_set
                ]
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


class ServiceAlarmsConfig(Strict):
    """Alarms on one ECS service and its target group (``[services.<name>.alarms]``)."""

    cpu_percent: int = Field(default=85, description="CPUUtilization average above this, 1-100.")
    memory_percent: int = Field(default=85, description="MemoryUtilization average above this, 1-100.")
    unhealthy_hosts: int = Field(
        default=0,
        description="Web services only: unhealthy targets of its target group, above this for 5 minutes in a row.",
    )

    @field_validator("cpu_percent", "memory_percent")
    @classmethod
    def _percent(cls, value: int) -> int:
        between(value, 1, 100, " %")
        return value

    @field_validator("unhealthy_hosts")
    @classmethod
    def _hosts(cls, value: int) -> int:
        between(value, 0, 1000)
        return value


# --- the load balancer's view of the service --------------------------------------------------

_HTTP_CODES = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")


class TargetHealthCheckConfig(Strict):
    """How the ALB decides a task is healthy (``[services.<name>.target_health_check]``)."""

    path: str = Field(default="/", description="Path requested on the container port; must answer 'matcher'.")
    matcher: str = Field(default="200", description="Healthy HTTP codes: '200', '200,204' or '200-299' (200-499).")
    interval_seconds: int = Field(default=15, ge=5, le=300, description="Seconds between checks.")
    timeout_seconds: int = Field(default=5, ge=2, le=120, description="Seconds without answer that count as failed.")
    healthy_threshold: int = Field(
        default=3, ge=2, le=10, description="Consecutive successes before a task gets traffic."
    )
    unhealthy_threshold: int = Field(
        default=3, ge=2, le=10, description="Consecutive failures before a task loses traffic."
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return valid_url_path(value)

    @field_validator("matcher")
    @classmethod
    def _matcher(cls, value: str) -> str:
        codes = [int(code) for code in re.findall(r"\d{3}", value)] if _HTTP_CODES.match(value) else []
        if not codes or not all(200 <= code <= 499 for code in codes):
            raise FieldError("must be HTTP codes 200-499 as '200', '200,204' or '200-299'", value=value)
        return value

    @model_validator(mode="after")
    def _timeout(self) -> TargetHealthCheckConfig:
        if self.timeout_seconds >= self.interval_seconds:
            raise FieldError(
                f"must be less than interval_seconds ({self.interval_seconds})",
                path=("timeout_seconds",),
                value=self.timeout_seconds,
            )
        return self


# --- the service -------------------------------------------------------------------------------


# The load balancer's view of a service: settings only a web service has a use for.
ROUTING_FIELDS = (
    "protocol",
    "path_patterns",
    "host_headers",
    "target_health_check",
    "deregistration_delay_seconds",
    "rule_priority",
)


class ServiceConfig(Strict):
    """One containerised service of the workload. Keyed by name in ``[services.<name>]``."""

    kind: ServiceKind = Field(
        default="web",
        description="web: routed by the load balancer (path_patterns / host_headers), its own target group and "
        "listener rule. backend: reached only inside the cluster through Service Connect (http://<name>:"
        "<container_port>), no target group or listener rule; its security group admits its port from the other "
        "services only. worker: no port; consumes its own SQS queue ([services.<name>.queue], URL in QUEUE_URL) and "
        "scales on its backlog; its security group admits nothing.",
    )
    container_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port the container listens on; required for web and backend services, unset for a worker.",
    )
    protocol: Literal["HTTP", "HTTPS"] = Field(
        default="HTTP",
        description="Web only: ALB -> container protocol. HTTP: TLS ends at the ALB; HTTPS: the container serves TLS "
        "too.",
    )
    path_patterns: list[str] = Field(
        default_factory=list, description="Web only: ALB path patterns routed here (at most 3), e.g. /api/movies*."
    )
    host_headers: list[str] = Field(
        default_factory=list, description="Web only: host names routed here (at most 3); any host when empty."
    )
    target_health_check: TargetHealthCheckConfig = Field(
        default_factory=TargetHealthCheckConfig,
        description="Web only: how the load balancer checks each task before and while sending it traffic.",
    )
    deregistration_delay_seconds: int = Field(
        default=30, description="Web only: seconds a stopping task keeps serving in-flight requests, 0-3600."
    )
    rule_priority: int | None = Field(
        default=None,
        description="Web only: listener-rule priority, 1-50000; allocated from pattern specificity when unset "
        "(see config/routing.py).",
    )
    task: ServiceTaskConfig = Field(default_factory=ServiceTaskConfig, description="Task size, image, settings, logs.")
    deployment: ServiceDeploymentConfig = Field(default_factory=ServiceDeploymentConfig, description="Rollouts.")
    scaling: ServiceScalingConfig = Field(default_factory=ServiceScalingConfig, description="Task count, autoscaling.")
    data_access: ServiceDataAccess = Field(
        default_factory=ServiceDataAccess, description="Whether it uses the database/cache, and as which DB user."
    )
    queue: QueueConfig | None = Field(
        default=None,
        description="Workers only, and required there: the SQS queue it consumes, with its dead-letter queue.",
    )
    alarms: ServiceAlarmsConfig = Field(
        default_factory=ServiceAlarmsConfig,
        description="When its CPU, memory and (web only) unhealthy-target alarms fire.",
    )

    @field_validator("path_patterns")
    @classmethod
    def _path_patterns(cls, value: list[str]) -> list[str]:
        return each(value, routing.check_path_pattern)

    @field_validator("host_headers")
    @classmethod
    def _host_headers(cls, value: list[str]) -> list[str]:
        return each(value, routing.check_host_header)

    @field_validator("deregistration_delay_seconds")
    @classmethod
    def _deregistration_delay(cls, value: int) -> int:
        if not 0 <= value <= 3600:
            raise FieldError(f"must be between 0 and 3600 seconds, got {value}", value=value)
        return value

    @field_validator("rule_priority")
    @classmethod
    def _rule_priority(cls, value: int | None) -> int | None:
        return None if value is None else routing.check_priority(value)

    @model_validator(mode="after")
    def _kind_settings(self) -> ServiceConfig:
        problems = self._port_problems()
        if self.kind == "web":
            try:
                routing.check_conditions(self.path_patterns, self.host_headers)
            except FieldError as error:
                problems.append(error)
        else:
            problems += self._web_only_problems()
        if self.kind == "worker":
            problems += self._worker_problems()
        else:
            if self.queue is not None:
                problems.append(
                    FieldError(
                        f"is only used by workers (kind = 'worker'); a {self.kind} service consumes no queue of its "
                        "own: remove the table or set kind = 'worker'",
                        path=("queue",),
                        value=self.queue.model_dump(exclude_unset=True),
                    )
                )
            if "messages_per_task" in self.scaling.model_fields_set:
                problems.append(
                    FieldError(
                        f"is only used by workers (scaling on their queue's backlog); a {self.kind} service has no "
                        "queue: remove it",
                        path=("scaling", "messages_per_task"),
                        value=self.scaling.messages_per_task,
                    )
                )
        raise_all(problems)
        return self

    def _port_problems(self) -> list[FieldError]:
        if self.kind == "worker" and self.container_port is not None:
            return [
                FieldError(
                    "must be unset for a worker: it takes no traffic (it polls its queue); use kind = 'backend' for "
                    "a service other services call",
                    path=("container_port",),
                    value=self.container_port,
                )
            ]
        if self.kind != "worker" and self.container_port is None:
            why = {
                "web": "the port the load balancer forwards to",
                "backend": "the port other services call it on, http://<name>:<container_port>",
            }[self.kind]
            return [FieldError(f"is required for a {self.kind} service: {why}", path=("container_port",), value=None)]
        return []

    def _web_only_problems(self) -> list[FieldError]:
        """Settings of the load balancer's view of a service, given to one that has none."""
        fix = "remove it or set kind = 'web'"
        because = f"a {self.kind} service is reached {REACHED[self.kind]}"
        given: list[tuple[tuple[str, ...], object]] = [
            ((name,), getattr(self, name)) for name in ROUTING_FIELDS if name in self.model_fields_set
        ]
        for table, name in (
            ("deployment", "health_check_grace_period_seconds"),
            ("scaling", "requests_per_target"),
            ("alarms", "unhealthy_hosts"),
        ):
            settings = getattr(self, table)
            if name in settings.model_fields_set:
                given.append(((table, name), getattr(settings, name)))
        return [
            FieldError(
                f"is only used by web services (the load balancer's view of them); {because}: {fix}",
                path=path,
                value=value.model_dump() if isinstance(value, Strict) else value,
            )
            for path, value in given
        ]

    def _worker_problems(self) -> list[FieldError]:
        problems: list[FieldError] = []
        if self.queue is None:
            problems.append(
                FieldError(
                    "is required for a worker: add a [services.<name>.queue] table (its defaults are a complete queue "
                    "with a dead-letter queue)",
                    path=("queue",),
                    value=None,
                )
            )
        scaling = self.scaling
        if scaling.autoscaling and scaling.min_count < 1:
            problems.append(
                FieldError(
                    "must be at least 1 for a worker with autoscaling: it scales on the queue's backlog per running "
                    "task, and with no task running there is no such ratio, so nothing would ever scale it out again",
                    path=("scaling", "min_count"),
                    value=scaling.min_count,
                )
            )
        for table in ("environment", "secrets"):
            if QUEUE_URL_VARIABLE in getattr(self.task, table):
                problems.append(
                    FieldError(
                        "is set by the platform to the worker's own queue; remove it from the task settings",
                        path=("task", table, QUEUE_URL_VARIABLE),
                        value=QUEUE_URL_VARIABLE,
                    )
                )
        return problems
