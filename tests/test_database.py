"""The database block: [database] errors, the Database construct's JSON, and each environment's database."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy

from config.database import PROXY_POSTGRES_MAJORS, DatabaseAlarmsConfig, DatabaseConfig, max_connections
from modules import Database
from modules.block import Alarm, AlarmPolicy, Comparison, Naming, Signal, Statistic
from modules.iam import policy_document, service_role
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, ref, resources, synth_construct
from tools.secret_scan import scan_document

ENVS = ("dev", "staging", "prod")
REQUIRED: Data = {"engine_version": "16.4", "instance_class": "db.t4g.micro"}
DB_KEY = "arn:aws:kms:eu-west-1:123456789012:key/5a6b7c8d-1111-2222-3333-444455556666"
ENVIRONMENT_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
DATA_SUBNETS = ["subnet-data-a", "subnet-data-b"]
APP_SUBNETS = ["subnet-app-a", "subnet-app-b"]
DB_SG = "sg-0database"
PROXY_SG = "sg-0proxy"
USERS = ["movie_service", "customer_service"]
INSTANCE = "database_instance_D7FC2283"

# Stand-ins for the blocks the database reads from (their public attributes only).
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
NETWORK = SimpleNamespace(private_data_subnet_ids=DATA_SUBNETS, private_app_subnet_ids=APP_SUBNETS)
SECURITY_GROUPS = SimpleNamespace(database_sg_id=DB_SG, database_proxy_sg_id=PROXY_SG)
ENVIRONMENT_KEY_BLOCK = SimpleNamespace(arn=ENVIRONMENT_KEY)
UNIT: Data = {
    "engine_version": "16.4",
    "instance_class": "db.m7g.large",
    "allocated_storage_gib": 50,
    "max_allocated_storage_gib": 200,
    "db_name": "netflux",
    "master_username": "netflux_admin",
    "backup_retention_days": 14,
    "backup_window": "02:00-03:00",
    "maintenance_window": "sun:04:00-sun:05:00",
    "performance_insights_retention_days": 31,
    "monitoring_interval_seconds": 30,
    "logs": {"retention_days": 90},
}


def with_database(env_data: dict[str, Data], **database: Any) -> Data:
    """The dev file with exactly this [database] (plus its required fields) and no service using it."""
    data = env_data["dev"]
    data["database"] = {**REQUIRED, **database}
    for service in data["services"].values():
        service.pop("data_access", None)
    return data


def settings(**overrides: Any) -> DatabaseConfig:
    """The unit database's settings, validated as an environment file's would be."""
    return DatabaseConfig.model_validate({**UNIT, **overrides})


def build_database(stack: TerraformStack, database: DatabaseConfig, *, key: Any = None) -> Database:
    """The unit database in ``stack``, its services connecting as USERS (with IAM auth)."""
    return Database(
        stack,
        "database",
        settings=database,
        naming=NAMING,
        network=NETWORK,
        security_groups=SECURITY_GROUPS,
        key=key,
        iam_database_users=USERS if database.iam_auth else [],
        secret_recovery_window_days=30,
    )


def synth_database(database: DatabaseConfig, *, key: Any = None) -> Json:
    """The database plus outputs holding what its methods return (tokens resolve only at synth)."""

    def build(stack: TerraformStack) -> None:
        built = build_database(stack, database, key=key)
        outputs: dict[str, Any] = {
            "instance_arn": built.instance_connect_arn("movie_service"),
            "statement": built.connect_statement("movie_service"),
            "environment": built.connection_environment("movie_service"),
            "secrets": built.connection_secrets(),
            "secret_statements": built.master_secret_statements(),
            "master_secret_arn": built.master_secret_arn,
        }
        if database.proxy.enabled:
            outputs["proxy_arn"] = built.proxy_connect_arn("movie_service")
        for name, value in outputs.items():
            TerraformOutput(stack, name, value=value)

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


def primary(document: Json) -> Json:
    (instance,) = [i for i in resources(document, "aws_db_instance").values() if "replicate_source_db" not in i]
    return instance


def replica(document: Json) -> Json:
    (found,) = [i for i in resources(document, "aws_db_instance").values() if "replicate_source_db" in i]
    return found


@pytest.fixture(scope="module")
def prod_db() -> Json:
    """IAM auth, proxy and read replica; the database's own key, and the environment's for its logs."""
    return synth_database(
        settings(kms_key_arn=DB_KEY, proxy={"enabled": True}, read_replica={"enabled": True}),
        key=ENVIRONMENT_KEY_BLOCK,
    )


@pytest.fixture(scope="module")
def dev_db() -> Json:
    """What dev relaxes: single AZ, no final snapshot, no deletion protection, no enhanced monitoring."""
    return synth_database(
        settings(multi_az=False, skip_final_snapshot=True, deletion_protection=False, monitoring_interval_seconds=0)
    )


@pytest.fixture(scope="module")
def password_db() -> Json:
    """Password auth (services use the master secret) behind a proxy."""
    return synth_database(settings(iam_auth=False, proxy={"enabled": True}))


# --- settings ----------------------------------------------------------------------------------


def test_no_table_means_no_database(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data.pop("database")
    for service in data["services"].values():
        service.pop("data_access", None)

    assert parse(data).database is None


def test_database_defaults_are_secure_and_highly_available(env_data: dict[str, Data]) -> None:
    database = parse(with_database(env_data)).database

    assert database is not None
    assert (database.multi_az, database.deletion_protection, database.skip_final_snapshot) == (True, True, False)
    assert database.backup_retention_days >= 7
    assert database.iam_auth is True
    assert database.monitoring_interval_seconds == 60
    assert database.logs.statement == "ddl"
    assert database.logs.retention_days == 365
    assert not database.read_replica.enabled
    assert not database.proxy.enabled
    assert database.master_username != "postgres"


@pytest.mark.parametrize(
    "value", ["t4g.micro", "db.t4g", "db.t4g.huge", "DB.T4G.MICRO", "db.serverless", "cache.t4g.micro"]
)
def test_fails_when_instance_class_is_malformed(env_data: dict[str, Data], value: str) -> None:
    fails(
        with_database(env_data, instance_class=value),
        rf"database\.instance_class = '{value}': must be an RDS instance class db\.<family>\.<size>, e\.g\. .*",
    )


@pytest.mark.parametrize("value", ["db.t4g.micro", "db.m7g.large", "db.r6gd.16xlarge"])
def test_accepts_real_instance_classes(env_data: dict[str, Data], value: str) -> None:
    database = parse(with_database(env_data, instance_class=value)).database

    assert database is not None
    assert database.instance_class == value


@pytest.mark.parametrize("value", ["16", "16.4.1", "v16.4", "latest"])
def test_fails_when_engine_version_is_malformed(env_data: dict[str, Data], value: str) -> None:
    fails(
        with_database(env_data, engine_version=value),
        rf"database\.engine_version = '{value}': must be <major>\.<minor>, e\.g\. 16\.4",
    )


@pytest.mark.parametrize("value", ["11.22", "12.20", "19.0"])
def test_fails_when_postgres_major_is_not_offered(env_data: dict[str, Data], value: str) -> None:
    major = value.split(".")[0]
    fails(
        with_database(env_data, engine_version=value),
        rf"database\.engine_version = '{value}': PostgreSQL major {major} is not offered; use a major from 13 to 18",
    )


@pytest.mark.parametrize("allocated", [19, 70000])
def test_fails_when_storage_is_outside_gp3_bounds(env_data: dict[str, Data], allocated: int) -> None:
    fails(
        with_database(env_data, allocated_storage_gib=allocated),
        rf"database\.allocated_storage_gib = {allocated}: gp3 storage must be between 20 and 65536 GiB, got {allocated}",
    )


@pytest.mark.parametrize("maximum", [20, 10, 70000])
def test_fails_when_max_storage_is_not_above_allocated(env_data: dict[str, Data], maximum: int) -> None:
    fails(
        with_database(env_data, allocated_storage_gib=20, max_allocated_storage_gib=maximum),
        rf"database\.max_allocated_storage_gib = {maximum}: must be greater than allocated_storage_gib \(20\) "
        r"and at most 65536 GiB; remove it to turn storage autoscaling off",
    )


def test_fails_when_read_replica_has_no_backups(env_data: dict[str, Data]) -> None:
    fails(
        with_database(env_data, backup_retention_days=0, read_replica={"enabled": True}),
        r"database\.backup_retention_days = 0: must be 1-35 when read_replica is enabled: "
        r"RDS builds replicas from automated backups",
    )


def test_read_replica_with_backups_is_accepted(env_data: dict[str, Data]) -> None:
    replica_settings = {"enabled": True, "instance_class": "db.t4g.small"}
    database = parse(with_database(env_data, read_replica=replica_settings)).database

    assert database is not None
    assert database.read_replica.instance_class == "db.t4g.small"


def test_fails_when_read_replica_and_backup_window_leave_the_maintenance_window_to_chance(
    env_data: dict[str, Data],
) -> None:
    fails(
        with_database(env_data, read_replica={"enabled": True}, backup_window="02:00-03:00"),
        r"database\.maintenance_window = None: is required with read_replica and backup_window \(02:00-03:00\): .*",
    )


def test_fails_when_backup_retention_exceeds_35_days(env_data: dict[str, Data]) -> None:
    fails(
        with_database(env_data, backup_retention_days=36),
        r"database\.backup_retention_days = 36: must be between 0 and 35, got 36",
    )


def test_fails_when_proxy_fronts_a_major_it_does_not_support(env_data: dict[str, Data]) -> None:
    unsupported = PROXY_POSTGRES_MAJORS.stop  # the newest offered major, not yet supported by RDS Proxy
    fails(
        with_database(env_data, engine_version=f"{unsupported}.1", proxy={"enabled": True}),
        rf"database\.proxy\.enabled = True: RDS Proxy cannot front PostgreSQL {unsupported}; .*",
    )


def test_same_major_without_proxy_is_accepted(env_data: dict[str, Data]) -> None:
    database = parse(with_database(env_data, engine_version=f"{PROXY_POSTGRES_MAJORS.stop}.1")).database

    assert database is not None
    assert database.major_version == PROXY_POSTGRES_MAJORS.stop


def test_fails_when_proxy_keeps_more_idle_than_max_connections(env_data: dict[str, Data]) -> None:
    proxy = {"enabled": True, "max_connections_percent": 40, "max_idle_connections_percent": 50}
    fails(
        with_database(env_data, proxy=proxy),
        r"database\.proxy\.max_idle_connections_percent = 50: must not exceed max_connections_percent \(40\)",
    )


@pytest.mark.parametrize("value", ["postgres", "rdsadmin", "pg_app", "rds_app", "Admin", "1user", "app-admin"])
def test_fails_when_master_username_is_reserved_or_invalid(env_data: dict[str, Data], value: str) -> None:
    fails(with_database(env_data, master_username=value), rf"database\.master_username = '{value}': database user .*")


@pytest.mark.parametrize("value", ["template1", "postgres", "my-db"])
def test_fails_when_db_name_is_reserved_or_invalid(env_data: dict[str, Data], value: str) -> None:
    fails(with_database(env_data, db_name=value), rf"database\.db_name = '{value}': database name .*")


@pytest.mark.parametrize("value", [2, 45, 90])
def test_fails_when_monitoring_interval_is_not_offered(env_data: dict[str, Data], value: int) -> None:
    fails(
        with_database(env_data, monitoring_interval_seconds=value),
        rf"database\.monitoring_interval_seconds = {value}: must be one of 0, 1, 5, 10, 15, 30, 60 "
        r"\(0 turns enhanced monitoring off\)",
    )


@pytest.mark.parametrize("value", [8, 30, 732])
def test_fails_when_performance_insights_retention_is_not_offered(env_data: dict[str, Data], value: int) -> None:
    fails(
        with_database(env_data, performance_insights_retention_days=value),
        rf"database\.performance_insights_retention_days = {value}: must be 7, a multiple of 31 up to 713, or 731 .*",
    )


def test_fails_when_advanced_insights_keep_too_little_history(env_data: dict[str, Data]) -> None:
    fails(
        with_database(env_data, database_insights="advanced"),
        r"database\.database_insights = 'advanced': advanced needs performance_insights_retention_days "
        r"of at least 465, got 7",
    )


def test_fails_when_kms_key_is_an_alias(env_data: dict[str, Data]) -> None:
    fails(
        with_database(env_data, kms_key_arn="alias/aws/rds"),
        r"database\.kms_key_arn = 'alias/aws/rds': must be a KMS key ARN, .*",
    )


def test_kms_key_arn_is_accepted(env_data: dict[str, Data]) -> None:
    database = parse(with_database(env_data, kms_key_arn=DB_KEY)).database

    assert database is not None
    assert database.kms_key_arn == DB_KEY


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("backup_window", "3:00-04:00", r"must be hh24:mi-hh24:mi in UTC, e\.g\. 03:00-04:00"),
        ("backup_window", "03:00-03:15", "must be at least 30 minutes long, got 15"),
        ("maintenance_window", "sun:05:00", r"must be ddd:hh24:mi-ddd:hh24:mi in UTC, e\.g\. sun:05:00-sun:06:00"),
        ("maintenance_window", "sunday:05:00-sunday:06:00", "must be ddd:hh24:mi-ddd:hh24:mi in UTC, .*"),
    ],
)
def test_fails_when_window_is_malformed(env_data: dict[str, Data], field: str, value: str, message: str) -> None:
    fails(with_database(env_data, **{field: value}), rf"database\.{field} = '{value}': {message}")


def test_fails_when_maintenance_overlaps_backup_window(env_data: dict[str, Data]) -> None:
    fails(
        with_database(env_data, backup_window="03:00-04:00", maintenance_window="tue:03:30-tue:04:30"),
        r"database\.maintenance_window = 'tue:03:30-tue:04:30': overlaps backup_window 03:00-04:00; "
        r"RDS needs them apart",
    )


def test_fails_when_maintenance_wraps_into_next_days_backup_window(env_data: dict[str, Data]) -> None:
    fails(
        with_database(env_data, backup_window="00:00-00:30", maintenance_window="sun:23:30-mon:00:15"),
        r"database\.maintenance_window = 'sun:23:30-mon:00:15': overlaps backup_window 00:00-00:30; .*",
    )


def test_separate_windows_are_accepted(env_data: dict[str, Data]) -> None:
    windows = {"backup_window": "02:00-03:00", "maintenance_window": "sun:04:00-sun:05:00"}
    database = parse(with_database(env_data, **windows)).database

    assert database is not None
    assert database.maintenance_window == "sun:04:00-sun:05:00"


def test_fails_on_unknown_database_key(env_data: dict[str, Data]) -> None:
    fails(
        with_database(env_data, password="hunter2"),
        r"database\.password = 'hunter2': unknown key; allowed keys here: .*",
    )


@pytest.mark.parametrize(
    ("alarms", "message"),
    [
        ({"cpu_percent": 0}, "must be between 1 and 100 %, got 0"),
        ({"connections_percent": 150}, "must be between 1 and 100 %, got 150"),
        ({"free_storage_percent": 100}, "must be between 1 and 99 %, got 100"),
        ({"free_storage_gib": 0}, "must be between 1 and 65536 GiB, got 0"),
        ({"max_connections": 0}, "must be between 1 and 262143, got 0"),
    ],
)
def test_fails_when_an_alarm_threshold_is_out_of_range(
    env_data: dict[str, Data], alarms: dict[str, int], message: str
) -> None:
    ((field, value),) = alarms.items()
    fails(with_database(env_data, alarms=alarms), rf"database\.alarms\.{field} = {value}: {message}")


@pytest.mark.parametrize(
    ("instance_class", "expected"),
    [
        ("db.t4g.micro", 79),
        ("db.t3.small", 192),
        ("db.r6g.large", 1622),
        ("db.r7g.4xlarge", 5000),
        ("db.x2g.large", 3244),
    ],
)
def test_max_connections_follows_instance_memory_and_the_5000_cap(instance_class: str, expected: int) -> None:
    assert max_connections(instance_class) == expected


def test_free_storage_threshold_is_a_share_of_allocated_storage_unless_absolute() -> None:
    assert DatabaseAlarmsConfig(free_storage_percent=25).free_storage_threshold_gib(100) == 25.0
    assert DatabaseAlarmsConfig(free_storage_gib=7).free_storage_threshold_gib(100) == 7.0


# --- construct: instance -----------------------------------------------------------------------


def test_instance_is_private_encrypted_gp3_in_the_given_group(prod_db: Json) -> None:
    instance = resources(prod_db, "aws_db_instance")[INSTANCE]

    assert instance["publicly_accessible"] is False
    assert instance["vpc_security_group_ids"] == [DB_SG]
    assert (instance["storage_type"], instance["storage_encrypted"], instance["kms_key_id"]) == ("gp3", True, DB_KEY)
    assert (instance["allocated_storage"], instance["max_allocated_storage"]) == (50, 200)
    assert (instance["engine"], instance["instance_class"]) == ("postgres", "db.m7g.large")
    subnet_group = only(prod_db, "aws_db_subnet_group")
    assert subnet_group["subnet_ids"] == DATA_SUBNETS
    assert instance["db_subnet_group_name"] == ref(prod_db, "aws_db_subnet_group", subnet_group, "name")


def test_master_password_is_managed_by_rds_and_never_synthesized(prod_db: Json, dev_db: Json) -> None:
    for document in (prod_db, dev_db):
        instance = resources(document, "aws_db_instance")[INSTANCE]
        assert instance["manage_master_user_password"] is True
        assert instance["username"] == "netflux_admin"
        assert not {"password", "password_wo"} & set(instance)
    assert resources(prod_db, "aws_db_instance")[INSTANCE]["master_user_secret_kms_key_id"] == DB_KEY
    assert output(prod_db, "master_secret_arn") == f"${{aws_db_instance.{INSTANCE}.master_user_secret[0].secret_arn}}"


def test_instance_has_iam_auth_logs_insights_and_monitoring(prod_db: Json) -> None:
    instance = resources(prod_db, "aws_db_instance")[INSTANCE]

    assert instance["iam_database_authentication_enabled"] is True
    assert instance["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    assert instance["performance_insights_enabled"] is True
    assert instance["performance_insights_retention_period"] == 31
    assert instance["performance_insights_kms_key_id"] == DB_KEY
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
    instance = resources(prod_db, "aws_db_instance")[INSTANCE]

    assert instance["multi_az"] is True
    assert instance["deletion_protection"] is True
    assert (instance["backup_retention_period"], instance["backup_window"]) == (14, "02:00-03:00")
    assert instance["maintenance_window"] == "sun:04:00-sun:05:00"
    assert instance["skip_final_snapshot"] is False
    # Named after the creation time, then ignored: every incarnation's final snapshot is its own.
    assert instance["final_snapshot_identifier"] == (
        'netflux-unit-postgres-final-${formatdate("YYYYMMDDhhmmss", timestamp())}'
    )
    assert instance["lifecycle"]["ignore_changes"] == ["final_snapshot_identifier"]
    assert instance["copy_tags_to_snapshot"] is True
    assert instance["auto_minor_version_upgrade"] is True
    assert instance["delete_automated_backups"] is False
    # Automatic minor upgrades: pin the major only, so the minor AWS applies never shows as drift.
    assert instance["engine_version"] == "16"


def test_dev_relaxations_are_applied_only_where_asked(dev_db: Json) -> None:
    instance = resources(dev_db, "aws_db_instance")[INSTANCE]

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
    document = synth_database(settings(auto_minor_version_upgrade=False))

    assert only(document, "aws_db_instance")["engine_version"] == "16.4"


def test_parameter_group_forces_tls_and_logs_queries(prod_db: Json) -> None:
    group = only(prod_db, "aws_db_parameter_group")
    parameters = {p["name"]: p["value"] for p in group["parameter"]}

    assert group["family"] == "postgres16"
    assert group["name_prefix"] == "netflux-unit-postgres16-"
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


def test_logging_settings_reach_the_parameter_group() -> None:
    logs = {"min_duration_statement_ms": -1, "connections": False, "statement": "all", "lock_waits": False}
    document = synth_database(settings(logs=logs))
    parameters = {p["name"]: p["value"] for p in only(document, "aws_db_parameter_group")["parameter"]}

    assert parameters["log_min_duration_statement"] == "-1"
    assert (parameters["log_connections"], parameters["log_disconnections"]) == ("0", "1")
    assert (parameters["log_statement"], parameters["log_lock_waits"]) == ("all", "0")


def test_exported_log_groups_exist_before_the_instances_under_the_environment_key(prod_db: Json) -> None:
    groups = resources(prod_db, "aws_cloudwatch_log_group")
    names = {g["name"]: g["retention_in_days"] for g in groups.values()}

    assert names == {
        "/aws/rds/instance/netflux-unit-postgres/postgresql": 90,
        "/aws/rds/instance/netflux-unit-postgres/upgrade": 90,
        "/aws/rds/instance/netflux-unit-postgres-replica/postgresql": 90,
        "/aws/rds/instance/netflux-unit-postgres-replica/upgrade": 90,
    }
    assert {g["kms_key_id"] for g in groups.values()} == {ENVIRONMENT_KEY}
    instance = resources(prod_db, "aws_db_instance")[INSTANCE]
    assert sorted(instance["depends_on"]) == sorted(
        f"aws_cloudwatch_log_group.{k}" for k, g in groups.items() if "/netflux-unit-postgres/" in g["name"]
    )


def test_read_replica_follows_the_primary_privately(prod_db: Json) -> None:
    found = replica(prod_db)

    # The ARN: with a subnet group, the provider rejects an identifier at plan time (PR #40426).
    assert found["replicate_source_db"] == ref(prod_db, "aws_db_instance", primary(prod_db), "arn")
    assert found["identifier"] == "netflux-unit-postgres-replica"
    assert found["publicly_accessible"] is False
    assert found["vpc_security_group_ids"] == [DB_SG]
    assert (found["storage_encrypted"], found["kms_key_id"]) == (True, DB_KEY)
    assert found["performance_insights_kms_key_id"] == DB_KEY
    assert found["iam_database_authentication_enabled"] is True
    assert not {"username", "manage_master_user_password", "db_name"} & set(found)


def test_read_replica_is_multi_az_with_backups_like_the_primary(prod_db: Json) -> None:
    found = replica(prod_db)

    assert found["multi_az"] is True
    assert (found["backup_retention_period"], found["backup_window"]) == (14, "02:00-03:00")
    assert found["maintenance_window"] == "sun:04:00-sun:05:00"
    assert found["skip_final_snapshot"] is True


def test_read_replica_follows_a_single_az_primary_and_keeps_no_backups_before_postgres_14() -> None:
    document = synth_database(settings(read_replica={"enabled": True}, multi_az=False, engine_version="13.15"))
    found = replica(document)

    assert found["multi_az"] is False
    assert found["backup_retention_period"] == 0
    assert "backup_window" not in found


def test_storage_stays_on_the_aws_managed_key_when_only_the_environment_has_one() -> None:
    document = synth_database(settings(), key=ENVIRONMENT_KEY_BLOCK)
    instance = resources(document, "aws_db_instance")[INSTANCE]

    assert "kms_key_id" not in instance
    assert instance["storage_encrypted"] is True
    assert (instance["performance_insights_kms_key_id"], instance["master_user_secret_kms_key_id"]) == (
        ENVIRONMENT_KEY,
        ENVIRONMENT_KEY,
    )


def test_replica_instance_class_can_differ() -> None:
    document = synth_database(settings(read_replica={"enabled": True, "instance_class": "db.t4g.medium"}))

    classes = sorted(i["instance_class"] for i in resources(document, "aws_db_instance").values())
    assert classes == ["db.m7g.large", "db.t4g.medium"]


# --- construct: IAM auth and proxy -------------------------------------------------------------


def test_rds_db_connect_arn_is_built_from_the_resource_id(prod_db: Json) -> None:
    arn = output(prod_db, "instance_arn")

    assert arn == (
        "arn:${data.aws_partition.database_partition_EEDD2D02.partition}:rds-db:eu-west-1:"
        "${data.aws_caller_identity.database_account_82AA1A86.account_id}:dbuser:"
        f"${{aws_db_instance.{INSTANCE}.resource_id}}/movie_service"
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
        database = build_database(stack, settings(proxy={"enabled": True}))
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
    assert output(dev_db, "environment")["RDS_ENDPOINT"] == f"${{aws_db_instance.{INSTANCE}.address}}"
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
    assert proxy["idle_client_timeout"] == 1800
    target = only(prod_db, "aws_db_proxy_target")
    assert target["db_instance_identifier"] == ref(prod_db, "aws_db_instance", primary(prod_db), "identifier")
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
    assert all(f"${{aws_db_instance.{INSTANCE}.resource_id}}/" in r for r in statement["Resource"])


def test_password_auth_reads_exactly_the_master_secret(password_db: Json) -> None:
    secret = f"${{aws_db_instance.{INSTANCE}.master_user_secret[0].secret_arn}}"
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
    assert statements[1]["Resource"] == [DB_KEY]
    assert statements[1]["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}


def test_fails_when_asking_for_a_proxy_arn_without_a_proxy() -> None:
    def build(stack: TerraformStack) -> None:
        build_database(stack, settings()).proxy_connect_arn("movie_service")

    with pytest.raises(ValueError, match="no proxy"):
        synth_construct(build)


def test_no_literal_password_is_synthesized(prod_db: Json, dev_db: Json, password_db: Json) -> None:
    for document in (prod_db, dev_db, password_db):
        assert list(scan_document(document)) == []
        for instance in resources(document, "aws_db_instance").values():
            assert not {"password", "password_wo"} & set(instance)


# --- construct: alarms ------------------------------------------------------------------------


def alarms_of(database: DatabaseConfig) -> dict[str, Alarm]:
    found: dict[str, Alarm] = {}

    def build(stack: TerraformStack) -> None:
        policy = AlarmPolicy(period_seconds=300, evaluation_periods=2)
        found.update({alarm.construct_id: alarm for alarm in build_database(stack, database).alarms(policy)})

    synth_construct(build)
    return found


def test_alarms_watch_the_primary_with_the_thresholds_of_its_settings() -> None:
    thresholds = {"cpu_percent": 70, "free_storage_gib": 5, "connections_percent": 50, "max_connections": 200}
    found = alarms_of(settings(alarms=thresholds))

    assert set(found) == {"rds-cpu", "rds-free-storage", "rds-connections"}
    assert {alarm.dimensions["DBInstanceIdentifier"] for alarm in found.values()} == {"netflux-unit-postgres"}
    assert found["rds-cpu"].threshold == 70
    storage = found["rds-free-storage"]
    assert (storage.threshold, storage.comparison, storage.signal) == (5 * 1024**3, Comparison.BELOW, Signal.STORAGE)
    assert (found["rds-connections"].threshold, found["rds-connections"].statistic) == (100, Statistic.MAXIMUM)


def test_connections_alarm_estimates_max_connections_from_the_instance_class() -> None:
    found = alarms_of(settings(instance_class="db.m7g.large"))

    # 8 GiB -> 811 connections; 80 % of that, rounded down.
    assert found["rds-connections"].threshold == 648
    assert found["rds-free-storage"].threshold == 50 * 10 / 100 * 1024**3  # 10 % of 50 GiB


# --- per environment ---------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_every_environment_has_a_private_encrypted_database(synthesized: dict[str, Json], env: str) -> None:
    instance = primary(synthesized[env])

    assert instance["publicly_accessible"] is False
    assert instance["storage_encrypted"] is True
    assert instance["manage_master_user_password"] is True
    assert instance["iam_database_authentication_enabled"] is True


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_shared_environments_keep_every_secure_database_default(synthesized: dict[str, Json], env: str) -> None:
    instance = primary(synthesized[env])

    assert instance["multi_az"] is True
    assert instance["deletion_protection"] is True
    assert instance["skip_final_snapshot"] is False
    assert instance["backup_retention_period"] >= 7


def test_only_dev_relaxes_the_database_and_only_where_its_file_says(synthesized: dict[str, Json]) -> None:
    instance = primary(synthesized["dev"])

    assert (instance["multi_az"], instance["deletion_protection"], instance["skip_final_snapshot"]) == (
        False,
        False,
        True,
    )


def test_prods_read_replica_is_multi_az_with_its_own_backups(synthesized: dict[str, Json]) -> None:
    found = replica(synthesized["prod"])

    assert found["multi_az"] is True
    assert found["backup_retention_period"] == primary(synthesized["prod"])["backup_retention_period"] == 14


def test_prod_has_a_read_replica_and_a_tls_only_proxy(synthesized: dict[str, Json]) -> None:
    document = synthesized["prod"]

    assert len(resources(document, "aws_db_instance")) == 2
    proxy = only(document, "aws_db_proxy")
    assert (proxy["require_tls"], proxy["default_auth_scheme"]) == (True, "IAM_AUTH")


@pytest.mark.parametrize("env", ENVS)
def test_database_outputs_name_endpoints_and_secret_arns_only(synthesized: dict[str, Json], env: str) -> None:
    outputs = synthesized[env]["output"]

    for name in ("database_address", "database_port", "database_master_secret_arn"):
        assert name in outputs
    assert outputs["database_master_secret_arn"]["value"].endswith(".master_user_secret[0].secret_arn}")
    assert ("database_proxy_endpoint" in outputs) == (env != "dev")
