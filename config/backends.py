"""Where Terraform keeps an environment's state (``[backend]``)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .account import AssumeRoleConfig, role_partition_problems
from .base import ACCOUNT, PARTITION, REGION, Strict, valid_region
from .errors import FieldError

# S3's general purpose bucket naming rules:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_S3_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# What Terraform's S3 backend accepts as kms_key_id (terraform internal/backend/remote-state/s3,
# validateKMSKey; tried against terraform 1.11): a key id (a UUID, or mrk- and 32 hex digits for a
# multi-Region key), an alias name, or the ARN of either. Aliases live in one account and region.
_KMS_KEY_ID = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
_KMS_ALIAS = r"alias/[a-zA-Z0-9/_-]+"
_STATE_KMS_KEY = re.compile(
    rf"^(?:{_KMS_KEY_ID}|{_KMS_ALIAS}|{PARTITION}:kms:{REGION}:{ACCOUNT}:(?:key/{_KMS_KEY_ID}|{_KMS_ALIAS}))$"
)
# DynamoDB table names: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
_DYNAMODB_TABLE = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
# A DNS host name with an optional port, as the cloud block's hostname is (no scheme, no path).
_HOSTNAME = re.compile(
    r"^(?=[^:]{1,253}(?::|$))(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$",
    re.IGNORECASE,
)
# HCP Terraform organization and workspace names: letters, digits, - and _ (workspaces at most 90).
_HCP_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
WORKSPACE_MAX = 90


class LocalBackendConfig(Strict):
    """State in a file inside the project (``terraform.state/<stack>.tfstate``, gitignored)."""

    type: Literal["local"] = Field(
        default="local", description="local: state in terraform.state/<stack>.tfstate (one machine, no locking)."
    )


class S3BackendConfig(Strict):
    """Shared state in S3, encrypted, with locking so two applies never interleave."""

    type: Literal["s3"] = Field(description="s3: shared state in an S3 bucket, encrypted and locked.")
    bucket: str = Field(
        description="Existing state bucket. The key is derived: <project>/<environment>/terraform.tfstate."
    )
    region: str | None = Field(default=None, description="Bucket region; defaults to the environment's region.")
    locking: Literal["lockfile", "dynamodb"] = Field(
        default="lockfile",
        description="lockfile: S3-native lock object (Terraform >= 1.10); dynamodb: a lock table, deprecated "
        "since Terraform 1.11 (it still works; synth warns).",
    )
    dynamodb_table: str | None = Field(default=None, description="Lock table; required when locking = dynamodb.")
    kms_key_id: str | None = Field(default=None, description="KMS key for state; S3-managed keys when unset.")
    assume_role: AssumeRoleConfig | None = Field(
        default=None,
        description="A role the backend assumes to read and write the state, e.g. in a central state account (any "
        "account: the state is not the environment's). Unset: the credentials Terraform is run with.",
    )

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if (
            not _S3_BUCKET.match(value)
            or ".." in value
            or value.startswith(_S3_BUCKET_RESERVED_PREFIXES)
            or value.endswith(_S3_BUCKET_RESERVED_SUFFIXES)
            or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value)
        ):
            raise FieldError(
                "must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending "
                "with a letter or digit, no '..', not an IP address, not starting with "
                f"{', '.join(_S3_BUCKET_RESERVED_PREFIXES)} nor ending with {', '.join(_S3_BUCKET_RESERVED_SUFFIXES)}",
                value=value,
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else valid_region(value)

    @field_validator("dynamodb_table")
    @classmethod
    def _dynamodb_table(cls, value: str | None) -> str | None:
        if value is not None and not _DYNAMODB_TABLE.match(value):
            raise FieldError(
                "must be a DynamoDB table name: 3-255 letters, digits, underscores, dots and hyphens", value=value
            )
        return value

    @field_validator("kms_key_id")
    @classmethod
    def _kms_key_id(cls, value: str | None) -> str | None:
        if value is not None and not _STATE_KMS_KEY.match(value):
            raise FieldError(
                "must be a KMS key as Terraform's S3 backend takes it: a key id (1234abcd-12ab-4cd3-9ef0-1234567890ab "
                "or mrk-<32 hex digits>), an alias (alias/terraform-state), or the ARN of either "
                "(arn:aws:kms:<region>:<account-id>:key/<key-id>)",
                value=value,
            )
        return value

    @model_validator(mode="after")
    def _lock_table(self) -> S3BackendConfig:
        if self.locking == "dynamodb" and not self.dynamodb_table:
            raise FieldError("is required when locking = 'dynamodb'", path=("dynamodb_table",), value=None)
        if self.locking == "lockfile" and self.dynamodb_table:
            raise FieldError(
                "is only used when locking = 'dynamodb'; remove it or set locking = 'dynamodb'",
                path=("dynamodb_table",),
                value=self.dynamodb_table,
            )
        return self

    @property
    def warnings(self) -> list[str]:
        """Accepted settings the user should move away from, as ``field: why`` lines."""
        if self.locking == "dynamodb":
            return [
                "backend.locking = 'dynamodb' is deprecated since Terraform 1.11 and will be removed; use "
                "locking = 'lockfile' (S3-native locking, Terraform >= 1.10) and drop dynamodb_table"
            ]
        return []


class CloudBackendConfig(Strict):
    """HCP Terraform / Terraform Enterprise: plans and applies run remotely."""

    type: Literal["cloud"] = Field(description="cloud: an HCP Terraform (or Terraform Enterprise) workspace.")
    organization: str = Field(description="HCP Terraform organization: letters, digits, - and _.")
    workspace: str | None = Field(
        default=None,
        description=f"Workspace name, at most {WORKSPACE_MAX} letters, digits, - and _; defaults to "
        "<project>-<environment>.",
    )
    hostname: str = Field(
        default="app.terraform.io",
        description="HCP Terraform or Terraform Enterprise host name, with an optional :port; no https://, no path.",
    )

    @field_validator("organization")
    @classmethod
    def _organization(cls, value: str) -> str:
        if not _HCP_NAME.match(value):
            raise FieldError("must be an HCP Terraform organization name: letters, digits, - and _", value=value)
        return value

    @field_validator("workspace")
    @classmethod
    def _workspace(cls, value: str | None) -> str | None:
        if value is not None and not (_HCP_NAME.match(value) and len(value) <= WORKSPACE_MAX):
            raise FieldError(
                f"must be an HCP Terraform workspace name: 1-{WORKSPACE_MAX} letters, digits, - and _", value=value
            )
        return value

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str) -> str:
        if _HOSTNAME.match(value) and int(value.partition(":")[2] or 443) <= 65535:
            return value
        if "://" in value:
            host = value.split("://", 1)[1].split("/", 1)[0]
            raise FieldError(f"must be a host name, not a URL: drop the scheme and path ({host!r})", value=value)
        raise FieldError(
            "must be a host name such as app.terraform.io or tfe.example.com, with an optional :port; "
            "no scheme, no path",
            value=value,
        )


AnyBackendConfig = LocalBackendConfig | S3BackendConfig | CloudBackendConfig
BackendConfig = Annotated[AnyBackendConfig, Field(discriminator="type")]


def state_role_partition(region: str, backend: AnyBackendConfig) -> list[FieldError]:
    """The state's role is in the partition of the state bucket's region."""
    if not isinstance(backend, S3BackendConfig):
        return []
    # The union's tag in the path, as pydantic puts it there (the loader drops it from the message).
    path = ("backend", backend.type, "assume_role")
    return role_partition_problems(backend.assume_role, backend.region or region, path, "the state bucket's region")
