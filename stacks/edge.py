"""Edge and monitoring wiring: the S3 + CloudFront frontend, and the alarms of every tier."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import Frontend, FrontendProps, Monitoring
from modules.block import Block


def build_frontend(
    stack: TerraformStack,
    config: EnvironmentConfig,
    *,
    api_origin_domain_name: str | None,
    kms_key_arn: str | None,
    web_acl_arn: str | None,
) -> Frontend | None:
    """The static frontend; ``/api/*`` goes to ``api_origin_domain_name`` (the ALB or Beanstalk's) when
    asked. The bucket is encrypted with ``kms_key_arn`` (the environment's key, which CloudFront may use)."""
    frontend = config.frontend
    if not frontend.enabled:
        return None
    site = Frontend(
        stack,
        "frontend",
        props=FrontendProps(
            project=config.project,
            environment=config.environment,
            price_class=frontend.price_class,
            default_root_object=frontend.default_root_object,
            spa_fallback=frontend.spa_fallback,
            aliases=list(frontend.aliases),
            certificate_arn=frontend.certificate_arn,
            api_origin_domain_name=(frontend.api_origin_domain or api_origin_domain_name)
            if frontend.api_origin
            else None,
            # check_frontend_origin guarantees a domain on the certificate when the ALB has one.
            api_origin_https=config.alb.certificate_arn is not None,
            content_security_policy=frontend.content_security_policy,
            web_acl_arn=web_acl_arn,
            kms_key_arn=kms_key_arn,
            noncurrent_version_expiry_days=frontend.noncurrent_version_expiry_days,
            force_destroy=frontend.force_destroy,
            access_logs_enabled=frontend.access_logs.enabled,
            access_logs_expiry_days=frontend.access_logs.expiry_days,
        ),
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


def build_monitoring(stack: TerraformStack, config: EnvironmentConfig, watched: Sequence[Block]) -> Monitoring | None:
    """The alarm topic, and the alarms every block in ``watched`` declares."""
    if not config.monitoring.enabled:
        return None
    monitoring = Monitoring(
        stack, "monitoring", settings=config.monitoring, name=config.stack_name, watched=list(watched)
    )
    TerraformOutput(stack, "alarm_topic_arn", value=monitoring.topic_arn, description="SNS topic every alarm notifies")
    return monitoring
