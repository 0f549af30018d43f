"""The SQS queue one worker service consumes: encrypted, TLS only, with a dead-letter queue that takes
what the worker keeps failing on, and the IAM statements to consume from it or send to it."""

from __future__ import annotations

import json
from typing import Any

from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_allow_policy import SqsQueueRedriveAllowPolicy
from constructs import Construct

from config.naming import SQS_QUEUE_NAME_MAX
from config.queue import QueueConfig

from .block import Alarm, AlarmPolicy, Block, Naming, Signal, Statistic
from .iam import Statement, allow, policy_document
from .kms import PlatformKey

CONSUME_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes")
"""What a worker does with its queue: receive, delete what it processed, extend a message's visibility
while it works on it, and read its attributes (SDK consumers ask for the visibility timeout)."""
SEND_ACTIONS = ("sqs:SendMessage",)


def tls_only_statement(queue_arn: str) -> Statement:
    """Deny every request to the queue not made over TLS, whoever makes it."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": queue_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class Queue(Block):
    """A standard SQS queue ``<project>-<environment>-<service>`` and its dead-letter queue
    (``...-<service>-dlq``), both encrypted with the environment's key (SQS-managed keys without one)
    and refusing requests not made over TLS. A message received ``max_receive_count`` times without
    being deleted moves to the dead-letter queue, which accepts messages from this queue only
    (redrive allow policy ``byQueue``). Nothing but IAM policies grants access: the worker's task role
    gets ``consume_statements()``, its senders' task roles ``send_statements()``.
    """

    stateful_types = frozenset({"aws_sqs_queue"})

    queue: SqsQueue
    dead_letter: SqsQueue
    arn: str
    url: str
    name: str
    dead_letter_name: str

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        settings: QueueConfig,
        naming: Naming,
        key: PlatformKey | None,
    ) -> None:
        """``service``: the worker that consumes it (names the queues and alarms); ``key``: the environment's
        key, which encrypts both queues (None: SQS-managed encryption)."""
        super().__init__(scope, construct_id)
        self._service, self._settings, self._region = service, settings, naming.region
        self._key_arn = key.arn if key is not None else None
        self.dead_letter = SqsQueue(
            self,
            "dead-letter",
            name=naming.name(f"{service}-dlq", max_length=SQS_QUEUE_NAME_MAX),
            message_retention_seconds=settings.dead_letter_retention_seconds,
            **self._encryption(),
        )
        self.queue = SqsQueue(
            self,
            "queue",
            name=naming.name(service, max_length=SQS_QUEUE_NAME_MAX),
            visibility_timeout_seconds=settings.visibility_timeout_seconds,
            message_retention_seconds=settings.message_retention_seconds,
            receive_wait_time_seconds=settings.receive_wait_time_seconds,
            redrive_policy=json.dumps(
                {"deadLetterTargetArn": self.dead_letter.arn, "maxReceiveCount": settings.max_receive_count}
            ),
            **self._encryption(),
        )
        self.arn, self.url, self.name = self.queue.arn, self.queue.url, self.queue.name
        self.dead_letter_name = self.dead_letter.name
        # A resource of its own: inline on the dead-letter queue it would name the queue that names it.
        SqsQueueRedriveAllowPolicy(
            self,
            "redrive-allow",
            queue_url=self.dead_letter.url,
            redrive_allow_policy=json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}),
        )
        for policy_id, target in (("policy", self.queue), ("dead-letter-policy", self.dead_letter)):
            SqsQueuePolicy(
                self, policy_id, queue_url=target.url, policy=policy_document([tls_only_statement(target.arn)])
            )

    def _encryption(self) -> dict[str, Any]:
        if self._key_arn is None:
            return {"sqs_managed_sse_enabled": True}
        return {
            "kms_master_key_id": self._key_arn,
            "kms_data_key_reuse_period_seconds": self._settings.kms_data_key_reuse_seconds,
        }

    def consume_statements(self) -> list[Statement]:
        """For the worker's task role: consume exactly this queue, and decrypt its messages through SQS."""
        statements: list[Statement] = [allow(list(CONSUME_ACTIONS), [self.arn])]
        if self._key_arn is not None:
            statements.append(self._key_through_sqs(["kms:Decrypt"]))
        return statements

    def send_statements(self) -> list[Statement]:
        """For a sender's task role: send to exactly this queue; SQS encrypts each message with a data key
        it has KMS generate (and decrypt, when it reuses one) on the sender's behalf."""
        statements: list[Statement] = [allow(list(SEND_ACTIONS), [self.arn])]
        if self._key_arn is not None:
            statements.append(self._key_through_sqs(["kms:Decrypt", "kms:GenerateDataKey"]))
        return statements

    def _key_through_sqs(self, actions: list[str]) -> Statement:
        assert self._key_arn is not None
        return allow(
            actions,
            [self._key_arn],
            Condition={"StringEquals": {"kms:ViaService": f"sqs.{self._region}.amazonaws.com"}},
        )

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """Messages the worker gave up on (in the dead-letter queue), and a queue it falls behind on."""
        settings, service = self._settings.alarms, self._service
        return [
            Alarm(
                construct_id=f"queue-dead-letter-{service}",
                namespace="AWS/SQS",
                metric="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": self.dead_letter_name},
                threshold=settings.dead_letter_messages,
                statistic=Statistic.MAXIMUM,
                signal=Signal.QUEUE,
                description=f"{service}: more than {settings.dead_letter_messages} messages in its dead-letter queue",
            ),
            Alarm(
                construct_id=f"queue-age-{service}",
                namespace="AWS/SQS",
                metric="ApproximateAgeOfOldestMessage",
                dimensions={"QueueName": self.name},
                threshold=settings.oldest_message_age_seconds,
                statistic=Statistic.MAXIMUM,
                signal=Signal.QUEUE,
                description=f"{service}: oldest message in its queue older than "
                f"{settings.oldest_message_age_seconds} s",
            ),
        ]
