"""The load balancer and the security-group layout (``[alb]``, ``[security_groups]``), and a
service's health check."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .alarms import LoadBalancerAlarmsConfig
from .base import Strict, certificate_region, ipv4_network, valid_certificate_arn, valid_url_path
from .errors import FieldError

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
        return valid_url_path(value)

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
    alarms: LoadBalancerAlarmsConfig = Field(default_factory=LoadBalancerAlarmsConfig)

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
                ipv4_network(cidr, what="ingress CIDR")
            except FieldError as error:
                raise FieldError(error.message, path=(index,), value=cidr) from None
            if value.index(cidr) != index:
                raise FieldError("is listed twice", path=(index,), value=cidr)
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str | None) -> str | None:
        return valid_certificate_arn(value)

    @property
    def certificate_region(self) -> str | None:
        """Region part of the certificate ARN, if any."""
        return certificate_region(self.certificate_arn)

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
