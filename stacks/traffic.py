"""Traffic wiring: the security-group chain and the ALB with one target group and rule per service."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import LoadBalancer, LoadBalancerProps, Network, SecurityGroups, SecurityGroupsProps, TargetProps


def build_traffic(
    stack: TerraformStack, config: EnvironmentConfig, network: Network
) -> tuple[SecurityGroups, LoadBalancer | None]:
    """Security groups, and (unless Elastic Beanstalk brings its own) the ALB with one target group
    and listener rule per service, plus outputs."""
    alb = config.alb
    platform_alb = config.compute.kind == "fargate"
    security_groups = SecurityGroups(
        stack,
        "security-groups",
        props=SecurityGroupsProps(
            name=config.stack_name,
            vpc_id=network.vpc_id,
            mode=config.security_groups.mode,
            service_ports={name: service.container_port for name, service in config.services.items()},
            alb_ingress_cidrs=alb.effective_ingress_cidrs(config.network.vpc_cidr),
            alb_listener_ports=[80, 443] if alb.certificate_arn else [80],
            load_balancer=platform_alb,
            database=config.database is not None,
            cache=config.cache is not None,
            database_proxy=config.database is not None and config.database.proxy.enabled,
        ),
    )
    if not platform_alb:
        return security_groups, None
    assert security_groups.alb_sg_id is not None
    priorities = config.listener_rule_priorities()
    load_balancer = LoadBalancer(
        stack,
        "load-balancer",
        props=LoadBalancerProps(
            project=config.project,
            environment=config.environment,
            region=config.region,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_app_subnet_ids if alb.internal else network.public_subnet_ids,
            security_group_id=security_groups.alb_sg_id,
            internal=alb.internal,
            idle_timeout_seconds=alb.idle_timeout_seconds,
            deletion_protection=alb.deletion_protection,
            certificate_arn=alb.certificate_arn,
            access_logs_enabled=alb.access_logs.enabled,
            access_logs_expiry_days=alb.access_logs.expiry_days,
            alarms=alb.alarms,
            targets={
                name: TargetProps(
                    port=service.container_port,
                    protocol=service.protocol,
                    priority=priorities[name],
                    path_patterns=list(service.path_patterns),
                    host_headers=list(service.host_headers),
                    health_check_path=service.health_check.path,
                    health_check_matcher=service.health_check.matcher,
                    health_check_interval_seconds=service.health_check.interval_seconds,
                    health_check_timeout_seconds=service.health_check.timeout_seconds,
                    healthy_threshold=service.health_check.healthy_threshold,
                    unhealthy_threshold=service.health_check.unhealthy_threshold,
                    deregistration_delay_seconds=service.deregistration_delay_seconds,
                )
                for name, service in config.services.items()
            },
        ),
    )
    TerraformOutput(stack, "alb_dns_name", value=load_balancer.dns_name, description="ALB DNS name")
    TerraformOutput(
        stack, "http_listener_arn", value=load_balancer.http_listener.arn, description="HTTP (port 80) listener ARN"
    )
    if load_balancer.https_listener is not None:
        TerraformOutput(
            stack,
            "https_listener_arn",
            value=load_balancer.https_listener.arn,
            description="HTTPS (port 443) listener ARN",
        )
    TerraformOutput(
        stack,
        "target_group_arns",
        value={name: target.target_group.arn for name, target in load_balancer.services.items()},
        description="Target group ARN per service",
    )
    return security_groups, load_balancer
