"""Which AWS provider release the synthesized JSON targets (``--aws-provider`` / ``PLATFORM_AWS_PROVIDER``)."""

from __future__ import annotations

from typing import Literal, cast

import provider_import

AwsProviderVersion = Literal["6.25.0", "6.69.1", "5.100.0"]
"""The AWS provider releases the synthesized JSON can target: the one the toolchain's prebuilt bindings
are generated for (6.25.0: cdktf-cdktf-provider-aws 21.22.1; 6.69.1: cdktn-provider-aws 25.8.1, see
provider_import.TOOLCHAINS) and 5.100.0, the last 5.x release, for teams that have not moved to 6 yet
(and what these machines can run: terraform validate and the emulator)."""
BINDINGS_AWS_PROVIDER = cast(AwsProviderVersion, provider_import.selected().aws_provider)
AWS_PROVIDER_VERSIONS: tuple[AwsProviderVersion, ...] = (BINDINGS_AWS_PROVIDER, "5.100.0")
