"""Stack wiring: the one place that turns an environment's config into constructs."""

from .platform_stack import PlatformStack

__all__ = ["PlatformStack"]
