"""Stack wiring: the one place that turns an environment's config into constructs."""

import provider_import

provider_import.install()

from .platform_stack import PlatformStack  # noqa: E402

__all__ = ["PlatformStack"]
