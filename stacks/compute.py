"""Compute wiring (compute.kind = "fargate"): the ECS cluster, per service an ECR repository and a
Fargate service, and the jobs that run the services' images."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import Cluster, Job, LoadBalancer, Network, PlatformKey, Repository, SecurityGroups, Service
from modules.block import Naming

from .data import DataTier, data_access_for


def build_fargate(
    stack: TerraformStack,
    config: EnvironmentConfig,
    network: Network,
    security_groups: SecurityGroups,
    load_balancer: LoadBalancer,
    data: DataTier,
    *,
    naming: Naming,
    key: PlatformKey | None,
    first_deploy: bool = False,
) -> tuple[Cluster, dict[str, Service], dict[str, Job]]:
    """One cluster; per service an ECR repository and a Fargate service behind its target group; per job
    its task definition (and schedule); outputs.
    ``key`` (the environment's) encrypts log groups and images with no key of their own.
    ``first_deploy``: every service starts at zero tasks (its repository is created by this same apply,
    so no image can exist yet); the next, normal apply scales them to their counts."""
    cluster = Cluster(stack, "cluster", settings=config.compute, naming=naming, key=key)
    repositories: dict[str, Repository] = {}
    services: dict[str, Service] = {}
    for name, settings in sorted(config.services.items()):
        repositories[name] = build_repository(stack, config, name, key=key)
        services[name] = Service(
            stack,
            f"service-{name}",
            name=name,
            settings=settings,
            naming=naming,
            cluster=cluster,
            repository=repositories[name],
            network=network,
            security_groups=security_groups,
            load_balancer=load_balancer,
            data_access=data_access_for(config, name, data),
            first_deploy=first_deploy,
        )
    jobs = {
        name: Job(
            stack,
            f"job-{name}",
            name=name,
            settings=settings,
            naming=naming,
            cluster=cluster,
            service=services[settings.service],
            network=network,
            security_groups=security_groups,
            key=key,
        )
        for name, settings in sorted(config.jobs.items())
    }
    repository_outputs(stack, repositories)
    TerraformOutput(stack, "ecs_cluster_name", value=cluster.name, description="ECS cluster name")
    TerraformOutput(
        stack,
        "ecs_service_names",
        value={name: service.service_name for name, service in services.items()},
        description="ECS service name per service",
    )
    if jobs:
        job_outputs(stack, jobs)
    return cluster, services, jobs


def job_outputs(stack: TerraformStack, jobs: dict[str, Job]) -> None:
    """What `make run-job` (tools/run_job.py) starts a job's task with, by job name."""
    TerraformOutput(
        stack,
        "ecs_jobs",
        value={
            name: {
                "task_definition_family": job.family,
                "container_name": job.container_name,
                "log_group_name": job.log_group.name,
                "subnet_ids": job.subnet_ids,
                "security_group_ids": job.security_group_ids,
            }
            for name, job in jobs.items()
        },
        description="Per job: task family, container, log group, subnets and security groups to run it with",
    )


def build_repository(
    stack: TerraformStack, config: EnvironmentConfig, image: str, *, key: PlatformKey | None
) -> Repository:
    """The ECR repository of one service (Fargate) or one compose image (Beanstalk), from ``[compute.ecr]``."""
    naming = Naming(project=config.project, environment=config.environment, region=config.region)
    return Repository(stack, f"repository-{image}", settings=config.compute.ecr, naming=naming, image=image, key=key)


def repository_outputs(stack: TerraformStack, repositories: dict[str, Repository]) -> None:
    TerraformOutput(
        stack,
        "repository_urls",
        value={name: repository.url for name, repository in repositories.items()},
        description="ECR repository URL per service or image (push <url>:<tag>)",
    )
