"""The VPC and its subnet tiers (``[network]``)."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import RetentionDays, Strict, ipv4_network
from .errors import FieldError, format_path

NatStrategy = Literal["none", "single", "per_az"]
InterfaceEndpoint = Literal["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts", "ssm", "ssmmessages", "kms", "sqs"]
SUBNET_TIERS = ("public", "private_app", "private_data")
# No region has more than six availability zones (us-east-1 has a-f).
MAX_AVAILABILITY_ZONES = 6
# An AZ name is its region's name and a letter (eu-west-1a, cn-north-1b). Whether the region offers it
# to the account is only known there: checked at plan time (modules/network.py).
_AZ_NAME = re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}[a-z]$")
# An AZ ID (euw1-az1) names the same physical zone in every account; subnets here are placed by name.
_AZ_ID = re.compile(r"^[a-z]{3,}\d+-az\d+$")


class SubnetCidrs(Strict):
    """Explicit subnet CIDRs per tier, one per availability zone, in AZ order."""

    public: list[str] = Field(description="Public tier: ALB and NAT gateways; routes to the internet gateway.")
    private_app: list[str] = Field(
        description="Private-app tier: services; egress only through NAT (or VPC endpoints)."
    )
    private_data: list[str] = Field(
        description="Private-data tier: databases and caches; no route to the internet at all."
    )


class FlowLogsConfig(Strict):
    """VPC flow logs to CloudWatch Logs."""

    enabled: bool = Field(default=True, description="Flow logs on: every accepted and rejected flow is recorded.")
    retention_days: RetentionDays = Field(
        default=365, description="Log retention; one of CloudWatch's allowed periods."
    )
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = Field(default="ALL", description="Which flows are recorded.")


class VpcEndpointsConfig(Strict):
    """VPC endpoints so private workloads reach AWS APIs without NAT."""

    s3_gateway: bool = Field(default=True, description="S3 gateway endpoint (free) on every private route table.")
    interface: list[InterfaceEndpoint] = Field(
        default_factory=list,
        description="Interface endpoints in the private-app subnets, behind a group that admits HTTPS from the "
        "VPC; none by default.",
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
    availability_zones: list[str] = Field(
        description=f"AZ names of the environment's region (eu-west-1a), 2 to {MAX_AVAILABILITY_ZONES}; one subnet "
        "per tier in each. Plans fail if the region does not offer one of them to the account."
    )
    subnet_prefix_length: int | None = Field(
        default=None,
        description="Prefix length of carved subnets; VPC prefix + 4 (16 subnets) when unset.",
    )
    subnets: SubnetCidrs | None = Field(
        default=None, description="Explicit subnet CIDRs; carved from vpc_cidr when unset."
    )
    nat: NatStrategy = Field(
        default="per_az",
        description="per_az: one NAT gateway per AZ (survives an AZ outage); single: one shared; none: no egress.",
    )
    flow_logs: FlowLogsConfig = Field(
        default_factory=FlowLogsConfig, description="VPC flow logs to a CloudWatch log group the platform creates."
    )
    endpoints: VpcEndpointsConfig = Field(
        default_factory=VpcEndpointsConfig, description="VPC endpoints for AWS APIs without NAT."
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        network = ipv4_network(value, what="vpc_cidr")
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
        if len(value) > MAX_AVAILABILITY_ZONES:
            raise FieldError(
                f"must list at most {MAX_AVAILABILITY_ZONES} availability zones (no region has more), got {len(value)}",
                value=value,
            )
        if len(set(value)) != len(value):
            raise FieldError("lists an availability zone more than once", value=value)
        for index, zone in enumerate(value):
            if _AZ_ID.match(zone):
                raise FieldError(
                    "must be an availability zone name such as eu-west-1a, not an AZ ID: subnets are placed by name",
                    path=(index,),
                    value=zone,
                )
            if not _AZ_NAME.match(zone):
                raise FieldError(
                    "must be an availability zone name: the region's name and a letter, such as eu-west-1a",
                    path=(index,),
                    value=zone,
                )
        return value

    @model_validator(mode="after")
    def _subnets(self) -> NetworkConfig:
        if self.subnets is None:
            self._check_carving()
        else:
            self._check_explicit_subnets(self.subnets)
        return self

    def _check_carving(self) -> None:
        """The carved layout: a subnet prefix inside the VPC, and room for every AZ in each tier."""
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
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

    def _check_explicit_subnets(self, subnets: SubnetCidrs) -> None:
        """Explicit CIDRs: one per AZ in each tier, inside the VPC, at least /28, no two overlapping."""
        if self.subnet_prefix_length is not None:
            raise FieldError(
                "is only used when subnets are carved automatically; remove it or remove [network.subnets]",
                path=("subnet_prefix_length",),
                value=self.subnet_prefix_length,
            )
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        seen: list[tuple[ipaddress.IPv4Network, tuple[str | int, ...]]] = []
        for tier in SUBNET_TIERS:
            cidrs: list[str] = getattr(subnets, tier)
            if len(cidrs) != len(self.availability_zones):
                raise FieldError(
                    f"needs one CIDR per availability zone ({len(self.availability_zones)}), got {len(cidrs)}",
                    path=("subnets", tier),
                    value=cidrs,
                )
            for index, cidr in enumerate(cidrs):
                path: tuple[str | int, ...] = ("subnets", tier, index)
                try:
                    network = ipv4_network(cidr, what="subnet CIDR")
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
