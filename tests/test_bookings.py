"""Window appointments on real PostgreSQL: slots from the rules, never a place too many."""

import asyncio
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from bot.appointments.service import CHINA, BookingError, BookingService, SlotRule
from bot.config import ROOT
from bot.storage.tables import Booking, DomainEvent, ServiceSlot
from bot.workdays import load_work_calendar

CALENDAR = load_work_calendar(ROOT / "catalogue")
RULES = [
    SlotRule("regular", time(9), time(12), 60, 4),
    SlotRule("regular", time(13), time(17), 60, 4),
    SlotRule("extended", time(17), time(19), 60, 2),
    SlotRule("extended", time(9), time(12), 60, 3, weekdays=frozenset({5})),  # Saturday
]


@pytest.fixture
def bookings(sessions):
    now = datetime(2026, 11, 20, 8, 0, tzinfo=CHINA)  # Friday morning
    return BookingService(sessions, CALENDAR, lambda: now.astimezone(UTC))


async def slots_on(sessions, day):
    async with sessions() as session:
        rows = await session.scalars(select(ServiceSlot).order_by(ServiceSlot.starts_at))
        return [s for s in rows if s.starts_at.astimezone(CHINA).date() == day]


async def test_slots_follow_working_days_extended_hours_and_holidays(bookings, sessions):
    await bookings.ensure_slots("民政窗口", RULES, date(2026, 9, 28), 14)
    monday = await slots_on(sessions, date(2026, 9, 28))
    assert [s.starts_at.astimezone(CHINA).hour for s in monday] == [9, 10, 11, 13, 14, 15, 16,
                                                                   17, 18]
    assert [s.kind for s in monday][-2:] == ["extended", "extended"]
    assert await slots_on(sessions, date(2026, 10, 1)) == []  # National Day
    assert await slots_on(sessions, date(2026, 10, 3)) == []  # a Saturday inside the holiday
    saturday = await slots_on(sessions, date(2026, 10, 10))  # 调休: a working Saturday
    assert saturday and {s.kind for s in saturday} == {"regular", "extended"}
    again = await bookings.ensure_slots("民政窗口", RULES, date(2026, 9, 28), 14)
    assert again == 0  # existing slots are kept, never doubled


async def test_a_saturday_extended_hours_slot_is_booked_once(bookings, sessions):
    await bookings.ensure_slots("残联窗口", RULES, date(2026, 11, 21), 7)
    [first, *_] = await bookings.open_slots("残联窗口", date(2026, 11, 21), date(2026, 11, 21))
    assert first.kind == "extended" and first.starts_at.astimezone(CHINA).hour == 9
    booking = await bookings.book(first.id, "o_son", "disability_certificate", "turn-7")
    retried = await bookings.book(first.id, "o_son", "disability_certificate", "turn-7")
    assert retried.booking_no == booking.booking_no  # a retried 「1」 books nothing more
    async with sessions() as session:
        assert (await session.get(ServiceSlot, first.id)).booked == 1
        assert await session.scalar(select(func.count()).select_from(DomainEvent)) == 1


async def test_two_hundred_villagers_for_the_last_fifty_places(bookings, sessions):
    await bookings.ensure_slots("户籍窗口", [SlotRule("regular", time(9), time(12), 60, 1)],
                                date(2026, 11, 23), 30)
    slots = await bookings.open_slots("户籍窗口", date(2026, 11, 23), date(2026, 12, 31),
                                      limit=50)
    assert len(slots) == 50

    async def try_to_book(n):
        try:
            return await bookings.book(slots[n % 50].id, f"o_{n}", "id_card", f"k-{n}")
        except BookingError as full:
            assert str(full) == "这个时段刚约满了，换一个？"
            return None

    results = await asyncio.gather(*(try_to_book(n) for n in range(200)))
    assert sum(result is not None for result in results) == 50
    async with sessions() as session:
        assert await session.scalar(select(func.max(ServiceSlot.booked))) == 1
        assert await session.scalar(select(func.count()).select_from(Booking)) == 50


async def test_cancelling_frees_the_place_and_only_the_owner_can(bookings, sessions):
    await bookings.ensure_slots("民政窗口", [SlotRule("regular", time(9), time(10), 60, 1)],
                                date(2026, 11, 23), 1)
    [slot] = await bookings.open_slots("民政窗口", date(2026, 11, 23), date(2026, 11, 23))
    booking = await bookings.book(slot.id, "o_a", "dibao", "a-1")
    with pytest.raises(BookingError, match="约满"):
        await bookings.book(slot.id, "o_b", "dibao", "b-1")
    with pytest.raises(BookingError, match="没有找到"):
        await bookings.cancel(booking.booking_no, "o_b")
    await bookings.cancel(booking.booking_no, "o_a")
    with pytest.raises(BookingError, match="已经取消"):
        await bookings.cancel(booking.booking_no, "o_a")
    assert (await bookings.book(slot.id, "o_b", "dibao", "b-2")).status == "booked"


async def test_a_slot_in_the_past_cannot_be_booked(bookings, sessions):
    await bookings.ensure_slots("民政窗口", [SlotRule("regular", time(7), time(8), 60, 5)],
                                date(2026, 11, 20), 1)  # 7:00 today, and it is 8:00 now
    async with sessions() as session:
        slot = await session.scalar(select(ServiceSlot))
    assert await bookings.open_slots("民政窗口", date(2026, 11, 20), date(2026, 11, 20)) == []
    with pytest.raises(BookingError):
        await bookings.book(slot.id, "o_late", "dibao", "late-1")


async def test_bookings_also_work_on_sqlite_for_make_run(tmp_path):
    from bot.storage.db import open_database

    now = datetime(2026, 11, 20, 8, 0, tzinfo=CHINA)
    async with open_database(f"sqlite+aiosqlite:///{tmp_path}/bot.db") as sessions:
        service = BookingService(sessions, CALENDAR, lambda: now)
        assert await service.ensure_slots("民政窗口", RULES, date(2026, 11, 23), 1) == 9
        assert await service.ensure_slots("民政窗口", RULES, date(2026, 11, 23), 1) == 0
        [slot, *_] = await service.open_slots("民政窗口", date(2026, 11, 23), date(2026, 11, 23))
        booking = await service.book(slot.id, "o_a", "dibao", "sqlite-1")
        assert booking.status == "booked"
