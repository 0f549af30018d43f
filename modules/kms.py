"""The environment's customer-managed KMS key: one key, rotated, that every consumer of the stack
uses unless it is given a key of its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.kms_replica_key import KmsReplicaKey
from constructs import Construct

from .block import Block
from .iam import Statement, allow, policy_document
from .provider import AwsProviders

LOGS_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


@dataclass(frozen=True, kw_only=True)
class PlatformKeyProps:
    """Who may use the key besides the account's own IAM principals, and where it is replicated."""

    name: str
    """Alias ``alias/<name>`` and description prefix, e.g. ``netflux-prod``."""
    region: str
    """Region of the stack: CloudWatch Logs there may encrypt this account's log groups with the key."""
    deletion_window_days: int = 30
    """Days a key scheduled for deletion can still be restored, 7-30."""
    cloudfront_reads: bool = False
    """CloudFront distributions of this account may decrypt with the key, so an Origin Access Control
    can serve objects of an SSE-KMS bucket. Off: no CloudFront access."""
    replica_regions: list[str] = field(default_factory=list)
    """Regions that get a replica of the key (same key material and id, its own policy), for resources
    that must live elsewhere, e.g. us-east-1 for the log group of a CloudFront-scoped WAF. None by default."""


def account_administers_key(partition: str, account: str) -> Statement:
    """Key-policy statement delegating to IAM: the account's principals may use and manage the key as
    their IAM policies allow."""
    return allow(
        ["kms:*"], ["*"], Sid="AccountAdministersKey", Principal={"AWS": f"arn:{partition}:iam::{account}:root"}
    )


def _logs_statement(partition: str, region: str, account: str) -> Statement:
    """CloudWatch Logs in ``region`` may use the key for this account's log groups there, and nothing else."""
    return allow(
        list(LOGS_ACTIONS),
        ["*"],
        Sid="CloudWatchLogsEncryptLogGroups",
        Principal={"Service": f"logs.{region}.amazonaws.com"},
        Condition={
            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:log-group:*"}
        },
    )


class PlatformKey(Block):
    """A symmetric, multi-Region, yearly-rotated key with an alias. Its policy delegates to IAM (the
    account root) and lets CloudWatch Logs and, if asked, CloudFront use it under conditions naming
    this account. Services that use KMS through grants (RDS, ElastiCache, ECR, Secrets Manager, S3)
    need no statement: the caller's IAM permissions decide."""

    stateful_types = frozenset({"aws_kms_key"})

    key: KmsKey
    arn: str
    key_id: str
    region: str
    replica_arns: dict[str, str]
    """ARN of the replica in each of ``replica_regions``."""

    def __init__(self, scope: Construct, construct_id: str, *, props: PlatformKeyProps) -> None:
        super().__init__(scope, construct_id)
        if not 7 <= props.deletion_window_days <= 30:
            raise ValueError(f"deletion_window_days must be between 7 and 30, got {props.deletion_window_days}")
        if props.region in props.replica_regions:
            raise ValueError(f"replica_regions must not include the key's own region {props.region}")
        self.region = props.region
        partition = DataAwsPartition(self, "partition").partition
        account = DataAwsCallerIdentity(self, "account").account_id
        administer = account_administers_key(partition, account)

        statements = [administer, _logs_statement(partition, props.region, account)]
        if props.cloudfront_reads:
            # The account's distributions, not one: a distribution can depend on the data tier
            # (its /api origin is Beanstalk's load balancer), which depends on this key, so naming
            # the distribution here would be a dependency cycle. The bucket policy still admits
            # exactly one distribution.
            statements.append(
                allow(
                    ["kms:Decrypt"],
                    ["*"],
                    Sid="CloudFrontReadsThroughOac",
                    Principal={"Service": "cloudfront.amazonaws.com"},
                    Condition={
                        "StringLike": {"AWS:SourceArn": f"arn:{partition}:cloudfront::{account}:distribution/*"}
                    },
                )
            )
        self.key = KmsKey(
            self,
            "key",
            description=f"{props.name}: logs, secrets, database insights, cache, images and frontend bucket",
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
            # Multi-Region from the start: a replica can be added later; making an existing key
            # multi-Region is impossible (it would be a new key).
            multi_region=True,
            policy=policy_document(statements),
            tags={"Name": props.name},
        )
        KmsAlias(self, "alias", name=f"alias/{props.name}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
        self.key_id = self.key.key_id

        self.replica_arns = {}
        providers = AwsProviders.of(self)
        for region in props.replica_regions:
            provider = providers.in_region(region)
            replica = KmsReplicaKey(
                self,
                f"replica-{region}",
                provider=provider,
                primary_key_arn=self.key.arn,
                description=f"{props.name} replica in {region}",
                deletion_window_in_days=props.deletion_window_days,
                policy=policy_document([administer, _logs_statement(partition, region, account)]),
                tags={"Name": props.name},
            )
            KmsAlias(
                self,
                f"replica-{region}-alias",
                provider=provider,
                name=f"alias/{props.name}",
                target_key_id=replica.key_id,
            )
            self.replica_arns[region] = replica.arn

    def arn_in(self, region: str) -> str:
        """The key's ARN in ``region``: the primary's in its own region, else the replica's there."""
        if region == self.region:
            return self.arn
        if region not in self.replica_arns:
            raise ValueError(f"the key has no replica in {region}; add it to replica_regions")
        return self.replica_arns[region]
