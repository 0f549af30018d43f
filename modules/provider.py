"""The AWS provider with the platform's default tags, and the Terraform state backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

MANAGED_BY = "cdktf"


@dataclass(frozen=True, kw_only=True)
class ProviderProps:
    """Region and tags every resource of the stack gets."""

    region: str
    """AWS region of the stack."""
    project: str
    """Value of the ``project`` default tag."""
    environment: str
    """Value of the ``environment`` default tag."""
    extra_tags: dict[str, str] = field(default_factory=dict)
    """More default tags; ``project``, ``environment`` and ``managed-by`` cannot be overridden."""


def aws_provider(stack: TerraformStack, *, props: ProviderProps) -> AwsProvider:
    """The stack's only AWS provider, tagging every resource it creates."""
    tags = {**props.extra_tags, "project": props.project, "environment": props.environment, "managed-by": MANAGED_BY}
    return AwsProvider(stack, "aws", region=props.region, default_tags=[AwsProviderDefaultTags(tags=tags)])


@dataclass(frozen=True, kw_only=True)
class BackendProps:
    """Where Terraform keeps this stack's state."""

    kind: Literal["local", "s3", "cloud"] = "local"
    """local: a file in the project's gitignored ``terraform.state/``; s3: shared, encrypted, locked;
    cloud: HCP Terraform workspace."""
    state_key: str
    """Identity of the state: S3 object key stem and local file name, e.g. ``netflux/prod``."""
    s3_bucket: str = ""
    """S3 state bucket (s3 only)."""
    s3_region: str = ""
    """S3 bucket region (s3 only)."""
    s3_locking: Literal["lockfile", "dynamodb"] = "lockfile"
    """lockfile: S3-native lock object (Terraform >= 1.10); dynamodb: lock table."""
    s3_dynamodb_table: str | None = None
    """Lock table when ``s3_locking`` is dynamodb."""
    s3_kms_key_id: str | None = None
    """KMS key for the state object; S3-managed encryption when unset."""
    cloud_organization: str = ""
    """HCP Terraform organization (cloud only)."""
    cloud_workspace: str = ""
    """HCP Terraform workspace (cloud only)."""
    cloud_hostname: str = "app.terraform.io"
    """HCP Terraform or Terraform Enterprise host (cloud only)."""


# Terraform runs in cdktf.out/stacks/<stack>/, three levels below the project root. A relative path
# keeps the synthesized JSON free of machine-specific absolute paths.
LOCAL_STATE_DIR = "../../../terraform.state"


def state_backend(stack: TerraformStack, *, props: BackendProps) -> None:
    """Configure the stack's backend."""
    if props.kind == "local":
        LocalBackend(stack, path=f"{LOCAL_STATE_DIR}/{props.state_key.replace('/', '-')}.tfstate")
    elif props.kind == "s3":
        S3Backend(
            stack,
            bucket=props.s3_bucket,
            key=f"{props.state_key}/terraform.tfstate",
            region=props.s3_region,
            encrypt=True,
            kms_key_id=props.s3_kms_key_id,
            dynamodb_table=props.s3_dynamodb_table if props.s3_locking == "dynamodb" else None,
        )
        if props.s3_locking == "lockfile":
            # cdktf 0.21's S3Backend has no use_lockfile field; Terraform >= 1.10 reads it from JSON.
            stack.add_override("terraform.backend.s3.use_lockfile", True)
    else:
        CloudBackend(
            stack,
            organization=props.cloud_organization,
            hostname=props.cloud_hostname,
            workspaces=NamedCloudWorkspace(props.cloud_workspace),
        )
