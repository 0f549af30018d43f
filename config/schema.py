"""The one typed schema every environment file is validated against.

Each building block has its own settings file, mirroring ``modules/`` (network, security_groups,
load_balancer and routing, cluster, repository, service, queue, database, cache, data_access,
frontend, waf, beanstalk, monitoring, kms, secrets, backends); this one assembles them into
``EnvironmentConfig`` and holds the checks that need several blocks at once. Defaults are the secure, highly-available choice; an environment that wants
less (dev) says so explicitly in its own file, with a comment. Every model forbids unknown keys.
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationInfo, field_validator, model_validator

from . import routing
from .account import AccountConfig, account_role_partition
from .backends import BackendConfig, LocalBackendConfig, state_role_partition
from .base import Strict, match_pattern, valid_region, valid_tags
from .beanstalk import BeanstalkConfig, check_beanstalk_choice
from .cache import CacheConfig
from .cluster import ComputeConfig, check_exec
from .data_access import check_data_access
from .database import DatabaseConfig
from .domain import DomainConfig, check_domain
from .errors import FieldError, Path, format_path, raise_all
from .frontend import CLOUDFRONT_REGION, FrontendConfig, check_frontend_origin
from .job import JobConfig, check_jobs
from .kms import EncryptionConfig
from .load_balancer import AlbConfig
from .monitoring import MonitoringConfig
from .network import NetworkConfig
from .regions import partition_of
from .secrets import SecretsConfig
from .security_groups import SecurityGroupsConfig
from .service import ServiceConfig
from .waf import WafConfig

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
    region: str = Field(
        description="AWS region of any partition, e.g. eu-west-1, cn-north-1 or us-gov-west-1 (the regions botocore's "
        "endpoint data lists)."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Extra default tags on every resource.")
    account: AccountConfig | None = Field(
        default=None,
        description="The environment's AWS account (and the role to assume in it). Unset: no account guard; Terraform "
        "works in whatever account its credentials are for.",
    )
    backend: BackendConfig = Field(default_factory=LocalBackendConfig, description="Where Terraform keeps state.")
    network: NetworkConfig
    services: dict[str, ServiceConfig] = Field(default_factory=dict, description="Services keyed by name.")
    jobs: dict[str, JobConfig] = Field(
        default_factory=dict,
        description="Scheduled and one-off tasks keyed by name, each running a service's image with a command.",
    )
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
    domain: DomainConfig | None = Field(
        default=None,
        description="Custom domains from an existing Route 53 hosted zone: certificates and records for the load "
        "balancer and the distribution. Unset: no custom domain (AWS's own names, or certificates [alb] and "
        "[frontend] name).",
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
        return valid_tags(value)

    @field_validator("services", "jobs")
    @classmethod
    def _names(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        what = "service" if info.field_name == "services" else "job"
        for name in value:
            try:
                match_pattern(
                    name, _SERVICE, SERVICE_MAX, "lowercase letters, digits and single hyphens, starting with a letter"
                )
            except FieldError as error:
                raise FieldError(f"{what} name {error.message}", path=(name,), value=name) from None
        return value

    @field_validator("services")
    @classmethod
    def _routing(cls, value: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        # Duplicate patterns, priority clashes and shadowed rules fail here, before anything is built.
        routing.allocate_priorities(_routes(value))
        return value

    @model_validator(mode="after")
    def _across_tables(self) -> EnvironmentConfig:
        # One validator for every check across tables, so each run reports all their problems.
        raise_all(problems_across_tables({name: getattr(self, name) for name in type(self).model_fields}))
        return self

    @functools.cached_property
    def listener_rules(self) -> routing.RulePlan:
        """Listener-rule priority of every service (explicit or allocated, see config/routing.py) and the
        order their moves are applied in; computed once per config."""
        return routing.plan_rules(_routes(self.services))

    @property
    def stack_name(self) -> str:
        """The cdktf stack (and cdktf.out/stacks/<name>) for this environment."""
        return f"{self.project}-{self.environment}"


def _routes(services: dict[str, ServiceConfig]) -> list[routing.Route]:
    """The listener rules: one per web service (backends and workers have none)."""
    return [
        routing.Route(name, tuple(s.path_patterns), tuple(s.host_headers), s.rule_priority)
        for name, s in services.items()
        if s.kind == "web"
    ]


# --- checks across tables ----------------------------------------------------------------------
#
# Each check is a function of the top-level tables it reads, named by its parameters, and returns
# every problem it finds, with paths from the top of the file. EnvironmentConfig runs them all once
# every table is valid. When some table is not, the loader still runs each check whose tables all
# are (valid_tables): one run reports every problem it can, and nothing is checked against a table
# that failed (or against the default standing in for it).

Problems = list[FieldError]


def _caught(check: Callable[[], None]) -> Problems:
    """A check written to raise its one problem, as a list."""
    try:
        check()
    except FieldError as error:
        return [error]
    return []


def _data_access(
    services: dict[str, ServiceConfig], database: DatabaseConfig | None, cache: CacheConfig | None
) -> Problems:
    return _caught(lambda: check_data_access(services, database, cache))


def _compute_choice(
    compute: ComputeConfig,
    beanstalk: BeanstalkConfig | None,
    database: DatabaseConfig | None,
    cache: CacheConfig | None,
    services: dict[str, ServiceConfig],
) -> Problems:
    return _caught(lambda: check_beanstalk_choice(compute.kind, beanstalk, database, cache, list(services)))


def _frontend_origin(frontend: FrontendConfig, alb: AlbConfig, domain: DomainConfig | None) -> Problems:
    if domain is not None:  # its API record is the origin; check_domain refuses a certificate_arn next to it
        return []
    return _caught(lambda: check_frontend_origin(frontend, alb.certificate_arn))


def _certificate_in_region(region: str, alb: AlbConfig) -> Problems:
    found = alb.certificate_region
    if found is None or found == region:
        return []
    return [
        FieldError(
            f"must be an ACM certificate in the environment's region {region} (an ALB can only use "
            f"certificates from its own region), got one in {found}",
            path=("alb", "certificate_arn"),
            value=alb.certificate_arn,
        )
    ]


def _azs_in_region(region: str, network: NetworkConfig) -> Problems:
    return [
        FieldError(
            f"must be an availability zone of {region}, like {region}a",
            path=("network", "availability_zones", index),
            value=zone,
        )
        for index, zone in enumerate(network.availability_zones)
        if not re.fullmatch(re.escape(region) + r"[a-z]", zone)
    ]


def _cloudfront_waf_in_partition(region: str, waf: WafConfig, frontend: FrontendConfig) -> Problems:
    partition = partition_of(region)
    if partition in (None, "aws") or not (waf.enabled and frontend.enabled and frontend.web_acl_arn is None):
        return []
    return [
        FieldError(
            f"would create a CLOUDFRONT-scoped web ACL in {CLOUDFRONT_REGION}, which partition {partition} "
            f"({region}) does not have: AWS WAF is regional only there. Set frontend.enabled = false, name an "
            "existing ACL in frontend.web_acl_arn, or set waf.enabled = false",
            path=("waf", "enabled"),
            value=True,
        )
    ]


def _some_service(compute: ComputeConfig, services: dict[str, ServiceConfig]) -> Problems:
    if compute.kind != "fargate" or any(service.kind == "web" for service in services.values()):
        return []
    if not services:
        return [
            FieldError(
                "declares no service: with compute.kind = 'fargate' the cluster and the load balancer exist to run "
                "[services.<name>] tables and would serve nothing; add one (a [services.<name>] table with its "
                "container_port), or run a docker-compose bundle with compute.kind = 'beanstalk'",
                path=("services",),
                value={},
            )
        ]
    return [
        FieldError(
            "declares no web service (kind = 'web'): the platform's internet-facing load balancer would route to "
            "nothing and answer every request with 404; give at least one service path_patterns or host_headers "
            "with kind = 'web'",
            path=("services",),
            value=sorted(services),
        )
    ]


def _queue_senders(services: dict[str, ServiceConfig]) -> Problems:
    return [
        FieldError(
            f"is not a service of this environment; known: {', '.join(sorted(services))}",
            path=("services", name, "queue", "senders", index),
            value=sender,
        )
        for name, service in services.items()
        if service.queue is not None
        for index, sender in enumerate(service.queue.senders)
        if sender not in services
    ]


def _queue_key(encryption: EncryptionConfig, services: dict[str, ServiceConfig]) -> Problems:
    if encryption.customer_managed_key:
        return []
    return [
        _unused(
            ("services", name, "queue", "kms_data_key_reuse_seconds"),
            service.queue.kms_data_key_reuse_seconds,
            "encryption.customer_managed_key is false (the queue is encrypted with SQS-managed keys, no KMS data key)",
            "set encryption.customer_managed_key = true",
        )
        for name, service in services.items()
        if service.queue is not None and "kms_data_key_reuse_seconds" in service.queue.model_fields_set
    ]


def _worker_task_count(compute: ComputeConfig, services: dict[str, ServiceConfig]) -> Problems:
    # A worker scales on its queue's backlog divided by Container Insights' RunningTaskCount.
    if compute.container_insights != "disabled":
        return []
    workers = sorted(name for name, s in services.items() if s.kind == "worker" and s.scaling.autoscaling)
    if not workers:
        return []
    return [
        FieldError(
            f"must be 'enabled' or 'enhanced' while workers autoscale ({', '.join(workers)}): they scale on their "
            "queue's backlog per running task, counted by Container Insights' RunningTaskCount; turn it on or set "
            "scaling.autoscaling = false on them",
            path=("compute", "container_insights"),
            value="disabled",
        )
    ]


def _backend_ports_in_shared_group(
    security_groups: SecurityGroupsConfig, services: dict[str, ServiceConfig]
) -> Problems:
    # In shared mode every service is in the one group the load balancer reaches on the web ports.
    if security_groups.mode != "shared":
        return []
    web_ports: dict[int | None, str] = {}
    for name, service in sorted(services.items()):
        if service.kind == "web":
            web_ports.setdefault(service.container_port, name)
    return [
        FieldError(
            f"is also the port of the web service {web_ports[service.container_port]}: with security_groups.mode = "
            "'shared' both are in the one group the load balancer reaches on that port, so the load balancer could "
            "reach this backend too; give it another port or use mode = 'tiered' (its own group)",
            path=("services", name, "container_port"),
            value=service.container_port,
        )
        for name, service in services.items()
        if service.kind == "backend" and service.container_port in web_ports
    ]


# Without NAT, a Fargate task reaches AWS only through VPC endpoints: these, to pull its image and ship
# its logs (the S3 gateway endpoint serves the image layers).
NAT_FREE_ENDPOINTS = {"ecr.api": "pull images", "ecr.dkr": "pull images", "logs": "ship container logs"}


def _egress_without_nat(
    network: NetworkConfig,
    compute: ComputeConfig,
    services: dict[str, ServiceConfig],
    database: DatabaseConfig | None,
    cache: CacheConfig | None,
) -> Problems:
    if network.nat != "none":
        return []
    if compute.kind == "beanstalk":
        return [
            FieldError(
                "must be 'single' or 'per_az' with compute.kind = 'beanstalk': its instances talk to Elastic "
                "Beanstalk, CloudFormation and Auto Scaling endpoints that network.endpoints does not offer",
                path=("network", "nat"),
                value="none",
            )
        ]
    if not services:
        return []
    wanted = _endpoints_wanted(compute, services, database, cache)
    endpoints = network.endpoints
    missing = [endpoint for endpoint in wanted if endpoint not in endpoints.interface]
    problems: Problems = []
    if missing:
        why = "; ".join(f"{endpoint} to {wanted[endpoint]}" for endpoint in missing)
        problems.append(
            FieldError(
                f"must include {', '.join(missing)} with network.nat = 'none', or tasks cannot start: without NAT "
                f"they reach AWS only through these ({why}); add them or set network.nat = 'single'",
                path=("network", "endpoints", "interface"),
                value=list(endpoints.interface),
            )
        )
    if not endpoints.s3_gateway:
        problems.append(
            FieldError(
                "must be true with network.nat = 'none': ECR serves image layers from S3, so without it (or NAT) "
                "tasks cannot pull their images",
                path=("network", "endpoints", "s3_gateway"),
                value=False,
            )
        )
    return problems


def _endpoints_wanted(
    compute: ComputeConfig,
    services: dict[str, ServiceConfig],
    database: DatabaseConfig | None,
    cache: CacheConfig | None,
) -> dict[str, str]:
    """The interface endpoints the services' tasks need without NAT, each with the first need for it."""
    wanted = dict(NAT_FREE_ENDPOINTS)
    for name, service in services.items():
        if service.queue is not None:
            wanted.setdefault("sqs", f"poll (and send to) the queue of {name}")
        references = service.task.secrets.values()
        access = service.data_access
        if (
            any(":secretsmanager:" in arn for arn in references)
            or (access.uses_database and database is not None and not database.iam_auth)
            or (access.uses_cache and cache is not None and cache.auth == "token")
        ):
            wanted.setdefault("secretsmanager", f"read the secrets of {name}")
        if any(":ssm:" in arn for arn in references):
            wanted.setdefault("ssm", f"read the parameters of {name}")
        if compute.exec.on_for(service.task):
            wanted.setdefault("ssmmessages", f"open ECS Exec sessions into {name}")
            wanted.setdefault("kms", f"encrypt the ECS Exec sessions into {name}")
    return wanted


def _api_origin_reachable(frontend: FrontendConfig, alb: AlbConfig, compute: ComputeConfig) -> Problems:
    # With Beanstalk, /api/* goes to Beanstalk's own load balancer, which [alb] does not describe.
    if not (frontend.enabled and frontend.api_origin and compute.kind == "fargate"):
        return []
    if alb.internal:
        return [
            FieldError(
                "routes /api/* to the load balancer, but alb.internal = true keeps it out of CloudFront's reach "
                "(CloudFront connects to an origin over the internet): set alb.internal = false or api_origin = false",
                path=("frontend", "api_origin"),
                value=True,
            )
        ]
    cidrs = alb.ingress_cidrs
    if cidrs is None or _whole_internet(cidrs):
        return []
    return [
        FieldError(
            "must admit 0.0.0.0/0 while frontend.api_origin = true: CloudFront reaches the load balancer from its "
            "origin-facing address ranges, dozens of public ranges AWS changes over time that a CIDR list cannot "
            "follow; allow 0.0.0.0/0 (WAF still filters requests) or set frontend.api_origin = false",
            path=("alb", "ingress_cidrs"),
            value=list(cidrs),
        )
    ]


def _whole_internet(cidrs: Collection[str]) -> bool:
    networks = ipaddress.collapse_addresses(ipaddress.IPv4Network(cidr) for cidr in cidrs)
    return any(network.prefixlen == 0 for network in networks)


# [compute] settings of the ECS cluster, which compute.kind = "beanstalk" does not build.
FARGATE_ONLY_SETTINGS = ("container_insights", "capacity_provider_strategy", "log_kms_key_arn", "exec")


def _fargate_settings(compute: ComputeConfig) -> Problems:
    if compute.kind != "beanstalk":
        return []
    return [
        _unused(path, value, "compute.kind is 'beanstalk', which builds no ECS cluster", "set compute.kind = 'fargate'")
        for name in FARGATE_ONLY_SETTINGS
        if name in compute.model_fields_set
        for path, value in _settings_in(getattr(compute, name), ("compute", name))
    ]


def _beanstalk_database_user(beanstalk: BeanstalkConfig | None, database: DatabaseConfig | None) -> Problems:
    if beanstalk is None or "database_user" not in beanstalk.model_fields_set:
        return []
    if database is None:
        because = "there is no [database]"
    elif not database.iam_auth:
        because = "database.iam_auth is false, so the instances sign in as the master user"
    else:
        return []
    return [_unused(("beanstalk", "database_user"), beanstalk.database_user, because, "use IAM database auth")]


CROSS_TABLE_CHECKS: tuple[Callable[..., Problems], ...] = (
    _data_access,
    _compute_choice,
    _frontend_origin,
    _certificate_in_region,
    _azs_in_region,
    _cloudfront_waf_in_partition,
    _some_service,
    _queue_senders,
    _queue_key,
    _worker_task_count,
    _backend_ports_in_shared_group,
    _egress_without_nat,
    check_exec,
    check_jobs,
    _api_origin_reachable,
    _fargate_settings,
    _beanstalk_database_user,
    account_role_partition,
    state_role_partition,
    check_domain,
)


def problems_across_tables(tables: Mapping[str, Any]) -> Problems:
    """Every problem of the checks across tables whose tables are all in ``tables`` (validated
    top-level values by key), and of the settings a switch turns off (in any table given)."""
    problems: Problems = []
    for name, value in tables.items():
        problems += _unused_while_off(value, (name,))
    monitoring = tables.get("monitoring")
    if isinstance(monitoring, MonitoringConfig) and not monitoring.enabled:
        for name, value in tables.items():
            problems += _alarms_while_unmonitored(value, (name,))
    for check in CROSS_TABLE_CHECKS:
        needs = list(inspect.signature(check).parameters)
        if all(name in tables for name in needs):
            problems += check(**{name: tables[name] for name in needs})
    return problems


def valid_tables(data: Mapping[str, Any], failed: Collection[str]) -> dict[str, Any]:
    """The validated value of every top-level key of ``data`` not in ``failed`` (keys whose validation
    failed), defaults included: what the checks across tables may look at."""
    tables: dict[str, Any] = {}
    for name, field in EnvironmentConfig.model_fields.items():
        if name in failed:
            continue
        if name in data:
            tables[name] = _adapter(name).validate_python(data[name])
        elif not field.is_required():
            tables[name] = field.get_default(call_default_factory=True)
    return tables


@functools.cache
def _adapter(name: str) -> TypeAdapter[Any]:
    field = EnvironmentConfig.model_fields[name]
    constraints = [*field.metadata, *([Field(discriminator=field.discriminator)] if field.discriminator else [])]
    annotation: Any = Annotated[(field.annotation, *constraints)] if constraints else field.annotation
    return TypeAdapter(annotation)


# --- settings nothing uses ----------------------------------------------------------------------
#
# A table's ``enabled = false`` turns its feature off, and with it every other setting of the table;
# a block's ``alarms`` table matters only with monitoring on. Such a setting given in the file is an
# error (it looks effective and is not). Only settings the file gives count (pydantic's
# model_fields_set), never defaults.


def _unused(path: Path, value: Any, because: str, fix: str) -> FieldError:
    return FieldError(f"is set but {because}, so nothing uses it: remove it or {fix}", path=path, value=value)


def _settings_in(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    """Each setting the file gives at or under ``path``, by path."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name in value.model_fields_set:
                yield from _settings_in(getattr(value, name), (*path, name))
    elif isinstance(value, dict) and value and all(isinstance(item, BaseModel) for item in value.values()):
        for key, item in value.items():
            yield from _settings_in(item, (*path, key))
    else:
        yield path, value


def _given(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    """The tables, and tables keyed by name, the file gives under ``value``, by path."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name in value.model_fields_set:
                yield (*path, name), getattr(value, name)
    elif isinstance(value, dict):
        yield from (((*path, key), item) for key, item in value.items() if isinstance(item, BaseModel))


def _unused_while_off(value: Any, path: Path) -> Problems:
    if isinstance(value, BaseModel) and "enabled" in type(value).model_fields and value.enabled is False:  # type: ignore[attr-defined]
        switch = format_path((*path, "enabled"))
        return [
            _unused(leaf, setting, f"{switch} is false", f"set {switch} = true")
            for name in type(value).model_fields
            if name != "enabled" and name in value.model_fields_set
            for leaf, setting in _settings_in(getattr(value, name), (*path, name))
        ]
    return [problem for child, item in _given(value, path) for problem in _unused_while_off(item, child)]


def _alarms_while_unmonitored(value: Any, path: Path) -> Problems:
    problems: Problems = []
    for child, item in _given(value, path):
        if isinstance(value, BaseModel) and child[-1] == "alarms":
            problems += [
                _unused(
                    leaf, setting, "monitoring.enabled is false (no alarm is created)", "set monitoring.enabled = true"
                )
                for leaf, setting in _settings_in(item, child)
            ]
        else:
            problems += _alarms_while_unmonitored(item, child)
    return problems
