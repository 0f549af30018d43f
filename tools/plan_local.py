"""`make plan-local ENV=<env> [APPLY=1]`: the real ``terraform plan`` of one environment against the
emulated AWS, for a newcomer without an AWS account.

Synthesizes the environment (AWS provider 5.100.0 unless ``AWS_PROVIDER`` says otherwise), starts
the emulator, points the stack at it (tools/emulator.py) and prints Terraform's own plan. With
``--apply`` it applies the plan there and prints the outputs. The emulator's state lives in memory:
it is gone when the command ends.

What it proves: the JSON is a configuration Terraform and the real AWS provider accept; every
reference resolves; the provider's plan-time checks pass; the resources can be created against an
API that checks required parameters. What it cannot: IAM policy evaluation, quotas and limits, real
service behaviour (health checks, DNS, TLS), and anything moto does not emulate (emulator-gaps.toml).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from tools.e2e import StackHarness, load_entries
from tools.emulator import Emulator, EmulatorUnavailableError
from tools.terraform import ROOT, TerraformCommandError, TerraformUnavailableError, prepare
from tools.validate import VALIDATE_PROVIDER, synthesize

WORKDIR = ROOT / "build" / "plan-local"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("environment", help="environment name, e.g. dev")
    parser.add_argument("--apply", action="store_true", help="apply the plan to the emulator and print the outputs")
    parser.add_argument(
        "--aws-provider", default=VALIDATE_PROVIDER, help=f"AWS provider release (default {VALIDATE_PROVIDER})"
    )
    args = parser.parse_args(argv)
    if not args.environment:
        print("plan-local: set ENV, e.g. make plan-local ENV=dev", file=sys.stderr)
        return 2
    try:
        binary, environ, source = prepare(args.aws_provider)
    except TerraformUnavailableError as error:
        print(f"plan-local: {error}", file=sys.stderr)
        return 1
    shutil.rmtree(WORKDIR, ignore_errors=True)
    stacks = {d.name.split("-", 1)[-1]: d for d in synthesize(WORKDIR / "out", args.aws_provider)}
    if args.environment not in stacks:
        print(
            f"plan-local: unknown environment {args.environment!r}; have {', '.join(sorted(stacks))}", file=sys.stderr
        )
        return 2
    print(f"plan-local: {stacks[args.environment].name} for AWS provider {args.aws_provider} ({source.how})")
    try:
        with Emulator(WORKDIR) as emulator:
            print(f"plan-local: emulated AWS on {emulator.endpoint}; nothing leaves this machine")
            harness = StackHarness(
                stacks[args.environment], emulator=emulator, binary=binary, environ=environ, entries=load_entries()
            )
            harness.prepare()
            plan = harness.workspace.run("plan", "-input=false", "-out=plan.tfplan", *harness.variables)
            print(plan.stdout, end="")
            print(plan.stderr, end="", file=sys.stderr)
            if plan.returncode != 0 or not args.apply:
                return plan.returncode
            apply = harness.workspace.run("apply", "-input=false", "-no-color", "plan.tfplan")
            print(apply.stdout[-4000:], end="")
            print(apply.stderr, end="", file=sys.stderr)
            outputs = json.loads(harness.workspace.run("output", "-json").stdout or "{}")
            print(f"plan-local: {len(outputs)} output(s); the emulator stops now and its state is discarded")
            if apply.returncode != 0:
                print("plan-local: apply errors above: see emulator-gaps.toml for what moto cannot do")
            return apply.returncode
    except (EmulatorUnavailableError, TerraformCommandError) as error:
        print(f"plan-local: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
