"""The environment's customer-managed KMS key: one key, rotated, that every consumer of the stack
uses unless it is given a key of its own."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.kms_replica_key import KmsReplicaKey
from constructs import Construct

from config.kms import EncryptionConfig

from .block import Block, Naming
from .iam import Statement, allow, policy_document
from .provider import AwsProviders

LOGS_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


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


def _cloudfront_statement(partition: str, account: str) -> Statement:
    """CloudFront distributions of this account may decrypt (an Origin Access Control serving SSE-KMS objects).

    The account's distributions, not one: a distribution can depend on the data tier (its /api origin
    is Beanstalk's load balancer), which depends on this key, so naming the distribution here would be
    a dependency cycle. The bucket policy still admits exactly one distribution."""
    return allow(
        ["kms:Decrypt"],
        ["*"],
        Sid="CloudFrontReadsThroughOac",
        Principal={"Service": "cloudfront.amazonaws.com"},
        Condition={"StringLike": {"AWS:SourceArn": f"arn:{partition}:cloudfront::{account}:distribution/*"}},
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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EncryptionConfig,
        naming: Naming,
        cloudfront_reads: bool = False,
        replica_regions: Sequence[str] = (),
    ) -> None:
        """``cloudfront_reads``: CloudFront distributions of this account may decrypt with the key, so an
        Origin Access Control can serve objects of an SSE-KMS bucket. ``replica_regions``: other regions
        that need the key (same key material and id, a policy of its own there), e.g. us-east-1 for the
        log group of a CloudFront-scoped WAF; the key's own region needs no replica and is skipped."""
        super().__init__(scope, construct_id)
        self._settings = settings
        self._name = naming.prefix
        self.region = naming.region
        self._partition = DataAwsPartition(self, "partition").partition
        self._account = DataAwsCallerIdentity(self, "account").account_id
        self._administer = account_administers_key(self._partition, self._account)

        statements = [self._administer, _logs_statement(self._partition, self.region, self._account)]
        if cloudfront_reads:
            statements.append(_cloudfront_statement(self._partition, self._account))
        self.key = KmsKey(
            self,
            "key",
            description=f"{self._name}: logs, secrets, database insights, cache, images and frontend bucket",
            enable_key_rotation=True,
            deletion_window_in_days=settings.deletion_window_days,
            # Multi-Region from the start: a replica can be added later; making an existing key
            # multi-Region is impossible (it would be a new key).
            multi_region=True,
            policy=policy_document(statements),
            tags={"Name": self._name},
        )
        KmsAlias(self, "alias", name=f"alias/{self._name}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.replica_arns = {
            region: self._replica(region) for region in dict.fromkeys(replica_regions) if region != self.region
        }

    def _replica(self, region: str) -> str:
        """A replica of the key in ``region``, aliased like the primary; its ARN."""
        provider = AwsProviders.of(self).in_region(region)
        replica = KmsReplicaKey(
            self,
            f"replica-{region}",
            provider=provider,
            primary_key_arn=self.key.arn,
            description=f"{self._name} replica in {region}",
            deletion_window_in_days=self._settings.deletion_window_days,
            policy=policy_document([self._administer, _logs_statement(self._partition, region, self._account)]),
            tags={"Name": self._name},
        )
        KmsAlias(
            self, f"replica-{region}-alias", provider=provider, name=f"alias/{self._name}", target_key_id=replica.key_id
        )
        return replica.arn

    def arn_in(self, region: str) -> str:
        """The key's ARN in ``region``: the primary's in its own region, else the replica's there."""
        if region == self.region:
            return self.arn
        if region not in self.replica_arns:
            raise ValueError(f"the key has no replica in {region}; add it to replica_regions")
        return self.replica_arns[region]
