"""The SQS queue a worker service consumes (``[services.<name>.queue]``): how long a message stays
hidden while a task works on it, how long it is kept, when it is given up on (the dead-letter queue),
who may send to it, and when its alarms fire.

Defaults are the safe choice: long polling, a dead-letter queue after five failed receives that keeps
messages the longest SQS allows (14 days), encryption with the environment's key.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from .base import Strict, each
from .errors import FieldError

# SQS's own limits (CreateQueue attributes).
MAX_RETENTION_SECONDS = 1_209_600  # 14 days
MIN_RETENTION_SECONDS = 60
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200  # 12 hours
MAX_RECEIVE_WAIT_SECONDS = 20
# The variable holding the queue's URL in the worker's container.
QUEUE_URL_VARIABLE = "QUEUE_URL"


def sender_variable(worker: str) -> str:
    """The variable holding ``worker``'s queue URL in the containers of the services that send to it:
    ``job-worker`` -> ``JOB_WORKER_QUEUE_URL``."""
    return f"{worker.replace('-', '_').upper()}_{QUEUE_URL_VARIABLE}"


class QueueAlarmsConfig(Strict):
    """Alarms on one worker's queue and its dead-letter queue (``[services.<name>.queue.alarms]``)."""

    dead_letter_messages: int = Field(
        default=0,
        ge=0,
        le=1_000_000,
        description="Messages waiting in the dead-letter queue, above this: messages the worker gave up on "
        "(max_receive_count failed receives). 0: any message there fires it.",
    )
    oldest_message_age_seconds: int = Field(
        default=900,
        ge=60,
        le=MAX_RETENTION_SECONDS,
        description="Age of the oldest message in the queue, above this: the workers fall behind or are stuck.",
    )


class QueueConfig(Strict):
    """The SQS queue a worker consumes, with its dead-letter queue (``[services.<name>.queue]``)."""

    visibility_timeout_seconds: int = Field(
        default=30,
        ge=0,
        le=MAX_VISIBILITY_TIMEOUT_SECONDS,
        description="How long a received message stays hidden from other tasks; longer than the worker takes to "
        "process one, or it is processed twice (at most 43200, 12 hours).",
    )
    message_retention_seconds: int = Field(
        default=345_600,
        ge=MIN_RETENTION_SECONDS,
        le=MAX_RETENTION_SECONDS,
        description="How long an unprocessed message is kept (60 seconds to 14 days; 4 days by default).",
    )
    receive_wait_time_seconds: int = Field(
        default=MAX_RECEIVE_WAIT_SECONDS,
        ge=0,
        le=MAX_RECEIVE_WAIT_SECONDS,
        description="Long polling: how long a receive waits for a message to arrive (0-20). 20 keeps empty "
        "receives, and their cost, lowest.",
    )
    max_receive_count: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Receives after which a message that was never deleted moves to the dead-letter queue (1-1000).",
    )
    dead_letter_retention_seconds: int = Field(
        default=MAX_RETENTION_SECONDS,
        ge=MIN_RETENTION_SECONDS,
        le=MAX_RETENTION_SECONDS,
        description="How long the dead-letter queue keeps a message; at least message_retention_seconds (a "
        "message keeps its original enqueue time when it moves there). 14 days by default.",
    )
    kms_data_key_reuse_seconds: int = Field(
        default=300,
        ge=60,
        le=86_400,
        description="How long SQS reuses a data key before asking KMS again (60-86400); longer means fewer KMS "
        "calls. Only with the environment's key (encryption.customer_managed_key = true).",
    )
    senders: list[str] = Field(
        default_factory=list,
        description="Services allowed to send to the queue: each gets sqs:SendMessage on exactly this queue "
        "(and the key's use through SQS) and its URL as <WORKER>_QUEUE_URL (job-worker: JOB_WORKER_QUEUE_URL). "
        "None by default: only the worker itself and the account's administrators reach it.",
    )
    alarms: QueueAlarmsConfig = Field(
        default_factory=QueueAlarmsConfig, description="When its dead-letter and message-age alarms fire."
    )

    @field_validator("senders")
    @classmethod
    def _senders(cls, value: list[str]) -> list[str]:
        return each(value, distinct=True)

    @model_validator(mode="after")
    def _dead_letter_outlives_queue(self) -> QueueConfig:
        if self.dead_letter_retention_seconds < self.message_retention_seconds:
            raise FieldError(
                f"must be at least message_retention_seconds ({self.message_retention_seconds}): a message keeps "
                "its original enqueue time in the dead-letter queue, so a shorter retention there deletes it before "
                "anyone looks",
                path=("dead_letter_retention_seconds",),
                value=self.dead_letter_retention_seconds,
            )
        return self
