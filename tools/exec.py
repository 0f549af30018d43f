"""`make exec ENV=<env> SERVICE=<name>`: a shell in a running task of one service, through ECS Exec.

    python -m tools.exec ENV SERVICE

First it checks everything the session needs and prints one line per missing piece (exit 2): the
AWS CLI, the Session Manager plugin, terraform and the cdktf CLI (to read the deployed stack's
outputs), AWS credentials, and ECS Exec being on for the service in the environment's file. Then it
reads the cluster and service names from the stack's outputs (`cdktf output` with the environment's
configured backend, as `make deploy` uses), picks a running task that accepts sessions, and hands
the terminal to `aws ecs execute-command --interactive --command /bin/sh`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from config import EnvironmentConfig, environment_files

from .preflight import (
    CLUSTER_OUTPUT,
    StackCommandError,
    last_line,
    resolve_environment,
    stack_outputs,
    stack_prerequisites,
)

SHELL = "/bin/sh"
SERVICES_OUTPUT = "ecs_service_names"
# ECS's name for the agent that serves ECS Exec sessions inside a task.
EXEC_AGENT = "ExecuteCommandAgent"


class ExecError(StackCommandError):
    """Something between the checks and the session failed; the message is one line saying what."""


# --- what must be there before anything runs ---------------------------------------------------


def missing_prerequisites(config: EnvironmentConfig, environ: Mapping[str, str], home: Path) -> list[str]:
    """One line per tool or credential the session needs and cannot find; empty when all are there."""
    path = environ.get("PATH")
    missing = []
    if shutil.which("aws", path=path) is None:
        missing.append(
            "make exec needs the AWS CLI (aws) on PATH: install it from "
            "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
        )
    if shutil.which("session-manager-plugin", path=path) is None:
        missing.append(
            "make exec needs the Session Manager plugin (session-manager-plugin) on PATH, which the AWS CLI "
            "opens sessions with: install it from https://docs.aws.amazon.com/systems-manager/latest/userguide/"
            "session-manager-working-with-install-plugin.html"
        )
    return missing + stack_prerequisites("make exec", config, environ, home)


def exec_refusal(config: EnvironmentConfig, service: str, source: str) -> str | None:
    """Why ``service`` of ``config`` accepts no ECS Exec session, as one line; None when it does."""
    if config.compute.kind != "fargate":
        return (
            f"{config.environment} runs Elastic Beanstalk (compute.kind = 'beanstalk' in {source}): ECS Exec opens "
            "shells in Fargate services only"
        )
    if not service:
        return f"set SERVICE to one of: {', '.join(config.services)} (e.g. make exec ENV={config.environment} SERVICE=<name>)"
    if service not in config.services:
        return f"unknown SERVICE={service!r}; the services of {config.environment} are: {', '.join(config.services)}"
    task = config.services[service].task
    if config.compute.exec.on_for(task):
        return None
    off = f"ECS Exec is off for {service} in {config.environment}"
    if not config.compute.exec.enabled:
        return (
            f"{off}: the environment offers none (compute.exec.enabled is false): set [compute.exec] enabled = true "
            f"in {source} and deploy"
        )
    if task.enable_execute_command is False:
        return f"{off}: services.{service}.task.enable_execute_command = false in {source}"
    return (
        f"{off}: its root filesystem is read-only (services.{service}.task.readonly_root_filesystem = true), and the "
        f"SSM agent ECS Exec injects needs a writable one: set it to false in {source} and deploy"
    )


# --- from the deployed stack to the session ----------------------------------------------------


def cluster_and_service(outputs: Mapping[str, Any], stack: str, service: str) -> tuple[str, str]:
    """The ECS cluster and service names of ``service`` in the stack's outputs."""
    cluster = outputs.get(CLUSTER_OUTPUT)
    names = outputs.get(SERVICES_OUTPUT) or {}
    if not cluster or service not in names:
        raise ExecError(
            f"{stack} has no deployed ECS service {service} (its outputs name none): deploy it first, "
            f"make deploy ENV={stack.rsplit('-', 1)[-1]}"
        )
    return str(cluster), str(names[service])


def pick_task(described: Mapping[str, Any], *, cluster: str, service: str, region: str) -> str:
    """A running task of ``describe-tasks`` output whose ECS Exec agent runs: its ARN."""
    tasks = [t for t in described.get("tasks", []) if t.get("lastStatus") == "RUNNING"]
    if not tasks:
        raise ExecError(f"no running task of {service} in {cluster}: start one, or wait for the deployment")
    for task in tasks:
        agents = [
            a for c in task.get("containers", []) for a in c.get("managedAgents", []) if a.get("name") == EXEC_AGENT
        ]
        if task.get("enableExecuteCommand") and any(a.get("lastStatus") == "RUNNING" for a in agents):
            return str(task["taskArn"])
    if not any(t.get("enableExecuteCommand") for t in tasks):
        raise ExecError(
            f"the running tasks of {service} started before ECS Exec was turned on; start new ones: aws ecs "
            f"update-service --region {region} --cluster {cluster} --service {service} --force-new-deployment"
        )
    raise ExecError(
        f"the ECS Exec agent of no running task of {service} is RUNNING yet: wait a minute, or check the task "
        "role's ssmmessages permissions and (without NAT) the ssmmessages and kms VPC endpoints"
    )


def execute_command_argv(*, region: str, cluster: str, task: str, container: str, command: str = SHELL) -> list[str]:
    """The AWS CLI call that opens an interactive session in ``container`` of ``task``."""
    return [
        "aws",
        "ecs",
        "execute-command",
        "--region",
        region,
        "--cluster",
        cluster,
        "--task",
        task,
        "--container",
        container,
        "--interactive",
        "--command",
        command,
    ]


def aws_json(args: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any]:
    """One read-only AWS CLI call's JSON answer."""
    result = subprocess.run(
        ["aws", *args, "--output", "json"], env=dict(environ), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ExecError(f"aws {' '.join(args[:2])} failed: {last_line(result)}")
    answer: dict[str, Any] = json.loads(result.stdout or "{}")
    return answer


def running_task(*, cluster: str, service: str, region: str, environ: Mapping[str, str]) -> str:
    """The ARN of a running task of ``service`` that accepts ECS Exec sessions."""
    where = ["--region", region, "--cluster", cluster]
    listed = aws_json(["ecs", "list-tasks", *where, "--service-name", service, "--desired-status", "RUNNING"], environ)
    arns = listed.get("taskArns", [])
    if not arns:
        raise ExecError(f"no running task of {service} in {cluster}: start one, or wait for the deployment")
    described = aws_json(["ecs", "describe-tasks", *where, "--tasks", *arns[:100]], environ)
    return pick_task(described, cluster=cluster, service=service, region=region)


# --- the command -------------------------------------------------------------------------------


def main(argv: list[str], environ: Mapping[str, str] | None = None, home: Path | None = None) -> int:
    environ = dict(os.environ) if environ is None else dict(environ)
    home = Path.home() if home is None else home
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    name, service = argv[0], argv[1] if len(argv) == 2 else ""
    files = {path.stem: path for path in environment_files()}
    if not name:
        print(f"error: set ENV to one of: {', '.join(files)} (e.g. make exec ENV=dev SERVICE=<name>)", file=sys.stderr)
        return 2
    try:
        config = resolve_environment(name)
    except SystemExit as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    source = f"{files[name].parent.name}/{files[name].name}"
    refusal = exec_refusal(config, service, source)
    missing = missing_prerequisites(config, environ, home) + ([refusal] if refusal else [])
    if missing:
        for line in missing:
            print(f"error: {line}", file=sys.stderr)
        return 2
    try:
        cluster, ecs_service = cluster_and_service(
            stack_outputs(config.stack_name, environ), config.stack_name, service
        )
        task = running_task(cluster=cluster, service=ecs_service, region=config.region, environ=environ)
    except StackCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    command = execute_command_argv(region=config.region, cluster=cluster, task=task, container=service)
    print(f"ECS Exec: {service} task {task.rsplit('/', 1)[-1]} in {cluster} ({config.region})", file=sys.stderr)
    # The session owns the terminal: the AWS CLI (and its plugin) replace this process.
    os.execvpe(command[0], command, environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
