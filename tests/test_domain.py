"""Custom domains (``[domain]``): config errors (tier 1), the zone, certificates and records on
synthesized JSON, with the load balancer, the distribution and the emulator's fixtures (tier 2), and
staging's and prod's domains (tier 3)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cdktf import App, TerraformStack

from config import ConfigError, EnvironmentConfig, parse_environment
from config.domain import DomainConfig, check_domain
from config.frontend import FrontendConfig
from config.load_balancer import AlbConfig
from config.security_groups import SecurityGroupsConfig
from modules import Domain, Frontend, LoadBalancer, SecurityGroups
from modules.block import Naming
from modules.domain import AliasTarget, SiteDomain
from stacks import PlatformStack
from tests.config_check import SOURCE, Data, fails, parse
from tests.synth import Json, only, resources, synth_construct, synth_stack
from tests.test_load_balancer import NETWORK, PRIORITIES, SERVICES
from tools.emulator import ACCOUNT_ID, provider_override, referenced_zones

ROOT = Path(__file__).resolve().parent.parent
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
ALB_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
CLOUDFRONT_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/6e2f8c14-9a3b-4d57-8f21-0c4b7e9d2a63"
LOAD_BALANCER = AliasTarget(
    dns_name="alb-1.eu-west-1.elb.amazonaws.com", zone_id="Z32O12XQLNTSW2", evaluate_target_health=True
)
DISTRIBUTION = AliasTarget(dns_name="d111.cloudfront.net", zone_id="Z2FDTNDATAQYW2", evaluate_target_health=False)


def with_domain(env_data: dict[str, Data], domain: Data) -> Data:
    """The dev file with a [domain] table."""
    data = env_data["dev"]
    data["domain"] = domain
    return data


def problems(data: Data) -> list[str]:
    """Every error line loading ``data`` as dev gives, without the file name."""
    with pytest.raises(ConfigError) as caught:
        parse(data)
    return [line.removeprefix(f"{SOURCE}: ") for line in caught.value.lines]


# --- config: what it means ------------------------------------------------------------------------


def test_names_default_to_the_zone_and_api() -> None:
    domain = DomainConfig(zone_name="example.com")

    assert domain.site_name == "example.com"
    assert domain.api_name == "api.example.com"
    assert domain.site_names == ["example.com"]
    assert not domain.www_redirect


def test_a_name_under_the_zone_with_its_own_api_host_and_www() -> None:
    domain = DomainConfig(zone_name="example.com", name="shop.example.com", api_host="api.v2", www_redirect=True)

    assert domain.api_name == "api.v2.shop.example.com"
    assert domain.site_names == ["shop.example.com", "www.shop.example.com"]


def test_a_zone_by_id_takes_the_site_name_from_name(env_data: dict[str, Data]) -> None:
    config = parse(with_domain(env_data, {"zone_id": "Z0123456789ABCDEFGHIJ", "name": "example.com"}))

    assert config.domain is not None
    assert config.domain.zone_name is None
    assert config.domain.api_name == "api.example.com"


def test_existing_certificate_arns_stay_an_option_without_a_domain(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["alb"]["certificate_arn"] = ALB_CERT
    data["frontend"].update(
        aliases=["www.example.com"], certificate_arn=CLOUDFRONT_CERT, api_origin_domain="api.example.com"
    )
    config = parse(data)

    assert config.domain is None
    assert config.alb.certificate_arn == ALB_CERT
    assert config.frontend.certificate_arn == CLOUDFRONT_CERT


def test_dev_has_no_domain_staging_and_prod_name_their_zone(environments: dict[str, EnvironmentConfig]) -> None:
    assert environments["dev"].domain is None
    for env, zone in (("staging", "staging.netflux.example"), ("prod", "netflux.example")):
        domain = environments[env].domain
        assert domain is not None
        assert (domain.zone_name, domain.site_name, domain.api_name) == (zone, zone, f"api.{zone}")
        assert domain.www_redirect
        # No placeholder ARNs left to replace: [domain] issues every certificate.
        assert environments[env].alb.certificate_arn is None
        assert environments[env].frontend.certificate_arn is None


# --- config: failures -----------------------------------------------------------------------------

LONG_LABEL = "a" * 60


@pytest.mark.parametrize(
    ("domain", "line"),
    [
        (
            {},
            r"domain\.zone_name = None: must be set, or zone_id instead \(exactly one of the two names the hosted zone\)",
        ),
        (
            {"zone_name": "example.com", "zone_id": "Z0123456789ABCDEFGHIJ"},
            r"domain\.zone_name = 'example\.com': is set together with zone_id: name the hosted zone one way only",
        ),
        ({"zone_name": "Example.com"}, r"domain\.zone_name = 'Example\.com': must be a lowercase DNS name .*"),
        (
            {"zone_name": "example.com."},
            r"domain\.zone_name = 'example\.com\.': must be a lowercase DNS name .*trailing dot.*",
        ),
        (
            {"zone_name": "*.example.com"},
            r"domain\.zone_name = '\*\.example\.com': must be a lowercase DNS name .*wildcard",
        ),
        (
            {"zone_name": "localhost"},
            r"domain\.zone_name = 'localhost': must be a lowercase DNS name such as example\.com.*",
        ),
        (
            {"zone_id": "/hostedzone/Z0123456789ABCDEFGHIJ", "name": "example.com"},
            r"domain\.zone_id = '/hostedzone/Z0123456789ABCDEFGHIJ': must be a Route 53 hosted zone id: .*without /hostedzone/\)",
        ),
        (
            {"zone_id": "z0123abc", "name": "example.com"},
            r"domain\.zone_id = 'z0123abc': must be a Route 53 hosted zone id.*",
        ),
        (
            {"zone_id": "Z" + "A" * 33, "name": "example.com"},
            r"domain\.zone_id = 'ZA{33}': must be a Route 53 hosted zone id.*",
        ),
        (
            {"zone_id": "Z0123456789ABCDEFGHIJ"},
            r"domain\.name = None: is required with zone_id: the certificates need the names when the stack is written.*",
        ),
        (
            {"zone_name": "example.com", "name": "example.org"},
            r"domain\.name = 'example\.org': must be the zone's name example\.com or a name under it .*",
        ),
        (
            {"zone_name": "example.com", "name": "notexample.com"},
            r"domain\.name = 'notexample\.com': must be the zone's name example\.com or a name under it .*",
        ),
        (
            {"zone_name": "example.com", "api_host": "API"},
            r"domain\.api_host = 'API': must be one or more lowercase DNS labels.*",
        ),
        (
            {"zone_name": "example.com", "api_host": "-api"},
            r"domain\.api_host = '-api': must be one or more lowercase DNS labels.*",
        ),
        (
            {"zone_name": "example.com", "api_host": "api."},
            r"domain\.api_host = 'api\.': must be one or more lowercase DNS labels.*",
        ),
        (
            {"zone_name": "example.com", "api_host": "www", "www_redirect": True},
            r"domain\.api_host = 'www': must not be 'www' while www_redirect = true: www\.<name> redirects to the site",
        ),
        (
            {"zone_name": f"{LONG_LABEL}.com"},
            rf"domain\.api_host = 'api': makes api\.{LONG_LABEL}\.com \(68 characters\), the first name of a certificate: "
            r"ACM puts it in the certificate's Common Name, at most 64 characters",
        ),
        ({"zone_name": "example.com", "www_redirect": "yes"}, r"domain\.www_redirect = 'yes': must be true or false.*"),
        ({"zone_name": "example.com", "zone": "example.com"}, r"domain\.zone = 'example\.com': unknown key.*"),
    ],
)
def test_fails_on_bad_domain_settings(env_data: dict[str, Data], domain: Data, line: str) -> None:
    fails(with_domain(env_data, domain), line)


def test_fails_when_the_load_balancer_also_names_a_certificate(env_data: dict[str, Data]) -> None:
    data = with_domain(env_data, {"zone_name": "example.com"})
    data["alb"]["certificate_arn"] = ALB_CERT
    fails(
        data,
        rf"alb\.certificate_arn = '{re.escape(ALB_CERT)}': is set but domain\.zone_name is set: \[domain\] issues this "
        r"certificate and names the domains itself; remove one of the two",
    )


def test_fails_when_the_frontend_also_names_its_domains_and_certificate(env_data: dict[str, Data]) -> None:
    data = with_domain(env_data, {"zone_id": "Z0123456789ABCDEFGHIJ", "name": "example.com"})
    data["frontend"].update(aliases=["www.example.com"], certificate_arn=CLOUDFRONT_CERT)

    assert problems(data) == [
        f"frontend.certificate_arn = '{CLOUDFRONT_CERT}': is set but domain.zone_id is set: [domain] issues this "
        "certificate and names the domains itself; remove one of the two",
        "frontend.aliases = ['www.example.com']: is set but domain.zone_id is set: [domain] issues this certificate "
        "and names the domains itself; remove one of the two",
    ]


def test_fails_when_the_frontend_names_the_api_origin_itself(env_data: dict[str, Data]) -> None:
    data = with_domain(env_data, {"zone_name": "example.com"})
    data["frontend"]["api_origin_domain"] = "api.example.com"
    fails(
        data,
        r"frontend\.api_origin_domain = 'api\.example\.com': is set but domain\.zone_name is set: CloudFront reaches "
        r"the load balancer at api\.example\.com, the record \[domain\] creates; remove one of the two",
    )


def test_fails_when_www_redirects_without_a_frontend(env_data: dict[str, Data]) -> None:
    data = with_domain(env_data, {"zone_name": "example.com", "www_redirect": True})
    data["frontend"] = {"enabled": False}
    fails(data, r"domain\.www_redirect = True: is set but frontend\.enabled is false, so no distribution serves www.*")


def test_a_domain_without_a_frontend_serves_the_load_balancer_only(env_data: dict[str, Data]) -> None:
    data = with_domain(env_data, {"zone_name": "example.com"})
    data["frontend"] = {"enabled": False}
    assert parse(data).domain is not None


def test_fails_when_the_partition_has_no_acm_in_us_east_1() -> None:
    domain = DomainConfig(zone_name="example.cn")

    [problem] = check_domain(domain, AlbConfig(), FrontendConfig(), "cn-north-1")
    assert problem.path == ("domain", "zone_name")
    assert "partition aws-cn (cn-north-1) does not have" in problem.message
    # The load balancer's certificate alone is regional: fine in any partition.
    assert check_domain(domain, AlbConfig(), FrontendConfig(enabled=False), "cn-north-1") == []
    assert check_domain(None, AlbConfig(certificate_arn=ALB_CERT), FrontendConfig(), "eu-west-1") == []


# --- construct ------------------------------------------------------------------------------------


def synth_domain(
    settings: Data, *, site: bool = True, region: str = "eu-west-1", api: bool = True, www: bool = True
) -> Json:
    """GIVEN [domain] ``settings`` WHEN the domain is synthesized with its records to stand-in targets."""
    domain = DomainConfig.model_validate(settings)
    naming = Naming(project="netflux", environment="unit", region=region)

    def build(stack: TerraformStack) -> None:
        built = Domain(stack, "domain", settings=domain, naming=naming, site=site)
        if api:
            built.alias_api(LOAD_BALANCER)
        if site and www:
            built.alias_site(DISTRIBUTION)

    return synth_construct(build, region=region)


@pytest.fixture(scope="module")
def full() -> Json:
    return synth_domain({"zone_name": "example.com", "www_redirect": True})


def by_name(document: Json, resource_type: str) -> dict[str, Json]:
    """Resources of a type by the construct ID they were given (the part of the logical id before the hash)."""
    return {
        re.sub(r"^domain_|_[0-9A-F]{8}$", "", key): body for key, body in resources(document, resource_type).items()
    }


def logical_id(document: Json, resource_type: str, construct_id: str) -> str:
    [found] = [key for key in resources(document, resource_type) if key.startswith(f"domain_{construct_id}_")]
    return found


def test_the_zone_is_looked_up_public_by_name(full: Json) -> None:
    zone = only({"resource": full["data"]}, "aws_route53_zone")
    assert zone == {"name": "example.com", "private_zone": False}


def test_the_load_balancer_certificate_is_regional_and_the_distribution_one_in_us_east_1(full: Json) -> None:
    certificates = by_name(full, "aws_acm_certificate")
    api, site = certificates["certificate-api"], certificates["certificate-site"]

    assert "provider" not in api  # the stack's own region, where the ALB is
    assert site["provider"] == "aws.us-east-1"
    [aliased] = [p for p in full["provider"]["aws"] if p.get("alias") == "us-east-1"]
    assert aliased["region"] == "us-east-1"
    assert api["domain_name"] == "api.example.com"
    assert "subject_alternative_names" not in api
    assert (site["domain_name"], site["subject_alternative_names"]) == ("example.com", ["www.example.com"])
    for certificate in (api, site):
        assert certificate["validation_method"] == "DNS"
        assert certificate["lifecycle"] == {"create_before_destroy": True}
        assert certificate["options"] == {"certificate_transparency_logging_preference": "ENABLED"}


def test_one_validation_record_per_name_from_its_certificate(full: Json) -> None:
    records = by_name(full, "aws_route53_record")
    zone = f"${{data.aws_route53_zone.{next(iter(full['data']['aws_route53_zone']))}.zone_id}}"
    for role, certificate, name in (
        ("api", "api", "api.example.com"),
        ("site", "site", "example.com"),
        ("www", "site", "www.example.com"),
    ):
        record = records[f"validation-{role}"]
        local = logical_id(full, "aws_acm_certificate", f"certificate-{certificate}").replace(
            "certificate", "validation-options", 1
        )
        options = [key for key in full["locals"] if key.startswith(local.rsplit("_", 1)[0])]
        assert len(options) == 1, options
        assert record["name"] == f'${{local.{options[0]}["{name}"].resource_record_name}}'
        assert record["type"] == f'${{local.{options[0]}["{name}"].resource_record_type}}'
        assert record["records"] == [f'${{local.{options[0]}["{name}"].resource_record_value}}']
        assert (record["zone_id"], record["ttl"], record["allow_overwrite"]) == (zone, 60, True)
        # The options of that certificate, by domain name.
        certificate_id = logical_id(full, "aws_acm_certificate", f"certificate-{certificate}")
        assert full["locals"][options[0]] == (
            f"${{{{ for key, val in toset(tolist(aws_acm_certificate.{certificate_id}.domain_validation_options)): "
            "val.domain_name => val }}"
        )


def test_validation_waits_for_every_record_in_the_certificate_region(full: Json) -> None:
    validations = by_name(full, "aws_acm_certificate_validation")
    records = {role: logical_id(full, "aws_route53_record", f"validation-{role}") for role in ("api", "site", "www")}
    for role, provider, names in (("api", None, ["api"]), ("site", "aws.us-east-1", ["site", "www"])):
        validation = validations[f"validated-{role}"]
        certificate = logical_id(full, "aws_acm_certificate", f"certificate-{role}")
        assert validation["certificate_arn"] == f"${{aws_acm_certificate.{certificate}.arn}}"
        assert validation["validation_record_fqdns"] == [
            f"${{aws_route53_record.{records[name]}.fqdn}}" for name in names
        ]
        assert validation.get("provider") == provider


def test_alias_records_point_at_the_load_balancer_and_the_distribution(full: Json) -> None:
    records = by_name(full, "aws_route53_record")
    aliases = {role: record for role, record in records.items() if role.startswith("record-")}

    assert {role: (r["name"], r["type"]) for role, r in aliases.items()} == {
        "record-api": ("api.example.com", "A"),
        "record-site-a": ("example.com", "A"),
        "record-site-aaaa": ("example.com", "AAAA"),
        "record-www-a": ("www.example.com", "A"),
        "record-www-aaaa": ("www.example.com", "AAAA"),
    }
    assert aliases.pop("record-api")["alias"] == {
        "name": LOAD_BALANCER.dns_name,
        "zone_id": LOAD_BALANCER.zone_id,
        "evaluate_target_health": True,
    }
    for record in aliases.values():
        assert record["alias"] == {
            "name": DISTRIBUTION.dns_name,
            "zone_id": DISTRIBUTION.zone_id,
            "evaluate_target_health": False,
        }


def test_without_www_the_site_has_one_name() -> None:
    document = synth_domain({"zone_name": "example.com"})
    site = by_name(document, "aws_acm_certificate")["certificate-site"]

    assert "subject_alternative_names" not in site
    assert not {role for role in by_name(document, "aws_route53_record") if "www" in role}


def test_without_a_site_only_the_load_balancer_gets_a_certificate() -> None:
    document = synth_domain({"zone_name": "example.com"}, site=False)

    assert set(by_name(document, "aws_acm_certificate")) == {"certificate-api"}
    assert set(by_name(document, "aws_route53_record")) == {"validation-api", "record-api"}
    assert [p for p in document["provider"]["aws"] if "alias" in p] == []


def test_site_records_need_the_site_certificate() -> None:
    def build(stack: TerraformStack) -> None:
        domain = Domain(stack, "domain", settings=DomainConfig(zone_name="example.com"), naming=NAMING, site=False)
        with pytest.raises(ValueError, match="no site certificate"):
            domain.alias_site(DISTRIBUTION)

    synth_construct(build)


def test_in_us_east_1_both_certificates_use_the_default_provider() -> None:
    document = synth_domain({"zone_name": "example.com"}, region="us-east-1")

    assert all("provider" not in c for c in resources(document, "aws_acm_certificate").values())
    assert [p for p in document["provider"]["aws"] if "alias" in p] == []


def test_a_zone_by_id_is_checked_to_hold_the_site_when_terraform_plans() -> None:
    document = synth_domain({"zone_id": "Z0123456789ABCDEFGHIJ", "name": "shop.example.com"})
    zone = only({"resource": document["data"]}, "aws_route53_zone")

    assert (zone["zone_id"], zone["private_zone"]) == ("Z0123456789ABCDEFGHIJ", False)
    [check] = zone["lifecycle"]["postcondition"]
    assert check["condition"] == (
        '${trimsuffix(self.name, ".") == "shop.example.com" || '
        'endswith("shop.example.com", ".${trimsuffix(self.name, ".")}")}'
    )
    assert check["error_message"] == (
        "unit.toml: domain.name = 'shop.example.com': must be the hosted zone's name or a name under it, "
        "and zone Z0123456789ABCDEFGHIJ is ${self.name}"
    )


# --- with the load balancer and the distribution --------------------------------------------------


def test_the_load_balancer_serves_the_domain_certificate_and_opens_https() -> None:
    def build(stack: TerraformStack) -> None:
        domain = Domain(stack, "domain", settings=DomainConfig(zone_name="example.com"), naming=NAMING, site=False)
        # The real security groups (which ports the ALB's group opens) on the load balancer's stand-in
        # network, plus the VPC range the groups read.
        network = SimpleNamespace(**vars(NETWORK), vpc_cidr="10.0.0.0/16")
        groups = SecurityGroups(
            stack,
            "security-groups",
            settings=SecurityGroupsConfig(),
            naming=NAMING,
            network=network,
            load_balancer=AlbConfig(),
            services=SERVICES,
            load_balancer_https=True,
        )
        balancer = LoadBalancer(
            stack,
            "lb",
            settings=AlbConfig(),
            naming=NAMING,
            network=network,
            security_groups=groups,
            services=SERVICES,
            priorities=PRIORITIES,
            certificate_arn=domain.api_certificate_arn,
        )
        domain.alias_api(balancer.alias_target())

    document = synth_construct(build)
    listeners = {listener["port"]: listener for listener in resources(document, "aws_lb_listener").values()}
    validated = logical_id(document, "aws_acm_certificate_validation", "validated-api")
    assert listeners[443]["certificate_arn"] == f"${{aws_acm_certificate_validation.{validated}.certificate_arn}}"
    assert listeners[80]["default_action"][0]["type"] == "redirect"
    ports = {
        rule["from_port"]
        for rule in resources(document, "aws_vpc_security_group_ingress_rule").values()
        if rule.get("cidr_ipv4") == "0.0.0.0/0"
    }
    assert ports == {80, 443}
    [alb] = resources(document, "aws_lb")
    assert by_name(document, "aws_route53_record")["record-api"]["alias"] == {
        "name": f"${{aws_lb.{alb}.dns_name}}",
        "zone_id": f"${{aws_lb.{alb}.zone_id}}",
        "evaluate_target_health": True,
    }


def synth_site(frontend: Data, site_domain: SiteDomain, **wiring: Any) -> Json:
    settings = FrontendConfig.model_validate(frontend)
    return synth_construct(
        lambda stack: Frontend(
            stack, "frontend", settings=settings, naming=NAMING, key=None, site_domain=site_domain, **wiring
        )
    )


SITE = SiteDomain(
    aliases=["example.com", "www.example.com"], certificate_arn=CLOUDFRONT_CERT, redirect_to="example.com"
)


def test_the_distribution_serves_the_domain_names_and_certificate() -> None:
    document = synth_site(
        {"api_origin": True}, SITE, load_balancer_dns_name="api.example.com", load_balancer_https=True
    )
    distribution = only(document, "aws_cloudfront_distribution")

    assert distribution["aliases"] == ["example.com", "www.example.com"]
    assert distribution["viewer_certificate"] == {
        "acm_certificate_arn": CLOUDFRONT_CERT,
        "ssl_support_method": "sni-only",
        "minimum_protocol_version": "TLSv1.2_2021",
    }
    [api] = [o for o in distribution["origin"] if o["origin_id"] == "api"]
    assert api["domain_name"] == "api.example.com"
    assert api["custom_origin_config"]["origin_protocol_policy"] == "https-only"


def run_function(code: str, host: str, uri: str, querystring: Json | None = None) -> Json:
    """The function's result for a viewer request, run by node (the JavaScript CloudFront Functions run)."""
    event = {"request": {"uri": uri, "headers": {"host": {"value": host}}, "querystring": querystring or {}}}
    node = os.environ.get("JSII_NODE", "node")
    script = f"{code}\nprocess.stdout.write(JSON.stringify(handler({json.dumps(event)})));"
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True, timeout=30)
    found: Json = json.loads(result.stdout)
    return found


def test_www_answers_with_a_301_to_the_site_and_deep_links_still_rewrite() -> None:
    document = synth_site({"spa_fallback": True}, SITE)
    [function] = resources(document, "aws_cloudfront_function").values()
    assert function["name"] == "netflux-unit-frontend-spa-rewrite"  # the deep-link function's ID and name
    assert function["comment"] == (
        "Redirect www to the site's own name; serve the app's entry document for extension-less paths (deep links)"
    )

    query = {"q": {"value": "a%20b"}, "tag": {"value": "x", "multiValue": [{"value": "x"}, {"value": "y"}]}}
    redirect = run_function(function["code"], "www.example.com", "/movies/42", query)
    assert redirect == {
        "statusCode": 301,
        "statusDescription": "Moved Permanently",
        "headers": {"location": {"value": "https://example.com/movies/42?q=a%20b&tag=x&tag=y"}},
    }
    plain = run_function(function["code"], "www.example.com", "/")
    assert plain["headers"]["location"]["value"] == "https://example.com/"
    assert run_function(function["code"], "example.com", "/movies/42")["uri"] == "/index.html"
    assert run_function(function["code"], "example.com", "/assets/app.js")["uri"] == "/assets/app.js"


def test_www_redirect_alone_gets_a_function_of_its_own() -> None:
    document = synth_site({}, SITE)
    [function] = resources(document, "aws_cloudfront_function").values()

    assert function["name"] == "netflux-unit-frontend-www-redirect"
    assert function["comment"] == "Redirect www to the site's own name"
    assert run_function(function["code"], "example.com", "/movies/42")["uri"] == "/movies/42"
    assert run_function(function["code"], "www.example.com", "/a")["statusCode"] == 301


def test_no_function_without_redirect_or_deep_links() -> None:
    site = SiteDomain(aliases=["example.com"], certificate_arn=CLOUDFRONT_CERT, redirect_to=None)
    document = synth_site({}, site)

    assert resources(document, "aws_cloudfront_function") == {}
    assert only(document, "aws_cloudfront_distribution")["aliases"] == ["example.com"]


# --- the emulator's fixtures ----------------------------------------------------------------------


def test_the_emulator_creates_the_zone_in_the_stack_account() -> None:
    document = {
        "provider": {"aws": [{"region": "eu-west-1", "allowed_account_ids": ["444455556666"]}]},
        "data": {"aws_route53_zone": {"zone": {"name": "example.com", "private_zone": False}}},
    }
    [zone] = referenced_zones(document)
    assert (zone.account, zone.name, zone.zone_id) == ("444455556666", "example.com", None)
    assert referenced_zones({"provider": {"aws": [{"region": "eu-west-1"}]}}) == []


def test_a_zone_by_id_is_created_under_the_site_name_and_its_id_swapped() -> None:
    document = {
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "data": {"aws_route53_zone": {"zone": {"zone_id": "Z0123456789ABCDEFGHIJ", "private_zone": False}}},
        "resource": {
            "aws_acm_certificate": {
                "api": {"domain_name": "api.shop.example.com"},
                "site": {"domain_name": "shop.example.com", "subject_alternative_names": ["www.shop.example.com"]},
            }
        },
    }
    [zone] = referenced_zones(document)
    assert (zone.account, zone.name, zone.zone_id) == (ACCOUNT_ID, "shop.example.com", "Z0123456789ABCDEFGHIJ")

    override = provider_override(document, {"Z0123456789ABCDEFGHIJ": "EMULATOR1"})
    assert override["data"] == {"aws_route53_zone": {"zone": {"zone_id": "EMULATOR1"}}}
    assert "resource" not in override


# --- whole stacks ---------------------------------------------------------------------------------


def synth_environment(data: Data, name: str = "dev") -> Json:
    config = parse_environment(data, source=f"environments/{name}.toml", expected_name=name)
    return synth_stack(PlatformStack(App(), config, backend="local"))


@pytest.mark.stack  # synthesizes a whole environment
def test_existing_certificate_arns_still_serve_without_route53(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["alb"]["certificate_arn"] = ALB_CERT
    data["frontend"].update(
        aliases=["www.example.com"], certificate_arn=CLOUDFRONT_CERT, api_origin_domain="api.example.com"
    )
    document = synth_environment(data)

    listeners = {listener["port"]: listener for listener in resources(document, "aws_lb_listener").values()}
    assert listeners[443]["certificate_arn"] == ALB_CERT
    distribution = only(document, "aws_cloudfront_distribution")
    assert distribution["viewer_certificate"]["acm_certificate_arn"] == CLOUDFRONT_CERT
    assert distribution["aliases"] == ["www.example.com"]
    assert not resources(document, "aws_acm_certificate")
    assert not resources(document, "aws_route53_record")
    assert "aws_route53_zone" not in document.get("data", {})


@pytest.mark.stack  # synthesizes a whole environment
def test_beanstalk_serves_the_domain_certificate_behind_its_record() -> None:
    data = tomllib.loads((ROOT / "examples" / "beanstalk" / "beanstalk.toml").read_text())
    data["domain"] = {"zone_name": "example.com"}
    data.setdefault("frontend", {})["api_origin"] = True
    document = synth_environment(data, "beanstalk")

    validated = logical_id(document, "aws_acm_certificate_validation", "validated-api")
    environment = only(document, "aws_elastic_beanstalk_environment")
    settings = {(s["namespace"], s["name"]): s["value"] for s in environment["setting"]}
    assert settings[("aws:elbv2:listener:443", "SSLCertificateArns")] == (
        f"${{aws_acm_certificate_validation.{validated}.certificate_arn}}"
    )
    [eb] = resources(document, "aws_elastic_beanstalk_environment")
    [zone] = document["data"]["aws_elastic_beanstalk_hosted_zone"]
    assert by_name(document, "aws_route53_record")["record-api"]["alias"] == {
        "name": f"${{aws_elastic_beanstalk_environment.{eb}.cname}}",
        "zone_id": f"${{data.aws_elastic_beanstalk_hosted_zone.{zone}.id}}",
        "evaluate_target_health": True,
    }
    [api] = [o for o in only(document, "aws_cloudfront_distribution")["origin"] if o["origin_id"] == "api"]
    assert (
        api["domain_name"] == f"${{aws_route53_record.{logical_id(document, 'aws_route53_record', 'record-api')}.fqdn}}"
    )
    assert api["custom_origin_config"]["origin_protocol_policy"] == "https-only"


@pytest.mark.parametrize(("env", "zone"), [("staging", "staging.netflux.example"), ("prod", "netflux.example")])
def test_shared_environments_serve_their_domain_end_to_end(synthesized: dict[str, Json], env: str, zone: str) -> None:
    document = synthesized[env]
    [lookup] = document["data"]["aws_route53_zone"].values()
    assert (lookup["name"], lookup["private_zone"]) == (zone, False)
    certificates = by_name(document, "aws_acm_certificate")
    assert certificates["certificate-api"]["domain_name"] == f"api.{zone}"
    assert "provider" not in certificates["certificate-api"]
    assert certificates["certificate-site"]["provider"] == "aws.us-east-1"
    assert certificates["certificate-site"]["subject_alternative_names"] == [f"www.{zone}"]
    # The HTTPS listener serves the validated regional certificate; CloudFront the us-east-1 one.
    validated = {
        role: logical_id(document, "aws_acm_certificate_validation", f"validated-{role}") for role in ("api", "site")
    }
    [https] = [listener for listener in resources(document, "aws_lb_listener").values() if listener["port"] == 443]
    assert https["certificate_arn"] == f"${{aws_acm_certificate_validation.{validated['api']}.certificate_arn}}"
    distribution = only(document, "aws_cloudfront_distribution")
    assert distribution["viewer_certificate"]["acm_certificate_arn"] == (
        f"${{aws_acm_certificate_validation.{validated['site']}.certificate_arn}}"
    )
    assert distribution["aliases"] == [zone, f"www.{zone}"]
    # /api/* reaches the ALB by its record over HTTPS: no DNS work outside the stack.
    record_api = logical_id(document, "aws_route53_record", "record-api")
    [api] = [o for o in distribution["origin"] if o["origin_id"] == "api"]
    assert api["domain_name"] == f"${{aws_route53_record.{record_api}.fqdn}}"
    assert api["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    [alb] = resources(document, "aws_lb")
    assert by_name(document, "aws_route53_record")["record-api"]["alias"]["name"] == f"${{aws_lb.{alb}.dns_name}}"
    [cloudfront] = resources(document, "aws_cloudfront_distribution")
    for role in ("record-site-a", "record-site-aaaa", "record-www-a", "record-www-aaaa"):
        assert by_name(document, "aws_route53_record")[role]["alias"]["zone_id"] == (
            f"${{aws_cloudfront_distribution.{cloudfront}.hosted_zone_id}}"
        )
    assert document["output"]["api_domain_name"]["value"] == f"${{aws_route53_record.{record_api}.fqdn}}"
    assert document["output"]["site_domain_names"]["value"] == [zone, f"www.{zone}"]
    # No certificate ARN written into the stack: nothing to replace before it applies.
    assert ":acm:" not in json.dumps(document["resource"])


def test_dev_has_no_domain_resources(synthesized: dict[str, Json]) -> None:
    document = synthesized["dev"]
    assert not resources(document, "aws_acm_certificate")
    assert not resources(document, "aws_route53_record")
    assert "aws_route53_zone" not in document.get("data", {})
