"""AWS building blocks, one per file. This package only re-exports them.

The first statement makes every ``cdktf_cdktf_provider_aws.<x>`` import below (and anywhere after
this package is imported) load only that submodule: see ``_provider_import``.
"""

# ruff: noqa: E402
from . import _provider_import

_provider_import.install()

from .network import Network, NetworkProps
from .provider import BackendProps, ProviderProps, aws_provider, state_backend

__all__ = [
    "BackendProps",
    "Network",
    "NetworkProps",
    "ProviderProps",
    "aws_provider",
    "state_backend",
]
