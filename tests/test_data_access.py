"""How services use the data tier: [services.<name>.data_access] errors, the database user each one
connects as, and what each environment's services get (settings, secrets, permissions)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config import EnvironmentConfig
from config.data_access import database_user_for
from tests.config_check import Data, fails, parse
from tests.synth import Json, resources

ENVS = ("dev", "staging", "prod")
DATABASE: Data = {"engine_version": "16.4", "instance_class": "db.t4g.micro"}
CACHE: Data = {"engine": "valkey", "engine_version": "8.0", "node_type": "cache.t4g.micro"}


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


def renamed(data: Data, old: str, new: str) -> Data:
    """``data`` with service ``old`` renamed to ``new`` (same settings; its jobs follow)."""
    data["services"][new] = data["services"].pop(old)
    for job in data.get("jobs", {}).values():
        if job["service"] == old:
            job["service"] = new
    return data


def containers(document: Json) -> dict[str, Json]:
    found = {}
    for task in resources(document, "aws_ecs_task_definition").values():
        (definition,) = json.loads(task["container_definitions"])
        found[definition["name"]] = definition
    return found


# --- settings ----------------------------------------------------------------------------------


def test_services_use_neither_store_by_default(env_data: dict[str, Data]) -> None:
    access = parse(dev(env_data)).services["movie-service"].data_access

    assert (access.uses_database, access.uses_cache, access.database_user) == (False, False, None)


def test_fails_when_service_uses_a_database_the_environment_lacks(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, access={"movie-service": {"uses_database": True}}),
        r"services\.movie-service\.data_access\.uses_database = True: needs a \[database\] table in this "
        r"environment; add one or set uses_database = false",
    )


def test_fails_when_service_uses_a_cache_the_environment_lacks(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={}, access={"movie-service": {"uses_cache": True}}),
        r"services\.movie-service\.data_access\.uses_cache = True: needs a \[cache\] table in this "
        r"environment; add one or set uses_cache = false",
    )


def test_fails_when_database_user_is_set_without_using_the_database(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, database={}, access={"movie-service": {"database_user": "movies"}}),
        r"services\.movie-service\.data_access\.database_user = 'movies': is only used when uses_database = true",
    )


def test_fails_when_iam_user_is_the_master_user(env_data: dict[str, Data]) -> None:
    fails(
        dev(
            env_data,
            database={"master_username": "app_admin"},
            access={"movie-service": {"uses_database": True, "database_user": "app_admin"}},
        ),
        r"services\.movie-service\.data_access\.database_user = 'app_admin': must not be the master user: "
        r"GRANT rds_iam would disable the master password; use a dedicated user",
    )


def test_fails_when_password_auth_names_another_user(env_data: dict[str, Data]) -> None:
    fails(
        dev(
            env_data,
            database={"iam_auth": False},
            access={"movie-service": {"uses_database": True, "database_user": "movies"}},
        ),
        r"services\.movie-service\.data_access\.database_user = 'movies': password auth connects as the master "
        r"user \(the only password RDS manages\); remove database_user or set database\.iam_auth = true",
    )


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("postgres", "database user 'postgres' is reserved by PostgreSQL/RDS or a guessable default; .*"),
        ("Movie-Service", "database user must be 1-63 lowercase letters, digits and underscores, .*"),
    ],
)
def test_fails_when_database_user_is_reserved_or_invalid(env_data: dict[str, Data], user: str, message: str) -> None:
    fails(
        dev(env_data, database={}, access={"movie-service": {"uses_database": True, "database_user": user}}),
        rf"services\.movie-service\.data_access\.database_user = '{user}': {message}",
    )


def test_fails_when_the_user_derived_from_the_service_name_is_reserved(env_data: dict[str, Data]) -> None:
    data = renamed(
        dev(env_data, database={}, access={"movie-service": {"uses_database": True}}), "movie-service", "pg-sync"
    )

    fails(
        data,
        r"services\.pg-sync\.data_access\.database_user = 'pg_sync': derived from the service name: database user "
        r"'pg_sync' is reserved .*; set database_user explicitly",
    )


@pytest.mark.parametrize("service", ["default", "cache-default"])
def test_fails_when_an_iam_cache_user_would_look_like_the_default_user(env_data: dict[str, Data], service: str) -> None:
    data = dev(env_data, cache={"auth": "iam"}, access={"movie-service": {"uses_cache": True}})

    fails(
        renamed(data, "movie-service", service),
        rf"services\.{service}\.data_access\.uses_cache = True: with cache\.auth = 'iam' the service signs in as a "
        r"cache user named after it, and a name ending in '-default' is kept for the user group's default user; "
        r"rename the service",
    )


def test_a_service_named_like_the_default_user_may_use_a_token_cache(env_data: dict[str, Data]) -> None:
    data = dev(env_data, cache={}, access={"movie-service": {"uses_cache": True}})

    config = parse(renamed(data, "movie-service", "cache-default"))

    assert config.services["cache-default"].data_access.uses_cache


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

    users = {
        name: database_user_for(name, s.data_access, config.database)
        for name, s in config.services.items()
        if s.data_access.uses_database
    }

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


@pytest.mark.parametrize(("table", "variable"), [("environment", "RDS_ENDPOINT"), ("secrets", "RDS_PASSWORD")])
def test_fails_when_task_settings_shadow_data_tier_variables(
    env_data: dict[str, Data], table: str, variable: str
) -> None:
    data = dev(env_data, database={}, access={"movie-service": {"uses_database": True}})
    value: Any = "db.example.com"
    if table == "secrets":
        value = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/db-AbCdEf"
    data["services"]["movie-service"]["task"] = {table: {variable: value}}

    fails(
        data,
        rf"services\.movie-service\.task\.{table}\.{variable} = '{variable}': is set by the data tier for services "
        r"that use it; remove it from the task settings",
    )


def test_task_settings_may_use_data_tier_names_when_the_service_does_not_use_it(env_data: dict[str, Data]) -> None:
    data = dev(env_data, database={}, access={"movie-service": {"uses_cache": False}})
    data["services"]["movie-service"]["task"] = {"environment": {"RDS_ENDPOINT": "legacy.example.com"}}

    config = parse(data)

    assert config.services["movie-service"].task.environment == {"RDS_ENDPOINT": "legacy.example.com"}


# --- per environment ---------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_services_get_connection_settings_for_what_they_use(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    found = containers(synthesized[env])
    for name, service in environments[env].services.items():
        variables = {e["name"] for e in found[name].get("environment", [])}
        secrets = {s["name"] for s in found[name].get("secrets", [])}
        rds = {"RDS_ENDPOINT", "RDS_PORT", "RDS_DB_NAME", "RDS_USERNAME", "USE_IAM_AUTH"}
        redis = {"REDIS_HOST", "REDIS_PORT", "REDIS_TLS"}
        assert (rds <= variables) == service.data_access.uses_database, name
        assert (redis <= variables) == service.data_access.uses_cache, name
        assert ("REDIS_AUTH_TOKEN" in secrets) == service.data_access.uses_cache, name
        assert "RDS_PASSWORD" not in secrets  # IAM auth everywhere: no database password reaches a task


@pytest.mark.parametrize("env", ENVS)
def test_task_roles_may_connect_as_their_own_database_user_only(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    users_of: dict[str, list[str]] = {}
    for policy in resources(synthesized[env], "aws_iam_role_policy").values():
        path = policy["//"]["metadata"]["path"].split("/")  # <stack>/service-<name>/task-role-policy
        if not (path[1].startswith("service-") and path[2] == "task-role-policy"):
            continue
        for statement in json.loads(policy["policy"])["Statement"]:
            if statement["Action"] == ["rds-db:connect"]:
                users_of.setdefault(path[1].removeprefix("service-"), []).extend(statement["Resource"])
    expected = {name for name, s in environments[env].services.items() if s.data_access.uses_database}
    assert set(users_of) == expected
    for service, arns in users_of.items():
        assert len(arns) == 1
        assert arns[0].endswith(f"/{service.replace('-', '_')}")
        # Built from the instance's (or proxy's) resource id, never from its identifier.
        assert ":dbuser:${" in arns[0]
        assert ".identifier}" not in arns[0]
