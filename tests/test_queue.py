"""A worker's queue (``[services.<name>.queue]``): config errors, the Queue construct's JSON, and the
environments that run a worker."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from cdktf import TerraformStack

from config import EnvironmentConfig
from config.naming import SQS_QUEUE_NAME_MAX
from config.queue import QueueConfig
from config.schema import ENVIRONMENT_MAX, PROJECT_MAX, SERVICE_MAX
from modules import Queue
from modules.block import AlarmPolicy, Naming, Signal, stateful_types
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, ref, resources, synth_construct

WORKER = "job-worker"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1a2b3c4d-1111-2222-3333-444455556666"
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sqs:*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


# --- config ------------------------------------------------------------------------------------


def with_queue(env_data: dict[str, Data], **queue: Any) -> Data:
    """The dev file (whose job-worker is a worker) with ``queue`` settings on its queue."""
    data = env_data["dev"]
    data["services"][WORKER]["queue"].update(queue)
    return data


def test_a_queue_defaults_to_long_polling_five_receives_and_a_dead_letter_queue_kept_14_days(
    env_data: dict[str, Data],
) -> None:
    data = env_data["dev"]
    data["services"][WORKER]["queue"] = {}
    queue = parse(data).services[WORKER].queue

    assert queue is not None
    assert (queue.receive_wait_time_seconds, queue.max_receive_count) == (20, 5)
    assert (queue.message_retention_seconds, queue.dead_letter_retention_seconds) == (4 * 86400, 14 * 86400)
    assert (queue.visibility_timeout_seconds, queue.kms_data_key_reuse_seconds, queue.senders) == (30, 300, [])
    assert (queue.alarms.dead_letter_messages, queue.alarms.oldest_message_age_seconds) == (0, 900)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("visibility_timeout_seconds", 43201, "must be between 0 and 43200, got 43201"),
        ("message_retention_seconds", 59, "must be between 60 and 1209600, got 59"),
        ("receive_wait_time_seconds", 21, "must be between 0 and 20, got 21"),
        ("max_receive_count", 0, "must be between 1 and 1000, got 0"),
        ("dead_letter_retention_seconds", 1209601, "must be between 60 and 1209600, got 1209601"),
        ("kms_data_key_reuse_seconds", 30, "must be between 60 and 86400, got 30"),
    ],
)
def test_fails_when_a_queue_setting_is_out_of_sqs_bounds(
    env_data: dict[str, Data], setting: str, value: int, message: str
) -> None:
    fails(with_queue(env_data, **{setting: value}), rf"services\.job-worker\.queue\.{setting} = {value}: {message}")


def test_fails_when_the_dead_letter_queue_keeps_messages_shorter_than_the_queue(env_data: dict[str, Data]) -> None:
    fails(
        with_queue(env_data, message_retention_seconds=7 * 86400, dead_letter_retention_seconds=86400),
        r"services\.job-worker\.queue\.dead_letter_retention_seconds = 86400: must be at least "
        r"message_retention_seconds \(604800\): a message keeps its original enqueue time .*",
    )


def test_fails_when_a_sender_is_not_a_service(env_data: dict[str, Data]) -> None:
    fails(
        with_queue(env_data, senders=["customer-service", "billing"]),
        r"services\.job-worker\.queue\.senders\[1\] = 'billing': is not a service of this environment; known: "
        r"customer-service, job-worker, movie-service, rating-service",
    )


def test_fails_when_a_sender_is_listed_twice(env_data: dict[str, Data]) -> None:
    fails(
        with_queue(env_data, senders=["customer-service", "customer-service"]),
        r"services\.job-worker\.queue\.senders\[1\] = 'customer-service': is listed twice",
    )


def test_fails_when_a_queue_alarm_is_out_of_range(env_data: dict[str, Data]) -> None:
    fails(
        with_queue(env_data, alarms={"oldest_message_age_seconds": 30}),
        r"services\.job-worker\.queue\.alarms\.oldest_message_age_seconds = 30: must be between 60 and 1209600, got 30",
    )


def test_fails_when_a_queue_key_setting_is_given_without_the_environments_key(env_data: dict[str, Data]) -> None:
    data = with_queue(env_data, kms_data_key_reuse_seconds=600)
    data["encryption"] = {"customer_managed_key": False}
    data["compute"].pop("exec")  # ECS Exec needs the key
    for service in data["services"].values():
        service.get("task", {}).pop("enable_execute_command", None)
    fails(
        data,
        r"services\.job-worker\.queue\.kms_data_key_reuse_seconds = 600: is set but encryption\.customer_managed_key "
        r"is false .*",
    )


def test_fails_when_a_queue_alarm_is_set_without_monitoring(env_data: dict[str, Data]) -> None:
    data = with_queue(env_data, alarms={"dead_letter_messages": 3})
    data["monitoring"] = {"enabled": False}
    fails(
        data,
        r"services\.job-worker\.queue\.alarms\.dead_letter_messages = 3: is set but monitoring\.enabled is false .*",
    )


def test_fails_when_a_worker_has_no_route_to_sqs_without_nat(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["network"]["nat"] = "none"
    data["network"]["endpoints"] = {"interface": ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssmmessages", "kms"]}
    fails(
        data,
        r"network\.endpoints\.interface = .*: must include sqs with network\.nat = 'none', or tasks cannot start: "
        r"without NAT they reach AWS only through these \(sqs to poll \(and send to\) the queue of job-worker\); .*",
    )


def test_an_sqs_endpoint_lets_a_worker_run_without_nat(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["network"]["nat"] = "none"
    data["network"]["endpoints"] = {
        "interface": ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssmmessages", "kms", "sqs"]
    }

    assert "sqs" in parse(data).network.endpoints.interface


# --- construct ---------------------------------------------------------------------------------


def settings(**values: Any) -> QueueConfig:
    return QueueConfig.model_validate(values)


def build(
    stack: TerraformStack, queue: QueueConfig, *, key: Any = None, naming: Naming = NAMING, service: str = WORKER
) -> Queue:
    return Queue(stack, f"queue-{service}", service=service, settings=queue, naming=naming, key=key)


def synth_queue(queue: QueueConfig | None = None, *, key: Any = None) -> tuple[Json, Queue]:
    built: list[Queue] = []
    document = synth_construct(lambda stack: built.append(build(stack, queue or settings(), key=key)))
    return document, built[0]


@pytest.fixture(scope="module")
def encrypted() -> tuple[Json, Queue]:
    return synth_queue(
        settings(visibility_timeout_seconds=120, max_receive_count=3, kms_data_key_reuse_seconds=900),
        key=SimpleNamespace(arn=KEY),
    )


def queues(document: Json) -> tuple[Json, Json]:
    """The worker's queue and its dead-letter queue."""
    by_name = {q["name"]: q for q in resources(document, "aws_sqs_queue").values()}
    assert set(by_name) == {f"netflux-unit-{WORKER}", f"netflux-unit-{WORKER}-dlq"}
    return by_name[f"netflux-unit-{WORKER}"], by_name[f"netflux-unit-{WORKER}-dlq"]


def test_both_queues_are_encrypted_with_the_given_key(encrypted: tuple[Json, Queue]) -> None:
    document, _ = encrypted
    for queue in queues(document):
        assert queue["kms_master_key_id"] == KEY
        assert queue["kms_data_key_reuse_period_seconds"] == 900
        assert "sqs_managed_sse_enabled" not in queue


def test_without_the_environments_key_both_queues_use_sqs_managed_encryption() -> None:
    document, _ = synth_queue()
    for queue in queues(document):
        assert queue["sqs_managed_sse_enabled"] is True
        assert "kms_master_key_id" not in queue


def test_failed_messages_move_to_the_dead_letter_queue_after_max_receive_count(encrypted: tuple[Json, Queue]) -> None:
    document, _ = encrypted
    queue, dead_letter = queues(document)

    assert json.loads(queue["redrive_policy"]) == {
        "deadLetterTargetArn": ref(document, "aws_sqs_queue", dead_letter, "arn"),
        "maxReceiveCount": 3,
    }
    assert (queue["visibility_timeout_seconds"], queue["receive_wait_time_seconds"]) == (120, 20)
    assert (queue["message_retention_seconds"], dead_letter["message_retention_seconds"]) == (345600, 1209600)
    assert "redrive_policy" not in dead_letter


def test_the_dead_letter_queue_accepts_messages_from_this_queue_only(encrypted: tuple[Json, Queue]) -> None:
    document, _ = encrypted
    queue, dead_letter = queues(document)
    allow = only(document, "aws_sqs_queue_redrive_allow_policy")

    assert allow["queue_url"] == ref(document, "aws_sqs_queue", dead_letter, "url")
    assert json.loads(allow["redrive_allow_policy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [ref(document, "aws_sqs_queue", queue, "arn")],
    }


def test_both_queues_refuse_requests_not_made_over_tls(encrypted: tuple[Json, Queue]) -> None:
    document, _ = encrypted
    policies = {p["queue_url"]: json.loads(p["policy"]) for p in resources(document, "aws_sqs_queue_policy").values()}
    for queue in queues(document):
        policy = policies[ref(document, "aws_sqs_queue", queue, "url")]
        assert policy["Statement"] == [{**TLS_ONLY, "Resource": ref(document, "aws_sqs_queue", queue, "arn")}]
    assert len(policies) == 2


def test_consumers_get_exactly_this_queue_and_the_key_only_through_sqs(encrypted: tuple[Json, Queue]) -> None:
    _, queue = encrypted
    through_sqs = {"StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}}

    assert queue.consume_statements() == [
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            "Resource": [queue.arn],
        },
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY], "Condition": through_sqs},
    ]
    assert queue.send_statements() == [
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [queue.arn]},
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": [KEY],
            "Condition": through_sqs,
        },
    ]


def test_without_a_key_no_kms_statement_is_granted() -> None:
    _, queue = synth_queue()
    assert [s["Action"] for s in queue.consume_statements() + queue.send_statements()] == [
        ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        ["sqs:SendMessage"],
    ]


def test_the_queue_declares_dead_letter_and_age_alarms() -> None:
    _, queue = synth_queue(settings(alarms={"dead_letter_messages": 2, "oldest_message_age_seconds": 600}))
    dead_letter, age = queue.alarms(AlarmPolicy(period_seconds=60, evaluation_periods=3))

    assert (dead_letter.construct_id, dead_letter.metric, dead_letter.threshold) == (
        f"queue-dead-letter-{WORKER}",
        "ApproximateNumberOfMessagesVisible",
        2,
    )
    assert dead_letter.dimensions == {"QueueName": queue.dead_letter_name}
    assert (age.construct_id, age.metric, age.threshold) == (
        f"queue-age-{WORKER}",
        "ApproximateAgeOfOldestMessage",
        600,
    )
    assert age.dimensions == {"QueueName": queue.name}
    for alarm in (dead_letter, age):
        assert (alarm.namespace, alarm.statistic.value, alarm.signal) == ("AWS/SQS", "Maximum", Signal.QUEUE)
        assert alarm.signal.treat_missing_data == "notBreaching"


def test_queues_are_stateful() -> None:
    assert "aws_sqs_queue" in stateful_types()


def test_the_longest_allowed_names_fit_sqs() -> None:
    naming = Naming(project="p" * PROJECT_MAX, environment="e" * ENVIRONMENT_MAX, region="eu-west-1")
    name = "s" * SERVICE_MAX
    document = synth_construct(lambda stack: build(stack, settings(), naming=naming, service=name))

    names = sorted(q["name"] for q in resources(document, "aws_sqs_queue").values())
    assert names == [f"{naming.prefix}-{name}", f"{naming.prefix}-{name}-dlq"]
    assert all(len(n) <= SQS_QUEUE_NAME_MAX and re.fullmatch(r"[A-Za-z0-9_-]+", n) for n in names)


# --- the environments with a worker ---------------------------------------------------------------


def by_name(document: Json, resource_type: str, name: str, key: str = "name") -> tuple[str, Json]:
    [(logical_id, found)] = [(k, v) for k, v in resources(document, resource_type).items() if v.get(key) == name]
    return logical_id, found


def environment_of(document: Json, env: str, service: str) -> dict[str, str]:
    _, task = by_name(document, "aws_ecs_task_definition", f"netflux-{env}-{service}", key="family")
    [definition] = json.loads(task["container_definitions"])
    return {item["name"]: item["value"] for item in definition.get("environment", [])}


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_the_worker_consumes_its_own_encrypted_queue_and_customer_service_sends_to_it(
    synthesized: dict[str, Json], env: str
) -> None:
    document = synthesized[env]
    queue_id, _ = by_name(document, "aws_sqs_queue", f"netflux-{env}-{WORKER}")
    [key_id] = [k for k in resources(document, "aws_kms_key") if k.startswith("kms_key_")]  # the environment's
    for queue in resources(document, "aws_sqs_queue").values():
        assert queue["kms_master_key_id"] == f"${{aws_kms_key.{key_id}.arn}}"
    url, arn = f"${{aws_sqs_queue.{queue_id}.url}}", f"${{aws_sqs_queue.{queue_id}.arn}}"

    assert environment_of(document, env, WORKER)["QUEUE_URL"] == url
    assert environment_of(document, env, "customer-service")["JOB_WORKER_QUEUE_URL"] == url
    assert "JOB_WORKER_QUEUE_URL" not in environment_of(document, env, "movie-service")
    granted = {
        policy["name"].removeprefix(f"netflux-{env}-"): [
            s["Action"] for s in json.loads(policy["policy"])["Statement"] if arn in s["Resource"]
        ]
        for policy in resources(document, "aws_iam_role_policy").values()
        if arn in policy["policy"]
    }
    assert granted == {
        f"{WORKER}-task": [
            ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
        ],
        "customer-service-task": [["sqs:SendMessage"]],
        # staging's nightly job runs customer-service's image with customer-service's data access.
        **({"purge-sessions-task": [["sqs:SendMessage"]]} if env == "staging" else {}),
    }
    assert document["output"]["queue_urls"]["value"] == {WORKER: url}


def test_staging_scales_its_worker_on_the_backlog_and_dev_runs_one_task(synthesized: dict[str, Json]) -> None:
    _, backlog = by_name(synthesized["staging"], "aws_appautoscaling_policy", f"netflux-staging-{WORKER}-backlog")
    configuration = backlog["target_tracking_scaling_policy_configuration"]

    assert configuration["target_value"] == 10
    assert configuration["customized_metric_specification"]["metrics"][-1]["expression"] == "visible / tasks"
    assert not resources(synthesized["dev"], "aws_appautoscaling_policy")


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_the_worker_and_the_backend_have_no_target_group_rule_or_unhealthy_alarm(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    tagged = {r["tags"]["service"] for r in resources(document, "aws_lb_target_group").values()}
    alarms = {a["alarm_name"] for a in resources(document, "aws_cloudwatch_metric_alarm").values()}

    assert tagged == {"movie-service", "customer-service"}
    assert {f"netflux-{env}-unhealthy-{name}" for name in environments[env].services} & alarms == {
        f"netflux-{env}-unhealthy-movie-service",
        f"netflux-{env}-unhealthy-customer-service",
    }
    assert {f"netflux-{env}-queue-dead-letter-{WORKER}", f"netflux-{env}-queue-age-{WORKER}"} <= alarms


def test_prod_has_no_worker_queue(synthesized: dict[str, Json]) -> None:
    # Its only queue is its nightly job's dead-letter queue (tests/test_job.py).
    assert [q["name"] for q in resources(synthesized["prod"], "aws_sqs_queue").values()] == [
        "netflux-prod-purge-sessions-dlq"
    ]
    assert "queue_urls" not in synthesized["prod"]["output"]


def test_staging_queue_ids_are_pinned(synthesized: dict[str, Json]) -> None:
    # Construct IDs are a contract (tests/test_stateful_ids.py): a rename would drop the queued messages.
    assert sorted(resources(synthesized["staging"], "aws_sqs_queue")) == [
        "job-purge-sessions_dead-letter-queue_DDC4A9C3",
        "queue-job-worker_dead-letter_5BAC3584",
        "queue-job-worker_queue_83D508EE",
    ]
