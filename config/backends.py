"""Where Terraform keeps an environment's state (``[backend]``)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import Strict, match_pattern, valid_region
from .errors import FieldError

_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


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

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        return match_pattern(
            value, _S3_BUCKET, 63, "a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)"
        )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else valid_region(value)

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
    organization: str = Field(min_length=1, description="HCP Terraform organization.")
    workspace: str | None = Field(default=None, description="Workspace name; defaults to <project>-<environment>.")
    hostname: str = Field(
        default="app.terraform.io", min_length=1, description="HCP Terraform or Terraform Enterprise host."
    )


AnyBackendConfig = LocalBackendConfig | S3BackendConfig | CloudBackendConfig
BackendConfig = Annotated[AnyBackendConfig, Field(discriminator="type")]
