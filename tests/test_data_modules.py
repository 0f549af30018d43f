"""Per-construct assertions for the database and cache modules, on synthesized JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy

from modules import Cache, CacheProps, Database, DatabaseProps
from modules.iam import policy_document, service_role
from tests.synth import Json, only, ref, resources, synth_construct
from tools.secret_scan import scan_document

DATA_SUBNETS = ["subnet-data-a", "subnet-data-b"]
APP_SUBNETS = ["subnet-app-a", "subnet-app-b"]
DB_SG = "sg-0database"
PROXY_SG = "sg-0proxy"
CACHE_SG = "sg-0cache"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
STORAGE_KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/5a6b7c8d-1111-2222-3333-444455556666"

DB = DatabaseProps(
    name="netflux-unit",
    region="eu-west-1",
    subnet_ids=DATA_SUBNETS,
    security_group_id=DB_SG,
    engine_version="16.4",
    instance_class="db.m7g.large",
    allocated_storage_gib=50,
    max_allocated_storage_gib=200,
    db_name="netflux",
    master_username="netflux_admin",
    iam_database_users=["movie_service", "customer_service"],
    backup_retention_days=14,
    backup_window="02:00-03:00",
    maintenance_window="sun:04:00-sun:05:00",
    performance_insights_retention_days=31,
    monitoring_interval_seconds=30,
    log_retention_days=90,
)
CACHE = CacheProps(
    name="netflux-unit",
    subnet_ids=DATA_SUBNETS,
    security_group_id=CACHE_SG,
    engine="valkey",
    engine_version="8.0",
    node_type="cache.r7g.large",
    num_cache_clusters=2,
    snapshot_retention_days=5,
    snapshot_window="01:00-02:00",
    maintenance_window="sun:05:00-sun:06:00",
    log_retention_days=30,
)
WITH_PROXY = replace(DB, proxy=True, proxy_subnet_ids=APP_SUBNETS, proxy_security_group_id=PROXY_SG)


def synth_database(props: DatabaseProps) -> Json:
    """The database plus outputs holding what its methods return (tokens resolve only at synth)."""

    def build(stack: TerraformStack) -> None:
        database = Database(stack, "database", props=props)
        outputs: dict[str, Any] = {
            "instance_arn": database.instance_connect_arn("movie_service"),
            "statement": database.connect_statement("movie_service"),
            "environment": database.connection_environment("movie_service"),
            "secrets": database.connection_secrets(),
            "secret_statements": database.master_secret_statements(),
            "master_secret_arn": database.master_secret_arn,
        }
        if props.proxy:
            outputs["proxy_arn"] = database.proxy_connect_arn("movie_service")
        for key, value in outputs.items():
            TerraformOutput(stack, key, value=value)

    return synth_construct(build)


def synth_cache(props: CacheProps, *, user: str | None = None) -> Json:
    def build(stack: TerraformStack) -> None:
        cache = Cache(stack, "cache", props=props)
        outputs: dict[str, Any] = {
            "environment": cache.connection_environment(user),
            "secrets": cache.connection_secrets(),
            "secret_statements": cache.secret_read_statements(),
        }
        if user is not None:
            outputs["connect"] = cache.connect_statement(user)
        for key, value in outputs.items():
            TerraformOutput(stack, key, value=value)

    return synth_construct(build)


def output(document: Json, name: str) -> Any:
    return document["output"][name]["value"]


def policy(document: Json, role: Json) -> list[Json]:
    role_ref = ref(document, "aws_iam_role", role)
    (attached,) = [p for p in resources(document, "aws_iam_role_policy").values() if p["role"] == role_ref]
    found: list[Json] = json.loads(attached["policy"])["Statement"]
    return found


def role_for(document: Json, service: str) -> Json:
    (role,) = [
        r
        for r in resources(document, "aws_iam_role").values()
        if json.loads(r["assume_role_policy"])["Statement"][0]["Principal"]["Service"] == service
    ]
    return role


@pytest.fixture(scope="module")
def prod_db() -> Json:
    """IAM auth, proxy and read replica, customer-managed keys (storage and the rest)."""
    return synth_database(
        replace(WITH_PROXY, read_replica=True, kms_key_arn=KMS_KEY, storage_kms_key_arn=STORAGE_KMS_KEY)
    )


@pytest.fixture(scope="module")
def dev_db() -> Json:
    """What dev relaxes: single AZ, no final snapshot, no deletion protection, no enhanced monitoring."""
    return synth_database(
        replace(DB, multi_az=False, skip_final_snapshot=True, deletion_protection=False, monitoring_interval_seconds=0)
    )


@pytest.fixture(scope="module")
def password_db() -> Json:
    """Password auth (services use the master secret) behind a proxy."""
    return synth_database(replace(WITH_PROXY, iam_auth=False, iam_database_users=[]))


@pytest.fixture(scope="module")
def token_cache() -> Json:
    return synth_cache(CACHE)


@pytest.fixture(scope="module")
def iam_cache() -> Json:
    return synth_cache(
        replace(CACHE, auth="iam", iam_user_names=["netflux-unit-movie-service", "netflux-unit-customer-service"]),
        user="netflux-unit-movie-service",
    )


# --- database: instance ------------------------------------------------------------------------


def test_instance_is_private_encrypted_gp3_in_the_given_group(prod_db: Json) -> None:
    instance = resources(prod_db, "aws_db_instance")["database_instance_D7FC2283"]

    assert instance["publicly_accessible"] is False
    assert instance["vpc_security_group_ids"] == [DB_SG]
    assert (instance["storage_type"], instance["storage_encrypted"], instance["kms_key_id"]) == (
        "gp3",
        True,
        STORAGE_KMS_KEY,
    )
    assert (instance["allocated_storage"], instance["max_allocated_storage"]) == (50, 200)
    assert (instance["engine"], instance["instance_class"]) == ("postgres", "db.m7g.large")
    subnet_group = only(prod_db, "aws_db_subnet_group")
    assert subnet_group["subnet_ids"] == DATA_SUBNETS
    assert instance["db_subnet_group_name"] == ref(prod_db, "aws_db_subnet_group", subnet_group, "name")


def test_master_password_is_managed_by_rds_and_never_synthesized(prod_db: Json, dev_db: Json) -> None:
    for document in (prod_db, dev_db):
        instance = resources(document, "aws_db_instance")["database_instance_D7FC2283"]
        assert instance["manage_master_user_password"] is True
        assert instance["username"] == "netflux_admin"
        assert not {"password", "password_wo"} & set(instance)
    assert (
        resources(prod_db, "aws_db_instance")["database_instance_D7FC2283"]["master_user_secret_kms_key_id"] == KMS_KEY
    )
    assert (
        output(prod_db, "master_secret_arn")
        == "${aws_db_instance.database_instance_D7FC2283.master_user_secret[0].secret_arn}"
    )


def test_instance_has_iam_auth_logs_insights_and_monitoring(prod_db: Json) -> None:
    instance = resources(prod_db, "aws_db_instance")["database_instance_D7FC2283"]

    assert instance["iam_database_authentication_enabled"] is True
    assert instance["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    assert instance["performance_insights_enabled"] is True
    assert instance["performance_insights_retention_period"] == 31
    assert instance["performance_insights_kms_key_id"] == KMS_KEY
    assert instance["monitoring_interval"] == 30
    role = role_for(prod_db, "monitoring.rds.amazonaws.com")
    assert instance["monitoring_role_arn"] == ref(prod_db, "aws_iam_role", role, "arn")
    [attachment] = resources(prod_db, "aws_iam_role_policy_attachment").values()
    assert attachment["role"] == ref(prod_db, "aws_iam_role", role, "name")
    assert attachment["policy_arn"] == (
        "arn:${data.aws_partition.database_partition_EEDD2D02.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]


def test_instance_has_secure_backup_and_lifecycle_defaults(prod_db: Json) -> None:
    instance = resources(prod_db, "aws_db_instance")["database_instance_D7FC2283"]

    assert instance["multi_az"] is True
    assert instance["deletion_protection"] is True
    assert (instance["backup_retention_period"], instance["backup_window"]) == (14, "02:00-03:00")
    assert instance["maintenance_window"] == "sun:04:00-sun:05:00"
    assert instance["skip_final_snapshot"] is False
    # Named after the creation time, then ignored: every incarnation's final snapshot is its own.
    assert instance["final_snapshot_identifier"] == (
        'netflux-unit-postgres-final-${formatdate("YYYYMMDDhhmmss", timestamp())}'
    )
    assert instance["lifecycle"] == {"ignore_changes": ["final_snapshot_identifier"]}
    assert instance["copy_tags_to_snapshot"] is True
    assert instance["auto_minor_version_upgrade"] is True
    assert instance["delete_automated_backups"] is False
    # Automatic minor upgrades: pin the major only, so the minor AWS applies never shows as drift.
    assert instance["engine_version"] == "16"


def test_dev_relaxations_are_applied_only_where_asked(dev_db: Json) -> None:
    instance = resources(dev_db, "aws_db_instance")["database_instance_D7FC2283"]

    assert (instance["multi_az"], instance["deletion_protection"], instance["skip_final_snapshot"]) == (
        False,
        False,
        True,
    )
    assert "final_snapshot_identifier" not in instance
    assert instance["monitoring_interval"] == 0
    assert "monitoring_role_arn" not in instance
    assert not resources(dev_db, "aws_iam_role")
    assert instance["storage_encrypted"] is True
    assert instance["publicly_accessible"] is False


def test_full_engine_version_is_kept_without_automatic_minor_upgrades() -> None:
    document = synth_database(replace(DB, auto_minor_version_upgrade=False))

    assert only(document, "aws_db_instance")["engine_version"] == "16.4"


def test_parameter_group_forces_tls_and_logs_queries(prod_db: Json) -> None:
    group = only(prod_db, "aws_db_parameter_group")
    parameters = {p["name"]: p["value"] for p in group["parameter"]}

    assert group["family"] == "postgres16"
    assert group["lifecycle"] == {"create_before_destroy": True}
    assert parameters == {
        "rds.force_ssl": "1",
        "log_min_duration_statement": "1000",
        "log_connections": "1",
        "log_disconnections": "1",
        "log_statement": "ddl",
        "log_lock_waits": "1",
    }
    for instance in resources(prod_db, "aws_db_instance").values():
        assert instance["parameter_group_name"] == ref(prod_db, "aws_db_parameter_group", group, "name")


def test_exported_log_groups_exist_before_the_instances(prod_db: Json) -> None:
    groups = resources(prod_db, "aws_cloudwatch_log_group")
    names = {g["name"]: g["retention_in_days"] for g in groups.values()}

    assert names == {
        "/aws/rds/instance/netflux-unit-postgres/postgresql": 90,
        "/aws/rds/instance/netflux-unit-postgres/upgrade": 90,
        "/aws/rds/instance/netflux-unit-postgres-replica/postgresql": 90,
        "/aws/rds/instance/netflux-unit-postgres-replica/upgrade": 90,
    }
    instance = resources(prod_db, "aws_db_instance")["database_instance_D7FC2283"]
    assert sorted(instance["depends_on"]) == sorted(
        f"aws_cloudwatch_log_group.{k}" for k, g in groups.items() if "/netflux-unit-postgres/" in g["name"]
    )


def test_read_replica_follows_the_primary_privately(prod_db: Json) -> None:
    instances = resources(prod_db, "aws_db_instance")
    primary = instances["database_instance_D7FC2283"]
    (replica,) = [i for i in instances.values() if "replicate_source_db" in i]

    # The ARN: with a subnet group, the provider rejects an identifier at plan time (PR #40426).
    assert replica["replicate_source_db"] == ref(prod_db, "aws_db_instance", primary, "arn")
    assert replica["identifier"] == "netflux-unit-postgres-replica"
    assert replica["publicly_accessible"] is False
    assert replica["vpc_security_group_ids"] == [DB_SG]
    assert (replica["storage_encrypted"], replica["kms_key_id"]) == (True, STORAGE_KMS_KEY)
    assert replica["performance_insights_kms_key_id"] == KMS_KEY
    assert replica["iam_database_authentication_enabled"] is True
    assert not {"username", "manage_master_user_password", "db_name"} & set(replica)


def test_read_replica_is_multi_az_with_backups_like_the_primary(prod_db: Json) -> None:
    (replica,) = [i for i in resources(prod_db, "aws_db_instance").values() if "replicate_source_db" in i]

    assert replica["multi_az"] is True
    assert (replica["backup_retention_period"], replica["backup_window"]) == (14, "02:00-03:00")
    assert replica["skip_final_snapshot"] is True


def test_read_replica_follows_a_single_az_primary_and_keeps_no_backups_before_postgres_14() -> None:
    document = synth_database(replace(DB, read_replica=True, multi_az=False, engine_version="13.15"))
    (replica,) = [i for i in resources(document, "aws_db_instance").values() if "replicate_source_db" in i]

    assert replica["multi_az"] is False
    assert replica["backup_retention_period"] == 0
    assert "backup_window" not in replica


def test_storage_stays_on_the_aws_managed_key_unless_a_storage_key_is_given() -> None:
    document = synth_database(replace(DB, kms_key_arn=KMS_KEY))
    instance = resources(document, "aws_db_instance")["database_instance_D7FC2283"]

    assert "kms_key_id" not in instance
    assert instance["storage_encrypted"] is True
    assert (instance["performance_insights_kms_key_id"], instance["master_user_secret_kms_key_id"]) == (
        KMS_KEY,
        KMS_KEY,
    )


def test_replica_instance_class_can_differ() -> None:
    document = synth_database(replace(DB, read_replica=True, read_replica_instance_class="db.t4g.medium"))

    classes = sorted(i["instance_class"] for i in resources(document, "aws_db_instance").values())
    assert classes == ["db.m7g.large", "db.t4g.medium"]


# --- database: IAM auth and proxy --------------------------------------------------------------


def test_rds_db_connect_arn_is_built_from_the_resource_id(prod_db: Json) -> None:
    arn = output(prod_db, "instance_arn")

    assert arn == (
        "arn:${data.aws_partition.database_partition_EEDD2D02.partition}:rds-db:eu-west-1:"
        "${data.aws_caller_identity.database_account_82AA1A86.account_id}:dbuser:"
        "${aws_db_instance.database_instance_D7FC2283.resource_id}/movie_service"
    )
    assert ".identifier}" not in arn


def test_proxy_connect_arn_uses_the_proxy_resource_id(prod_db: Json) -> None:
    arn = output(prod_db, "proxy_arn")
    ((local_name, expression),) = prod_db["locals"].items()

    # arn:aws:rds:<region>:<account>:db-proxy:prx-<id> -> the 7th field is the prx- resource id.
    assert expression == '${element(split(":", aws_db_proxy.database_proxy_DF0C0F9D.arn), 6)}'
    assert arn.endswith(f":dbuser:${{local.{local_name}}}/movie_service")
    assert arn.startswith("arn:${data.aws_partition.database_partition_EEDD2D02.partition}:rds-db:eu-west-1:")


def test_policies_granting_proxy_access_stay_parseable_before_terraform_evaluates_them() -> None:
    def build(stack: TerraformStack) -> None:
        database = Database(stack, "database", props=WITH_PROXY)
        role = service_role(stack, "task-role", name="netflux-unit-task", service="ecs-tasks.amazonaws.com")
        IamRolePolicy(
            stack, "task-policy", name="task", role=role.id, policy=policy_document([database.connect_statement("x")])
        )

    document = synth_construct(build)

    # Checkov and the stack tests json.loads policies as synthesized; an inline expression with
    # quotes (split(":", ...)) inside the policy string would break them.
    for body in resources(document, "aws_iam_role_policy").values():
        json.loads(body["policy"])


def test_services_connect_through_the_proxy_when_there_is_one(prod_db: Json, dev_db: Json) -> None:
    assert output(prod_db, "statement") == {
        "Effect": "Allow",
        "Action": ["rds-db:connect"],
        "Resource": [output(prod_db, "proxy_arn")],
    }
    assert output(dev_db, "statement")["Resource"] == [output(dev_db, "instance_arn")]
    assert output(prod_db, "environment") == {
        "RDS_ENDPOINT": "${aws_db_proxy.database_proxy_DF0C0F9D.endpoint}",
        "RDS_PORT": "5432",
        "RDS_DB_NAME": "netflux",
        "RDS_USERNAME": "movie_service",
        "USE_IAM_AUTH": "true",
    }
    assert output(dev_db, "environment")["RDS_ENDPOINT"] == "${aws_db_instance.database_instance_D7FC2283.address}"
    assert output(prod_db, "secrets") == {}


def test_proxy_requires_tls_and_iam_end_to_end_in_the_app_subnets(prod_db: Json) -> None:
    proxy = only(prod_db, "aws_db_proxy")

    assert proxy["require_tls"] is True
    assert proxy["default_auth_scheme"] == "IAM_AUTH"
    assert "auth" not in proxy
    assert proxy["engine_family"] == "POSTGRESQL"
    assert proxy["vpc_subnet_ids"] == APP_SUBNETS
    assert proxy["vpc_security_group_ids"] == [PROXY_SG]
    assert proxy["debug_logging"] is False
    target = only(prod_db, "aws_db_proxy_target")
    primary = resources(prod_db, "aws_db_instance")["database_instance_D7FC2283"]
    assert target["db_instance_identifier"] == ref(prod_db, "aws_db_instance", primary, "identifier")
    pool = only(prod_db, "aws_db_proxy_default_target_group")["connection_pool_config"]
    assert pool == {
        "max_connections_percent": 100,
        "max_idle_connections_percent": 50,
        "connection_borrow_timeout": 120,
    }


def test_proxy_role_may_connect_as_exactly_the_service_users(prod_db: Json) -> None:
    role = role_for(prod_db, "rds.amazonaws.com")
    (statement,) = policy(prod_db, role)

    assert only(prod_db, "aws_db_proxy")["role_arn"] == ref(prod_db, "aws_iam_role", role, "arn")
    assert statement["Action"] == ["rds-db:connect"]
    assert [r.rsplit("/", 1)[1] for r in statement["Resource"]] == ["customer_service", "movie_service"]
    assert all("${aws_db_instance.database_instance_D7FC2283.resource_id}/" in r for r in statement["Resource"])


def test_password_auth_reads_exactly_the_master_secret(password_db: Json) -> None:
    secret = "${aws_db_instance.database_instance_D7FC2283.master_user_secret[0].secret_arn}"
    proxy = only(password_db, "aws_db_proxy")

    assert "default_auth_scheme" not in proxy
    assert proxy["auth"] == [
        {
            "auth_scheme": "SECRETS",
            "client_password_auth_type": "POSTGRES_SCRAM_SHA_256",
            "description": "master user, password from the RDS-managed secret",
            "iam_auth": "DISABLED",
            "secret_arn": secret,
        }
    ]
    assert policy(password_db, role_for(password_db, "rds.amazonaws.com")) == [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [secret]}
    ]
    assert output(password_db, "secrets") == {"RDS_PASSWORD": f"{secret}:password::"}
    assert output(password_db, "secret_statements") == [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [secret]}
    ]
    assert output(password_db, "environment")["USE_IAM_AUTH"] == "false"
    assert output(password_db, "environment")["RDS_USERNAME"] == "movie_service"


def test_secret_statements_add_decrypt_for_a_customer_key(prod_db: Json) -> None:
    statements = output(prod_db, "secret_statements")

    assert statements[1]["Action"] == ["kms:Decrypt"]
    assert statements[1]["Resource"] == [KMS_KEY]
    assert statements[1]["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"subnet_ids": ["subnet-a"]}, "at least 2 AZs"),
        ({"proxy": True}, "proxy needs proxy_subnet_ids"),
        ({"proxy": True, "proxy_subnet_ids": APP_SUBNETS}, "proxy needs proxy_security_group_id"),
        ({"read_replica": True, "backup_retention_days": 0}, "read_replica needs backup_retention_days"),
        ({"monitoring_interval_seconds": 45}, "monitoring_interval_seconds must be one of"),
        ({"max_allocated_storage_gib": 50}, "must exceed allocated_storage_gib"),
        ({"iam_database_users": ["netflux_admin"]}, "must not include the master user"),
        ({"iam_database_users": ["Movie-Service"]}, "lowercase letters, digits or underscores"),
        ({"iam_auth": False}, "iam_database_users is only used with iam_auth"),
    ],
)
def test_fails_when_database_props_are_inconsistent(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        synth_database(replace(DB, **overrides))


def test_fails_when_asking_for_a_proxy_arn_without_a_proxy() -> None:
    def build(stack: TerraformStack) -> None:
        Database(stack, "database", props=DB).proxy_connect_arn("movie_service")

    with pytest.raises(ValueError, match="no proxy"):
        synth_construct(build)


# --- cache -------------------------------------------------------------------------------------


def test_cache_is_encrypted_and_in_the_given_group(token_cache: Json) -> None:
    group = only(token_cache, "aws_elasticache_replication_group")
    subnet_group = only(token_cache, "aws_elasticache_subnet_group")

    assert group["security_group_ids"] == [CACHE_SG]
    assert subnet_group["subnet_ids"] == DATA_SUBNETS
    assert group["subnet_group_name"] == ref(token_cache, "aws_elasticache_subnet_group", subnet_group, "name")
    assert group["at_rest_encryption_enabled"] == "true"
    assert (group["transit_encryption_enabled"], group["transit_encryption_mode"]) == (True, "required")
    assert (group["engine"], group["engine_version"], group["node_type"]) == ("valkey", "8.0", "cache.r7g.large")
    assert group["port"] == 6379


def test_cache_with_replicas_is_multi_az_with_failover(token_cache: Json) -> None:
    group = only(token_cache, "aws_elasticache_replication_group")

    assert group["num_cache_clusters"] == 2
    assert (group["multi_az_enabled"], group["automatic_failover_enabled"]) == (True, True)
    assert (group["snapshot_retention_limit"], group["snapshot_window"]) == (5, "01:00-02:00")
    assert group["maintenance_window"] == "sun:05:00-sun:06:00"
    assert group["final_snapshot_identifier"] == 'netflux-unit-cache-final-${formatdate("YYYYMMDDhhmmss", timestamp())}'


def test_single_node_cache_has_no_failover_and_no_snapshots_when_off() -> None:
    document = synth_cache(replace(CACHE, num_cache_clusters=1, snapshot_retention_days=0, snapshot_window=None))
    group = only(document, "aws_elasticache_replication_group")

    assert (group["multi_az_enabled"], group["automatic_failover_enabled"]) == (False, False)
    assert group["snapshot_retention_limit"] == 0
    assert "final_snapshot_identifier" not in group
    assert group["at_rest_encryption_enabled"] == "true"


def test_cache_kms_key_encrypts_data_and_token(token_cache: Json) -> None:
    document = synth_cache(replace(CACHE, kms_key_arn=KMS_KEY))

    assert only(document, "aws_elasticache_replication_group")["kms_key_id"] == KMS_KEY
    assert only(document, "aws_secretsmanager_secret")["kms_key_id"] == KMS_KEY
    assert output(document, "secret_statements")[1] == {
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
        "Resource": [KMS_KEY],
    }
    assert "kms_key_id" not in only(token_cache, "aws_elasticache_replication_group")


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
    assert version["secret_string"] == f"${{data.aws_secretsmanager_random_password.{data_id}.random_password}}"
    assert version["secret_id"] == ref(token_cache, "aws_secretsmanager_secret", secret)
    assert version["lifecycle"] == {"ignore_changes": ["secret_string"]}
    assert group["auth_token"] == ref(token_cache, "aws_secretsmanager_secret_version", version, "secret_string")
    assert "user_group_ids" not in group


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
    assert sorted(u["user_name"] for u in service_users) == [
        "netflux-unit-customer-service",
        "netflux-unit-movie-service",
    ]
    for user in service_users:
        assert user["user_id"] == user["user_name"]  # IAM auth requires it
        assert user["authentication_mode"] == {"type": "iam"}
        assert user["engine"] == "valkey"
        assert "-@dangerous" in user["access_string"]
    assert len(group["user_ids"]) == 3
    assert replication_group["user_group_ids"] == [ref(iam_cache, "aws_elasticache_user_group", group, "user_group_id")]
    assert "auth_token" not in replication_group
    assert not resources(iam_cache, "aws_secretsmanager_secret")
    assert "data" not in iam_cache


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


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"name": "netflux-a-very-long-environment-name"}, "the limit is 40"),
        ({"iam_user_names": ["netflux-unit-movie-service"]}, "only used with auth = 'iam'"),
        ({"auth": "iam", "iam_user_names": ["Movie_Service"]}, "cache user name must be lowercase"),
        ({"num_cache_clusters": 7}, "between 1 and 6"),
        ({"subnet_ids": []}, "private-data subnets"),
    ],
)
def test_fails_when_cache_props_are_inconsistent(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        synth_cache(replace(CACHE, **overrides))


# --- no secret in the JSON ---------------------------------------------------------------------


def test_no_literal_password_or_token_is_synthesized(
    prod_db: Json, dev_db: Json, password_db: Json, token_cache: Json, iam_cache: Json
) -> None:
    for document in (prod_db, dev_db, password_db, token_cache, iam_cache):
        assert list(scan_document(document)) == []
        for instance in resources(document, "aws_db_instance").values():
            assert not {"password", "password_wo"} & set(instance)
