"""`make run-job ENV=<env> JOB=<name>`: run one job's task to its end and exit with its exit code.

    python -m tools.run_job ENV JOB [--poll-seconds N]

First it checks what the run needs and prints one line per missing piece (exit 2): terraform and the
cdktf CLI (to read the deployed stack's outputs with the environment's configured backend, as `make
deploy` uses), AWS credentials, and the job in the environment's file. Then, through botocore (the AWS
SDK the project already pins), it assumes `[account.assume_role]` when the file names one, refuses
credentials of another account than `[account] id`, reads the cluster and the job's task family,
subnets and security group from the stack's outputs, starts one task (Fargate, the family's latest
revision, no public IP), prints where its logs go, waits until it stops, and exits with the
container's exit code. Otherwise: 1 with the reason when the task could not start or stopped without
an exit code (image pull, secrets, capacity), 124 when the job's timeout_minutes passed (the task is
stopped), 130 on Ctrl-C (the task keeps running: the message says how to stop it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import EnvironmentConfig, environment_files

from .preflight import CLUSTER_OUTPUT, StackCommandError, resolve_environment, stack_outputs, stack_prerequisites

JOBS_OUTPUT = "ecs_jobs"
# RunTask's startedBy: up to 128 letters, digits, hyphens and underscores; shows who started the task.
STARTED_BY = "make-run-job"
POLL_SECONDS = 6.0
EXIT_TIMEOUT = 124  # as timeout(1)
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_PREFLIGHT = 2

ClientFactory = Callable[..., Any]
"""``factory(service, **credentials)``: a botocore client of ``service`` in the environment's region."""


class RunJobError(StackCommandError):
    """The run could not start or be followed; the message is one line saying what."""


@dataclass(frozen=True)
class JobTarget:
    """Where and how to start one job's task, from the stack's outputs."""

    job: str
    cluster: str
    family: str
    container: str
    log_group: str
    subnets: list[str]
    security_groups: list[str]


# --- what must be there before anything runs ---------------------------------------------------


def job_refusal(config: EnvironmentConfig, job: str, source: str) -> str | None:
    """Why ``job`` cannot run in ``config``, as one line; None when it can."""
    if not config.jobs:
        return f"{config.environment} has no jobs: add a [jobs.<name>] table to {source} and deploy"
    if not job:
        return f"set JOB to one of: {', '.join(config.jobs)} (e.g. make run-job ENV={config.environment} JOB=<name>)"
    if job not in config.jobs:
        return f"unknown JOB={job!r}; the jobs of {config.environment} are: {', '.join(config.jobs)}"
    return None


# --- from the deployed stack to the task -------------------------------------------------------


def job_target(outputs: Mapping[str, Any], stack: str, job: str) -> JobTarget:
    """The cluster and the job's task family, container, log group and network from the stack's outputs."""
    cluster = outputs.get(CLUSTER_OUTPUT)
    found = (outputs.get(JOBS_OUTPUT) or {}).get(job)
    environment = stack.rsplit("-", 1)[-1]
    if not cluster or not isinstance(found, Mapping):
        raise RunJobError(
            f"{stack} has no deployed job {job} (its outputs {JOBS_OUTPUT} name none): deploy it first, "
            f"make deploy ENV={environment}"
        )
    try:
        return JobTarget(
            job=job,
            cluster=str(cluster),
            family=str(found["task_definition_family"]),
            container=str(found["container_name"]),
            log_group=str(found["log_group_name"]),
            subnets=[str(s) for s in found["subnet_ids"]],
            security_groups=[str(g) for g in found["security_group_ids"]],
        )
    except KeyError as missing:
        raise RunJobError(
            f"the {JOBS_OUTPUT} output of {stack} has no {missing} for {job}: it was deployed by an older version; "
            f"deploy again, make deploy ENV={environment}"
        ) from None


def run_task_request(target: JobTarget) -> dict[str, Any]:
    """RunTask's arguments: one task of the family's latest revision on Fargate, where the schedule runs it."""
    return {
        "cluster": target.cluster,
        "taskDefinition": target.family,
        "count": 1,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": target.subnets,
                "securityGroups": target.security_groups,
                "assignPublicIp": "DISABLED",
            }
        },
        "startedBy": STARTED_BY,
        "enableECSManagedTags": True,
        "propagateTags": "TASK_DEFINITION",
    }


def log_stream(target: JobTarget, task_arn: str) -> str:
    """The awslogs stream of the job's container in ``task_arn``: ``<prefix>/<container>/<task id>``
    (the stream prefix is the job's name, see modules/job.py)."""
    return f"{target.job}/{target.container}/{task_arn.rsplit('/', 1)[-1]}"


def outcome(task: Mapping[str, Any], container: str) -> tuple[int, str]:
    """The exit status and the line to print for a STOPPED task of ``describe-tasks``."""
    mine: Mapping[str, Any] = next((c for c in task.get("containers", []) if c.get("name") == container), {})
    exit_code, reason = mine.get("exitCode"), mine.get("reason")
    if exit_code is not None:
        # A container killed for its memory exits 137 and says so in its reason.
        return int(exit_code) & 0xFF, f"exited {exit_code}" + (f" ({reason})" if exit_code and reason else "")
    said = "; ".join(str(r) for r in (task.get("stopCode"), task.get("stoppedReason"), reason) if r)
    return 1, f"stopped without an exit code (it did not run to its end): {said or 'ECS gave no reason'}"


def aws_client_factory(region: str) -> ClientFactory:
    """botocore clients of ``region`` with the default credential chain (AWS_PROFILE, SSO, keys, roles)
    and endpoint settings (AWS_ENDPOINT_URL: the emulator)."""
    import botocore.session

    session = botocore.session.get_session()

    def factory(service: str, **credentials: str) -> Any:
        return session.create_client(service, region_name=region, **credentials)

    return factory


def ecs_client(config: EnvironmentConfig, factory: ClientFactory) -> Any:
    """An ECS client with the environment's credentials: its ``[account.assume_role]`` assumed, and the
    account checked against ``[account] id`` (as the Terraform providers' allowed_account_ids)."""
    account = config.account
    credentials: dict[str, str] = {}
    if account is not None and account.assume_role is not None:
        role = account.assume_role
        request = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name or config.stack_name}
        if role.external_id:
            request["ExternalId"] = role.external_id
        assumed = _call(factory("sts"), "assume_role", **request)["Credentials"]
        credentials = {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
    if account is not None:
        found = _call(factory("sts", **credentials), "get_caller_identity")["Account"]
        if found != account.id:
            raise RunJobError(
                f"the AWS credentials are for account {found}, and {config.environment} lives in {account.id} "
                f"([account] id): use {config.environment}'s credentials (AWS_PROFILE)"
            )
    return factory("ecs", **credentials)


def _call(client: Any, operation: str, **arguments: Any) -> dict[str, Any]:
    """One AWS call; an API or SDK error becomes one line."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer: dict[str, Any] = getattr(client, operation)(**arguments)
    except ClientError as error:
        details = error.response.get("Error", {})
        raise RunJobError(
            f"{operation} failed: {details.get('Code', 'error')}: {details.get('Message', error)}"
        ) from None
    except BotoCoreError as error:
        raise RunJobError(f"{operation} failed: {error}") from None
    return answer


def say(line: str) -> None:
    print(f"run-job: {line}", file=sys.stderr, flush=True)


def run(
    target: JobTarget,
    ecs: Any,
    *,
    region: str,
    timeout_minutes: int,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Start the job's task, follow it until it stops, and return its exit status."""
    started = _call(ecs, "run_task", **run_task_request(target))
    if started.get("failures") or not started.get("tasks"):
        why = "; ".join(
            f"{f.get('reason')}{': ' + f['detail'] if f.get('detail') else ''}" for f in started["failures"]
        )
        raise RunJobError(f"ECS could not start {target.job}: {why or 'no task and no reason given'}")
    task_arn = str(started["tasks"][0]["taskArn"])
    stream = log_stream(target, task_arn)
    say(f"started {target.job} in {target.cluster} ({region}): task {task_arn.rsplit('/', 1)[-1]}")
    say(f"logs: {target.log_group}, stream {stream}")
    say(f"  aws logs tail {target.log_group} --log-stream-names {stream} --follow --region {region}")
    deadline = clock() + timeout_minutes * 60
    status = ""
    try:
        while True:
            described = _call(ecs, "describe_tasks", cluster=target.cluster, tasks=[task_arn])
            tasks = described.get("tasks") or []
            if not tasks:
                raise RunJobError(f"ECS no longer knows task {task_arn} (stopped tasks are kept about an hour)")
            task = tasks[0]
            if task.get("lastStatus") != status:
                status = str(task.get("lastStatus"))
                say(status)
            if status == "STOPPED":
                code, line = outcome(task, target.container)
                say(f"{target.job} {line}")
                return code
            if clock() >= deadline:
                _call(
                    ecs,
                    "stop_task",
                    cluster=target.cluster,
                    task=task_arn,
                    reason=f"make run-job: timeout_minutes ({timeout_minutes}) passed",
                )
                say(f"{target.job} ran longer than timeout_minutes ({timeout_minutes}): stopped it")
                return EXIT_TIMEOUT
            sleep(poll_seconds)
    except KeyboardInterrupt:
        say(
            f"interrupted; the task keeps running. Stop it with: aws ecs stop-task --region {region} "
            f"--cluster {target.cluster} --task {task_arn}"
        )
        return EXIT_INTERRUPTED


# --- the command -------------------------------------------------------------------------------


def main(
    argv: list[str],
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    factory: ClientFactory | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.run_job", description=__doc__.split("\n\n")[0])
    parser.add_argument("env")
    parser.add_argument("job", nargs="?", default="")
    parser.add_argument("--poll-seconds", type=float, default=POLL_SECONDS, help="time between DescribeTasks calls")
    args = parser.parse_args(argv)
    environ = dict(os.environ) if environ is None else dict(environ)
    home = Path.home() if home is None else home
    files = {path.stem: path for path in environment_files()}
    if not args.env:
        print(f"error: set ENV to one of: {', '.join(files)} (e.g. make run-job ENV=dev JOB=<name>)", file=sys.stderr)
        return EXIT_PREFLIGHT
    try:
        config = resolve_environment(args.env)
    except SystemExit as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PREFLIGHT
    source = f"{files[args.env].parent.name}/{files[args.env].name}"
    refusal = job_refusal(config, args.job, source)
    missing = stack_prerequisites("make run-job", config, environ, home) + ([refusal] if refusal else [])
    if missing:
        for line in missing:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_PREFLIGHT
    try:
        target = job_target(stack_outputs(config.stack_name, environ), config.stack_name, args.job)
        ecs = ecs_client(config, factory or aws_client_factory(config.region))
        return run(
            target,
            ecs,
            region=config.region,
            timeout_minutes=config.jobs[args.job].timeout_minutes,
            poll_seconds=args.poll_seconds,
        )
    except StackCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
