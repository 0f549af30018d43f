"""Tier 1: settings that are each valid but do not go together, or cannot be what was meant (issue 13).

Every case fails to load with clean lines naming the file, the field path, the value (or
``<redacted>`` for what may be a secret) and what is allowed: settings a switch turns off, tables
that contradict each other, numbers beyond what AWS accepts, secrets in plain variables. And one
run reports every problem of every file.
"""

from __future__ import annotations

import copy
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

import main
from config import (
    ConfigError,
    EnvironmentConfig,
    environment_files,
    example_files,
    load_environment,
    load_environments,
    parse_environment,
)
from config.errors import format_path
from config.schema import valid_tables

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "beanstalk" / "beanstalk.toml"
DEV_SOURCE = "environments/dev.toml"
EXAMPLE_SOURCE = "examples/beanstalk/beanstalk.toml"

Data = dict[str, Any]
Edit = Callable[[Data], object]

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/api-AbCdEf"
PARAMETER_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/netflux/flags"
ALL_ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs"]  # sqs: dev's worker polls its queue


def dev() -> Data:
    return tomllib.loads((ROOT / DEV_SOURCE).read_text())


def example() -> Data:
    return tomllib.loads(EXAMPLE.read_text())


def problems(data: Data) -> list[str]:
    """The error lines of ``data`` (dev or the Beanstalk example), without the file name."""
    source = EXAMPLE_SOURCE if data["environment"] == "beanstalk" else DEV_SOURCE
    with pytest.raises(ConfigError) as caught:
        parse_environment(data, source=source, expected_name=data["environment"])
    lines = caught.value.lines
    assert all(line.startswith(f"{source}: ") for line in lines), lines
    assert "Traceback" not in str(caught.value)
    return [line.removeprefix(f"{source}: ") for line in lines]


def rejects(data: Data, *expected: str) -> list[str]:
    """Loading fails with exactly one line per regex in ``expected``, in that order."""
    lines = problems(data)
    assert len(lines) == len(expected), lines
    for line, pattern in zip(lines, expected, strict=True):
        assert re.fullmatch(pattern, line), f"{line!r} does not match {pattern!r}"
    return lines


def accepts(data: Data) -> EnvironmentConfig:
    source = EXAMPLE_SOURCE if data["environment"] == "beanstalk" else DEV_SOURCE
    return parse_environment(data, source=source, expected_name=data["environment"])


def edited(base: Data, edit: Edit) -> Data:
    edit(base)
    return base


def service(data: Data, name: str = "movie-service") -> Data:
    return typing.cast(Data, data["services"][name])


def task(data: Data) -> Data:
    return typing.cast(Data, service(data).setdefault("task", {}))


# --- 4. settings a switch turns off -------------------------------------------------------------

UNUSED = r"is set but {switch}, so nothing uses it: remove it or {fix}"


def unused(path: str, value: str, switch: str, fix: str) -> str:
    return rf"{re.escape(path)} = {value}: " + UNUSED.format(switch=re.escape(switch), fix=re.escape(fix))


def switched_off(path: str, value: str, switch: str) -> str:
    return unused(path, value, f"{switch} is false", f"set {switch} = true")


UNMONITORED = ("monitoring.enabled is false (no alarm is created)", "set monitoring.enabled = true")


def _replica_class(d: Data) -> None:
    d["database"]["read_replica"] = {"enabled": False, "instance_class": "db.t4g.small"}


def _proxy_pool(d: Data) -> None:
    d["database"]["proxy"] = {"max_connections_percent": 50}


def _unmonitored(d: Data, **monitoring: Any) -> None:
    d["monitoring"] = {"enabled": False, **monitoring}


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (
            _replica_class,
            switched_off("database.read_replica.instance_class", "'db.t4g.small'", "database.read_replica.enabled"),
        ),
        (_proxy_pool, switched_off("database.proxy.max_connections_percent", "50", "database.proxy.enabled")),
        (
            lambda d: _unmonitored(d, alarm_emails=["ops@example.com"]),
            switched_off("monitoring.alarm_emails", re.escape("['ops@example.com']"), "monitoring.enabled"),
        ),
        (
            lambda d: _unmonitored(d, period_seconds=60),
            switched_off("monitoring.period_seconds", "60", "monitoring.enabled"),
        ),
        (
            lambda d: (_unmonitored(d), service(d).update(alarms={"cpu_percent": 90})),
            unused("services.movie-service.alarms.cpu_percent", "90", *UNMONITORED),
        ),
        (
            lambda d: (_unmonitored(d), d["database"].update(alarms={"max_connections": 100})),
            unused("database.alarms.max_connections", "100", *UNMONITORED),
        ),
        (
            lambda d: (_unmonitored(d), d["alb"].update(alarms={"elb_5xx_count": 5})),
            unused("alb.alarms.elb_5xx_count", "5", *UNMONITORED),
        ),
        (
            lambda d: (_unmonitored(d), d["cache"].update(alarms={"evictions": 10})),
            unused("cache.alarms.evictions", "10", *UNMONITORED),
        ),
        (
            lambda d: d["alb"]["access_logs"].update(expiry_days=30),
            switched_off("alb.access_logs.expiry_days", "30", "alb.access_logs.enabled"),
        ),
        (
            lambda d: d["frontend"]["access_logs"].update(expiry_days=30),
            switched_off("frontend.access_logs.expiry_days", "30", "frontend.access_logs.enabled"),
        ),
        (
            lambda d: d.update(frontend={"enabled": False, "price_class": "PriceClass_All"}),
            switched_off("frontend.price_class", "'PriceClass_All'", "frontend.enabled"),
        ),
        (
            lambda d: d["network"]["flow_logs"].update(enabled=False),
            switched_off("network.flow_logs.retention_days", "30", "network.flow_logs.enabled"),
        ),
        (
            lambda d: d["waf"].update(log_retention_days=30),
            switched_off("waf.log_retention_days", "30", "waf.enabled"),
        ),
        (
            lambda d: d.update(encryption={"customer_managed_key": False, "deletion_window_days": 7}),
            r"encryption\.deletion_window_days = 7: is set but encryption\.customer_managed_key is false, .*",
        ),
        (
            lambda d: d["database"].update(backup_retention_days=0, backup_window="02:00-03:00"),
            r"database\.backup_window = '02:00-03:00': is set but database\.backup_retention_days is 0 "
            r"\(automated backups off\), so nothing uses it: remove it or keep backups for 1-35 days",
        ),
        (
            lambda d: d["cache"].update(snapshot_retention_days=0, snapshot_window="03:00-04:00"),
            r"cache\.snapshot_window = '03:00-04:00': is set but snapshot_retention_days = 0 turns snapshots off, "
            r"so nothing uses it: .*",
        ),
    ],
)
def test_fails_when_a_setting_is_given_under_a_switch_that_is_off(edit: Edit, line: str) -> None:
    rejects(edited(dev(), edit), line)


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (
            lambda d: d["beanstalk"].update(managed_updates={"enabled": False, "window_start": "Sun:03:00"}),
            switched_off("beanstalk.managed_updates.window_start", "'Sun:03:00'", "beanstalk.managed_updates.enabled"),
        ),
        (
            lambda d: d["compute"].update(container_insights="disabled"),
            unused(
                "compute.container_insights",
                "'disabled'",
                "compute.kind is 'beanstalk', which builds no ECS cluster",
                "set compute.kind = 'fargate'",
            ),
        ),
        (
            lambda d: d.pop("database"),
            unused(
                "beanstalk.database_user",
                "'web_app'",
                "there is no [database]",
                "use IAM database auth",
            ),
        ),
        (
            lambda d: d["database"].update(iam_auth=False),
            r"beanstalk\.database_user = 'web_app': is set but database\.iam_auth is false, so the instances sign "
            r"in as the master user, so nothing uses it: .*",
        ),
    ],
)
def test_fails_when_a_beanstalk_setting_is_given_where_it_is_not_used(edit: Edit, line: str) -> None:
    rejects(edited(example(), edit), line)


def test_every_setting_a_switch_ignores_is_reported_in_one_run() -> None:
    data = dev()
    service(data)["scaling"] = {"autoscaling": False, "min_count": 1, "max_count": 3}
    rejects(
        data,
        r"services\.movie-service\.scaling\.min_count = 1: is only used when autoscaling = true; .*",
        r"services\.movie-service\.scaling\.max_count = 3: is only used when autoscaling = true; .*",
    )


def test_fails_when_an_immutable_beanstalk_deployment_is_given_batch_settings() -> None:
    data = example()
    data["beanstalk"]["deployment_policy"] = "Immutable"
    rejects(
        data,
        r"beanstalk\.batch_size_type = 'Fixed': is only used by rolling deployments; .*",
        r"beanstalk\.batch_size = 1: is only used by rolling deployments; .*",
    )


def test_defaults_under_a_switch_that_is_off_are_not_settings_the_file_gives() -> None:
    data = dev()
    data["database"]["read_replica"] = {"enabled": False}
    data["database"]["proxy"] = {"enabled": False}
    data["monitoring"] = {"enabled": False}
    data["frontend"] = {"enabled": False}
    data["network"]["flow_logs"] = {"enabled": False}

    config = accepts(data)
    assert config.database is not None
    assert config.database.read_replica.instance_class is None
    assert config.frontend.access_logs.expiry_days == 365


# --- 5. tables that contradict each other --------------------------------------------------------


def _no_nat(d: Data, interface: list[str] | None = None, **endpoints: Any) -> None:
    d["network"]["nat"] = "none"
    d["compute"]["exec"]["enabled"] = False  # dev's ECS Exec would need ssmmessages and kms too (see _exec_without_nat)
    d["network"]["endpoints"] = {"interface": [] if interface is None else interface, **endpoints}


NO_NAT = r"network\.endpoints\.interface = {value}: must include {missing} with network\.nat = 'none', or tasks cannot start: .*"


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (
            _no_nat,
            NO_NAT.format(value=r"\[\]", missing=r"ecr\.api, ecr\.dkr, logs, secretsmanager, sqs"),
        ),
        (
            lambda d: _no_nat(d, ["ecr.api", "ecr.dkr"]),
            NO_NAT.format(value=r"\['ecr\.api', 'ecr\.dkr'\]", missing="logs, secretsmanager, sqs"),
        ),
        (
            lambda d: (
                _no_nat(d, ALL_ENDPOINTS),
                d["compute"]["exec"].update(enabled=True),
            ),
            NO_NAT.format(value=r"\[.*\]", missing="ssmmessages, kms")
            + r"ssmmessages to open ECS Exec sessions into movie-service; kms to encrypt the ECS Exec sessions .*",
        ),
        (
            lambda d: (_no_nat(d, ALL_ENDPOINTS), task(d).update(secrets={"FLAGS": PARAMETER_ARN})),
            NO_NAT.format(value=r"\[.*\]", missing="ssm") + r"ssm to read the parameters of movie-service.*",
        ),
        (
            lambda d: _no_nat(d, ALL_ENDPOINTS, s3_gateway=False),
            r"network\.endpoints\.s3_gateway = False: must be true with network\.nat = 'none': ECR serves image "
            r"layers from S3, .*",
        ),
        (
            lambda d: d["alb"].update(internal=True),
            r"frontend\.api_origin = True: routes /api/\* to the load balancer, but alb\.internal = true keeps it "
            r"out of CloudFront's reach .*: set alb\.internal = false or api_origin = false",
        ),
        (
            lambda d: d["alb"].update(ingress_cidrs=["10.0.0.0/8"]),
            r"alb\.ingress_cidrs = \['10\.0\.0\.0/8'\]: must admit 0\.0\.0\.0/0 while frontend\.api_origin = true: "
            r"CloudFront reaches the load balancer from its origin-facing address ranges, .*",
        ),
        (
            lambda d: d["alb"].update(ingress_cidrs=["203.0.113.0/24", "198.51.100.0/24"]),
            r"alb\.ingress_cidrs = \['203\.0\.113\.0/24', '198\.51\.100\.0/24'\]: must admit 0\.0\.0\.0/0 .*",
        ),
        (
            lambda d: (d.pop("services"), d.pop("jobs")),  # dev's job would name a service that is gone too
            r"services = \{\}: declares no service: with compute\.kind = 'fargate' the cluster and the load "
            r"balancer exist to run \[services\.<name>\] tables .*compute\.kind = 'beanstalk'",
        ),
    ],
)
def test_fails_when_tables_contradict_each_other(edit: Edit, line: str) -> None:
    rejects(edited(dev(), edit), line)


def test_fails_when_a_partition_without_cloudfront_waf_would_need_one() -> None:
    data = dev()
    data.update(region="cn-north-1", waf={"enabled": True})
    data["network"]["availability_zones"] = ["cn-north-1a", "cn-north-1b"]
    rejects(
        data,
        r"waf\.enabled = True: would create a CLOUDFRONT-scoped web ACL in us-east-1, which partition aws-cn "
        r"\(cn-north-1\) does not have: AWS WAF is regional only there\. .*",
    )


def test_fails_when_a_beanstalk_environment_has_no_nat() -> None:
    data = example()
    data["network"]["nat"] = "none"
    rejects(data, r"network\.nat = 'none': must be 'single' or 'per_az' with compute\.kind = 'beanstalk': .*")


def test_a_data_store_that_needs_no_secret_needs_no_secrets_manager_endpoint() -> None:
    data = dev()
    _no_nat(data, ["ecr.api", "ecr.dkr", "logs", "sqs"])
    data["cache"]["engine_version"] = "8.0"
    data["cache"]["auth"] = "iam"  # IAM users: no token secret; the database uses IAM auth too
    accepts(data)


def _exec_without_nat(d: Data) -> None:
    _no_nat(d, [*ALL_ENDPOINTS, "ssmmessages", "kms"])
    d["compute"]["exec"]["enabled"] = True


def _internal_without_cdn(d: Data) -> None:
    d["alb"].update(internal=True, ingress_cidrs=["10.0.0.0/8"])
    d["frontend"]["api_origin"] = False


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: _no_nat(d, ALL_ENDPOINTS),
        _exec_without_nat,
        lambda d: d["alb"].update(ingress_cidrs=["0.0.0.0/1", "128.0.0.0/1"]),
        _internal_without_cdn,
        lambda d: d.update(frontend={"enabled": False}),
    ],
    ids=["nat-none-with-endpoints", "exec-with-ssmmessages", "internet-in-halves", "internal-without-cdn", "no-cdn"],
)
def test_accepts_combinations_that_work(edit: Edit) -> None:
    accepts(edited(dev(), edit))


def test_a_beanstalk_environment_needs_no_services() -> None:
    assert accepts(example()).services == {}


# --- 6. numbers beyond what AWS accepts ---------------------------------------------------------

HUGE = 2**70  # beyond 64 bits: would overflow on its way to AWS


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (
            lambda d: service(d)["scaling"].update(desired_count=1_000_000),
            r"services\.movie-service\.scaling\.desired_count = 1000000: must be between 0 and 5000, got 1000000",
        ),
        (
            lambda d: service(d)["scaling"].update(autoscaling=True, desired_count=2, max_count=6000),
            r"services\.movie-service\.scaling\.max_count = 6000: must be between 1 and 5000, got 6000",
        ),
        (
            lambda d: service(d).update(deployment={"maximum_percent": 5000}),
            r"services\.movie-service\.deployment\.maximum_percent = 5000: must be between 100 and 1000, got 5000",
        ),
        (
            lambda d: task(d).update(memory_mib=1_000_000),
            r"services\.movie-service\.task\.memory_mib = 1000000: must be between 512 and 122880, got 1000000",
        ),
        (
            lambda d: service(d)["target_health_check"].update(interval_seconds=1000),
            r"services\.movie-service\.target_health_check\.interval_seconds = 1000: must be between 5 and 300, "
            r"got 1000",
        ),
        (
            lambda d: service(d)["scaling"].update(desired_count=HUGE),
            rf"services\.movie-service\.scaling\.desired_count = {HUGE}: must be between 0 and 5000, got {HUGE}",
        ),
        (
            lambda d: d["database"].update(allocated_storage_gib=HUGE),
            rf"database\.allocated_storage_gib = {HUGE}: must fit in 64 bits .*",
        ),
        (
            lambda d: d["database"].update(allocated_storage_gib=70_000),
            r"database\.allocated_storage_gib = 70000: gp3 storage must be between 20 and 65536 GiB, got 70000",
        ),
    ],
)
def test_fails_when_a_number_is_beyond_what_aws_accepts(edit: Edit, line: str) -> None:
    rejects(edited(dev(), edit), line)


def test_fails_when_a_beanstalk_batch_is_absurdly_large() -> None:
    data = example()
    data["beanstalk"]["batch_size"] = 10**9
    rejects(data, r"beanstalk\.batch_size = 1000000000: must be at most 10000, got 1000000000")


def test_fails_cleanly_on_a_number_of_thousands_of_digits(tmp_path: Path) -> None:
    text = (ROOT / DEV_SOURCE).read_text()
    path = tmp_path / "dev.toml"
    path.write_text(text.replace("desired_count = 1", "desired_count = 0x" + "f" * 5000, 1))
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    (line,) = caught.value.lines
    assert re.fullmatch(
        r".*dev\.toml: services\.movie-service\.scaling\.desired_count = <a 6021-digit number>: must be between 0 "
        r"and 5000, got <a 6021-digit number>",
        line,
    )

    path.write_text(text.replace("desired_count = 1", "desired_count = 1" + "0" * 5000, 1))
    with pytest.raises(ConfigError, match=r"dev\.toml: holds an integer of more than 4300 digits"):
        load_environment(path)


def _members(annotation: Any) -> list[Any]:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return [member for argument in get_args(annotation) for member in _members(argument)]
    return [annotation]


# A name to put in each table keyed by name, and what a table needs before a number can go in it.
_KEYS = {"services": "movie-service", "jobs": "migrate-movies", "capacity_provider_strategy": "FARGATE"}
_SEEDS: dict[str, Data] = {
    "container_health_check": {"command": ["CMD", "true"]},
    "schedule": {"expression": "rate(1 day)"},
}


def _integer_settings(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, field in model.model_fields.items():
        for member in _members(field.annotation):
            if member is int:
                yield (*path, name)
            elif isinstance(member, type) and issubclass(member, BaseModel):
                yield from _integer_settings(member, (*path, name))
            elif get_origin(member) is dict and isinstance(get_args(member)[1], type):
                item = get_args(member)[1]
                if issubclass(item, BaseModel):
                    yield from _integer_settings(item, (*path, name, _KEYS[name]))


@pytest.mark.parametrize("path", list(_integer_settings(EnvironmentConfig)), ids=format_path)
def test_every_number_has_an_upper_bound(path: tuple[str, ...]) -> None:
    """2**62 fits in 64 bits, so only the setting's own bound can refuse it."""
    data = example() if path[0] == "beanstalk" else dev()
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, copy.deepcopy(_SEEDS.get(part, {})))
    node[path[-1]] = 2**62
    lines = problems(data)
    assert any(line.startswith(f"{format_path(path)} = {2**62}: ") and "must" in line for line in lines), lines


# --- 7. secrets in plain sight --------------------------------------------------------------------

SECRET = "s3cr3t-Hunter2-value"
LOOKS_SECRET = r"looks like a secret; environment values are readable by anyone .* reference it under secrets"


@pytest.mark.parametrize(
    "name",
    ["DB_PASS", "API_TOKEN", "SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "SMTP_PASSWORD", "MYSQL_PWD", "SECRET_KEY_BASE"],
)
def test_fails_when_a_plain_variable_is_named_like_a_secret(name: str) -> None:
    lines = rejects(
        edited(dev(), lambda d: task(d).update(environment={name: SECRET})),
        rf"services\.movie-service\.task\.environment\.{name} = <redacted>: {LOOKS_SECRET}",
    )
    assert SECRET not in "\n".join(lines)


CREDENTIAL_VALUES = [
    ("a password inside a postgres:// URL", f"postgres://app:{SECRET}@db.internal:5432/app"),
    ("a password inside a redis:// URL", f"redis://:{SECRET}@cache.internal:6379"),
    ("a password inside a https:// URL", f"--upstream=https://bot:{SECRET}@git.example.com/repo.git"),
    ("an AWS access key id", "AKIAIOSFODNN7EXAMPLE"),
    ("an AWS access key id", "ASIAIOSFODNN7EXAMPLE"),
    ("a private key", f"-----BEGIN RSA PRIVATE KEY-----\nMIIE{SECRET}\n-----END RSA PRIVATE KEY-----"),
    (
        "a JSON Web Token",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("a GitHub token", "ghp_" + "a1B2c3D4e5" * 4),
    ("a password= parameter", f"host=db.internal user=app password={SECRET} sslmode=require"),
]


@pytest.mark.parametrize(("shape", "value"), CREDENTIAL_VALUES, ids=[value[:12] for _, value in CREDENTIAL_VALUES])
def test_fails_when_a_plain_variable_holds_a_credential(shape: str, value: str) -> None:
    lines = rejects(
        edited(dev(), lambda d: task(d).update(environment={"UPSTREAM": value})),
        rf"services\.movie-service\.task\.environment\.UPSTREAM = <redacted>: holds {re.escape(shape)}; .*secrets",
    )
    text = "\n".join(lines)
    assert value not in text
    assert SECRET not in text
    assert "AKIAIOSFODNN7EXAMPLE" not in text


def test_fails_when_a_beanstalk_property_holds_a_credential() -> None:
    data = example()
    data["beanstalk"]["environment"]["DATABASE_URL"] = f"postgres://app:{SECRET}@db/app"
    data["beanstalk"]["environment"]["DB_PASS"] = SECRET
    lines = rejects(
        data,
        r"beanstalk\.environment\.DATABASE_URL = <redacted>: holds a password inside a postgres:// URL; .*",
        r"beanstalk\.environment\.DB_PASS = <redacted>: looks like a secret; .*",
    )
    assert SECRET not in "\n".join(lines)


def test_the_value_of_a_badly_named_secret_is_never_shown() -> None:
    lines = rejects(
        edited(dev(), lambda d: task(d).update(environment={"db-password": SECRET})),
        r"services\.movie-service\.task\.environment\.db-password = <redacted>: variable names must be .*",
    )
    assert SECRET not in "\n".join(lines)


def test_every_secret_in_plain_sight_is_reported_in_one_run() -> None:
    environment = {"DB_PASS": SECRET, "API_TOKEN": SECRET, "DATABASE_URL": f"mysql://u:{SECRET}@h/db"}
    lines = problems(edited(dev(), lambda d: task(d).update(environment=environment)))
    assert [line.split(" = ")[0] for line in lines] == [
        f"services.movie-service.task.environment.{name}" for name in environment
    ]
    assert SECRET not in "\n".join(lines)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgres://app@db.internal:5432/app"),  # a user, no password
        ("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db.internal/app"),  # expanded by the app
        ("API_URL", "https://api.example.com/v1/search?q=a:b@c"),  # no userinfo
        ("UPSTREAM", "http://[::1]:8080/health"),
        ("TOKEN_URL", "https://auth.example.com/oauth/token"),
        ("DB_SECRET_ARN", SECRET_ARN),
        ("DB_PASSWORD_FILE", "/run/secrets/db"),
        ("AWS_ACCESS_KEY_ID_HINT", "use the task role"),
        ("PASSWORD_MIN_LENGTH", "12"),
        ("PWD", "/app"),
        ("S3_KEY", "uploads/avatar.png"),
        ("TLS_CERTIFICATE", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
        ("SIGNING_PUBLIC_KEY_PEM", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"),
        ("BUILD", "AKIA-not-a-key"),
        ("GREETING", "eyJ is how base64 JSON starts"),
        ("DB_DSN", "host=db.internal user=app password=${DB_PASSWORD}"),
    ],
)
def test_accepts_plain_variables_that_only_look_near_a_secret(name: str, value: str) -> None:
    config = accepts(edited(dev(), lambda d: task(d).update(environment={name: value})))
    assert config.services["movie-service"].task.environment == {name: value}


def test_secret_named_variables_belong_in_secrets() -> None:
    secrets = {"DB_PASS": SECRET_ARN, "API_TOKEN": f"{SECRET_ARN}:token::"}
    assert (
        accepts(edited(dev(), lambda d: task(d).update(secrets=secrets))).services["movie-service"].task.secrets
        == secrets
    )


# --- 9. every problem of every file in one run --------------------------------------------------


def test_every_problem_of_a_file_is_reported_in_one_run() -> None:
    data = dev()
    task(data)["cpu"] = 300  # services
    data["database"]["backup_retention_days"] = 99  # database
    data["monitoring"]["alarm_emails"] = ["nope"]  # monitoring
    data["waf"]["log_retention_days"] = 10  # waf
    data["cache"]["snapshot_window"] = "01:00-02:00"  # cache, across two of its own fields
    data["cache"]["snapshot_retention_days"] = 1
    data["cache"]["maintenance_window"] = "sun:01:30-sun:02:30"
    data["network"]["flow_logs"]["enabled"] = False  # retention_days is set: a switch's setting
    data["alb"]["internal"] = True  # across tables: frontend.api_origin cannot reach it

    lines = problems(data)

    # Each table's own problems in the schema's order, then the checks across the tables that are valid.
    assert [line.split(" = ")[0] for line in lines] == [
        "services.movie-service.task.cpu",
        "database.backup_retention_days",
        "cache.maintenance_window",
        "monitoring.alarm_emails[0]",
        "waf.log_retention_days",
        "network.flow_logs.retention_days",
        "frontend.api_origin",
    ]


def test_a_table_that_fails_is_not_checked_against_the_others() -> None:
    data = dev()
    service(data)["container_port"] = 0  # services fails: no "declares no service", no data-access check
    data["alb"]["ingress_cidrs"] = ["10.0.0.0/33"]  # alb fails: no CloudFront reachability check

    rejects(
        data,
        r"services\.movie-service\.container_port = 0: must be between 1 and 65535, got 0",
        r"alb\.ingress_cidrs\[0\] = '10\.0\.0\.0/33': ingress CIDR must be an IPv4 network .*",
    )


def test_the_file_name_check_runs_beside_other_problems() -> None:
    data = dev()
    data["environment"] = "qa"
    data["waf"]["log_retention_days"] = 10
    with pytest.raises(ConfigError) as caught:
        parse_environment(data, source=DEV_SOURCE, expected_name="dev")
    assert [line.split(" = ")[0] for line in caught.value.lines] == [
        f"{DEV_SOURCE}: waf.log_retention_days",
        f"{DEV_SOURCE}: environment",
    ]


def test_every_problem_of_every_file_is_reported_together(tmp_path: Path) -> None:
    text = (ROOT / DEV_SOURCE).read_text()
    (tmp_path / "dev.toml").write_text(text.replace('nat = "single"', 'nat = "none"'))
    (tmp_path / "qa.toml").write_text(
        text.replace('environment = "dev"', 'environment = "qa"').replace("desired_count = 1", "desired_count = -1")
    )

    with pytest.raises(ConfigError) as caught:
        load_environments(sorted(tmp_path.glob("*.toml")))

    lines = [re.sub(r"^.*/", "", line) for line in caught.value.lines]
    assert [line.split(" = ")[0] for line in lines] == [
        "dev.toml: network.endpoints.interface",
        *(
            f"qa.toml: services.{name}.scaling.desired_count"
            for name in ("movie-service", "customer-service", "rating-service", "job-worker")
        ),
    ]


def test_the_command_line_reports_every_problem_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / DEV_SOURCE).read_text()
    (tmp_path / "dev.toml").write_text(
        text.replace('nat = "single"', 'nat = "none"').replace("desired_count = 1", "desired_count = 1000000")
    )

    assert main.main(["--environments", str(tmp_path), "--outdir", str(tmp_path / "out")]) == 2

    error = capsys.readouterr().err
    assert "Traceback" not in error
    assert error.count("dev.toml: ") == 4  # the count of each of dev's four services
    assert "must be between 0 and 5000, got 1000000" in error
    assert not (tmp_path / "out").exists()


# --- what must keep loading ------------------------------------------------------------------------


def test_every_environment_and_example_still_loads() -> None:
    names = {config.environment for config in load_environments(environment_files() + example_files())}
    assert names == {"dev", "staging", "prod", "beanstalk"}


def test_the_checks_across_tables_see_the_same_tables_either_way() -> None:
    """valid_tables (what the checks see when some table failed) validates a table as the schema does."""
    for path in environment_files() + example_files():
        data = tomllib.loads(path.read_text())
        config = load_environment(path)
        assert valid_tables(data, failed=()) == {name: getattr(config, name) for name in type(config).model_fields}


def test_a_service_named_like_a_table_is_not_taken_for_one() -> None:
    data = dev()
    data["services"]["alarms"] = data["services"].pop("customer-service")
    data["services"]["job-worker"]["queue"]["senders"] = ["alarms"]
    data["monitoring"] = {"enabled": False}
    assert "alarms" in accepts(data).services
