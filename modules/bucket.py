"""Private S3 bucket helpers shared by modules: the bucket with its public access block, ownership,
encryption, versioning and lifecycle, and its TLS-only bucket policy.

They create resources in the caller's scope, with construct IDs ``<construct_id>`` and
``<construct_id>-<part>``, so a module keeps its own logical ids (a changed id destroys a bucket).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from config.naming import resource_name

from .iam import Statement, policy_document

Ownership = Literal["BucketOwnerEnforced", "BucketOwnerPreferred"]
# Bucket names are at most 63 characters; Terraform's unique suffix (26) follows the prefix.
NAME_PREFIX_MAX = 36
# Log objects replaced or deleted before their expiry stay recoverable this long (tampering).
LOG_NONCURRENT_VERSION_DAYS = 30


@dataclass(frozen=True)
class PrivateBucket:
    """A private bucket and the resource that decides whether it takes ACLs."""

    bucket: S3Bucket
    ownership_controls: S3BucketOwnershipControls
    """Whoever delivers with an ACL grant (CloudFront standard logs) must wait for this, not the bucket:
    until it exists, the bucket refuses ACLs ("does not enable ACL access")."""


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    project: str,
    environment: str,
    role: str,
    lifecycle_rule_id: str,
    noncurrent_version_expiry_days: int,
    expiry_days: int | None = None,
    abort_incomplete_upload_days: int = 7,
    ownership: Ownership = "BucketOwnerEnforced",
    kms_key_arn: str | None = None,
    force_destroy: bool | None = None,
) -> PrivateBucket:
    """A bucket no one can make public, encrypted, versioned, with one lifecycle rule on every object.

    ``role`` names it (``<project>-<environment>-<role>-<unique suffix>``). ``ownership``:
    BucketOwnerEnforced disables ACLs; BucketOwnerPreferred keeps them for services that deliver
    with an ACL grant (objects still become the bucket owner's). ``kms_key_arn``: SSE-KMS with an
    S3 Bucket Key; SSE-S3 when unset. The lifecycle rule ``lifecycle_rule_id`` deletes objects after
    ``expiry_days`` (never when unset), replaced or deleted versions after
    ``noncurrent_version_expiry_days``, and unfinished multipart uploads after
    ``abort_incomplete_upload_days``. ``force_destroy``: destroy deletes the objects first; unset
    leaves it to the provider (off: destroy fails while the bucket holds any).
    """
    # Bucket names are global: a prefix plus Terraform's unique suffix never collides.
    prefix = resource_name(project, environment, role, max_length=NAME_PREFIX_MAX) + "-"
    bucket = S3Bucket(
        scope, construct_id, bucket_prefix=prefix, force_destroy=force_destroy, tags={"Name": prefix.rstrip("-")}
    )
    _public_access_block(scope, construct_id, bucket)
    ownership_controls = _ownership_controls(scope, construct_id, bucket, ownership)
    _encryption(scope, construct_id, bucket, kms_key_arn)
    _versioning(scope, construct_id, bucket)
    _lifecycle(
        scope,
        construct_id,
        bucket,
        rule_id=lifecycle_rule_id,
        expiry_days=expiry_days,
        noncurrent_version_expiry_days=noncurrent_version_expiry_days,
        abort_incomplete_upload_days=abort_incomplete_upload_days,
    )
    return PrivateBucket(bucket, ownership_controls)


def _public_access_block(scope: Construct, construct_id: str, bucket: S3Bucket) -> None:
    """Adds the public access block: no ACL or bucket policy can make the bucket public."""
    S3BucketPublicAccessBlock(
        scope,
        f"{construct_id}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )


def _ownership_controls(
    scope: Construct, construct_id: str, bucket: S3Bucket, ownership: Ownership
) -> S3BucketOwnershipControls:
    """Adds the ownership controls: ``ownership`` decides whether the bucket takes ACLs."""
    return S3BucketOwnershipControls(
        scope,
        f"{construct_id}-ownership",
        bucket=bucket.id,
        rule=S3BucketOwnershipControlsRule(object_ownership=ownership),
    )


def _encryption(scope: Construct, construct_id: str, bucket: S3Bucket, kms_key_arn: str | None) -> None:
    """Adds default encryption: SSE-KMS under ``kms_key_arn`` with an S3 Bucket Key, SSE-S3 without one."""
    S3BucketServerSideEncryptionConfigurationA(
        scope,
        f"{construct_id}-encryption",
        bucket=bucket.id,
        rule=[
            S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                )
                if kms_key_arn
                else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="AES256"
                ),
                # One data key per bucket instead of one KMS call per object (cost, throttling).
                bucket_key_enabled=True if kms_key_arn else None,
            )
        ],
    )


def _versioning(scope: Construct, construct_id: str, bucket: S3Bucket) -> None:
    """Adds versioning: a replaced or deleted object stays recoverable as a noncurrent version."""
    S3BucketVersioningA(
        scope,
        f"{construct_id}-versioning",
        bucket=bucket.id,
        versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
    )


def _lifecycle(
    scope: Construct,
    construct_id: str,
    bucket: S3Bucket,
    *,
    rule_id: str,
    expiry_days: int | None,
    noncurrent_version_expiry_days: int,
    abort_incomplete_upload_days: int,
) -> None:
    """Adds the lifecycle rule ``rule_id``: expiry of objects (when set), noncurrent versions, unfinished uploads."""
    S3BucketLifecycleConfiguration(
        scope,
        f"{construct_id}-lifecycle",
        bucket=bucket.id,
        rule=[
            S3BucketLifecycleConfigurationRule(
                id=rule_id,
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=expiry_days)]
                if expiry_days is not None
                else None,
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=noncurrent_version_expiry_days
                    )
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                        days_after_initiation=abort_incomplete_upload_days
                    )
                ],
            )
        ],
    )


def tls_only_policy(
    scope: Construct, construct_id: str, bucket: S3Bucket, statements: Sequence[Statement]
) -> S3BucketPolicy:
    """The bucket's policy: ``statements``, plus a deny of every request not made over TLS."""
    deny_insecure_transport = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket.arn, f"{bucket.arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return S3BucketPolicy(
        scope, construct_id, bucket=bucket.id, policy=policy_document([*statements, deny_insecure_transport])
    )
