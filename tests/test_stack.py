"""The AWS provider and the state backend: [backend] and [tags] load or fail (tier 1), the provider and
backend constructs (tier 2), and every synthesized stack's provider, backend and portability (tier 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import App, TerraformStack

from config import EnvironmentConfig, parse_environment
from config.backends import S3BackendConfig
from modules import AwsProviders, state_backend
from modules.block import Naming
from stacks import PlatformStack
from tests.config_check import Data, fails, parse
from tests.synth import Json, synth_stack

pytestmark = pytest.mark.stack  # synthesizes whole environments
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
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
def test_synthesized_json_has_no_machine_specific_paths(synthesized: dict[str, Json], env: str) -> None:
    text = json.dumps(synthesized[env])
    for marker in ("/tmp/", "/work/", "/home/", "/root/", "site-packages"):
        assert marker not in text


# --- the constructs --------------------------------------------------------------------------


def synth_backend(settings: Any) -> Json:
    stack = TerraformStack(App(), "test")
    AwsProviders(stack, naming=NAMING)
    state_backend(stack, settings=settings, naming=NAMING)
    return synth_stack(stack)


def test_dynamodb_locking_names_the_table_and_no_lockfile() -> None:
    settings = S3BackendConfig(type="s3", bucket="state-bucket", locking="dynamodb", dynamodb_table="locks")
    s3 = synth_backend(settings)["terraform"]["backend"]["s3"]
    assert (s3["dynamodb_table"], s3["region"]) == ("locks", "eu-west-1")
    assert "use_lockfile" not in s3


def test_s3_state_can_live_in_another_region_with_its_own_key() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-1111-4222-8333-444455556666"
    settings = S3BackendConfig(type="s3", bucket="state-bucket", region="us-east-1", kms_key_id=key)
    s3 = synth_backend(settings)["terraform"]["backend"]["s3"]
    assert (s3["region"], s3["kms_key_id"], s3["key"]) == ("us-east-1", key, "netflux/unit/terraform.tfstate")


def test_providers_in_other_regions_are_aliased_and_tagged_alike() -> None:
    stack = TerraformStack(App(), "test")
    providers = AwsProviders(stack, naming=NAMING, tags={"owner": "platform"}, version="5.100.0")
    assert providers.in_region("eu-west-1") is None
    assert providers.in_region("us-east-1") is providers.in_region("us-east-1")
    assert providers.proxy_default_auth_scheme is False
    document = synth_stack(stack)
    [default, aliased] = document["provider"]["aws"]
    assert (aliased["alias"], aliased["region"]) == ("us-east-1", "us-east-1")
    assert aliased["default_tags"] == default["default_tags"]
    assert default["default_tags"][0]["tags"] == {
        "owner": "platform",
        "project": "netflux",
        "environment": "unit",
        "managed-by": "cdktf",
    }
    assert document["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"


# --- [backend] and [tags] load or fail --------------------------------------------------------


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


def test_fails_when_a_reserved_tag_is_overridden(dev: Data) -> None:
    dev["tags"]["managed-by"] = "terraform"
    fails(
        dev, r"tags\.managed-by = 'terraform': is set by the platform \(project, environment, managed-by\); remove it"
    )


def test_fails_when_backend_type_is_unknown(dev: Data) -> None:
    dev["backend"] = {"type": "gcs"}
    fails(dev, r"backend = \{'type': 'gcs'\}: unknown type; allowed: 'local', 's3', 'cloud'")


def test_fails_when_s3_backend_key_is_unknown(dev: Data) -> None:
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "key": "custom"}
    fails(
        dev,
        r"backend\.key = 'custom': unknown key; allowed keys here: type, bucket, region, locking, dynamodb_table, kms_key_id, assume_role",
    )


def test_fails_when_dynamodb_locking_has_no_table(dev: Data) -> None:
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "locking": "dynamodb"}
    fails(dev, r"backend\.dynamodb_table = None: is required when locking = 'dynamodb'")


def test_fails_when_a_lock_table_is_given_without_dynamodb_locking(dev: Data) -> None:
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "dynamodb_table": "locks"}
    fails(dev, r"backend\.dynamodb_table = 'locks': is only used when locking = 'dynamodb'; .*")


def test_fails_when_state_bucket_name_is_invalid(dev: Data) -> None:
    dev["backend"] = {"type": "s3", "bucket": "State_Bucket"}
    fails(dev, r"backend\.bucket = 'State_Bucket': must be a valid S3 bucket name: 3-63 lowercase letters, .*")


def test_fails_when_the_state_bucket_region_is_not_a_region(dev: Data) -> None:
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "region": "europe"}
    fails(dev, r"backend\.region = 'europe': must be an AWS region such as .*")


def test_dynamodb_locking_loads_with_a_deprecation_warning(dev: Data) -> None:
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "locking": "dynamodb", "dynamodb_table": "locks"}
    backend = parse(dev).backend
    assert isinstance(backend, S3BackendConfig)
    assert [warning.split(" is ")[0] for warning in backend.warnings] == ["backend.locking = 'dynamodb'"]
