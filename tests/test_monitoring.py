"""The alarm topic and the alarms every block declares (``Block.alarms``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config import parse_environment
from config.data import max_connections
from config.edge import MonitoringConfig
from modules import Monitoring
from modules.block import Alarm, AlarmPolicy, Block, Comparison, Signal, Statistic
from tests.synth import Json, only, ref, resources, synth_construct


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


def synth_monitoring(*declared: list[Alarm], **settings: Any) -> Json:
    config = MonitoringConfig(**{"alarm_emails": ["ops@example.com", "oncall@example.com"], **settings})

    def build(stack: Any) -> None:
        blocks = [Declares(stack, f"block-{index}", alarms) for index, alarms in enumerate(declared)]
        Monitoring(stack, "monitoring", settings=config, name="netflux-unit", watched=blocks)

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
    assert len(found) == 3 + 9 + 2 + 2 * 3


def test_the_beanstalk_example_watches_its_own_load_balancer_and_health(synthesized_examples: dict[str, Json]) -> None:
    found = {
        a["alarm_name"].removeprefix("netflux-beanstalk-")
        for a in resources(synthesized_examples["beanstalk"], "aws_cloudwatch_metric_alarm").values()
    }
    assert {"alb-target-5xx", "alb-elb-5xx", "eb-health", "rds-cpu", "redis-cpu-001"} <= found
    assert not any(name.startswith(("ecs-", "unhealthy-")) for name in found)


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


def test_fails_at_load_when_the_connections_alarm_cannot_know_max_connections(env_data: dict[str, Any]) -> None:
    data = env_data["dev"]
    data["database"]["instance_class"] = "db.t4g.nano"
    with pytest.raises(
        Exception, match=r"database\.alarms\.max_connections = None: is required for instance class db\.t4g\.nano"
    ):
        parse_environment(data, source="dev.toml")
    data["database"]["alarms"] = {"max_connections": 40}
    parse_environment(data, source="dev.toml")
    data["database"].pop("alarms")
    data["monitoring"]["enabled"] = False
    data["monitoring"].pop("alarm_emails")
    parse_environment(data, source="dev.toml")


# --- each block's [<block>.alarms] table ---------------------------------------------------------------


def test_free_storage_threshold_is_a_share_of_allocated_storage_unless_absolute() -> None:
    from config.alarms import DatabaseAlarmsConfig

    assert DatabaseAlarmsConfig(free_storage_percent=25).free_storage_threshold_gib(100) == 25.0
    assert DatabaseAlarmsConfig(free_storage_gib=7).free_storage_threshold_gib(100) == 7.0


@pytest.mark.parametrize(
    ("table", "alarms", "match"),
    [
        ("database", {"cpu_percent": 0}, r"database\.alarms\.cpu_percent = 0: must be between 1 and 100 %, got 0"),
        (
            "database",
            {"connections_percent": 150},
            r"database\.alarms\.connections_percent = 150: must be between 1 and 100 %",
        ),
        (
            "database",
            {"free_storage_percent": 100},
            r"database\.alarms\.free_storage_percent = 100: must be between 1 and 99 %",
        ),
        (
            "database",
            {"free_storage_gib": 0},
            r"database\.alarms\.free_storage_gib = 0: must be between 1 and 65536 GiB",
        ),
        ("database", {"max_connections": 0}, r"database\.alarms\.max_connections = 0: must be between 1 and"),
        ("cache", {"memory_percent": 120}, r"cache\.alarms\.memory_percent = 120: must be between 1 and 100 %"),
        ("cache", {"evictions": -1}, r"cache\.alarms\.evictions = -1: must be between 0 and 1000000"),
        ("alb", {"target_5xx_count": -1}, r"alb\.alarms\.target_5xx_count = -1: must be between 0 and 1000000"),
        ("alb", {"cpu": 80}, r"alb\.alarms\.cpu = 80: unknown key; allowed keys here: target_5xx_count, elb_5xx_count"),
    ],
)
def test_fails_when_a_blocks_alarm_threshold_is_out_of_range(
    env_data: dict[str, Any], table: str, alarms: dict[str, Any], match: str
) -> None:
    data = env_data["dev"]
    data.setdefault(table, {})["alarms"] = alarms
    with pytest.raises(Exception, match=match):
        parse_environment(data, source="dev.toml")


@pytest.mark.parametrize(
    ("alarms", "match"),
    [
        ({"memory_percent": -5}, r"services\.movie-service\.alarms\.memory_percent = -5: must be between 1 and 100 %"),
        ({"unhealthy_hosts": -1}, r"services\.movie-service\.alarms\.unhealthy_hosts = -1: must be between 0 and 1000"),
    ],
)
def test_fails_when_a_services_alarm_threshold_is_out_of_range(
    env_data: dict[str, Any], alarms: dict[str, Any], match: str
) -> None:
    data = env_data["dev"]
    data["services"]["movie-service"]["alarms"] = alarms
    with pytest.raises(Exception, match=match):
        parse_environment(data, source="dev.toml")
