"""Elastic Beanstalk wiring (compute.kind = "beanstalk"): the compose images' repositories and the environment."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import Beanstalk, Network, PlatformKey, SecurityGroups
from modules.block import Naming

from .compute import build_repository, repository_outputs
from .data import DataTier


def build_beanstalk(
    stack: TerraformStack,
    config: EnvironmentConfig,
    network: Network,
    security_groups: SecurityGroups,
    data: DataTier,
    *,
    naming: Naming,
    key: PlatformKey | None,
    certificate_arn: str | None = None,
) -> Beanstalk:
    """ECR repositories for the compose images and one Beanstalk environment in the VPC, connected to
    the data tier through the app (or shared) security group; its load balancer takes [alb]'s certificate,
    or ``certificate_arn`` ([domain]'s)."""
    settings = config.beanstalk
    assert settings is not None  # check_beanstalk_choice: compute.kind = "beanstalk" has [beanstalk]
    repositories = {name: build_repository(stack, config, name, key=key) for name in settings.repositories}
    beanstalk = Beanstalk(
        stack,
        "beanstalk",
        settings=settings,
        naming=naming,
        network=network,
        security_groups=security_groups,
        repositories=repositories,
        database=data.database,
        cache=data.cache,
        certificate_arn=certificate_arn or config.alb.certificate_arn,
    )
    TerraformOutput(stack, "beanstalk_cname", value=beanstalk.cname, description="Beanstalk environment CNAME")
    TerraformOutput(
        stack, "beanstalk_environment_name", value=beanstalk.environment_name, description="Beanstalk environment"
    )
    repository_outputs(stack, repositories)
    return beanstalk
