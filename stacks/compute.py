"""Compute wiring: ECR repositories and ECS Fargate services, or Elastic Beanstalk."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack, TerraformVariable, TerraformVariableValidationConfig

from config import EnvironmentConfig, resource_name
from config.edge import image_variable
from modules import (
    Beanstalk,
    BeanstalkProps,
    CacheConnection,
    CapacityShare,
    Cluster,
    ClusterProps,
    ContainerHealthCheck,
    DatabaseConnection,
    EnvironmentSecret,
    LoadBalancer,
    Network,
    Registry,
    RegistryProps,
    SecurityGroups,
    Service,
    ServiceAutoscaling,
    ServiceProps,
)

from .data import DataTier, data_access_for


def build_fargate(
    stack: TerraformStack,
    config: EnvironmentConfig,
    network: Network,
    security_groups: SecurityGroups,
    load_balancer: LoadBalancer,
    data: DataTier,
    *,
    kms_key_arn: str | None,
    first_deploy: bool = False,
) -> tuple[Cluster, dict[str, Service]]:
    """One cluster; per service an ECR repository and a Fargate service behind its target group; outputs.
    ``kms_key_arn`` (the environment's key) encrypts log groups and images with no key of their own.
    ``first_deploy``: every service starts at zero tasks (its repository is created by this same apply,
    so no image can exist yet); the next, normal apply scales them to their counts."""
    settings = config.compute
    cluster = Cluster(
        stack,
        "cluster",
        props=ClusterProps(
            name=config.stack_name,
            namespace_name=f"{config.stack_name}.internal",
            container_insights=settings.container_insights,
            capacity_provider_strategy={
                provider: CapacityShare(base=share.base, weight=share.weight)
                for provider, share in settings.capacity_provider_strategy.items()
            },
        ),
    )
    repositories: dict[str, Registry] = {}
    services: dict[str, Service] = {}
    for name, service in sorted(config.services.items()):
        prefix = resource_name(config.project, config.environment, name)
        task, deployment, scaling = service.task, service.deployment, service.scaling
        repositories[name] = build_repository(stack, config, name, kms_key_arn=kms_key_arn)
        target = load_balancer.services[name]
        access = data_access_for(config, name, data)
        services[name] = Service(
            stack,
            f"service-{name}",
            props=ServiceProps(
                name=name,
                resource_prefix=prefix,
                region=config.region,
                cluster=cluster,
                repository=repositories[name],
                image_tag=task.image_tag or image_tag_variable(stack, name).string_value,
                container_port=service.container_port,
                cpu=task.cpu,
                memory_mib=task.memory_mib,
                cpu_architecture=task.cpu_architecture,
                environment={**task.environment, **access.environment},
                secrets={**task.secrets, **access.secrets},
                task_policy_statements=access.task_statements,
                execution_policy_statements=access.execution_statements,
                readonly_root_filesystem=task.readonly_root_filesystem,
                health_check=None
                if task.health_check is None
                else ContainerHealthCheck(
                    command=list(task.health_check.command),
                    interval_seconds=task.health_check.interval_seconds,
                    timeout_seconds=task.health_check.timeout_seconds,
                    retries=task.health_check.retries,
                    start_period_seconds=task.health_check.start_period_seconds,
                ),
                log_retention_days=task.log_retention_days,
                log_kms_key_arn=settings.log_kms_key_arn or kms_key_arn,
                enable_execute_command=task.enable_execute_command,
                subnet_ids=network.private_app_subnet_ids,
                security_group_ids=[security_groups.app_sg_id],
                target_group_arn=target.target_group.arn,
                target_group_arn_suffix=target.target_group.arn_suffix,
                load_balancer_arn_suffix=load_balancer.arn_suffix,
                listener_rule=target.listener_rule,
                desired_count=0 if first_deploy else scaling.desired_count,
                minimum_healthy_percent=deployment.minimum_healthy_percent,
                maximum_percent=deployment.maximum_percent,
                health_check_grace_period_seconds=deployment.health_check_grace_period_seconds,
                image_deploys=deployment.image_deploys,
                autoscaling=ServiceAutoscaling(
                    min_count=0 if first_deploy else scaling.min_count,
                    max_count=scaling.max_count,
                    cpu_target_percent=scaling.cpu_target_percent,
                    requests_per_target=scaling.requests_per_target,
                    scale_in_cooldown_seconds=scaling.scale_in_cooldown_seconds,
                    scale_out_cooldown_seconds=scaling.scale_out_cooldown_seconds,
                )
                if scaling.autoscaling
                else None,
                alarms=service.alarms,
            ),
        )
    repository_outputs(stack, repositories)
    TerraformOutput(stack, "ecs_cluster_name", value=cluster.name, description="ECS cluster name")
    TerraformOutput(
        stack,
        "ecs_service_names",
        value={name: service.service_name for name, service in services.items()},
        description="ECS service name per service",
    )
    return cluster, services


def image_tag_variable(stack: TerraformStack, service: str) -> TerraformVariable:
    """``image_tag_<service>``: the tag a pipeline passes (``-var image_tag_movie_service=<sha>``)."""
    name = f"image_tag_{service.replace('-', '_')}"
    return TerraformVariable(
        stack,
        name,
        type="string",
        nullable=False,
        description=f"Image tag of {service} to run: a version or commit SHA (tags are immutable)",
        validation=[
            TerraformVariableValidationConfig(
                condition=f'${{can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}$", var.{name})) && var.{name} != "latest"}}',
                error_message="The image tag must be a Docker tag other than 'latest', e.g. a version or commit SHA.",
            )
        ],
    )


def build_repository(
    stack: TerraformStack, config: EnvironmentConfig, name: str, *, kms_key_arn: str | None
) -> Registry:
    """The ECR repository of one service (Fargate) or one compose image (Beanstalk). With
    ``encryption = "KMS"`` the configured key, else ``kms_key_arn`` (the environment's) encrypts it."""
    ecr = config.compute.ecr
    return Registry(
        stack,
        f"repository-{name}",
        props=RegistryProps(
            name=resource_name(config.project, config.environment, name),
            untagged_expiry_days=ecr.untagged_expiry_days,
            keep_tagged_images=ecr.keep_tagged_images,
            encryption=ecr.encryption,
            kms_key_arn=(ecr.kms_key_arn or kms_key_arn) if ecr.encryption == "KMS" else None,
            force_delete=ecr.force_delete,
        ),
    )


def repository_outputs(stack: TerraformStack, repositories: dict[str, Registry]) -> None:
    TerraformOutput(
        stack,
        "repository_urls",
        value={name: repository.url for name, repository in repositories.items()},
        description="ECR repository URL per service or image (push <url>:<tag>)",
    )


def build_beanstalk(
    stack: TerraformStack,
    config: EnvironmentConfig,
    network: Network,
    security_groups: SecurityGroups,
    data: DataTier,
    *,
    kms_key_arn: str | None,
) -> Beanstalk:
    """compute.kind = "beanstalk": ECR repositories for the compose images and one Beanstalk
    environment in the VPC, connected to the data tier through the app (or shared) security group."""
    settings = config.beanstalk
    assert settings is not None
    repositories = {
        name: build_repository(stack, config, name, kms_key_arn=kms_key_arn) for name in settings.repositories
    }
    database, cache = data.database, data.cache
    database_connection = None
    if database is not None:
        user = settings.database_user if database.iam_auth else database.master_username
        database_connection = DatabaseConnection(
            endpoint=database.connect_address,
            port=database.port,
            db_name=database.db_name,
            username=user,
            iam_auth=database.iam_auth,
            secret_arn=None if database.iam_auth else database.master_secret_arn,
            connect_arns=[database.connect_arn(user)] if database.iam_auth else [],
        )
    cache_connection = None
    if cache is not None:
        cache_connection = CacheConnection(
            host=cache.primary_endpoint_address, port=cache.port, auth_secret_arn=cache.auth_token_secret_arn
        )
    # docker-compose.yml names its images ${IMAGE_<NAME>}:${IMAGE_TAG}.
    variables = dict(settings.environment) | {image_variable(name): r.url for name, r in repositories.items()}
    # The customer-managed keys of the secrets the instances read (AWS-managed ones need no grant).
    kms_keys: list[str] = []
    if database is not None and not database.iam_auth and database.master_secret_kms_key_arn:
        kms_keys.append(database.master_secret_kms_key_arn)
    if cache is not None and cache.auth_token_kms_key_arn:
        kms_keys.append(cache.auth_token_kms_key_arn)
    beanstalk = Beanstalk(
        stack,
        "beanstalk",
        props=BeanstalkProps(
            project=config.project,
            environment=config.environment,
            platform=settings.platform,
            vpc_id=network.vpc_id,
            public_subnet_ids=network.public_subnet_ids,
            private_subnet_ids=network.private_app_subnet_ids,
            # The app group (tiered) or the one shared group (seed 000): the database and cache
            # groups accept it, so RDS and Redis accept the instances.
            security_group_ids=[security_groups.app_sg_id],
            instance_types=list(settings.instance_types),
            min_instances=settings.min_instances,
            max_instances=settings.max_instances,
            deployment_policy=settings.deployment_policy,
            batch_size_type=settings.batch_size_type,
            batch_size=settings.batch_size,
            health_check_path=settings.health_check_path,
            enhanced_health=settings.enhanced_health,
            managed_updates=settings.managed_updates.enabled,
            managed_update_window=settings.managed_updates.window_start,
            update_level=settings.managed_updates.update_level,
            instance_refresh=settings.managed_updates.instance_refresh,
            log_retention_days=settings.log_retention_days,
            certificate_arn=config.alb.certificate_arn,
            database=database_connection,
            cache=cache_connection,
            environment_variables=variables,
            environment_secrets={
                name: EnvironmentSecret(arn=arn, json_key=key)
                for name, (arn, key) in settings.secret_references().items()
            },
            secrets_kms_key_arns=kms_keys,
            ecr_repository_arns=[repository.arn for repository in repositories.values()],
            alarms=settings.alarms,
        ),
    )
    TerraformOutput(stack, "beanstalk_cname", value=beanstalk.cname, description="Beanstalk environment CNAME")
    TerraformOutput(
        stack, "beanstalk_environment_name", value=beanstalk.environment_name, description="Beanstalk environment"
    )
    repository_outputs(stack, repositories)
    return beanstalk
