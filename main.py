#!/usr/bin/env python3
"""Synthesize every environment (environments/*.toml, examples/*/*.toml) into cdktf.out/stacks/<project>-<env>/.

Used both by ``make synth`` and by the cdktf CLI (cdktf.json runs this file). Config for all
environments is validated first; nothing is synthesized if any file is invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# `modules` must be imported before anything touches cdktf_cdktf_provider_aws (see
# provider_import.py); `stacks` imports `modules`, which installs it first.
from stacks import PlatformStack  # isort: skip

from cdktf import App

from config import ConfigError, environment_files, example_files, load_environments
from config.backends import S3BackendConfig
from modules.provider import AWS_PROVIDER_VERSIONS, BINDINGS_AWS_PROVIDER
from stacks.platform_stack import BackendChoice

BACKEND_ENV = "PLATFORM_BACKEND"
AWS_PROVIDER_ENV = "PLATFORM_AWS_PROVIDER"
FIRST_DEPLOY_ENV = "PLATFORM_FIRST_DEPLOY"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", action="append", default=[], help="Only this environment (repeatable). Default: all.")
    parser.add_argument(
        "--backend",
        choices=["configured", "local"],
        default=os.environ.get(BACKEND_ENV, "configured"),
        help=f"'local' forces local state for every stack (make synth does this). Default: ${BACKEND_ENV} or 'configured'.",
    )
    parser.add_argument(
        "--aws-provider",
        choices=AWS_PROVIDER_VERSIONS,
        default=os.environ.get(AWS_PROVIDER_ENV) or BINDINGS_AWS_PROVIDER,
        help=f"AWS provider release the JSON is written for. Default: ${AWS_PROVIDER_ENV} or {BINDINGS_AWS_PROVIDER}. "
        "5.100.0 is for teams still on provider 5.x (RDS Proxy then signs in to the database with per-user secrets).",
    )
    parser.add_argument(
        "--first-deploy",
        action="store_true",
        default=os.environ.get(FIRST_DEPLOY_ENV) == "1",
        help=f"Every Fargate service starts at zero tasks, for the first apply of a fresh environment (its image "
        f"repositories do not exist yet); then push the images and deploy normally. Default: ${FIRST_DEPLOY_ENV}=1.",
    )
    parser.add_argument(
        "--environments",
        type=Path,
        default=None,
        help="Directory of <env>.toml files. Default: environments/ plus the examples/*/<env>.toml examples.",
    )
    parser.add_argument("--outdir", default=None, help="Output directory. Default: $CDKTF_OUTDIR or cdktf.out.")
    args = parser.parse_args(argv)
    if args.backend not in ("configured", "local"):
        parser.error(f"{BACKEND_ENV} must be 'configured' or 'local', got {args.backend!r}")
    if args.aws_provider not in AWS_PROVIDER_VERSIONS:
        parser.error(f"{AWS_PROVIDER_ENV} must be one of {', '.join(AWS_PROVIDER_VERSIONS)}, got {args.aws_provider!r}")

    files = environment_files(args.environments) if args.environments else environment_files() + example_files()
    if args.env:
        unknown = sorted(set(args.env) - {f.stem for f in files})
        if unknown:
            parser.error(f"unknown environment(s) {', '.join(unknown)}; have: {', '.join(f.stem for f in files)}")
        files = [f for f in files if f.stem in args.env]
    try:
        configs = load_environments(files)
    except ConfigError as error:
        print(f"config error:\n{error}", file=sys.stderr)
        return 2

    for config in configs:
        if isinstance(config.backend, S3BackendConfig):
            for warning in config.backend.warnings:
                print(f"warning: {config.stack_name}: {warning}", file=sys.stderr)

    started = time.perf_counter()
    app = App(outdir=args.outdir) if args.outdir else App()
    build_seconds: dict[str, float] = {}
    backend: BackendChoice = args.backend
    for config in configs:
        t0 = time.perf_counter()
        PlatformStack(
            app, config, backend=backend, aws_provider_version=args.aws_provider, first_deploy=args.first_deploy
        )
        build_seconds[config.stack_name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    app.synth()
    synth_seconds = time.perf_counter() - t0

    outdir = Path(app.outdir)
    for stack, seconds in build_seconds.items():
        document = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
        resources = sum(len(items) for items in document.get("resource", {}).values())
        print(f"{stack:<24} {resources:>4} resources  built in {seconds:.2f}s")
    print(
        f"synthesized {len(configs)} stack(s) into {outdir}/stacks in {time.perf_counter() - started:.2f}s (write {synth_seconds:.2f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
