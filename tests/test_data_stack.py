"""Per-environment data tier: what each environment's stack holds once [database]/[cache] are wired."""

from __future__ import annotations

import json

import pytest

from config import EnvironmentConfig
from tests.synth import Json, only, resources

ENVS = ("dev", "staging", "prod")


def containers(document: Json) -> dict[str, Json]:
    found = {}
    for task in resources(document, "aws_ecs_task_definition").values():
        (definition,) = json.loads(task["container_definitions"])
        found[definition["name"]] = definition
    return found


def primary(document: Json) -> Json:
    (instance,) = [i for i in resources(document, "aws_db_instance").values() if "replicate_source_db" not in i]
    return instance


@pytest.mark.parametrize("env", ENVS)
def test_every_environment_has_a_private_encrypted_database_and_cache(synthesized: dict[str, Json], env: str) -> None:
    document = synthesized[env]
    instance = primary(document)
    cache = only(document, "aws_elasticache_replication_group")

    assert instance["publicly_accessible"] is False
    assert instance["storage_encrypted"] is True
    assert instance["manage_master_user_password"] is True
    assert instance["iam_database_authentication_enabled"] is True
    assert cache["at_rest_encryption_enabled"] == "true"
    assert cache["transit_encryption_mode"] == "required"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_shared_environments_keep_every_secure_default(synthesized: dict[str, Json], env: str) -> None:
    instance = primary(synthesized[env])
    cache = only(synthesized[env], "aws_elasticache_replication_group")

    assert instance["multi_az"] is True
    assert instance["deletion_protection"] is True
    assert instance["skip_final_snapshot"] is False
    assert instance["backup_retention_period"] >= 7
    assert (cache["multi_az_enabled"], cache["automatic_failover_enabled"]) == (True, True)


def test_only_dev_relaxes_and_only_where_its_file_says(synthesized: dict[str, Json]) -> None:
    instance = primary(synthesized["dev"])
    cache = only(synthesized["dev"], "aws_elasticache_replication_group")

    assert (instance["multi_az"], instance["deletion_protection"], instance["skip_final_snapshot"]) == (
        False,
        False,
        True,
    )
    assert (cache["num_cache_clusters"], cache["multi_az_enabled"]) == (1, False)


def test_prods_read_replica_is_multi_az_with_its_own_backups(synthesized: dict[str, Json]) -> None:
    [replica] = [i for i in resources(synthesized["prod"], "aws_db_instance").values() if "replicate_source_db" in i]

    assert replica["multi_az"] is True
    assert replica["backup_retention_period"] == primary(synthesized["prod"])["backup_retention_period"] == 14


def test_prod_has_a_read_replica_and_a_tls_only_proxy(synthesized: dict[str, Json]) -> None:
    document = synthesized["prod"]

    assert len(resources(document, "aws_db_instance")) == 2
    proxy = only(document, "aws_db_proxy")
    assert (proxy["require_tls"], proxy["default_auth_scheme"]) == (True, "IAM_AUTH")


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


@pytest.mark.parametrize("env", ENVS)
def test_outputs_name_endpoints_and_secret_arns_only(synthesized: dict[str, Json], env: str) -> None:
    outputs = synthesized[env]["output"]

    for name in ("database_address", "database_port", "database_master_secret_arn", "cache_primary_endpoint"):
        assert name in outputs
    assert outputs["database_master_secret_arn"]["value"].endswith(".master_user_secret[0].secret_arn}")
    assert outputs["cache_auth_token_secret_arn"]["value"].endswith(".arn}")
    assert ("database_proxy_endpoint" in outputs) == (env != "dev")
