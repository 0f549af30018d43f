"""Deterministic AWS resource names from project + environment + role."""

from __future__ import annotations

import hashlib
import re

# AWS name-length limits for the resources this project names explicitly.
ALB_NAME_MAX = 32
TARGET_GROUP_NAME_MAX = 32
S3_BUCKET_NAME_MAX = 63
IAM_ROLE_NAME_MAX = 64
SQS_QUEUE_NAME_MAX = 80
DEFAULT_NAME_MAX = 255

_HASH_CHARS = 6
_VALID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def resource_name(project: str, environment: str, role: str, *, max_length: int = DEFAULT_NAME_MAX) -> str:
    """Return ``<project>-<environment>-<role>``, shortened to ``max_length`` when needed.

    A name that fits is returned as is. A longer one keeps as much of its readable prefix as fits
    and ends in ``-`` plus the first 6 hex digits of the full name's SHA-256, so it stays stable
    across runs and two different long names do not collapse into one. Callers whose resource
    cannot end in a hyphen (ALB, target group, S3) get none: the hash always ends the name.
    """
    full = "-".join(part for part in (project, environment, role) if part)
    if not _VALID.match(full) or full.endswith("-") or "--" in full:
        raise ValueError(
            f"resource name {full!r} must be lowercase letters, digits and single hyphens, "
            "starting with a letter or digit and not ending in a hyphen"
        )
    if max_length < _HASH_CHARS + 2:
        raise ValueError(f"max_length must be at least {_HASH_CHARS + 2}, got {max_length}")
    if len(full) <= max_length:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_CHARS]
    keep = full[: max_length - _HASH_CHARS - 1].rstrip("-")
    return f"{keep}-{digest}"
