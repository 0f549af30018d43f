"""`make exec` (tools/exec.py): what it says when something is missing, and the session it opens.

No AWS here: the AWS CLI, the Session Manager plugin, terraform and cdktf are stand-in scripts on a
PATH of the test's own, and the process hand-over (``os.execvpe``) is recorded instead of made.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from config import EnvironmentConfig, parse_environment
from tools import exec as exec_tool
from tools import preflight

Data = dict[str, Any]
CLUSTER = "netflux-dev"
TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/netflux-dev/0123456789abcdef0123456789abcdef"
AWS_CLI = "make exec needs the AWS CLI (aws) on PATH"
PLUGIN = "make exec needs the Session Manager plugin (session-manager-plugin) on PATH"
TERRAFORM = "make exec needs the terraform CLI (>= 1.10) on PATH"
CDKTF = "make exec needs the cdktf CLI (node_modules/.bin/cdktf)"
CREDENTIALS = "make exec needs AWS credentials"


def executable(directory: Path, name: str, body: str = "exit 0") -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def bare_environ(path: Path, **extra: str) -> dict[str, str]:
    """An environment with nothing but ``path`` on PATH: no AWS variables, no credentials."""
    return {"PATH": str(path), **extra}


def errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err.splitlines()


def say(lines: list[str], *starts: str) -> bool:
    """Whether ``lines`` are exactly one line per start, in order, each beginning with it."""
    return len(lines) == len(starts) and all(line.startswith(start) for line, start in zip(lines, starts, strict=True))


def parse(data: Data, env: str) -> EnvironmentConfig:
    return parse_environment(data, source=f"environments/{env}.toml", expected_name=env)


# --- what is missing ---------------------------------------------------------------------------


def test_names_every_missing_tool_and_the_credentials_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environments: dict[str, EnvironmentConfig]
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(preflight, "ROOT", tmp_path)  # no node_modules/.bin/cdktf either

    missing = exec_tool.missing_prerequisites(environments["dev"], bare_environ(empty), home=tmp_path)

    assert say(missing, AWS_CLI, PLUGIN, TERRAFORM, CDKTF, CREDENTIALS)
    assert (
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html"
        in missing[1]
    )


def test_make_exec_with_an_empty_path_exits_2_with_one_line_per_missing_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(preflight, "ROOT", tmp_path)

    status = exec_tool.main(["dev", "movie-service"], environ=bare_environ(empty), home=tmp_path)

    lines = errors(capsys)
    assert status == 2
    assert say(lines, *(f"error: {start}" for start in (AWS_CLI, PLUGIN, TERRAFORM, CDKTF, CREDENTIALS)))


def test_only_the_missing_plugin_is_named_when_the_rest_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("aws", "terraform", "cdktf"):
        executable(tools, name)

    status = exec_tool.main(["dev", "movie-service"], environ=bare_environ(tools, AWS_PROFILE="dev"), home=tmp_path)

    assert status == 2
    assert say(errors(capsys), f"error: {PLUGIN}")


def test_instance_roles_skip_the_credentials_check(tmp_path: Path, environments: dict[str, EnvironmentConfig]) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("aws", "session-manager-plugin", "terraform", "cdktf"):
        executable(tools, name)

    environ = bare_environ(tools, SKIP_AWS_CREDENTIALS_CHECK="1")
    assert exec_tool.missing_prerequisites(environments["dev"], environ, home=tmp_path) == []


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["", ""], "error: set ENV to one of: dev, prod, staging (e.g. make exec ENV=dev SERVICE=<name>)"),
        (["qa", "movie-service"], "error: unknown ENV='qa'; environments are: dev, prod, staging"),
    ],
)
def test_an_unknown_environment_is_one_line(argv: list[str], line: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert exec_tool.main(argv, environ={"PATH": ""}) == 2
    assert errors(capsys) == [line]


# --- whether the service accepts sessions ------------------------------------------------------


def test_exec_is_on_for_dev_and_staging_services_and_off_in_prod(environments: dict[str, EnvironmentConfig]) -> None:
    source = "environments/{}.toml"
    for env in ("dev", "staging"):
        for service in environments[env].services:
            assert exec_tool.exec_refusal(environments[env], service, source.format(env)) is None
    assert exec_tool.exec_refusal(environments["prod"], "movie-service", source.format("prod")) == (
        "ECS Exec is off for movie-service in prod: the environment offers none (compute.exec.enabled is false): "
        "set [compute.exec] enabled = true in environments/prod.toml and deploy"
    )


def test_says_exec_is_off_for_a_service_that_turns_it_off(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["services"]["customer-service"]["task"]["enable_execute_command"] = False

    assert exec_tool.exec_refusal(parse(data, "dev"), "customer-service", "environments/dev.toml") == (
        "ECS Exec is off for customer-service in dev: services.customer-service.task.enable_execute_command = false "
        "in environments/dev.toml"
    )


def test_says_a_read_only_root_keeps_exec_off(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["services"]["movie-service"]["task"].pop("readonly_root_filesystem")

    refusal = exec_tool.exec_refusal(parse(data, "dev"), "movie-service", "environments/dev.toml")

    assert refusal == (
        "ECS Exec is off for movie-service in dev: its root filesystem is read-only "
        "(services.movie-service.task.readonly_root_filesystem = true), and the SSM agent ECS Exec injects needs a "
        "writable one: set it to false in environments/dev.toml and deploy"
    )


def test_make_exec_reports_exec_off_along_with_missing_tools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("aws", "terraform", "cdktf"):
        executable(tools, name)

    status = exec_tool.main(["prod", "movie-service"], environ=bare_environ(tools, AWS_PROFILE="prod"), home=tmp_path)

    lines = errors(capsys)
    assert status == 2
    assert say(
        lines, f"error: {PLUGIN}", "error: ECS Exec is off for movie-service in prod: the environment offers none"
    )


@pytest.mark.parametrize(
    ("service", "line"),
    [
        (
            "",
            "set SERVICE to one of: movie-service, customer-service, rating-service, job-worker "
            "(e.g. make exec ENV=dev SERVICE=<name>)",
        ),
        (
            "search",
            "unknown SERVICE='search'; the services of dev are: movie-service, customer-service, rating-service, "
            "job-worker",
        ),
    ],
)
def test_names_the_services_when_service_is_missing_or_unknown(
    service: str, line: str, environments: dict[str, EnvironmentConfig]
) -> None:
    assert exec_tool.exec_refusal(environments["dev"], service, "environments/dev.toml") == line


# --- from outputs to the session ---------------------------------------------------------------


def described(*, exec_enabled: bool = True, agent: str = "RUNNING", status: str = "RUNNING") -> Data:
    """``aws ecs describe-tasks`` output for one task."""
    return {
        "tasks": [
            {
                "taskArn": TASK_ARN,
                "lastStatus": status,
                "enableExecuteCommand": exec_enabled,
                "containers": [
                    {"name": "movie-service", "managedAgents": [{"name": "ExecuteCommandAgent", "lastStatus": agent}]}
                ],
            }
        ]
    }


def test_builds_an_interactive_shell_session_in_the_services_container() -> None:
    assert exec_tool.execute_command_argv(
        region="eu-west-1", cluster=CLUSTER, task=TASK_ARN, container="movie-service"
    ) == [
        "aws",
        "ecs",
        "execute-command",
        "--region",
        "eu-west-1",
        "--cluster",
        CLUSTER,
        "--task",
        TASK_ARN,
        "--container",
        "movie-service",
        "--interactive",
        "--command",
        "/bin/sh",
    ]


def test_picks_a_running_task_whose_exec_agent_runs() -> None:
    assert exec_tool.pick_task(described(), cluster=CLUSTER, service="movie-service", region="eu-west-1") == TASK_ARN


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (described(exec_enabled=False), r"started before ECS Exec was turned on; .*--force-new-deployment"),
        (described(agent="PENDING"), r"the ECS Exec agent of no running task of movie-service is RUNNING yet"),
        (described(status="STOPPED"), r"no running task of movie-service in netflux-dev"),
    ],
)
def test_says_why_no_task_can_take_a_session(answer: Data, message: str) -> None:
    with pytest.raises(exec_tool.ExecError, match=message):
        exec_tool.pick_task(answer, cluster=CLUSTER, service="movie-service", region="eu-west-1")


def test_an_undeployed_stack_is_one_line() -> None:
    with pytest.raises(exec_tool.ExecError, match=r"netflux-dev has no deployed ECS service movie-service .*ENV=dev"):
        exec_tool.cluster_and_service({}, "netflux-dev", "movie-service")


@pytest.mark.slow  # stand-in CLIs run as subprocesses
def test_make_exec_opens_the_session_from_the_stacks_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN stand-in CLIs (cdktf writes dev's outputs, aws answers list/describe-tasks) WHEN make exec
    runs THEN it hands the terminal to aws ecs execute-command for the task it found."""
    tools = tmp_path / "bin"
    tools.mkdir()
    calls = tmp_path / "calls"
    outputs = {CLUSTER: {"ecs_cluster_name": CLUSTER, "ecs_service_names": {"movie-service": "movie-service"}}}
    # cdktf output netflux-dev --outputs-file <path>
    executable(tools, "cdktf", f'echo "cdktf $* $PLATFORM_BACKEND" >> {calls}\necho \'{json.dumps(outputs)}\' > "$4"')
    answers = {"list-tasks": {"taskArns": [TASK_ARN]}, "describe-tasks": described()}
    executable(
        tools,
        "aws",
        f'echo "aws $*" >> {calls}\n'
        + "\n".join(f"[ \"$2\" = {verb} ] && echo '{json.dumps(answer)}'" for verb, answer in answers.items())
        + "\nexit 0",
    )
    executable(tools, "session-manager-plugin")
    executable(tools, "terraform")
    handed_over: list[list[str]] = []

    def execvpe(file: str, args: list[str], env: dict[str, str]) -> None:
        handed_over.append(args)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execvpe", execvpe)
    with pytest.raises(SystemExit):
        exec_tool.main(["dev", "movie-service"], environ=bare_environ(tools, AWS_PROFILE="dev"), home=tmp_path)

    assert handed_over == [
        exec_tool.execute_command_argv(region="eu-west-1", cluster=CLUSTER, task=TASK_ARN, container="movie-service")
    ]
    made = calls.read_text().splitlines()
    assert made[0].startswith("cdktf output netflux-dev --outputs-file ")
    assert made[0].endswith(" configured")
    assert made[1] == (
        "aws ecs list-tasks --region eu-west-1 --cluster netflux-dev --service-name movie-service "
        "--desired-status RUNNING --output json"
    )
    assert (
        made[2] == f"aws ecs describe-tasks --region eu-west-1 --cluster netflux-dev --tasks {TASK_ARN} --output json"
    )
    assert "ECS Exec: movie-service task 0123456789abcdef0123456789abcdef in netflux-dev" in capsys.readouterr().err
