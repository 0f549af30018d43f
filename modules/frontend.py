"""Static frontend: a private S3 bucket served by CloudFront through an Origin Access Control, with
security headers and an optional ``/api/*`` behaviour to the load balancer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation,
    CloudfrontDistributionLoggingConfig,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_function import CloudfrontFunction
from cdktf_cdktf_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from constructs import Construct

from config.edge import DEFAULT_CONTENT_SECURITY_POLICY
from config.naming import resource_name

from .block import Block
from .bucket import LOG_NONCURRENT_VERSION_DAYS, private_bucket, tls_only_policy
from .iam import allow

PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
# AWS-managed CloudFront policies, by their fixed IDs (the same in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
VIEWER_TLS_POLICY = "TLSv1.2_2021"
# Two years (the preload list asks for at least one), subdomains included, preload-list eligible:
# browsers never try plain HTTP on the domain again.
HSTS_MAX_AGE_SECONDS = 63_072_000
S3_ORIGIN = "s3"
API_ORIGIN = "api"
LOG_PREFIX = "cloudfront/"
S3_ACCESS_LOG_PREFIX = "s3-access/"
# Deep links of a single-page app (/movies/42) have no file extension: serve the app's entry
# document for them, leave real files (/assets/app.js) alone so a missing one stays an error.
SPA_REWRITE = """function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last === '' || last.indexOf('.') === -1) {
    request.uri = '/%s';
  }
  return request;
}
"""


@dataclass(frozen=True, kw_only=True)
class FrontendProps:
    """The bucket, the distribution in front of it, and the optional API route."""

    project: str
    """Project slug, for names."""
    environment: str
    """Environment slug, for names."""
    price_class: PriceClass = "PriceClass_100"
    """Edge locations used: 100 = North America and Europe (cheapest), 200 adds most of Asia, All = all."""
    default_root_object: str = "index.html"
    """Object served for ``/`` (and, with the SPA fallback, for every deep link)."""
    spa_fallback: bool = False
    """A viewer-request function serves default_root_object for extension-less paths of the bucket
    behaviour. Not a 403/404 custom error response: those apply to the whole distribution and would
    turn the API's 404s into 200 index.html. Off: paths are looked up as they are."""
    aliases: list[str] = field(default_factory=list)
    """Custom domain names; the distribution answers only on its cloudfront.net name when empty."""
    certificate_arn: str | None = None
    """ACM certificate in us-east-1 covering the aliases (SNI, TLS 1.2+). Unset: the default
    *.cloudfront.net certificate."""
    api_origin_domain_name: str | None = None
    """Load balancer host name: ``/api/*`` goes there, uncached, with every method and the viewer's
    headers, cookies and query (except Host). No API route when unset."""
    api_origin_https: bool = True
    """Reach the API origin over HTTPS only (the load balancer has a certificate with
    api_origin_domain_name on it); false: HTTP only, for a load balancer without one (dev)."""
    api_path_pattern: str = "/api/*"
    """Path pattern of the API behaviour."""
    content_security_policy: str = DEFAULT_CONTENT_SECURITY_POLICY
    """Content-Security-Policy header on every response."""
    web_acl_arn: str | None = None
    """WAFv2 web ACL (scope CLOUDFRONT) attached to the distribution; none when unset."""
    kms_key_arn: str | None = None
    """Customer-managed KMS key of the site bucket (SSE-KMS with an S3 Bucket Key); its policy must let
    CloudFront decrypt (``PlatformKey`` with ``cloudfront_reads``), and uploaders need kms:GenerateDataKey.
    SSE-S3 when unset."""
    noncurrent_version_expiry_days: int = 90
    """Days a replaced or deleted object version is kept (the rollback window)."""
    force_destroy: bool = False
    """Destroy deletes the bucket's objects first; off: destroy fails while it holds any."""
    access_logs_enabled: bool = True
    """CloudFront standard logs and the site bucket's S3 server access logs to a log bucket this
    construct creates (versioned, SSE-S3: S3 server access logging supports no other encryption)."""
    access_logs_expiry_days: int = 365
    """Days before S3 deletes a log object."""


class Frontend(Block):
    """Private, versioned, encrypted bucket; CloudFront reads it through an Origin Access Control
    (the bucket policy names this distribution only) and serves it over HTTPS with security headers."""

    stateful_types = frozenset({"aws_s3_bucket"})

    bucket: S3Bucket
    bucket_name: str
    bucket_arn: str
    distribution: CloudfrontDistribution
    distribution_id: str
    distribution_arn: str
    domain_name: str
    hosted_zone_id: str
    log_bucket: S3Bucket | None

    def __init__(self, scope: Construct, construct_id: str, *, props: FrontendProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        name = resource_name(props.project, props.environment, "frontend", max_length=64)

        self.bucket = private_bucket(
            self,
            "site",
            project=props.project,
            environment=props.environment,
            role="frontend",
            kms_key_arn=props.kms_key_arn,
            force_destroy=props.force_destroy,
            lifecycle_rule_id="expire-old-versions",
            noncurrent_version_expiry_days=props.noncurrent_version_expiry_days,
        ).bucket
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn

        self.log_bucket = None
        logging_config = None
        log_acls_ready: list[Any] = []
        if props.access_logs_enabled:
            # CloudFront standard logs are delivered with a bucket ACL grant to its log-delivery
            # account, so this bucket keeps ACLs enabled (BucketOwnerPreferred: objects still
            # become ours). It is also the site bucket's S3 server access log target, which
            # supports SSE-S3 only.
            log_bucket = private_bucket(
                self,
                "logs",
                project=props.project,
                environment=props.environment,
                role="frontend-logs",
                ownership="BucketOwnerPreferred",
                force_destroy=props.force_destroy,
                lifecycle_rule_id="expire-access-logs",
                expiry_days=props.access_logs_expiry_days,
                noncurrent_version_expiry_days=LOG_NONCURRENT_VERSION_DAYS,
            )
            self.log_bucket = log_bucket.bucket
            # CloudFront delivers with an ACL grant: the distribution waits for ACLs to be enabled,
            # or CreateDistribution fails ("does not enable ACL access").
            log_acls_ready = [log_bucket.ownership_controls]
            account = DataAwsCallerIdentity(self, "account").account_id
            server_access_logs = allow(
                ["s3:PutObject"],
                [f"{self.log_bucket.arn}/{S3_ACCESS_LOG_PREFIX}*"],
                Sid="S3ServerAccessLogsOfTheSiteBucket",
                Principal={"Service": "logging.s3.amazonaws.com"},
                Condition={
                    "ArnLike": {"aws:SourceArn": self.bucket.arn},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            )
            log_policy = tls_only_policy(self, "logs-policy", self.log_bucket, [server_access_logs])
            S3BucketLoggingA(
                self,
                "site-logging",
                bucket=self.bucket.id,
                target_bucket=self.log_bucket.id,
                target_prefix=S3_ACCESS_LOG_PREFIX,
                depends_on=[log_policy],
            )
            logging_config = CloudfrontDistributionLoggingConfig(
                bucket=self.log_bucket.bucket_domain_name, prefix=LOG_PREFIX, include_cookies=False
            )

        access_control = CloudfrontOriginAccessControl(
            self,
            "oac",
            name=name,
            description=f"{name}: CloudFront signs every request to the bucket (SigV4)",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        )
        headers = CloudfrontResponseHeadersPolicy(
            self,
            "security-headers",
            name=f"{name}-security-headers",
            comment="HSTS, nosniff, frame DENY, strict referrer, CSP",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=HSTS_MAX_AGE_SECONDS,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True
                ),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="DENY", override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
                content_security_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy(
                    content_security_policy=props.content_security_policy, override=True
                ),
            ),
        )

        functions = []
        if props.spa_fallback:
            rewrite = CloudfrontFunction(
                self,
                "spa-rewrite",
                name=f"{name}-spa-rewrite",
                runtime="cloudfront-js-2.0",
                comment="Serve the app's entry document for extension-less paths (deep links)",
                code=SPA_REWRITE % props.default_root_object,
                publish=True,
            )
            functions.append(
                CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation(
                    event_type="viewer-request", function_arn=rewrite.arn
                )
            )

        origins = [
            CloudfrontDistributionOrigin(
                origin_id=S3_ORIGIN,
                domain_name=self.bucket.bucket_regional_domain_name,
                origin_access_control_id=access_control.id,
            )
        ]
        behaviours = []
        if props.api_origin_domain_name is not None:
            origins.append(
                CloudfrontDistributionOrigin(
                    origin_id=API_ORIGIN,
                    domain_name=props.api_origin_domain_name,
                    custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="https-only" if props.api_origin_https else "http-only",
                        origin_ssl_protocols=["TLSv1.2"],
                    ),
                )
            )
            behaviours.append(
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=props.api_path_pattern,
                    target_origin_id=API_ORIGIN,
                    # No redirect for the API: a redirected POST loses its body.
                    viewer_protocol_policy="https-only",
                    allowed_methods=["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
                    cached_methods=["GET", "HEAD"],
                    cache_policy_id=CACHING_DISABLED,
                    origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy_id=headers.id,
                    compress=True,
                )
            )

        if props.certificate_arn is not None:
            certificate = CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=props.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=VIEWER_TLS_POLICY,
            )
        else:
            certificate = CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)

        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=name,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=props.price_class,
            default_root_object=props.default_root_object,
            aliases=list(props.aliases) or None,
            web_acl_id=props.web_acl_arn,
            origin=origins,
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=S3_ORIGIN,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHING_OPTIMIZED,
                response_headers_policy_id=headers.id,
                compress=True,
                function_association=functions or None,
            ),
            ordered_cache_behavior=behaviours or None,
            viewer_certificate=certificate,
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            logging_config=logging_config,
            depends_on=log_acls_ready or None,
            tags={"Name": name},
        )
        self.distribution_id = self.distribution.id
        self.distribution_arn = self.distribution.arn
        self.domain_name = self.distribution.domain_name
        self.hosted_zone_id = self.distribution.hosted_zone_id

        read = allow(
            ["s3:GetObject"],
            [f"{self.bucket.arn}/*"],
            Sid="CloudFrontReadsThroughOac",
            Principal={"Service": "cloudfront.amazonaws.com"},
            Condition={"StringEquals": {"AWS:SourceArn": self.distribution.arn}},
        )
        tls_only_policy(self, "site-policy", self.bucket, [read])


def _validate(props: FrontendProps) -> None:
    """Fail before any resource exists, naming the field, the value and what is allowed."""
    if props.aliases and props.certificate_arn is None:
        raise ValueError("aliases need certificate_arn: CloudFront serves custom domains only with an ACM certificate")
    if props.certificate_arn is not None and ":acm:us-east-1:" not in props.certificate_arn:
        raise ValueError(f"certificate_arn must be an ACM certificate in us-east-1, got {props.certificate_arn}")
    if props.default_root_object.startswith("/") or not props.default_root_object:
        raise ValueError(
            f"default_root_object must be an object key without a leading '/', got {props.default_root_object!r}"
        )
    if not props.api_path_pattern.startswith("/"):
        raise ValueError(f"api_path_pattern must start with '/', got {props.api_path_pattern!r}")
    for name, value in (
        ("noncurrent_version_expiry_days", props.noncurrent_version_expiry_days),
        ("access_logs_expiry_days", props.access_logs_expiry_days),
    ):
        if not 1 <= value <= 3650:
            raise ValueError(f"{name} must be between 1 and 3650, got {value}")
