"""The one typed schema every environment file is validated against.

Defaults are the secure, highly-available choice; an environment that wants less (dev) says so
explicitly in its own file, with a comment. Every model forbids unknown keys.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import routing
from .errors import FieldError, format_path

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)  # fmt: skip
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts", "ssm", "ssmmessages", "kms")
SUBNET_TIERS = ("public", "private_app", "private_data")
RESERVED_TAG_KEYS = ("project", "environment", "managed-by")

_REGION = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx)-(gov-)?"
    r"(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$"
)
_PROJECT = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9]*$")
_SERVICE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
PROJECT_MAX = 16
ENVIRONMENT_MAX = 10
SERVICE_MAX = 20


class Strict(BaseModel):
    """Base for every config model: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _ipv4_network(value: str, *, what: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise FieldError(
            f"{what} must be an IPv4 network in CIDR notation with no host bits set, e.g. 10.0.0.0/16",
            value=value,
        ) from None


def _match(value: str, pattern: re.Pattern[str], max_length: int, allowed: str) -> str:
    if len(value) > max_length:
        raise FieldError(f"must be at most {max_length} characters (got {len(value)})", value=value)
    if not pattern.match(value) or "--" in value:
        raise FieldError(f"must be {allowed}", value=value)
    return value


def _each(values: list[str], check: Callable[[str], str]) -> list[str]:
    """Run ``check`` on every item; an error points at the item's index."""
    for index, value in enumerate(values):
        try:
            check(value)
        except FieldError as error:
            raise FieldError(error.message, path=(index,), value=value) from None
    return values


# --- backends ----------------------------------------------------------------------------------


class LocalBackendConfig(Strict):
    """State in a file inside the project (``terraform.state/<stack>.tfstate``, gitignored)."""

    type: Literal["local"] = "local"


class S3BackendConfig(Strict):
    """Shared state in S3, encrypted, with locking so two applies never interleave."""

    type: Literal["s3"]
    bucket: str = Field(
        description="Existing state bucket. The key is derived: <project>/<environment>/terraform.tfstate."
    )
    region: str | None = Field(default=None, description="Bucket region; defaults to the environment's region.")
    locking: Literal["lockfile", "dynamodb"] = Field(
        default="lockfile",
        description="lockfile: S3-native lock object (Terraform >= 1.10); dynamodb: a lock table.",
    )
    dynamodb_table: str | None = Field(default=None, description="Lock table; required when locking = dynamodb.")
    kms_key_id: str | None = Field(default=None, description="KMS key for state; S3-managed keys when unset.")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        return _match(value, _S3_BUCKET, 63, "a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else _valid_region(value)

    @model_validator(mode="after")
    def _lock_table(self) -> S3BackendConfig:
        if self.locking == "dynamodb" and not self.dynamodb_table:
            raise FieldError("is required when locking = 'dynamodb'", path=("dynamodb_table",), value=None)
        if self.locking == "lockfile" and self.dynamodb_table:
            raise FieldError(
                "is only used when locking = 'dynamodb'; remove it or set locking = 'dynamodb'",
                path=("dynamodb_table",),
                value=self.dynamodb_table,
            )
        return self


class CloudBackendConfig(Strict):
    """HCP Terraform / Terraform Enterprise: plans and applies run remotely."""

    type: Literal["cloud"]
    organization: str = Field(min_length=1)
    workspace: str | None = Field(default=None, description="Workspace name; defaults to <project>-<environment>.")
    hostname: str = Field(default="app.terraform.io", min_length=1)


BackendConfig = Annotated[
    LocalBackendConfig | S3BackendConfig | CloudBackendConfig,
    Field(discriminator="type"),
]


# --- network -----------------------------------------------------------------------------------


class SubnetCidrs(Strict):
    """Explicit subnet CIDRs per tier, one per availability zone, in AZ order."""

    public: list[str]
    private_app: list[str]
    private_data: list[str]


class FlowLogsConfig(Strict):
    """VPC flow logs to CloudWatch Logs."""

    enabled: bool = Field(default=True, description="Flow logs on: every accepted and rejected flow is recorded.")
    retention_days: int = Field(default=365, description="Log retention; one of CloudWatch's allowed periods.")
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return valid_retention(value)


class VpcEndpointsConfig(Strict):
    """VPC endpoints so private workloads reach AWS APIs without NAT."""

    s3_gateway: bool = Field(default=True, description="S3 gateway endpoint (free) on every private route table.")
    interface: list[Literal["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts", "ssm", "ssmmessages", "kms"]] = (
        Field(default_factory=list, description="Interface endpoints in the private-app subnets; none by default.")
    )

    @field_validator("interface")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            raise FieldError(f"lists {', '.join(duplicates)} more than once", value=value)
        return value


class NetworkConfig(Strict):
    """The VPC and its three subnet tiers."""

    vpc_cidr: str = Field(description="VPC IPv4 CIDR, /16 to /24.")
    availability_zones: list[str] = Field(description="AZ names, at least 2; one subnet per tier in each.")
    subnet_prefix_length: int | None = Field(
        default=None,
        description="Prefix length of carved subnets; VPC prefix + 4 (16 subnets) when unset.",
    )
    subnets: SubnetCidrs | None = Field(
        default=None, description="Explicit subnet CIDRs; carved from vpc_cidr when unset."
    )
    nat: Literal["none", "single", "per_az"] = Field(
        default="per_az",
        description="per_az: one NAT gateway per AZ (survives an AZ outage); single: one shared; none: no egress.",
    )
    flow_logs: FlowLogsConfig = Field(default_factory=FlowLogsConfig)
    endpoints: VpcEndpointsConfig = Field(default_factory=VpcEndpointsConfig)

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        network = _ipv4_network(value, what="vpc_cidr")
        if not 16 <= network.prefixlen <= 24:
            raise FieldError(
                f"prefix must be between /16 and /24 (AWS VPC limits), got /{network.prefixlen}", value=value
            )
        return value

    @field_validator("availability_zones")
    @classmethod
    def _azs(cls, value: list[str]) -> list[str]:
        if len(value) < 2:
            raise FieldError(
                f"needs at least 2 availability zones for high availability, got {len(value)}", value=value
            )
        if len(set(value)) != len(value):
            raise FieldError("lists an availability zone more than once", value=value)
        return value

    @model_validator(mode="after")
    def _subnets(self) -> NetworkConfig:
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        if self.subnets is None:
            prefix = self.subnet_prefix_length
            if prefix is not None and not vpc.prefixlen < prefix <= 28:
                raise FieldError(
                    f"must be between /{vpc.prefixlen + 1} and /28 for a /{vpc.prefixlen} VPC",
                    path=("subnet_prefix_length",),
                    value=prefix,
                )
            per_tier = self.carve_capacity_per_tier()
            if len(self.availability_zones) > per_tier:
                raise FieldError(
                    f"has {len(self.availability_zones)} AZs but {self.vpc_cidr} split into "
                    f"/{self.effective_subnet_prefix()} subnets fits only {per_tier} per tier "
                    f"({len(SUBNET_TIERS)} tiers); use at most {per_tier} AZs, a larger VPC or a longer subnet_prefix_length",
                    path=("availability_zones",),
                    value=self.availability_zones,
                )
            return self
        if self.subnet_prefix_length is not None:
            raise FieldError(
                "is only used when subnets are carved automatically; remove it or remove [network.subnets]",
                path=("subnet_prefix_length",),
                value=self.subnet_prefix_length,
            )
        seen: list[tuple[ipaddress.IPv4Network, tuple[str | int, ...]]] = []
        for tier in SUBNET_TIERS:
            cidrs: list[str] = getattr(self.subnets, tier)
            if len(cidrs) != len(self.availability_zones):
                raise FieldError(
                    f"needs one CIDR per availability zone ({len(self.availability_zones)}), got {len(cidrs)}",
                    path=("subnets", tier),
                    value=cidrs,
                )
            for index, cidr in enumerate(cidrs):
                path: tuple[str | int, ...] = ("subnets", tier, index)
                try:
                    network = _ipv4_network(cidr, what="subnet CIDR")
                except FieldError as error:
                    raise FieldError(error.message, path=path, value=cidr) from None
                if not network.subnet_of(vpc):
                    raise FieldError(f"is outside the VPC CIDR {self.vpc_cidr}", path=path, value=cidr)
                if network.prefixlen > 28:
                    raise FieldError(
                        f"/{network.prefixlen} is smaller than AWS's minimum subnet size /28", path=path, value=cidr
                    )
                for other, other_path in seen:
                    if network.overlaps(other):
                        raise FieldError(
                            f"overlaps {other} at network.{format_path(other_path)}", path=path, value=cidr
                        )
                seen.append((network, path))
        return self

    def effective_subnet_prefix(self) -> int:
        """Prefix length used when carving: the configured one, or VPC prefix + 4 (max /28)."""
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        return self.subnet_prefix_length or min(vpc.prefixlen + 4, 28)

    def carve_capacity_per_tier(self) -> int:
        """How many AZs the carved layout can hold: each tier owns a third of the subnet slots."""
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        slots: int = 2 ** (self.effective_subnet_prefix() - vpc.prefixlen)
        return slots // len(SUBNET_TIERS)

    def subnet_cidrs(self) -> dict[str, list[str]]:
        """CIDRs per tier, in AZ order.

        Carving gives tier ``t`` the slots ``t * capacity .. (t + 1) * capacity - 1`` and AZ ``i``
        slot ``i`` within its tier, so adding an AZ appends subnets without moving existing ones.
        """
        if self.subnets is not None:
            return {tier: list(getattr(self.subnets, tier)) for tier in SUBNET_TIERS}
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        slots = list(vpc.subnets(new_prefix=self.effective_subnet_prefix()))
        capacity = self.carve_capacity_per_tier()
        return {
            tier: [str(slots[t * capacity + i]) for i in range(len(self.availability_zones))]
            for t, tier in enumerate(SUBNET_TIERS)
        }


# --- traffic -----------------------------------------------------------------------------------

_CERTIFICATE_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-us-gov|aws-cn):acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$"
)
_HTTP_CODES = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")


class HealthCheckConfig(Strict):
    """How the ALB decides a task is healthy (``[services.<name>.health_check]``)."""

    path: str = Field(default="/", description="Path requested on the container port; must answer 'matcher'.")
    matcher: str = Field(default="200", description="Healthy HTTP codes: '200', '200,204' or '200-299' (200-499).")
    interval_seconds: int = Field(default=15, description="Seconds between checks, 5-300.")
    timeout_seconds: int = Field(default=5, description="Seconds without answer that count as failed, 2-120.")
    healthy_threshold: int = Field(default=3, description="Consecutive successes before a task gets traffic, 2-10.")
    unhealthy_threshold: int = Field(default=3, description="Consecutive failures before a task loses traffic, 2-10.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or len(value) > 1024 or any(c.isspace() for c in value):
            raise FieldError("must be a URL path starting with / (at most 1024 characters, no spaces)", value=value)
        return value

    @field_validator("matcher")
    @classmethod
    def _matcher(cls, value: str) -> str:
        codes = [int(code) for code in re.findall(r"\d{3}", value)] if _HTTP_CODES.match(value) else []
        if not codes or not all(200 <= code <= 499 for code in codes):
            raise FieldError("must be HTTP codes 200-499 as '200', '200,204' or '200-299'", value=value)
        return value

    @model_validator(mode="after")
    def _ranges(self) -> HealthCheckConfig:
        for name, low, high in (
            ("interval_seconds", 5, 300),
            ("timeout_seconds", 2, 120),
            ("healthy_threshold", 2, 10),
            ("unhealthy_threshold", 2, 10),
        ):
            value = getattr(self, name)
            if not low <= value <= high:
                raise FieldError(f"must be between {low} and {high}, got {value}", path=(name,), value=value)
        if self.timeout_seconds >= self.interval_seconds:
            raise FieldError(
                f"must be less than interval_seconds ({self.interval_seconds})",
                path=("timeout_seconds",),
                value=self.timeout_seconds,
            )
        return self


class AccessLogsConfig(Strict):
    """ALB access logs to an S3 bucket the platform creates (``[alb.access_logs]``)."""

    enabled: bool = Field(default=True, description="Access logs on: every request is recorded.")
    expiry_days: int = Field(default=365, description="Days a log object is kept before S3 deletes it, 1-3650.")

    @field_validator("expiry_days")
    @classmethod
    def _expiry(cls, value: int) -> int:
        if not 1 <= value <= 3650:
            raise FieldError(f"must be between 1 and 3650 days, got {value}", value=value)
        return value


class AlbConfig(Strict):
    """The one Application Load Balancer in front of every service (``[alb]``)."""

    internal: bool = Field(default=False, description="false: internet-facing in the public subnets.")
    ingress_cidrs: list[str] | None = Field(
        default=None,
        description="Who may connect on 80/443; the internet (0.0.0.0/0) when internet-facing, the VPC when internal.",
    )
    idle_timeout_seconds: int = Field(default=60, description="Idle connection timeout, 1-4000 seconds.")
    deletion_protection: bool = Field(default=True, description="The ALB cannot be deleted until this is turned off.")
    certificate_arn: str | None = Field(
        default=None,
        description="ACM certificate in the environment's region: HTTPS on 443 and HTTP redirects to it. "
        "Unset: plain HTTP on 80 only.",
    )
    access_logs: AccessLogsConfig = Field(default_factory=AccessLogsConfig)

    @field_validator("idle_timeout_seconds")
    @classmethod
    def _idle_timeout(cls, value: int) -> int:
        if not 1 <= value <= 4000:
            raise FieldError(f"idle_timeout_seconds must be between 1 and 4000, got {value}", value=value)
        return value

    @field_validator("ingress_cidrs")
    @classmethod
    def _ingress(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise FieldError("must list at least one CIDR; remove the key for the default", value=value)
        for index, cidr in enumerate(value):
            try:
                _ipv4_network(cidr, what="ingress CIDR")
            except FieldError as error:
                raise FieldError(error.message, path=(index,), value=cidr) from None
            if value.index(cidr) != index:
                raise FieldError("is listed twice", path=(index,), value=cidr)
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str | None) -> str | None:
        if value is not None and not _CERTIFICATE_ARN.match(value):
            raise FieldError(
                "must be an ACM certificate ARN: arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>",
                value=value,
            )
        return value

    @property
    def certificate_region(self) -> str | None:
        """Region part of the certificate ARN, if any."""
        found = _CERTIFICATE_ARN.match(self.certificate_arn or "")
        return found["region"] if found else None

    def effective_ingress_cidrs(self, vpc_cidr: str) -> list[str]:
        """The configured CIDRs, else the internet (internet-facing) or the VPC (internal)."""
        if self.ingress_cidrs is not None:
            return list(self.ingress_cidrs)
        return [vpc_cidr] if self.internal else ["0.0.0.0/0"]


class SecurityGroupsConfig(Strict):
    """Security-group layout (``[security_groups]``)."""

    mode: Literal["tiered", "shared"] = Field(
        default="tiered",
        description="tiered: ALB -> app -> database/cache, each hop one port; shared: app, database and cache "
        "share one group that allows all traffic within itself (simpler, weaker isolation).",
    )


# --- encryption --------------------------------------------------------------------------------


class EncryptionConfig(Strict):
    """The environment's customer-managed KMS key (``[encryption]``)."""

    customer_managed_key: bool = Field(
        default=True,
        description="One customer-managed KMS key per environment (rotated yearly, alias/<project>-<environment>) "
        "encrypts the log groups, the database's Performance Insights and master secret, the cache and its token, "
        "ECR images (compute.ecr.encryption = 'KMS') and the frontend bucket, wherever no kms_key_arn is set. "
        "Off: AWS-managed keys.",
    )
    deletion_window_days: int = Field(
        default=30,
        ge=7,
        le=30,
        description="Days a key scheduled for deletion can still be restored, 7-30; once deleted, everything it "
        "encrypted is unreadable.",
    )


# --- workload ----------------------------------------------------------------------------------

# The compute models subclass Strict (above): importing them here, not at the top, lets
# config/compute.py import Strict from this module without a circular-import failure.
from .compute import ComputeConfig, ServiceDeploymentConfig, ServiceScalingConfig, ServiceTaskConfig  # noqa: E402
from .data import CacheConfig, DatabaseConfig, ServiceDataAccess, check_data_access  # noqa: E402  (same reason)
from .edge import (  # noqa: E402  (same reason)
    BeanstalkConfig,
    FrontendConfig,
    MonitoringConfig,
    WafConfig,
    check_beanstalk_choice,
    check_frontend_origin,
)


class ServiceConfig(Strict):
    """One containerised service of the workload. Keyed by name in ``[services.<name>]``."""

    container_port: int = Field(ge=1, le=65535, description="Port the container listens on.")
    protocol: Literal["HTTP", "HTTPS"] = Field(
        default="HTTP",
        description="ALB -> container protocol. HTTP: TLS ends at the ALB; HTTPS: the container serves TLS too.",
    )
    path_patterns: list[str] = Field(
        default_factory=list, description="ALB path patterns routed here (at most 3), e.g. /api/movies*."
    )
    host_headers: list[str] = Field(
        default_factory=list, description="Host names routed here (at most 3); any host when empty."
    )
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)
    deregistration_delay_seconds: int = Field(
        default=30, description="Seconds a stopping task keeps serving in-flight requests, 0-3600."
    )
    rule_priority: int | None = Field(
        default=None,
        description="Listener-rule priority, 1-50000; allocated from pattern specificity when unset "
        "(see config/routing.py).",
    )
    task: ServiceTaskConfig = Field(default_factory=ServiceTaskConfig, description="Task size, image, settings, logs.")
    deployment: ServiceDeploymentConfig = Field(default_factory=ServiceDeploymentConfig, description="Rollouts.")
    scaling: ServiceScalingConfig = Field(default_factory=ServiceScalingConfig, description="Task count, autoscaling.")
    data_access: ServiceDataAccess = Field(
        default_factory=ServiceDataAccess, description="Whether it uses the database/cache, and as which DB user."
    )

    @field_validator("path_patterns")
    @classmethod
    def _path_patterns(cls, value: list[str]) -> list[str]:
        return _each(value, routing.check_path_pattern)

    @field_validator("host_headers")
    @classmethod
    def _host_headers(cls, value: list[str]) -> list[str]:
        return _each(value, routing.check_host_header)

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
    def _conditions(self) -> ServiceConfig:
        routing.check_conditions(self.path_patterns, self.host_headers)
        return self


# --- environment -------------------------------------------------------------------------------


class EnvironmentConfig(Strict):
    """One environment (dev, staging, prod): everything its stack is built from."""

    project: str = Field(
        description=f"Project slug, lowercase letters/digits/hyphens, at most {PROJECT_MAX} characters."
    )
    environment: str = Field(
        description=f"Environment slug, lowercase letters/digits, at most {ENVIRONMENT_MAX} characters."
    )
    region: str = Field(description="AWS region, e.g. eu-west-1.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra default tags on every resource.")
    backend: BackendConfig = Field(default_factory=LocalBackendConfig, description="Where Terraform keeps state.")
    network: NetworkConfig
    services: dict[str, ServiceConfig] = Field(default_factory=dict, description="Services keyed by name.")
    alb: AlbConfig = Field(default_factory=AlbConfig, description="The load balancer in front of the services.")
    security_groups: SecurityGroupsConfig = Field(default_factory=SecurityGroupsConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig, description="The cluster every service runs in.")
    database: DatabaseConfig | None = Field(
        default=None, description="RDS PostgreSQL; none when the table is absent, secure defaults when present."
    )
    cache: CacheConfig | None = Field(
        default=None, description="ElastiCache Redis/Valkey; none when absent, secure defaults when present."
    )
    frontend: FrontendConfig = Field(
        default_factory=FrontendConfig, description="Static frontend: private S3 bucket behind CloudFront, HTTPS only."
    )
    beanstalk: BeanstalkConfig | None = Field(
        default=None, description="Elastic Beanstalk settings; only with compute.kind = 'beanstalk'."
    )
    monitoring: MonitoringConfig = Field(
        default_factory=MonitoringConfig, description="SNS alarm topic and CloudWatch alarms on every tier that exists."
    )
    encryption: EncryptionConfig = Field(
        default_factory=EncryptionConfig, description="The environment's customer-managed KMS key."
    )
    waf: WafConfig = Field(
        default_factory=WafConfig, description="AWS WAF web ACLs on the load balancer and the distribution."
    )

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return _match(
            value, _PROJECT, PROJECT_MAX, "lowercase letters, digits and single hyphens, starting with a letter"
        )

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        return _match(value, _ENVIRONMENT, ENVIRONMENT_MAX, "lowercase letters and digits, starting with a letter")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _valid_region(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag_value in value.items():
            if key in RESERVED_TAG_KEYS:
                raise FieldError(
                    f"is set by the platform ({', '.join(RESERVED_TAG_KEYS)}); remove it", path=(key,), value=tag_value
                )
            if key.lower().startswith("aws:") or not 1 <= len(key) <= 128:
                raise FieldError(
                    "tag keys must be 1-128 characters and must not start with 'aws:'", path=(key,), value=key
                )
            if len(tag_value) > 256:
                raise FieldError("tag values must be at most 256 characters", path=(key,), value=tag_value)
        return value

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        for name in value:
            try:
                _match(
                    name, _SERVICE, SERVICE_MAX, "lowercase letters, digits and single hyphens, starting with a letter"
                )
            except FieldError as error:
                raise FieldError(f"service name {error.message}", path=(name,), value=name) from None
        return value

    @field_validator("services")
    @classmethod
    def _routing(cls, value: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        # Duplicate patterns, priority clashes and shadowed rules fail here, before anything is built.
        routing.allocate_priorities(_routes(value))
        return value

    @model_validator(mode="after")
    def _data_access(self) -> EnvironmentConfig:
        check_data_access(self.services, self.database, self.cache)
        return self

    @model_validator(mode="after")
    def _edge(self) -> EnvironmentConfig:
        check_beanstalk_choice(self.compute.kind, self.beanstalk, self.database, self.cache, list(self.services))
        check_frontend_origin(self.frontend, self.alb.certificate_arn)
        return self

    @model_validator(mode="after")
    def _certificate_in_region(self) -> EnvironmentConfig:
        region = self.alb.certificate_region
        if region is not None and region != self.region:
            raise FieldError(
                f"must be an ACM certificate in the environment's region {self.region} (an ALB can only use "
                f"certificates from its own region), got one in {region}",
                path=("alb", "certificate_arn"),
                value=self.alb.certificate_arn,
            )
        return self

    @model_validator(mode="after")
    def _azs_in_region(self) -> EnvironmentConfig:
        for index, zone in enumerate(self.network.availability_zones):
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", zone):
                raise FieldError(
                    f"must be an availability zone of {self.region}, like {self.region}a",
                    path=("network", "availability_zones", index),
                    value=zone,
                )
        return self

    def listener_rule_priorities(self) -> dict[str, int]:
        """Listener-rule priority of every service (explicit or allocated, see config/routing.py)."""
        return routing.allocate_priorities(_routes(self.services))

    @property
    def stack_name(self) -> str:
        """The cdktf stack (and cdktf.out/stacks/<name>) for this environment."""
        return f"{self.project}-{self.environment}"


def _routes(services: dict[str, ServiceConfig]) -> list[routing.Route]:
    return [
        routing.Route(name, tuple(s.path_patterns), tuple(s.host_headers), s.rule_priority)
        for name, s in services.items()
    ]


def _valid_region(value: str) -> str:
    if not _REGION.match(value):
        raise FieldError("must be an AWS region such as us-east-1, eu-west-1 or ap-southeast-2", value=value)
    return value


def valid_retention(value: int) -> int:
    """Check a CloudWatch Logs retention period."""
    if value not in LOG_RETENTION_DAYS:
        raise FieldError(
            f"must be one of CloudWatch's retention periods: {', '.join(map(str, LOG_RETENTION_DAYS))}", value=value
        )
    return value
