"""ECR image repository for one service or compose image: immutable tags, scan on push, lifecycle policy, encryption."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from constructs import Construct

from config.repository import RepositoryConfig

from .block import Block, Naming
from .kms import PlatformKey


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


class Repository(Block):
    """An ECR repository ``<project>-<environment>-<image>`` with IMMUTABLE tags, scan on push,
    encryption and a lifecycle policy. With ``encryption = "KMS"`` the configured key, else the
    environment's ``key``, else the AWS-managed aws/ecr key encrypts the image layers."""

    stateful_types = frozenset({"aws_ecr_repository"})

    repository: EcrRepository
    url: str
    """Repository URL (``<account>.dkr.ecr.<region>.amazonaws.com/<name>``), without a tag."""
    arn: str
    name: str

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: RepositoryConfig,
        naming: Naming,
        image: str,
        key: PlatformKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        kms_key_arn = (settings.kms_key_arn or (key.arn if key else None)) if settings.encryption == "KMS" else None
        self.repository = EcrRepository(
            self,
            "repository",
            name=naming.name(image),
            # A tag names one build forever: a deploy of "v1.2" can never silently run other code.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[
                EcrRepositoryEncryptionConfiguration(encryption_type=settings.encryption, kms_key=kms_key_arn)
            ],
            force_delete=settings.force_delete,
        )
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(settings.untagged_expiry_days, settings.keep_tagged_images),
        )
        self.url = self.repository.repository_url
        self.arn = self.repository.arn
        self.name = self.repository.name
