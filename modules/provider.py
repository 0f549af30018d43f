"""The AWS provider with the platform's default tags, and the Terraform state backend."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Literal, get_args

from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import IConstruct

MANAGED_BY = "cdktf"

AwsProviderVersion = Literal["6.25.0", "5.100.0"]
"""The AWS provider releases the synthesized JSON can target. 6.25.0 is what the prebuilt bindings
(cdktf-cdktf-provider-aws 21.22.1) are generated for; 5.100.0 is the last 5.x release, for teams that
have not moved to 6 yet (and what these machines can run: terraform validate and the emulator)."""
AWS_PROVIDER_VERSIONS: tuple[AwsProviderVersion, ...] = get_args(AwsProviderVersion)
BINDINGS_AWS_PROVIDER: AwsProviderVersion = "6.25.0"


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
    version: AwsProviderVersion = BINDINGS_AWS_PROVIDER
    """The AWS provider release the JSON is written for (its ``required_providers`` constraint). The
    resources are the same for both but for one: with 5.100.0, RDS Proxy cannot take
    ``default_auth_scheme`` (end-to-end IAM) and signs in to the database with per-user secrets."""


class AwsProviders:
    """The stack's AWS provider and, on demand, one provider aliased to each other region a resource
    must live in (us-east-1 for CloudFront-scoped WAF and its logs), all with the same default tags.

    Aliased providers rather than AWS provider 6's per-resource ``region`` argument: both 5.x and 6.x
    accept them, so the same JSON plans with either. Constructs find them with ``AwsProviders.of(self)``
    (as aws-cdk constructs find their region with ``Stack.of(this)``)."""

    default: AwsProvider
    region: str
    version: AwsProviderVersion

    def __init__(self, stack: TerraformStack, *, props: ProviderProps) -> None:
        self._stack = stack
        self.region = props.region
        self.version = props.version
        self._tags = {
            **props.extra_tags,
            "project": props.project,
            "environment": props.environment,
            "managed-by": MANAGED_BY,
        }
        self._aliased: dict[str, AwsProvider] = {}
        self.default = AwsProvider(
            stack, "aws", region=props.region, default_tags=[AwsProviderDefaultTags(tags=self._tags)]
        )
        if props.version != BINDINGS_AWS_PROVIDER:
            stack.add_override("terraform.required_providers.aws.version", props.version)
        _BY_STACK[stack] = self

    @property
    def proxy_default_auth_scheme(self) -> bool:
        """Whether ``aws_db_proxy.default_auth_scheme`` exists (AWS provider 6 and later)."""
        return int(self.version.split(".")[0]) >= 6

    def in_region(self, region: str) -> AwsProvider | None:
        """The provider a resource in ``region`` names: None (the default provider) in the stack's own
        region, else the provider aliased to ``region``, created on first use."""
        if region == self.region:
            return None
        if region not in self._aliased:
            self._aliased[region] = AwsProvider(
                self._stack,
                f"aws-{region}",
                alias=region,
                region=region,
                default_tags=[AwsProviderDefaultTags(tags=self._tags)],
            )
        return self._aliased[region]

    @staticmethod
    def of(scope: IConstruct) -> AwsProviders:
        """The providers of the stack ``scope`` belongs to."""
        stack = TerraformStack.of(scope)
        found = _BY_STACK.get(stack)
        if found is None:
            raise LookupError(f"stack {stack.node.id!r} has no AWS provider; create AwsProviders first")
        return found


# By stack object (jsii hands back the same Python object for a stack): a construct path is not unique
# across the many Apps of a test session.
_BY_STACK: weakref.WeakKeyDictionary[TerraformStack, AwsProviders] = weakref.WeakKeyDictionary()


def aws_provider(stack: TerraformStack, *, props: ProviderProps) -> AwsProviders:
    """The stack's AWS provider(s), tagging every resource they create."""
    return AwsProviders(stack, props=props)


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
