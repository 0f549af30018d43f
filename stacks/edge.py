"""Edge and monitoring wiring: the S3 + CloudFront frontend, and the alarms of every tier."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import (
    Beanstalk,
    BeanstalkAlarms,
    CacheAlarms,
    DatabaseAlarms,
    Frontend,
    FrontendProps,
    LoadBalancer,
    LoadBalancerAlarms,
    Monitoring,
    MonitoringProps,
    Service,
    ServiceAlarms,
)

from .data import DataTier


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


def build_monitoring(
    stack: TerraformStack,
    config: EnvironmentConfig,
    *,
    load_balancer: LoadBalancer | None,
    cluster_name: str | None,
    services: dict[str, Service],
    data: DataTier,
    beanstalk: Beanstalk | None,
) -> Monitoring | None:
    """The alarm topic and the alarms of every tier this environment has."""
    settings = config.monitoring
    if not settings.enabled:
        return None
    limits = settings.thresholds
    # Beanstalk's own ALB (its target groups are Beanstalk's: the environment-health alarm covers
    # them), else the platform ALB with one unhealthy-host alarm per service.
    alb_suffix: str | None = None
    target_groups: dict[str, str] = {}
    if beanstalk is not None:
        alb_suffix = beanstalk.load_balancer_arn_suffix
    elif load_balancer is not None:
        alb_suffix = load_balancer.arn_suffix
        target_groups = {name: target.target_group.arn_suffix for name, target in load_balancer.services.items()}
    database, cache = data.database, data.cache
    watched = Monitoring(
        stack,
        "monitoring",
        props=MonitoringProps(
            name=config.stack_name,
            alarm_emails=list(settings.alarm_emails),
            kms_key_arn=settings.kms_key_arn,
            period_seconds=settings.period_seconds,
            evaluation_periods=settings.evaluation_periods,
            database=DatabaseAlarms(
                instance_identifier=database.identifier,
                instance_class=config.database.instance_class,
                cpu_percent=limits.rds_cpu_percent,
                free_storage_threshold_gib=limits.free_storage_threshold_gib(config.database.allocated_storage_gib),
                connections_percent=limits.rds_connections_percent,
                max_connections=limits.rds_max_connections,
            )
            if database is not None and config.database is not None
            else None,
            load_balancer=LoadBalancerAlarms(
                arn_suffix=alb_suffix,
                target_group_arn_suffixes=target_groups,
                target_5xx_count=limits.alb_target_5xx_count,
                elb_5xx_count=limits.alb_elb_5xx_count,
                unhealthy_hosts=limits.unhealthy_hosts,
            )
            if alb_suffix is not None
            else None,
            services=ServiceAlarms(
                cluster_name=cluster_name,
                service_names={name: service.service_name for name, service in services.items()},
                cpu_percent=limits.ecs_cpu_percent,
                memory_percent=limits.ecs_memory_percent,
            )
            if cluster_name is not None and services
            else None,
            cache=CacheAlarms(
                replication_group_id=cache.replication_group.replication_group_id,
                node_count=config.cache.num_cache_clusters,
                cpu_percent=limits.redis_cpu_percent,
                memory_percent=limits.redis_memory_percent,
                evictions=limits.redis_evictions,
            )
            if cache is not None and config.cache is not None
            else None,
            beanstalk=BeanstalkAlarms(environment_name=beanstalk.environment_name)
            if beanstalk is not None and config.beanstalk is not None and config.beanstalk.enhanced_health
            else None,
        ),
    )
    TerraformOutput(stack, "alarm_topic_arn", value=watched.topic_arn, description="SNS topic every alarm notifies")
    return watched
