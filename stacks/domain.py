"""Custom-domain wiring: the zone and certificates first (the load balancer and the distribution serve
them), the records once what they point at exists."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import Domain, Frontend
from modules.block import Naming
from modules.domain import AliasTarget


def build_domain(stack: TerraformStack, config: EnvironmentConfig, *, naming: Naming) -> Domain | None:
    """[domain]: the zone lookup, the load balancer's certificate and, with a frontend, the distribution's."""
    if config.domain is None:
        return None
    return Domain(stack, "domain", settings=config.domain, naming=naming, site=config.frontend.enabled)


def route_api(stack: TerraformStack, domain: Domain, load_balancer: AliasTarget) -> str:
    """The API's record to the load balancer (the platform ALB or Beanstalk's); its name, for CloudFront."""
    name = domain.alias_api(load_balancer)
    TerraformOutput(stack, "api_domain_name", value=name, description="The load balancer's custom domain (HTTPS)")
    return name


def route_site(stack: TerraformStack, domain: Domain, frontend: Frontend) -> None:
    """The site's records to the distribution."""
    domain.alias_site(frontend.alias_target())
    assert domain.site is not None  # build_domain: a site certificate whenever the frontend exists
    TerraformOutput(
        stack,
        "site_domain_names",
        value=domain.site.aliases,
        description="The distribution's custom domains (HTTPS), the site's own first",
    )
