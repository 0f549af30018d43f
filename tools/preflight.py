"""Checks before `make diff` / `make deploy`: stop with one line saying what to install or set. Also what
the commands that work on a deployed stack share (`make exec`, `make run-job`): the checks they need to
read its outputs, and reading them.

python -m tools.preflight diff|deploy ENV   exit 0 when ready, else 1 with one line on stderr
python -m tools.preflight stack ENV         print the cdktf stack name of ENV
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config import ConfigError, EnvironmentConfig, environment_files, load_environment

ROOT = Path(__file__).resolve().parent.parent
SKIP_CREDENTIALS = "SKIP_AWS_CREDENTIALS_CHECK"
CLUSTER_OUTPUT = "ecs_cluster_name"
"""The stack output naming the ECS cluster (stacks/compute.py)."""


class StackCommandError(Exception):
    """A step of a command on a deployed stack failed; the message is one line saying what."""


def resolve_environment(name: str) -> EnvironmentConfig:
    """The validated config of environment ``name``; raises SystemExit with one line otherwise."""
    files = {path.stem: path for path in environment_files()}
    if not name:
        raise SystemExit(f"set ENV to one of: {', '.join(files)} (e.g. make deploy ENV=dev)")
    if name not in files:
        raise SystemExit(f"unknown ENV={name!r}; environments are: {', '.join(files)}")
    try:
        return load_environment(files[name])
    except ConfigError as error:
        raise SystemExit(str(error)) from None


def aws_credentials_source(environ: Mapping[str, str], home: Path) -> str | None:
    """Where the AWS SDK chain would find credentials, or None when nothing is configured."""
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return "environment variables"
    if environ.get("AWS_WEB_IDENTITY_TOKEN_FILE") and environ.get("AWS_ROLE_ARN"):
        return "web identity (OIDC)"
    if environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return "container credentials"
    if environ.get("AWS_PROFILE"):
        return f"profile {environ['AWS_PROFILE']}"
    for variable, default in (("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"), ("AWS_CONFIG_FILE", ".aws/config")):
        path = Path(environ.get(variable) or home / default)
        if path.is_file():
            return str(path)
    return None


def hcp_token_present(environ: Mapping[str, str], home: Path, hostname: str) -> bool:
    """Whether Terraform has a token for an HCP Terraform / TFE host."""
    if environ.get("TF_TOKEN_" + hostname.replace(".", "_").replace("-", "__")):
        return True
    return (home / ".terraform.d" / "credentials.tfrc.json").is_file()


def problem(action: str, config: EnvironmentConfig, environ: Mapping[str, str], home: Path) -> str | None:
    """The first missing prerequisite for ``action`` on ``config``, as one line; None when ready."""
    if shutil.which("terraform", path=environ.get("PATH")) is None:
        return (
            f"make {action} needs the terraform CLI (>= 1.10) on PATH: install it from "
            "https://developer.hashicorp.com/terraform/install (synth and tests do not need it)"
        )
    if environ.get(SKIP_CREDENTIALS) != "1" and aws_credentials_source(environ, home) is None:
        return (
            f"make {action} needs AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY, or run `aws sso login` (on an EC2/ECS role set {SKIP_CREDENTIALS}=1)"
        )
    if config.backend.type == "cloud" and not hcp_token_present(environ, home, config.backend.hostname):
        return f"make {action} ENV={config.environment} uses HCP Terraform: run `terraform login {config.backend.hostname}`"
    return None


# --- commands on a deployed stack (make exec, make run-job) ---------------------------------------


def cdktf_binary(environ: Mapping[str, str]) -> str | None:
    """The cdktf CLI: on PATH (make puts node_modules/.bin there), else the project's own."""
    found = shutil.which("cdktf", path=environ.get("PATH"))
    if found:
        return found
    local = ROOT / "node_modules" / ".bin" / "cdktf"
    return str(local) if local.is_file() else None


def stack_prerequisites(command: str, config: EnvironmentConfig, environ: Mapping[str, str], home: Path) -> list[str]:
    """What ``command`` (``make exec``) needs to read the deployed stack's outputs and call AWS, one line
    per missing piece: terraform and the cdktf CLI, AWS credentials, an HCP Terraform token."""
    missing = []
    if shutil.which("terraform", path=environ.get("PATH")) is None:
        missing.append(
            f"{command} needs the terraform CLI (>= 1.10) on PATH to read the stack's outputs: install it from "
            "https://developer.hashicorp.com/terraform/install"
        )
    if cdktf_binary(environ) is None:
        missing.append(
            f"{command} needs the cdktf CLI (node_modules/.bin/cdktf) to read the stack's outputs: run `make setup`"
        )
    if environ.get(SKIP_CREDENTIALS) != "1" and aws_credentials_source(environ, home) is None:
        missing.append(
            f"{command} needs AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            f"or run `aws sso login` (on an EC2/ECS role set {SKIP_CREDENTIALS}=1)"
        )
    if config.backend.type == "cloud" and not hcp_token_present(environ, home, config.backend.hostname):
        missing.append(
            f"{command} ENV={config.environment} reads its state from HCP Terraform: run "
            f"`terraform login {config.backend.hostname}`"
        )
    return missing


def stack_outputs(stack: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The deployed stack's outputs, read through ``cdktf output`` with the configured backend."""
    binary = cdktf_binary(environ)
    if binary is None:
        raise StackCommandError("the cdktf CLI is missing: run `make setup`")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "outputs.json"
        result = subprocess.run(
            [binary, "output", stack, "--outputs-file", str(path)],
            cwd=ROOT,
            env={**environ, "PLATFORM_BACKEND": "configured"},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not path.is_file():
            raise StackCommandError(f"cannot read the outputs of {stack}: {last_line(result)}")
        outputs: dict[str, Any] = json.loads(path.read_text() or "{}")
    # cdktf nests the outputs under the stack's name.
    found: dict[str, Any] = outputs.get(stack, outputs)
    return found


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """The last non-empty line a failed command printed (stderr first), or its exit status."""
    lines = [line.strip() for line in (result.stderr or result.stdout or "").splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {result.returncode}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("diff", "deploy", "stack"):
        print(__doc__, file=sys.stderr)
        return 2
    action, name = argv
    try:
        config = resolve_environment(name)
    except SystemExit as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if action == "stack":
        print(config.stack_name)
        return 0
    found = problem(action, config, os.environ, Path.home())
    if found:
        print(f"error: {found}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
