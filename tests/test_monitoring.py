"""Monitoring (``[monitoring]``): config errors (tier 1), the alarm topic and the alarms every block
declares (``Block.alarms``) on synthesized JSON (tier 2), and the alarms of every environment (tier 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config import EnvironmentConfig
from config.monitoring import MonitoringConfig
from modules import Monitoring
from modules.block import Alarm, AlarmPolicy, Block, Comparison, Naming, Signal, Statistic
from tests.config_check import Data, fails
from tests.synth import Json, only, ref, resources, synth_construct

NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
ENVIRONMENTS = ["dev", "staging", "prod"]


class Declares(Block):
    """A stand-in block declaring fixed alarms."""

    def __init__(self, scope: Any, construct_id: str, declared: list[Alarm]) -> None:
        super().__init__(scope, construct_id)
        self.declared = declared

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        return self.declared


CPU = Alarm(
    construct_id="x-cpu", namespace="AWS/X", metric="CPU", dimensions={"Id": "x"}, threshold=80, description="X CPU"
)
ERRORS = Alarm(
    construct_id="x-errors",
    namespace="AWS/X",
    metric="Errors",
    dimensions={"Id": "x"},
    threshold=5,
    statistic=Statistic.SUM,
    signal=Signal.SPARSE,
    comparison=Comparison.AT_OR_ABOVE,
    evaluation_periods=9,
    description="X errors",
)


# --- config ----------------------------------------------------------------------------------------


def test_alarms_are_on_in_every_environment_with_whole_minute_periods(
    environments: dict[str, EnvironmentConfig],
) -> None:
    assert MonitoringConfig().enabled
    assert MonitoringConfig().alarm_emails == []
    for config in environments.values():
        assert config.monitoring.enabled
        assert config.monitoring.period_seconds % 60 == 0


@pytest.mark.parametrize(
    ("monitoring", "line"),
    [
        (
            {"period_seconds": 90},
            r"monitoring\.period_seconds = 90: must be a multiple of 60 seconds between 60 and 86400 .*",
        ),
        ({"period_seconds": 30}, r"monitoring\.period_seconds = 30: must be a multiple of 60 seconds .*"),
        ({"evaluation_periods": 0}, r"monitoring\.evaluation_periods = 0: must be between 1 and 100, got 0"),
        (
            {"period_seconds": 3600, "evaluation_periods": 25},
            r"monitoring\.evaluation_periods = 25: times period_seconds \(3600\) must be at most 86400 s .*",
        ),
        (
            {"alarm_emails": ["ops@example.com", "not-an-email"]},
            r"monitoring\.alarm_emails\[1\] = 'not-an-email': must be an email address such as ops@example\.com",
        ),
        (
            {"alarm_emails": ["ops@example"]},
            r"monitoring\.alarm_emails\[0\] = 'ops@example': must be an email address .*",
        ),
        (
            {"alarm_emails": ["ops@example.com", "OPS@example.com"]},
            r"monitoring\.alarm_emails\[1\] = 'OPS@example\.com': is listed twice",
        ),
        (
            {"kms_key_arn": "alias/aws/sns"},
            r"monitoring\.kms_key_arn = 'alias/aws/sns': must be a KMS key ARN, .*",
        ),
    ],
)
def test_fails_on_bad_monitoring_settings(env_data: dict[str, Data], monitoring: Data, line: str) -> None:
    data = env_data["dev"]
    data["monitoring"] = monitoring
    fails(data, line)


# --- construct ------------------------------------------------------------------------------------


def synth_monitoring(*declared: list[Alarm], **settings: Any) -> Json:
    config = MonitoringConfig(**{"alarm_emails": ["ops@example.com", "oncall@example.com"], **settings})

    def build(stack: Any) -> None:
        blocks = [Declares(stack, f"block-{index}", alarms) for index, alarms in enumerate(declared)]
        Monitoring(stack, "monitoring", settings=config, naming=NAMING, watched=blocks)

    return synth_construct(build)


def alarms(document: Json) -> dict[str, Json]:
    return {
        alarm["alarm_name"].removeprefix("netflux-unit-"): alarm
        for alarm in resources(document, "aws_cloudwatch_metric_alarm").values()
    }


def test_every_declared_alarm_notifies_the_topic_on_alarm_and_recovery() -> None:
    document = synth_monitoring([CPU], [ERRORS], period_seconds=60, evaluation_periods=4)
    topic = ref(document, "aws_sns_topic", only(document, "aws_sns_topic"), "arn")
    found = alarms(document)

    assert set(found) == {"x-cpu", "x-errors"}
    for alarm in found.values():
        assert (alarm["alarm_actions"], alarm["ok_actions"], alarm["period"]) == ([topic], [topic], 60)
    assert (found["x-cpu"]["evaluation_periods"], found["x-errors"]["evaluation_periods"]) == (4, 9)
    assert found["x-cpu"]["alarm_description"] == (
        "X CPU. Missing data: missing (always reported while the resource runs; a gap is not evidence of the condition)."
    )
    errors = found["x-errors"]
    assert (errors["statistic"], errors["comparison_operator"], errors["treat_missing_data"]) == (
        "Sum",
        "GreaterThanOrEqualToThreshold",
        "notBreaching",
    )


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use_and_has_email_subscriptions() -> None:
    document = synth_monitoring([CPU])
    topic = only(document, "aws_sns_topic")
    key = only(document, "aws_kms_key")
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    subscriptions = resources(document, "aws_sns_topic_subscription").values()

    assert topic["kms_master_key_id"] == ref(document, "aws_kms_key", key, "arn")
    assert key["enable_key_rotation"] is True
    assert statements["CloudWatchAlarmsPublish"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(statements["CloudWatchAlarmsPublish"]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert sorted(s["endpoint"] for s in subscriptions) == ["oncall@example.com", "ops@example.com"]


def test_a_given_key_is_used_instead_of_creating_one() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    document = synth_monitoring([CPU], kms_key_arn=key)

    assert only(document, "aws_sns_topic")["kms_master_key_id"] == key
    assert not resources(document, "aws_kms_key")


def test_blocks_declaring_nothing_get_a_topic_and_no_alarms() -> None:
    document = synth_monitoring([], [])
    assert not resources(document, "aws_cloudwatch_metric_alarm")
    assert only(document, "aws_sns_topic")


def test_fails_when_two_blocks_declare_the_same_alarm() -> None:
    with pytest.raises(ValueError, match="two blocks declare the alarm 'x-cpu'"):
        synth_monitoring([CPU], [CPU])


def test_a_sustained_alarm_spans_at_least_its_duration() -> None:
    assert AlarmPolicy(period_seconds=60, evaluation_periods=3).periods_for(300) == 5
    assert AlarmPolicy(period_seconds=300, evaluation_periods=3).periods_for(300) == 3
    assert AlarmPolicy(period_seconds=60, evaluation_periods=3).periods_for(None) == 3


# --- what the blocks declare, in the synthesized environments ---------------------------------------


def test_prods_blocks_declare_their_alarms_with_their_own_thresholds(synthesized: dict[str, Json]) -> None:
    found = {
        a["alarm_name"].removeprefix("netflux-prod-"): a
        for a in resources(synthesized["prod"], "aws_cloudwatch_metric_alarm").values()
    }
    # database (defaults of [database.alarms]): db.m7g.large has 8 GiB -> 811 connections; 80 % of that.
    assert found["rds-cpu"]["threshold"] == 80
    assert found["rds-free-storage"]["threshold"] == 100 * 10 / 100 * 1024**3  # 10 % of 100 GiB
    assert found["rds-connections"]["threshold"] == 648
    # cache: three nodes, one set each
    assert {f"redis-{m}-{n:03d}" for m in ("cpu", "memory", "evictions") for n in (1, 2, 3)} <= set(found)
    # load balancer and services
    assert {"alb-target-5xx", "alb-elb-5xx"} <= set(found)
    for service in ("movie-service", "customer-service"):
        assert {f"ecs-cpu-{service}", f"ecs-memory-{service}", f"unhealthy-{service}"} <= set(found)
    # jobs: purge-sessions' dead-letter queue
    assert "job-dead-letters-purge-sessions" in found
    assert len(found) == 3 + 9 + 2 + 2 * 3 + 1


def topic_ref(document: Json) -> str:
    [topic_id] = resources(document, "aws_sns_topic")
    return f"${{aws_sns_topic.{topic_id}.arn}}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alarm_notifies_the_topic_when_firing_and_recovering(synthesized: dict[str, Json], env: str) -> None:
    document = synthesized[env]
    topic = topic_ref(document)
    alarms = resources(document, "aws_cloudwatch_metric_alarm").values()
    assert alarms
    for alarm in alarms:
        assert alarm["alarm_actions"] == [topic], alarm["alarm_name"]
        assert alarm["ok_actions"] == [topic], alarm["alarm_name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarms_cover_every_tier_the_environment_has(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    metrics: dict[str, int] = {}
    for alarm in resources(synthesized[env], "aws_cloudwatch_metric_alarm").values():
        metrics[alarm["metric_name"]] = metrics.get(alarm["metric_name"], 0) + 1
    services = len(config.services)
    web = sum(1 for service in config.services.values() if service.kind == "web")
    queues = sum(1 for service in config.services.values() if service.queue is not None)
    # A scheduled job's dead-letter queue (runs the scheduler could not start) is not empty.
    job_queues = sum(1 for job in config.jobs.values() if job.schedule is not None and job.schedule.dead_letter_queue)
    nodes = config.cache.num_cache_clusters if config.cache else 0
    assert metrics["UnHealthyHostCount"] == web  # a backend or worker has no target group
    assert metrics["MemoryUtilization"] == services
    # A worker's queue: its dead-letter queue not empty, its oldest message too old.
    assert metrics.get("ApproximateNumberOfMessagesVisible", 0) == queues + job_queues
    assert metrics.get("ApproximateAgeOfOldestMessage", 0) == queues
    assert metrics["HTTPCode_Target_5XX_Count"] == metrics["HTTPCode_ELB_5XX_Count"] == 1
    assert metrics["CPUUtilization"] == services + (1 if config.database else 0)  # ECS per service + RDS
    assert metrics["FreeStorageSpace"] == metrics["DatabaseConnections"] == (1 if config.database else 0)
    for cache_metric in ("EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions"):
        assert metrics[cache_metric] == nodes


def test_alarm_emails_subscribe_to_the_topic(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig]
) -> None:
    subscriptions = resources(synthesized["prod"], "aws_sns_topic_subscription").values()
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(environments["prod"].monitoring.alarm_emails)
    assert {s["protocol"] for s in subscriptions} == {"email"}
