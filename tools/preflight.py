"""Checks before `make diff` / `make deploy`: stop with one line saying what to install or set.

python -m tools.preflight diff|deploy ENV   exit 0 when ready, else 1 with one line on stderr
python -m tools.preflight stack ENV         print the cdktf stack name of ENV
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from config import ConfigError, EnvironmentConfig, environment_files, load_environment

SKIP_CREDENTIALS = "SKIP_AWS_CREDENTIALS_CHECK"


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
