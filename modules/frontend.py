"""Static frontend: a private S3 bucket served by CloudFront through an Origin Access Control, with
security headers and an optional ``/api/*`` behaviour to the load balancer."""

from __future__ import annotations

from typing import Any

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

from config.frontend import FrontendConfig

from .block import Block, Naming
from .bucket import LOG_NONCURRENT_VERSION_DAYS, private_bucket, tls_only_policy
from .domain import AliasTarget, SiteDomain
from .iam import allow
from .kms import PlatformKey
from .waf import WebAcl

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
API_PATH_PATTERN = "/api/*"
LOG_PREFIX = "cloudfront/"
S3_ACCESS_LOG_PREFIX = "s3-access/"
# The viewer-request function of the bucket behaviour (a behaviour takes one function per event),
# in parts. Deep links of a single-page app (/movies/42) have no file extension: serve the app's entry
# document for them, leave real files (/assets/app.js) alone so a missing one stays an error.
HANDLER_START = """function handler(event) {
  var request = event.request;
"""
SPA_REWRITE = """  var last = request.uri.split('/').pop();
  if (last === '' || last.indexOf('.') === -1) {
    request.uri = '/%s';
  }
"""
# Another name of the site (www.<domain>) answers with a 301 to the same path and query on the site's
# own name. The query is rebuilt as name=value pairs, as CloudFront's own examples do.
REDIRECT = """  var host = request.headers.host ? request.headers.host.value : '';
  if (%(from)s.indexOf(host) !== -1) {
    var query = [];
    for (var name in request.querystring) {
      var field = request.querystring[name];
      var values = field.multiValue ? field.multiValue : [field];
      for (var i = 0; i < values.length; i++) {
        query.push(name + '=' + values[i].value);
      }
    }
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: {location: {value: 'https://%(to)s' + request.uri + (query.length ? '?' + query.join('&') : '')}}
    };
  }
"""
HANDLER_END = """  return request;
}
"""


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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: FrontendConfig,
        naming: Naming,
        key: PlatformKey | None,
        web_acl: WebAcl | None = None,
        load_balancer_dns_name: str | None = None,
        load_balancer_https: bool = False,
        site_domain: SiteDomain | None = None,
    ) -> None:
        """``key`` encrypts the site bucket (SSE-KMS with an S3 Bucket Key; SSE-S3 without one): its policy
        must let CloudFront decrypt (``PlatformKey`` with ``cloudfront_reads``), and uploaders need
        kms:GenerateDataKey. ``web_acl``: the platform's CLOUDFRONT ACL, unless ``settings.web_acl_arn``
        names one. ``load_balancer_dns_name``: where ``/api/*`` goes with ``settings.api_origin`` (unless
        ``settings.api_origin_domain`` names it), over HTTPS only when ``load_balancer_https`` (it has a
        certificate), else over HTTP. ``site_domain``: the names and certificate ``[domain]`` provides,
        instead of ``settings.aliases`` and ``settings.certificate_arn``."""
        super().__init__(scope, construct_id)
        self._settings = settings
        self._aliases = site_domain.aliases if site_domain else list(settings.aliases)
        self._certificate_arn = site_domain.certificate_arn if site_domain else settings.certificate_arn
        self._redirect_to = site_domain.redirect_to if site_domain else None
        self._naming = naming
        self._name = naming.name("frontend", max_length=64)

        self.bucket = self._site_bucket(key)
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.log_bucket = None
        logging_config, log_acls_ready = self._access_logs() if settings.access_logs.enabled else (None, [])

        self.distribution = self._distribution(
            web_acl_arn=settings.web_acl_arn or (web_acl.arn if web_acl else None),
            api_domain=(settings.api_origin_domain or load_balancer_dns_name) if settings.api_origin else None,
            api_https=load_balancer_https,
            logging_config=logging_config,
            wait_for=log_acls_ready,
        )
        self.distribution_id = self.distribution.id
        self.distribution_arn = self.distribution.arn
        self.domain_name = self.distribution.domain_name
        self.hosted_zone_id = self.distribution.hosted_zone_id
        self._site_policy()

    def _site_bucket(self, key: PlatformKey | None) -> S3Bucket:
        """Adds the private site bucket, encrypted with ``key`` when set, old versions expiring."""
        return private_bucket(
            self,
            "site",
            project=self._naming.project,
            environment=self._naming.environment,
            role="frontend",
            kms_key_arn=key.arn if key else None,
            force_destroy=self._settings.force_destroy,
            lifecycle_rule_id="expire-old-versions",
            noncurrent_version_expiry_days=self._settings.noncurrent_version_expiry_days,
        ).bucket

    def _site_policy(self) -> None:
        """Adds the site bucket's TLS-only policy, which lets only this distribution read it (through the OAC)."""
        read = allow(
            ["s3:GetObject"],
            [f"{self.bucket.arn}/*"],
            Sid="CloudFrontReadsThroughOac",
            Principal={"Service": "cloudfront.amazonaws.com"},
            Condition={"StringEquals": {"AWS:SourceArn": self.distribution.arn}},
        )
        tls_only_policy(self, "site-policy", self.bucket, [read])

    def alias_target(self) -> AliasTarget:
        """Where an alias record to the distribution points. No health evaluation: Route 53 refuses it
        for CloudFront targets."""
        return AliasTarget(dns_name=self.domain_name, zone_id=self.hosted_zone_id, evaluate_target_health=False)

    def _access_logs(self) -> tuple[CloudfrontDistributionLoggingConfig, list[Any]]:
        """The log bucket, the site bucket's S3 server access logs into it, and the distribution's
        logging config with what the distribution must wait for."""
        # CloudFront standard logs are delivered with a bucket ACL grant to its log-delivery
        # account, so this bucket keeps ACLs enabled (BucketOwnerPreferred: objects still
        # become ours). It is also the site bucket's S3 server access log target, which
        # supports SSE-S3 only.
        log_bucket = private_bucket(
            self,
            "logs",
            project=self._naming.project,
            environment=self._naming.environment,
            role="frontend-logs",
            ownership="BucketOwnerPreferred",
            force_destroy=self._settings.force_destroy,
            lifecycle_rule_id="expire-access-logs",
            expiry_days=self._settings.access_logs.expiry_days,
            noncurrent_version_expiry_days=LOG_NONCURRENT_VERSION_DAYS,
        )
        self.log_bucket = log_bucket.bucket
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
        # CloudFront delivers with an ACL grant: the distribution waits for ACLs to be enabled,
        # or CreateDistribution fails ("does not enable ACL access").
        return logging_config, [log_bucket.ownership_controls]

    def _distribution(
        self,
        *,
        web_acl_arn: str | None,
        api_domain: str | None,
        api_https: bool,
        logging_config: CloudfrontDistributionLoggingConfig | None,
        wait_for: list[Any],
    ) -> CloudfrontDistribution:
        """The distribution: the bucket behind redirect-to-HTTPS and optimized caching, ``/api/*`` to
        ``api_domain`` when set, security headers on every behaviour."""
        access_control = self._origin_access_control()
        headers = self._security_headers()
        functions = self._viewer_request()
        return CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=self._name,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=self._settings.price_class,
            default_root_object=self._settings.default_root_object,
            aliases=self._aliases or None,
            web_acl_id=web_acl_arn,
            origin=self._origins(access_control, api_domain, https=api_https),
            default_cache_behavior=self._bucket_behaviour(headers, functions),
            ordered_cache_behavior=[self._api_behaviour(headers)] if api_domain is not None else None,
            viewer_certificate=self._viewer_certificate(),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            logging_config=logging_config,
            depends_on=wait_for or None,
            tags={"Name": self._name},
        )

    def _origin_access_control(self) -> CloudfrontOriginAccessControl:
        """Adds the Origin Access Control through which CloudFront signs every request to the bucket."""
        return CloudfrontOriginAccessControl(
            self,
            "oac",
            name=self._name,
            description=f"{self._name}: CloudFront signs every request to the bucket (SigV4)",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        )

    @staticmethod
    def _bucket_behaviour(
        headers: CloudfrontResponseHeadersPolicy,
        functions: list[CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation],
    ) -> CloudfrontDistributionDefaultCacheBehavior:
        """The bucket's behaviour: redirect to HTTPS, optimized caching, reads only, the viewer-request ``functions``."""
        return CloudfrontDistributionDefaultCacheBehavior(
            target_origin_id=S3_ORIGIN,
            viewer_protocol_policy="redirect-to-https",
            allowed_methods=["GET", "HEAD", "OPTIONS"],
            cached_methods=["GET", "HEAD"],
            cache_policy_id=CACHING_OPTIMIZED,
            response_headers_policy_id=headers.id,
            compress=True,
            function_association=functions or None,
        )

    def _security_headers(self) -> CloudfrontResponseHeadersPolicy:
        """HSTS, nosniff, frame DENY, strict referrer and the CSP on every response."""
        return CloudfrontResponseHeadersPolicy(
            self,
            "security-headers",
            name=f"{self._name}-security-headers",
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
                    content_security_policy=self._settings.content_security_policy, override=True
                ),
            ),
        )

    def _viewer_request(self) -> list[CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation]:
        """The viewer-request function of the bucket behaviour: the redirect of the site's other names
        (``www``) to its own, then with ``spa_fallback`` the deep-link rewrite; none when neither applies.
        ``/api/*`` is not redirected: a redirected POST loses its body."""
        spa = self._settings.spa_fallback
        redirected = [name for name in self._aliases if name != self._redirect_to] if self._redirect_to else []
        if not (spa or redirected):
            return []
        code = HANDLER_START
        purposes = []
        if redirected:
            # Validated DNS names: nothing in them needs escaping in a JavaScript string.
            names = ", ".join(f"'{name}'" for name in redirected)
            code += REDIRECT % {"from": f"[{names}]", "to": self._redirect_to}
            purposes.append("redirect www to the site's own name")
        if spa:
            code += SPA_REWRITE % self._settings.default_root_object
            purposes.append("serve the app's entry document for extension-less paths (deep links)")
        code += HANDLER_END
        comment = "; ".join(purposes)
        # The deep-link function keeps its construct ID and name when it takes the redirect as well.
        role = "spa-rewrite" if spa else "www-redirect"
        function = CloudfrontFunction(
            self,
            role,
            name=f"{self._name}-{role}",
            runtime="cloudfront-js-2.0",
            comment=comment[0].upper() + comment[1:],
            code=code,
            publish=True,
        )
        return [
            CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation(
                event_type="viewer-request", function_arn=function.arn
            )
        ]

    def _origins(
        self, access_control: CloudfrontOriginAccessControl, api_domain: str | None, *, https: bool
    ) -> list[CloudfrontDistributionOrigin]:
        """The bucket (through the Origin Access Control), and the load balancer at ``api_domain``."""
        origins = [
            CloudfrontDistributionOrigin(
                origin_id=S3_ORIGIN,
                domain_name=self.bucket.bucket_regional_domain_name,
                origin_access_control_id=access_control.id,
            )
        ]
        if api_domain is not None:
            origins.append(
                CloudfrontDistributionOrigin(
                    origin_id=API_ORIGIN,
                    domain_name=api_domain,
                    custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="https-only" if https else "http-only",
                        origin_ssl_protocols=["TLSv1.2"],
                    ),
                )
            )
        return origins

    @staticmethod
    def _api_behaviour(headers: CloudfrontResponseHeadersPolicy) -> CloudfrontDistributionOrderedCacheBehavior:
        """``/api/*`` to the load balancer: uncached, every method, the viewer's request except Host."""
        return CloudfrontDistributionOrderedCacheBehavior(
            path_pattern=API_PATH_PATTERN,
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

    def _viewer_certificate(self) -> CloudfrontDistributionViewerCertificate:
        """The custom domains' certificate (SNI, TLS 1.2+), else CloudFront's default one."""
        if self._certificate_arn is None:
            return CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)
        return CloudfrontDistributionViewerCertificate(
            acm_certificate_arn=self._certificate_arn,
            ssl_support_method="sni-only",
            minimum_protocol_version=VIEWER_TLS_POLICY,
        )
