"""The Secrets Manager secrets the platform creates (``[secrets]``)."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import Strict
from .errors import FieldError


class SecretsConfig(Strict):
    """The Secrets Manager secrets the platform creates (``[secrets]``): the cache AUTH token and, on AWS
    provider 5.x, the RDS Proxy users' passwords. The RDS master secret is RDS's own."""

    recovery_window_days: int = Field(
        default=30,
        description="Days a deleted secret can still be restored: 0 (deleted at once) or 7-30. With a window, its "
        "name stays taken until the window ends, so a destroyed environment cannot be re-created sooner: "
        "disposable environments (dev) use 0.",
    )

    @field_validator("recovery_window_days")
    @classmethod
    def _window(cls, value: int) -> int:
        if value != 0 and not 7 <= value <= 30:
            raise FieldError("must be 0 (delete at once) or 7-30 days (Secrets Manager's recovery window)", value=value)
        return value
