"""Security wiring: the environment's KMS key."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from config.frontend import CLOUDFRONT_REGION
from modules import PlatformKey
from modules.block import Naming

from .waf import creates_cloudfront_acl


def build_key(stack: TerraformStack, config: EnvironmentConfig, *, naming: Naming) -> PlatformKey | None:
    """The environment's customer-managed key ([encryption]); None when AWS-managed keys are asked for."""
    if not config.encryption.customer_managed_key:
        return None
    key = PlatformKey(
        stack,
        "kms",
        settings=config.encryption,
        naming=naming,
        # The distribution serves the frontend bucket, which the key encrypts.
        cloudfront_reads=config.frontend.enabled,
        # The CloudFront ACL's log group lives in us-east-1 and needs the key there.
        replica_regions=[CLOUDFRONT_REGION] if creates_cloudfront_acl(config) else [],
    )
    TerraformOutput(stack, "kms_key_arn", value=key.arn, description="The environment's customer-managed KMS key")
    return key
