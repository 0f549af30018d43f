"""The environment's alarm topic: one encrypted SNS topic every alarm notifies, and the alarms every
block declares (``Block.alarms``), each notifying the topic when it fires and when it recovers."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from config.monitoring import MonitoringConfig

from .block import Alarm, AlarmPolicy, Block, Naming
from .iam import allow, policy_document
from .kms import account_administers_key


class Monitoring(Block):
    """SNS topic (KMS-encrypted, email subscriptions) and the alarms of every block in ``watched``."""

    stateful_types = frozenset({"aws_kms_key"})

    topic: SnsTopic
    topic_arn: str
    kms_key: KmsKey | None
    metric_alarms: dict[str, CloudwatchMetricAlarm]
    """The alarms created, by construct id."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: MonitoringConfig,
        naming: Naming,
        watched: Sequence[Block],
    ) -> None:
        super().__init__(scope, construct_id)
        self._name = naming.prefix
        self.kms_key = None
        key_id = settings.kms_key_arn
        if key_id is None:
            self.kms_key = self._key()
            key_id = self.kms_key.arn
        self.topic = SnsTopic(self, "topic", name=f"{self._name}-alarms", kms_master_key_id=key_id)
        self.topic_arn = self.topic.arn
        for email in settings.alarm_emails:
            SnsTopicSubscription(
                self, f"email-{email.lower()}", topic_arn=self.topic.arn, protocol="email", endpoint=email
            )
        policy = AlarmPolicy(period_seconds=settings.period_seconds, evaluation_periods=settings.evaluation_periods)
        self.metric_alarms = {}
        for block in watched:
            for alarm in block.alarms(policy):
                self.metric_alarms[alarm.construct_id] = self._alarm(alarm, policy)

    def _key(self) -> KmsKey:
        partition = DataAwsPartition(self, "partition").partition
        account = DataAwsCallerIdentity(self, "account").account_id
        administer = account_administers_key(partition, account)
        alarms_publish = allow(
            ["kms:Decrypt", "kms:GenerateDataKey*"],
            ["*"],
            Sid="CloudWatchAlarmsPublish",
            Principal={"Service": "cloudwatch.amazonaws.com"},
        )
        key = KmsKey(
            self,
            "key",
            description=f"{self._name} alarm topic: lets CloudWatch alarms publish encrypted notifications",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy_document([administer, alarms_publish]),
        )
        KmsAlias(self, "key-alias", name=f"alias/{self._name}-alarms", target_key_id=key.key_id)
        return key

    def _alarm(self, alarm: Alarm, policy: AlarmPolicy) -> CloudwatchMetricAlarm:
        if alarm.construct_id in self.metric_alarms:
            raise ValueError(f"two blocks declare the alarm {alarm.construct_id!r}")
        return CloudwatchMetricAlarm(
            self,
            alarm.construct_id,
            alarm_name=f"{self._name}-{alarm.construct_id}",
            alarm_description=(
                f"{alarm.description}. Missing data: {alarm.signal.treat_missing_data} ({alarm.signal.reason})."
            ),
            namespace=alarm.namespace,
            metric_name=alarm.metric,
            dimensions=dict(alarm.dimensions),
            statistic=alarm.statistic.value,
            period=policy.period_seconds,
            evaluation_periods=alarm.evaluation_periods or policy.evaluation_periods,
            threshold=alarm.threshold,
            comparison_operator=alarm.comparison.value,
            treat_missing_data=alarm.signal.treat_missing_data,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
        )
