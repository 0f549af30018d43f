"""One Fargate service (``[services.<name>]``): config errors, the construct's JSON, and every environment."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.lb_listener_rule import LbListenerRule

from config import ConfigError, EnvironmentConfig, parse_environment
from config.cluster import ComputeConfig
from config.naming import IAM_ROLE_NAME_MAX
from config.repository import RepositoryConfig
from config.schema import ENVIRONMENT_MAX, PROJECT_MAX, SERVICE_MAX
from config.service import ServiceConfig
from modules import Cluster, Queue, Repository, Service
from modules.block import AlarmPolicy, Naming
from tests.config_check import fails as one_error
from tests.synth import Json, only, ref, resources, synth_construct

Data = dict[str, Any]
SOURCE = "environments/dev.toml"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/dev/db-AbC123"
PARAMETER_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/netflux/dev/api-url"
OTHER_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:customer/db-XyZ789"
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/movie/abc"
TG_SUFFIX = "targetgroup/movie/abc"
ALB_SUFFIX = "app/netflux-unit/def"
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
ENVIRONMENTS = ["dev", "staging", "prod"]
EXEC_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-1111-2222-3333-444455556666"


# --- config ------------------------------------------------------------------------------------


def parse(data: Data) -> EnvironmentConfig:
    return parse_environment(data, source=SOURCE, expected_name="dev")


def dev(env_data: dict[str, Data], *, service: str = "movie-service", **tables: Data) -> Data:
    """The dev file with ``tables`` (task=..., deployment=..., scaling=...) set on one service."""
    data = env_data["dev"]
    for table, values in tables.items():
        data["services"][service][table] = values
    return data


def fails(data: Data, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse(data)


def test_defaults_are_secure_and_highly_available(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    for service in data["services"].values():
        for table in ("task", "deployment", "scaling", "target_health_check"):
            service.pop(table, None)

    service = parse(data).services["movie-service"]

    assert service.task.readonly_root_filesystem is True
    assert service.task.enable_execute_command is None  # follows [compute.exec], which a read-only root turns down
    assert service.task.image_tag is None  # the pipeline passes it as a Terraform variable
    assert service.task.log_retention_days == 365
    assert service.task.container_health_check is None
    assert service.deployment.image_deploys == "terraform"
    assert (service.deployment.minimum_healthy_percent, service.deployment.maximum_percent) == (100, 200)
    assert (service.scaling.desired_count, service.scaling.autoscaling) == (2, True)
    assert (service.protocol, service.host_headers, service.rule_priority) == ("HTTP", [], None)
    assert service.target_health_check.timeout_seconds < service.target_health_check.interval_seconds


@pytest.mark.parametrize(
    ("cpu", "memory_mib"),
    [(256, 512), (256, 2048), (512, 4096), (1024, 2048), (2048, 16384), (4096, 30720), (8192, 61440), (16384, 122880)],
)
def test_accepts_every_fargate_size_boundary(env_data: dict[str, Data], cpu: int, memory_mib: int) -> None:
    config = parse(dev(env_data, task={"cpu": cpu, "memory_mib": memory_mib}))

    assert config.services["movie-service"].task.memory_mib == memory_mib


def test_fails_when_memory_is_not_valid_for_cpu(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"cpu": 256, "memory_mib": 4096}),
        re.escape("services.movie-service.task.memory_mib = 4096: is not a valid Fargate size for cpu = 256; ")
        + re.escape("allowed memory_mib: 512, 1024, 2048"),
    )


def test_fails_when_memory_is_off_the_step_for_a_large_cpu(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"cpu": 8192, "memory_mib": 20000}),
        re.escape("allowed memory_mib: 16384 to 61440 in steps of 4096 (16384, 20480, ..., 61440)"),
    )


def test_fails_when_memory_is_below_the_range_for_cpu(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"cpu": 4096, "memory_mib": 4096}), "8192 to 30720 in steps of 1024")


def test_fails_when_cpu_is_not_a_fargate_size(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"cpu": 300, "memory_mib": 512}),
        re.escape("task.cpu = 300: must be one of Fargate's task sizes: 256, 512, 1024, 2048, 4096, 8192, 16384"),
    )


def test_fails_when_architecture_is_unknown(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"cpu_architecture": "ARM"}), r"task\.cpu_architecture = 'ARM': .*'X86_64' or 'ARM64'")


def test_fails_when_image_tag_is_latest(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"image_tag": "latest"}), r"task\.image_tag = 'latest': .*IMMUTABLE tags")


def test_fails_when_image_tag_is_not_a_docker_tag(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"image_tag": "v1/2"}), r"task\.image_tag = 'v1/2': must be a Docker tag")


def test_accepts_secrets_manager_and_ssm_references(env_data: dict[str, Data]) -> None:
    secrets = {"DB_PASSWORD": f"{SECRET_ARN}:password::", "API_URL": PARAMETER_ARN, "DB_URL": SECRET_ARN}
    config = parse(dev(env_data, task={"secrets": secrets}))

    assert config.services["movie-service"].task.secrets == secrets


@pytest.mark.parametrize(
    "arn",
    [
        "netflux/dev/db",  # a name, not an ARN
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:netflux/dev/db",  # partial: no 6-character suffix
        "arn:aws:secretsmanager:eu-west-1:1234:secret:db-AbC123",  # bad account
        "arn:aws:s3:::bucket/key",  # not a secret store
    ],
)
def test_fails_when_secret_is_not_a_secret_arn(env_data: dict[str, Data], arn: str) -> None:
    # An ARN is shown as given; anything else may be the secret itself, pasted where its ARN belongs.
    shown = re.escape(repr(arn)) if arn.startswith("arn:") else "<redacted>"
    fails(
        dev(env_data, task={"secrets": {"DB_PASSWORD": arn}}),
        rf"task\.secrets\.DB_PASSWORD = {shown}: must be the full ARN of a Secrets Manager secret .*",
    )
    if not arn.startswith("arn:"):
        with pytest.raises(ConfigError) as caught:
            parse(dev(env_data, task={"secrets": {"DB_PASSWORD": arn}}))
        assert arn not in str(caught.value)


def test_fails_when_a_variable_is_both_environment_and_secret(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"environment": {"DB_URL": "x"}, "secrets": {"DB_URL": SECRET_ARN}}),
        r"task\.secrets\.DB_URL = .*set both here and under environment",
    )


@pytest.mark.parametrize("name", ["DB_PASSWORD", "jwt_secret", "GITHUB_TOKEN", "STRIPE_API_KEY"])
def test_fails_when_a_plain_environment_variable_looks_like_a_secret(env_data: dict[str, Data], name: str) -> None:
    fails(dev(env_data, task={"environment": {name: "hunter2"}}), f"task.environment.{name} = .*looks like a secret")


def test_accepts_environment_names_that_only_mention_tokens(env_data: dict[str, Data]) -> None:
    config = parse(dev(env_data, task={"environment": {"TOKEN_URL": "https://auth/token", "AWS_KEY_ID_HINT": "x"}}))

    assert "TOKEN_URL" in config.services["movie-service"].task.environment


def test_fails_when_variable_name_is_invalid(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"environment": {"1ST": "x"}}),
        r"task\.environment\.1ST = 'x': variable names must be letters, digits and underscores",
    )


def test_fails_when_log_retention_is_not_a_cloudwatch_period(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"log_retention_days": 10}), r"task\.log_retention_days = 10: must be one of CloudWatch")


def test_fails_when_exec_is_on_with_a_read_only_root(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"enable_execute_command": True}),
        r"task\.enable_execute_command = True: needs readonly_root_filesystem = false",
    )


def test_fails_when_container_health_check_command_has_no_cmd_prefix(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, task={"container_health_check": {"command": ["curl", "-f", "x"]}}),
        r'task\.container_health_check\.command = .*: must start with "CMD" or "CMD-SHELL"',
    )


def test_fails_when_container_health_check_timeout_is_not_below_interval(env_data: dict[str, Data]) -> None:
    check = {"command": ["CMD", "true"], "interval_seconds": 10, "timeout_seconds": 10}
    fails(
        dev(env_data, task={"container_health_check": check}),
        r"task\.container_health_check\.timeout_seconds = 10: must be shorter than interval_seconds \(10\)",
    )


def test_fails_on_unknown_task_key_listing_allowed_keys(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, task={"memory": 512}), r"task\.memory = 512: unknown key; allowed keys here: cpu, memory_mib")


def test_fails_when_the_old_health_check_table_is_used(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, health_check={"path": "/health"}),
        r"services\.movie-service\.health_check = .*: unknown key; allowed keys here: .*target_health_check",
    )


def test_fails_when_maximum_percent_does_not_exceed_minimum(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, deployment={"minimum_healthy_percent": 100, "maximum_percent": 100}),
        r"deployment\.maximum_percent = 100: must be greater than minimum_healthy_percent \(100\)",
    )


def test_fails_when_image_deploys_is_unknown(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, deployment={"image_deploys": "ci"}),
        r"deployment\.image_deploys = 'ci': .*'terraform' or 'pipeline'",
    )


def test_fails_when_desired_count_is_above_max(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, scaling={"desired_count": 5, "min_count": 1, "max_count": 4}),
        r"scaling\.desired_count = 5: must be between min_count \(1\) and max_count \(4\)",
    )


def test_fails_when_desired_count_is_below_min(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, scaling={"desired_count": 1, "min_count": 2, "max_count": 4}),
        r"scaling\.desired_count = 1: must be between",
    )


def test_fails_when_min_count_exceeds_max_count(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, scaling={"desired_count": 3, "min_count": 5, "max_count": 3}),
        r"scaling\.min_count = 5: must be at most max_count \(3\)",
    )


@pytest.mark.parametrize("field", ["desired_count", "min_count"])
def test_fails_when_a_count_is_negative(env_data: dict[str, Data], field: str) -> None:
    fails(dev(env_data, scaling={field: -1}), rf"scaling\.{field} = -1: must be between 0 and 5000, got -1")


def test_fails_when_autoscaling_settings_are_given_with_autoscaling_off(env_data: dict[str, Data]) -> None:
    fails(
        dev(env_data, scaling={"autoscaling": False, "desired_count": 1, "max_count": 3}),
        r"scaling\.max_count = 3: is only used when autoscaling = true",
    )


def test_accepts_a_fixed_count_outside_the_default_autoscaling_range(env_data: dict[str, Data]) -> None:
    config = parse(dev(env_data, scaling={"autoscaling": False, "desired_count": 1}))

    assert config.services["movie-service"].scaling.desired_count == 1


def test_fails_when_cpu_target_is_above_100(env_data: dict[str, Data]) -> None:
    fails(dev(env_data, scaling={"cpu_target_percent": 120}), r"scaling\.cpu_target_percent = 120")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("interval_seconds", 4, "must be between 5 and 300, got 4"),
        ("timeout_seconds", 1, "must be between 2 and 120, got 1"),
        ("healthy_threshold", 11, "must be between 2 and 10, got 11"),
        ("unhealthy_threshold", 1, "must be between 2 and 10, got 1"),
        ("timeout_seconds", 15, r"must be less than interval_seconds \(15\)"),
        ("path", "health", "must be a URL path starting with / .*"),
        ("matcher", "600", "must be HTTP codes 200-499 as .*"),
        ("matcher", "ok", "must be HTTP codes 200-499 as .*"),
    ],
)
def test_fails_when_target_health_check_is_invalid(
    env_data: dict[str, Data], key: str, value: Any, message: str
) -> None:
    data = env_data["dev"]
    data["services"]["movie-service"]["target_health_check"][key] = value
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert len(caught.value.lines) == 1, caught.value.lines
    line = rf"services\.movie-service\.target_health_check\.{key} = {re.escape(repr(value))}: {message}"
    assert re.fullmatch(f"{re.escape(SOURCE)}: {line}", caught.value.lines[0]), caught.value.lines[0]


@pytest.mark.parametrize("matcher", ["200", "200,204", "200-299", "200-299,302"])
def test_target_health_check_matcher_forms_are_accepted(env_data: dict[str, Data], matcher: str) -> None:
    data = env_data["dev"]
    data["services"]["movie-service"]["target_health_check"]["matcher"] = matcher

    assert parse(data).services["movie-service"].target_health_check.matcher == matcher


@pytest.mark.parametrize(
    ("alarms", "match"),
    [
        ({"cpu_percent": 0}, r"services\.movie-service\.alarms\.cpu_percent = 0: must be between 1 and 100 %"),
        ({"memory_percent": -5}, r"services\.movie-service\.alarms\.memory_percent = -5: must be between 1 and 100 %"),
        ({"unhealthy_hosts": -1}, r"services\.movie-service\.alarms\.unhealthy_hosts = -1: must be between 0 and 1000"),
    ],
)
def test_fails_when_an_alarm_threshold_is_out_of_range(env_data: dict[str, Data], alarms: Data, match: str) -> None:
    fails(dev(env_data, alarms=alarms), match)


# --- kinds: web, backend, worker ---------------------------------------------------------------

BACKEND, WORKER = "rating-service", "job-worker"


def kinds(env_data: dict[str, Data]) -> Data:
    """The dev file, whose rating-service is a backend and job-worker a worker."""
    data = env_data["dev"]
    assert (data["services"][BACKEND]["kind"], data["services"][WORKER]["kind"]) == ("backend", "worker")
    return data


def test_a_service_is_a_web_service_unless_it_says_otherwise(env_data: dict[str, Data]) -> None:
    config = parse(kinds(env_data))

    assert {name: s.kind for name, s in config.services.items()} == {
        "movie-service": "web",
        "customer-service": "web",
        BACKEND: "backend",
        WORKER: "worker",
    }
    assert config.services[WORKER].container_port is None
    assert config.services[WORKER].queue is not None
    assert config.services["movie-service"].queue is None
    # Listener rules: web services only.
    assert set(config.listener_rules.priorities) == {"movie-service", "customer-service"}


def test_fails_when_a_kind_is_unknown(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    data["services"][BACKEND]["kind"] = "internal"
    one_error(data, r"services\.rating-service\.kind = 'internal': must be one of 'web', 'backend' or 'worker'")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("path_patterns", ["/api/ratings*"]),
        ("host_headers", ["ratings.example.com"]),
        ("rule_priority", 10),
        ("protocol", "HTTPS"),
        ("deregistration_delay_seconds", 10),
    ],
)
def test_fails_when_a_backend_is_given_routing(env_data: dict[str, Data], setting: str, value: Any) -> None:
    data = kinds(env_data)
    data["services"][BACKEND][setting] = value
    one_error(
        data,
        rf"services\.rating-service\.{setting} = {re.escape(repr(value))}: is only used by web services \(the load "
        r"balancer's view of them\); a backend service is reached only inside the cluster, through Service Connect: "
        r"remove it or set kind = 'web'",
    )


@pytest.mark.parametrize(
    ("table", "setting", "value"),
    [
        ("target_health_check", "path", "/health"),
        ("deployment", "health_check_grace_period_seconds", 30),
        ("scaling", "requests_per_target", 100),
        ("alarms", "unhealthy_hosts", 1),
    ],
)
def test_fails_when_a_worker_is_given_settings_of_the_load_balancers_view(
    env_data: dict[str, Data], table: str, setting: str, value: Any
) -> None:
    data = kinds(env_data)
    # Replaces dev's fixed count for scaling: requests_per_target needs autoscaling on.
    data["services"][WORKER][table] = {setting: value}
    path = r"target_health_check = \{.*\}" if table == "target_health_check" else rf"{table}\.{setting} = {value}"
    one_error(
        data,
        rf"services\.job-worker\.{path}: is only used by web services \(the load balancer's view of them\); a worker "
        r"service is reached by no one \(it polls its queue\): remove it or set kind = 'web'",
    )


def test_fails_when_a_backend_has_no_port(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    del data["services"][BACKEND]["container_port"]
    one_error(
        data,
        r"services\.rating-service\.container_port = None: is required for a backend service: the port other "
        r"services call it on, http://<name>:<container_port>",
    )


def test_fails_when_a_web_service_has_no_port(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    del data["services"]["movie-service"]["container_port"]
    one_error(
        data,
        r"services\.movie-service\.container_port = None: is required for a web service: the port the load "
        r"balancer forwards to",
    )


def test_fails_when_a_worker_has_a_port(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    data["services"][WORKER]["container_port"] = 8080
    one_error(data, r"services\.job-worker\.container_port = 8080: must be unset for a worker: it takes no traffic .*")


def test_fails_when_a_worker_has_no_queue(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    del data["services"][WORKER]["queue"]
    one_error(
        data,
        r"services\.job-worker\.queue = None: is required for a worker: add a \[services\.<name>\.queue\] table .*",
    )


@pytest.mark.parametrize("service", ["movie-service", BACKEND])
def test_fails_when_a_service_that_is_not_a_worker_has_a_queue(env_data: dict[str, Data], service: str) -> None:
    data = kinds(env_data)
    data["services"][service]["queue"] = {"max_receive_count": 3}
    kind = data["services"][service].get("kind", "web")
    one_error(
        data,
        rf"services\.{service}\.queue = {{'max_receive_count': 3}}: is only used by workers \(kind = 'worker'\); a "
        rf"{kind} service consumes no queue of its own: remove the table or set kind = 'worker'",
    )


def test_fails_when_a_web_service_scales_on_messages(env_data: dict[str, Data]) -> None:
    data = dev(env_data, scaling={"messages_per_task": 10})
    one_error(data, r"services\.movie-service\.scaling\.messages_per_task = 10: is only used by workers .*")


def test_fails_when_an_autoscaling_worker_may_scale_to_zero(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    data["services"][WORKER]["scaling"] = {"min_count": 0, "desired_count": 1}
    one_error(
        data,
        r"services\.job-worker\.scaling\.min_count = 0: must be at least 1 for a worker with autoscaling: it scales "
        r"on the queue's backlog per running task, .*",
    )


@pytest.mark.parametrize("table", ["environment", "secrets"])
def test_fails_when_a_worker_sets_its_own_queue_url(env_data: dict[str, Data], table: str) -> None:
    data = kinds(env_data)
    value = "https://sqs.eu-west-1.amazonaws.com/1/x" if table == "environment" else SECRET_ARN
    data["services"][WORKER]["task"][table] = {"QUEUE_URL": value}
    one_error(
        data,
        rf"services\.job-worker\.task\.{table}\.QUEUE_URL = 'QUEUE_URL': is set by the platform to the worker's "
        r"own queue; remove it from the task settings",
    )


def test_every_setting_a_backend_cannot_use_is_reported_in_one_run(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    data["services"][BACKEND].update(path_patterns=["/r*"], rule_priority=5, queue={})
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert [line.split(": ")[1].split(" = ")[0] for line in caught.value.lines] == [
        "services.rating-service.path_patterns",
        "services.rating-service.rule_priority",
        "services.rating-service.queue",
    ]


def test_fails_when_no_service_is_a_web_service(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    for name in ("movie-service", "customer-service"):
        del data["services"][name]
    data["services"][WORKER]["queue"]["senders"] = []
    data.pop("jobs", None)  # dev's migration runs movie-service's image
    one_error(
        data,
        r"services = \['job-worker', 'rating-service'\]: declares no web service \(kind = 'web'\): the platform's "
        r"internet-facing load balancer would route to nothing .*",
    )


def test_fails_when_a_backend_shares_a_web_port_in_the_shared_group(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    data["security_groups"] = {"mode": "shared"}
    data["services"][BACKEND]["container_port"] = 8080
    one_error(
        data,
        r"services\.rating-service\.container_port = 8080: is also the port of the web service customer-service: "
        r"with security_groups\.mode = 'shared' .*",
    )


def test_fails_when_workers_autoscale_without_container_insights(env_data: dict[str, Data]) -> None:
    data = kinds(env_data)
    data["compute"]["container_insights"] = "disabled"
    data["services"][WORKER]["scaling"] = {}
    one_error(
        data,
        r"compute\.container_insights = 'disabled': must be 'enabled' or 'enhanced' while workers autoscale "
        r"\(job-worker\): .*RunningTaskCount.*",
    )


# --- construct ---------------------------------------------------------------------------------


def statements(policy: Json) -> list[Json]:
    found: list[Json] = json.loads(policy["policy"])["Statement"]
    return found


def container(document: Json, service: str = "movie-service") -> Json:
    for task in resources(document, "aws_ecs_task_definition").values():
        definitions: list[Json] = json.loads(task["container_definitions"])
        if definitions[0]["name"] == service:
            assert len(definitions) == 1
            return definitions[0]
    raise AssertionError(f"no task definition for {service}")


def by_name(document: Json, resource_type: str, name: str, key: str = "name") -> Json:
    matches = [r for r in resources(document, resource_type).values() if r.get(key) == name]
    assert len(matches) == 1, f"expected one {resource_type} with {key} {name}, found {len(matches)}"
    return matches[0]


def no_data_access() -> SimpleNamespace:
    return SimpleNamespace(environment={}, secrets={}, task_statements=[], execution_statements=[])


def build_services(
    stack: TerraformStack,
    settings: dict[str, Data],
    *,
    compute: Data | None = None,
    data_access: SimpleNamespace | None = None,
    naming: Naming = NAMING,
    first_deploy: bool = False,
    key: SimpleNamespace | None = None,
) -> dict[str, Service]:
    """GIVEN per name a service's settings: a cluster, and per name a repository, the service and, by its
    kind, a stand-in target (target group and listener rule: web) or its queue (worker)."""
    cluster_settings = ComputeConfig.model_validate(
        compute or {"capacity_provider_strategy": {"FARGATE": {"base": 1, "weight": 1}, "FARGATE_SPOT": {"weight": 3}}}
    )
    cluster = Cluster(stack, "cluster", settings=cluster_settings, naming=naming, key=key)
    network = SimpleNamespace(private_app_subnet_ids=["subnet-a", "subnet-b"])
    security_groups = SimpleNamespace(app_sg_id="sg-app", backend_sg_id="sg-backend", worker_sg_id="sg-worker")
    load_balancer = SimpleNamespace(arn_suffix=ALB_SUFFIX, services={})
    services = {}
    for name, values in settings.items():
        repository = Repository(
            stack, f"{name}-repository", settings=RepositoryConfig(), naming=naming, image=name, key=None
        )
        kind = values.get("kind", "web")
        defaults: Data = {
            "web": {"container_port": 8080, "path_patterns": [f"/{name}*"]},
            "backend": {"container_port": 9090},
            "worker": {"queue": {}},
        }[kind]
        config = ServiceConfig.model_validate({**defaults, **values})
        if kind == "web":
            rule = LbListenerRule(
                stack,
                f"{name}-rule",
                listener_arn="arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/x/y/z",
                action=[{"type": "forward", "targetGroupArn": TG_ARN}],
                condition=[{"pathPattern": {"values": [f"/{name}*"]}}],
            )
            load_balancer.services[name] = SimpleNamespace(
                target_group=SimpleNamespace(arn=TG_ARN, arn_suffix=TG_SUFFIX), listener_rule=rule
            )
        queue = None
        if config.queue is not None:
            queue = Queue(stack, f"{name}-queue", service=name, settings=config.queue, naming=naming, key=key)
        services[name] = Service(
            stack,
            name,
            name=name,
            settings=config,
            naming=naming,
            cluster=cluster,
            repository=repository,
            network=network,
            security_groups=security_groups,
            load_balancer=load_balancer,
            data_access=data_access or no_data_access(),
            queue=queue,
            first_deploy=first_deploy,
        )
    return services


def task_settings(name: str, **task: Any) -> Data:
    secrets = (
        {"DB_PASSWORD": f"{SECRET_ARN}:password::", "API_URL": PARAMETER_ARN}
        if name == "movie-service"
        else {"DB_PASSWORD": OTHER_SECRET}
    )
    return {"environment": {"LOG_LEVEL": "info"}, "secrets": secrets, **task}


@pytest.fixture(scope="module")
def doc() -> Json:
    """Terraform-owned deploys, autoscaling, a container health check, two services."""
    scaling = {
        "min_count": 2,
        "max_count": 6,
        "cpu_target_percent": 60,
        "requests_per_target": 500,
        "scale_in_cooldown_seconds": 120,
        "scale_out_cooldown_seconds": 30,
    }
    check = {"command": ["CMD-SHELL", "wget -q -O- localhost:8080/health"], "retries": 4}
    settings = {
        name: {
            "task": task_settings(
                name,
                image_tag="v1.2.3",
                container_health_check=check,
                cpu=512,
                memory_mib=1024,
                cpu_architecture="ARM64",
            ),
            "scaling": scaling,
        }
        for name in ("movie-service", "customer-service")
    }
    return synth_construct(lambda stack: build_services(stack, settings))


@pytest.fixture(scope="module")
def pipeline_doc() -> Json:
    """Pipeline-owned deploys, image tag from a variable, ECS Exec on, no autoscaling."""
    settings = {
        "task": task_settings("movie-service", enable_execute_command=True, readonly_root_filesystem=False),
        "deployment": {"image_deploys": "pipeline"},
        "scaling": {"autoscaling": False, "desired_count": 1},
    }
    return synth_construct(
        lambda stack: build_services(
            stack, {"movie-service": settings}, compute={"exec": {"enabled": True}}, key=SimpleNamespace(arn=EXEC_KEY)
        )
    )


def test_task_definition_is_fargate_awsvpc_with_size_and_architecture(doc: Json) -> None:
    task = by_name(doc, "aws_ecs_task_definition", "netflux-unit-movie-service", key="family")

    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["network_mode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    assert task["runtime_platform"] == {"operating_system_family": "LINUX", "cpu_architecture": "ARM64"}
    assert task["execution_role_arn"] == ref(
        doc, "aws_iam_role", by_name(doc, "aws_iam_role", "netflux-unit-movie-service-execution"), "arn"
    )
    assert task["task_role_arn"] == ref(
        doc, "aws_iam_role", by_name(doc, "aws_iam_role", "netflux-unit-movie-service-task"), "arn"
    )


def test_container_runs_its_own_repository_image_with_env_secrets_and_logs(doc: Json) -> None:
    definition = container(doc)
    repository = by_name(doc, "aws_ecr_repository", "netflux-unit-movie-service")
    log_group = by_name(doc, "aws_cloudwatch_log_group", "/ecs/netflux-unit-movie-service")

    assert definition["image"] == ref(doc, "aws_ecr_repository", repository, "repository_url") + ":v1.2.3"
    assert definition["essential"] is True
    assert definition["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert definition["secrets"] == [
        {"name": "API_URL", "valueFrom": PARAMETER_ARN},
        {"name": "DB_PASSWORD", "valueFrom": f"{SECRET_ARN}:password::"},
    ]
    assert definition["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": ref(doc, "aws_cloudwatch_log_group", log_group, "name"),
            "awslogs-region": "eu-west-1",
            "awslogs-stream-prefix": "movie-service",
        },
    }
    assert definition["portMappings"] == [
        {"name": "http", "containerPort": 8080, "protocol": "tcp", "appProtocol": "http"}
    ]
    assert log_group["retention_in_days"] == 365
    assert "kms_key_id" not in log_group


def test_container_root_filesystem_is_read_only_with_a_writable_tmp(doc: Json) -> None:
    definition = container(doc)

    assert definition["readonlyRootFilesystem"] is True
    assert definition["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
    assert by_name(doc, "aws_ecs_task_definition", "netflux-unit-movie-service", key="family")["volume"] == [
        {"name": "tmp"}
    ]
    assert "linuxParameters" not in definition


def test_container_health_check_is_translated(doc: Json) -> None:
    assert container(doc)["healthCheck"] == {
        "command": ["CMD-SHELL", "wget -q -O- localhost:8080/health"],
        "interval": 30,
        "timeout": 5,
        "retries": 4,
        "startPeriod": 0,
    }


def test_image_tag_comes_from_a_validated_terraform_variable_when_unset(pipeline_doc: Json) -> None:
    definition = container(pipeline_doc)
    repository = only(pipeline_doc, "aws_ecr_repository")
    [validation] = pipeline_doc["variable"]["image_tag_movie_service"]["validation"]

    assert definition["image"] == ref(pipeline_doc, "aws_ecr_repository", repository, "repository_url") + (
        ":${var.image_tag_movie_service}"
    )
    assert 'var.image_tag_movie_service != "latest"' in validation["condition"]
    assert "healthCheck" not in definition
    assert definition["readonlyRootFilesystem"] is False
    assert "mountPoints" not in definition
    assert definition["linuxParameters"] == {"initProcessEnabled": True}


def test_log_group_uses_the_clusters_log_key() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
    document = synth_construct(
        lambda stack: build_services(
            stack, {"movie-service": {"task": {"log_retention_days": 30}}}, compute={"log_kms_key_arn": key}
        )
    )

    log_group = only(document, "aws_cloudwatch_log_group")
    assert (log_group["kms_key_id"], log_group["retention_in_days"]) == (key, 30)


def execution_statements(document: Json, service: str) -> list[Json]:
    return statements(by_name(document, "aws_iam_role_policy", f"netflux-unit-{service}-execution"))


def test_execution_role_is_scoped_to_its_own_repository_log_group_and_secrets(doc: Json) -> None:
    repository = by_name(doc, "aws_ecr_repository", "netflux-unit-movie-service")
    log_group_arn = ref(
        doc,
        "aws_cloudwatch_log_group",
        by_name(doc, "aws_cloudwatch_log_group", "/ecs/netflux-unit-movie-service"),
        "arn",
    )
    by_action = {tuple(s["Action"]): s["Resource"] for s in execution_statements(doc, "movie-service")}

    assert by_action == {
        ("ecr:GetAuthorizationToken",): ["*"],
        ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"): [
            ref(doc, "aws_ecr_repository", repository, "arn")
        ],
        ("logs:CreateLogStream", "logs:PutLogEvents"): [log_group_arn, f"{log_group_arn}:*"],
        # The JSON-key selector is not part of the secret's ARN: IAM gets the secret itself.
        ("secretsmanager:GetSecretValue",): [SECRET_ARN],
        ("ssm:GetParameters",): [PARAMETER_ARN],
    }


def test_execution_roles_of_two_services_share_nothing_but_the_registry_login(doc: Json) -> None:
    movie = {r for s in execution_statements(doc, "movie-service") for r in s["Resource"]}
    customer = {r for s in execution_statements(doc, "customer-service") for r in s["Resource"]}

    assert movie & customer == {"*"}
    assert OTHER_SECRET in customer
    assert OTHER_SECRET not in movie
    assert SECRET_ARN not in customer


def test_no_statement_allows_wildcards_beyond_the_unscopable_actions(doc: Json, pipeline_doc: Json) -> None:
    unscopable = {
        "ecr:GetAuthorizationToken",
        "logs:DescribeLogGroups",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    }
    checked = 0
    for document in (doc, pipeline_doc):
        for policy in resources(document, "aws_iam_role_policy").values():
            for statement in statements(policy):
                checked += 1
                assert statement["Effect"] == "Allow"
                assert not any("*" in action for action in statement["Action"]), statement
                if "*" in statement["Resource"]:
                    assert set(statement["Action"]) <= unscopable, statement
    assert checked >= 9


def test_roles_are_assumable_only_by_ecs_tasks(doc: Json) -> None:
    for role in resources(doc, "aws_iam_role").values():
        (trust,) = json.loads(role["assume_role_policy"])["Statement"]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert trust["Action"] == ["sts:AssumeRole"]


def test_task_role_has_no_permissions_by_default(doc: Json) -> None:
    task_role = ref(doc, "aws_iam_role", by_name(doc, "aws_iam_role", "netflux-unit-movie-service-task"), "id")

    assert not [p for p in resources(doc, "aws_iam_role_policy").values() if p["role"] == task_role]
    assert not resources(doc, "aws_iam_role_policy_attachment")


def test_task_role_gets_session_channels_the_session_log_group_and_key_when_exec_is_on(pipeline_doc: Json) -> None:
    policy = by_name(pipeline_doc, "aws_iam_role_policy", "netflux-unit-movie-service-ecs-exec")
    group = ref(pipeline_doc, "aws_cloudwatch_log_group", exec_log_group(pipeline_doc), "arn")

    assert policy["role"] == ref(
        pipeline_doc, "aws_iam_role", by_name(pipeline_doc, "aws_iam_role", "netflux-unit-movie-service-task"), "id"
    )
    assert {tuple(s["Action"]): (s["Resource"], s.get("Condition")) for s in statements(policy)} == {
        (
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ): (["*"], None),
        # The agent checks the group's encryption with DescribeLogGroups, which has no resource-level permissions.
        ("logs:DescribeLogGroups",): (["*"], None),
        ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"): ([group, f"{group}:*"], None),
        # Only session data keys: the client generates them under the session's encryption context.
        ("kms:Decrypt",): ([EXEC_KEY], {"Null": {"kms:EncryptionContext:aws:ssm:SessionId": "false"}}),
    }


def test_tasks_start_only_once_their_exec_permissions_exist(pipeline_doc: Json) -> None:
    depends_on = only(pipeline_doc, "aws_ecs_service")["depends_on"]

    assert any(d.startswith("aws_iam_role_policy.movie-service_task-exec-policy") for d in depends_on)


def exec_log_group(document: Json) -> Json:
    return by_name(document, "aws_cloudwatch_log_group", "/ecs/netflux-unit/exec")


@pytest.mark.parametrize(
    ("task", "accepts"),
    [
        ({"readonly_root_filesystem": False}, True),
        ({}, False),  # a read-only root cannot run the SSM agent: the environment's switch passes it by
        ({"readonly_root_filesystem": False, "enable_execute_command": False}, False),
    ],
    ids=["writable-root-follows-the-environment", "read-only-root", "turned-off-for-the-service"],
)
def test_a_service_without_a_setting_follows_the_environments_exec(task: Data, accepts: bool) -> None:
    document = synth_construct(
        lambda stack: build_services(
            stack,
            {"movie-service": {"task": task}},
            compute={"exec": {"enabled": True}},
            key=SimpleNamespace(arn=EXEC_KEY),
        )
    )
    service = only(document, "aws_ecs_service")
    names = {p["name"] for p in resources(document, "aws_iam_role_policy").values()}

    assert service["enable_execute_command"] is accepts
    assert ("netflux-unit-movie-service-ecs-exec" in names) is accepts
    assert ("linuxParameters" in container(document)) is accepts


def test_data_access_adds_settings_secrets_and_permissions() -> None:
    connect = {"Effect": "Allow", "Action": ["rds-db:connect"], "Resource": ["arn:aws:rds-db:x"]}
    read = {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": ["${token}"]}
    access = SimpleNamespace(
        environment={"RDS_HOST": "db"},
        secrets={"REDIS_AUTH": OTHER_SECRET},
        task_statements=[connect],
        execution_statements=[read],
    )
    document = synth_construct(
        lambda stack: build_services(
            stack, {"movie-service": {"task": task_settings("movie-service")}}, data_access=access
        )
    )

    definition = container(document)
    assert definition["environment"] == [{"name": "LOG_LEVEL", "value": "info"}, {"name": "RDS_HOST", "value": "db"}]
    assert {"name": "REDIS_AUTH", "valueFrom": OTHER_SECRET} in definition["secrets"]
    assert statements(by_name(document, "aws_iam_role_policy", "netflux-unit-movie-service-task")) == [connect]
    assert read in execution_statements(document, "movie-service")


def test_the_longest_allowed_names_fit_the_iam_role_name_limit() -> None:
    naming = Naming(project="p" * PROJECT_MAX, environment="e" * ENVIRONMENT_MAX, region="eu-west-1")
    name = "s" * SERVICE_MAX
    document = synth_construct(lambda stack: build_services(stack, {name: {}}, naming=naming))

    roles = [role["name"] for role in resources(document, "aws_iam_role").values()]
    assert sorted(roles) == sorted(f"{naming.prefix}-{name}-{role}" for role in ("execution", "task"))
    assert all(len(role) <= IAM_ROLE_NAME_MAX for role in roles)


def test_service_runs_privately_behind_its_target_group(doc: Json) -> None:
    service = by_name(doc, "aws_ecs_service", "movie-service")

    assert service["cluster"] == ref(doc, "aws_ecs_cluster", only(doc, "aws_ecs_cluster"), "arn")
    assert service["task_definition"] == ref(
        doc,
        "aws_ecs_task_definition",
        by_name(doc, "aws_ecs_task_definition", "netflux-unit-movie-service", key="family"),
        "arn",
    )
    assert service["network_configuration"] == {
        "subnets": ["subnet-a", "subnet-b"],
        "security_groups": ["sg-app"],
        "assign_public_ip": False,
    }
    assert service["load_balancer"] == [
        {"target_group_arn": TG_ARN, "container_name": "movie-service", "container_port": 8080}
    ]
    assert service["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]
    assert "launch_type" not in service


def test_service_waits_for_its_listener_rule_capacity_providers_and_execution_policy(doc: Json) -> None:
    depends_on = by_name(doc, "aws_ecs_service", "movie-service")["depends_on"]

    rule_ids = [f"aws_lb_listener_rule.{i}" for i in resources(doc, "aws_lb_listener_rule")]
    assert [d for d in depends_on if d.startswith("aws_lb_listener_rule.")] == [
        i for i in rule_ids if "movie-service" in i
    ]
    assert any(d.startswith("aws_ecs_cluster_capacity_providers.") for d in depends_on)
    assert any(d.startswith("aws_iam_role_policy.movie-service_execution-policy") for d in depends_on)


def test_service_deploys_with_circuit_breaker_rollback_and_configured_percentages(doc: Json) -> None:
    service = by_name(doc, "aws_ecs_service", "movie-service")

    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert (service["deployment_minimum_healthy_percent"], service["deployment_maximum_percent"]) == (100, 200)
    assert service["health_check_grace_period_seconds"] == 60
    assert service["desired_count"] == 2
    assert service["enable_execute_command"] is False
    assert service["force_new_deployment"] is True


def test_service_registers_its_name_with_service_connect(doc: Json) -> None:
    service = by_name(doc, "aws_ecs_service", "movie-service")
    connect = service["service_connect_configuration"]

    assert connect["enabled"] is True
    assert connect["namespace"] == ref(
        doc, "aws_service_discovery_http_namespace", only(doc, "aws_service_discovery_http_namespace"), "arn"
    )
    # port_name must equal the container's named port mapping, or ECS rejects the service.
    assert connect["service"] == [
        {
            "port_name": container(doc)["portMappings"][0]["name"],
            "discovery_name": "movie-service",
            "client_alias": {"dns_name": "movie-service", "port": 8080},
        }
    ]
    assert connect["log_configuration"]["options"]["awslogs-stream-prefix"] == "service-connect"


def test_terraform_owned_deploys_with_autoscaling_ignore_only_the_desired_count(doc: Json) -> None:
    assert by_name(doc, "aws_ecs_service", "movie-service")["lifecycle"] == {"ignore_changes": ["desired_count"]}


def test_pipeline_owned_deploys_ignore_task_definition_and_desired_count(pipeline_doc: Json) -> None:
    service = only(pipeline_doc, "aws_ecs_service")

    assert service["lifecycle"] == {"ignore_changes": ["task_definition", "desired_count"]}
    assert service["enable_execute_command"] is True
    assert service["desired_count"] == 1


def test_terraform_owned_fixed_count_ignores_nothing() -> None:
    document = synth_construct(
        lambda stack: build_services(stack, {"movie-service": {"scaling": {"autoscaling": False, "desired_count": 2}}})
    )

    assert "lifecycle" not in only(document, "aws_ecs_service")
    assert not resources(document, "aws_appautoscaling_target")
    assert not resources(document, "aws_appautoscaling_policy")


def test_autoscaling_target_covers_the_service_count_range(doc: Json) -> None:
    targets = resources(doc, "aws_appautoscaling_target")
    cluster_name = ref(doc, "aws_ecs_cluster", only(doc, "aws_ecs_cluster"), "name")
    service_name = ref(doc, "aws_ecs_service", by_name(doc, "aws_ecs_service", "movie-service"), "name")

    (target,) = [t for t in targets.values() if t["resource_id"] == f"service/{cluster_name}/{service_name}"]
    assert (target["min_capacity"], target["max_capacity"]) == (2, 6)
    assert (target["service_namespace"], target["scalable_dimension"]) == ("ecs", "ecs:service:DesiredCount")


def test_autoscaling_tracks_cpu_and_alb_requests_per_target(doc: Json) -> None:
    cpu = by_name(doc, "aws_appautoscaling_policy", "netflux-unit-movie-service-cpu")
    requests = by_name(doc, "aws_appautoscaling_policy", "netflux-unit-movie-service-requests")

    for policy, metric, value in (
        (cpu, "ECSServiceAverageCPUUtilization", 60),
        (requests, "ALBRequestCountPerTarget", 500),
    ):
        config = policy["target_tracking_scaling_policy_configuration"]
        assert policy["policy_type"] == "TargetTrackingScaling"
        assert config["predefined_metric_specification"]["predefined_metric_type"] == metric
        assert config["target_value"] == value
        assert (config["scale_in_cooldown"], config["scale_out_cooldown"]) == (120, 30)
        assert policy["resource_id"].startswith("${aws_appautoscaling_target.movie-service_scaling-target")
    assert (
        requests["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"]["resource_label"]
        == f"{ALB_SUFFIX}/{TG_SUFFIX}"
    )


def test_a_first_deploy_starts_at_zero_tasks() -> None:
    document = synth_construct(lambda stack: build_services(stack, {"movie-service": {}}, first_deploy=True))

    assert only(document, "aws_ecs_service")["desired_count"] == 0
    assert (only(document, "aws_appautoscaling_target")["min_capacity"]) == 0


# --- construct: backends and workers -------------------------------------------------------------

QUEUE_KEY = SimpleNamespace(arn=EXEC_KEY)


@pytest.fixture(scope="module")
def kinds_doc() -> Json:
    """A web service, a backend and an autoscaling worker, with the environment's key."""
    settings: dict[str, Data] = {
        "movie-service": {},
        BACKEND: {"kind": "backend", "container_port": 9090},
        WORKER: {
            "kind": "worker",
            "queue": {"visibility_timeout_seconds": 120},
            "scaling": {"min_count": 1, "max_count": 8, "messages_per_task": 25},
            "task": {"environment": {"LOG_LEVEL": "info"}},
        },
    }
    return synth_construct(lambda stack: build_services(stack, settings, key=QUEUE_KEY))


def test_backend_and_worker_have_no_load_balancer_no_grace_period_and_no_listener_rule(kinds_doc: Json) -> None:
    for name in (BACKEND, WORKER):
        service = by_name(kinds_doc, "aws_ecs_service", name)
        assert "load_balancer" not in service
        assert "health_check_grace_period_seconds" not in service
        assert not [d for d in service["depends_on"] if d.startswith("aws_lb_listener_rule.")]
        assert any(d.startswith("aws_ecs_cluster_capacity_providers.") for d in service["depends_on"])
    assert by_name(kinds_doc, "aws_ecs_service", "movie-service")["load_balancer"]


def test_each_kind_runs_in_its_own_security_group(kinds_doc: Json) -> None:
    groups = {
        name: by_name(kinds_doc, "aws_ecs_service", name)["network_configuration"]["security_groups"]
        for name in ("movie-service", BACKEND, WORKER)
    }
    assert groups == {"movie-service": ["sg-app"], BACKEND: ["sg-backend"], WORKER: ["sg-worker"]}


def test_a_backend_registers_its_port_with_service_connect(kinds_doc: Json) -> None:
    connect = by_name(kinds_doc, "aws_ecs_service", BACKEND)["service_connect_configuration"]

    assert connect["service"] == [
        {"port_name": "http", "discovery_name": BACKEND, "client_alias": {"dns_name": BACKEND, "port": 9090}}
    ]
    assert container(kinds_doc, BACKEND)["portMappings"] == [
        {"name": "http", "containerPort": 9090, "protocol": "tcp", "appProtocol": "http"}
    ]


def test_a_worker_has_no_port_and_is_a_service_connect_client_only(kinds_doc: Json) -> None:
    connect = by_name(kinds_doc, "aws_ecs_service", WORKER)["service_connect_configuration"]

    assert connect["enabled"] is True
    assert connect["namespace"] == ref(
        kinds_doc,
        "aws_service_discovery_http_namespace",
        only(kinds_doc, "aws_service_discovery_http_namespace"),
        "arn",
    )
    assert "service" not in connect
    assert "portMappings" not in container(kinds_doc, WORKER)


def queue_ref(document: Json, attribute: str) -> str:
    return ref(document, "aws_sqs_queue", by_name(document, "aws_sqs_queue", f"netflux-unit-{WORKER}"), attribute)


def test_a_worker_gets_its_queue_url_in_its_environment(kinds_doc: Json) -> None:
    assert container(kinds_doc, WORKER)["environment"] == [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "QUEUE_URL", "value": queue_ref(kinds_doc, "url")},
    ]


def test_a_workers_task_role_consumes_exactly_its_queue(kinds_doc: Json) -> None:
    policy = by_name(kinds_doc, "aws_iam_role_policy", f"netflux-unit-{WORKER}-task")

    assert policy["role"] == ref(
        kinds_doc, "aws_iam_role", by_name(kinds_doc, "aws_iam_role", f"netflux-unit-{WORKER}-task"), "id"
    )
    assert statements(policy) == [
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            "Resource": [queue_ref(kinds_doc, "arn")],
        },
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [EXEC_KEY],
            "Condition": {"StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}},
        },
    ]
    # Nobody else's task role touches the queue.
    others = [
        p for p in resources(kinds_doc, "aws_iam_role_policy").values() if p["name"] != f"netflux-unit-{WORKER}-task"
    ]
    assert not [p for p in others if "sqs:" in p["policy"]]


def test_a_worker_scales_on_cpu_and_on_its_queues_backlog_per_running_task(kinds_doc: Json) -> None:
    policies = {p["name"]: p for p in resources(kinds_doc, "aws_appautoscaling_policy").values() if WORKER in p["name"]}
    assert set(policies) == {f"netflux-unit-{WORKER}-cpu", f"netflux-unit-{WORKER}-backlog"}
    backlog = policies[f"netflux-unit-{WORKER}-backlog"]["target_tracking_scaling_policy_configuration"]
    cluster = ref(kinds_doc, "aws_ecs_cluster", only(kinds_doc, "aws_ecs_cluster"), "name")
    service = ref(kinds_doc, "aws_ecs_service", by_name(kinds_doc, "aws_ecs_service", WORKER), "name")

    assert backlog["target_value"] == 25
    assert "predefined_metric_specification" not in backlog
    visible, tasks, expression = backlog["customized_metric_specification"]["metrics"]
    assert visible["metric_stat"] == {
        "metric": {
            "namespace": "AWS/SQS",
            "metric_name": "ApproximateNumberOfMessagesVisible",
            "dimensions": [{"name": "QueueName", "value": queue_ref(kinds_doc, "name")}],
        },
        "stat": "Sum",
    }
    assert tasks["metric_stat"] == {
        "metric": {
            "namespace": "ECS/ContainerInsights",
            "metric_name": "RunningTaskCount",
            "dimensions": [{"name": "ClusterName", "value": cluster}, {"name": "ServiceName", "value": service}],
        },
        "stat": "Average",
    }
    assert (visible["return_data"], tasks["return_data"]) == (False, False)
    assert expression == {
        "id": "backlog",
        "label": "Visible messages per running task",
        "expression": f"{visible['id']} / {tasks['id']}",
        "return_data": True,
    }
    target = next(
        t for t in resources(kinds_doc, "aws_appautoscaling_target").values() if t["resource_id"].endswith(f"{service}")
    )
    assert (target["min_capacity"], target["max_capacity"]) == (1, 8)


def test_a_backend_scales_on_cpu_only(kinds_doc: Json) -> None:
    names = {p["name"] for p in resources(kinds_doc, "aws_appautoscaling_policy").values() if BACKEND in p["name"]}
    assert names == {f"netflux-unit-{BACKEND}-cpu"}


def test_only_web_services_get_an_unhealthy_target_alarm() -> None:
    services: dict[str, Service] = {}
    settings: dict[str, Data] = {"movie-service": {}, BACKEND: {"kind": "backend"}, WORKER: {"kind": "worker"}}
    synth_construct(lambda stack: services.update(build_services(stack, settings, key=QUEUE_KEY)))
    policy = AlarmPolicy(period_seconds=60, evaluation_periods=3)

    assert {name: [a.metric for a in service.alarms(policy)] for name, service in services.items()} == {
        "movie-service": ["CPUUtilization", "MemoryUtilization", "UnHealthyHostCount"],
        BACKEND: ["CPUUtilization", "MemoryUtilization"],
        WORKER: ["CPUUtilization", "MemoryUtilization"],
    }


def test_a_worker_needs_its_queue_and_only_a_worker_has_one() -> None:
    with pytest.raises(ValueError, match="a worker consumes exactly one queue"):
        synth_construct(
            lambda stack: Service(
                stack,
                "backend",
                name=BACKEND,
                settings=ServiceConfig(kind="backend", container_port=9090),
                naming=NAMING,
                cluster=Cluster(stack, "cluster", settings=ComputeConfig(), naming=NAMING, key=None),
                repository=Repository(stack, "repo", settings=RepositoryConfig(), naming=NAMING, image="r", key=None),
                network=SimpleNamespace(private_app_subnet_ids=["subnet-a"]),
                security_groups=SimpleNamespace(backend_sg_id="sg-backend"),
                load_balancer=None,
                data_access=no_data_access(),
                queue=SimpleNamespace(url="u", consume_statements=list),
            )
        )


# --- every environment -------------------------------------------------------------------------


def service_by_name(document: Json, name: str) -> Json:
    [found] = [s for s in resources(document, "aws_ecs_service").values() if s["name"].endswith(name)]
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_fargate_service_per_declared_service(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    declared = set(environments[env].services)

    assert len(resources(document, "aws_ecs_service")) == len(declared)
    services_tasks = [t for t in resources(document, "aws_ecs_task_definition") if t.startswith("service-")]
    assert len(services_tasks) == len(declared)  # the others are the environment's jobs' (tests/test_job.py)
    assert set(document["output"]["ecs_service_names"]["value"]) == declared


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_service_sits_behind_its_own_target_group_after_its_listener_rule(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    for name, config in environments[env].services.items():
        service = service_by_name(document, name)
        if config.kind != "web":
            assert "load_balancer" not in service
            assert not [d for d in service["depends_on"] if d.startswith("aws_lb_listener_rule.")]
            continue
        [balancer] = service["load_balancer"]
        target_groups = {
            k: v
            for k, v in resources(document, "aws_lb_target_group").items()
            if f"tg-{name}" in v["//"]["metadata"]["path"]
        }
        [(tg_id, group)] = target_groups.items()
        assert balancer["target_group_arn"] == f"${{aws_lb_target_group.{tg_id}.arn}}"
        assert balancer["container_name"] == name
        assert balancer["container_port"] == config.container_port
        assert group["health_check"]["path"] == config.target_health_check.path
        [rule_id] = [
            k
            for k, v in resources(document, "aws_lb_listener_rule").items()
            if v["action"][0]["target_group_arn"].endswith(f"{tg_id}.arn}}")
        ]
        assert f"aws_lb_listener_rule.{rule_id}" in service["depends_on"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_services_run_in_private_app_subnets_with_their_kinds_sg_and_no_public_ip(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    private_app = sorted(
        f"${{aws_subnet.{k}.id}}"
        for k, v in resources(document, "aws_subnet").items()
        if v["tags"]["tier"] == "private-app"
    )
    groups = {v["name"].rsplit("-", 1)[-1]: k for k, v in resources(document, "aws_security_group").items()}
    role = {"web": "app", "backend": "backend", "worker": "worker"}
    for name, config in environments[env].services.items():
        network = service_by_name(document, name)["network_configuration"]
        assert sorted(network["subnets"]) == private_app
        assert network["security_groups"] == [f"${{aws_security_group.{groups[role[config.kind]]}.id}}"]
        assert network["assign_public_ip"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_task_images_come_from_the_services_own_repository(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    document = synthesized[env]
    for name, config in environments[env].services.items():
        repository = next(k for k, v in resources(document, "aws_ecr_repository").items() if v["name"].endswith(name))
        image = container(document, name)["image"]
        expected_tag = config.task.image_tag or f"${{var.image_tag_{name.replace('-', '_')}}}"
        assert image == f"${{aws_ecr_repository.{repository}.repository_url}}:{expected_tag}"


def test_dev_takes_image_tags_from_terraform_variables(synthesized: dict[str, Json]) -> None:
    assert set(synthesized["dev"]["variable"]) == {
        "image_tag_movie_service",
        "image_tag_customer_service",
        "image_tag_rating_service",
        "image_tag_job_worker",
    }
    assert "variable" not in synthesized["prod"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_iam_statement_allows_everything(synthesized: dict[str, Json], env: str) -> None:
    for policy in resources(synthesized[env], "aws_iam_role_policy").values():
        for statement in json.loads(policy["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions
            assert not any(a.endswith(":*") for a in actions), actions


def test_prod_autoscales_every_service_and_dev_runs_a_fixed_single_task(synthesized: dict[str, Json]) -> None:
    targets = resources(synthesized["prod"], "aws_appautoscaling_target").values()
    assert sorted((t["min_capacity"], t["max_capacity"]) for t in targets) == [(3, 12), (3, 12)]
    assert resources(synthesized["dev"], "aws_appautoscaling_target") == {}
    assert {s["desired_count"] for s in resources(synthesized["dev"], "aws_ecs_service").values()} == {1}
