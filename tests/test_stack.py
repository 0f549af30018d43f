"""Tier 3: per-environment gates on the synthesized stacks (tags, backends, outputs, network shape)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import App

from config import EnvironmentConfig, parse_environment
from stacks import PlatformStack
from tests.synth import Json, resources, synth_stack

ENVIRONMENTS = ["dev", "staging", "prod"]


def synth_config(data: dict[str, Any], *, backend: str = "configured") -> Json:
    config = parse_environment(data, source="test.toml")
    return synth_stack(PlatformStack(App(), config, backend=backend))  # type: ignore[arg-type]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_tags_every_resource_with_project_environment_and_managed_by(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    providers = synthesized[env]["provider"]["aws"]
    [provider] = [p for p in providers if "alias" not in p]
    tags = provider["default_tags"][0]["tags"]
    config = environments[env]
    assert provider["region"] == config.region
    assert tags == {**config.tags, "project": config.project, "environment": env, "managed-by": "cdktf"}
    # A provider aliased to another region (us-east-1 for CloudFront's WAF) tags the same way.
    assert all(p["default_tags"] == provider["default_tags"] for p in providers)


def test_dev_keeps_local_state_inside_the_project(synthesized: dict[str, Json]) -> None:
    backend = synthesized["dev"]["terraform"]["backend"]
    # Relative to cdktf.out/stacks/<stack>/, i.e. <project>/terraform.state/ (gitignored).
    assert backend == {"local": {"path": "../../../terraform.state/netflux-dev.tfstate"}}


def test_staging_uses_s3_with_native_lockfile(synthesized: dict[str, Json]) -> None:
    s3 = synthesized["staging"]["terraform"]["backend"]["s3"]
    assert s3["key"] == "netflux/staging/terraform.tfstate"
    assert s3["encrypt"] is True
    assert s3["use_lockfile"] is True
    assert "dynamodb_table" not in s3


def test_prod_uses_s3_with_native_lockfile(synthesized: dict[str, Json]) -> None:
    s3 = synthesized["prod"]["terraform"]["backend"]["s3"]
    assert s3["key"] == "netflux/prod/terraform.tfstate"
    assert s3["region"] == "eu-west-1"
    assert s3["use_lockfile"] is True
    assert "dynamodb_table" not in s3  # deprecated since Terraform 1.11


def test_local_override_replaces_a_shared_backend(env_data: dict[str, dict[str, Any]]) -> None:
    document = synth_config(env_data["staging"], backend="local")
    assert document["terraform"]["backend"] == {"local": {"path": "../../../terraform.state/netflux-staging.tfstate"}}


def test_cloud_backend_names_the_workspace_after_the_stack(env_data: dict[str, dict[str, Any]]) -> None:
    data = env_data["prod"]
    data["backend"] = {"type": "cloud", "organization": "netflux"}
    cloud = synth_config(data)["terraform"]["cloud"]
    assert cloud == {"hostname": "app.terraform.io", "organization": "netflux", "workspaces": {"name": "netflux-prod"}}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_outputs_expose_the_vpc_and_subnets_per_tier(synthesized: dict[str, Json], env: str) -> None:
    outputs = synthesized[env]["output"]
    vpc_id = next(iter(resources(synthesized[env], "aws_vpc")))
    assert outputs["vpc_id"]["value"] == f"${{aws_vpc.{vpc_id}.id}}"
    azs = len(synthesized[env]["resource"]["aws_subnet"]) // 3
    for tier in ("public", "private_app", "private_data"):
        assert len(outputs[f"{tier}_subnet_ids"]["value"]) == azs


@pytest.mark.parametrize(("env", "nats", "interface_endpoints"), [("dev", 1, 0), ("staging", 1, 4), ("prod", 3, 4)])
def test_environment_network_shape(synthesized: dict[str, Json], env: str, nats: int, interface_endpoints: int) -> None:
    document = synthesized[env]
    assert len(resources(document, "aws_nat_gateway")) == nats
    endpoints = resources(document, "aws_vpc_endpoint").values()
    assert sum(e["vpc_endpoint_type"] == "Interface" for e in endpoints) == interface_endpoints
    assert sum(e["vpc_endpoint_type"] == "Gateway" for e in endpoints) == 1
    assert len(resources(document, "aws_flow_log")) == 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_synthesized_json_has_no_machine_specific_paths(synthesized: dict[str, Json], env: str) -> None:
    text = json.dumps(synthesized[env])
    for marker in ("/tmp/", "/work/", "/home/", "/root/", "site-packages"):
        assert marker not in text
