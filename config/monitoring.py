"""CloudWatch alarms and whom they notify (``[monitoring]``). When each block's alarms fire is that
block's own ``alarms`` table (``[database.alarms]``, ``[beanstalk.alarms]``, ...)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from .base import KmsKeyArn, Strict
from .errors import FieldError

MAX_ALARM_WINDOW_SECONDS = 86400  # CloudWatch evaluates at most one day of data points
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


class MonitoringConfig(Strict):
    """CloudWatch alarms on every block that declares some, notifying one SNS topic (``[monitoring]``)."""

    enabled: bool = Field(default=True, description="Create the topic and the alarms of every tier that exists.")
    alarm_emails: list[str] = Field(
        default_factory=list,
        description="Email addresses subscribed to the alarm topic (each must confirm once); none by default.",
    )
    kms_key_arn: KmsKeyArn | None = Field(
        default=None,
        description="Customer-managed key for the topic; its policy must let cloudwatch.amazonaws.com use it. "
        "Unset: the platform creates one (the AWS-managed aws/sns key cannot be used by CloudWatch alarms).",
    )
    period_seconds: int = Field(
        default=300, description="Length of one evaluated period: a multiple of 60, up to 86400."
    )
    evaluation_periods: int = Field(
        default=3, ge=1, le=100, description="Consecutive breaching periods before an alarm fires."
    )

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for index, email in enumerate(value):
            if len(email) > 254 or not _EMAIL.match(email):
                raise FieldError("must be an email address such as ops@example.com", path=(index,), value=email)
            if [e.lower() for e in value].index(email.lower()) != index:
                raise FieldError("is listed twice", path=(index,), value=email)
        return value

    @field_validator("period_seconds")
    @classmethod
    def _period(cls, value: int) -> int:
        if value < 60 or value % 60 or value > MAX_ALARM_WINDOW_SECONDS:
            raise FieldError(
                f"must be a multiple of 60 seconds between 60 and {MAX_ALARM_WINDOW_SECONDS} (CloudWatch's standard "
                f"resolution), got {value}",
                value=value,
            )
        return value

    @model_validator(mode="after")
    def _window(self) -> MonitoringConfig:
        if self.evaluation_periods * self.period_seconds > MAX_ALARM_WINDOW_SECONDS:
            raise FieldError(
                f"times period_seconds ({self.period_seconds}) must be at most {MAX_ALARM_WINDOW_SECONDS} s (one day, "
                f"CloudWatch's limit), got {self.evaluation_periods * self.period_seconds}",
                path=("evaluation_periods",),
                value=self.evaluation_periods,
            )
        return self
