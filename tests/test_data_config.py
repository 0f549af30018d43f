"""Data-tier config: [database], [cache] and [services.<name>.data_access], and their cross-checks."""

from __future__ import annotations

from typing import Any

import pytest

from config import ConfigError, EnvironmentConfig, parse_environment
from config.data import PROXY_POSTGRES_MAJORS, database_user_for

Data = dict[str, Any]
DATABASE: Data = {"engine_version": "16.4", "instance_class": "db.t4g.micro"}
CACHE: Data = {"engine": "valkey", "engine_version": "8.0", "node_type": "cache.t4g.micro"}
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def parse(data: Data) -> EnvironmentConfig:
    return parse_environment(data, source="environments/dev.toml", expected_name="dev")


def dev(
    env_data: dict[str, Data],
    *,
    database: Data | None = None,
    cache: Data | None = None,
    access: dict[str, Data] | None = None,
) -> Data:
    """The dev file with exactly the given data tier: no [database]/[cache] unless passed."""
    data = env_data["dev"]
    data.pop("database", None)
    data.pop("cache", None)
    for service in data["services"].values():
        service.pop("data_access", None)
    if database is not None:
        data["database"] = {**DATABASE, **database}
    if cache is not None:
        data["cache"] = {**CACHE, **cache}
    for name, values in (access or {}).items():
        data["services"][name]["data_access"] = values
    return data


def fails(data: Data, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse(data)


# --- defaults ----------------------------------------------------------------------------------


def test_no_table_means_no_database_or_cache(env_data: dict[str, Data]) -> None:
    config = parse(dev(env_data))

    assert config.database is None
    assert config.cache is None
    assert not config.services["movie-service"].data_access.uses_database


def test_database_defaults_are_secure_and_highly_available(env_data: dict[str, Data]) -> None:
    database = parse(dev(env_data, database={})).database

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


def test_cache_defaults_are_secure_and_highly_available(env_data: dict[str, Data]) -> None:
    cache = parse(dev(env_data, cache={})).cache

    assert cache is not None
    assert cache.num_cache_clusters == 2
    assert cache.highly_available
    assert cache.auth == "token"
    assert cache.snapshot_retention_days == 7


def test_single_node_cache_is_not_highly_available(env_data: dict[str, Data]) -> None:
    cache = parse(dev(env_data, cache={"num_cache_clusters": 1})).cache

    assert cache is not None
    assert not cache.highly_available


# --- database inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["t4g.micro", "db.t4g", "db.t4g.huge", "DB.T4G.MICRO", "db.serverless", "cache.t4g.micro"]
)
def test_fails_when_instance_class_is_malformed(env_data: dict[str, Data], value: str) -> None:
    fails(dev(env_data, database={"instance_class": value}), r"database\.instance_class = .*db\.<family>\.<size>")


@pytest.mark.parametrize("value", ["db.t4g.micro", "db.m7g.large", "db.r6gd.16xlarge", "db.m5.metal"])
def test_accepts_real_instance_classes(env_data: dict[str, Data], value: str) -> None:
    # max_connections given: the connections alarm cannot estimate it for every class (metal sizes).
    database = parse(dev(env_data, database={"instance_class": value, "alarms": {"max_connections": 500}})).database

    assert database is not None
    assert database.instance_class == value


@pytest.mark.parametrize("value", ["16", "16.4.1", "v16.4", "latest"])
def test_fails_when_engine_version_is_malformed(env_data: dict[str, Data], value: str) -> None:
    fails(dev(env_data, database={"engine_version": value}), r"database\.engine_version = .*<major>\.<minor>")


@pytest.mark.parametrize("value", ["11.22", "12.20", "19.0"])
def test_fails_when_postgres_major_is_not_offered(env_data: dict[str, Data], value: str) -> None:
    fails(dev(env_data, database={"engine_version": value}), r"major .* is not offered; use a major from 13 to 18")


@pytest.mark.parametrize(("allocated", "match"), [(19, "between 20 and 65536 GiB, got 19"), (70000, "got 70000")])
def test_fails_when_storage_is_outside_gp3_bounds(env_data: dict[str, Data], allocated: int, match: str) -> None:
    fails(dev(env_data, database={"allocated_storage_gib": allocated}), rf"database\.allocated_storage_gib = .*{match}")


@pytest.mark.parametrize("maximum", [20, 10, 70000])
def test_fails_when_max_storage_is_not_above_allocated(env_data: dict[str, Data], maximum: int) -> None:
    fails(
        dev(env_data, database={"allocated_storage_gib": 20, "max_allocated_storage_gib": maximum}),
        r"database\.max_allocated_storage_gib = .*must be greater than allocated_storage_gib \(20\)",
    )


def test_fails_when_read_replica_has_no_backups(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={"backup_retention_days": 0, "read_replica": {"enabled": True}}),
        r"database\.backup_retention_days = 0: must be 1-35 when read_replica is enabled",
    )


def test_read_replica_with_backups_is_accepted(env_data: dict[str, Data]) -> None:
    database = parse(
        dev(env_data, database={"read_replica": {"enabled": True, "instance_class": "db.t4g.small"}})
    ).database

    assert database is not None
    assert database.read_replica.instance_class == "db.t4g.small"


def test_fails_when_backup_retention_exceeds_35_days(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, database={"backup_retention_days": 36}), r"database\.backup_retention_days = 36")


def test_fails_when_proxy_fronts_a_major_it_does_not_support(env_data: dict[str, Data]) -> None:
    unsupported = PROXY_POSTGRES_MAJORS.stop  # the newest offered major, not yet supported by RDS Proxy
    fails(
        dev(env_data, database={"engine_version": f"{unsupported}.1", "proxy": {"enabled": True}}),
        rf"database\.proxy\.enabled = True: RDS Proxy cannot front PostgreSQL {unsupported}",
    )


def test_same_major_without_proxy_is_accepted(env_data: dict[str, Data]) -> None:
    database = parse(dev(env_data, database={"engine_version": f"{PROXY_POSTGRES_MAJORS.stop}.1"})).database

    assert database is not None
    assert database.major_version == PROXY_POSTGRES_MAJORS.stop


def test_fails_when_proxy_keeps_more_idle_than_max_connections(env_data: dict[str, Data]) -> None:
    proxy = {"enabled": True, "max_connections_percent": 40, "max_idle_connections_percent": 50}
    fails(
        dev(env_data, database={"proxy": proxy}),
        r"database\.proxy\.max_idle_connections_percent = 50: must not exceed max_connections_percent \(40\)",
    )


@pytest.mark.parametrize("value", ["postgres", "rdsadmin", "pg_app", "rds_app", "Admin", "1user", "app-admin"])
def test_fails_when_master_username_is_reserved_or_invalid(env_data: dict[str, Data], value: str) -> None:
    fails(dev(env_data, database={"master_username": value}), r"database\.master_username = ")


@pytest.mark.parametrize("value", ["template1", "postgres", "my-db"])
def test_fails_when_db_name_is_reserved_or_invalid(env_data: dict[str, Data], value: str) -> None:
    fails(dev(env_data, database={"db_name": value}), r"database\.db_name = ")


@pytest.mark.parametrize("value", [2, 45, 90])
def test_fails_when_monitoring_interval_is_not_offered(env_data: dict[str, Data], value: int) -> None:
    fails(dev(env_data, database={"monitoring_interval_seconds": value}), r"must be one of 0, 1, 5, 10, 15, 30, 60")


@pytest.mark.parametrize("value", [8, 30, 732])
def test_fails_when_performance_insights_retention_is_not_offered(env_data: dict[str, Data], value: int) -> None:
    fails(dev(env_data, database={"performance_insights_retention_days": value}), r"must be 7, a multiple of 31")


def test_fails_when_kms_key_is_an_alias(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={"kms_key_arn": "alias/aws/rds"}),
        r"database\.kms_key_arn = 'alias/aws/rds': must be a KMS key ARN",
    )


def test_kms_key_arn_is_accepted(env_data: dict[str, Data]) -> None:
    database = parse(dev(env_data, database={"kms_key_arn": KMS_KEY})).database

    assert database is not None
    assert database.kms_key_arn == KMS_KEY


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("backup_window", "3:00-04:00", "hh24:mi-hh24:mi"),
        ("backup_window", "03:00-03:15", "at least 30 minutes long, got 15"),
        ("maintenance_window", "sun:05:00", "ddd:hh24:mi-ddd:hh24:mi"),
        ("maintenance_window", "sunday:05:00-sunday:06:00", "ddd:hh24:mi-ddd:hh24:mi"),
    ],
)
def test_fails_when_window_is_malformed(env_data: dict[str, Data], field: str, value: str, match: str) -> None:
    fails(dev(env_data, database={field: value}), rf"database\.{field} = .*{match}")


def test_fails_when_maintenance_overlaps_backup_window(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={"backup_window": "03:00-04:00", "maintenance_window": "tue:03:30-tue:04:30"}),
        r"database\.maintenance_window = 'tue:03:30-tue:04:30': overlaps backup_window 03:00-04:00",
    )


def test_fails_when_maintenance_wraps_into_next_days_backup_window(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={"backup_window": "00:00-00:30", "maintenance_window": "sun:23:30-mon:00:15"}),
        r"overlaps backup_window",
    )


def test_separate_windows_are_accepted(env_data: dict[str, Data]) -> None:
    database = parse(
        dev(env_data, database={"backup_window": "02:00-03:00", "maintenance_window": "sun:04:00-sun:05:00"})
    ).database

    assert database is not None
    assert database.maintenance_window == "sun:04:00-sun:05:00"


def test_fails_on_unknown_database_key(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, database={"password": "hunter2"}), r"database\.password = .*unknown key; allowed keys here:")


# --- cache inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["t4g.micro", "cache.t4g", "db.t4g.micro", "cache.T4G.micro"])
def test_fails_when_cache_node_type_is_malformed(env_data: dict[str, Data], value: str) -> None:
    fails(dev(env_data, cache={"node_type": value}), r"cache\.node_type = .*cache\.<family>\.<size>")


@pytest.mark.parametrize(
    ("engine", "version", "match"),
    [
        ("redis", "8.0", "not an ElastiCache redis version; use one of 6.2, 7.0, 7.1"),
        ("valkey", "7.1", "not an ElastiCache valkey version; use one of 7.2, 8.0, 8.1"),
        ("valkey", "8", "<major>.<minor>"),
    ],
)
def test_fails_when_cache_version_does_not_exist(
    env_data: dict[str, Data], engine: str, version: str, match: str
) -> None:
    fails(dev(env_data, cache={"engine": engine, "engine_version": version}), rf"cache\.engine_version = .*{match}")


def test_fails_when_cache_engine_is_unknown(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, cache={"engine": "memcached"}), r"cache\.engine = 'memcached'")


@pytest.mark.parametrize("value", [0, 7])
def test_fails_when_cache_node_count_is_out_of_range(env_data: dict[str, Data], value: int) -> None:
    fails(dev(env_data, cache={"num_cache_clusters": value}), r"cache\.num_cache_clusters = ")


def test_fails_when_iam_auth_needs_a_newer_redis(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, cache={"engine": "redis", "engine_version": "6.2", "auth": "iam"}),
        r"cache\.auth = 'iam': IAM authentication needs redis 7\.0 or 7\.1",
    )


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("snapshot_window", "03:00-03:30", "at least 60 minutes long, got 30"),
        ("maintenance_window", "sun:05:00-sun:05:30", "at least 60 minutes long, got 30"),
        ("log_retention_days", 10, "CloudWatch's retention periods"),
        ("snapshot_retention_days", 36, ""),
    ],
)
def test_fails_when_cache_operations_settings_are_invalid(
    env_data: dict[str, Data], field: str, value: Any, match: str
) -> None:
    fails(dev(env_data, cache={field: value}), rf"cache\.{field} = .*{match}")


def test_fails_when_cache_maintenance_overlaps_snapshots(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, cache={"snapshot_window": "04:00-05:00", "maintenance_window": "wed:04:30-wed:05:30"}),
        r"cache\.maintenance_window = .*overlaps snapshot_window 04:00-05:00",
    )


# --- per-service access ------------------------------------------------------------------------


def test_fails_when_service_uses_a_database_the_environment_lacks(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, access={"movie-service": {"uses_database": True}}),
        r"services\.movie-service\.data_access\.uses_database = True: needs a \[database\] table",
    )


def test_fails_when_service_uses_a_cache_the_environment_lacks(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={}, access={"movie-service": {"uses_cache": True}}),
        r"services\.movie-service\.data_access\.uses_cache = True: needs a \[cache\] table",
    )


def test_fails_when_database_user_is_set_without_using_the_database(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={}, access={"movie-service": {"database_user": "movies"}}),
        r"data_access\.database_user = 'movies': is only used when uses_database = true",
    )


def test_fails_when_iam_user_is_the_master_user(env_data: dict[str, Data]) -> None:
    fails(
        dev(
            env_data,
            database={"master_username": "app_admin"},
            access={"movie-service": {"uses_database": True, "database_user": "app_admin"}},
        ),
        r"data_access\.database_user = 'app_admin': must not be the master user",
    )


def test_fails_when_password_auth_names_another_user(env_data: dict[str, Data]) -> None:
    fails(
        dev(
            env_data,
            database={"iam_auth": False},
            access={"movie-service": {"uses_database": True, "database_user": "movies"}},
        ),
        r"data_access\.database_user = 'movies': password auth connects as the master user",
    )


def test_fails_when_database_user_is_reserved(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={}, access={"movie-service": {"uses_database": True, "database_user": "postgres"}}),
        r"services\.movie-service\.data_access\.database_user = 'postgres': database user 'postgres' is reserved",
    )


def test_database_user_defaults_to_the_service_name(env_data: dict[str, Data]) -> None:
    config = parse(
        dev(
            env_data,
            database={},
            cache={},
            access={
                "movie-service": {"uses_database": True, "uses_cache": True},
                "customer-service": {"uses_database": True, "database_user": "customers"},
            },
        )
    )
    assert config.database is not None

    users = {name: database_user_for(name, s.data_access, config.database) for name, s in config.services.items()}

    assert users == {"movie-service": "movie_service", "customer-service": "customers"}


def test_password_auth_connects_as_the_master_user(env_data: dict[str, Data]) -> None:
    config = parse(
        dev(
            env_data,
            database={"iam_auth": False, "master_username": "netflux_admin"},
            access={"movie-service": {"uses_database": True}},
        )
    )
    assert config.database is not None

    user = database_user_for("movie-service", config.services["movie-service"].data_access, config.database)

    assert user == "netflux_admin"


def test_fails_when_task_settings_shadow_data_tier_variables(env_data: dict[str, Data]) -> None:
    data = dev(env_data, database={}, access={"movie-service": {"uses_database": True}})
    data["services"]["movie-service"]["task"] = {"environment": {"RDS_ENDPOINT": "db.example.com"}}

    fails(data, r"services\.movie-service\.task\.environment\.RDS_ENDPOINT = 'RDS_ENDPOINT': is set by the data tier")


def test_task_settings_may_use_data_tier_names_when_the_service_does_not_use_it(env_data: dict[str, Data]) -> None:
    data = dev(env_data, database={}, access={"movie-service": {"uses_cache": False}})
    data["services"]["movie-service"]["task"] = {"environment": {"RDS_ENDPOINT": "legacy.example.com"}}

    config = parse(data)

    assert config.services["movie-service"].task.environment == {"RDS_ENDPOINT": "legacy.example.com"}
