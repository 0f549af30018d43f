"""Daily and weekly maintenance windows (UTC), as RDS and ElastiCache write them, and whether a
weekly window overlaps a daily one (a backup or snapshot window)."""

from __future__ import annotations

import re

from pydantic import AfterValidator

from .errors import FieldError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_MINUTES = 24 * 60
_WEEK_MINUTES = 7 * _DAY_MINUTES
_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_WEEKLY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$")  # fmt: skip

Window = tuple[int, int]
"""(start, length) in minutes: of the day for a daily window, of the week for a weekly one."""


def daily_window(value: str, *, min_minutes: int) -> Window:
    """Check ``hh24:mi-hh24:mi`` (UTC), at least ``min_minutes`` long."""
    match = _DAILY.match(value)
    if not match:
        raise FieldError("must be hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00", value=value)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    return start, _long_enough(value, (end - start) % _DAY_MINUTES, min_minutes)


def weekly_window(value: str, *, min_minutes: int) -> Window:
    """Check ``ddd:hh24:mi-ddd:hh24:mi`` (UTC), at least ``min_minutes`` long."""
    match = _WEEKLY.match(value.lower())
    if not match:
        raise FieldError("must be ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:05:00-sun:06:00", value=value)
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = _DAYS.index(d1) * _DAY_MINUTES + int(h1) * 60 + int(m1)
    end = _DAYS.index(d2) * _DAY_MINUTES + int(h2) * 60 + int(m2)
    return start, _long_enough(value, (end - start) % _WEEK_MINUTES, min_minutes)


def overlaps_daily(weekly: Window, daily: Window) -> bool:
    """Whether a weekly window overlaps a window that repeats every day."""
    w_start, w_length = weekly
    d_start, d_length = daily
    for day in range(8):  # day 7 catches a daily window that wraps into the next week
        s = day * _DAY_MINUTES + d_start
        for shift in (0, _WEEK_MINUTES):
            if s < w_start + shift + w_length and w_start + shift < s + d_length:
                return True
    return False


def check_apart(maintenance_window: str, *, daily_field: str, daily_value: str, min_minutes: int, owner: str) -> None:
    """Refuse a maintenance window that overlaps the daily ``daily_field`` window; ``owner`` (RDS,
    ElastiCache) is who refuses it at apply time otherwise."""
    maintenance = weekly_window(maintenance_window, min_minutes=min_minutes)
    if overlaps_daily(maintenance, daily_window(daily_value, min_minutes=min_minutes)):
        raise FieldError(
            f"overlaps {daily_field} {daily_value}; {owner} needs them apart",
            path=("maintenance_window",),
            value=maintenance_window,
        )


def _long_enough(value: str, length: int, min_minutes: int) -> int:
    if length < min_minutes:
        raise FieldError(f"must be at least {min_minutes} minutes long, got {length}", value=value)
    return length


def daily(min_minutes: int) -> AfterValidator:
    """A setting's check: a daily window of at least ``min_minutes`` (``Annotated[str, daily(30)]``)."""

    def check(value: str) -> str:
        daily_window(value, min_minutes=min_minutes)
        return value

    return AfterValidator(check)


def weekly(min_minutes: int) -> AfterValidator:
    """A setting's check: a weekly window of at least ``min_minutes`` (``Annotated[str, weekly(30)]``)."""

    def check(value: str) -> str:
        weekly_window(value, min_minutes=min_minutes)
        return value

    return AfterValidator(check)
