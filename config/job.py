"""Scheduled and one-off jobs (``[jobs.<name>]``): a task that runs a service's image with a command
of its own, until it exits. With a ``schedule`` EventBridge Scheduler starts it (cron or rate, in a
time zone); without one it runs on demand (`make run-job ENV=<env> JOB=<name>`), e.g. database
migrations before a deploy.

A job is part of its service: the same image (repository and tag), plain settings, secrets and data
access (database user, cache user), in the same subnets and security group; it gets roles and a log
group of its own, so what it may do is exactly what its service may do, and no more.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
import zoneinfo
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from .base import Strict
from .credentials import REDACTED, credential_shape
from .errors import FieldError
from .service import FargateCpu, ImageTag, check_fargate_memory

if TYPE_CHECKING:
    from .cluster import ComputeConfig
    from .service import ServiceConfig

COMMAND_ARGUMENTS_MAX = 50
COMMAND_ARGUMENT_LENGTH_MAX = 1024
TIMEOUT_MINUTES_MAX = 24 * 60
# EventBridge Scheduler's RetryPolicy bounds (CreateSchedule API reference).
RETRY_ATTEMPTS_MAX = 185
EVENT_AGE_MINUTES_MAX = 24 * 60

CRON_FORMAT = "cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)"
RATE_FORMAT = "rate(<value> <unit>)"
_EXPRESSION = re.compile(r"^(?P<kind>cron|rate)\((?P<body>.*)\)$")
_RATE = re.compile(r"^(?P<value>[1-9][0-9]{0,5}) (?P<unit>minutes?|hours?|days?)$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


# --- schedule expressions ----------------------------------------------------------------------


class _CronField:
    """One field of an EventBridge Scheduler cron expression: its values and the wildcards it takes."""

    def __init__(self, name: str, low: int, high: int, *, names: tuple[str, ...] = (), question: bool = False) -> None:
        self.name, self.low, self.high, self.names, self.question = name, low, high, names, question

    def value(self, text: str) -> int:
        if text.isascii() and text.isdigit() and self.low <= int(text) <= self.high:
            return int(text)
        if text.upper() in self.names:
            return self.names.index(text.upper()) + self.low
        allowed = f"{self.low}-{self.high}" + (f" or {self.names[0]}-{self.names[-1]}" if self.names else "")
        raise ValueError(f"{text!r} is not {allowed}")

    def item(self, text: str) -> None:
        """One comma-separated item: *, a value, a range a-b, an increment x/n, and the field's own wildcards."""
        start, slash, step = text.partition("/")
        if slash:
            if not (step.isascii() and step.isdigit() and 1 <= int(step) <= self.high):
                raise ValueError(f"the increment in {text!r} is not a whole number from 1 to {self.high}")
            text = start
        if text == "*":
            return
        if self.name == "day-of-month" and not slash and (text in ("L", "LW") or re.fullmatch(r"\d{1,2}W", text)):
            if text.endswith("W") and text != "LW":
                self.value(text[:-1])
            return
        if self.name == "day-of-week" and not slash:
            # L: the last day of the week; 6L: the month's last Friday; MON#1: its first Monday.
            special = re.fullmatch(r"(\w{1,3})(?:L|#[1-5])", text)
            if special:
                self.value(special[1])
            if special or text == "L":
                return
        low, dash, high = text.partition("-")
        if dash:
            self.value(low)
            self.value(high)
            return
        self.value(text)

    def check(self, text: str) -> None:
        if text == "?":
            if not self.question:
                raise ValueError("'?' is only allowed in day-of-month and day-of-week")
            return
        for item in text.split(","):
            self.item(item)


_CRON_FIELDS = (
    _CronField("minutes", 0, 59),
    _CronField("hours", 0, 23),
    _CronField("day-of-month", 1, 31, question=True),
    _CronField("month", 1, 12, names=_MONTHS),
    _CronField("day-of-week", 1, 7, names=_WEEKDAYS, question=True),
    _CronField("year", 1970, 2199),
)


def _check_cron(body: str) -> None:
    parts = body.split(" ")
    if len(parts) != len(_CRON_FIELDS) or "" in parts:
        raise FieldError(f"must be {CRON_FORMAT}: six fields separated by single spaces, got {len(body.split())}")
    for field, text in zip(_CRON_FIELDS, parts, strict=True):
        try:
            field.check(text)
        except ValueError as error:
            raise FieldError(f"must be a valid cron expression: in the {field.name} field, {error}") from None
    if (parts[2] == "?") == (parts[4] == "?"):
        raise FieldError(
            "must be a valid cron expression: exactly one of day-of-month and day-of-week must be '?' (EventBridge "
            "Scheduler cannot take both), e.g. cron(0 3 * * ? *) daily or cron(0 3 ? * MON *) on Mondays"
        )


def _check_rate(body: str) -> None:
    match = _RATE.match(body)
    if not match:
        raise FieldError(
            f"must be {RATE_FORMAT} with a whole number from 1 and a unit of minute(s), hour(s) or day(s), e.g. "
            "rate(1 hour) or rate(15 minutes)"
        )
    if (match["value"] == "1") != (not match["unit"].endswith("s")):
        raise FieldError(
            "must be a valid rate expression: the unit is singular for 1 (rate(1 hour)) and plural otherwise "
            "(rate(2 hours))"
        )


def valid_schedule_expression(value: str) -> str:
    """Check an EventBridge Scheduler cron(...) or rate(...) expression."""
    match = _EXPRESSION.match(value)
    if not match:
        raise FieldError(f"must be {CRON_FORMAT} or {RATE_FORMAT}, e.g. cron(0 3 * * ? *) or rate(1 hour)", value=value)
    try:
        (_check_cron if match["kind"] == "cron" else _check_rate)(match["body"])
    except FieldError as error:
        raise FieldError(error.message, value=value) from None
    return value


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names, as the pinned ``tzdata`` package ships them (the same on every
    machine); the system's zoneinfo database where that package is missing."""
    try:
        zones = importlib.resources.files("tzdata").joinpath("zones").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        return frozenset(zoneinfo.available_timezones())
    return frozenset(zones.split())


def valid_time_zone(value: str) -> str:
    """Check an IANA time zone name (``Europe/Dublin``); the error suggests close names."""
    if value in time_zones():
        return value
    close = difflib.get_close_matches(value, sorted(time_zones()), n=3)
    names = f"{', '.join(close[:-1])} or {close[-1]}" if len(close) > 1 else "".join(close)
    hint = f"; did you mean {names}?" if close else ""
    raise FieldError(
        f"must be an IANA time zone name such as UTC, Europe/Dublin or America/New_York{hint}", value=value
    )


# --- the job -----------------------------------------------------------------------------------


class JobScheduleConfig(Strict):
    """When EventBridge Scheduler starts the job (``[jobs.<name>.schedule]``). The flexible time window
    is off: each run starts at its time."""

    expression: str = Field(
        description=f"{CRON_FORMAT} or {RATE_FORMAT} (unit: minute(s), hour(s) or day(s)), as EventBridge "
        "Scheduler takes them: e.g. "
        "cron(0 3 * * ? *) every day at 03:00, cron(30 2 ? * MON *) on Mondays, rate(6 hours). In cron, exactly "
        "one of day-of-month and day-of-week is '?'."
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone the cron expression is read in, e.g. Europe/Dublin (daylight saving time "
        "included); rate expressions ignore it.",
    )
    paused: bool = Field(
        default=False,
        description="The schedule exists but starts nothing (state DISABLED) until set back to false; "
        "`make run-job` still runs the job.",
    )
    retry_attempts: int = Field(
        default=2,
        ge=0,
        le=RETRY_ATTEMPTS_MAX,
        description="Retries when EventBridge Scheduler cannot start the task (RunTask throttled or failing), "
        f"0-{RETRY_ATTEMPTS_MAX}. A task that starts and then fails is not retried.",
    )
    max_event_age_minutes: int = Field(
        default=60,
        ge=1,
        le=EVENT_AGE_MINUTES_MAX,
        description="How late a retried start may still happen, in minutes after the scheduled time "
        f"(1-{EVENT_AGE_MINUTES_MAX}); later, the run is dropped (or sent to the dead-letter queue).",
    )
    dead_letter_queue: bool = Field(
        default=True,
        description="Runs EventBridge Scheduler could not start (after the retries) go to an SQS queue "
        "<project>-<environment>-<job>-dlq, kept 14 days and encrypted with the environment's key, and an alarm "
        "fires while it holds any. Off: such runs are dropped, visible only in the AWS/Scheduler metrics.",
    )

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        return valid_schedule_expression(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return valid_time_zone(value)


class JobConfig(Strict):
    """A task that runs a service's image with its own command until it exits. Keyed by name in
    ``[jobs.<name>]``."""

    service: str = Field(
        description="The [services.<name>] whose image (repository and tag), plain settings, secrets and data "
        "access the job takes; it runs in the same subnets with the same security group."
    )
    command: list[str] = Field(
        description=f"The command the container runs instead of the image's, one argument per item (at most "
        f"{COMMAND_ARGUMENTS_MAX}, each 1-{COMMAND_ARGUMENT_LENGTH_MAX} characters), e.g. "
        '["./manage.py", "migrate", "--noinput"]. Readable in the task definition, so never a secret: the job '
        "reads those from its service's secrets.",
    )
    image_tag: ImageTag | None = Field(
        default=None,
        description="Tag of the service's image to run instead of the service's own (its task.image_tag, or the "
        "image_tag_<service> variable when unset): e.g. the next release, to migrate the database before the "
        "service runs that release. Unset: the service's tag, whatever it is.",
    )
    cpu: FargateCpu = Field(default=256, description="Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384.")
    memory_mib: int = Field(
        default=512, ge=512, le=122880, description="Task memory in MiB; the allowed values depend on cpu."
    )
    timeout_minutes: int = Field(
        default=60,
        ge=1,
        le=TIMEOUT_MINUTES_MAX,
        description="How long `make run-job` waits for the task to stop before it stops it and exits 124. ECS "
        "itself sets no time limit on a task, so a scheduled run that hangs keeps running until stopped.",
    )
    schedule: JobScheduleConfig | None = Field(
        default=None,
        description="When EventBridge Scheduler starts the job; unset: the job runs only on demand "
        "(`make run-job ENV=<env> JOB=<name>`).",
    )

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        if not 1 <= len(value) <= COMMAND_ARGUMENTS_MAX:
            raise FieldError(f"must have 1 to {COMMAND_ARGUMENTS_MAX} arguments, got {len(value)}", value=value)
        for index, argument in enumerate(value):
            shape = credential_shape(argument)
            if shape is not None:
                raise FieldError(
                    f"holds {shape}; a command is readable by anyone who can describe the task definition: store "
                    "the value in Secrets Manager or SSM, reference it under the service's task.secrets and let the "
                    "command read the variable",
                    path=(index,),
                    value=REDACTED,
                )
            if not 1 <= len(argument) <= COMMAND_ARGUMENT_LENGTH_MAX or "\x00" in argument:
                raise FieldError(
                    f"must be 1 to {COMMAND_ARGUMENT_LENGTH_MAX} characters without NUL, got {len(argument)}",
                    path=(index,),
                    value=argument if len(argument) <= 80 else argument[:77] + "...",
                )
        return value

    @model_validator(mode="after")
    def _size(self) -> JobConfig:
        check_fargate_memory(self.cpu, self.memory_mib)
        return self


def check_jobs(
    jobs: Mapping[str, JobConfig], services: Mapping[str, ServiceConfig], compute: ComputeConfig
) -> list[FieldError]:
    """Each job names a service of this environment, which runs on Fargate, and no job is named like a service."""
    if not jobs:
        return []
    if compute.kind != "fargate":
        return [
            FieldError(
                "needs compute.kind = 'fargate': a job runs a Fargate service's image on the environment's ECS "
                "cluster, which compute.kind = 'beanstalk' does not build",
                path=("jobs", name),
                value=name,
            )
            for name in jobs
        ]
    problems: list[FieldError] = []
    for name, job in jobs.items():
        if job.service not in services:
            known = ", ".join(services) or "none"
            problems.append(
                FieldError(
                    f"must name a service of this environment ([services.<name>]): {known}",
                    path=("jobs", name, "service"),
                    value=job.service,
                )
            )
        if name in services:
            problems.append(
                FieldError(
                    "is also a service's name: a job's task family, log group and roles are named like a service's "
                    "(<project>-<environment>-<name>), so the two would collide; rename the job",
                    path=("jobs", name),
                    value=name,
                )
            )
    return problems
