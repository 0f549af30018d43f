"""The AWS provider with the platform's default tags, and the Terraform state backend."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, S3BackendAssumeRoleConfig, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags
from constructs import IConstruct

from config.account import AccountConfig, AssumeRoleConfig
from config.backends import AnyBackendConfig, CloudBackendConfig, S3BackendConfig
from config.base import PLATFORM_TAG_KEYS
from config.provider import BINDINGS_AWS_PROVIDER, AwsProviderVersion

from .block import Naming

MANAGED_BY = "cdktf"


class AwsProviders:
    """The stack's AWS provider and, on demand, one provider aliased to each other region a resource
    must live in (us-east-1 for CloudFront-scoped WAF and its logs), all with the same default tags and
    the same account guard and role (``[account]``).

    Aliased providers rather than AWS provider 6's per-resource ``region`` argument: both 5.x and 6.x
    accept them, so the same JSON plans with either. Constructs find them with ``AwsProviders.of(self)``
    (as aws-cdk constructs find their region with ``Stack.of(this)``)."""

    default: AwsProvider
    region: str
    version: AwsProviderVersion

    def __init__(
        self,
        stack: TerraformStack,
        *,
        naming: Naming,
        tags: Mapping[str, str] | None = None,
        account: AccountConfig | None = None,
        version: AwsProviderVersion = BINDINGS_AWS_PROVIDER,
    ) -> None:
        """``naming``: the region, and the ``project`` and ``environment`` default tags. ``tags``: more
        default tags (the environment's ``[tags]``); ``project``, ``environment`` and ``managed-by``
        cannot be overridden. ``account``: the account every provider may work in
        (``allowed_account_ids``) and the role each assumes there; None: no guard. ``version``: the AWS
        provider release the JSON is written for (its ``required_providers`` constraint). The resources are the same for both but for one: with
        5.100.0, RDS Proxy cannot take ``default_auth_scheme`` (end-to-end IAM) and signs in to the
        database with per-user secrets."""
        self._stack = stack
        self.region = naming.region
        self.version = version
        platform = dict(zip(PLATFORM_TAG_KEYS, (naming.project, naming.environment, MANAGED_BY), strict=True))
        self._tags = {**(tags or {}), **platform}
        self._aliased: dict[str, AwsProvider] = {}
        self._account = account
        self._naming = naming
        self.default = AwsProvider(stack, "aws", region=naming.region, **self._common())
        if version != BINDINGS_AWS_PROVIDER:
            stack.add_override("terraform.required_providers.aws.version", version)
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
                **self._common(),
            )
        return self._aliased[region]

    def _common(self) -> dict[str, Any]:
        """What every provider of the stack carries: the default tags, and with ``[account]`` the guard
        (the provider compares it with the account of its credentials, after any assume_role, before
        it reads or changes a resource) and the role."""
        common: dict[str, Any] = {"default_tags": [AwsProviderDefaultTags(tags=self._tags)]}
        if self._account is not None:
            common["allowed_account_ids"] = [self._account.id]
            if self._account.assume_role is not None:
                role = self._account.assume_role
                common["assume_role"] = [
                    AwsProviderAssumeRole(
                        role_arn=role.role_arn,
                        session_name=_session_name(role, self._naming),
                        external_id=role.external_id,
                    )
                ]
        return common

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


def _session_name(role: AssumeRoleConfig, naming: Naming) -> str:
    """The role's session name (provider or S3 backend): the stack's name unless the role names one."""
    return role.session_name or naming.prefix


# Terraform runs in cdktf.out/stacks/<stack>/, three levels below the project root. A relative path
# keeps the synthesized JSON free of machine-specific absolute paths.
LOCAL_STATE_DIR = "../../../terraform.state"


def state_backend(stack: TerraformStack, *, settings: AnyBackendConfig, naming: Naming) -> None:
    """Configure where Terraform keeps the stack's state (``[backend]``). The state is identified by
    ``<project>/<environment>``: the S3 key stem, the local file name and, by default, the HCP Terraform
    workspace (``<project>-<environment>``)."""
    state_key = f"{naming.project}/{naming.environment}"
    if isinstance(settings, S3BackendConfig):
        S3Backend(
            stack,
            bucket=settings.bucket,
            key=f"{state_key}/terraform.tfstate",
            region=settings.region or naming.region,
            encrypt=True,
            kms_key_id=settings.kms_key_id,
            dynamodb_table=settings.dynamodb_table if settings.locking == "dynamodb" else None,
            # The nested form (Terraform >= 1.6); the top-level role_arn and its siblings are deprecated.
            assume_role=None
            if settings.assume_role is None
            else S3BackendAssumeRoleConfig(
                role_arn=settings.assume_role.role_arn,
                session_name=_session_name(settings.assume_role, naming),
                external_id=settings.assume_role.external_id,
            ),
        )
        if settings.locking == "lockfile":
            # cdktf 0.21's S3Backend has no use_lockfile field; Terraform >= 1.10 reads it from JSON.
            stack.add_override("terraform.backend.s3.use_lockfile", True)
    elif isinstance(settings, CloudBackendConfig):
        CloudBackend(
            stack,
            organization=settings.organization,
            hostname=settings.hostname,
            workspaces=NamedCloudWorkspace(settings.workspace or naming.prefix),
        )
    else:
        LocalBackend(stack, path=f"{LOCAL_STATE_DIR}/{state_key.replace('/', '-')}.tfstate")
