"""Tier 3: every environment runs one Fargate service per declared service, wired ALB -> target group -> task."""

from __future__ import annotations

import json

import pytest

from config import EnvironmentConfig
from tests.synth import Json, resources

ENVIRONMENTS = ["dev", "staging", "prod"]


def logical_id(document: Json, resource_type: str, name: str) -> str:
    """Logical id of the one resource of ``resource_type`` whose ``name`` is ``name``."""
    [found] = [k for k, v in resources(document, resource_type).items() if v.get("name") == name]
    return found


def service_by_name(document: Json, name: str) -> Json:
    [found] = [s for s in resources(document, "aws_ecs_service").values() if s["name"].endswith(name)]
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_fargate_service_per_declared_service(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    declared = set(environments[env].services)
    assert len(resources(document, "aws_ecs_service")) == len(declared)
    assert len(resources(document, "aws_ecr_repository")) == len(declared)
    assert len(resources(document, "aws_ecs_task_definition")) == len(declared)
    assert len(resources(document, "aws_ecs_cluster")) == 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_service_sits_behind_its_own_target_group_after_its_listener_rule(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    for name, config in environments[env].services.items():
        service = service_by_name(document, name)
        [balancer] = service["load_balancer"]
        target_groups = {
            k: v
            for k, v in resources(document, "aws_lb_target_group").items()
            if f"tg-{name}" in v["//"]["metadata"]["path"]
        }
        [(tg_id, _)] = target_groups.items()
        assert balancer["target_group_arn"] == f"${{aws_lb_target_group.{tg_id}.arn}}"
        assert balancer["container_name"] == name
        assert balancer["container_port"] == config.container_port
        [rule_id] = [
            k
            for k, v in resources(document, "aws_lb_listener_rule").items()
            if v["action"][0]["target_group_arn"].endswith(f"{tg_id}.arn}}")
        ]
        assert f"aws_lb_listener_rule.{rule_id}" in service["depends_on"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_services_run_in_private_app_subnets_with_the_app_sg_and_no_public_ip(
    synthesized: dict[str, Json], env: str
) -> None:
    document = synthesized[env]
    private_app = sorted(
        f"${{aws_subnet.{k}.id}}"
        for k, v in resources(document, "aws_subnet").items()
        if v["tags"]["tier"] == "private-app"
    )
    app_sg = next(
        k for k, v in resources(document, "aws_security_group").items() if v["name"].endswith(("-app", "-shared"))
    )
    for service in resources(document, "aws_ecs_service").values():
        network = service["network_configuration"]
        assert sorted(network["subnets"]) == private_app
        assert network["security_groups"] == [f"${{aws_security_group.{app_sg}.id}}"]
        assert network["assign_public_ip"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_task_images_come_from_the_services_own_repository(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    for name, config in environments[env].services.items():
        repository = next(k for k, v in resources(document, "aws_ecr_repository").items() if v["name"].endswith(name))
        [task] = [
            t
            for t in resources(document, "aws_ecs_task_definition").values()
            if json.loads(t["container_definitions"])[0]["name"] == name
        ]
        image = json.loads(task["container_definitions"])[0]["image"]
        expected_tag = config.task.image_tag or f"${{var.image_tag_{name.replace('-', '_')}}}"
        assert image == f"${{aws_ecr_repository.{repository}.repository_url}}:{expected_tag}"


def test_dev_takes_image_tags_from_terraform_variables(synthesized: dict[str, Json]) -> None:
    variables = synthesized["dev"]["variable"]
    assert set(variables) == {"image_tag_movie_service", "image_tag_customer_service"}
    assert "variable" not in synthesized["prod"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_outputs_name_repositories_cluster_and_services(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    outputs = synthesized[env]["output"]
    assert set(outputs["repository_urls"]["value"]) == set(environments[env].services)
    assert set(outputs["ecs_service_names"]["value"]) == set(environments[env].services)
    assert outputs["ecs_cluster_name"]["value"].startswith("${aws_ecs_cluster.")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_iam_statement_allows_everything(synthesized: dict[str, Json], env: str) -> None:
    for policy in resources(synthesized[env], "aws_iam_role_policy").values():
        for statement in json.loads(policy["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions
            assert not any(a.endswith(":*") for a in actions), actions


def test_prod_autoscales_every_service_and_dev_runs_a_fixed_single_task(synthesized: dict[str, Json]) -> None:
    targets = resources(synthesized["prod"], "aws_appautoscaling_target").values()
    assert sorted((t["min_capacity"], t["max_capacity"]) for t in targets) == [(3, 12), (3, 12)]
    assert resources(synthesized["dev"], "aws_appautoscaling_target") == {}
    assert {s["desired_count"] for s in resources(synthesized["dev"], "aws_ecs_service").values()} == {1}


def test_dev_allows_force_delete_of_repositories_and_prod_does_not(synthesized: dict[str, Json]) -> None:
    assert {r["force_delete"] for r in resources(synthesized["dev"], "aws_ecr_repository").values()} == {True}
    assert {r.get("force_delete", False) for r in resources(synthesized["prod"], "aws_ecr_repository").values()} == {
        False
    }
