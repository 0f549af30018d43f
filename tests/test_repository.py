"""The image repositories (``[compute.ecr]``): config errors, the construct's JSON, and every environment."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, parse_environment
from config.repository import RepositoryConfig
from modules import Repository
from modules.block import Naming
from tests.synth import Json, only, ref, resources, synth_construct

Data = dict[str, Any]
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
ENVIRONMENT_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-1111-2222-3333-444455556666"
ENVIRONMENTS = ["dev", "staging", "prod"]


def with_ecr(env_data: dict[str, Data], ecr: Data) -> Data:
    data = env_data["dev"]
    data["compute"] = {"ecr": ecr}
    return data


def fails(data: Data, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_environment(data, source="environments/dev.toml", expected_name="dev")


# --- config ------------------------------------------------------------------------------------


def test_defaults_keep_images_and_use_ecr_managed_encryption(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data.pop("compute", None)

    ecr = parse_environment(data, source="environments/dev.toml").compute.ecr

    assert (ecr.untagged_expiry_days, ecr.keep_tagged_images) == (7, 50)
    assert ecr.force_delete is False
    assert ecr.kms_key_arn is None
    assert ecr.encryption == "AES256"  # a schema default; every environment file picks KMS


def test_fails_when_ecr_kms_key_is_not_a_key_arn(env_data: dict[str, Data]) -> None:
    fails(
        with_ecr(env_data, {"encryption": "KMS", "kms_key_arn": "alias/ecr"}),
        r"compute\.ecr\.kms_key_arn = 'alias/ecr': must be a KMS key ARN",
    )


def test_ecr_kms_key_is_accepted_with_kms_encryption(env_data: dict[str, Data]) -> None:
    config = parse_environment(with_ecr(env_data, {"encryption": "KMS", "kms_key_arn": KMS_KEY}), source="dev.toml")

    assert (config.compute.ecr.encryption, config.compute.ecr.kms_key_arn) == ("KMS", KMS_KEY)


def test_fails_when_ecr_kms_key_is_given_with_aes256_encryption(env_data: dict[str, Data]) -> None:
    fails(
        with_ecr(env_data, {"kms_key_arn": KMS_KEY}),
        r"compute\.ecr\.kms_key_arn = .*: is only used with encryption = 'KMS'",
    )


def test_fails_when_ecr_encryption_is_unknown(env_data: dict[str, Data]) -> None:
    fails(with_ecr(env_data, {"encryption": "SSE"}), r"compute\.ecr\.encryption = 'SSE'")


@pytest.mark.parametrize("field", ["keep_tagged_images", "untagged_expiry_days"])
def test_fails_when_lifecycle_would_keep_no_images(env_data: dict[str, Data], field: str) -> None:
    fails(with_ecr(env_data, {field: 0}), rf"compute\.ecr\.{field} = 0: must be between 1 and")


# --- construct ---------------------------------------------------------------------------------


def repository(settings: Data, *, key: str | None = None) -> Json:
    """GIVEN [compute.ecr] ``settings`` (and the environment's key) WHEN one repository is synthesized."""
    ecr = RepositoryConfig.model_validate(settings)
    environment_key = SimpleNamespace(arn=key) if key else None
    return synth_construct(
        lambda stack: Repository(
            stack, "repository-movie-service", settings=ecr, naming=NAMING, image="movie-service", key=environment_key
        )
    )


def test_repository_is_immutable_scanned_and_aes256_encrypted_by_default() -> None:
    found = only(repository({}, key=ENVIRONMENT_KEY), "aws_ecr_repository")

    assert found["name"] == "netflux-unit-movie-service"
    assert found["image_tag_mutability"] == "IMMUTABLE"
    assert found["image_scanning_configuration"] == {"scan_on_push": True}
    assert found["encryption_configuration"] == [{"encryption_type": "AES256"}]
    assert found["force_delete"] is False


def test_repository_uses_the_configured_kms_key_and_force_delete_when_asked() -> None:
    document = repository({"encryption": "KMS", "kms_key_arn": KMS_KEY, "force_delete": True}, key=ENVIRONMENT_KEY)

    found = only(document, "aws_ecr_repository")
    assert found["encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": KMS_KEY}]
    assert found["force_delete"] is True


def test_repository_kms_without_a_key_of_its_own_uses_the_environments_key() -> None:
    document = repository({"encryption": "KMS"}, key=ENVIRONMENT_KEY)

    assert only(document, "aws_ecr_repository")["encryption_configuration"] == [
        {"encryption_type": "KMS", "kms_key": ENVIRONMENT_KEY}
    ]


def test_repository_kms_without_any_key_uses_the_aws_managed_ecr_key() -> None:
    document = repository({"encryption": "KMS"})

    assert only(document, "aws_ecr_repository")["encryption_configuration"] == [{"encryption_type": "KMS"}]


def test_lifecycle_policy_expires_untagged_by_age_and_keeps_the_newest_tagged() -> None:
    document = repository({"untagged_expiry_days": 3, "keep_tagged_images": 20})

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


# --- every environment -------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_repository_per_service_listed_in_the_outputs(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    declared = set(environments[env].services)

    assert {r["name"] for r in resources(document, "aws_ecr_repository").values()} == {
        f"{environments[env].stack_name}-{name}" for name in declared
    }
    assert set(document["output"]["repository_urls"]["value"]) == declared


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_encrypts_images_with_its_own_key(synthesized: dict[str, Json], env: str) -> None:
    for found in resources(synthesized[env], "aws_ecr_repository").values():
        [encryption] = found["encryption_configuration"]
        assert encryption["encryption_type"] == "KMS"
        assert encryption["kms_key"].startswith("${aws_kms_key.")


def test_dev_allows_force_delete_of_repositories_and_prod_does_not(synthesized: dict[str, Json]) -> None:
    assert {r["force_delete"] for r in resources(synthesized["dev"], "aws_ecr_repository").values()} == {True}
    assert {r.get("force_delete", False) for r in resources(synthesized["prod"], "aws_ecr_repository").values()} == {
        False
    }
