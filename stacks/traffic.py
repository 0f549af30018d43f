"""Traffic wiring: the security-group chain and the ALB with one target group and rule per web service."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import LoadBalancer, Network, SecurityGroups
from modules.block import Naming


def build_traffic(
    stack: TerraformStack,
    config: EnvironmentConfig,
    network: Network,
    *,
    naming: Naming,
    certificate_arn: str | None = None,
) -> tuple[SecurityGroups, LoadBalancer | None]:
    """Security groups, and (unless Elastic Beanstalk brings its own) the ALB with one target group
    and listener rule per web service (backends and workers have none), plus outputs.
    ``certificate_arn``: [domain]'s for the ALB."""
    platform_alb = config.compute.kind == "fargate"
    database = config.database
    security_groups = SecurityGroups(
        stack,
        "security-groups",
        settings=config.security_groups,
        naming=naming,
        network=network,
        load_balancer=config.alb if platform_alb else None,
        services=config.services,
        load_balancer_https=certificate_arn is not None,
        database=database is not None,
        database_proxy=database is not None and database.proxy.enabled,
        cache=config.cache is not None,
    )
    if not platform_alb:
        return security_groups, None
    load_balancer = LoadBalancer(
        stack,
        "load-balancer",
        settings=config.alb,
        naming=naming,
        network=network,
        security_groups=security_groups,
        services={name: service for name, service in config.services.items() if service.kind == "web"},
        priorities=config.listener_rules.priorities,
        moved_first=config.listener_rules.moved_first,
        certificate_arn=certificate_arn,
    )
    _outputs(stack, load_balancer)
    return security_groups, load_balancer


def _outputs(stack: TerraformStack, load_balancer: LoadBalancer) -> None:
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
