"""WAF wiring: the web ACLs in front of the environment's entry points."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import PlatformKey, WebAcl
from modules.block import Naming


@dataclass(frozen=True)
class WebAcls:
    """The environment's WAF: the load balancer's ACL and the distribution's (unless it names its own)."""

    load_balancer: WebAcl | None
    cloudfront: WebAcl | None


def creates_cloudfront_acl(config: EnvironmentConfig) -> bool:
    """Whether the platform creates a CLOUDFRONT-scoped ACL (WAF on, a frontend, no ACL of its own)."""
    return config.waf.enabled and config.frontend.enabled and config.frontend.web_acl_arn is None


def build_web_acls(
    stack: TerraformStack,
    config: EnvironmentConfig,
    *,
    naming: Naming,
    key: PlatformKey | None,
    load_balancer_arn: str,
) -> WebAcls:
    """[waf]: a REGIONAL ACL on the load balancer (the platform's or Beanstalk's) and a CLOUDFRONT ACL
    for the distribution, each logging to its own log group."""
    regional = None
    if config.waf.enabled:
        regional = WebAcl(
            stack, "waf-alb", settings=config.waf, naming=naming, key=key, load_balancer_arn=load_balancer_arn
        )
        TerraformOutput(stack, "waf_alb_acl_arn", value=regional.arn, description="WAF web ACL of the load balancer")
    cloudfront = None
    if creates_cloudfront_acl(config):
        cloudfront = WebAcl(stack, "waf-cloudfront", settings=config.waf, naming=naming, key=key)
        TerraformOutput(
            stack, "waf_cloudfront_acl_arn", value=cloudfront.arn, description="WAF web ACL of the distribution"
        )
    return WebAcls(load_balancer=regional, cloudfront=cloudfront)
