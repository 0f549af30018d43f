"""Scheduled and one-off jobs (``[jobs.<name>]``): config errors, the construct's JSON, every environment,
`make run-job` (tools/run_job.py) without AWS, and `make run-job` against the emulated AWS (emulator tier)."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cdktf import TerraformStack

from config import ConfigError, EnvironmentConfig, parse_environment
from config.job import JobConfig
from modules import Job
from modules.block import AlarmPolicy, Naming
from tests.config_check import fails, parse
from tests.synth import Json, only, ref, resources, synth_construct
from tests.test_service import build_services, by_name, container, statements
from tools import preflight
from tools import run_job as run_job_tool
from tools.emulator import Emulator

Data = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-1111-2222-3333-444455556666"
TOKEN_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/unit/cache-AbC123"
DB_CONNECT = {"Effect": "Allow", "Action": ["rds-db:connect"], "Resource": ["arn:aws:rds-db:x:y:dbuser:db-1/movie"]}
READ_TOKEN = {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [TOKEN_ARN]}
CLUSTER = "netflux-dev"
TASK_ARN = "arn:aws:ecs:eu-west-1:111122223333:task/netflux-dev/0123456789abcdef0123456789abcdef"
JOB = "migrate-movies"
ENVIRONMENTS = ["dev", "staging", "prod"]


def with_job(env_data: dict[str, Data], name: str = "migrate", **job: Any) -> Data:
    """The dev file with one more job (movie-service's image, a command) and ``job``'s settings."""
    data = env_data["dev"]
    data.setdefault("jobs", {})[name] = {"service": "movie-service", "command": ["./bin/migrate", "up"], **job}
    return data


def scheduled(env_data: dict[str, Data], expression: str = "cron(0 3 * * ? *)", **schedule: Any) -> Data:
    return with_job(env_data, schedule={"expression": expression, **schedule})


# --- config ------------------------------------------------------------------------------------


def test_a_job_needs_only_a_service_and_a_command(env_data: dict[str, Data]) -> None:
    job = parse(with_job(env_data)).jobs["migrate"]

    assert (job.cpu, job.memory_mib, job.timeout_minutes, job.schedule) == (256, 512, 60, None)


def test_a_schedule_defaults_to_utc_retries_and_a_dead_letter_queue(env_data: dict[str, Data]) -> None:
    schedule = parse(scheduled(env_data)).jobs["migrate"].schedule

    assert schedule is not None
    assert (schedule.timezone, schedule.paused) == ("UTC", False)
    assert (schedule.retry_attempts, schedule.max_event_age_minutes, schedule.dead_letter_queue) == (2, 60, True)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 3 * * ? *)",
        "cron(0/15 8-18 ? * MON-FRI *)",
        "cron(*/5 * * * ? *)",
        "cron(15 10 1,15 JAN,JUL ? 2027)",
        "cron(0 12 L * ? *)",
        "cron(0 8 15W * ? *)",
        "cron(0 9 ? * 6L *)",
        "cron(0 9 ? * MON#1 *)",
        "cron(30 2 ? * 1-5 2026-2030)",
        "rate(1 minute)",
        "rate(15 minutes)",
        "rate(1 hour)",
        "rate(1 day)",
        "rate(7 days)",
    ],
)
def test_accepts_eventbridge_scheduler_cron_and_rate_expressions(env_data: dict[str, Data], expression: str) -> None:
    schedule = parse(scheduled(env_data, expression)).jobs["migrate"].schedule

    assert schedule is not None
    assert schedule.expression == expression


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "every day at 3",
            r"must be cron\(<minutes> <hours> .*\) or rate\(<value> .*\), e\.g\. cron\(0 3 \* \* \? \*\)",
        ),
        ("at(2027-01-01T00:00:00)", r"must be cron\(.*\) or rate\(.*\)"),
        ("cron(0 3 * * ?)", r"must be cron\(.*\): six fields separated by single spaces, got 5"),
        ("cron(0 25 * * ? *)", r"must be a valid cron expression: in the hours field, '25' is not 0-23"),
        ("cron(60 3 * * ? *)", r"must be a valid cron expression: in the minutes field, '60' is not 0-59"),
        ("cron(0 3 * FOO ? *)", r"must be a valid cron expression: in the month field, 'FOO' is not 1-12 or JAN-DEC"),
        ("cron(0 3 ? * 8 *)", r"must be a valid cron expression: in the day-of-week field, '8' is not 1-7 or SUN-SAT"),
        ("cron(0 3 * * ? 1969)", r"must be a valid cron expression: in the year field, '1969' is not 1970-2199"),
        (
            "cron(0/0 3 * * ? *)",
            r"must be a valid cron expression: in the minutes field, the increment in '0/0' is not a whole number from 1 to 59",
        ),
        (
            "cron(? 3 * * ? *)",
            r"must be a valid cron expression: in the minutes field, '\?' is only allowed in day-of-month and day-of-week",
        ),
        (
            "cron(0 3 * * * *)",
            r"must be a valid cron expression: exactly one of day-of-month and day-of-week must be '\?'",
        ),
        (
            "cron(0 3 ? * ? *)",
            r"must be a valid cron expression: exactly one of day-of-month and day-of-week must be '\?'",
        ),
        (
            "rate(0 minutes)",
            r"must be rate\(<value> <unit>\) with a whole number from 1 and a unit of minute\(s\), hour\(s\) or day\(s\)",
        ),
        ("rate(5 weeks)", r"must be rate\(<value> .*\) with a whole number from 1"),
        (
            "rate(1 hours)",
            r"must be a valid rate expression: the unit is singular for 1 \(rate\(1 hour\)\) and plural otherwise",
        ),
        (
            "rate(5 minute)",
            r"must be a valid rate expression: the unit is singular for 1 .* and plural otherwise \(rate\(2 hours\)\)",
        ),
    ],
)
def test_fails_when_the_schedule_expression_is_not_one_eventbridge_scheduler_takes(
    env_data: dict[str, Data], expression: str, message: str
) -> None:
    fails(
        scheduled(env_data, expression),
        rf"jobs\.migrate\.schedule\.expression = {re.escape(repr(expression))}: {message}.*",
    )


def test_fails_when_the_time_zone_is_not_in_the_iana_database_and_suggests_close_names(
    env_data: dict[str, Data],
) -> None:
    fails(
        scheduled(env_data, timezone="Europe/Dublinn"),
        re.escape("jobs.migrate.schedule.timezone = 'Europe/Dublinn': must be an IANA time zone name such as UTC, ")
        + r"Europe/Dublin or America/New_York; did you mean Europe/Dublin.*\?",
    )


def test_fails_when_the_time_zone_is_an_abbreviation_or_an_offset(env_data: dict[str, Data]) -> None:
    for zone in ("CEST", "+01:00", "Mars/Olympus"):
        fails(
            scheduled(env_data, timezone=zone),
            re.escape(f"jobs.migrate.schedule.timezone = {zone!r}: must be an IANA") + ".*",
        )


def test_accepts_iana_time_zones(env_data: dict[str, Data]) -> None:
    for zone in ("UTC", "Europe/Dublin", "America/Argentina/Buenos_Aires", "Asia/Kolkata"):
        schedule = parse(scheduled(env_data, timezone=zone)).jobs["migrate"].schedule
        assert schedule is not None
        assert schedule.timezone == zone


def test_fails_when_the_service_is_unknown(env_data: dict[str, Data]) -> None:
    fails(
        with_job(env_data, service="search"),
        re.escape(
            "jobs.migrate.service = 'search': must name a service of this environment ([services.<name>]): "
            "movie-service, customer-service, rating-service, job-worker"
        ),
    )


def test_fails_when_a_job_is_named_like_a_service(env_data: dict[str, Data]) -> None:
    fails(
        with_job(env_data, name="customer-service"),
        r"jobs\.customer-service = 'customer-service': is also a service's name: .*rename the job",
    )


def test_fails_when_the_job_name_is_not_a_slug(env_data: dict[str, Data]) -> None:
    fails(
        with_job(env_data, name="Migrate_DB"),
        r"jobs\.Migrate_DB = 'Migrate_DB': job name must be lowercase letters, digits and single hyphens.*",
    )


def test_fails_in_an_environment_without_an_ecs_cluster() -> None:
    path = ROOT / "examples" / "beanstalk" / "beanstalk.toml"
    data = tomllib.loads(path.read_text())
    data["jobs"] = {"migrate": {"service": "api", "command": ["./migrate"]}}

    with pytest.raises(ConfigError) as caught:
        parse_environment(data, source="examples/beanstalk/beanstalk.toml", expected_name="beanstalk")

    assert caught.value.lines == [
        "examples/beanstalk/beanstalk.toml: jobs.migrate = 'migrate': needs compute.kind = 'fargate': a job runs a "
        "Fargate service's image on the environment's ECS cluster, which compute.kind = 'beanstalk' does not build"
    ]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ([], r"jobs\.migrate\.command = \[\]: must have 1 to 50 arguments, got 0"),
        (["x"] * 51, r"jobs\.migrate\.command = \[.*\]: must have 1 to 50 arguments, got 51"),
        (["./migrate", ""], r"jobs\.migrate\.command\[1\] = '': must be 1 to 1024 characters without NUL, got 0"),
        (
            ["a" * 1025],
            r"jobs\.migrate\.command\[0\] = 'a{77}\.\.\.': must be 1 to 1024 characters without NUL, got 1025",
        ),
        ("./bin/migrate up", r"jobs\.migrate\.command = './bin/migrate up': must be a list"),
    ],
)
def test_fails_when_the_command_is_not_a_bounded_list_of_arguments(
    env_data: dict[str, Data], command: Any, message: str
) -> None:
    fails(with_job(env_data, command=command), message)


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("latest", r"must name one immutable build \(a version or commit SHA\): repositories use IMMUTABLE tags.*"),
        ("v1/2", r"must be a Docker tag: up to 128 letters.*"),
    ],
)
def test_fails_when_the_image_tag_is_not_one_immutable_build(env_data: dict[str, Data], tag: str, message: str) -> None:
    fails(with_job(env_data, image_tag=tag), rf"jobs\.migrate\.image_tag = {re.escape(repr(tag))}: {message}")


def test_fails_when_the_command_holds_a_secret_and_never_prints_it(env_data: dict[str, Data]) -> None:
    url = "postgres://admin:hunter2@db.internal/netflux"
    data = with_job(env_data, command=["./bin/migrate", "--url", url])

    fails(
        data, r"jobs\.migrate\.command\[2\] = <redacted>: holds a password inside a postgres:// URL; .*task\.secrets.*"
    )
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (
            {"cpu": 300},
            r"jobs\.migrate\.cpu = 300: must be one of Fargate's task sizes: 256, 512, 1024, 2048, 4096, 8192, 16384",
        ),
        (
            {"cpu": 256, "memory_mib": 4096},
            re.escape(
                "jobs.migrate.memory_mib = 4096: is not a valid Fargate size for cpu = 256; allowed memory_mib: 512, 1024, 2048"
            ),
        ),
        ({"cpu": 4096, "memory_mib": 4096}, r"jobs\.migrate\.memory_mib = 4096: .*8192 to 30720 in steps of 1024 .*"),
        ({"timeout_minutes": 0}, r"jobs\.migrate\.timeout_minutes = 0: must be between 1 and 1440, got 0"),
        ({"timeout_minutes": 1441}, r"jobs\.migrate\.timeout_minutes = 1441: must be between 1 and 1440, got 1441"),
        ({"timeout_minutes": "30"}, r"jobs\.migrate\.timeout_minutes = '30': must be a whole number"),
    ],
)
def test_fails_when_size_or_timeout_is_out_of_bounds(env_data: dict[str, Data], job: Data, message: str) -> None:
    fails(with_job(env_data, **job), message)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"retry_attempts": 186}, r"schedule\.retry_attempts = 186: must be between 0 and 185, got 186"),
        ({"max_event_age_minutes": 0}, r"schedule\.max_event_age_minutes = 0: must be between 1 and 1440, got 0"),
        (
            {"enabled": False},
            r"schedule\.enabled = False: unknown key; allowed keys here: expression, timezone, paused, .*",
        ),
        ({"flexible_window_minutes": 15}, r"schedule\.flexible_window_minutes = 15: unknown key; .*"),
    ],
)
def test_fails_when_a_schedule_setting_is_out_of_bounds_or_unknown(
    env_data: dict[str, Data], schedule: Data, message: str
) -> None:
    fails(scheduled(env_data, **schedule), rf"jobs\.migrate\.{message}")


def test_reports_every_problem_of_several_jobs_at_once(env_data: dict[str, Data]) -> None:
    data = with_job(env_data, cpu=300)
    data["jobs"]["report"] = {"service": "movie-service", "command": [], "schedule": {"expression": "rate(0 days)"}}

    with pytest.raises(ConfigError) as caught:
        parse(data)

    assert [line.split(" = ")[0] for line in caught.value.lines] == [
        "environments/dev.toml: jobs.migrate.cpu",
        "environments/dev.toml: jobs.report.command",
        "environments/dev.toml: jobs.report.schedule.expression",
    ]


# --- construct ---------------------------------------------------------------------------------


def data_access() -> SimpleNamespace:
    """The data tier's part of movie-service: a setting, the cache token and the database user."""
    return SimpleNamespace(
        environment={"RDS_ENDPOINT": "db.internal"},
        secrets={"REDIS_AUTH_TOKEN": TOKEN_ARN},
        task_statements=[DB_CONNECT],
        execution_statements=[READ_TOKEN],
    )


def build(stack: TerraformStack, job: Data, *, key: SimpleNamespace | None = None) -> Job:
    """GIVEN movie-service (its image tag, settings, health check, read-only root, ARM64) and one job of it."""
    service_settings = {
        "task": {
            "image_tag": "1.4.2",
            "cpu_architecture": "ARM64",
            "environment": {"LOG_LEVEL": "info"},
            "log_retention_days": 90,
            "container_health_check": {"command": ["CMD-SHELL", "wget -q -O- localhost:8080/health"]},
        }
    }
    services = build_services(stack, {"movie-service": service_settings}, data_access=data_access(), key=key)
    settings = JobConfig.model_validate({"service": "movie-service", "command": ["./bin/migrate", "up"], **job})
    return Job(
        stack,
        "job-migrate",
        name="migrate",
        settings=settings,
        naming=NAMING,
        cluster=stack.node.find_child("cluster"),  # type: ignore[arg-type]
        service=services["movie-service"],
        network=SimpleNamespace(private_app_subnet_ids=["subnet-a", "subnet-b"]),  # type: ignore[arg-type]
        security_groups=SimpleNamespace(app_sg_id="sg-app"),  # type: ignore[arg-type]
        key=key,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def on_demand() -> Json:
    return synth_construct(lambda stack: build(stack, {"cpu": 512, "memory_mib": 2048}))


@pytest.fixture(scope="module")
def nightly() -> Json:
    schedule = {"expression": "cron(30 3 * * ? *)", "timezone": "Europe/Dublin", "retry_attempts": 3}
    return synth_construct(lambda stack: build(stack, {"schedule": schedule}, key=SimpleNamespace(arn=KEY_ARN)))


def job_task(document: Json) -> Json:
    return by_name(document, "aws_ecs_task_definition", "netflux-unit-migrate", key="family")


def test_the_job_runs_its_services_image_settings_and_secrets_with_its_own_command(on_demand: Json) -> None:
    job, service = container(on_demand, "migrate"), container(on_demand, "movie-service")

    assert job["image"] == service["image"]
    assert job["image"].endswith(":1.4.2")
    assert (
        job["environment"]
        == service["environment"]
        == [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "RDS_ENDPOINT", "value": "db.internal"},
        ]
    )
    assert job["secrets"] == service["secrets"] == [{"name": "REDIS_AUTH_TOKEN", "valueFrom": TOKEN_ARN}]
    assert job["command"] == ["./bin/migrate", "up"]
    assert "command" not in service


def test_another_tag_of_the_services_image_runs_the_next_release_before_the_service_does() -> None:
    document = synth_construct(lambda stack: build(stack, {"image_tag": "1.5.0"}))
    job, service = container(document, "migrate"), container(document, "movie-service")

    assert service["image"].endswith(":1.4.2")
    assert job["image"] == service["image"].removesuffix(":1.4.2") + ":1.5.0"


def test_the_job_serves_no_port_and_has_no_health_check(on_demand: Json) -> None:
    job = container(on_demand, "migrate")

    assert "portMappings" not in job
    assert "healthCheck" not in job  # a one-shot task: the service's check would probe a port nothing serves
    assert "linuxParameters" not in job


def test_the_job_keeps_its_services_read_only_root_and_architecture_with_its_own_size(on_demand: Json) -> None:
    task = job_task(on_demand)

    assert container(on_demand, "migrate")["readonlyRootFilesystem"] is True
    assert task["volume"] == [{"name": "tmp"}]
    assert (task["cpu"], task["memory"]) == ("512", "2048")
    assert task["runtime_platform"] == {"operating_system_family": "LINUX", "cpu_architecture": "ARM64"}
    assert (task["requires_compatibilities"], task["network_mode"]) == (["FARGATE"], "awsvpc")


def test_the_job_logs_to_its_own_group_kept_as_long_as_its_services(on_demand: Json) -> None:
    group = by_name(on_demand, "aws_cloudwatch_log_group", "/ecs/netflux-unit-migrate")

    assert group["retention_in_days"] == 90
    assert container(on_demand, "migrate")["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": ref(on_demand, "aws_cloudwatch_log_group", group, "name"),
            "awslogs-region": "eu-west-1",
            "awslogs-stream-prefix": "migrate",
        },
    }


def test_the_log_group_is_encrypted_with_the_environment_key(nightly: Json) -> None:
    assert by_name(nightly, "aws_cloudwatch_log_group", "/ecs/netflux-unit-migrate")["kms_key_id"] == KEY_ARN


def test_the_job_has_roles_of_its_own_with_its_services_data_access(on_demand: Json) -> None:
    task = job_task(on_demand)
    execution = by_name(on_demand, "aws_iam_role", "netflux-unit-migrate-execution")
    task_role = by_name(on_demand, "aws_iam_role", "netflux-unit-migrate-task")
    service_task_policy = by_name(on_demand, "aws_iam_role_policy", "netflux-unit-movie-service-task")

    assert task["execution_role_arn"] == ref(on_demand, "aws_iam_role", execution, "arn")
    assert task["task_role_arn"] == ref(on_demand, "aws_iam_role", task_role, "arn")
    assert (
        statements(by_name(on_demand, "aws_iam_role_policy", "netflux-unit-migrate-task"))
        == statements(service_task_policy)
        == [DB_CONNECT]
    )


def test_the_execution_role_pulls_the_services_image_and_writes_only_the_jobs_logs(on_demand: Json) -> None:
    found = statements(by_name(on_demand, "aws_iam_role_policy", "netflux-unit-migrate-execution"))
    repository = ref(on_demand, "aws_ecr_repository", only(on_demand, "aws_ecr_repository"), "arn")
    group = ref(
        on_demand,
        "aws_cloudwatch_log_group",
        by_name(on_demand, "aws_cloudwatch_log_group", "/ecs/netflux-unit-migrate"),
        "arn",
    )

    assert {
        "Effect": "Allow",
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Resource": [repository],
    } in found
    assert {
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [group, f"{group}:*"],
    } in found
    assert READ_TOKEN in found
    assert "movie-service" not in json.dumps([s for s in found if s["Action"][0].startswith("logs:")])


def test_without_a_schedule_there_is_nothing_to_start_it(on_demand: Json) -> None:
    for resource_type in ("aws_scheduler_schedule", "aws_sqs_queue"):
        assert resources(on_demand, resource_type) == {}
    assert not [r for r in resources(on_demand, "aws_iam_role").values() if "scheduler" in r["name"]]


def test_the_schedule_starts_the_task_definition_on_fargate_in_the_private_app_subnets(nightly: Json) -> None:
    schedule = only(nightly, "aws_scheduler_schedule")
    cluster = only(nightly, "aws_ecs_cluster")

    assert schedule["name"] == "netflux-unit-migrate"
    assert (schedule["schedule_expression"], schedule["schedule_expression_timezone"]) == (
        "cron(30 3 * * ? *)",
        "Europe/Dublin",
    )
    assert (schedule["flexible_time_window"], schedule["state"], schedule["group_name"]) == (
        {"mode": "OFF"},
        "ENABLED",
        "default",
    )
    assert schedule["kms_key_arn"] == KEY_ARN
    target = schedule["target"]
    assert target["arn"] == ref(nightly, "aws_ecs_cluster", cluster, "arn")
    assert target["ecs_parameters"] == {
        "task_definition_arn": ref(nightly, "aws_ecs_task_definition", job_task(nightly), "arn"),
        "task_count": 1,
        "launch_type": "FARGATE",
        "platform_version": "LATEST",
        "network_configuration": {
            "subnets": ["subnet-a", "subnet-b"],
            "security_groups": ["sg-app"],
            "assign_public_ip": False,
        },
        "enable_ecs_managed_tags": True,
        "propagate_tags": "TASK_DEFINITION",
    }
    assert target["retry_policy"] == {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600}


def test_the_schedule_waits_for_the_permissions_a_run_needs(nightly: Json) -> None:
    depends = only(nightly, "aws_scheduler_schedule")["depends_on"]

    ids = [d.split(".", 1)[1].split("_") for d in depends]
    assert sorted((scope, name) for scope, name, _ in ids) == [
        ("job-migrate", "execution-policy"),
        ("job-migrate", "scheduler-policy"),
    ]


def test_only_eventbridge_scheduler_of_this_account_may_assume_the_scheduler_role(nightly: Json) -> None:
    role = by_name(nightly, "aws_iam_role", "netflux-unit-migrate-scheduler")
    [trust] = json.loads(role["assume_role_policy"])["Statement"]

    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRole"]
    assert list(trust["Condition"]["StringEquals"]) == ["aws:SourceAccount"]
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"].startswith("${data.aws_caller_identity.")


def scheduler_statements(document: Json) -> dict[str, Json]:
    found = statements(by_name(document, "aws_iam_role_policy", "netflux-unit-migrate-scheduler"))
    return {" ".join(s["Action"]): s for s in found}


def test_the_scheduler_role_may_run_only_this_task_family_in_this_cluster(nightly: Json) -> None:
    run = scheduler_statements(nightly)["ecs:RunTask"]
    task = ref(nightly, "aws_ecs_task_definition", job_task(nightly), "arn_without_revision")

    assert run["Resource"] == [f"{task}:*"]
    assert run["Condition"] == {
        "ArnEquals": {"ecs:cluster": ref(nightly, "aws_ecs_cluster", only(nightly, "aws_ecs_cluster"), "arn")}
    }


def test_the_scheduler_role_passes_exactly_the_jobs_two_roles_to_ecs(nightly: Json) -> None:
    passing = scheduler_statements(nightly)["iam:PassRole"]
    roles = [
        ref(nightly, "aws_iam_role", by_name(nightly, "aws_iam_role", f"netflux-unit-migrate-{kind}"), "arn")
        for kind in ("execution", "task")
    ]

    assert passing["Resource"] == roles
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


def test_the_scheduler_role_tags_only_the_tasks_it_starts_and_uses_the_key_only_for_its_queue_and_schedule(
    nightly: Json,
) -> None:
    found = scheduler_statements(nightly)
    tag = found["ecs:TagResource"]
    queue = ref(nightly, "aws_sqs_queue", only(nightly, "aws_sqs_queue"), "arn")

    assert tag["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}
    assert re.fullmatch(
        r"arn:\$\{data\.aws_partition\.[^}]+\}:ecs:eu-west-1:\$\{[^}]+\}:task/\$\{aws_ecs_cluster\.[^}]+\.name\}/\*",
        tag["Resource"][0],
    )
    assert found["sqs:SendMessage"]["Resource"] == [queue]
    assert found["kms:Decrypt kms:GenerateDataKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}
    }
    [context] = found["kms:Decrypt"]["Condition"]["StringEquals"].values()
    assert context.endswith(":schedule/default/netflux-unit-migrate")
    assert sorted(found) == [
        "ecs:RunTask",
        "ecs:TagResource",
        "iam:PassRole",
        "kms:Decrypt",
        "kms:Decrypt kms:GenerateDataKey",
        "sqs:SendMessage",
    ]
    assert all("*" not in statement["Resource"] for statement in found.values())


def test_failed_starts_go_to_an_encrypted_dead_letter_queue_that_raises_an_alarm() -> None:
    jobs: list[Job] = []

    def build_nightly(stack: TerraformStack) -> None:
        jobs.append(build(stack, {"schedule": {"expression": "rate(1 day)"}}, key=SimpleNamespace(arn=KEY_ARN)))

    document = synth_construct(build_nightly)
    queue = only(document, "aws_sqs_queue")
    [alarm] = jobs[0].alarms(AlarmPolicy(period_seconds=60, evaluation_periods=1))

    assert queue["name"] == "netflux-unit-migrate-dlq"
    assert (queue["kms_master_key_id"], queue["message_retention_seconds"]) == (KEY_ARN, 14 * 24 * 3600)
    assert only(document, "aws_scheduler_schedule")["target"]["dead_letter_config"] == {
        "arn": ref(document, "aws_sqs_queue", queue, "arn")
    }
    assert (alarm.namespace, alarm.metric, alarm.threshold) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible", 0)
    assert list(alarm.dimensions) == ["QueueName"]  # the queue's name: a token here, resolved in the stack


def test_without_the_environment_key_the_queue_uses_sqs_managed_encryption_and_no_key_is_granted() -> None:
    document = synth_construct(lambda stack: build(stack, {"schedule": {"expression": "rate(1 day)"}}))

    queue = only(document, "aws_sqs_queue")
    assert queue["sqs_managed_sse_enabled"] is True
    assert "kms_master_key_id" not in queue
    assert "kms_key_arn" not in only(document, "aws_scheduler_schedule")
    assert not [a for a in scheduler_statements(document) if a.startswith("kms:")]


def test_a_paused_schedule_without_dead_letter_queue_is_disabled_and_alarms_nothing() -> None:
    jobs: list[Job] = []
    schedule = {"expression": "rate(1 day)", "paused": True, "dead_letter_queue": False}

    document = synth_construct(lambda stack: jobs.append(build(stack, {"schedule": schedule})))

    assert only(document, "aws_scheduler_schedule")["state"] == "DISABLED"
    assert "dead_letter_config" not in only(document, "aws_scheduler_schedule")["target"]
    assert resources(document, "aws_sqs_queue") == {}
    assert jobs[0].alarms(AlarmPolicy(period_seconds=60, evaluation_periods=1)) == []


# --- every environment -------------------------------------------------------------------------


def task_of(document: Json, family: str) -> Json:
    return by_name(document, "aws_ecs_task_definition", family, key="family")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_migrates_with_movie_services_image_and_database_user(
    synthesized: dict[str, Json], env: str
) -> None:
    document = synthesized[env]
    job = json.loads(task_of(document, f"netflux-{env}-migrate-movies")["container_definitions"])[0]
    service = json.loads(task_of(document, f"netflux-{env}-movie-service")["container_definitions"])[0]

    assert job["command"] == ["./bin/migrate", "up"]
    assert (job["image"], job["environment"], job.get("secrets")) == (
        service["image"],
        service["environment"],
        service.get("secrets"),
    )
    assert {"name": "RDS_USERNAME", "value": "movie_service"} in job["environment"]
    task_policy = by_name(document, "aws_iam_role_policy", f"netflux-{env}-migrate-movies-task")
    assert [s["Action"] for s in statements(task_policy)] == [
        s["Action"] for s in statements(by_name(document, "aws_iam_role_policy", f"netflux-{env}-movie-service-task"))
    ]
    group = by_name(document, "aws_cloudwatch_log_group", f"/ecs/netflux-{env}-migrate-movies")
    assert group["kms_key_id"] == "${aws_kms_key.kms_key_28C05A0F.arn}"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_purge_sessions_nightly_in_irish_time_with_a_dead_letter_queue(
    synthesized: dict[str, Json], env: str
) -> None:
    document = synthesized[env]
    schedule = only(document, "aws_scheduler_schedule")

    assert schedule["name"] == f"netflux-{env}-purge-sessions"
    assert (schedule["schedule_expression"], schedule["schedule_expression_timezone"]) == (
        "cron(30 3 * * ? *)",
        "Europe/Dublin",
    )
    assert schedule["target"]["ecs_parameters"]["task_definition_arn"] == ref(
        document, "aws_ecs_task_definition", task_of(document, f"netflux-{env}-purge-sessions"), "arn"
    )
    [queue] = [q for q in resources(document, "aws_sqs_queue").values() if q["name"].endswith("purge-sessions-dlq")]
    assert queue["kms_master_key_id"] == "${aws_kms_key.kms_key_28C05A0F.arn}"
    alarm = by_name(
        document, "aws_cloudwatch_metric_alarm", f"netflux-{env}-job-dead-letters-purge-sessions", key="alarm_name"
    )
    assert alarm["dimensions"] == {"QueueName": ref(document, "aws_sqs_queue", queue, "name")}


def test_dev_runs_its_migration_on_demand_only(synthesized: dict[str, Json]) -> None:
    dev = synthesized["dev"]
    assert resources(dev, "aws_scheduler_schedule") == {}
    # dev's queues are its worker's (and that one's dead-letter queue), none a job's.
    assert all(not logical_id.startswith("job-") for logical_id in resources(dev, "aws_sqs_queue"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_ecs_jobs_output_names_what_run_job_starts_a_task_with(synthesized: dict[str, Json], env: str) -> None:
    document = synthesized[env]
    outputs = document["output"]
    jobs = outputs["ecs_jobs"]["value"]

    assert set(jobs) == ({"migrate-movies"} if env == "dev" else {"migrate-movies", "purge-sessions"})
    migrate = jobs["migrate-movies"]
    assert migrate["task_definition_family"] == f"netflux-{env}-migrate-movies"
    assert migrate["container_name"] == "migrate-movies"
    assert migrate["log_group_name"].startswith("${aws_cloudwatch_log_group.job-migrate-movies_logs_")
    assert migrate["subnet_ids"] == outputs["private_app_subnet_ids"]["value"]
    assert migrate["security_group_ids"] == [
        ref(document, "aws_security_group", by_name(document, "aws_security_group", f"netflux-{env}-app"))
    ]
    assert outputs["ecs_cluster_name"]["value"].startswith("${aws_ecs_cluster.")


def test_the_beanstalk_example_has_no_job_output(synthesized_examples: dict[str, Json]) -> None:
    assert "ecs_jobs" not in synthesized_examples["beanstalk"]["output"]


# --- make run-job, without AWS -----------------------------------------------------------------

TERRAFORM = "make run-job needs the terraform CLI (>= 1.10) on PATH"
CDKTF = "make run-job needs the cdktf CLI (node_modules/.bin/cdktf)"
CREDENTIALS = "make run-job needs AWS credentials"
OUTPUTS = {
    "ecs_cluster_name": CLUSTER,
    "ecs_jobs": {
        JOB: {
            "task_definition_family": "netflux-dev-migrate-movies",
            "container_name": JOB,
            "log_group_name": "/ecs/netflux-dev-migrate-movies",
            "subnet_ids": ["subnet-a", "subnet-b"],
            "security_group_ids": ["sg-app"],
        }
    },
}


def executable(directory: Path, name: str, body: str = "exit 0") -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def stand_ins(directory: Path, outputs: Data) -> Path:
    """A PATH with terraform and a cdktf that writes ``outputs`` as dev's stack outputs (``cdktf output
    STACK --outputs-file PATH``)."""
    directory.mkdir(exist_ok=True)
    executable(directory, "terraform")
    executable(directory, "cdktf", f"echo '{json.dumps({'netflux-dev': outputs})}' > \"$4\"")
    return directory


def target() -> run_job_tool.JobTarget:
    return run_job_tool.job_target(OUTPUTS, "netflux-dev", JOB)


class FakeEcs:
    """ECS answering RunTask with one task and DescribeTasks with ``statuses`` in turn; records the calls."""

    def __init__(self, *statuses: Data, run_answer: Data | None = None) -> None:
        self.calls: list[tuple[str, Data]] = []
        self.statuses = list(statuses)
        self.run_answer = run_answer or {"tasks": [{"taskArn": TASK_ARN}], "failures": []}

    def run_task(self, **request: Any) -> Data:
        self.calls.append(("run_task", request))
        return self.run_answer

    def describe_tasks(self, **request: Any) -> Data:
        self.calls.append(("describe_tasks", request))
        task = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"tasks": [{"taskArn": TASK_ARN, **task}]}

    def stop_task(self, **request: Any) -> Data:
        self.calls.append(("stop_task", request))
        return {}


def stopped(exit_code: int | None = None, **task: Any) -> Data:
    container_state: Data = {"name": JOB, "lastStatus": "STOPPED"}
    if exit_code is not None:
        container_state["exitCode"] = exit_code
    else:
        container_state["reason"] = "CannotPullContainerError: pull image manifest has been retried 1 time(s)"
    return {"lastStatus": "STOPPED", "containers": [container_state], **task}


def follow(ecs: FakeEcs, *, timeout_minutes: int = 30, clock: Iterator[float] | None = None) -> int:
    ticks = clock or iter(range(0, 10_000, 10))
    return run_job_tool.run(
        target(),
        ecs,
        region="eu-west-1",
        timeout_minutes=timeout_minutes,
        poll_seconds=0,
        clock=lambda: float(next(ticks)),
        sleep=lambda seconds: None,
    )


def test_names_every_missing_tool_and_the_credentials_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(preflight, "ROOT", tmp_path)  # no node_modules/.bin/cdktf either

    status = run_job_tool.main(["dev", JOB], environ={"PATH": str(empty)}, home=tmp_path)

    lines = capsys.readouterr().err.splitlines()
    assert status == 2
    assert [line[: len(start) + 7] for line, start in zip(lines, (TERRAFORM, CDKTF, CREDENTIALS), strict=True)] == [
        f"error: {start}" for start in (TERRAFORM, CDKTF, CREDENTIALS)
    ]


@pytest.mark.parametrize(
    ("job", "line"),
    [
        ("", "error: set JOB to one of: migrate-movies (e.g. make run-job ENV=dev JOB=<name>)"),
        ("seed", "error: unknown JOB='seed'; the jobs of dev are: migrate-movies"),
    ],
)
def test_names_the_jobs_when_job_is_missing_or_unknown(
    tmp_path: Path, job: str, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = stand_ins(tmp_path / "bin", OUTPUTS)

    status = run_job_tool.main(["dev", job], environ={"PATH": str(tools), "AWS_PROFILE": "dev"}, home=tmp_path)

    assert (status, capsys.readouterr().err.splitlines()) == (2, [line])


def test_an_environment_without_jobs_says_where_to_add_one(environments: dict[str, EnvironmentConfig]) -> None:
    config = environments["dev"].model_copy(update={"jobs": {}})

    assert run_job_tool.job_refusal(config, JOB, "environments/dev.toml") == (
        "dev has no jobs: add a [jobs.<name>] table to environments/dev.toml and deploy"
    )


def test_an_unknown_environment_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_job_tool.main(["qa", JOB], environ={"PATH": ""}) == 2
    assert capsys.readouterr().err.splitlines() == ["error: unknown ENV='qa'; environments are: dev, prod, staging"]


def test_an_undeployed_job_is_one_line() -> None:
    with pytest.raises(
        run_job_tool.RunJobError, match=r"netflux-dev has no deployed job migrate-movies .*make deploy ENV=dev"
    ):
        run_job_tool.job_target({"ecs_cluster_name": CLUSTER, "ecs_jobs": {}}, "netflux-dev", JOB)


def test_runs_one_fargate_task_of_the_latest_revision_where_the_schedule_would() -> None:
    assert run_job_tool.run_task_request(target()) == {
        "cluster": CLUSTER,
        "taskDefinition": "netflux-dev-migrate-movies",
        "count": 1,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-a", "subnet-b"],
                "securityGroups": ["sg-app"],
                "assignPublicIp": "DISABLED",
            }
        },
        "startedBy": "make-run-job",
        "enableECSManagedTags": True,
        "propagateTags": "TASK_DEFINITION",
    }


def test_waits_until_the_task_stops_and_returns_the_containers_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    ecs = FakeEcs({"lastStatus": "PROVISIONING"}, {"lastStatus": "RUNNING"}, {"lastStatus": "RUNNING"}, stopped(3))

    assert follow(ecs) == 3
    assert [name for name, _ in ecs.calls] == ["run_task", *["describe_tasks"] * 4]
    lines = capsys.readouterr().err.splitlines()
    assert (
        lines[0] == "run-job: started migrate-movies in netflux-dev (eu-west-1): task 0123456789abcdef0123456789abcdef"
    )
    assert lines[1] == (
        "run-job: logs: /ecs/netflux-dev-migrate-movies, stream migrate-movies/migrate-movies/0123456789abcdef0123456789abcdef"
    )
    assert lines[3:] == [
        "run-job: PROVISIONING",
        "run-job: RUNNING",
        "run-job: STOPPED",
        "run-job: migrate-movies exited 3",
    ]


def test_a_container_killed_for_its_memory_says_why() -> None:
    task = stopped(137)
    task["containers"][0]["reason"] = "OutOfMemoryError: Container killed due to memory usage"

    assert run_job_tool.outcome(task, JOB) == (
        137,
        "exited 137 (OutOfMemoryError: Container killed due to memory usage)",
    )


def test_a_task_that_never_ran_exits_1_with_ecs_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    ecs = FakeEcs(
        stopped(stopCode="TaskFailedToStart", stoppedReason="ResourceInitializationError: unable to pull secrets")
    )

    assert follow(ecs) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "run-job: migrate-movies stopped without an exit code (it did not run to its end): TaskFailedToStart; "
        "ResourceInitializationError: unable to pull secrets; CannotPullContainerError: pull image manifest has been "
        "retried 1 time(s)"
    )


def test_a_task_ecs_could_not_place_is_one_line() -> None:
    failures = {"tasks": [], "failures": [{"reason": "RESOURCE:ENI", "detail": "no free addresses in subnet-a"}]}

    with pytest.raises(
        run_job_tool.RunJobError,
        match=r"^ECS could not start migrate-movies: RESOURCE:ENI: no free addresses in subnet-a$",
    ):
        follow(FakeEcs({}, run_answer=failures))


def test_an_api_error_is_one_line() -> None:
    class Refusing(FakeEcs):
        def run_task(self, **request: Any) -> Data:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: ecs:RunTask"}},
                "RunTask",
            )

    with pytest.raises(
        run_job_tool.RunJobError,
        match=r"^run_task failed: AccessDeniedException: not authorized to perform: ecs:RunTask$",
    ):
        follow(Refusing({}))


def test_stops_the_task_after_timeout_minutes_and_exits_124(capsys: pytest.CaptureFixture[str]) -> None:
    ecs = FakeEcs({"lastStatus": "RUNNING"})

    assert follow(ecs, timeout_minutes=1, clock=iter([0, 30, 59, 60, 61])) == 124
    assert ecs.calls[-1] == (
        "stop_task",
        {"cluster": CLUSTER, "task": TASK_ARN, "reason": "make run-job: timeout_minutes (1) passed"},
    )
    assert (
        capsys.readouterr().err.splitlines()[-1]
        == "run-job: migrate-movies ran longer than timeout_minutes (1): stopped it"
    )


def test_ctrl_c_leaves_the_task_running_and_says_how_to_stop_it(capsys: pytest.CaptureFixture[str]) -> None:
    class Interrupted(FakeEcs):
        def describe_tasks(self, **request: Any) -> Data:
            raise KeyboardInterrupt

    assert follow(Interrupted({})) == 130
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"run-job: interrupted; the task keeps running. Stop it with: aws ecs stop-task --region eu-west-1 "
        f"--cluster {CLUSTER} --task {TASK_ARN}"
    )


class FakeSts:
    def __init__(self, account: str) -> None:
        self.account = account
        self.calls: list[tuple[str, Data]] = []

    def assume_role(self, **request: Any) -> Data:
        self.calls.append(("assume_role", request))
        return {"Credentials": {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": "t"}}

    def get_caller_identity(self) -> Data:
        return {"Account": self.account}


def test_refuses_credentials_of_another_account(environments: dict[str, EnvironmentConfig]) -> None:
    sts = FakeSts("777788889999")

    with pytest.raises(
        run_job_tool.RunJobError,
        match=r"^the AWS credentials are for account 777788889999, and dev lives in 111122223333",
    ):
        run_job_tool.ecs_client(environments["dev"], lambda service, **credentials: sts)


def test_assumes_the_environments_role_before_checking_the_account(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["account"]["assume_role"] = {"role_arn": "arn:aws:iam::111122223333:role/deploy", "external_id": "netflux-ops"}
    config = parse(data)
    sts, made = FakeSts("111122223333"), []

    def factory(service: str, **credentials: str) -> Any:
        made.append((service, credentials))
        return sts

    run_job_tool.ecs_client(config, factory)

    assert sts.calls == [
        (
            "assume_role",
            {
                "RoleArn": "arn:aws:iam::111122223333:role/deploy",
                "RoleSessionName": "netflux-dev",
                "ExternalId": "netflux-ops",
            },
        )
    ]
    assumed = {"aws_access_key_id": "ASIA", "aws_secret_access_key": "s", "aws_session_token": "t"}
    assert made == [("sts", {}), ("sts", assumed), ("ecs", assumed)]


@pytest.mark.slow  # the stand-in cdktf runs as a subprocess
def test_make_run_job_reads_the_outputs_and_exits_with_the_jobs_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN stand-in CLIs (cdktf writes dev's outputs) and AWS answering for dev's account WHEN make
    run-job runs THEN it starts the job's task from the outputs and exits with the container's code."""
    tools = stand_ins(tmp_path / "bin", OUTPUTS)
    ecs = FakeEcs({"lastStatus": "RUNNING"}, stopped(0))

    def factory(service: str, **credentials: str) -> Any:
        return FakeSts("111122223333") if service == "sts" else ecs

    status = run_job_tool.main(
        ["dev", JOB, "--poll-seconds", "0"],
        environ={"PATH": str(tools), "AWS_PROFILE": "dev"},
        home=tmp_path,
        factory=factory,
    )

    assert status == 0
    assert ecs.calls[0] == ("run_task", run_job_tool.run_task_request(target()))
    assert capsys.readouterr().err.splitlines()[-1] == "run-job: migrate-movies exited 0"


# --- make run-job against the emulated AWS (make e2e's emulator tier) ---------------------------

DEV_ACCOUNT_ROLE = "arn:aws:iam::111122223333:role/emulator"
FAMILY = "netflux-dev-migrate-movies"


def aws(emulator: Emulator, service: str, **credentials: str) -> Any:
    import botocore.session

    keys = credentials or {"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"}
    return botocore.session.get_session().create_client(
        service, region_name="eu-west-1", endpoint_url=emulator.endpoint, **keys
    )


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, dict[str, str], dict[str, Any]]]:
    """The emulator holding, in dev's account (111122223333), what dev's stack would: a VPC with two
    private-app subnets, the app security group, the cluster, and the job's task definition as the stack
    writes it (no container-level memory); tasks move RUNNING -> ... -> STOPPED one DescribeTasks at a
    time. Yields the emulator, dev's credentials and the stack outputs make run-job reads."""
    with Emulator(tmp_path_factory.mktemp("run-job-emulator")) as emulator:
        assumed = aws(emulator, "sts").assume_role(RoleArn=DEV_ACCOUNT_ROLE, RoleSessionName="operator")["Credentials"]
        credentials = {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
        ec2, ecs = aws(emulator, "ec2", **credentials), aws(emulator, "ecs", **credentials)
        vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
        # As dev's VPC (modules/network.py); moto names a task's network interface only with DNS hostnames on
        # (moto/ec2/models/elastic_network_interfaces.py NetworkInterface.__init__, read by moto/ecs/models.py Task).
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=f"eu-west-1{zone}")["Subnet"][
                "SubnetId"
            ]
            for i, zone in ((10, "a"), (11, "b"))
        ]
        group = ec2.create_security_group(GroupName="netflux-dev-app", Description="app", VpcId=vpc)["GroupId"]
        ecs.create_cluster(clusterName=CLUSTER)
        ecs.register_task_definition(
            family=FAMILY,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": JOB,
                    "image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/netflux-dev-movie-service:1.4.2",
                    "essential": True,
                    "command": ["./bin/migrate", "up"],
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": f"/ecs/{FAMILY}",
                            "awslogs-region": "eu-west-1",
                            "awslogs-stream-prefix": JOB,
                        },
                    },
                }
            ],
        )
        # One task state per DescribeTasks: moto's default for ECS tasks (moto/moto_api/__init__.py), set here
        # so the test does not depend on it.
        transition = {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1}}
        request = urllib.request.Request(
            f"{emulator.endpoint}/moto-api/state-manager/set-transition",
            data=json.dumps(transition).encode(),
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()
        outputs = {
            "ecs_cluster_name": CLUSTER,
            "ecs_jobs": {
                JOB: {
                    "task_definition_family": FAMILY,
                    "container_name": JOB,
                    "log_group_name": f"/ecs/{FAMILY}",
                    "subnet_ids": subnets,
                    "security_group_ids": [group],
                }
            },
        }
        yield emulator, credentials, outputs


def run_job_against(
    emulated: tuple[Emulator, dict[str, str], dict[str, Any]],
    tmp_path: Path,
    *,
    credentials: dict[str, str] | None = None,
    outputs: dict[str, Any] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m tools.run_job dev migrate-movies` as `make run-job` runs it, against the emulator."""
    emulator, dev_credentials, dev_outputs = emulated
    tools = stand_ins(tmp_path / "bin", outputs or dev_outputs)
    keys = credentials or dev_credentials
    environ = {
        "PATH": f"{tools}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
        **({"AWS_SESSION_TOKEN": keys["aws_session_token"]} if "aws_session_token" in keys else {}),
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run(
        [sys.executable, "-m", "tools.run_job", "dev", JOB, "--poll-seconds", "0.1"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.emulator
def test_make_run_job_starts_the_task_waits_for_it_to_stop_and_exits_with_its_code(
    emulated: tuple[Emulator, dict[str, str], dict[str, Any]], tmp_path: Path
) -> None:
    emulator, credentials, outputs = emulated

    result = run_job_against(emulated, tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    task_id = lines[0].rsplit(" ", 1)[-1]
    assert lines[0] == f"run-job: started migrate-movies in netflux-dev (eu-west-1): task {task_id}"
    assert lines[1] == f"run-job: logs: /ecs/{FAMILY}, stream migrate-movies/migrate-movies/{task_id}"
    # moto moves a task one state per DescribeTasks (the manual transition above): the loop waited for each.
    assert lines[3:] == [f"run-job: {s}" for s in ("DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED")] + [
        "run-job: migrate-movies exited 0"
    ]
    ecs = aws(emulator, "ecs", **credentials)
    [task] = ecs.describe_tasks(cluster=CLUSTER, tasks=[task_id])["tasks"]
    assert task["taskDefinitionArn"].endswith(f":task-definition/{FAMILY}:1")
    assert (task["launchType"], task["startedBy"], task["lastStatus"]) == ("FARGATE", "make-run-job", "STOPPED")
    assert task["taskArn"].startswith("arn:aws:ecs:eu-west-1:111122223333:task/")
    subnet = next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "subnetId")
    assert subnet == outputs["ecs_jobs"][JOB]["subnet_ids"][0]


@pytest.mark.emulator
def test_make_run_job_refuses_credentials_of_another_account_in_the_emulator(
    emulated: tuple[Emulator, dict[str, str], dict[str, Any]], tmp_path: Path
) -> None:
    moto_default = {"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"}

    result = run_job_against(emulated, tmp_path, credentials=moto_default)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: the AWS credentials are for account 123456789012, and dev lives in 111122223333 ([account] id): use "
        "dev's credentials (AWS_PROFILE)"
    ]


@pytest.mark.emulator
def test_make_run_job_says_in_one_line_when_ecs_refuses_the_task(
    emulated: tuple[Emulator, dict[str, str], dict[str, Any]], tmp_path: Path
) -> None:
    _, _, outputs = emulated
    unregistered = json.loads(json.dumps(outputs))
    unregistered["ecs_jobs"][JOB]["task_definition_family"] = "netflux-dev-never-registered"

    result = run_job_against(emulated, tmp_path, outputs=unregistered)

    assert result.returncode == 1
    assert re.fullmatch(r"error: run_task failed: ClientException: .*", result.stderr.strip()), result.stderr
