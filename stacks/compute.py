"""Compute wiring (compute.kind = "fargate"): the ECS cluster, per service an ECR repository and a
Fargate service, per worker its queue (and what its senders may do with it), and the jobs that run
the services' images."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from config.queue import sender_variable
from modules import Cluster, Job, LoadBalancer, Network, PlatformKey, Queue, Repository, SecurityGroups, Service
from modules.block import Naming

from .data import DataAccess, DataTier, data_access_for


@dataclass(frozen=True)
class Compute:
    """The cluster, its services, the workers' queues and the jobs, by name."""

    cluster: Cluster
    services: dict[str, Service]
    queues: dict[str, Queue]
    jobs: dict[str, Job]


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
) -> Compute:
    """One cluster; per service an ECR repository and a Fargate service (a web service behind its
    target group); per worker its queue; per job its task definition (and schedule); outputs.
    ``key`` (the environment's) encrypts log groups, images and queues with no key of their own.
    ``first_deploy``: every service starts at zero tasks (its repository is created by this same apply,
    so no image can exist yet); the next, normal apply scales them to their counts."""
    cluster = Cluster(stack, "cluster", settings=config.compute, naming=naming, key=key)
    queues = {
        name: Queue(stack, f"queue-{name}", service=name, settings=settings.queue, naming=naming, key=key)
        for name, settings in sorted(config.services.items())
        if settings.queue is not None
    }
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
            data_access=_with_queues(data_access_for(config, name, data), name, config, queues),
            queue=queues.get(name),
            first_deploy=first_deploy,
        )
    jobs = _jobs(stack, config, network, security_groups, cluster=cluster, services=services, naming=naming, key=key)
    compute = Compute(cluster=cluster, services=services, queues=queues, jobs=jobs)
    _outputs(stack, compute, repositories)
    return compute


def _jobs(
    stack: TerraformStack,
    config: EnvironmentConfig,
    network: Network,
    security_groups: SecurityGroups,
    *,
    cluster: Cluster,
    services: dict[str, Service],
    naming: Naming,
    key: PlatformKey | None,
) -> dict[str, Job]:
    """Per job, by name, its task definition (and schedule), running its service's image."""
    return {
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


def _outputs(stack: TerraformStack, compute: Compute, repositories: dict[str, Repository]) -> None:
    """The repositories' URLs, the cluster's and services' names, the queues' URLs and the jobs' run settings."""
    repository_outputs(stack, repositories)
    TerraformOutput(stack, "ecs_cluster_name", value=compute.cluster.name, description="ECS cluster name")
    TerraformOutput(
        stack,
        "ecs_service_names",
        value={name: service.service_name for name, service in compute.services.items()},
        description="ECS service name per service",
    )
    if compute.queues:
        TerraformOutput(
            stack,
            "queue_urls",
            value={name: queue.url for name, queue in compute.queues.items()},
            description="SQS queue URL per worker (its dead-letter queue is <name>-dlq)",
        )
    if compute.jobs:
        job_outputs(stack, compute.jobs)


def _with_queues(access: DataAccess, name: str, config: EnvironmentConfig, queues: dict[str, Queue]) -> DataAccess:
    """``access`` plus, for every worker's queue ``name`` may send to, its URL and permission to send."""
    for worker, queue in queues.items():
        settings = config.services[worker].queue
        if settings is not None and name in settings.senders:
            access.environment[sender_variable(worker)] = queue.url
            access.task_statements.extend(queue.send_statements())
    return access


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
