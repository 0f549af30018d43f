"""Custom domains from an existing Route 53 hosted zone (``[domain]``): the certificates the load
balancer and the distribution serve, issued by ACM and validated through the zone, and the records
that point the names at them.

The zone is looked up, never created: it belongs to whoever owns the domain (registering a domain and
delegating it are not Terraform's to do). Everything else the names need is created by the stack.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from .base import Strict
from .errors import FieldError
from .frontend import CLOUDFRONT_REGION, FrontendConfig
from .load_balancer import AlbConfig
from .regions import partition_of

# Route 53 hosted zone ids: Z and up to 32 upper-case letters and digits (Z0123456789ABCDEFGHIJ).
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,32}$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z]{{2,63}}$")
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
# A DNS name is at most 253 characters. ACM also puts the first name of a certificate in its Common
# Name, which X.509 caps at 64 characters (ACM RequestCertificate: "The first domain name you enter
# cannot exceed 64 octets").
NAME_MAX = 253
COMMON_NAME_MAX = 64
WWW = "www"


class DomainConfig(Strict):
    """Custom domains (``[domain]``): an existing public Route 53 hosted zone, and the names the stack
    serves in it. The stack requests the certificates from ACM (DNS validation through the zone), adds
    the validation records, and points ``<api_host>.<name>`` at the load balancer and ``<name>`` at the
    distribution (alias records). Unset: no custom domain; [alb] and [frontend] may name existing
    certificates instead."""

    zone_name: str | None = Field(
        default=None,
        description="The existing public hosted zone, by its DNS name (example.com, no trailing dot). Looked "
        "up when Terraform plans, never created or changed but for the records added to it. Exactly one of "
        "zone_name and zone_id.",
    )
    zone_id: str | None = Field(
        default=None,
        description="The same zone by its id (Z followed by up to 32 upper-case letters and digits), e.g. when "
        "two zones share a name. Exactly one of zone_name and zone_id.",
    )
    name: str | None = Field(
        default=None,
        description="The site's domain: the zone's own name or a name under it. The distribution serves it, "
        "and the load balancer <api_host>.<name>. Unset: zone_name (required with zone_id; the plan checks "
        "that it lies in the zone).",
    )
    api_host: str = Field(
        default="api",
        description="The load balancer's host under name: <api_host>.<name> gets an alias record to it and "
        "the regional certificate it serves, and CloudFront's /api/* origin uses that name (HTTPS, checked "
        "against the certificate). One or more lowercase DNS labels.",
    )
    www_redirect: bool = Field(
        default=False,
        description="Also serve www.<name> from the distribution (on its certificate, with its own alias "
        "records) and answer every request for it with a 301 to the same path on https://<name>. Off: "
        "www.<name> is not created.",
    )

    @field_validator("zone_name", "name")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > NAME_MAX or not _DOMAIN.match(value)):
            raise FieldError(
                "must be a lowercase DNS name such as example.com, without a trailing dot or a wildcard", value=value
            )
        return value

    @field_validator("zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not _ZONE_ID.match(value):
            raise FieldError(
                "must be a Route 53 hosted zone id: Z followed by 1 to 32 upper-case letters and digits, "
                "e.g. Z0123456789ABCDEFGHIJ (without /hostedzone/)",
                value=value,
            )
        return value

    @field_validator("api_host")
    @classmethod
    def _api_host(cls, value: str) -> str:
        if not _HOST.match(value):
            raise FieldError("must be one or more lowercase DNS labels such as api or api.v2", value=value)
        return value

    @model_validator(mode="after")
    def _names(self) -> DomainConfig:
        if (self.zone_name is None) == (self.zone_id is None):
            raise FieldError(
                "must be set, or zone_id instead (exactly one of the two names the hosted zone)"
                if self.zone_name is None
                else "is set together with zone_id: name the hosted zone one way only",
                path=("zone_name",),
                value=self.zone_name,
            )
        if self.zone_id is not None and self.name is None:
            raise FieldError(
                "is required with zone_id: the certificates need the names when the stack is written, before the "
                "zone is looked up",
                path=("name",),
                value=None,
            )
        if self.zone_name is not None and self.name is not None and not _within(self.name, self.zone_name):
            raise FieldError(
                f"must be the zone's name {self.zone_name} or a name under it (records go into that zone)",
                path=("name",),
                value=self.name,
            )
        if self.www_redirect and self.api_host == WWW:
            raise FieldError(
                f"must not be {WWW!r} while www_redirect = true: www.<name> redirects to the site",
                path=("api_host",),
                value=self.api_host,
            )
        for path, host in (("api_host", self.api_name), ("name", self.site_name)):
            if len(host) > COMMON_NAME_MAX:
                raise FieldError(
                    f"makes {host} ({len(host)} characters), the first name of a certificate: ACM puts it in the "
                    f"certificate's Common Name, at most {COMMON_NAME_MAX} characters",
                    path=(path,),
                    value=getattr(self, path),
                )
        return self

    @property
    def site_name(self) -> str:
        """The site's domain (``name``, else the zone's name)."""
        site = self.name or self.zone_name
        assert site is not None  # _names: one of them is set
        return site

    @property
    def api_name(self) -> str:
        """``<api_host>.<name>``: the load balancer's name."""
        return f"{self.api_host}.{self.site_name}"

    @property
    def site_names(self) -> list[str]:
        """The distribution's names: the site, then ``www.<name>`` with ``www_redirect``."""
        return [self.site_name, *([f"{WWW}.{self.site_name}"] if self.www_redirect else [])]


def _within(name: str, zone: str) -> bool:
    return name == zone or name.endswith(f".{zone}")


def check_domain(
    domain: DomainConfig | None, alb: AlbConfig, frontend: FrontendConfig, region: str
) -> list[FieldError]:
    """What [domain] replaces may not be set next to it, and its names need a frontend and ACM in
    us-east-1; paths are relative to the environment. Call from the checks across tables."""
    if domain is None:
        return []
    setting = "zone_name" if domain.zone_name is not None else "zone_id"
    replaced = f"domain.{setting} is set: [domain] issues this certificate and names the domains itself"
    problems = [
        FieldError(f"is set but {replaced}; remove one of the two", path=path, value=value)
        for path, value in (
            (("alb", "certificate_arn"), alb.certificate_arn),
            (("frontend", "certificate_arn"), frontend.certificate_arn),
            (("frontend", "aliases"), frontend.aliases or None),
        )
        if value is not None
    ]
    if frontend.api_origin_domain is not None:
        problems.append(
            FieldError(
                f"is set but domain.{setting} is set: CloudFront reaches the load balancer at {domain.api_name}, the "
                "record [domain] creates; remove one of the two",
                path=("frontend", "api_origin_domain"),
                value=frontend.api_origin_domain,
            )
        )
    if domain.www_redirect and not frontend.enabled:
        problems.append(
            FieldError(
                "is set but frontend.enabled is false, so no distribution serves www: remove it or set "
                "frontend.enabled = true",
                path=("domain", "www_redirect"),
                value=True,
            )
        )
    partition = partition_of(region)
    if frontend.enabled and partition not in (None, "aws"):
        problems.append(
            FieldError(
                f"would request the distribution's certificate from ACM in {CLOUDFRONT_REGION}, which partition "
                f"{partition} ({region}) does not have; set frontend.enabled = false to use [domain] for the load "
                "balancer only",
                path=("domain", setting),
                value=getattr(domain, setting),
            )
        )
    return problems
