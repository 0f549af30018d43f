"""The baseline `make bench` compares against: a cdktf app written the obvious way.

It imports the provider package root (which imports every resource submodule) and synthesizes one
empty stack holding only the AWS provider.
"""

from __future__ import annotations

import sys

import cdktf_cdktf_provider_aws  # noqa: F401  # the point of the baseline: the full root import
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider


def main(outdir: str) -> None:
    app = App(outdir=outdir)
    stack = TerraformStack(app, "naive")
    AwsProvider(stack, "aws", region="eu-west-1")
    app.synth()


if __name__ == "__main__":
    main(sys.argv[1])
