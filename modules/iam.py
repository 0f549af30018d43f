"""IAM helpers shared by modules: policy documents and service-assumable roles."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

Statement = Mapping[str, Any]


def policy_document(statements: Sequence[Statement]) -> str:
    """A policy document as a JSON string; cdktf tokens inside it resolve at synth."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(actions: Sequence[str], resources: Sequence[str], **extra: Any) -> dict[str, Any]:
    """One Allow statement; ``extra`` adds keys such as ``Condition`` or ``Sid``."""
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources), **extra}


def decrypt_via(kms_key_arns: Sequence[str], services: Sequence[str], region: str, **extra: Any) -> dict[str, Any]:
    """kms:Decrypt with ``kms_key_arns``, only when the call comes through one of ``services`` (e.g.
    ``secretsmanager``) in ``region``: the key cannot be used to decrypt anything else directly."""
    via = [f"{service}.{region}.amazonaws.com" for service in services]
    return allow(
        ["kms:Decrypt"],
        kms_key_arns,
        Condition={"StringEquals": {"kms:ViaService": via[0] if len(via) == 1 else via}},
        **extra,
    )


def secret_read_statements(secret_arns: Sequence[str], *, kms_key_arn: str | None, region: str) -> list[Statement]:
    """Read exactly ``secret_arns``, and decrypt them through Secrets Manager when a customer key
    encrypts them."""
    statements: list[Statement] = [allow(["secretsmanager:GetSecretValue"], secret_arns)]
    if kms_key_arn:
        statements.append(decrypt_via([kms_key_arn], ["secretsmanager"], region))
    return statements


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
    use. The inline policy, when given, is a separate ``aws_iam_role_policy`` named ``<name>``; each
    managed policy is an ``aws_iam_role_policy_attachment`` (``<construct_id>-<policy name>``), not
    the role's ``managed_policy_arns``, which AWS provider 6 deprecates.
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
    )
    for arn in managed_policy_arns:
        # The policy's name is the ARN's last part; a literal, so the construct id is stable.
        policy = arn.rsplit("/", 1)[-1]
        IamRolePolicyAttachment(scope, f"{construct_id}-{policy}", role=role.name, policy_arn=arn)
    if inline_policy:
        IamRolePolicy(scope, f"{construct_id}-policy", name=name, role=role.id, policy=policy_document(inline_policy))
    return role
