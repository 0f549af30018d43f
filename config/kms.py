"""Encryption at rest (``[encryption]``): the environment's customer-managed KMS key."""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import Strict
from .errors import FieldError


class EncryptionConfig(Strict):
    """The environment's customer-managed KMS key (``[encryption]``)."""

    customer_managed_key: bool = Field(
        default=True,
        description="One customer-managed KMS key per environment (rotated yearly, alias/<project>-<environment>) "
        "encrypts the log groups, the database's Performance Insights and master secret, the cache and its token, "
        "ECR images (compute.ecr.encryption = 'KMS'), the frontend bucket and the workers' queues, wherever no "
        "kms_key_arn is set. "
        "Off: AWS-managed keys.",
    )
    deletion_window_days: int = Field(
        default=30,
        ge=7,
        le=30,
        description="Days a key scheduled for deletion can still be restored; once deleted, everything it "
        "encrypted is unreadable. Only with customer_managed_key = true.",
    )

    @model_validator(mode="after")
    def _window_needs_key(self) -> EncryptionConfig:
        if not self.customer_managed_key and "deletion_window_days" in self.model_fields_set:
            raise FieldError(
                "is set but encryption.customer_managed_key is false, so there is no key to delete: remove it "
                "or set encryption.customer_managed_key = true",
                path=("deletion_window_days",),
                value=self.deletion_window_days,
            )
        return self
