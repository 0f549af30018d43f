"""Static frontend: a private S3 bucket served by CloudFront through an Origin Access Control, with
security headers and an optional ``/api/*`` behaviour to the load balancer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from config.edge import DEFAULT_CONTENT_SECURITY_POLICY
from config.naming import resource_name

from .iam import allow, policy_document

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
# Log objects replaced or deleted before their expiry stay recoverable this long (tampering).
LOG_NONCURRENT_VERSION_DAYS = 30
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


class Frontend(Construct):
    """Private, versioned, encrypted bucket; CloudFront reads it through an Origin Access Control
    (the bucket policy names this distribution only) and serves it over HTTPS with security headers."""

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

        self.bucket = self._private_bucket(
            "site", props, role="frontend", ownership="BucketOwnerEnforced", kms_key_arn=props.kms_key_arn
        )
        S3BucketVersioningA(
            self,
            "site-versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketLifecycleConfiguration(
            self,
            "site-lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=props.noncurrent_version_expiry_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn

        self.log_bucket = None
        logging_config = None
        if props.access_logs_enabled:
            # CloudFront standard logs are delivered with a bucket ACL grant to its log-delivery
            # account, so this bucket keeps ACLs enabled (BucketOwnerPreferred: objects still
            # become ours). It is also the site bucket's S3 server access log target, which
            # supports SSE-S3 only.
            self.log_bucket = self._private_bucket(
                "logs", props, role="frontend-logs", ownership="BucketOwnerPreferred", kms_key_arn=None
            )
            S3BucketVersioningA(
                self,
                "logs-versioning",
                bucket=self.log_bucket.id,
                versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            )
            S3BucketLifecycleConfiguration(
                self,
                "logs-lifecycle",
                bucket=self.log_bucket.id,
                rule=[
                    S3BucketLifecycleConfigurationRule(
                        id="expire-access-logs",
                        status="Enabled",
                        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.access_logs_expiry_days)],
                        noncurrent_version_expiration=[
                            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                                noncurrent_days=LOG_NONCURRENT_VERSION_DAYS
                            )
                        ],
                        abort_incomplete_multipart_upload=[
                            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                        ],
                    )
                ],
            )
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
            log_policy = S3BucketPolicy(
                self,
                "logs-policy",
                bucket=self.log_bucket.id,
                policy=policy_document([server_access_logs, _deny_insecure_transport(self.log_bucket)]),
            )
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
        S3BucketPolicy(
            self,
            "site-policy",
            bucket=self.bucket.id,
            policy=policy_document([read, _deny_insecure_transport(self.bucket)]),
        )

    def _private_bucket(
        self,
        construct_id: str,
        props: FrontendProps,
        *,
        role: str,
        ownership: Literal["BucketOwnerEnforced", "BucketOwnerPreferred"],
        kms_key_arn: str | None,
    ) -> S3Bucket:
        # Bucket names are global: a prefix plus Terraform's unique suffix never collides.
        prefix = resource_name(props.project, props.environment, role, max_length=36) + "-"
        bucket = S3Bucket(
            self,
            construct_id,
            bucket_prefix=prefix,
            force_destroy=props.force_destroy,
            tags={"Name": prefix.rstrip("-")},
        )
        S3BucketPublicAccessBlock(
            self,
            f"{construct_id}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            f"{construct_id}-ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership=ownership),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            f"{construct_id}-encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                    )
                    if kms_key_arn
                    else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="AES256"
                    ),
                    # One data key per bucket instead of one KMS call per object (cost, throttling).
                    bucket_key_enabled=True if kms_key_arn else None,
                )
            ],
        )
        return bucket


def _deny_insecure_transport(bucket: S3Bucket) -> dict[str, object]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket.arn, f"{bucket.arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


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
