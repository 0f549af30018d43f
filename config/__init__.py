"""Environment config: the typed schema, the loader that reports bad input, and resource naming."""

from .errors import ConfigError, FieldError
from .loader import environment_files, example_files, load_environment, load_environments, parse_environment
from .naming import resource_name
from .schema import EnvironmentConfig

__all__ = [
    "ConfigError",
    "EnvironmentConfig",
    "FieldError",
    "environment_files",
    "example_files",
    "load_environment",
    "load_environments",
    "parse_environment",
    "resource_name",
]
