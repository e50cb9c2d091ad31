"""Domain services stage: window appointments — slots from the center's rules, bookings that
never overbook.

Capacity is the database's to enforce: a booking takes a place with one conditional
`UPDATE … SET booked = booked + 1 WHERE booked < capacity` (and a CHECK constraint backs it),
in the same transaction as the booking row and its outbox event. Two villagers taking the
last place at once get one booking and one 「这个时段刚约满了」. A retried confirmation
(the same idempotency key) returns the booking it already made.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.tables import Booking, DomainEvent, ServiceSlot
from bot.workdays import WorkCalendar

CHINA = timezone(timedelta(hours=8))
BOOKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SLOT_TAKEN = "这个时段刚约满了，换一个？"


class BookingError(Exception):
    """A booking request refused; the message is for the villager."""


@dataclass(frozen=True, slots=True)
class SlotRule:
    """Which slots a window opens: on working days (`weekdays` None) or on the listed
    weekdays when they are not working days (Saturday extended hours), never on holidays."""

    kind: str  # regular / extended / market
    start: time
    end: time
    minutes: int
    capacity: int
    weekdays: frozenset[int] | None = None  # 0 = Monday; None = every working day


class BookingService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], calendar: WorkCalendar,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._calendar = calendar
        self._clock = clock

    def _opens(self, rule: SlotRule, day: date) -> bool:
        working, _ = self._calendar.is_workday(day)
        if rule.weekdays is None:
            return working
        weekend_off = day.weekday() >= 5 and not working
        return (day.weekday() in rule.weekdays and weekend_off
                and not self._calendar.is_public_holiday(day))

    async def ensure_slots(self, window: str, rules: Sequence[SlotRule], first: date,
                           days: int) -> int:
        """Create the window's slots for `days` days from `first` (existing ones are kept)."""
        rows = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            for rule in rules:
                if not self._opens(rule, day):
                    continue
                start = datetime.combine(day, rule.start, CHINA)
                end_of_rule = datetime.combine(day, rule.end, CHINA)
                while start + timedelta(minutes=rule.minutes) <= end_of_rule:
                    rows.append({"window": window, "kind": rule.kind, "starts_at": start,
                                 "ends_at": start + timedelta(minutes=rule.minutes),
                                 "capacity": rule.capacity, "booked": 0})
                    start += timedelta(minutes=rule.minutes)
        if not rows:
            return 0
        async with self._sessions.begin() as session:
            # PostgreSQL in production, SQLite for `make run`: both speak ON CONFLICT.
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            result = await session.execute(
                insert(ServiceSlot).values(rows)
                .on_conflict_do_nothing(index_elements=["window", "starts_at"]))
            return int(getattr(result, "rowcount", 0) or 0)

    async def open_slots(self, window: str, first: date, last: date,
                         limit: int = 20) -> list[ServiceSlot]:
        """Future slots with a free place, earliest first."""
        start = max(datetime.combine(first, time(0), CHINA), self._clock())
        end = datetime.combine(last + timedelta(days=1), time(0), CHINA)
        async with self._sessions() as session:
            return list(await session.scalars(
                select(ServiceSlot).where(ServiceSlot.window == window,
                                          ServiceSlot.starts_at >= start,
                                          ServiceSlot.starts_at < end,
                                          ServiceSlot.booked < ServiceSlot.capacity)
                .order_by(ServiceSlot.starts_at).limit(limit)))

    async def book(self, slot_id: int, user_id: str, matter_id: str, key: str) -> Booking:
        if existing := await self._by_key(key):
            return existing
        now = self._clock()
        try:
            async with self._sessions.begin() as session:
                taken = await session.scalar(
                    update(ServiceSlot)
                    .where(ServiceSlot.id == slot_id, ServiceSlot.booked < ServiceSlot.capacity,
                           ServiceSlot.starts_at > now)
                    .values(booked=ServiceSlot.booked + 1).returning(ServiceSlot.id))
                if taken is None:
                    raise BookingError(SLOT_TAKEN)
                booking = Booking(booking_no=_booking_no(now), idempotency_key=key,
                                  slot_id=slot_id, user_id=user_id, matter_id=matter_id,
                                  status="booked", created_at=now)
                session.add(booking)
                await session.flush()
                session.add(_event("booking.created", booking, now))
            return booking
        except IntegrityError:
            if existing := await self._by_key(key):
                return existing  # the same confirmation raced itself
            raise

    async def cancel(self, booking_no: str, user_id: str) -> Booking:
        now = self._clock()
        async with self._sessions.begin() as session:
            booking = await session.scalar(
                select(Booking).where(Booking.booking_no == booking_no,
                                      Booking.user_id == user_id).with_for_update())
            if booking is None:
                raise BookingError("没有找到您的这个预约")
            if booking.status != "booked":
                raise BookingError("这个预约已经取消或办过了")
            booking.status, booking.cancelled_at = "cancelled", now
            await session.execute(update(ServiceSlot).where(ServiceSlot.id == booking.slot_id)
                                  .values(booked=ServiceSlot.booked - 1))
            session.add(_event("booking.cancelled", booking, now))
            return booking

    async def _by_key(self, key: str) -> Booking | None:
        async with self._sessions() as session:
            found: Booking | None = await session.scalar(
                select(Booking).where(Booking.idempotency_key == key))
            return found


def _booking_no(now: datetime) -> str:
    return f"YY{now:%y%m%d}" + "".join(secrets.choice(BOOKING_ALPHABET) for _ in range(5))


def _event(kind: str, booking: Booking, now: datetime) -> DomainEvent:
    return DomainEvent(kind=kind, case_id=None, created_at=now,
                       payload={"booking_no": booking.booking_no, "slot_id": booking.slot_id,
                                "user_id": booking.user_id, "matter": booking.matter_id})
