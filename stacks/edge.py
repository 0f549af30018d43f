"""Edge and monitoring wiring: the S3 + CloudFront frontend, and the alarms of every tier."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import Frontend, Monitoring, PlatformKey, WebAcl
from modules.block import Block, Naming
from modules.domain import SiteDomain


def build_frontend(
    stack: TerraformStack,
    config: EnvironmentConfig,
    *,
    naming: Naming,
    key: PlatformKey | None,
    web_acl: WebAcl | None,
    load_balancer_dns_name: str | None,
    load_balancer_https: bool,
    site_domain: SiteDomain | None,
) -> Frontend | None:
    """The static frontend; ``/api/*`` goes to the load balancer (the ALB or Beanstalk's) when asked, at
    ``load_balancer_dns_name`` (over HTTPS with ``load_balancer_https``). The bucket is encrypted with
    ``key`` (the environment's, which CloudFront may use). ``site_domain``: [domain]'s names for it."""
    if not config.frontend.enabled:
        return None
    site = Frontend(
        stack,
        "frontend",
        settings=config.frontend,
        naming=naming,
        key=key,
        web_acl=web_acl,
        load_balancer_dns_name=load_balancer_dns_name,
        load_balancer_https=load_balancer_https,
        site_domain=site_domain,
    )
    TerraformOutput(stack, "frontend_domain_name", value=site.domain_name, description="CloudFront domain name")
    TerraformOutput(
        stack,
        "frontend_distribution_id",
        value=site.distribution_id,
        description="CloudFront distribution id (invalidations)",
    )
    TerraformOutput(
        stack, "frontend_bucket_name", value=site.bucket_name, description="Bucket to upload the frontend to"
    )
    return site


def build_monitoring(
    stack: TerraformStack, config: EnvironmentConfig, watched: Sequence[Block], *, naming: Naming
) -> Monitoring | None:
    """The alarm topic, and the alarms every block in ``watched`` declares."""
    if not config.monitoring.enabled:
        return None
    monitoring = Monitoring(stack, "monitoring", settings=config.monitoring, naming=naming, watched=list(watched))
    TerraformOutput(stack, "alarm_topic_arn", value=monitoring.topic_arn, description="SNS topic every alarm notifies")
    return monitoring
