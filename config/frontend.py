"""The static frontend on S3 + CloudFront (``[frontend]``): a private, versioned bucket served over
HTTPS with security headers, optionally routing ``/api/*`` to the load balancer.

Defaults are the secure choice: a private bucket behind CloudFront with HTTPS only, access logs on.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Strict, certificate_region
from .errors import FieldError

# CloudFront's global resources live in us-east-1, whatever the stack's region: the ACM certificates
# it serves, and WAF web ACLs of scope CLOUDFRONT with their log groups.
CLOUDFRONT_REGION = "us-east-1"
MAX_ALIASES = 100  # CloudFront's default quota of alternate domain names per distribution
DEFAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'; upgrade-insecure-requests"
)

_WEB_ACL_ARN = re.compile(r"^arn:aws:wafv2:us-east-1:\d{12}:global/webacl/[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}$")
_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_OBJECT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$")


class FrontendLogsConfig(Strict):
    """CloudFront standard logs and the site bucket's S3 server access logs, to a log bucket the
    platform creates (``[frontend.access_logs]``)."""

    enabled: bool = Field(
        default=True,
        description="Access logs on: every viewer request and every request to the site bucket is recorded, in a "
        "versioned log bucket encrypted with SSE-S3 (the only encryption S3 server access logging supports).",
    )
    expiry_days: int = Field(default=365, ge=1, le=3650, description="Days a log object is kept before S3 deletes it.")


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
        description="Single-page app routing: a viewer-request function serves default_root_object for extension-less "
        "paths (deep links) of the bucket. Not a 403/404 custom error response: those apply to the whole "
        "distribution and would turn the API's 404s into index.html. Off: such paths are looked up as objects and "
        "missing ones answer 403.",
    )
    aliases: list[str] = Field(
        default_factory=list,
        description="Custom domain names (CNAMEs) of the distribution; the CloudFront domain only when empty.",
    )
    certificate_arn: str | None = Field(
        default=None,
        description="ACM certificate in us-east-1 covering every alias (SNI, TLS 1.2+); required with aliases. "
        "Unset: the default *.cloudfront.net certificate.",
    )
    api_origin: bool = Field(
        default=False,
        description="Route /api/* to the load balancer as a second origin (no caching, all methods, the viewer's "
        "headers, cookies and query except Host), so the browser talks to one domain. Off: the distribution "
        "serves only the bucket.",
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
        ge=1,
        le=3650,
        description="Days a replaced or deleted object version is kept (rollback window) before S3 deletes it.",
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
        if region != CLOUDFRONT_REGION:
            raise FieldError(
                f"must be an ACM certificate in {CLOUDFRONT_REGION} (CloudFront only uses certificates "
                f"from {CLOUDFRONT_REGION}, whatever the stack's region), got one in {region}",
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
