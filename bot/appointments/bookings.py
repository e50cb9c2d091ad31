"""Domain services stage: what a booking is — its statuses, how its slot is said, and the
ways a booking request is refused (bot/appointments/service.py books)."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from bot.appointments.rules import KIND_WORDS
from bot.appointments.when import day_label
from bot.chinatime import local
from bot.storage.tables import ServiceSlot

SLOT_TAKEN = "这个时段刚约满了，换一个？"
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out on the phone


class BookingStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"  # too close to the time: counted like a no-show
    MOVED = "moved"  # replaced by another booking (moved_to)

    @property
    def label(self) -> str:
        """As a clerk says it."""
        return STATUS_LABELS[self]


STATUS_LABELS: dict[str, str] = {BookingStatus.BOOKED: "已预约", BookingStatus.ARRIVED: "已到场",
                 BookingStatus.DONE: "已办完", BookingStatus.NO_SHOW: "未到",
                 BookingStatus.CANCELLED: "已取消", BookingStatus.LATE_CANCELLED: "临时取消",
                 BookingStatus.MOVED: "已改约"}


ACTIVE = BookingStatus.BOOKED
CLERK_MOVES = {BookingStatus.BOOKED: {BookingStatus.ARRIVED, BookingStatus.NO_SHOW,
                                      BookingStatus.DONE},
               BookingStatus.ARRIVED: {BookingStatus.DONE}}
COUNTED_MISSES = (BookingStatus.NO_SHOW, BookingStatus.LATE_CANCELLED)


class BookingError(Exception):
    """A booking request refused, with the reason; the message is for the villager (or the
    clerk). The web edge answers 409, or 404 for NotFound."""


class NotFound(BookingError):
    """No such booking, home visit or agent."""


class SlotTaken(BookingError):
    """The slot filled up between offering and confirming: offer others."""

    def __init__(self) -> None:
        super().__init__(SLOT_TAKEN)


def part_of_day(moment: datetime) -> str:
    hour = local(moment).hour
    return "am" if hour < 12 else "noon" if hour < 13 else "pm" if hour < 17 else "evening"


def slot_label(slot: ServiceSlot) -> str:
    """「11月28日（周六）上午9:00（延时服务）」."""
    start = local(slot.starts_at)
    kind = KIND_WORDS.get(slot.kind, "")
    # The way villagers say it: 上午9:00, 中午12:00, 下午1:30, 晚上6:00
    part = "上午" if start.hour < 12 else "中午" if start.hour < 13 else \
        "下午" if start.hour < 18 else "晚上"
    hour = start.hour - 12 if start.hour > 12 else start.hour
    return (f"{day_label(start.date())}{part}{hour}:{start.minute:02d}"
            + (f"（{kind}）" if kind else ""))


def new_number(prefix: str, now: datetime) -> str:
    """「YY261201K3M7Q」: a booking's (YY) or home visit's (SM) number — the China date, then
    five characters no one mistakes for others."""
    return f"{prefix}{local(now):%y%m%d}" + "".join(
        secrets.choice(NUMBER_ALPHABET) for _ in range(5))
