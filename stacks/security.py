"""Security wiring: the environment's KMS key and the WAF web ACLs in front of its entry points."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig, resource_name
from modules import PlatformKey, PlatformKeyProps, WebAcl, WebAclProps
from modules.waf import CLOUDFRONT_REGION


@dataclass(frozen=True)
class WebAcls:
    """The environment's WAF: the load balancer's ACL and what the distribution attaches."""

    load_balancer: WebAcl | None
    cloudfront: WebAcl | None
    cloudfront_arn: str | None
    """The distribution's ACL: frontend.web_acl_arn when set, else the platform's, else none."""


def creates_cloudfront_acl(config: EnvironmentConfig) -> bool:
    """Whether the platform creates a CLOUDFRONT-scoped ACL (WAF on, a frontend, no ACL of its own)."""
    return config.waf.enabled and config.frontend.enabled and config.frontend.web_acl_arn is None


def build_key(stack: TerraformStack, config: EnvironmentConfig) -> PlatformKey | None:
    """The environment's customer-managed key ([encryption]); None when AWS-managed keys are asked for."""
    if not config.encryption.customer_managed_key:
        return None
    # The CloudFront ACL's log group lives in us-east-1 and needs the key there.
    elsewhere = creates_cloudfront_acl(config) and config.region != CLOUDFRONT_REGION
    key = PlatformKey(
        stack,
        "kms",
        props=PlatformKeyProps(
            name=config.stack_name,
            region=config.region,
            deletion_window_days=config.encryption.deletion_window_days,
            cloudfront_reads=config.frontend.enabled,
            replica_regions=[CLOUDFRONT_REGION] if elsewhere else [],
        ),
    )
    TerraformOutput(stack, "kms_key_arn", value=key.arn, description="The environment's customer-managed KMS key")
    return key


def build_web_acls(
    stack: TerraformStack, config: EnvironmentConfig, *, key: PlatformKey | None, load_balancer_arn: str
) -> WebAcls:
    """[waf]: a REGIONAL ACL on the load balancer (the platform's or Beanstalk's) and a CLOUDFRONT ACL
    for the distribution, each logging to its own log group."""
    waf = config.waf
    regional = None
    if waf.enabled:
        regional = WebAcl(
            stack,
            "waf-alb",
            props=WebAclProps(
                name=resource_name(config.project, config.environment, "alb"),
                scope="REGIONAL",
                resource_arn=load_balancer_arn,
                log_retention_days=waf.log_retention_days,
                log_kms_key_arn=key.arn if key else None,
            ),
        )
        TerraformOutput(stack, "waf_alb_acl_arn", value=regional.arn, description="WAF web ACL of the load balancer")
    cloudfront = None
    if creates_cloudfront_acl(config):
        cloudfront = WebAcl(
            stack,
            "waf-cloudfront",
            props=WebAclProps(
                name=resource_name(config.project, config.environment, "cloudfront"),
                scope="CLOUDFRONT",
                log_retention_days=waf.log_retention_days,
                log_kms_key_arn=key.arn_in(CLOUDFRONT_REGION) if key else None,
            ),
        )
        TerraformOutput(
            stack, "waf_cloudfront_acl_arn", value=cloudfront.arn, description="WAF web ACL of the distribution"
        )
    return WebAcls(
        load_balancer=regional,
        cloudfront=cloudfront,
        cloudfront_arn=config.frontend.web_acl_arn or (cloudfront.arn if cloudfront else None),
    )
