#!/usr/bin/env python3
"""Synthesize every environment (environments/*.toml, examples/*/*.toml) into cdktf.out/stacks/<project>-<env>/.

Used both by ``make synth`` and by the cdktf CLI (cdktf.json runs this file). Config for all
environments is validated first; nothing is synthesized if any file is invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import provider_import

# Checked before anything imports the toolchain's bindings: a wrong TOOLCHAIN is one line, not a traceback.
if __name__ == "__main__" and (_toolchain_problem := provider_import.problem()) is not None:
    print(f"error: {_toolchain_problem}", file=sys.stderr)
    sys.exit(2)

from config import ConfigError, EnvironmentConfig, environment_files, example_files, load_environments
from config.backends import S3BackendConfig
from config.provider import AWS_PROVIDER_VERSIONS, BINDINGS_AWS_PROVIDER

BACKEND_ENV = "PLATFORM_BACKEND"
AWS_PROVIDER_ENV = "PLATFORM_AWS_PROVIDER"
FIRST_DEPLOY_ENV = "PLATFORM_FIRST_DEPLOY"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = _parse_args(parser, argv)
    try:
        outdir, configs = _load(parser, args)
    except (ConfigError, _InputError) as error:
        print(f"config error:\n{error}", file=sys.stderr)
        return 2
    _warn(configs)
    timings = _synthesize(configs, outdir, args)
    _report(outdir, timings, len(configs))
    return 0


class _InputError(Exception):
    """Command-line input that names nothing to synthesize or nowhere to write it; ``str()`` says why."""


@dataclass(frozen=True)
class _Timings:
    """When synthesis started, each stack's build time and the time to write them all, in seconds."""

    started: float
    build_seconds: dict[str, float]
    write_seconds: float


def _parser() -> argparse.ArgumentParser:
    """The command line's options, their defaults (some from the environment) and their help."""
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
    return parser


def _parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The parsed command line; exits with a usage error when a default taken from the environment is invalid."""
    args = parser.parse_args(argv)
    if args.backend not in ("configured", "local"):
        parser.error(f"{BACKEND_ENV} must be 'configured' or 'local', got {args.backend!r}")
    if args.aws_provider not in AWS_PROVIDER_VERSIONS:
        parser.error(f"{AWS_PROVIDER_ENV} must be one of {', '.join(AWS_PROVIDER_VERSIONS)}, got {args.aws_provider!r}")
    return args


def _load(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[Path, list[EnvironmentConfig]]:
    """The output directory and the validated configs of the chosen environments, or ``_InputError``/``ConfigError``."""
    if args.environments is not None:
        problem = _environments_problem(args.environments)
        if problem:
            raise _InputError(problem)
    files = environment_files(args.environments) if args.environments else environment_files() + example_files()
    if not files:
        raise _InputError("no environment files (*.toml) to synthesize")
    outdir = Path(args.outdir or os.environ.get("CDKTF_OUTDIR") or "cdktf.out")
    if not outdir.parent.is_dir():
        raise _InputError(f"--outdir {outdir}: its parent directory {outdir.parent} does not exist")
    if args.env:
        unknown = sorted(set(args.env) - {f.stem for f in files})
        if unknown:
            parser.error(f"unknown environment(s) {', '.join(unknown)}; have: {', '.join(f.stem for f in files)}")
        files = [f for f in files if f.stem in args.env]
    return outdir, load_environments(files)


def _warn(configs: list[EnvironmentConfig]) -> None:
    """Print the warnings of every S3 backend (accepted settings the user should move away from)."""
    for config in configs:
        if isinstance(config.backend, S3BackendConfig):
            for warning in config.backend.warnings:
                print(f"warning: {config.stack_name}: {warning}", file=sys.stderr)


def _synthesize(configs: list[EnvironmentConfig], outdir: Path, args: argparse.Namespace) -> _Timings:
    """Build one stack per config and write them all into ``outdir``, replacing what it held."""
    # cdktf, jsii and the provider bindings load only now, once the input is known to be good: a
    # mistyped option or file answers in a fraction of a second. `stacks` imports `modules`, which
    # installs the partial provider import (provider_import.py) before anything touches the bindings.
    from stacks import PlatformStack
    from cdktf import App  # isort: skip

    started = time.perf_counter()
    # Written aside and swapped in whole: a killed synth leaves the previous complete output (or,
    # killed between the two renames, none), never a truncated file or a mix of old and new stacks.
    staging = outdir.with_name(f".{outdir.name}.partial-{os.getpid()}")
    for leftover in outdir.parent.glob(f".{outdir.name}.*-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    app = App(outdir=str(staging))
    build_seconds: dict[str, float] = {}
    backend = args.backend
    for config in configs:
        t0 = time.perf_counter()
        PlatformStack(
            app, config, backend=backend, aws_provider_version=args.aws_provider, first_deploy=args.first_deploy
        )
        build_seconds[config.stack_name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    app.synth()
    _swap_in(staging, outdir)
    return _Timings(started=started, build_seconds=build_seconds, write_seconds=time.perf_counter() - t0)


def _report(outdir: Path, timings: _Timings, stacks: int) -> None:
    """Print per stack its resources and build time, then the totals."""
    for stack, seconds in timings.build_seconds.items():
        print(f"{stack:<24} {_resource_count(outdir / 'stacks' / stack):>4} resources  built in {seconds:.2f}s")
    print(
        f"synthesized {stacks} stack(s) into {outdir}/stacks in {time.perf_counter() - timings.started:.2f}s (write {timings.write_seconds:.2f}s)"
    )


def _resource_count(stack_dir: Path) -> int:
    """Resources in a synthesized stack: ``cdk.tf.json``, or ``cdk.tf`` when the CLI asked for HCL
    (``cdktf synth --hcl`` sets the app's context so that it writes HCL instead)."""
    as_json = stack_dir / "cdk.tf.json"
    if as_json.is_file():
        return sum(len(items) for items in json.loads(as_json.read_text()).get("resource", {}).values())
    return sum(line.startswith("resource ") for line in (stack_dir / "cdk.tf").read_text().splitlines())


def _environments_problem(directory: Path) -> str | None:
    """Why ``--environments`` names nothing to synthesize, or None."""
    if not directory.exists():
        return f"--environments {directory}: no such directory"
    if not directory.is_dir():
        return f"--environments {directory}: is a file, not a directory of <env>.toml files"
    if not environment_files(directory):
        others = sorted(p.name for p in directory.iterdir())[:5]
        return f"--environments {directory}: holds no *.toml environment file" + (
            f" (found: {', '.join(others)})" if others else ""
        )
    return None


def _swap_in(staging: Path, outdir: Path) -> None:
    """Replace ``outdir`` with the complete ``staging`` directory."""
    retired = outdir.with_name(f".{outdir.name}.old-{os.getpid()}")
    if outdir.exists():
        outdir.rename(retired)
    staging.rename(outdir)
    shutil.rmtree(retired, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
