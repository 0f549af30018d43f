"""The one typed schema every environment file is validated against.

Each building block has its own settings file, mirroring ``modules/`` (network, security_groups,
load_balancer and routing, cluster, repository, service, database, cache, data_access, frontend,
waf, beanstalk, monitoring, kms, secrets, backends); this one assembles them into
``EnvironmentConfig`` and holds the checks that need several blocks at once. Defaults are the secure, highly-available choice; an environment that wants
less (dev) says so explicitly in its own file, with a comment. Every model forbids unknown keys.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from . import api_constraints, routing
from .backends import BackendConfig, LocalBackendConfig
from .base import Strict, match_pattern, valid_region
from .beanstalk import BeanstalkConfig, check_beanstalk_choice
from .cache import CacheConfig
from .cluster import ComputeConfig
from .data_access import check_data_access
from .database import DatabaseConfig, check_connections_alarm
from .errors import FieldError
from .frontend import FrontendConfig, check_frontend_origin
from .kms import EncryptionConfig
from .load_balancer import AlbConfig
from .monitoring import MonitoringConfig
from .network import NetworkConfig
from .secrets import SecretsConfig
from .security_groups import SecurityGroupsConfig
from .service import ServiceConfig
from .waf import WafConfig

RESERVED_TAG_KEYS = ("project", "environment", "managed-by")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9]*$")
_SERVICE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
PROJECT_MAX = 16
ENVIRONMENT_MAX = 10
SERVICE_MAX = 20


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
    secrets: SecretsConfig = Field(
        default_factory=SecretsConfig, description="Secrets Manager secrets the platform creates."
    )

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return match_pattern(
            value, _PROJECT, PROJECT_MAX, "lowercase letters, digits and single hyphens, starting with a letter"
        )

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        return match_pattern(
            value, _ENVIRONMENT, ENVIRONMENT_MAX, "lowercase letters and digits, starting with a letter"
        )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return valid_region(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag_value in value.items():
            if key in RESERVED_TAG_KEYS:
                raise FieldError(
                    f"is set by the platform ({', '.join(RESERVED_TAG_KEYS)}); remove it", path=(key,), value=tag_value
                )
        # Default tags reach every resource: checked against the tag constraints of every AWS API the
        # stacks call (botocore's models), at load, not at apply.
        problems = api_constraints.check_tags(value)
        if problems:
            raise FieldError("AWS would refuse " + "; ".join(problems), value=dict(value))
        return value

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        for name in value:
            try:
                match_pattern(
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
    def _connections_alarm(self) -> EnvironmentConfig:
        check_connections_alarm(self.database, monitoring_enabled=self.monitoring.enabled)
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
