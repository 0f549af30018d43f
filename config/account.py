"""The AWS account an environment lives in, and the roles Terraform assumes (``[account]``,
``[account.assume_role]``; ``[backend.assume_role]`` takes the same role settings for the state).

One account per environment: ``id`` becomes every AWS provider's ``allowed_account_ids``, so a plan or
apply of prod's configuration with dev's credentials stops before it reads or changes anything.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from .base import Strict
from .credentials import REDACTED
from .errors import FieldError, Path
from .regions import partition_of

_ACCOUNT_ID = re.compile(r"^\d{12}$")
# IAM role ARNs: a path of /-separated segments, then the role name (1-64 characters). The partition is
# checked against the region's (role_partition_problems): aws, aws-cn, aws-us-gov, ...
_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$", re.ASCII
)
# sts:AssumeRole's RoleSessionName and ExternalId (the STS API reference's patterns and lengths).
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)


class AssumeRoleConfig(Strict):
    """An IAM role Terraform assumes (sts:AssumeRole) with the credentials it is run with."""

    role_arn: str = Field(
        description="The role, arn:<partition>:iam::<12-digit account>:role/<path/><name>, in the partition of the "
        "region it is used in."
    )
    session_name: str | None = Field(
        default=None,
        description="Session name CloudTrail records for every call made with the role: 2-64 letters, digits and "
        "+=,.@_-. Defaults to <project>-<environment>.",
    )
    external_id: str | None = Field(
        default=None,
        description="The sts:ExternalId the role's trust policy requires (a third party's confused-deputy guard): "
        "2-1224 letters, digits and +=,.@:/_-. Not a secret, but errors never print it. Unset: no external id.",
    )

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str) -> str:
        if not _ROLE_ARN.match(value):
            raise FieldError(
                "must be an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/<path/><name>, e.g. "
                "arn:aws:iam::111122223333:role/terraform",
                value=value,
            )
        return value

    @field_validator("session_name")
    @classmethod
    def _session_name(cls, value: str | None) -> str | None:
        if value is not None and not _SESSION_NAME.match(value):
            raise FieldError("must be 2-64 letters, digits and +=,.@_- (an STS role session name)", value=value)
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        if value is not None and not _EXTERNAL_ID.match(value):
            raise FieldError(
                f"must be 2-1224 letters, digits and +=,.@:/_- (an STS external id; got {len(value)} characters, "
                "not shown)",
                value=REDACTED,
            )
        return value

    @property
    def partition(self) -> str:
        """The partition of ``role_arn`` (``aws``, ``aws-cn``, ...)."""
        return self._arn_part("partition")

    @property
    def account_id(self) -> str:
        """The account ``role_arn`` is in."""
        return self._arn_part("account")

    def _arn_part(self, name: str) -> str:
        found = _ROLE_ARN.match(self.role_arn)
        if found is None:  # the validator has already refused it
            raise ValueError(f"not a role ARN: {self.role_arn!r}")
        return found[name]


class AccountConfig(Strict):
    """The AWS account the environment lives in, and how Terraform gets into it (``[account]``)."""

    id: str = Field(
        description="The environment's AWS account id, 12 digits, as a string (quoted: a leading zero counts). "
        "Every AWS provider gets it as allowed_account_ids: Terraform stops before any change when its credentials "
        "(after assume_role) are for another account."
    )
    assume_role: AssumeRoleConfig | None = Field(
        default=None,
        description="A role in that account every AWS provider assumes (e.g. from an identity or CI account's "
        "credentials); it must be in the account id names. Unset: Terraform works with the credentials it is run with.",
    )

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ACCOUNT_ID.match(value):
            raise FieldError("must be an AWS account id: exactly 12 digits, as a string", value=value)
        return value

    @model_validator(mode="after")
    def _role_in_account(self) -> AccountConfig:
        if self.assume_role is not None and self.assume_role.account_id != self.id:
            raise FieldError(
                f"must be a role in account {self.id}, the one account.id names (the providers refuse any other); "
                f"got one in {self.assume_role.account_id}",
                path=("assume_role", "role_arn"),
                value=self.assume_role.role_arn,
            )
        return self


def role_partition_problems(role: AssumeRoleConfig | None, region: str, path: Path, where: str) -> list[FieldError]:
    """A role outside the partition of ``region`` (``where`` says whose region it is), at ``path``."""
    expected = partition_of(region)
    if role is None or expected is None or role.partition == expected:
        return []
    return [
        FieldError(
            f"must be a role in partition {expected}, the partition of {where} {region}; got one in {role.partition}",
            path=(*path, "role_arn"),
            value=role.role_arn,
        )
    ]


def account_role_partition(region: str, account: AccountConfig | None) -> list[FieldError]:
    """The provider's role is in the partition of the environment's region."""
    if account is None:
        return []
    return role_partition_problems(account.assume_role, region, ("account", "assume_role"), "the environment's region")
