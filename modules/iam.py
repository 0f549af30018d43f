"""IAM helpers shared by modules: policy documents and service-assumable roles."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

Statement = Mapping[str, Any]


def policy_document(statements: Sequence[Statement]) -> str:
    """A policy document as a JSON string; cdktf tokens inside it resolve at synth."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(actions: Sequence[str], resources: Sequence[str], **extra: Any) -> dict[str, Any]:
    """One Allow statement; ``extra`` adds keys such as ``Condition`` or ``Sid``."""
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources), **extra}


def service_role(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    service: str,
    inline_policy: Sequence[Statement] = (),
    managed_policy_arns: Sequence[str] = (),
    condition: Mapping[str, Any] | None = None,
) -> IamRole:
    """A role that ``service`` (e.g. ``vpc-flow-logs.amazonaws.com``) may assume.

    ``condition`` narrows the trust policy (e.g. ``aws:SourceAccount``) against confused-deputy
    use. The inline policy, when given, is a separate ``aws_iam_role_policy`` named ``<name>``.
    """
    trust = allow(["sts:AssumeRole"], [], Principal={"Service": service})
    del trust["Resource"]
    if condition:
        trust["Condition"] = dict(condition)
    role = IamRole(
        scope,
        construct_id,
        name=name,
        assume_role_policy=policy_document([trust]),
        managed_policy_arns=list(managed_policy_arns) or None,
    )
    if inline_policy:
        IamRolePolicy(scope, f"{construct_id}-policy", name=name, role=role.id, policy=policy_document(inline_policy))
    return role
