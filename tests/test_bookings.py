"""Window appointments on real PostgreSQL: the center's rules, never a place too many."""

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.appointments.bookings import BookingError, SlotTaken, part_of_day, slot_label
from bot.appointments.rules import Session, load_booking_rules
from bot.appointments.service import BookingRequest, BookingService
from bot.appointments.when import When
from bot.catalogue.loader import CatalogueError
from bot.chinatime import CHINA, local
from bot.config import ROOT
from bot.storage.tables import Booking, DomainEvent, ServiceSlot
from bot.workdays import load_work_calendar
from tests.conftest import Clock

CALENDAR = load_work_calendar(ROOT / "catalogue")
RULES = load_booking_rules(ROOT / "catalogue")
CIVIL = RULES.window("civil")
ONE_PLACE = [Session("regular", "workdays", time(9), time(10), 60, 1)]




@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 20, 8, 0, tzinfo=CHINA))  # a Friday morning


@pytest.fixture
def bookings(sessions, clock):
    return BookingService(sessions, CALENDAR, RULES, clock)


def request(slot, user, matter="dibao", key=None, **extra):
    return BookingRequest(slot.id, user, matter, key or f"{user}-{slot.id}", "王秀英",
                          "13800001234", **extra)


async def slots_on(sessions, day, window="civil"):
    async with sessions() as session:
        rows = await session.scalars(select(ServiceSlot).where(ServiceSlot.window == window)
                                     .order_by(ServiceSlot.starts_at))
        return [s for s in rows if local(s.starts_at).date() == day]


async def test_the_calendar_follows_working_days_extended_hours_markets_and_holidays(
        bookings, sessions):
    await bookings.ensure_slots("civil", CIVIL.sessions, date(2026, 9, 28), 14)
    monday = await slots_on(sessions, date(2026, 9, 28))
    assert [local(s.starts_at).strftime("%H:%M") for s in monday][:3] == ["09:00", "09:30",
                                                                          "10:00"]
    assert [s.kind for s in monday][-4:] == ["extended"] * 4  # 17:00-19:00
    assert await slots_on(sessions, date(2026, 10, 1)) == []  # National Day
    assert await slots_on(sessions, date(2026, 10, 3)) == []  # a Saturday inside the holiday
    saturday = await slots_on(sessions, date(2026, 10, 10))  # 调休: a working Saturday
    assert saturday and {s.kind for s in saturday} == {"regular", "extended"}
    assert await bookings.ensure_slots("civil", CIVIL.sessions, date(2026, 9, 28), 14) == 0

    await bookings.ensure_slots("civil", CIVIL.sessions, date(2026, 11, 21), 40)
    market_saturday = {s.kind for s in await slots_on(sessions, date(2026, 11, 21))}
    assert market_saturday == {"market", "extended"}  # 农历初三: market day and Saturday
    assert {s.kind for s in await slots_on(sessions, date(2026, 11, 22))} == set()  # Sunday
    assert await slots_on(sessions, date(2026, 12, 31)) == []  # closure: 年终盘点


async def test_the_whole_calendar_with_home_visit_half_days(bookings, sessions):
    assert await bookings.ensure_calendar() > 0
    assert await bookings.ensure_calendar() == 0
    wang = await slots_on(sessions, date(2026, 11, 23), "home:wang")
    assert [(local(s.starts_at).hour, s.capacity) for s in wang] == [(9, 2), (14, 2)]


async def test_offers_say_why_a_day_has_nothing(bookings, sessions, clock):
    await bookings.ensure_calendar()
    saturday = await bookings.offer(CIVIL, When(date(2026, 11, 28), date(2026, 11, 28)))
    assert saturday.note == "" and slot_label(saturday.slots[0]) == \
        "11月28日（周六）上午9:00（延时服务）"
    sunday = await bookings.offer(CIVIL, When(date(2026, 11, 22), date(2026, 11, 22)))
    assert sunday.note == "11月22日（周日）民政窗口不办公"
    late = await bookings.offer(CIVIL, When(date(2026, 11, 23), date(2026, 11, 23), "evening",
                                            20))
    assert late.note.startswith("20点不在办公时间")
    assert all(local(s.starts_at).hour in (17, 18) for s in late.slots)
    market = await bookings.offer(CIVIL, When(date(2026, 11, 20), date(2026, 12, 20),
                                              market=True))
    assert {local(s.starts_at).date() for s in market.slots} <= {date(2026, 11, 21),
                                                                 date(2026, 11, 24),
                                                                 date(2026, 11, 27)}
    spread = await bookings.offer(CIVIL, When(date(2026, 11, 23), date(2026, 12, 1)))
    halves = [(local(s.starts_at).date(), part_of_day(s.starts_at)) for s in spread.slots]
    assert len(spread.slots) == 5 and max(halves.count(h) for h in halves) == 2
    clock.now = datetime(2026, 12, 21, 8, 0, tzinfo=CHINA)
    await bookings.ensure_calendar()
    closed = await bookings.offer(CIVIL, When(date(2026, 12, 31), date(2026, 12, 31)))
    assert closed.note == "12月31日（周四）中心不开门（年终盘点）"
    # 2027's schedule is not published; New Year's Day itself is still known to be closed
    assert local(closed.slots[0].starts_at).date() == date(2027, 1, 2)


async def test_a_saturday_extended_hours_slot_is_booked_once(bookings, sessions):
    await bookings.ensure_calendar()
    [first, *_] = await bookings.open_slots("civil", date(2026, 11, 28), date(2026, 11, 28))
    assert first.kind == "extended" and local(first.starts_at).hour == 9
    booking = await bookings.book(request(first, "o_son", "disability_certificate", "turn-7"))
    retried = await bookings.book(request(first, "o_son", "disability_certificate", "turn-7"))
    assert retried.booking_no == booking.booking_no  # a retried 「1」 books nothing more
    async with sessions() as session:
        assert (await session.get(ServiceSlot, first.id)).booked == 1
        [event] = await session.scalars(select(DomainEvent))
        assert event.kind == "booking.created" and event.payload["phone"] == "13800001234"


async def test_two_hundred_villagers_for_the_last_fifty_places(bookings, sessions):
    await bookings.ensure_slots("rush", [Session("regular", "workdays", time(9), time(12),
                                                 60, 1)], date(2026, 11, 23), 30)
    slots = await bookings.open_slots("rush", date(2026, 11, 23), date(2026, 12, 31), limit=50)
    assert len(slots) == 50

    async def try_to_book(n):
        try:
            return await bookings.book(request(slots[n % 50], f"o_{n}", "id_card"))
        except SlotTaken as full:
            assert str(full) == "这个时段刚约满了，换一个？"
            return None

    results = await asyncio.gather(*(try_to_book(n) for n in range(200)))
    assert sum(result is not None for result in results) == 50
    async with sessions() as session:
        assert await session.scalar(select(func.max(ServiceSlot.booked))) == 1
        assert await session.scalar(select(func.count()).select_from(Booking)) == 50


async def test_one_booking_per_matter_and_a_cap_on_open_ones(bookings, sessions):
    await bookings.ensure_calendar()
    free = await bookings.open_slots("civil", date(2026, 11, 23), date(2026, 11, 24))
    first = await bookings.book(request(free[0], "o_a", "dibao"))
    with pytest.raises(BookingError, match=f"您已经约了.*{first.booking_no}"):
        await bookings.book(request(free[1], "o_a", "dibao"))
    await bookings.book(request(free[2], "o_a", "wubao"))
    with pytest.raises(BookingError, match="已经有2个预约还没办"):
        await bookings.book(request(free[3], "o_a", "senior_allowance"))


async def test_moving_a_booking_frees_the_old_place(bookings, sessions):
    await bookings.ensure_calendar()
    free = await bookings.open_slots("civil", date(2026, 11, 23), date(2026, 11, 24))
    old = await bookings.book(request(free[0], "o_a"))
    new = await bookings.book(request(free[5], "o_a", replaces=old.booking_no))
    assert new.slot_id == free[5].id
    async with sessions() as session:
        moved = await session.scalar(select(Booking).where(Booking.booking_no == old.booking_no))
        assert (moved.status, moved.moved_to) == ("moved", new.booking_no)
        assert (await session.get(ServiceSlot, free[0].id)).booked == 0
        kinds = list(await session.scalars(select(DomainEvent.kind).order_by(DomainEvent.id)))
        assert kinds == ["booking.created", "booking.changed"]
    assert [b.booking_no for b in await bookings.bookings_of("o_a")] == [new.booking_no]


async def test_cancelling_frees_the_place_and_only_the_owner_can(bookings, sessions):
    await bookings.ensure_slots("one", ONE_PLACE, date(2026, 11, 23), 1)
    [slot] = await bookings.open_slots("one", date(2026, 11, 23), date(2026, 11, 23))
    booking = await bookings.book(request(slot, "o_a"))
    with pytest.raises(BookingError, match="约满"):
        await bookings.book(request(slot, "o_b"))
    with pytest.raises(BookingError, match="没有找到"):
        await bookings.cancel(booking.booking_no, "o_b")
    assert (await bookings.cancel(booking.booking_no, "o_a")).status == "cancelled"
    with pytest.raises(BookingError, match="已经取消"):
        await bookings.cancel(booking.booking_no, "o_a")
    assert (await bookings.book(request(slot, "o_b", key="b-2"))).status == "booked"


async def test_a_booking_made_on_wechat_is_cancelled_by_sms_from_its_phone(bookings, sessions):
    """Found by review: the reminder SMS says 「来不了请回复“取消预约”」; the reply, from the
    phone the booking names, listed it but was told 「没有找到您的这个预约」."""
    await bookings.ensure_slots("one", ONE_PLACE, date(2026, 11, 23), 1)
    [slot] = await bookings.open_slots("one", date(2026, 11, 23), date(2026, 11, 23))
    booking = await bookings.book(request(slot, "o_son"))  # naming 13800001234
    with pytest.raises(BookingError, match="没有找到"):
        await bookings.cancel(booking.booking_no, "13900000000")  # another phone
    assert (await bookings.cancel(booking.booking_no, "13800001234")).status == "cancelled"


async def test_no_shows_and_late_cancels_pause_phone_booking(bookings, sessions, clock):
    await bookings.ensure_calendar()
    free = await bookings.open_slots("civil", date(2026, 11, 23), date(2026, 11, 23))
    missed = await bookings.book(request(free[0], "o_late", "dibao"))
    with pytest.raises(BookingError, match="时间还没到"):
        await bookings.mark(missed.booking_no, "no_show", "李四")
    clock.now = local(free[0].starts_at) + timedelta(hours=1)
    assert (await bookings.mark(missed.booking_no, "no_show", "李四")).status == "no_show"
    soon = await bookings.book(request(free[4], "o_late", "wubao"))  # starts within 2 hours
    assert (await bookings.cancel(soon.booking_no, "o_late")).status == "late_cancelled"
    later = await bookings.open_slots("civil", date(2026, 11, 25), date(2026, 11, 25))
    with pytest.raises(BookingError, match="最近有2次预约没来或临时取消，12月23日前"):
        await bookings.book(request(later[0], "o_late", "dibao"))
    clock.now += timedelta(days=31)
    await bookings.ensure_calendar()
    much_later = await bookings.open_slots("civil", date(2026, 12, 24), date(2026, 12, 24))
    assert (await bookings.book(request(much_later[0], "o_late"))).status == "booked"


async def test_clerks_mark_arrivals_and_see_the_day(bookings, sessions, clock):
    await bookings.ensure_calendar()
    [slot, *_] = await bookings.open_slots("civil", date(2026, 11, 23), date(2026, 11, 23))
    booking = await bookings.book(request(slot, "o_a"))
    assert (await bookings.mark(booking.booking_no, "arrived", "李四")).status == "arrived"
    with pytest.raises(BookingError, match="不能再记为「已到场」"):
        await bookings.mark(booking.booking_no, "arrived", "李四")
    assert (await bookings.mark(booking.booking_no, "done", "李四")).status == "done"
    [seen] = await bookings.day_view(date(2026, 11, 23), "civil")
    assert seen.booking_no == booking.booking_no and seen.slot.window == "civil"
    assert await bookings.day_view(date(2026, 11, 23), "social") == []


async def test_a_slot_in_the_past_cannot_be_booked(bookings, sessions):
    await bookings.ensure_slots("early", [Session("regular", "workdays", time(7), time(8), 60,
                                                  5)], date(2026, 11, 20), 1)
    async with sessions() as session:
        slot = await session.scalar(select(ServiceSlot))
    assert await bookings.open_slots("early", date(2026, 11, 20), date(2026, 11, 20)) == []
    with pytest.raises(BookingError):
        await bookings.book(request(slot, "o_late"))


async def test_bookings_also_work_on_sqlite_for_make_run(tmp_path):
    from bot.storage.db import open_database

    now = datetime(2026, 11, 20, 8, 0, tzinfo=CHINA)
    async with open_database(f"sqlite+aiosqlite:///{tmp_path}/bot.db") as sessions:
        service = BookingService(sessions, CALENDAR, RULES, lambda: now.astimezone(UTC))
        assert await service.ensure_slots("civil", CIVIL.sessions, date(2026, 11, 23), 1) == 18
        [slot, *_] = await service.open_slots("civil", date(2026, 11, 23), date(2026, 11, 23))
        assert slot_label(slot) == "11月23日（周一）上午9:00"
        booking = await service.book(request(slot, "o_a"))
        assert booking.status == "booked" and booking.slot.id == slot.id
        assert (await service.cancel(booking.booking_no, "o_a")).status == "cancelled"


def test_bad_rules_name_the_file_and_the_field(tmp_path):
    text = (ROOT / "catalogue" / "booking.yml").read_text(encoding="utf-8")
    (tmp_path / "booking.yml").write_text(
        text.replace('from: "13:00", to: "17:00"', 'from: "17:00", to: "13:00"')
        .replace("calendar: lunar", "calendar: moon"), encoding="utf-8")
    with pytest.raises(CatalogueError) as error:
        load_booking_rules(tmp_path, frozenset({"dibao"}))
    shown = str(error.value)
    assert "windows[0].sessions[1].to" in shown and "market_days.calendar" in shown
    assert "没有这个事项: wubao" in shown


def test_agents_cover_villages_and_the_area_has_a_radius():
    visits = RULES.home_visit
    assert visits.agent_for("石桥村3组").name == "王芳"
    assert visits.agent_for("月亮村") is None
    assert visits.distance_km(visits.latitude, visits.longitude) == 0
    assert 180 < visits.distance_km(30.0, 106.0) < 200  # Chengdu to Chongqing's edge
