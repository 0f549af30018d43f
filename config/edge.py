"""Config of the edge and its alternatives: the static frontend on S3 + CloudFront (``[frontend]``),
Elastic Beanstalk as the compute of an environment (``[beanstalk]``), and CloudWatch alarms
(``[monitoring]``).

Defaults are the secure choice: a private bucket behind CloudFront with HTTPS only, Beanstalk with
enhanced health, managed platform updates and IMDSv2, alarms on with thresholds that page before
users notice. Nothing here holds a secret: secrets are referenced by ARN only.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .alarms import LoadBalancerAlarmsConfig
from .base import (
    SECRET_LOOKING,
    SECRETS_MANAGER_ARN,
    SSM_PARAMETER_ARN,
    VARIABLE_NAME,
    Strict,
    between,
    certificate_region,
    valid_kms_key_arn,
    valid_retention,
    valid_url_path,
)
from .data import CacheConfig, DatabaseConfig, valid_database_user
from .errors import FieldError

# CloudFront only accepts certificates from ACM in us-east-1, whatever the stack's region.
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"
MAX_ALIASES = 100  # CloudFront's default quota of alternate domain names per distribution
DEFAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'; upgrade-insecure-requests"
)
# The Docker platform branch that runs docker compose (multi-container) on Amazon Linux 2023.
BEANSTALK_PLATFORM_EXAMPLE = "64bit Amazon Linux 2023 v4.8.0 running Docker"
MAX_BEANSTALK_INSTANCES = 10_000

_WEB_ACL_ARN = re.compile(r"^arn:aws:wafv2:us-east-1:\d{12}:global/webacl/[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}$")
_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_OBJECT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$")
_PLATFORM = re.compile(r"^64bit Amazon Linux 2023 v4\.\d+\.\d+ running Docker$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal)$")
_WEEKLY_START = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):([0-5]\d)$")
_REPOSITORY = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
# A Secrets Manager secret ARN (with AWS's 6-character suffix), optionally ``:<json-key>``, or an
# SSM parameter ARN: what Beanstalk's environment secrets accept.
_SECRETS_MANAGER_REF = re.compile(rf"^(?P<arn>{SECRETS_MANAGER_ARN})(?::(?P<key>[^:]+))?$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# Variables the Beanstalk module sets from the data tier; [beanstalk.environment] may not (nor the
# IMAGE_<REPOSITORY> variables the stack sets, see image_variable()).
BEANSTALK_RESERVED_VARIABLES = (
    "RDS_ENDPOINT",
    "RDS_PORT",
    "RDS_DB_NAME",
    "RDS_USERNAME",
    "USE_IAM_AUTH",
    "RDS_SECRET_ARN",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_TLS",
    "REDIS_AUTH_SECRET_ARN",
)


# --- frontend ----------------------------------------------------------------------------------


class FrontendLogsConfig(Strict):
    """CloudFront access logs to an S3 bucket the platform creates (``[frontend.access_logs]``)."""

    enabled: bool = Field(default=True, description="Access logs on: every viewer request is recorded.")
    expiry_days: int = Field(default=365, description="Days a log object is kept before S3 deletes it, 1-3650.")

    @field_validator("expiry_days")
    @classmethod
    def _expiry(cls, value: int) -> int:
        between(value, 1, 3650, " days")
        return value


class FrontendConfig(Strict):
    """The static frontend: a private S3 bucket served by CloudFront (``[frontend]``)."""

    enabled: bool = Field(default=True, description="Create the bucket and the distribution.")
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        default="PriceClass_100",
        description="Edge locations used: 100 = North America and Europe (cheapest), 200 adds most of Asia, All = every location.",
    )
    default_root_object: str = Field(default="index.html", description="Object served for '/'.")
    spa_fallback: bool = Field(
        default=False,
        description="Single-page app routing: extension-less paths (deep links) are served default_root_object. "
        "Off: such paths are looked up as objects and missing ones answer 403.",
    )
    aliases: list[str] = Field(
        default_factory=list,
        description="Custom domain names (CNAMEs) of the distribution; the CloudFront domain only when empty.",
    )
    certificate_arn: str | None = Field(
        default=None,
        description="ACM certificate in us-east-1 covering every alias; required with aliases. "
        "Unset: the default *.cloudfront.net certificate.",
    )
    api_origin: bool = Field(
        default=False,
        description="Route /api/* to the load balancer as a second origin (no caching, all methods), so the browser "
        "talks to one domain. Off: the distribution serves only the bucket.",
    )
    api_origin_domain: str | None = Field(
        default=None,
        description="Host name CloudFront uses to reach the load balancer. Required when the load balancer has a "
        "certificate (CloudFront checks the origin's certificate against this name, and the ALB's own DNS "
        "name is never on it); the load balancer's DNS name over HTTP otherwise.",
    )
    content_security_policy: str = Field(
        default=DEFAULT_CONTENT_SECURITY_POLICY,
        description="Content-Security-Policy header on every response; same-origin everything by default.",
    )
    web_acl_arn: str | None = Field(
        default=None,
        description="An existing AWS WAF (v2, scope CLOUDFRONT) web ACL in front of the distribution, instead of "
        "the one the platform creates with [waf]. Unset: the platform's ACL, or none when [waf] is off.",
    )
    noncurrent_version_expiry_days: int = Field(
        default=90,
        description="Days a replaced or deleted object version is kept (rollback window) before S3 deletes it, 1-3650.",
    )
    force_destroy: bool = Field(
        default=False, description="Destroy empties the bucket first; off: destroy fails while it holds objects."
    )
    access_logs: FrontendLogsConfig = Field(default_factory=FrontendLogsConfig)

    @field_validator("default_root_object")
    @classmethod
    def _root_object(cls, value: str) -> str:
        if not _OBJECT_KEY.match(value) or value.endswith("/") or "//" in value:
            raise FieldError(
                "must be an object key such as index.html: no leading or trailing '/', letters, digits, '.', '_', '-', '/'",
                value=value,
            )
        return value

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_ALIASES:
            raise FieldError(f"may list at most {MAX_ALIASES} names, got {len(value)}", value=value)
        for index, name in enumerate(value):
            if len(name) > 253 or not _HOSTNAME.match(name):
                raise FieldError(
                    "must be a lowercase DNS name such as www.example.com (a leading '*.' is allowed)",
                    path=(index,),
                    value=name,
                )
            if value.index(name) != index:
                raise FieldError("is listed twice", path=(index,), value=name)
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str | None) -> str | None:
        if value is None:
            return None
        region = certificate_region(value)
        if region is None:
            raise FieldError(
                "must be an ACM certificate ARN: arn:aws:acm:us-east-1:<12-digit account>:certificate/<uuid>",
                value=value,
            )
        if region != CLOUDFRONT_CERTIFICATE_REGION:
            raise FieldError(
                f"must be an ACM certificate in {CLOUDFRONT_CERTIFICATE_REGION} (CloudFront only uses certificates "
                f"from {CLOUDFRONT_CERTIFICATE_REGION}, whatever the stack's region), got one in {region}",
                value=value,
            )
        return value

    @field_validator("api_origin_domain")
    @classmethod
    def _api_domain(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("*.") or len(value) > 253 or not _HOSTNAME.match(value)):
            raise FieldError("must be a lowercase DNS name such as api.example.com", value=value)
        return value

    @field_validator("content_security_policy")
    @classmethod
    def _csp(cls, value: str) -> str:
        if not value.strip() or len(value) > 1783 or any(c in value for c in "\r\n"):
            raise FieldError("must be a one-line Content-Security-Policy of at most 1783 characters", value=value)
        return value

    @field_validator("web_acl_arn")
    @classmethod
    def _web_acl(cls, value: str | None) -> str | None:
        if value is not None and not _WEB_ACL_ARN.match(value):
            raise FieldError(
                "must be a WAFv2 web ACL ARN with scope CLOUDFRONT: arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>",
                value=value,
            )
        return value

    @field_validator("noncurrent_version_expiry_days")
    @classmethod
    def _noncurrent(cls, value: int) -> int:
        between(value, 1, 3650, " days")
        return value

    @model_validator(mode="after")
    def _domain(self) -> FrontendConfig:
        if self.aliases and self.certificate_arn is None:
            raise FieldError(
                "is required with aliases: CloudFront serves custom domains only with an ACM certificate (us-east-1) covering them",
                path=("certificate_arn",),
                value=None,
            )
        if self.certificate_arn is not None and not self.aliases:
            raise FieldError(
                "is only used with aliases (the custom domains it covers); add aliases or remove it",
                path=("certificate_arn",),
                value=self.certificate_arn,
            )
        if self.api_origin_domain is not None and not self.api_origin:
            raise FieldError(
                "is only used when api_origin = true", path=("api_origin_domain",), value=self.api_origin_domain
            )
        return self


# --- waf ---------------------------------------------------------------------------------------


class WafConfig(Strict):
    """AWS WAF in front of the load balancer and the distribution (``[waf]``): one web ACL each with
    AWS managed rule groups (common exploits, known bad inputs such as Log4Shell, IP reputation,
    anonymizing proxies), CloudWatch metrics, sampled requests and logs."""

    enabled: bool = Field(
        default=True,
        description="Create the web ACLs: REGIONAL on the load balancer, CLOUDFRONT (in us-east-1) on the "
        "distribution unless frontend.web_acl_arn names one. Off: no WAF (each ACL costs about $5 a month "
        "plus $1 per rule group and $0.60 per million requests).",
    )
    log_retention_days: int = Field(default=365, description="Retention of the WAF log groups; a CloudWatch period.")

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return valid_retention(value)


# --- beanstalk ---------------------------------------------------------------------------------


class ManagedUpdatesConfig(Strict):
    """Managed platform updates in a weekly window (``[beanstalk.managed_updates]``)."""

    enabled: bool = Field(default=True, description="Beanstalk applies platform updates itself in the weekly window.")
    window_start: str = Field(
        default="Sun:03:00", description="Start of the 2-hour weekly window, 'Ddd:hh:mm' in UTC, e.g. Sun:03:00."
    )
    update_level: Literal["minor", "patch"] = Field(
        default="minor", description="Highest update applied: minor (new features, same branch) or patch only."
    )
    instance_refresh: bool = Field(
        default=False, description="Also replace every instance weekly when no platform update is due."
    )

    @field_validator("window_start")
    @classmethod
    def _window(cls, value: str) -> str:
        if not _WEEKLY_START.match(value):
            raise FieldError("must be 'Ddd:hh:mm' in UTC with Ddd one of Mon..Sun, e.g. Sun:03:00", value=value)
        return value


class BeanstalkConfig(Strict):
    """Elastic Beanstalk settings, used when the environment runs on ``compute.kind = "beanstalk"`` (``[beanstalk]``)."""

    platform: str | None = Field(
        default=None,
        description="Solution stack of the Docker (docker compose) platform on Amazon Linux 2023 to pin, e.g. "
        f"'{BEANSTALK_PLATFORM_EXAMPLE}'. Unset (recommended): the newest such stack AWS lists, resolved at plan "
        "time (CreateEnvironment accepts only currently listed stacks, so a pin goes stale). Either way the "
        "environment keeps the version it runs: managed updates move it forward within the branch, and a newer "
        "listing never replans it.",
    )
    instance_types: list[str] = Field(
        default_factory=lambda: ["t3.small"], description="EC2 instance types, first preferred; at most 40."
    )
    min_instances: int = Field(default=2, description="Fewest instances, one per AZ at least for availability.")
    max_instances: int = Field(default=4, description="Most instances autoscaling starts.")
    deployment_policy: Literal["RollingWithAdditionalBatch", "Immutable"] = Field(
        default="RollingWithAdditionalBatch",
        description="RollingWithAdditionalBatch: new batches launch first, so capacity never drops; "
        "Immutable: a whole new fleet, swapped in when healthy (safest, slowest).",
    )
    batch_size_type: Literal["Percentage", "Fixed"] = Field(
        default="Percentage", description="Whether batch_size is a share of the fleet or an instance count."
    )
    batch_size: int = Field(default=50, description="Instances per rolling batch: 1-100 (%) or 1-max_instances.")
    health_check_path: str = Field(default="/", description="Path the load balancer checks on the instances.")
    enhanced_health: bool = Field(default=True, description="Enhanced health reporting (required by managed updates).")
    log_retention_days: int = Field(
        default=365, description="Instance and health logs in CloudWatch; a CloudWatch period."
    )
    managed_updates: ManagedUpdatesConfig = Field(default_factory=ManagedUpdatesConfig)
    alarms: LoadBalancerAlarmsConfig = Field(default_factory=LoadBalancerAlarmsConfig)
    database_user: str = Field(
        default="web_app",
        description="Database user the instances sign in as with IAM auth (it must exist with GRANT rds_iam); "
        "the master user with password auth.",
    )
    repositories: list[str] = Field(
        default_factory=list,
        description='ECR repositories created for the compose services\' images, e.g. ["nginx", "api", "worker"]; '
        "the instances may pull from exactly these.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="Plain environment properties; never secrets (readable in the EB console)."
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Environment properties Beanstalk fills at instance start from Secrets Manager "
        "(secret ARN, optionally ':<json-key>') or SSM Parameter Store (parameter ARN): name -> ARN.",
    )

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str | None) -> str | None:
        if value is not None and not _PLATFORM.match(value):
            raise FieldError(
                "must be a Docker platform on Amazon Linux 2023, '64bit Amazon Linux 2023 v4.<minor>.<patch> running "
                f"Docker', e.g. '{BEANSTALK_PLATFORM_EXAMPLE}' (list them with aws elasticbeanstalk "
                "list-available-solution-stacks)",
                value=value,
            )
        return value

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: list[str]) -> list[str]:
        if not 1 <= len(value) <= 40:
            raise FieldError(f"must list 1 to 40 instance types, got {len(value)}", value=value)
        for index, name in enumerate(value):
            if not _INSTANCE_TYPE.match(name):
                raise FieldError(
                    "must be an EC2 instance type such as t3.small or m7g.large", path=(index,), value=name
                )
            if value.index(name) != index:
                raise FieldError("is listed twice", path=(index,), value=name)
        return value

    @field_validator("health_check_path")
    @classmethod
    def _health_path(cls, value: str) -> str:
        return valid_url_path(value)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return valid_retention(value)

    @field_validator("database_user")
    @classmethod
    def _database_user(cls, value: str) -> str:
        return valid_database_user(value)

    @field_validator("repositories")
    @classmethod
    def _repositories(cls, value: list[str]) -> list[str]:
        for index, name in enumerate(value):
            if not _REPOSITORY.match(name) or "--" in name:
                raise FieldError(
                    "must be lowercase letters, digits and single hyphens, starting with a letter (at most 40)",
                    path=(index,),
                    value=name,
                )
            if value.index(name) != index:
                raise FieldError("is listed twice", path=(index,), value=name)
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            _variable_name(name)
            if SECRET_LOOKING.search(name):
                raise FieldError(
                    "looks like a secret; plain properties are readable by anyone who can describe the environment. "
                    "Put it in [beanstalk.secrets] as a Secrets Manager or SSM parameter ARN",
                    path=(name,),
                    value=name,
                )
            if name in BEANSTALK_RESERVED_VARIABLES:
                raise FieldError(
                    "is set from the database/cache of this environment; remove it", path=(name,), value=name
                )
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, arn in value.items():
            _variable_name(name)
            if name in BEANSTALK_RESERVED_VARIABLES:
                raise FieldError(
                    "is set from the database/cache of this environment; remove it", path=(name,), value=name
                )
            if not (_SECRETS_MANAGER_REF.match(arn) or SSM_PARAMETER_ARN.match(arn)):
                raise FieldError(
                    "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>, "
                    "optionally ':<json-key>') or an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>)",
                    path=(name,),
                    value=arn,
                )
        return value

    @model_validator(mode="after")
    def _sizes(self) -> BeanstalkConfig:
        if not 1 <= self.min_instances <= MAX_BEANSTALK_INSTANCES:
            raise FieldError(
                f"must be between 1 and {MAX_BEANSTALK_INSTANCES}", path=("min_instances",), value=self.min_instances
            )
        if not self.min_instances <= self.max_instances <= MAX_BEANSTALK_INSTANCES:
            raise FieldError(
                f"must be between min_instances ({self.min_instances}) and {MAX_BEANSTALK_INSTANCES}",
                path=("max_instances",),
                value=self.max_instances,
            )
        high = 100 if self.batch_size_type == "Percentage" else self.max_instances
        if not 1 <= self.batch_size <= high:
            unit = "%" if self.batch_size_type == "Percentage" else " instances (max_instances)"
            raise FieldError(
                f"must be between 1 and {high}{unit} with batch_size_type = {self.batch_size_type!r}",
                path=("batch_size",),
                value=self.batch_size,
            )
        if self.managed_updates.enabled and not self.enhanced_health:
            raise FieldError(
                "must be true while managed_updates.enabled = true (Beanstalk needs enhanced health to judge an update)",
                path=("enhanced_health",),
                value=False,
            )
        images = {image_variable(name): name for name in self.repositories}
        for table in ("environment", "secrets"):
            for name in getattr(self, table):
                if name in images:
                    raise FieldError(
                        f"is set to the URL of the {images[name]!r} repository (docker-compose.yml's image); remove it",
                        path=(table, name),
                        value=name,
                    )
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise FieldError(
                "is also a plain property in [beanstalk.environment]; a name is either plain or secret",
                path=("secrets", both[0]),
                value=both[0],
            )
        return self

    def secret_references(self) -> dict[str, tuple[str, str | None]]:
        """Each secret property as (ARN without any JSON key, JSON key or None)."""
        references: dict[str, tuple[str, str | None]] = {}
        for name, value in self.secrets.items():
            found = _SECRETS_MANAGER_REF.match(value)
            references[name] = (found["arn"], found["key"]) if found else (value, None)
        return references


def image_variable(repository: str) -> str:
    """Environment property holding a repository's URL, e.g. ``IMAGE_API`` for ``api``."""
    return "IMAGE_" + repository.upper().replace("-", "_")


def _variable_name(name: str) -> None:
    if not VARIABLE_NAME.match(name):
        raise FieldError(
            "variable names must be letters, digits and underscores, not starting with a digit",
            path=(name,),
            value=name,
        )


def check_beanstalk_choice(
    compute_kind: str,
    beanstalk: BeanstalkConfig | None,
    database: DatabaseConfig | None = None,
    cache: CacheConfig | None = None,
    service_names: Collection[str] = (),
) -> None:
    """Cross-check of ``compute.kind``, ``[beanstalk]`` and the data tier it connects to; paths are
    relative to the environment.

    Call from an EnvironmentConfig model validator once ``compute.kind`` can be ``"beanstalk"``.
    """
    if compute_kind == "beanstalk":
        if beanstalk is None:
            raise FieldError(
                "is required with compute.kind = 'beanstalk' (its instances, deployments and repositories)",
                path=("beanstalk",),
                value=None,
            )
        if service_names:
            raise FieldError(
                "declare ECS services, which compute.kind = 'beanstalk' does not run: Beanstalk runs the containers "
                "of the source bundle's docker-compose.yml; remove the [services] tables",
                path=("services",),
                value=sorted(service_names),
            )
        if database is not None and database.iam_auth and beanstalk.database_user == database.master_username:
            raise FieldError(
                "must not be the master user: GRANT rds_iam would disable the master password; use a dedicated user",
                path=("beanstalk", "database_user"),
                value=beanstalk.database_user,
            )
        if cache is not None and cache.auth != "token":
            raise FieldError(
                "must be 'token' with compute.kind = 'beanstalk': the instances read the AUTH token from Secrets "
                "Manager (IAM users of ElastiCache are per ECS service)",
                path=("cache", "auth"),
                value=cache.auth,
            )
    elif beanstalk is not None:
        raise FieldError(
            f"[beanstalk] is only used with compute.kind = 'beanstalk' (this environment runs on {compute_kind!r}); "
            "remove [beanstalk] or set compute.kind = 'beanstalk'",
            path=("compute", "kind"),
            value=compute_kind,
        )


def check_frontend_origin(frontend: FrontendConfig, load_balancer_certificate_arn: str | None) -> None:
    """Cross-check of ``[frontend]`` and the load balancer it routes ``/api/*`` to; paths are relative
    to the environment. Call from an EnvironmentConfig model validator with ``alb.certificate_arn``."""
    if frontend.enabled and frontend.api_origin and load_balancer_certificate_arn and not frontend.api_origin_domain:
        raise FieldError(
            "is required when the load balancer has a certificate: CloudFront reaches it over HTTPS and checks "
            "its certificate against this name (the ALB's *.elb.amazonaws.com name is never on it). Use a name on "
            "the ALB's certificate whose DNS record points at the ALB",
            path=("frontend", "api_origin_domain"),
            value=None,
        )


# --- monitoring --------------------------------------------------------------------------------


class MonitoringConfig(Strict):
    """CloudWatch alarms on the data and traffic tiers, notifying one SNS topic (``[monitoring]``)."""

    enabled: bool = Field(default=True, description="Create the topic and the alarms of every tier that exists.")
    alarm_emails: list[str] = Field(
        default_factory=list,
        description="Email addresses subscribed to the alarm topic (each must confirm once); none by default.",
    )
    kms_key_arn: str | None = Field(
        default=None,
        description="Customer-managed key for the topic; its policy must let cloudwatch.amazonaws.com use it. "
        "Unset: the platform creates one (the AWS-managed aws/sns key cannot be used by CloudWatch alarms).",
    )
    period_seconds: int = Field(
        default=300, description="Length of one evaluated period: a multiple of 60, up to 86400."
    )
    evaluation_periods: int = Field(default=3, description="Consecutive breaching periods before an alarm fires.")

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for index, email in enumerate(value):
            if len(email) > 254 or not _EMAIL.match(email):
                raise FieldError("must be an email address such as ops@example.com", path=(index,), value=email)
            if [e.lower() for e in value].index(email.lower()) != index:
                raise FieldError("is listed twice", path=(index,), value=email)
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return valid_kms_key_arn(value)

    @field_validator("period_seconds")
    @classmethod
    def _period(cls, value: int) -> int:
        if value < 60 or value % 60 or value > 86400:
            raise FieldError(
                f"must be a multiple of 60 seconds between 60 and 86400 (CloudWatch's standard resolution), got {value}",
                value=value,
            )
        return value

    @model_validator(mode="after")
    def _window(self) -> MonitoringConfig:
        if not 1 <= self.evaluation_periods <= 100:
            raise FieldError(
                f"must be between 1 and 100, got {self.evaluation_periods}",
                path=("evaluation_periods",),
                value=self.evaluation_periods,
            )
        if self.evaluation_periods * self.period_seconds > 86400:
            raise FieldError(
                f"times period_seconds ({self.period_seconds}) must be at most 86400 s (one day, CloudWatch's limit), "
                f"got {self.evaluation_periods * self.period_seconds}",
                path=("evaluation_periods",),
                value=self.evaluation_periods,
            )
        return self
