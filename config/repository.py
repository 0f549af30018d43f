"""Image repositories (``[compute.ecr]``): one ECR repository per service (or per compose image with
Elastic Beanstalk). Tags are immutable and scanned on push; repositories holding images cannot be
deleted unless an environment says so."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import KmsKeyArn, Strict
from .errors import FieldError


class RepositoryConfig(Strict):
    """Image repositories, one per service (``[compute.ecr]``). Tags are immutable and scanned on push."""

    untagged_expiry_days: int = Field(
        default=7, ge=1, le=3650, description="Untagged images (superseded pushes, failed builds) expire after this."
    )
    keep_tagged_images: int = Field(
        default=50, ge=1, le=10_000, description="Newest tagged images kept; older ones expire (rollback depth)."
    )
    encryption: Literal["AES256", "KMS"] = Field(
        default="AES256",
        description="How images are encrypted at rest. AES256: ECR-managed keys; KMS: kms_key_arn, else the "
        "environment's customer-managed key (see [encryption]), else the AWS-managed aws/ecr key. Fixed when a "
        "repository is created: changing it replaces the repositories and the images in them.",
    )
    kms_key_arn: KmsKeyArn | None = Field(
        default=None,
        description="With encryption = 'KMS': this key instead of the environment's key. ECR uses it through a "
        "grant, so pulling needs no KMS permission.",
    )
    force_delete: bool = Field(
        default=False, description="Destroy deletes repositories that still hold images; off: destroy fails instead."
    )

    @model_validator(mode="after")
    def _key_needs_kms(self) -> RepositoryConfig:
        if self.kms_key_arn is not None and self.encryption != "KMS":
            raise FieldError(
                "is only used with encryption = 'KMS'; set encryption = 'KMS' or remove it",
                path=("kms_key_arn",),
                value=self.kms_key_arn,
            )
        return self
