"""The one typed schema every environment file is validated against.

Defaults are the secure, highly-available choice; an environment that wants less (dev) says so
explicitly in its own file, with a comment. Every model forbids unknown keys.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


# --- workload ----------------------------------------------------------------------------------


class ServiceConfig(Strict):
    """One containerised service of the workload. Keyed by name in ``[services.<name>]``."""

    container_port: int = Field(ge=1, le=65535, description="Port the container listens on.")


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

    @property
    def stack_name(self) -> str:
        """The cdktf stack (and cdktf.out/stacks/<name>) for this environment."""
        return f"{self.project}-{self.environment}"


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
