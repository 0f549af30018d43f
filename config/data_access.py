"""Which services use the database and the cache (``[services.<name>.data_access]``), as which
database user, and the checks that need a service and the data tier at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from .base import Strict
from .cache import CacheConfig
from .database import DatabaseConfig, valid_database_user
from .errors import FieldError

if TYPE_CHECKING:
    from .service import ServiceConfig

# Variables the data tier sets on the services that use it; a service's own task settings may not.
DATABASE_VARIABLES = ("RDS_ENDPOINT", "RDS_PORT", "RDS_DB_NAME", "RDS_USERNAME", "USE_IAM_AUTH", "RDS_PASSWORD")
CACHE_VARIABLES = ("REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "REDIS_AUTH_TOKEN", "REDIS_USER", "REDIS_AUTH_MODE")
# Every ElastiCache user group holds a user named "default" (switched off here), with the id
# <group id>-default: a service's cache user may not end like it.
CACHE_DEFAULT_USER_SUFFIX = "-default"


class ServiceDataAccess(Strict):
    """What a service reads and writes: ``[services.<name>.data_access]``."""

    uses_database: bool = Field(default=False, description="The service gets RDS_* settings and permission to connect.")
    database_user: str | None = Field(
        default=None,
        description="Database user it connects as with IAM auth; its name with '-' as '_' when unset. The user must exist with GRANT rds_iam.",
    )
    uses_cache: bool = Field(
        default=False,
        description="The service gets REDIS_* settings and the cache credentials (with cache.auth = 'iam', a "
        "cache user of its own, <project>-<environment>-<service>).",
    )

    @field_validator("database_user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else valid_database_user(value)


def database_user_for(service: str, access: ServiceDataAccess, database: DatabaseConfig) -> str:
    """The database user ``service`` connects as: its own with IAM auth, else the master user."""
    if not database.iam_auth:
        return database.master_username
    return access.database_user or service.replace("-", "_")


def check_data_access(
    services: Mapping[str, ServiceConfig], database: DatabaseConfig | None, cache: CacheConfig | None
) -> None:
    """Cross-checks between services and the data tier; paths are relative to the environment."""
    for name, service in services.items():
        access = service.data_access
        _check_tables(name, access, database, cache)
        reserved = (DATABASE_VARIABLES if access.uses_database else ()) + (CACHE_VARIABLES if access.uses_cache else ())
        for table in ("environment", "secrets"):
            for variable in getattr(service.task, table):
                if variable in reserved:
                    raise FieldError(
                        "is set by the data tier for services that use it; remove it from the task settings",
                        path=("services", name, "task", table, variable),
                        value=variable,
                    )
        if database is not None and access.uses_database:
            _check_database_user(name, access, database)


def _check_tables(
    name: str, access: ServiceDataAccess, database: DatabaseConfig | None, cache: CacheConfig | None
) -> None:
    base = ("services", name, "data_access")
    if access.uses_database and database is None:
        raise FieldError(
            "needs a [database] table in this environment; add one or set uses_database = false",
            path=(*base, "uses_database"),
            value=True,
        )
    if access.uses_cache and cache is None:
        raise FieldError(
            "needs a [cache] table in this environment; add one or set uses_cache = false",
            path=(*base, "uses_cache"),
            value=True,
        )
    if access.database_user is not None and not access.uses_database:
        raise FieldError(
            "is only used when uses_database = true", path=(*base, "database_user"), value=access.database_user
        )
    if (
        access.uses_cache
        and cache is not None
        and cache.auth == "iam"
        and f"-{name}".endswith(CACHE_DEFAULT_USER_SUFFIX)
    ):
        raise FieldError(
            f"with cache.auth = 'iam' the service signs in as a cache user named after it, and a name ending in "
            f"{CACHE_DEFAULT_USER_SUFFIX!r} is kept for the user group's default user; rename the service",
            path=(*base, "uses_cache"),
            value=True,
        )


def _check_database_user(name: str, access: ServiceDataAccess, database: DatabaseConfig) -> None:
    path = ("services", name, "data_access", "database_user")
    if not database.iam_auth and access.database_user not in (None, database.master_username):
        raise FieldError(
            "password auth connects as the master user (the only password RDS manages); "
            "remove database_user or set database.iam_auth = true",
            path=path,
            value=access.database_user,
        )
    user = database_user_for(name, access, database)
    if database.iam_auth and user == database.master_username:
        raise FieldError(
            "must not be the master user: GRANT rds_iam would disable the master password; use a dedicated user",
            path=path,
            value=user,
        )
    try:
        valid_database_user(user)
    except FieldError as error:
        raise FieldError(
            f"derived from the service name: {error.message}; set database_user explicitly", path=path, value=user
        ) from None
