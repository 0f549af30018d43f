"""The static frontend (``[frontend]``): config errors (tier 1), the S3 + CloudFront construct on
synthesized JSON with stand-in dependencies (tier 2), and the frontend of every environment (tier 3)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from config import EnvironmentConfig, FieldError
from config.frontend import FrontendConfig, check_frontend_origin
from modules import Frontend
from modules.block import Naming
from modules.frontend import ALL_VIEWER_EXCEPT_HOST_HEADER, CACHING_DISABLED, CACHING_OPTIMIZED
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, ref, resources, synth_construct

NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
ENVIRONMENTS = ["dev", "staging", "prod"]
CERT_US_EAST_1 = "arn:aws:acm:us-east-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
CERT_EU_WEST_1 = "arn:aws:acm:eu-west-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOAD_BALANCER = "alb-123.eu-west-1.elb.amazonaws.com"
WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shared/0b1c2d3e-1111-2222-3333-444455556666"


def with_frontend(env_data: dict[str, Data], frontend: Data) -> Data:
    """The dev file with its [frontend] table replaced."""
    data = env_data["dev"]
    data["frontend"] = frontend
    return data


# --- config: defaults --------------------------------------------------------------------------


def test_defaults_are_secure_and_keep_every_environment_valid(environments: dict[str, EnvironmentConfig]) -> None:
    defaults = FrontendConfig()
    assert defaults.enabled
    assert defaults.access_logs.enabled
    assert not defaults.force_destroy
    for config in environments.values():
        assert config.frontend.enabled
        # Only dev turns frontend access logs off (with a comment in its file).
        assert config.frontend.access_logs.enabled == (config.environment != "dev")
        assert config.frontend.certificate_arn is None or config.frontend.aliases


def test_defaults_without_a_frontend_table(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data.pop("frontend")
    config = parse(data)

    assert config.frontend.price_class == "PriceClass_100"
    assert config.frontend.default_root_object == "index.html"
    assert not config.frontend.api_origin


def test_custom_domain_with_us_east_1_certificate_is_accepted(env_data: dict[str, Data]) -> None:
    frontend = {
        "aliases": ["www.example.com", "example.com"],
        "certificate_arn": CERT_US_EAST_1,
        "price_class": "PriceClass_All",
    }
    config = parse(with_frontend(env_data, frontend))

    assert config.frontend.aliases == ["www.example.com", "example.com"]
    assert config.frontend.price_class == "PriceClass_All"


# --- config: failures ---------------------------------------------------------------------------


def test_fails_when_certificate_is_not_in_us_east_1(env_data: dict[str, Data]) -> None:
    fails(
        with_frontend(env_data, {"aliases": ["www.example.com"], "certificate_arn": CERT_EU_WEST_1}),
        r"frontend\.certificate_arn = .*: must be an ACM certificate in us-east-1 .*got one in eu-west-1",
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:acm:us-east-1:123:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37",
        "arn:aws:iam::123456789012:server-certificate/www",
        "us-east-1/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37",
    ],
)
def test_fails_when_certificate_arn_is_malformed(env_data: dict[str, Data], arn: str) -> None:
    fails(
        with_frontend(env_data, {"aliases": ["www.example.com"], "certificate_arn": arn}),
        r"frontend\.certificate_arn = .*: must be an ACM certificate ARN: arn:aws:acm:us-east-1:.*",
    )


def test_fails_when_aliases_have_no_certificate(env_data: dict[str, Data]) -> None:
    fails(
        with_frontend(env_data, {"aliases": ["www.example.com"]}),
        r"frontend\.certificate_arn = None: is required with aliases.*",
    )


def test_fails_when_certificate_has_no_aliases(env_data: dict[str, Data]) -> None:
    fails(
        with_frontend(env_data, {"certificate_arn": CERT_US_EAST_1}),
        r"frontend\.certificate_arn = .*: is only used with aliases.*",
    )


def test_fails_when_alias_is_not_a_dns_name(env_data: dict[str, Data]) -> None:
    frontend = {"aliases": ["www.example.com", "Not A Host"], "certificate_arn": CERT_US_EAST_1}
    fails(
        with_frontend(env_data, frontend),
        r"frontend\.aliases\[1\] = 'Not A Host': must be a lowercase DNS name.*",
    )


def test_fails_when_price_class_is_unknown(env_data: dict[str, Data]) -> None:
    fails(
        with_frontend(env_data, {"price_class": "PriceClass_300"}),
        r"frontend\.price_class = 'PriceClass_300': .*'PriceClass_100', 'PriceClass_200' or 'PriceClass_All'",
    )


def test_fails_when_default_root_object_has_a_leading_slash(env_data: dict[str, Data]) -> None:
    fails(
        with_frontend(env_data, {"default_root_object": "/index.html"}),
        r"frontend\.default_root_object = '/index\.html': must be an object key such as index\.html: no leading .*",
    )


@pytest.mark.parametrize(
    ("frontend", "line"),
    [
        (
            {"noncurrent_version_expiry_days": 0},
            r"frontend\.noncurrent_version_expiry_days = 0: must be between 1 and 3650, got 0",
        ),
        (
            {"access_logs": {"expiry_days": 4000}},
            r"frontend\.access_logs\.expiry_days = 4000: must be between 1 and 3650, got 4000",
        ),
    ],
)
def test_fails_when_an_expiry_is_out_of_range(env_data: dict[str, Data], frontend: Data, line: str) -> None:
    fails(with_frontend(env_data, frontend), line)


def test_fails_when_api_origin_domain_is_set_without_api_origin(env_data: dict[str, Data]) -> None:
    fails(
        with_frontend(env_data, {"api_origin_domain": "api.example.com"}),
        r"frontend\.api_origin_domain = 'api\.example\.com': is only used when api_origin = true",
    )


def test_fails_when_web_acl_is_not_a_cloudfront_scoped_wafv2_acl(env_data: dict[str, Data]) -> None:
    arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/edge/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
    fails(with_frontend(env_data, {"web_acl_arn": arn}), r"frontend\.web_acl_arn = .*: must be .*scope CLOUDFRONT.*")


def test_fails_when_https_load_balancer_origin_has_no_domain(env_data: dict[str, Data]) -> None:
    data = with_frontend(env_data, {"api_origin": True})
    data["alb"]["certificate_arn"] = CERT_EU_WEST_1
    fails(data, r"frontend\.api_origin_domain = None: is required when the load balancer has a certificate: .*")


def test_https_load_balancer_origin_needs_a_domain_plain_http_does_not() -> None:
    frontend = FrontendConfig(api_origin=True)

    with pytest.raises(FieldError, match="is required when the load balancer has a certificate") as error:
        check_frontend_origin(frontend, CERT_EU_WEST_1)
    assert error.value.path == ("frontend", "api_origin_domain")
    # Plain HTTP to the load balancer's own DNS name needs no domain; a named origin passes too.
    check_frontend_origin(frontend, None)
    check_frontend_origin(FrontendConfig(api_origin=True, api_origin_domain="api.example.com"), CERT_EU_WEST_1)


# --- construct ------------------------------------------------------------------------------------


def synth_frontend(settings: Data | None = None, **dependencies: Any) -> Json:
    """GIVEN [frontend] ``settings`` and stand-in dependencies WHEN the frontend is synthesized."""
    frontend = FrontendConfig.model_validate(settings or {})
    wiring: dict[str, Any] = {"key": None, **dependencies}
    return synth_construct(lambda stack: Frontend(stack, "frontend", settings=frontend, naming=NAMING, **wiring))


def site_bucket(document: Json) -> Json:
    (bucket,) = [
        b for b in resources(document, "aws_s3_bucket").values() if b["bucket_prefix"] == "netflux-unit-frontend-"
    ]
    return bucket


def log_bucket(document: Json) -> Json:
    (logs,) = [
        b for b in resources(document, "aws_s3_bucket").values() if b["bucket_prefix"] == "netflux-unit-frontend-logs-"
    ]
    return logs


def for_bucket(document: Json, resource_type: str, bucket: Json) -> Json:
    expression = ref(document, "aws_s3_bucket", bucket)
    (found,) = [r for r in resources(document, resource_type).values() if r["bucket"] == expression]
    return found


@pytest.fixture(scope="module")
def plain() -> Json:
    return synth_frontend()


@pytest.fixture(scope="module")
def full() -> Json:
    return synth_frontend(
        {
            "aliases": ["www.example.com"],
            "certificate_arn": CERT_US_EAST_1,
            "spa_fallback": True,
            "api_origin": True,
            "api_origin_domain": "api.example.com",
            "price_class": "PriceClass_200",
        },
        load_balancer_dns_name=LOAD_BALANCER,
        load_balancer_https=True,
    )


def test_site_bucket_is_private_encrypted_versioned_and_owner_enforced(plain: Json) -> None:
    bucket = site_bucket(plain)

    block = for_bucket(plain, "aws_s3_bucket_public_access_block", bucket)
    assert all(
        block[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    encryption = for_bucket(plain, "aws_s3_bucket_server_side_encryption_configuration", bucket)
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    assert for_bucket(plain, "aws_s3_bucket_versioning", bucket)["versioning_configuration"]["status"] == "Enabled"
    ownership = for_bucket(plain, "aws_s3_bucket_ownership_controls", bucket)
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"
    lifecycle = for_bucket(plain, "aws_s3_bucket_lifecycle_configuration", bucket)
    assert lifecycle["rule"][0]["noncurrent_version_expiration"][0]["noncurrent_days"] == 90
    assert bucket["force_destroy"] is False


def test_bucket_policy_allows_only_this_distribution_through_oac_and_denies_plain_http(plain: Json) -> None:
    bucket = site_bucket(plain)
    policy = json.loads(for_bucket(plain, "aws_s3_bucket_policy", bucket)["policy"])
    read, deny = sorted(policy["Statement"], key=lambda s: s["Effect"])

    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == ["s3:GetObject"]
    assert read["Resource"] == [f"{ref(plain, 'aws_s3_bucket', bucket, 'arn')}/*"]
    distribution = only(plain, "aws_cloudfront_distribution")
    assert read["Condition"] == {
        "StringEquals": {"AWS:SourceArn": ref(plain, "aws_cloudfront_distribution", distribution, "arn")}
    }
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_distribution_reads_the_bucket_through_an_origin_access_control(plain: Json) -> None:
    oac = only(plain, "aws_cloudfront_origin_access_control")
    distribution = only(plain, "aws_cloudfront_distribution")
    (origin,) = distribution["origin"]

    assert (oac["origin_access_control_origin_type"], oac["signing_behavior"], oac["signing_protocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    assert origin["origin_access_control_id"] == ref(plain, "aws_cloudfront_origin_access_control", oac)
    assert origin["domain_name"].endswith(".bucket_regional_domain_name}")
    assert "s3_origin_config" not in origin


def test_viewers_are_redirected_to_https_with_optimized_caching_and_default_certificate(plain: Json) -> None:
    distribution = only(plain, "aws_cloudfront_distribution")
    behaviour = distribution["default_cache_behavior"]

    assert behaviour["viewer_protocol_policy"] == "redirect-to-https"
    assert behaviour["cache_policy_id"] == CACHING_OPTIMIZED
    assert behaviour["allowed_methods"] == ["GET", "HEAD", "OPTIONS"]
    assert distribution["default_root_object"] == "index.html"
    assert distribution["price_class"] == "PriceClass_100"
    assert distribution["viewer_certificate"] == {"cloudfront_default_certificate": True}
    assert "aliases" not in distribution
    assert "web_acl_id" not in distribution


def test_no_api_behaviour_or_spa_rewrite_unless_asked(plain: Json) -> None:
    distribution = only(plain, "aws_cloudfront_distribution")

    assert "ordered_cache_behavior" not in distribution
    assert [o["origin_id"] for o in distribution["origin"]] == ["s3"]
    assert "function_association" not in distribution["default_cache_behavior"]
    assert not resources(plain, "aws_cloudfront_function")


def test_no_api_behaviour_without_api_origin_even_with_a_load_balancer() -> None:
    document = synth_frontend(load_balancer_dns_name=LOAD_BALANCER)

    assert "ordered_cache_behavior" not in only(document, "aws_cloudfront_distribution")


def test_security_headers_policy_is_attached_to_every_behaviour(full: Json) -> None:
    policy = only(full, "aws_cloudfront_response_headers_policy")
    headers = policy["security_headers_config"]
    distribution = only(full, "aws_cloudfront_distribution")
    expression = ref(full, "aws_cloudfront_response_headers_policy", policy)

    assert headers["strict_transport_security"]["access_control_max_age_sec"] >= 31_536_000
    assert headers["strict_transport_security"]["include_subdomains"] is True
    assert headers["strict_transport_security"]["preload"] is True
    assert headers["strict_transport_security"]["override"] is True
    assert headers["content_type_options"] == {"override": True}
    assert headers["frame_options"] == {"frame_option": "DENY", "override": True}
    assert headers["referrer_policy"]["referrer_policy"] == "strict-origin-when-cross-origin"
    assert "default-src 'self'" in headers["content_security_policy"]["content_security_policy"]
    assert distribution["default_cache_behavior"]["response_headers_policy_id"] == expression
    assert all(b["response_headers_policy_id"] == expression for b in distribution["ordered_cache_behavior"])


def test_custom_domain_uses_sni_and_modern_tls(full: Json) -> None:
    distribution = only(full, "aws_cloudfront_distribution")

    assert distribution["aliases"] == ["www.example.com"]
    assert distribution["viewer_certificate"] == {
        "acm_certificate_arn": CERT_US_EAST_1,
        "ssl_support_method": "sni-only",
        "minimum_protocol_version": "TLSv1.2_2021",
    }
    assert distribution["price_class"] == "PriceClass_200"


def test_api_behaviour_goes_uncached_to_the_named_load_balancer_over_https(full: Json) -> None:
    distribution = only(full, "aws_cloudfront_distribution")
    (api,) = distribution["ordered_cache_behavior"]
    origin = next(o for o in distribution["origin"] if o["origin_id"] == api["target_origin_id"])

    assert api["path_pattern"] == "/api/*"
    assert api["cache_policy_id"] == CACHING_DISABLED
    assert api["origin_request_policy_id"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert api["viewer_protocol_policy"] == "https-only"
    assert set(api["allowed_methods"]) == {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
    # api_origin_domain (a name on the load balancer's certificate), not its own DNS name.
    assert origin["domain_name"] == "api.example.com"
    assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    assert origin["custom_origin_config"]["origin_ssl_protocols"] == ["TLSv1.2"]


def test_api_origin_without_certificate_is_the_load_balancers_dns_name_over_http() -> None:
    document = synth_frontend({"api_origin": True}, load_balancer_dns_name=LOAD_BALANCER, load_balancer_https=False)
    origin = next(o for o in only(document, "aws_cloudfront_distribution")["origin"] if o["origin_id"] == "api")

    assert origin["domain_name"] == LOAD_BALANCER
    assert origin["custom_origin_config"]["origin_protocol_policy"] == "http-only"


def test_spa_fallback_rewrites_deep_links_on_the_bucket_behaviour_only(full: Json) -> None:
    function = only(full, "aws_cloudfront_function")
    distribution = only(full, "aws_cloudfront_distribution")

    assert function["runtime"] == "cloudfront-js-2.0"
    assert "request.uri = '/index.html'" in function["code"]
    assert distribution["default_cache_behavior"]["function_association"] == [
        {"event_type": "viewer-request", "function_arn": ref(full, "aws_cloudfront_function", function, "arn")}
    ]
    assert "function_association" not in distribution["ordered_cache_behavior"][0]
    # Custom error responses apply to the API too (its 404 would become index.html): not used.
    assert "custom_error_response" not in distribution


def test_access_logs_go_to_a_private_bucket_that_expires_them(plain: Json) -> None:
    logs = log_bucket(plain)
    distribution = only(plain, "aws_cloudfront_distribution")

    assert distribution["logging_config"]["bucket"] == ref(plain, "aws_s3_bucket", logs, "bucket_domain_name")
    assert for_bucket(plain, "aws_s3_bucket_public_access_block", logs)["restrict_public_buckets"] is True
    # CloudFront standard logs are delivered through an ACL grant: ACLs stay enabled on this bucket.
    assert (
        for_bucket(plain, "aws_s3_bucket_ownership_controls", logs)["rule"]["object_ownership"]
        == "BucketOwnerPreferred"
    )
    [rule] = for_bucket(plain, "aws_s3_bucket_lifecycle_configuration", logs)["rule"]
    assert rule["expiration"][0]["days"] == 365
    # Versioned, so a log overwritten or deleted before its expiry stays recoverable for 30 days.
    assert for_bucket(plain, "aws_s3_bucket_versioning", logs)["versioning_configuration"]["status"] == "Enabled"
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]


def test_site_bucket_access_is_logged_to_the_log_bucket_which_admits_only_that_bucket(plain: Json) -> None:
    site, logs = site_bucket(plain), log_bucket(plain)
    logging = only(plain, "aws_s3_bucket_logging")
    policy = for_bucket(plain, "aws_s3_bucket_policy", logs)
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}

    assert logging["bucket"] == ref(plain, "aws_s3_bucket", site)
    assert (logging["target_bucket"], logging["target_prefix"]) == (ref(plain, "aws_s3_bucket", logs), "s3-access/")
    # S3 checks it may write when logging is turned on: the policy must exist first.
    [policy_id] = [k for k, v in resources(plain, "aws_s3_bucket_policy").items() if v is policy]
    assert logging["depends_on"] == [f"aws_s3_bucket_policy.{policy_id}"]
    write = statements["S3ServerAccessLogsOfTheSiteBucket"]
    assert write["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert write["Resource"] == [f"{ref(plain, 'aws_s3_bucket', logs, 'arn')}/s3-access/*"]
    assert write["Condition"]["ArnLike"] == {"aws:SourceArn": ref(plain, "aws_s3_bucket", site, "arn")}
    assert "aws:SourceAccount" in write["Condition"]["StringEquals"]
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"


def test_site_bucket_uses_sse_kms_with_a_bucket_key_when_given_a_key() -> None:
    document = synth_frontend(key=SimpleNamespace(arn=KEY))
    [rule] = for_bucket(document, "aws_s3_bucket_server_side_encryption_configuration", site_bucket(document))["rule"]
    [log_rule] = for_bucket(document, "aws_s3_bucket_server_side_encryption_configuration", log_bucket(document))[
        "rule"
    ]

    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
    assert rule["bucket_key_enabled"] is True
    # The log bucket is an S3 server access log target, which supports SSE-S3 only.
    assert log_rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}


def test_no_log_bucket_when_access_logs_are_off() -> None:
    document = synth_frontend({"access_logs": {"enabled": False}})

    assert len(resources(document, "aws_s3_bucket")) == 1
    assert "logging_config" not in only(document, "aws_cloudfront_distribution")
    assert not resources(document, "aws_s3_bucket_logging")


def test_distribution_attaches_the_platforms_acl_unless_the_settings_name_one() -> None:
    platform_acl = SimpleNamespace(arn="${aws_wafv2_web_acl.platform.arn}")

    attached = only(synth_frontend(web_acl=platform_acl), "aws_cloudfront_distribution")
    named = only(synth_frontend({"web_acl_arn": WEB_ACL}, web_acl=None), "aws_cloudfront_distribution")

    assert attached["web_acl_id"] == platform_acl.arn
    assert named["web_acl_id"] == WEB_ACL


# --- every environment ------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_frontend_bucket_is_private_and_served_only_through_cloudfront(synthesized: dict[str, Json], env: str) -> None:
    document = synthesized[env]
    distribution = only(document, "aws_cloudfront_distribution")
    [site_id] = [k for k in resources(document, "aws_s3_bucket") if k.startswith("frontend_site")]
    [s3_origin] = [o for o in distribution["origin"] if o["origin_id"] == "s3"]
    assert s3_origin["domain_name"] == f"${{aws_s3_bucket.{site_id}.bucket_regional_domain_name}}"
    assert s3_origin["origin_access_control_id"].startswith("${aws_cloudfront_origin_access_control.")
    assert distribution["default_cache_behavior"]["viewer_protocol_policy"] == "redirect-to-https"
    [block] = [b for b in resources(document, "aws_s3_bucket_public_access_block").values() if site_id in b["bucket"]]
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    [policy] = [p for p in resources(document, "aws_s3_bucket_policy").values() if site_id in p["bucket"]]
    statements = json.loads(policy["policy"])["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allowed] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allowed[0]["Condition"]["StringEquals"]["AWS:SourceArn"].startswith("${aws_cloudfront_distribution.")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_api_paths_go_to_the_load_balancer_over_https_when_it_has_a_certificate(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    config = environments[env]
    distribution = only(document, "aws_cloudfront_distribution")
    [api] = [o for o in distribution["origin"] if o["origin_id"] == "api"]
    [behaviour] = distribution["ordered_cache_behavior"]
    assert behaviour["path_pattern"] == "/api/*"
    assert behaviour["target_origin_id"] == "api"
    if config.domain is not None:  # staging, prod: the API's record, a name on the ALB's certificate
        assert api["custom_origin_config"]["origin_protocol_policy"] == "https-only"
        assert api["domain_name"].startswith("${aws_route53_record.domain_record-api_")
    else:  # dev: no certificate on the ALB, so CloudFront reaches its DNS name over HTTP
        assert api["custom_origin_config"]["origin_protocol_policy"] == "http-only"
        [alb_id] = resources(document, "aws_lb")
        assert api["domain_name"] == f"${{aws_lb.{alb_id}.dns_name}}"


@pytest.mark.parametrize(("env", "domain"), [("staging", "staging.netflux.example"), ("prod", "netflux.example")])
def test_shared_environments_frontend_has_its_domain_and_certificate(
    synthesized: dict[str, Json], env: str, domain: str
) -> None:
    distribution = only(synthesized[env], "aws_cloudfront_distribution")
    assert distribution["aliases"] == [domain, f"www.{domain}"]
    certificate = distribution["viewer_certificate"]
    # The us-east-1 certificate [domain] issues, once validated (tests/test_domain.py).
    assert certificate["acm_certificate_arn"].startswith("${aws_acm_certificate_validation.domain_validated-site_")
    assert certificate["ssl_support_method"] == "sni-only"
    assert certificate["minimum_protocol_version"] == "TLSv1.2_2021"
