"""Which AWS provider release the synthesized JSON targets (``--aws-provider`` / ``PLATFORM_AWS_PROVIDER``)."""

from __future__ import annotations

from typing import Literal, get_args

AwsProviderVersion = Literal["6.25.0", "5.100.0"]
"""The AWS provider releases the synthesized JSON can target. 6.25.0 is what the prebuilt bindings
(cdktf-cdktf-provider-aws 21.22.1) are generated for; 5.100.0 is the last 5.x release, for teams that
have not moved to 6 yet (and what these machines can run: terraform validate and the emulator)."""
AWS_PROVIDER_VERSIONS: tuple[AwsProviderVersion, ...] = get_args(AwsProviderVersion)
BINDINGS_AWS_PROVIDER: AwsProviderVersion = "6.25.0"
