"""Per-construct assertions for the registry, cluster and service modules, on synthesized JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from cdktf import TerraformStack, TerraformVariable
from cdktf_cdktf_provider_aws.lb_listener_rule import LbListenerRule

from modules import (
    CapacityShare,
    Cluster,
    ClusterProps,
    ContainerHealthCheck,
    Registry,
    RegistryProps,
    Service,
    ServiceAutoscaling,
    ServiceProps,
)
from tests.synth import Json, only, ref, resources, synth_construct

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:movie/db-AbC123"
PARAMETER = "arn:aws:ssm:eu-west-1:123456789012:parameter/movie/api-url"
OTHER_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:customer/db-XyZ789"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/movie/abc"
TG_SUFFIX = "targetgroup/movie/abc"
ALB_SUFFIX = "app/netflux-unit/def"


def statements(policy: Json) -> list[Json]:
    found: list[Json] = json.loads(policy["policy"])["Statement"]
    return found


def container(document: Json, service: str = "movie-service") -> Json:
    for task in resources(document, "aws_ecs_task_definition").values():
        definitions: list[Json] = json.loads(task["container_definitions"])
        if definitions[0]["name"] == service:
            assert len(definitions) == 1
            return definitions[0]
    raise AssertionError(f"no task definition for {service}")


def by_name(document: Json, resource_type: str, name: str) -> Json:
    matches = [r for r in resources(document, resource_type).values() if r.get("name") == name]
    assert len(matches) == 1, f"expected one {resource_type} named {name}, found {len(matches)}"
    return matches[0]


def build_services(
    stack: TerraformStack,
    *,
    variable_tag: bool = False,
    names: tuple[str, ...] = ("movie-service",),
    **overrides: Any,
) -> None:
    """A cluster, and per name a repository, a stand-in listener rule and a service."""
    cluster = Cluster(
        stack,
        "cluster",
        props=ClusterProps(
            name="netflux-unit",
            namespace_name="netflux-unit.internal",
            capacity_provider_strategy={
                "FARGATE": CapacityShare(base=1, weight=1),
                "FARGATE_SPOT": CapacityShare(weight=3),
            },
        ),
    )
    for name in names:
        repository = Registry(stack, f"{name}-repository", props=RegistryProps(name=f"netflux-unit-{name}"))
        rule = LbListenerRule(
            stack,
            f"{name}-rule",
            listener_arn="arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/x/y/z",
            action=[{"type": "forward", "targetGroupArn": TG_ARN}],
            condition=[{"pathPattern": {"values": [f"/{name}*"]}}],
        )
        tag = TerraformVariable(stack, f"image_tag_{name.replace('-', '_')}", type="string").string_value
        props = ServiceProps(
            name=name,
            resource_prefix=f"netflux-unit-{name}",
            region="eu-west-1",
            cluster=cluster,
            repository=repository,
            image_tag=tag if variable_tag else "v1.2.3",
            container_port=8080,
            secrets={"DB_PASSWORD": f"{SECRET}:password::", "API_URL": PARAMETER}
            if name == "movie-service"
            else {"DB_PASSWORD": OTHER_SECRET},
            environment={"LOG_LEVEL": "info"},
            subnet_ids=["subnet-a", "subnet-b"],
            security_group_ids=["sg-app"],
            target_group_arn=TG_ARN,
            target_group_arn_suffix=TG_SUFFIX,
            load_balancer_arn_suffix=ALB_SUFFIX,
            listener_rule=rule,
        )
        Service(stack, name, props=replace(props, **overrides))


@pytest.fixture(scope="module")
def doc() -> Json:
    """Terraform-owned deploys, autoscaling, a container health check, two services."""
    return synth_construct(
        lambda stack: build_services(
            stack,
            names=("movie-service", "customer-service"),
            autoscaling=ServiceAutoscaling(
                min_count=2,
                max_count=6,
                cpu_target_percent=60,
                requests_per_target=500,
                scale_in_cooldown_seconds=120,
                scale_out_cooldown_seconds=30,
            ),
            health_check=ContainerHealthCheck(command=["CMD-SHELL", "wget -q -O- localhost:8080/health"], retries=4),
            cpu=512,
            memory_mib=1024,
            cpu_architecture="ARM64",
        )
    )


@pytest.fixture(scope="module")
def pipeline_doc() -> Json:
    """Pipeline-owned deploys, image tag from a variable, ECS Exec on, no autoscaling."""
    return synth_construct(
        lambda stack: build_services(
            stack,
            variable_tag=True,
            image_deploys="pipeline",
            enable_execute_command=True,
            readonly_root_filesystem=False,
            desired_count=1,
        )
    )


# --- registry ----------------------------------------------------------------------------------


def test_repository_is_immutable_scanned_and_aes256_encrypted_by_default(doc: Json) -> None:
    repository = by_name(doc, "aws_ecr_repository", "netflux-unit-movie-service")

    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == {"scan_on_push": True}
    assert repository["encryption_configuration"] == [{"encryption_type": "AES256"}]
    assert repository["force_delete"] is False


def test_repository_uses_the_kms_key_and_force_delete_when_asked() -> None:
    document = synth_construct(
        lambda stack: Registry(
            stack, "r", props=RegistryProps(name="x", encryption="KMS", kms_key_arn=KMS_KEY, force_delete=True)
        )
    )

    repository = only(document, "aws_ecr_repository")
    assert repository["encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": KMS_KEY}]
    assert repository["force_delete"] is True


def test_repository_kms_without_a_key_uses_the_aws_managed_ecr_key() -> None:
    document = synth_construct(lambda stack: Registry(stack, "r", props=RegistryProps(name="x", encryption="KMS")))

    assert only(document, "aws_ecr_repository")["encryption_configuration"] == [{"encryption_type": "KMS"}]


def test_fails_when_a_repository_key_is_given_with_aes256() -> None:
    with pytest.raises(ValueError, match=r"kms_key_arn needs encryption = 'KMS'"):
        synth_construct(lambda stack: Registry(stack, "r", props=RegistryProps(name="x", kms_key_arn=KMS_KEY)))


def test_lifecycle_policy_expires_untagged_by_age_and_keeps_the_newest_tagged() -> None:
    document = synth_construct(
        lambda stack: Registry(stack, "r", props=RegistryProps(name="x", untagged_expiry_days=3, keep_tagged_images=20))
    )

    policy = only(document, "aws_ecr_lifecycle_policy")
    assert policy["repository"] == ref(document, "aws_ecr_repository", only(document, "aws_ecr_repository"), "name")
    rules = {rule["rulePriority"]: rule for rule in json.loads(policy["policy"])["rules"]}
    assert rules[1]["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 3,
    }
    assert rules[2]["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["*"],
        "countType": "imageCountMoreThan",
        "countNumber": 20,
    }
    assert all(rule["action"] == {"type": "expire"} for rule in rules.values())


def test_fails_when_lifecycle_keeps_no_images() -> None:
    with pytest.raises(ValueError, match="keep_tagged_images must be at least 1"):
        synth_construct(lambda stack: Registry(stack, "r", props=RegistryProps(name="x", keep_tagged_images=0)))


# --- cluster -----------------------------------------------------------------------------------


def test_cluster_has_container_insights_and_a_service_connect_namespace(doc: Json) -> None:
    cluster = only(doc, "aws_ecs_cluster")
    namespace = only(doc, "aws_service_discovery_http_namespace")

    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    assert namespace["name"] == "netflux-unit.internal"
    assert cluster["service_connect_defaults"] == {
        "namespace": ref(doc, "aws_service_discovery_http_namespace", namespace, "arn")
    }


def test_cluster_offers_fargate_and_spot_with_the_configured_default_strategy(doc: Json) -> None:
    providers = only(doc, "aws_ecs_cluster_capacity_providers")

    assert providers["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]
    assert providers["default_capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]
    assert providers["cluster_name"] == ref(doc, "aws_ecs_cluster", only(doc, "aws_ecs_cluster"), "name")


def test_cluster_passes_enhanced_insights_through() -> None:
    document = synth_construct(
        lambda stack: Cluster(
            stack, "c", props=ClusterProps(name="c", namespace_name="c", container_insights="enhanced")
        )
    )

    assert only(document, "aws_ecs_cluster")["setting"] == [{"name": "containerInsights", "value": "enhanced"}]
    assert only(document, "aws_ecs_cluster_capacity_providers")["default_capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 0, "weight": 1}
    ]


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ({"FARGATE": CapacityShare(base=1, weight=0)}, "at least one provider with weight > 0"),
        (
            {"FARGATE": CapacityShare(base=1, weight=1), "FARGATE_SPOT": CapacityShare(base=1, weight=1)},
            "base to only one provider",
        ),
    ],
)
def test_fails_when_cluster_strategy_is_invalid(strategy: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synth_construct(
            lambda stack: Cluster(
                stack, "c", props=ClusterProps(name="c", namespace_name="c", capacity_provider_strategy=strategy)
            )
        )


# --- task definition ---------------------------------------------------------------------------


def test_task_definition_is_fargate_awsvpc_with_size_and_architecture(doc: Json) -> None:
    task = by_name_family(doc, "netflux-unit-movie-service")

    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["network_mode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    assert task["runtime_platform"] == {"operating_system_family": "LINUX", "cpu_architecture": "ARM64"}
    assert task["execution_role_arn"] == ref(
        doc, "aws_iam_role", by_name(doc, "aws_iam_role", "netflux-unit-movie-service-execution"), "arn"
    )
    assert task["task_role_arn"] == ref(
        doc, "aws_iam_role", by_name(doc, "aws_iam_role", "netflux-unit-movie-service-task"), "arn"
    )


def by_name_family(document: Json, family: str) -> Json:
    matches = [t for t in resources(document, "aws_ecs_task_definition").values() if t["family"] == family]
    assert len(matches) == 1
    return matches[0]


def test_container_runs_its_own_repository_image_with_env_secrets_and_logs(doc: Json) -> None:
    definition = container(doc)
    repository = by_name(doc, "aws_ecr_repository", "netflux-unit-movie-service")
    log_group = by_name(doc, "aws_cloudwatch_log_group", "/ecs/netflux-unit-movie-service")

    assert definition["image"] == ref(doc, "aws_ecr_repository", repository, "repository_url") + ":v1.2.3"
    assert definition["essential"] is True
    assert definition["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert definition["secrets"] == [
        {"name": "API_URL", "valueFrom": PARAMETER},
        {"name": "DB_PASSWORD", "valueFrom": f"{SECRET}:password::"},
    ]
    assert definition["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": ref(doc, "aws_cloudwatch_log_group", log_group, "name"),
            "awslogs-region": "eu-west-1",
            "awslogs-stream-prefix": "movie-service",
        },
    }
    assert definition["portMappings"] == [
        {"name": "http", "containerPort": 8080, "protocol": "tcp", "appProtocol": "http"}
    ]
    assert log_group["retention_in_days"] == 365


def test_container_root_filesystem_is_read_only_with_a_writable_tmp(doc: Json) -> None:
    definition = container(doc)

    assert definition["readonlyRootFilesystem"] is True
    assert definition["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
    assert by_name_family(doc, "netflux-unit-movie-service")["volume"] == [{"name": "tmp"}]
    assert "linuxParameters" not in definition


def test_container_health_check_is_translated(doc: Json) -> None:
    assert container(doc)["healthCheck"] == {
        "command": ["CMD-SHELL", "wget -q -O- localhost:8080/health"],
        "interval": 30,
        "timeout": 5,
        "retries": 4,
        "startPeriod": 0,
    }


def test_image_tag_comes_from_a_terraform_variable_when_the_pipeline_passes_it(pipeline_doc: Json) -> None:
    definition = container(pipeline_doc)

    repository = only(pipeline_doc, "aws_ecr_repository")
    assert definition["image"] == ref(pipeline_doc, "aws_ecr_repository", repository, "repository_url") + (
        ":${var.image_tag_movie_service}"
    )
    assert "healthCheck" not in definition
    assert definition["readonlyRootFilesystem"] is False
    assert "mountPoints" not in definition
    assert definition["linuxParameters"] == {"initProcessEnabled": True}


def test_log_group_uses_the_kms_key_when_given() -> None:
    document = synth_construct(lambda stack: build_services(stack, log_kms_key_arn=KMS_KEY, log_retention_days=30))

    log_group = only(document, "aws_cloudwatch_log_group")
    assert (log_group["kms_key_id"], log_group["retention_in_days"]) == (KMS_KEY, 30)


# --- IAM ---------------------------------------------------------------------------------------


def execution_statements(document: Json, service: str) -> list[Json]:
    return statements(by_name(document, "aws_iam_role_policy", f"netflux-unit-{service}-execution"))


def test_execution_role_is_scoped_to_its_own_repository_log_group_and_secrets(doc: Json) -> None:
    repository = by_name(doc, "aws_ecr_repository", "netflux-unit-movie-service")
    log_group_arn = ref(
        doc,
        "aws_cloudwatch_log_group",
        by_name(doc, "aws_cloudwatch_log_group", "/ecs/netflux-unit-movie-service"),
        "arn",
    )
    by_action = {tuple(s["Action"]): s["Resource"] for s in execution_statements(doc, "movie-service")}

    assert by_action == {
        ("ecr:GetAuthorizationToken",): ["*"],
        ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"): [
            ref(doc, "aws_ecr_repository", repository, "arn")
        ],
        ("logs:CreateLogStream", "logs:PutLogEvents"): [log_group_arn, f"{log_group_arn}:*"],
        # The JSON-key selector is not part of the secret's ARN: IAM gets the secret itself.
        ("secretsmanager:GetSecretValue",): [SECRET],
        ("ssm:GetParameters",): [PARAMETER],
    }


def test_execution_roles_of_two_services_share_nothing_but_the_registry_login(doc: Json) -> None:
    movie = {r for s in execution_statements(doc, "movie-service") for r in s["Resource"]}
    customer = {r for s in execution_statements(doc, "customer-service") for r in s["Resource"]}

    assert movie & customer == {"*"}
    assert OTHER_SECRET in customer
    assert OTHER_SECRET not in movie
    assert SECRET not in customer


def test_no_statement_allows_wildcards_beyond_the_unscopable_actions(doc: Json, pipeline_doc: Json) -> None:
    unscopable = {
        "ecr:GetAuthorizationToken",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    }
    checked = 0
    for document in (doc, pipeline_doc):
        for policy in resources(document, "aws_iam_role_policy").values():
            for statement in statements(policy):
                checked += 1
                assert statement["Effect"] == "Allow"
                assert not any("*" in action for action in statement["Action"]), statement
                if "*" in statement["Resource"]:
                    assert set(statement["Action"]) <= unscopable, statement
    assert checked >= 9


def test_roles_are_assumable_only_by_ecs_tasks(doc: Json) -> None:
    for role in resources(doc, "aws_iam_role").values():
        (trust,) = json.loads(role["assume_role_policy"])["Statement"]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert trust["Action"] == ["sts:AssumeRole"]


def test_task_role_has_no_permissions_by_default(doc: Json) -> None:
    task_role = ref(doc, "aws_iam_role", by_name(doc, "aws_iam_role", "netflux-unit-movie-service-task"), "id")

    assert not [p for p in resources(doc, "aws_iam_role_policy").values() if p["role"] == task_role]
    assert not resources(doc, "aws_iam_role_policy_attachment")


def test_task_role_gets_only_session_manager_channels_when_exec_is_on(pipeline_doc: Json) -> None:
    policy = by_name(pipeline_doc, "aws_iam_role_policy", "netflux-unit-movie-service-ecs-exec")

    assert policy["role"] == ref(
        pipeline_doc, "aws_iam_role", by_name(pipeline_doc, "aws_iam_role", "netflux-unit-movie-service-task"), "id"
    )
    assert {a for s in statements(policy) for a in s["Action"]} == {
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    }


# --- service -----------------------------------------------------------------------------------


def test_service_runs_privately_behind_its_target_group(doc: Json) -> None:
    service = by_name(doc, "aws_ecs_service", "movie-service")

    assert service["cluster"] == ref(doc, "aws_ecs_cluster", only(doc, "aws_ecs_cluster"), "arn")
    assert service["task_definition"] == ref(
        doc, "aws_ecs_task_definition", by_name_family(doc, "netflux-unit-movie-service"), "arn"
    )
    assert service["network_configuration"] == {
        "subnets": ["subnet-a", "subnet-b"],
        "security_groups": ["sg-app"],
        "assign_public_ip": False,
    }
    assert service["load_balancer"] == [
        {"target_group_arn": TG_ARN, "container_name": "movie-service", "container_port": 8080}
    ]
    assert service["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]
    assert "launch_type" not in service


def test_service_waits_for_its_listener_rule_capacity_providers_and_execution_policy(doc: Json) -> None:
    depends_on = by_name(doc, "aws_ecs_service", "movie-service")["depends_on"]

    rule_ids = [f"aws_lb_listener_rule.{i}" for i in resources(doc, "aws_lb_listener_rule")]
    assert [d for d in depends_on if d.startswith("aws_lb_listener_rule.")] == [
        i for i in rule_ids if "movie-service" in i
    ]
    assert any(d.startswith("aws_ecs_cluster_capacity_providers.") for d in depends_on)
    assert any(d.startswith("aws_iam_role_policy.movie-service_execution-policy") for d in depends_on)


def test_service_deploys_with_circuit_breaker_rollback_and_configured_percentages(doc: Json) -> None:
    service = by_name(doc, "aws_ecs_service", "movie-service")

    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert (service["deployment_minimum_healthy_percent"], service["deployment_maximum_percent"]) == (100, 200)
    assert service["health_check_grace_period_seconds"] == 60
    assert service["desired_count"] == 2
    assert service["enable_execute_command"] is False
    assert service["force_new_deployment"] is True


def test_service_registers_its_name_with_service_connect(doc: Json) -> None:
    service = by_name(doc, "aws_ecs_service", "movie-service")
    connect = service["service_connect_configuration"]

    assert connect["enabled"] is True
    assert connect["namespace"] == ref(
        doc, "aws_service_discovery_http_namespace", only(doc, "aws_service_discovery_http_namespace"), "arn"
    )
    # port_name must equal the container's named port mapping, or ECS rejects the service.
    assert connect["service"] == [
        {
            "port_name": container(doc)["portMappings"][0]["name"],
            "discovery_name": "movie-service",
            "client_alias": {"dns_name": "movie-service", "port": 8080},
        }
    ]
    assert connect["log_configuration"]["options"]["awslogs-stream-prefix"] == "service-connect"


def test_terraform_owned_deploys_with_autoscaling_ignore_only_the_desired_count(doc: Json) -> None:
    assert by_name(doc, "aws_ecs_service", "movie-service")["lifecycle"] == {"ignore_changes": ["desired_count"]}


def test_pipeline_owned_deploys_ignore_task_definition_and_desired_count(pipeline_doc: Json) -> None:
    service = only(pipeline_doc, "aws_ecs_service")

    assert service["lifecycle"] == {"ignore_changes": ["task_definition", "desired_count"]}
    assert service["enable_execute_command"] is True
    assert service["desired_count"] == 1


def test_terraform_owned_fixed_count_ignores_nothing() -> None:
    document = synth_construct(build_services)

    assert "lifecycle" not in only(document, "aws_ecs_service")
    assert not resources(document, "aws_appautoscaling_target")
    assert not resources(document, "aws_appautoscaling_policy")


# --- autoscaling -------------------------------------------------------------------------------


def test_autoscaling_target_covers_the_service_count_range(doc: Json) -> None:
    targets = resources(doc, "aws_appautoscaling_target")
    cluster_name = ref(doc, "aws_ecs_cluster", only(doc, "aws_ecs_cluster"), "name")
    service_name = ref(doc, "aws_ecs_service", by_name(doc, "aws_ecs_service", "movie-service"), "name")

    (target,) = [t for t in targets.values() if t["resource_id"] == f"service/{cluster_name}/{service_name}"]
    assert (target["min_capacity"], target["max_capacity"]) == (2, 6)
    assert (target["service_namespace"], target["scalable_dimension"]) == ("ecs", "ecs:service:DesiredCount")


def test_autoscaling_tracks_cpu_and_alb_requests_per_target(doc: Json) -> None:
    cpu = by_name(doc, "aws_appautoscaling_policy", "netflux-unit-movie-service-cpu")
    requests = by_name(doc, "aws_appautoscaling_policy", "netflux-unit-movie-service-requests")

    for policy, metric, value in (
        (cpu, "ECSServiceAverageCPUUtilization", 60),
        (requests, "ALBRequestCountPerTarget", 500),
    ):
        config = policy["target_tracking_scaling_policy_configuration"]
        assert policy["policy_type"] == "TargetTrackingScaling"
        assert config["predefined_metric_specification"]["predefined_metric_type"] == metric
        assert config["target_value"] == value
        assert (config["scale_in_cooldown"], config["scale_out_cooldown"]) == (120, 30)
        assert policy["resource_id"].startswith("${aws_appautoscaling_target.movie-service_scaling-target")
    assert (
        requests["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"]["resource_label"]
        == f"{ALB_SUFFIX}/{TG_SUFFIX}"
    )


# --- construct validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"desired_count": 9, "autoscaling": ServiceAutoscaling(min_count=1, max_count=3)},
            "desired_count must be between",
        ),
        ({"enable_execute_command": True}, "enable_execute_command needs readonly_root_filesystem = False"),
        ({"resource_prefix": "x" * 60}, "IAM role name"),
        ({"subnet_ids": []}, "subnet_ids must list at least one"),
        ({"environment": {"DB_PASSWORD": "x"}}, "both an environment variable and a secret"),
    ],
)
def test_fails_when_service_props_are_inconsistent(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synth_construct(lambda stack: build_services(stack, **overrides))
