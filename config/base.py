"""What every part of the schema shares: the strict base model and the validators used in several places.

Each failing check raises ``FieldError`` with a message that says what is allowed; the loader adds
the file, the field path and the value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from . import api_constraints, regions
from .errors import FieldError


class Strict(BaseModel):
    """Base for every config model: unknown keys are errors, values are immutable once loaded."""

    # strict: no coercion. "8080" is not a port, "false" and 1 are not booleans; TOML has real types.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# The default tags the platform itself puts on every resource (modules/provider.py); [tags] cannot set them.
PLATFORM_TAG_KEYS = ("project", "environment", "managed-by")
# The most tags a module sets on one resource itself: Name, and tier (subnets) or service (target groups).
RESOURCE_TAGS_MAX = 2
# AWS's limit of tags on one resource: the Resource Groups Tagging API's TagMap (botocore model).
_TAG_MAP = api_constraints.ApiField("resourcegroupstaggingapi", "TagResources", "Tags")

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)  # fmt: skip

# Any partition and region (aws-cn, aws-us-gov, aws-iso-b, aws-eusc...; us-isob-east-1, eusc-de-east-1):
# which regions exist is config/regions.py's to say, from botocore's endpoint data.
PARTITION = r"arn:aws(?:-[a-z]+)*"
REGION = r"[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}"
ACCOUNT = r"\d{12}"
KMS_KEY_ARN = re.compile(rf"^{PARTITION}:kms:{REGION}:{ACCOUNT}:key/[A-Za-z0-9-]+$")
CERTIFICATE_ARN = re.compile(
    rf"^arn:(?P<partition>aws(?:-[a-z]+)*):acm:(?P<region>{REGION}):{ACCOUNT}:certificate/[0-9a-f-]{{36}}$"
)
SSM_PARAMETER_ARN = re.compile(rf"^{PARTITION}:ssm:{REGION}:{ACCOUNT}:parameter/[A-Za-z0-9/_.-]+$")
# A Secrets Manager secret ARN ends in the 6-character suffix AWS adds to the name.
SECRETS_MANAGER_ARN = rf"{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{{6}}"
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Plain variable names that end like a secret (DB_PASSWORD, JWT_SECRET, GITHUB_TOKEN, API_KEY): those
# belong with the secrets. TOKEN_URL or KEY_ID are left alone.


def ipv4_network(value: str, *, what: str) -> ipaddress.IPv4Network:
    """Parse an IPv4 CIDR with no host bits set."""
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise FieldError(
            f"{what} must be an IPv4 network in CIDR notation with no host bits set, e.g. 10.0.0.0/16",
            value=value,
        ) from None


def match_pattern(value: str, pattern: re.Pattern[str], max_length: int, allowed: str) -> str:
    """Check a slug: at most ``max_length`` characters, matching ``pattern``, no double hyphen."""
    if len(value) > max_length:
        raise FieldError(f"must be at most {max_length} characters (got {len(value)})", value=value)
    if not pattern.match(value) or "--" in value:
        raise FieldError(f"must be {allowed}", value=value)
    return value


def each(
    values: list[str],
    check: Callable[[str], object] | None = None,
    *,
    distinct: bool = False,
    key: Callable[[str], str] = str,
) -> list[str]:
    """Run ``check`` on every item, and with ``distinct`` refuse an item whose ``key`` repeats an
    earlier one's ("is listed twice"); an error points at the item's index."""
    seen: set[str] = set()
    for index, value in enumerate(values):
        try:
            if check is not None:
                check(value)
        except FieldError as error:
            raise FieldError(error.message, path=(index,), value=value) from None
        if distinct:
            if key(value) in seen:
                raise FieldError("is listed twice", path=(index,), value=value)
            seen.add(key(value))
    return values


def between(value: float, low: float, high: float, unit: str = "") -> None:
    """Check ``low <= value <= high``; ``unit`` is appended to the bounds in the message."""
    if not low <= value <= high:
        raise FieldError(f"must be between {low} and {high}{unit}, got {value}", value=value)


_MAJOR_MINOR = re.compile(r"^(\d+)\.(\d+)$")


def major_minor(value: str, example: str) -> tuple[int, int]:
    """Check an engine version ``<major>.<minor>`` (``example`` shows one) and return both numbers."""
    match = _MAJOR_MINOR.match(value)
    if not match:
        raise FieldError(f"must be <major>.<minor>, e.g. {example}", value=value)
    return int(match.group(1)), int(match.group(2))


def valid_url_path(value: str) -> str:
    """Check an HTTP path such as a health-check path."""
    if not value.startswith("/") or len(value) > 1024 or any(c.isspace() for c in value):
        raise FieldError("must be a URL path starting with / (at most 1024 characters, no spaces)", value=value)
    return value


def valid_region(value: str) -> str:
    """Check an AWS region name: one of the regions of any partition botocore's endpoint data lists
    (``cn-north-1`` in aws-cn, ``us-gov-west-1`` in aws-us-gov as well as ``eu-west-1``)."""
    if regions.partition_of(value) is None:
        raise FieldError("must be an AWS region such as us-east-1, eu-west-1 or ap-southeast-2", value=value)
    return value


def tags_per_resource() -> int:
    """How many tags AWS allows on one resource (50)."""
    limit: int = api_constraints.resolve(_TAG_MAP)[1]["max"]
    return limit


def valid_tags(tags: dict[str, str]) -> dict[str, str]:
    """Check the environment's extra default tags. They reach every resource, along with the
    platform's own, so each is checked against the tag constraints of every AWS API the stacks call
    (botocore's models, config/api_constraints.py) and together they must leave room within AWS's
    tags-per-resource limit."""
    seen = {key.lower(): key for key in PLATFORM_TAG_KEYS}
    for key, value in tags.items():
        if key in PLATFORM_TAG_KEYS:
            raise FieldError(
                f"is set by the platform ({', '.join(PLATFORM_TAG_KEYS)}); remove it", path=(key,), value=value
            )
        if key.lower() in seen:
            raise FieldError(
                f"differs from the tag {seen[key.lower()]!r} only in case: IAM treats tag keys case-insensitively, "
                "so roles and policies would refuse both; use one spelling",
                path=(key,),
                value=value,
            )
        seen[key.lower()] = key
        problems = api_constraints.check_tags({key: value})
        if problems:
            raise FieldError("AWS would refuse " + "; ".join(problems), path=(key,), value=value)
    room = tags_per_resource() - len(PLATFORM_TAG_KEYS) - RESOURCE_TAGS_MAX
    if len(tags) > room:
        key = list(tags)[room]
        raise FieldError(
            f"is tag {room + 1} of {len(tags)}; at most {room} fit: AWS allows {tags_per_resource()} tags per resource, "
            f"and every resource also carries the platform's {len(PLATFORM_TAG_KEYS)} "
            f"({', '.join(PLATFORM_TAG_KEYS)}) and up to {RESOURCE_TAGS_MAX} of its own (Name, and tier or service)",
            path=(key,),
            value=tags[key],
        )
    return tags


def valid_retention(value: int) -> int:
    """Check a CloudWatch Logs retention period."""
    if value not in LOG_RETENTION_DAYS:
        raise FieldError(
            f"must be one of CloudWatch's retention periods: {', '.join(map(str, LOG_RETENTION_DAYS))}", value=value
        )
    return value


RetentionDays = Annotated[int, AfterValidator(valid_retention)]
"""A CloudWatch Logs retention period, checked as ``valid_retention`` does."""


def valid_kms_key_arn(value: str | None) -> str | None:
    """Check an optional KMS key ARN (aliases are not accepted: grants and key policies need the key)."""
    if value is not None and not KMS_KEY_ARN.match(value):
        raise FieldError(
            "must be a KMS key ARN, arn:aws:kms:<region>:<account-id>:key/<key-id> (aliases are not accepted)",
            value=value,
        )
    return value


KmsKeyArn = Annotated[str, AfterValidator(valid_kms_key_arn)]
"""A KMS key ARN, checked as ``valid_kms_key_arn`` does; the settings' type for every key they name."""


def certificate_region(arn: str | None) -> str | None:
    """Region of an ACM certificate ARN, or None when it is not one."""
    found = CERTIFICATE_ARN.match(arn or "")
    return found["region"] if found else None


def valid_certificate_arn(value: str | None) -> str | None:
    """Check an optional ACM certificate ARN."""
    if value is not None and not CERTIFICATE_ARN.match(value):
        raise FieldError(
            "must be an ACM certificate ARN: arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>", value=value
        )
    return value
