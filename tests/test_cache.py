"""The cache block: [cache] errors, the Cache construct's JSON, and each environment's cache."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from cdktf import TerraformOutput, TerraformStack, Token

from config.cache import CacheConfig
from config.schema import ENVIRONMENT_MAX, PROJECT_MAX
from modules import Cache
from modules.block import Alarm, AlarmPolicy, Naming, Signal
from modules.cache import REPLICATION_GROUP_ID_MAX
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, ref, resources, synth_construct
from tools.secret_scan import scan_document

ENVS = ("dev", "staging", "prod")
REQUIRED: Data = {"engine": "valkey", "engine_version": "8.0", "node_type": "cache.t4g.micro"}
DATA_SUBNETS = ["subnet-data-a", "subnet-data-b"]
CACHE_SG = "sg-0cache"
CACHE_KEY = "arn:aws:kms:eu-west-1:123456789012:key/5a6b7c8d-1111-2222-3333-444455556666"
ENVIRONMENT_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
USERS = ["netflux-unit-movie-service", "netflux-unit-customer-service"]

# Stand-ins for the blocks the cache reads from (their public attributes only).
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
NETWORK = SimpleNamespace(private_data_subnet_ids=DATA_SUBNETS)
SECURITY_GROUPS = SimpleNamespace(cache_sg_id=CACHE_SG)
ENVIRONMENT_KEY_BLOCK = SimpleNamespace(arn=ENVIRONMENT_KEY)
UNIT: Data = {
    "engine": "valkey",
    "engine_version": "8.0",
    "node_type": "cache.r7g.large",
    "num_cache_clusters": 2,
    "snapshot_retention_days": 5,
    "snapshot_window": "01:00-02:00",
    "maintenance_window": "sun:05:00-sun:06:00",
    "log_retention_days": 30,
}


def with_cache(env_data: dict[str, Data], **cache: Any) -> Data:
    """The dev file with exactly this [cache] (plus its required fields) and no service using it."""
    data = env_data["dev"]
    data["cache"] = {**REQUIRED, **cache}
    for service in data["services"].values():
        service.pop("data_access", None)
    return data


def settings(**overrides: Any) -> CacheConfig:
    """The unit cache's settings, validated as an environment file's would be."""
    return CacheConfig.model_validate({**UNIT, **overrides})


def build_cache(stack: TerraformStack, cache: CacheConfig, *, key: Any = None, naming: Naming = NAMING) -> Cache:
    """The unit cache in ``stack``; with IAM auth, USERS are its service users."""
    return Cache(
        stack,
        "cache",
        settings=cache,
        naming=naming,
        network=NETWORK,
        security_groups=SECURITY_GROUPS,
        key=key,
        iam_user_names=USERS,
        secret_recovery_window_days=30,
    )


def synth_cache(cache: CacheConfig, *, user: str | None = None, key: Any = None, naming: Naming = NAMING) -> Json:
    """The cache plus outputs holding what its methods return for client ``user``."""

    def build(stack: TerraformStack) -> None:
        built = build_cache(stack, cache, key=key, naming=naming)
        outputs: dict[str, Any] = {
            "environment": built.connection_environment(user),
            "secrets": built.connection_secrets(),
            "secret_statements": built.secret_read_statements(),
        }
        if user is not None:
            outputs["connect"] = built.connect_statement(user)
        for name, value in outputs.items():
            TerraformOutput(stack, name, value=value)

    return synth_construct(build)


def output(document: Json, name: str) -> Any:
    return document["output"][name]["value"]


@pytest.fixture(scope="module")
def token_cache() -> Json:
    return synth_cache(settings())


@pytest.fixture(scope="module")
def iam_cache() -> Json:
    return synth_cache(settings(auth="iam"), user="netflux-unit-movie-service")


# --- settings ----------------------------------------------------------------------------------


def test_no_table_means_no_cache(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data.pop("cache")
    for service in data["services"].values():
        service.pop("data_access", None)

    assert parse(data).cache is None


def test_cache_defaults_are_secure_and_highly_available(env_data: dict[str, Data]) -> None:
    cache = parse(with_cache(env_data)).cache

    assert cache is not None
    assert cache.num_cache_clusters == 2
    assert cache.highly_available
    assert cache.auth == "token"
    assert cache.snapshot_retention_days == 7


def test_single_node_cache_is_not_highly_available(env_data: dict[str, Data]) -> None:
    cache = parse(with_cache(env_data, num_cache_clusters=1)).cache

    assert cache is not None
    assert not cache.highly_available


@pytest.mark.parametrize("value", ["t4g.micro", "cache.t4g", "db.t4g.micro", "cache.T4G.micro"])
def test_fails_when_cache_node_type_is_malformed(env_data: dict[str, Data], value: str) -> None:
    fails(
        with_cache(env_data, node_type=value),
        rf"cache\.node_type = '{value}': must be an ElastiCache node type cache\.<family>\.<size>, .*",
    )


@pytest.mark.parametrize(
    ("engine", "version", "message"),
    [
        ("redis", "8.0", r"is not an ElastiCache redis version; use one of 6\.2, 7\.0, 7\.1"),
        ("valkey", "7.1", r"is not an ElastiCache valkey version; use one of 7\.2, 8\.0, 8\.1"),
        ("valkey", "8", r"must be <major>\.<minor>, e\.g\. 8\.1"),
    ],
)
def test_fails_when_cache_version_does_not_exist(
    env_data: dict[str, Data], engine: str, version: str, message: str
) -> None:
    fails(
        with_cache(env_data, engine=engine, engine_version=version), rf"cache\.engine_version = '{version}': {message}"
    )


def test_fails_when_cache_engine_is_unknown(env_data: dict[str, Data]) -> None:
    fails(with_cache(env_data, engine="memcached"), r"cache\.engine = 'memcached': .*")


@pytest.mark.parametrize("value", [0, 7])
def test_fails_when_cache_node_count_is_out_of_range(env_data: dict[str, Data], value: int) -> None:
    fails(
        with_cache(env_data, num_cache_clusters=value),
        rf"cache\.num_cache_clusters = {value}: must be between 1 and 6, got {value}",
    )


def test_fails_when_iam_auth_needs_a_newer_redis(env_data: dict[str, Data]) -> None:
    fails(
        with_cache(env_data, engine="redis", engine_version="6.2", auth="iam"),
        r"cache\.auth = 'iam': IAM authentication needs redis 7\.0 or 7\.1; upgrade engine_version or use auth = 'token'",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("snapshot_window", "03:00-03:30", "must be at least 60 minutes long, got 30"),
        ("maintenance_window", "sun:05:00-sun:05:30", "must be at least 60 minutes long, got 30"),
        ("log_retention_days", 10, "must be one of CloudWatch's retention periods: .*"),
        ("snapshot_retention_days", 36, "must be between 0 and 35, got 36"),
    ],
)
def test_fails_when_cache_operations_settings_are_invalid(
    env_data: dict[str, Data], field: str, value: Any, message: str
) -> None:
    fails(with_cache(env_data, **{field: value}), rf"cache\.{field} = {re.escape(repr(value))}: {message}")


def test_fails_when_cache_maintenance_overlaps_snapshots(env_data: dict[str, Data]) -> None:
    fails(
        with_cache(env_data, snapshot_window="04:00-05:00", maintenance_window="wed:04:30-wed:05:30"),
        r"cache\.maintenance_window = 'wed:04:30-wed:05:30': overlaps snapshot_window 04:00-05:00; "
        r"ElastiCache needs them apart",
    )


@pytest.mark.parametrize(
    ("alarms", "message"),
    [
        ({"cpu_percent": 0}, "must be between 1 and 100 %, got 0"),
        ({"memory_percent": 120}, "must be between 1 and 100 %, got 120"),
        ({"evictions": -1}, "must be between 0 and 1000000, got -1"),
    ],
)
def test_fails_when_an_alarm_threshold_is_out_of_range(
    env_data: dict[str, Data], alarms: dict[str, int], message: str
) -> None:
    ((field, value),) = alarms.items()
    fails(with_cache(env_data, alarms=alarms), rf"cache\.alarms\.{field} = {value}: {message}")


# --- construct ---------------------------------------------------------------------------------


def test_cache_is_encrypted_and_in_the_given_group(token_cache: Json) -> None:
    group = only(token_cache, "aws_elasticache_replication_group")
    subnet_group = only(token_cache, "aws_elasticache_subnet_group")

    assert group["replication_group_id"] == "netflux-unit-cache"
    assert group["security_group_ids"] == [CACHE_SG]
    assert subnet_group["subnet_ids"] == DATA_SUBNETS
    assert group["subnet_group_name"] == ref(token_cache, "aws_elasticache_subnet_group", subnet_group, "name")
    assert group["at_rest_encryption_enabled"] == "true"
    assert (group["transit_encryption_enabled"], group["transit_encryption_mode"]) == (True, "required")
    assert (group["engine"], group["engine_version"], group["node_type"]) == ("valkey", "8.0", "cache.r7g.large")
    assert group["parameter_group_name"] == "default.valkey8"
    assert group["port"] == 6379


def test_longest_project_and_environment_still_fit_the_replication_group_id() -> None:
    naming = Naming(project="p" * PROJECT_MAX, environment="e" * ENVIRONMENT_MAX, region="eu-west-1")
    group = only(synth_cache(settings(), naming=naming), "aws_elasticache_replication_group")

    assert group["replication_group_id"] == f"{naming.prefix}-cache"
    assert len(group["replication_group_id"]) <= REPLICATION_GROUP_ID_MAX


def test_cache_with_replicas_is_multi_az_with_failover(token_cache: Json) -> None:
    group = only(token_cache, "aws_elasticache_replication_group")

    assert group["num_cache_clusters"] == 2
    assert (group["multi_az_enabled"], group["automatic_failover_enabled"]) == (True, True)
    assert (group["snapshot_retention_limit"], group["snapshot_window"]) == (5, "01:00-02:00")
    assert group["maintenance_window"] == "sun:05:00-sun:06:00"
    assert group["final_snapshot_identifier"] == 'netflux-unit-cache-final-${formatdate("YYYYMMDDhhmmss", timestamp())}'


def test_single_node_cache_has_no_failover_and_no_snapshots_when_off() -> None:
    document = synth_cache(settings(num_cache_clusters=1, snapshot_retention_days=0, snapshot_window=None))
    group = only(document, "aws_elasticache_replication_group")

    assert (group["multi_az_enabled"], group["automatic_failover_enabled"]) == (False, False)
    assert group["snapshot_retention_limit"] == 0
    assert "final_snapshot_identifier" not in group
    assert group["at_rest_encryption_enabled"] == "true"


def test_cache_kms_key_encrypts_data_and_token(token_cache: Json) -> None:
    document = synth_cache(settings(kms_key_arn=CACHE_KEY), key=ENVIRONMENT_KEY_BLOCK)

    assert only(document, "aws_elasticache_replication_group")["kms_key_id"] == CACHE_KEY
    assert only(document, "aws_secretsmanager_secret")["kms_key_id"] == CACHE_KEY
    assert output(document, "secret_statements")[1] == {
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
        "Resource": [CACHE_KEY],
    }
    assert "kms_key_id" not in only(token_cache, "aws_elasticache_replication_group")


def test_environment_key_encrypts_what_has_no_key_of_its_own() -> None:
    document = synth_cache(settings(), key=ENVIRONMENT_KEY_BLOCK)

    assert only(document, "aws_elasticache_replication_group")["kms_key_id"] == ENVIRONMENT_KEY
    assert only(document, "aws_secretsmanager_secret")["kms_key_id"] == ENVIRONMENT_KEY
    assert only(document, "aws_cloudwatch_log_group")["kms_key_id"] == ENVIRONMENT_KEY


def test_slow_log_goes_to_a_log_group_the_cache_owns(token_cache: Json) -> None:
    log_group = only(token_cache, "aws_cloudwatch_log_group")
    (delivery,) = only(token_cache, "aws_elasticache_replication_group")["log_delivery_configuration"]

    assert log_group["name"] == "/aws/elasticache/netflux-unit-cache/slow-log"
    assert log_group["retention_in_days"] == 30
    assert delivery == {
        "destination": ref(token_cache, "aws_cloudwatch_log_group", log_group, "name"),
        "destination_type": "cloudwatch-logs",
        "log_format": "json",
        "log_type": "slow-log",
    }


def test_auth_token_is_generated_at_apply_time_and_stored_once(token_cache: Json) -> None:
    data = token_cache["data"]["aws_secretsmanager_random_password"]
    ((data_id, generator),) = data.items()
    secret = only(token_cache, "aws_secretsmanager_secret")
    version = only(token_cache, "aws_secretsmanager_secret_version")
    group = only(token_cache, "aws_elasticache_replication_group")

    assert generator == {"password_length": 64, "exclude_punctuation": True, "include_space": False}
    assert secret["recovery_window_in_days"] == 30
    assert version["secret_string"] == f"${{data.aws_secretsmanager_random_password.{data_id}.random_password}}"
    assert version["secret_id"] == ref(token_cache, "aws_secretsmanager_secret", secret)
    assert version["lifecycle"] == {"ignore_changes": ["secret_string"]}
    assert group["auth_token"] == ref(token_cache, "aws_secretsmanager_secret_version", version, "secret_string")
    assert "user_group_ids" not in group
    assert not resources(token_cache, "aws_elasticache_user")


def test_token_clients_get_tls_settings_and_the_token_as_a_secret(token_cache: Json) -> None:
    secret = only(token_cache, "aws_secretsmanager_secret")
    arn = ref(token_cache, "aws_secretsmanager_secret", secret, "arn")

    assert output(token_cache, "environment") == {
        "REDIS_HOST": "${aws_elasticache_replication_group.cache_replication-group_FA5C54CF.primary_endpoint_address}",
        "REDIS_PORT": "6379",
        "REDIS_TLS": "true",
    }
    assert output(token_cache, "secrets") == {"REDIS_AUTH_TOKEN": arn}
    assert output(token_cache, "secret_statements") == [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [arn]}
    ]


def test_iam_auth_uses_an_rbac_group_of_iam_users_and_no_secret(iam_cache: Json) -> None:
    users = resources(iam_cache, "aws_elasticache_user")
    group = only(iam_cache, "aws_elasticache_user_group")
    replication_group = only(iam_cache, "aws_elasticache_replication_group")

    default = [u for u in users.values() if u["user_name"] == "default"]
    service_users = [u for u in users.values() if u["user_name"] != "default"]
    assert len(default) == 1
    assert default[0]["access_string"].startswith("off ")
    assert sorted(u["user_name"] for u in service_users) == sorted(USERS)
    for user in service_users:
        assert user["user_id"] == user["user_name"]  # IAM auth requires it
        assert user["authentication_mode"] == {"type": "iam"}
        assert user["engine"] == "valkey"
        assert "-@dangerous" in user["access_string"]
    assert len(group["user_ids"]) == 3
    assert replication_group["user_group_ids"] == [ref(iam_cache, "aws_elasticache_user_group", group, "user_group_id")]
    assert "auth_token" not in replication_group
    assert not resources(iam_cache, "aws_secretsmanager_secret")
    assert "aws_secretsmanager_random_password" not in iam_cache.get("data", {})


def test_iam_clients_may_connect_as_exactly_their_user(iam_cache: Json) -> None:
    (movie,) = [
        u for u in resources(iam_cache, "aws_elasticache_user").values() if u["user_name"].endswith("movie-service")
    ]
    group = only(iam_cache, "aws_elasticache_replication_group")

    assert output(iam_cache, "connect") == {
        "Effect": "Allow",
        "Action": ["elasticache:Connect"],
        "Resource": [
            ref(iam_cache, "aws_elasticache_replication_group", group, "arn"),
            ref(iam_cache, "aws_elasticache_user", movie, "arn"),
        ],
    }
    environment = output(iam_cache, "environment")
    assert (environment["REDIS_USER"], environment["REDIS_AUTH_MODE"]) == ("netflux-unit-movie-service", "iam")
    assert output(iam_cache, "secrets") == {}
    assert output(iam_cache, "secret_statements") == []


def test_fails_when_a_client_asks_to_connect_as_an_unknown_user() -> None:
    with pytest.raises(ValueError, match="is not an IAM user of this cache"):
        synth_cache(settings(auth="iam"), user="netflux-unit-stranger")


def test_no_literal_token_is_synthesized(token_cache: Json, iam_cache: Json) -> None:
    for document in (token_cache, iam_cache):
        assert list(scan_document(document)) == []


def test_every_node_gets_alarms_with_the_thresholds_of_the_settings() -> None:
    found: dict[str, Alarm] = {}

    def build(stack: TerraformStack) -> None:
        cache = build_cache(stack, settings(num_cache_clusters=3, alarms={"cpu_percent": 60, "evictions": 5}))
        found.update({a.construct_id: a for a in cache.alarms(AlarmPolicy(period_seconds=300, evaluation_periods=2))})

    synth_construct(build)

    nodes = (1, 2, 3)
    assert set(found) == {f"redis-{metric}-{node:03d}" for metric in ("cpu", "memory", "evictions") for node in nodes}
    assert (found["redis-cpu-002"].threshold, found["redis-memory-002"].threshold) == (60, 80)
    assert (found["redis-evictions-003"].threshold, found["redis-evictions-003"].signal) == (5, Signal.SPARSE)
    # The group id by reference, so the alarms wait for the group; ElastiCache names its nodes <id>-001, ...
    node = found["redis-cpu-002"].dimensions["CacheClusterId"]
    assert Token.is_unresolved(node)
    assert node.endswith("-002")


# --- per environment ---------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_every_environment_has_a_private_encrypted_cache(synthesized: dict[str, Json], env: str) -> None:
    cache = only(synthesized[env], "aws_elasticache_replication_group")

    assert cache["at_rest_encryption_enabled"] == "true"
    assert cache["transit_encryption_mode"] == "required"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_shared_environments_keep_the_cache_highly_available(synthesized: dict[str, Json], env: str) -> None:
    cache = only(synthesized[env], "aws_elasticache_replication_group")

    assert (cache["multi_az_enabled"], cache["automatic_failover_enabled"]) == (True, True)


def test_only_dev_runs_a_single_cache_node(synthesized: dict[str, Json]) -> None:
    cache = only(synthesized["dev"], "aws_elasticache_replication_group")

    assert (cache["num_cache_clusters"], cache["multi_az_enabled"]) == (1, False)


@pytest.mark.parametrize("env", ENVS)
def test_cache_outputs_name_the_endpoint_and_the_token_secret_arn_only(synthesized: dict[str, Json], env: str) -> None:
    outputs = synthesized[env]["output"]

    assert "cache_primary_endpoint" in outputs
    assert "cache_port" in outputs
    assert outputs["cache_auth_token_secret_arn"]["value"].endswith(".arn}")
