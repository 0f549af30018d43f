"""How the platform's security groups are laid out (``[security_groups]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Strict

SecurityGroupMode = Literal["tiered", "shared"]


class SecurityGroupsConfig(Strict):
    """Security-group layout (``[security_groups]``)."""

    mode: SecurityGroupMode = Field(
        default="tiered",
        description="tiered: ALB -> app -> database/cache, each hop one port; shared: app, database and cache "
        "share one group that allows all traffic within itself (simpler, weaker isolation; the ALB keeps its own).",
    )
