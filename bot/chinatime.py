"""Shared by every stage: the one clock. Every date or time a person sees or a rule uses
(receipt numbers, deadlines, office hours, "today", the console's times, monthly figures) is
China time, whatever the server's own time zone (TZ) is.

Instants are kept in UTC (the database stores UTC); `local()` and `day_of()` turn them into
China time to be shown or counted. Services that take a `clock` (a `Clock`, tests set it)
take their "today" from it with `day_of(clock())`, never from `date.today()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONE_NAME = "Asia/Shanghai"  # also PostgreSQL's name for it
OFFSET = timedelta(hours=8)  # China has kept UTC+8, without summer time, since 1991

Clock = Callable[[], datetime]
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # dates a person may type
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _zone() -> tzinfo:
    try:
        return ZoneInfo(ZONE_NAME)
    except ZoneInfoNotFoundError:  # a machine without a tz database: the same clock
        return timezone(OFFSET, "CST")


CHINA = _zone()


def now() -> datetime:
    """The current instant (UTC, as stored); `local()` or `day_of()` it for people."""
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    """China time of an instant; a naive one is UTC (as SQLite used to hand back)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(CHINA)


def day_of(moment: datetime) -> date:
    """The China date of an instant: the day a receipt, deadline or figure counts."""
    return local(moment).date()


def today() -> date:
    return day_of(now())


def day_start(day: date) -> datetime:
    """Midnight in China at the start of `day`: periods in queries start and end here."""
    return datetime.combine(day, time(0), CHINA)


def typed_day(raw: str) -> date:
    """A date typed into a query or a form (YYYY-MM-DD); ValueError unless it is one in
    EARLIEST..LATEST: day arithmetic near year 1 or 9999 would overflow."""
    if not ISO_DAY.fullmatch(raw.strip()):  # fromisoformat also takes 20261130, 2026-W48-1
        raise ValueError(raw)
    day = date.fromisoformat(raw.strip())
    if not EARLIEST <= day <= LATEST:
        raise ValueError(raw)
    return day


def shown(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """An instant as a person reads it, in China time (the console's `china` filter)."""
    return local(moment).strftime(pattern) if moment is not None else ""


def shown_if_time(value: object) -> object:
    return shown(value) if isinstance(value, datetime) else value
