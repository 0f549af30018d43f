"""ECR image repository for one service: immutable tags, scan on push, lifecycle policy, encryption."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from constructs import Construct

from .block import Block


@dataclass(frozen=True, kw_only=True)
class RegistryProps:
    """One service's image repository."""

    name: str
    """Repository name, e.g. ``netflux-prod-movie-service``."""
    untagged_expiry_days: int = 7
    """Untagged images (superseded pushes, failed builds) are expired this many days after push."""
    keep_tagged_images: int = 50
    """The newest this-many tagged images are kept; older tagged images expire."""
    encryption: Literal["AES256", "KMS"] = "AES256"
    """AES256: ECR-managed keys; KMS: ``kms_key_arn``, or the AWS-managed aws/ecr key when that is unset.
    Fixed at creation: changing it replaces the repository (and loses its images)."""
    kms_key_arn: str | None = None
    """Customer-managed KMS key for image layers (``encryption = "KMS"`` only). ECR uses it through a
    grant, so pulling needs no KMS permission."""
    force_delete: bool = False
    """Destroy deletes the repository even when it holds images; off: destroy fails while images exist."""


def lifecycle_policy(untagged_expiry_days: int, keep_tagged_images: int) -> str:
    """The ECR lifecycle policy document: expire untagged images by age, keep the newest tagged ones."""
    rules = [
        {
            "rulePriority": 1,
            "description": f"Expire untagged images {untagged_expiry_days} days after push",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": untagged_expiry_days,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"Keep the newest {keep_tagged_images} tagged images",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["*"],
                "countType": "imageCountMoreThan",
                "countNumber": keep_tagged_images,
            },
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules}, sort_keys=True)


class Registry(Block):
    """An ECR repository with IMMUTABLE tags, scan on push, encryption and a lifecycle policy."""

    stateful_types = frozenset({"aws_ecr_repository"})

    repository: EcrRepository
    url: str
    """Repository URL (``<account>.dkr.ecr.<region>.amazonaws.com/<name>``), without a tag."""
    arn: str
    name: str

    def __init__(self, scope: Construct, construct_id: str, *, props: RegistryProps) -> None:
        super().__init__(scope, construct_id)
        if props.untagged_expiry_days < 1 or props.keep_tagged_images < 1:
            raise ValueError(
                "untagged_expiry_days and keep_tagged_images must be at least 1, "
                f"got {props.untagged_expiry_days} and {props.keep_tagged_images}"
            )
        if props.kms_key_arn is not None and props.encryption != "KMS":
            raise ValueError(f"kms_key_arn needs encryption = 'KMS', got encryption = {props.encryption!r}")
        encryption = EcrRepositoryEncryptionConfiguration(encryption_type=props.encryption, kms_key=props.kms_key_arn)
        self.repository = EcrRepository(
            self,
            "repository",
            name=props.name,
            # A tag names one build forever: a deploy of "v1.2" can never silently run other code.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[encryption],
            force_delete=props.force_delete,
        )
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(props.untagged_expiry_days, props.keep_tagged_images),
        )
        self.url = self.repository.repository_url
        self.arn = self.repository.arn
        self.name = self.repository.name
