"""The environment's customer-managed KMS key: [encryption] loads or fails (tier 1), the construct
(tier 2) and its use in every stack (tier 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import App

from config import parse_environment
from config.kms import EncryptionConfig
from modules import PlatformKey
from modules.block import Naming
from stacks import PlatformStack
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, ref, resources, synth_construct, synth_stack

NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")


def synth_key(
    settings: EncryptionConfig | None = None,
    *,
    cloudfront_reads: bool = False,
    replica_regions: list[str] | None = None,
) -> tuple[Json, PlatformKey]:
    built: list[PlatformKey] = []
    document = synth_construct(
        lambda stack: built.append(
            PlatformKey(
                stack,
                "kms",
                settings=settings or EncryptionConfig(),
                naming=NAMING,
                cloudfront_reads=cloudfront_reads,
                replica_regions=replica_regions or [],
            )
        )
    )
    return document, built[0]


def statements(policy: str) -> dict[str, Json]:
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


@pytest.fixture(scope="module")
def plain() -> Json:
    return synth_key()[0]


@pytest.fixture(scope="module")
def edge() -> Json:
    return synth_key(EncryptionConfig(deletion_window_days=7), cloudfront_reads=True, replica_regions=["us-east-1"])[0]


# --- the construct ---------------------------------------------------------------------------


def test_key_is_rotated_multi_region_and_aliased_after_the_environment(plain: Json) -> None:
    key = only(plain, "aws_kms_key")
    alias = only(plain, "aws_kms_alias")

    assert (key["enable_key_rotation"], key["multi_region"], key["deletion_window_in_days"]) == (True, True, 30)
    assert alias["name"] == "alias/netflux-unit"
    assert alias["target_key_id"] == ref(plain, "aws_kms_key", key, "key_id")
    assert not resources(plain, "aws_kms_replica_key")


def test_policy_delegates_to_iam_and_lets_only_this_regions_logs_use_it(plain: Json) -> None:
    found = statements(only(plain, "aws_kms_key")["policy"])

    assert set(found) == {"AccountAdministersKey", "CloudWatchLogsEncryptLogGroups"}
    assert found["AccountAdministersKey"]["Principal"]["AWS"].endswith(":root")
    logs = found["CloudWatchLogsEncryptLogGroups"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert "kms:*" not in logs["Action"]
    assert "kms:Decrypt*" in logs["Action"]
    context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert context.startswith("arn:${data.aws_partition.")
    assert ":logs:eu-west-1:${data.aws_caller_identity." in context
    assert context.endswith(":log-group:*")
    # No service anywhere in the policy is unconditioned but the account itself.
    assert all("Condition" in s for sid, s in found.items() if sid != "AccountAdministersKey")


def test_cloudfront_may_only_decrypt_for_this_accounts_distributions(edge: Json) -> None:
    cloudfront = statements(only(edge, "aws_kms_key")["policy"])["CloudFrontReadsThroughOac"]

    assert cloudfront["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert cloudfront["Action"] == ["kms:Decrypt"]
    source = cloudfront["Condition"]["StringLike"]["AWS:SourceArn"]
    assert ":cloudfront::${data.aws_caller_identity." in source
    assert source.endswith(":distribution/*")


def test_replica_in_us_east_1_has_its_own_alias_and_a_policy_for_logs_there(edge: Json) -> None:
    key = only(edge, "aws_kms_key")
    replica = only(edge, "aws_kms_replica_key")
    found = statements(replica["policy"])

    assert replica["primary_key_arn"] == ref(edge, "aws_kms_key", key, "arn")
    [aliased] = [p for p in edge["provider"]["aws"] if p.get("alias")]
    assert (aliased["region"], replica["provider"]) == ("us-east-1", f"aws.{aliased['alias']}")
    assert replica["deletion_window_in_days"] == 7
    assert found["CloudWatchLogsEncryptLogGroups"]["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert "CloudFrontReadsThroughOac" not in found
    [replica_alias] = [a for a in resources(edge, "aws_kms_alias").values() if a.get("provider") == replica["provider"]]
    assert replica_alias["name"] == "alias/netflux-unit"


def test_arn_in_a_region_is_the_primary_at_home_and_the_replica_elsewhere() -> None:
    _, key = synth_key(replica_regions=["us-east-1"])

    assert key.arn_in("eu-west-1") == key.arn
    assert key.arn_in("us-east-1") == key.replica_arns["us-east-1"] != key.arn
    with pytest.raises(ValueError, match="no replica in ap-southeast-2"):
        key.arn_in("ap-southeast-2")


def test_the_keys_own_region_gets_no_replica() -> None:
    document, key = synth_key(replica_regions=["eu-west-1"])

    assert not resources(document, "aws_kms_replica_key")
    assert key.replica_arns == {}
    assert key.arn_in("eu-west-1") == key.arn


# --- [encryption] loads or fails -------------------------------------------------------------


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


def test_encryption_defaults_to_a_customer_managed_key_with_a_30_day_window(dev: Data) -> None:
    dev.pop("encryption", None)
    config = parse(dev)

    assert (config.encryption.customer_managed_key, config.encryption.deletion_window_days) == (True, 30)


@pytest.mark.parametrize("days", [6, 31])
def test_fails_when_the_key_deletion_window_is_outside_7_to_30_days(dev: Data, days: int) -> None:
    dev["encryption"] = {"deletion_window_days": days}
    fails(dev, rf"encryption\.deletion_window_days = {days}: must be between 7 and 30, got {days}")


# --- in every stack ----------------------------------------------------------------------------


def synth_environment(data: dict[str, Any]) -> Json:
    config = parse_environment(data, source="environments/dev.toml", expected_name="dev")
    return synth_stack(PlatformStack(App(), config, backend="local"))


def platform_key(document: Json) -> tuple[str, str | None]:
    """References to the environment key's ARN and to its us-east-1 replica's (None without one)."""
    [key_id] = [k for k in resources(document, "aws_kms_key") if k.startswith("kms_")]
    replicas = list(resources(document, "aws_kms_replica_key"))
    return f"${{aws_kms_key.{key_id}.arn}}", f"${{aws_kms_replica_key.{replicas[0]}.arn}}" if replicas else None


@pytest.fixture(scope="module")
def all_stacks(synthesized: dict[str, Json], synthesized_examples: dict[str, Json]) -> dict[str, Json]:
    return {**synthesized, **synthesized_examples}


def test_every_log_group_is_encrypted_with_the_environment_key_in_its_region(all_stacks: dict[str, Json]) -> None:
    for env, document in all_stacks.items():
        key, replica = platform_key(document)
        for name, group in resources(document, "aws_cloudwatch_log_group").items():
            expected = replica if group.get("provider") == "aws.us-east-1" else key
            assert group["kms_key_id"] == expected, (env, name)


def test_a_replica_exists_only_where_the_cloudfront_acl_logs_in_us_east_1(all_stacks: dict[str, Json]) -> None:
    replicas = {env: len(resources(document, "aws_kms_replica_key")) for env, document in all_stacks.items()}

    assert replicas == {"dev": 0, "staging": 1, "prod": 1, "beanstalk": 1}  # dev turns WAF off


def test_secrets_insights_cache_images_and_site_use_the_key_but_database_storage_does_not(
    synthesized: dict[str, Json],
) -> None:
    document = synthesized["prod"]
    key, _ = platform_key(document)
    instances = resources(document, "aws_db_instance").values()

    assert all(i["performance_insights_kms_key_id"] == key for i in instances)
    assert all("kms_key_id" not in i for i in instances)  # storage keeps aws/rds: a new key replaces it
    [primary] = [i for i in instances if "replicate_source_db" not in i]
    assert primary["master_user_secret_kms_key_id"] == key
    assert only(document, "aws_elasticache_replication_group")["kms_key_id"] == key
    assert only(document, "aws_secretsmanager_secret")["kms_key_id"] == key
    assert {
        r["encryption_configuration"][0]["kms_key"] for r in resources(document, "aws_ecr_repository").values()
    } == {key}
    [site] = [
        c
        for k, c in resources(document, "aws_s3_bucket_server_side_encryption_configuration").items()
        if k.startswith("frontend_site")
    ]
    assert site["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"] == key


def test_services_that_read_the_cache_token_may_decrypt_it(synthesized: dict[str, Json]) -> None:
    document = synthesized["prod"]
    key, _ = platform_key(document)
    [policy] = [
        p for k, p in resources(document, "aws_iam_role_policy").items() if k.startswith("service-movie-service_exec")
    ]

    assert {
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [key],
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
    } in json.loads(policy["policy"])["Statement"]


@pytest.mark.stack  # synthesizes a whole environment
def test_explicit_key_arns_win_over_the_environment_key(env_data: dict[str, Json]) -> None:
    own = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
    data = env_data["dev"]
    data["cache"]["kms_key_arn"] = own
    data["compute"]["ecr"]["kms_key_arn"] = own
    document = synth_environment(data)

    assert only(document, "aws_elasticache_replication_group")["kms_key_id"] == own
    assert {
        r["encryption_configuration"][0]["kms_key"] for r in resources(document, "aws_ecr_repository").values()
    } == {own}


@pytest.mark.stack  # synthesizes a whole environment
def test_aws_managed_keys_when_the_customer_managed_key_is_off(env_data: dict[str, Json]) -> None:
    data = env_data["dev"]
    data["encryption"] = {"customer_managed_key": False}
    data["compute"].pop("exec")  # ECS Exec sessions need the environment's own key
    document = synth_environment(data)

    assert [k for k in resources(document, "aws_kms_key") if k.startswith("kms_")] == []
    assert all("kms_key_id" not in g for g in resources(document, "aws_cloudwatch_log_group").values())
    # encryption = "KMS" without a customer key: the AWS-managed aws/ecr key.
    assert {json.dumps(r["encryption_configuration"]) for r in resources(document, "aws_ecr_repository").values()} == {
        json.dumps([{"encryption_type": "KMS"}])
    }
    assert "kms_key_id" not in only(document, "aws_secretsmanager_secret")
