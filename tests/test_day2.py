"""What AWS rejects after validate passes, and day 2: first deploy, upgrades, pending changes, rebuilds,
deprecations, least privilege. Each test fails without its fix (see the issue: items 1-10)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cdktf import App

from config import EnvironmentConfig, parse_environment
from config.backends import S3BackendConfig
from modules.service import UNHEALTHY_SUSTAINED_SECONDS
from stacks import PlatformStack
from tests.synth import Json, only, resources, synth_stack

pytestmark = pytest.mark.stack  # synthesizes whole environments
ROOT = Path(__file__).resolve().parent.parent


def all_documents(synthesized: dict[str, Json], synthesized_examples: dict[str, Json]) -> dict[str, Json]:
    return {**synthesized, **synthesized_examples}


def variant(env: str, edit: dict[str, Any], **stack_options: Any) -> Json:
    """An environment file with ``edit`` merged into its tables, synthesized."""
    path = ROOT / "environments" / f"{env}.toml"
    data = tomllib.loads(path.read_text())

    def merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value)
            else:
                target[key] = value

    merge(data, edit)
    config = parse_environment(data, source=path.name)
    return synth_stack(PlatformStack(App(), config, **stack_options))


# --- 2. Beanstalk platform -----------------------------------------------------------------------------


def test_the_beanstalk_platform_is_resolved_at_plan_time_and_never_replans_the_environment(
    synthesized_examples: dict[str, Json],
) -> None:
    document = synthesized_examples["beanstalk"]
    [(stack_id, stack)] = document["data"]["aws_elastic_beanstalk_solution_stack"].items()
    assert stack["most_recent"] is True
    assert stack["name_regex"] == r"^64bit Amazon Linux 2023 v4\.[0-9]+\.[0-9]+ running Docker$"
    environment = only(document, "aws_elastic_beanstalk_environment")
    assert environment["solution_stack_name"] == f"${{data.aws_elastic_beanstalk_solution_stack.{stack_id}.name}}"
    assert "solution_stack_name" in environment["lifecycle"]["ignore_changes"]


# --- 3. replica windows ---------------------------------------------------------------------------------


def test_the_read_replica_has_the_primarys_windows_which_do_not_overlap(synthesized: dict[str, Json]) -> None:
    instances = resources(synthesized["prod"], "aws_db_instance").values()
    [replica] = [i for i in instances if "replicate_source_db" in i]
    [primary] = [i for i in instances if "replicate_source_db" not in i]
    assert replica["maintenance_window"] == primary["maintenance_window"] == "sun:04:00-sun:05:00"
    assert replica["backup_window"] == primary["backup_window"] == "02:00-03:00"


def test_fails_when_a_replica_has_a_backup_window_but_no_maintenance_window(env_data: dict[str, Any]) -> None:
    data = env_data["prod"]
    del data["database"]["maintenance_window"]
    with pytest.raises(Exception, match=r"database\.maintenance_window.*is required with read_replica"):
        parse_environment(data, source="prod.toml")


# --- 4. CloudFront logging waits for ACLs ----------------------------------------------------------------


def test_the_distribution_waits_for_its_log_buckets_ownership_controls(synthesized: dict[str, Json]) -> None:
    for env in ("staging", "prod"):
        document = synthesized[env]
        distribution = only(document, "aws_cloudfront_distribution")
        [logs_ownership] = [
            logical_id
            for logical_id in resources(document, "aws_s3_bucket_ownership_controls")
            if "frontend_logs" in logical_id
        ]
        assert f"aws_s3_bucket_ownership_controls.{logs_ownership}" in distribution["depends_on"], env


# --- 5. first deploy -------------------------------------------------------------------------------------


def test_a_first_deploy_starts_every_service_at_zero_tasks_and_differs_in_nothing_else(
    environments: dict[str, EnvironmentConfig],
) -> None:
    config = environments["staging"]
    normal = synth_stack(PlatformStack(App(), config))
    first = synth_stack(PlatformStack(App(), config, first_deploy=True))
    services = resources(first, "aws_ecs_service")
    assert services
    assert all(service["desired_count"] == 0 for service in services.values())
    assert all(target["min_capacity"] == 0 for target in resources(first, "aws_appautoscaling_target").values())
    for resource_type in set(normal["resource"]) | set(first["resource"]):
        for logical_id, body in normal["resource"].get(resource_type, {}).items():
            other = first["resource"][resource_type][logical_id]
            differing = {k for k in set(body) | set(other) if k != "//" and body.get(k) != other.get(k)}
            assert differing <= {"desired_count", "min_capacity"}, (resource_type, logical_id, differing)


# --- 6. major upgrades -----------------------------------------------------------------------------------


def test_a_postgresql_major_upgrade_is_allowed_in_place_with_a_new_parameter_group() -> None:
    upgraded = variant("dev", {"database": {"engine_version": "17.5"}})
    instance = only(upgraded, "aws_db_instance")
    group = only(upgraded, "aws_db_parameter_group")
    assert (instance["engine_version"], instance["allow_major_version_upgrade"]) == ("17", True)
    assert group["family"] == "postgres17"
    assert group["name_prefix"].endswith("-postgres17-")
    assert group["lifecycle"]["create_before_destroy"] is True


@pytest.mark.parametrize(
    ("engine", "version", "group"),
    [("valkey", "7.2", "default.valkey7"), ("valkey", "8.0", "default.valkey8"), ("redis", "6.2", "default.redis6.x")],
)
def test_the_cache_names_its_engine_familys_parameter_group(engine: str, version: str, group: str) -> None:
    document = variant("dev", {"cache": {"engine": engine, "engine_version": version}})
    assert only(document, "aws_elasticache_replication_group")["parameter_group_name"] == group


# --- 7. pending changes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "immediately"), [("dev", True), ("staging", True), ("prod", False)])
def test_each_environment_decides_apply_immediately(synthesized: dict[str, Json], env: str, immediately: bool) -> None:
    document = synthesized[env]
    assert all(i["apply_immediately"] is immediately for i in resources(document, "aws_db_instance").values())
    assert only(document, "aws_elasticache_replication_group")["apply_immediately"] is immediately


# --- 8. rebuilds -----------------------------------------------------------------------------------------


def test_disposable_environments_free_their_names_on_destroy(
    synthesized: dict[str, Json], synthesized_examples: dict[str, Json]
) -> None:
    for name, document in (("dev", synthesized["dev"]), ("beanstalk", synthesized_examples["beanstalk"])):
        for secret in resources(document, "aws_secretsmanager_secret").values():
            assert secret["recovery_window_in_days"] == 0, name
        for repository in resources(document, "aws_ecr_repository").values():
            assert repository["force_delete"] is True, name
    for secret in resources(synthesized["prod"], "aws_secretsmanager_secret").values():
        assert secret["recovery_window_in_days"] == 30


def test_final_snapshots_are_unique_per_incarnation(synthesized: dict[str, Json]) -> None:
    document = synthesized["prod"]
    primary = next(i for i in resources(document, "aws_db_instance").values() if "replicate_source_db" not in i)
    cache = only(document, "aws_elasticache_replication_group")
    for body in (primary, cache):
        assert "timestamp()" in body["final_snapshot_identifier"]
        assert body["lifecycle"]["ignore_changes"] == ["final_snapshot_identifier"]


# --- 9. deprecations -------------------------------------------------------------------------------------


def test_no_role_uses_the_deprecated_managed_policy_arns(
    synthesized: dict[str, Json], synthesized_examples: dict[str, Json]
) -> None:
    documents = all_documents(synthesized, synthesized_examples)
    attachments = 0
    for document in documents.values():
        assert all("managed_policy_arns" not in role for role in resources(document, "aws_iam_role").values())
        attachments += len(resources(document, "aws_iam_role_policy_attachment"))
    assert attachments >= 4  # RDS monitoring (staging, prod), Beanstalk service and instance roles


def test_prod_locks_state_with_the_s3_lockfile_and_dynamodb_locking_warns(synthesized: dict[str, Json]) -> None:
    backend = synthesized["prod"]["terraform"]["backend"]["s3"]
    assert backend["use_lockfile"] is True
    assert "dynamodb_table" not in backend
    legacy = S3BackendConfig(type="s3", bucket="state-bucket", locking="dynamodb", dynamodb_table="locks")
    assert any("deprecated since Terraform 1.11" in warning for warning in legacy.warnings)


def test_database_insights_mode_is_explicit(synthesized: dict[str, Json]) -> None:
    for env, document in synthesized.items():
        assert all(
            i["database_insights_mode"] == "standard" for i in resources(document, "aws_db_instance").values()
        ), env


# --- 10. least privilege and noise ------------------------------------------------------------------------


def test_the_flow_log_role_trusts_only_this_accounts_flow_logs(synthesized: dict[str, Json]) -> None:
    role = next(
        r for r in resources(synthesized["prod"], "aws_iam_role").values() if r["name"].endswith("vpc-flow-logs")
    )
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]


def test_every_identity_policys_kms_decrypt_is_limited_to_a_service(
    synthesized: dict[str, Json], synthesized_examples: dict[str, Json]
) -> None:
    checked = 0
    for env, document in all_documents(synthesized, synthesized_examples).items():
        for policy in resources(document, "aws_iam_role_policy").values():
            for statement in json.loads(policy["policy"])["Statement"]:
                if "kms:Decrypt" in statement["Action"]:
                    checked += 1
                    condition = statement.get("Condition", {})
                    # Through a service, or only for data keys made under a known encryption context
                    # (ECS Exec: the agent decrypts the session key itself, no service in between; a job's
                    # schedule: only its own schedule's data).
                    keys = {key for test in condition.values() for key in test}
                    assert "kms:ViaService" in condition.get("StringEquals", {}) or (
                        keys and all(k.startswith("kms:EncryptionContext:") for k in keys)
                    ), (env, statement)
    assert checked >= 3


def test_unhealthy_host_alarms_ignore_a_rolling_deployment(synthesized: dict[str, Json]) -> None:
    alarms = [
        a
        for a in resources(synthesized["prod"], "aws_cloudwatch_metric_alarm").values()
        if a["metric_name"] == "UnHealthyHostCount"
    ]
    assert alarms
    for alarm in alarms:
        assert alarm["statistic"] == "Minimum"
        assert alarm["evaluation_periods"] * alarm["period"] >= UNHEALTHY_SUSTAINED_SECONDS


def test_the_docs_list_what_the_pr_plan_role_needs() -> None:
    readme = (ROOT / "docs" / "quality.md").read_text()
    section = readme[readme.index("### The PR plan role") :]
    for action in (
        "secretsmanager:GetRandomPassword",
        "elasticbeanstalk:ListAvailableSolutionStacks",
        "sts:GetCallerIdentity",
    ):
        assert action in section


# --- the mechanism: AWS API constraints at load time ------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"team": "platform (core)"}, r"tag 'team' value: .*pattern"),
        ({"aws:team": "x"}, r"tag key 'aws:team'"),
        ({"k" * 129: "x"}, r"max 128 characters"),
    ],
)
def test_fails_at_load_when_aws_would_refuse_a_default_tag(
    env_data: dict[str, Any], tags: dict[str, str], message: str
) -> None:
    data = env_data["dev"]
    data["tags"] = tags
    with pytest.raises(Exception, match=message):
        parse_environment(data, source="dev.toml")
