"""Domain services stage: window appointments — slots from the center's rules, bookings that
never overbook.

Capacity is the database's to enforce: a booking takes a place with one conditional
`UPDATE … SET booked = booked + 1 WHERE booked < capacity` (and a CHECK constraint backs it),
in the same transaction as the booking row and its outbox event. Two villagers taking the
last place at once get one booking and one 「这个时段刚约满了」. A retried confirmation
(the same idempotency key) returns the booking it already made. Times are stored in UTC
and shown in China time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.appointments.bookings import (
    ACTIVE,
    CLERK_MOVES,
    COUNTED_MISSES,
    STATUS_LABELS,
    BookingError,
    BookingStatus,
    NotFound,
    SlotTaken,
    new_number,
    part_of_day,
    slot_label,
)
from bot.appointments.rules import BookingRules, Session, Window
from bot.appointments.search import BookingQuery, booking_search
from bot.appointments.when import PART_WORDS, When, day_label
from bot.chinatime import CHINA, local
from bot.storage.db import insert_new, write_events_once
from bot.storage.finding import Page, fetch_page
from bot.storage.tables import Booking, DomainEvent, ServiceSlot
from bot.workdays import WorkCalendar

OFFERED = 5  # numbered choices in one message
PER_HALF_DAY = 2  # when offering several days, at most this many from one half-day
@dataclass(frozen=True, slots=True)
class Offer:
    slots: tuple[ServiceSlot, ...]
    note: str = ""  # what is wrong with what was asked (closed, full, outside hours)
    nearest: bool = False  # the slots are the nearest others, not on the day asked


@dataclass(frozen=True, slots=True)
class BookingRequest:
    slot_id: int
    user_id: str
    matter_id: str
    key: str  # idempotency: one confirmation, one booking
    name: str = ""
    phone: str = ""
    replaces: str | None = None  # the booking number this one moves
    channel: str = "wechat"  # where the villager booked: where notices go first
    person_name: str | None = None  # whom the matter is for, where not the one who books
    relation: str | None = None
    by_clerk: bool = False  # booked by a clerk for someone at the window or on the phone


def owned_by(user_id: str) -> ColumnElement[bool]:
    """A villager's bookings: made by this account or, for an SMS villager (whose account is
    the phone number), naming that phone — one booked on WeChat is cancelled by SMS too."""
    return or_(Booking.user_id == user_id, Booking.phone == user_id)


class BookingService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], calendar: WorkCalendar,
                 rules: BookingRules,
                 clock: chinatime.Clock = chinatime.now) -> None:
        self._sessions = sessions
        self._calendar = calendar
        self.rules = rules
        self._clock = clock

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self._sessions

    def now(self) -> datetime:
        return self._clock()

    def today(self) -> date:
        return local(self._clock()).date()

    # --- the calendar -------------------------------------------------------------------

    def closed_because(self, day: date) -> str | None:
        """Why the center is shut all day, or None."""
        if day in self.rules.closures:
            return f"{day_label(day)}中心不开门（{self.rules.closures[day]}）"
        if self._calendar.is_public_holiday(day) and not self._calendar.is_workday(day)[0]:
            return f"{day_label(day)}是法定节假日，中心休息"
        return None

    def opens(self, session: Session, day: date) -> bool:
        if self.closed_because(day):
            return False
        working, _ = self._calendar.is_workday(day)
        if session.days == "workdays":
            return working
        if session.days == "market":
            return self.rules.is_market_day(day)
        return day.weekday() in session.weekdays and not working

    async def ensure_slots(self, window: str, sessions: Sequence[Session], first: date,
                           days: int) -> int:
        """Create the window's slots for `days` days from `first` (existing ones are kept)."""
        rows = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            for rule in sessions:
                if not self.opens(rule, day):
                    continue
                start = datetime.combine(day, rule.start, CHINA)
                end_of_rule = datetime.combine(day, rule.end, CHINA)
                step = timedelta(minutes=rule.minutes)
                while start + step <= end_of_rule:
                    rows.append({"window": window, "kind": rule.kind,
                                 "starts_at": start.astimezone(UTC),
                                 "ends_at": (start + step).astimezone(UTC),
                                 "capacity": rule.capacity, "booked": 0})
                    start += step
        if not rows:
            return 0
        async with self._sessions.begin() as session:
            return await insert_new(session, ServiceSlot, rows, ["window", "starts_at"])

    async def ensure_calendar(self) -> int:
        """Every window's slots to the booking horizon, and every home-visit agent's
        half-days; run at start and daily."""
        today, visits = self.today(), self.rules.home_visit
        created = 0
        for window in self.rules.windows:
            created += await self.ensure_slots(window.id, window.sessions, today,
                                               self.rules.horizon_days + 1)
        for agent in visits.agents:
            halves = [Session("home", "workdays", start, end,
                              (end.hour - start.hour) * 60 + end.minute - start.minute,
                              agent.per_half_day) for start, end in (visits.morning,
                                                                     visits.afternoon)]
            created += await self.ensure_slots(agent.window, halves, today,
                                               visits.days_ahead + 1)
        return created

    # --- finding a time -----------------------------------------------------------------

    async def open_slots(self, window: str, first: date, last: date,
                         limit: int = 20) -> list[ServiceSlot]:
        """Future slots with a free place, earliest first."""
        start = datetime.combine(first, time(0), CHINA).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), CHINA).astimezone(UTC)
        async with self._sessions() as session:
            return list(await session.scalars(
                select(ServiceSlot).where(ServiceSlot.window == window,
                                          ServiceSlot.starts_at >= start,
                                          ServiceSlot.starts_at > self._clock(),
                                          ServiceSlot.starts_at < end,
                                          ServiceSlot.booked < ServiceSlot.capacity)
                .order_by(ServiceSlot.starts_at).limit(limit)))

    def _fits(self, slot: ServiceSlot, when: When, with_hour: bool) -> bool:
        start = local(slot.starts_at)
        if when.market and not self.rules.is_market_day(start.date()):
            return False
        if when.part and part_of_day(start) != when.part:
            return False
        if with_hour and when.hour is not None:
            return start.hour == when.hour or local(slot.ends_at).hour > when.hour >= start.hour
        return True

    def _why_nothing(self, window: Window, when: When) -> str:
        day = when.first
        if when.one_day:
            closed = self.closed_because(day)
            if closed:
                return closed
            if not any(self.opens(s, day) for s in window.sessions):
                return f"{day_label(day)}{window.name}不办公"
            where = day_label(day)
        else:
            where = "赶集日" if when.market else "这几天"
        if when.hour is not None:
            return f"{where}{when.hour}点没有可约的时段"
        if when.part:
            return f"{where}{PART_WORDS[when.part]}没有可约的时段"
        return f"{where}的时段都约满了"

    async def offer(self, window: Window, when: When) -> Offer:
        """Free slots for what the villager asked; if none, why, and the nearest others."""
        found = await self.open_slots(window.id, when.first, when.last, limit=400)
        fitting = [s for s in found if self._fits(s, when, with_hour=True)]
        if not fitting and when.hour is not None:  # 「晚上8点」: the hours around it
            fitting = [s for s in found if self._fits(s, when, with_hour=False)]
            if fitting:
                return Offer(_spread(fitting, when.one_day), f"{when.hour}点不在办公时间")
        if fitting:
            return Offer(_spread(fitting, when.one_day))
        horizon = self.today() + timedelta(days=self.rules.horizon_days)
        nearest = await self.open_slots(window.id, when.first, horizon, limit=40) or \
            await self.open_slots(window.id, self.today(), horizon, limit=40)
        return Offer(_spread(nearest, False), self._why_nothing(window, when), nearest=True)

    # --- booking ------------------------------------------------------------------------

    async def book(self, request: BookingRequest) -> Booking:
        if existing := await self._by_key(request.key):
            return existing
        now = self._clock()
        try:
            async with self._sessions.begin() as session:
                await self._check_allowed(session, request, now)
                taken = await session.scalar(
                    update(ServiceSlot)
                    .where(ServiceSlot.id == request.slot_id,
                           ServiceSlot.booked < ServiceSlot.capacity,
                           ServiceSlot.starts_at > now)
                    .values(booked=ServiceSlot.booked + 1).returning(ServiceSlot))
                if taken is None:
                    raise SlotTaken()
                booking = Booking(booking_no=new_number("YY", now), idempotency_key=request.key,
                                  slot_id=request.slot_id, user_id=request.user_id,
                                  matter_id=request.matter_id, name=request.name,
                                  phone=request.phone, channel=request.channel, status=ACTIVE,
                                  person_name=request.person_name, relation=request.relation,
                                  created_at=now)
                session.add(booking)
                await session.flush()
                kind = "booking.created"
                if request.replaces:
                    await self._release(session, request.replaces, request.user_id,
                                        BookingStatus.MOVED, now, moved_to=booking.booking_no)
                    kind = "booking.changed"
                session.add(self._event(kind, booking, taken, now, replaces=request.replaces))
        except IntegrityError:
            if existing := await self._by_key(request.key):
                return existing  # the same confirmation raced itself
            raise
        booked = await self._by_key(request.key)
        assert booked is not None
        return booked

    async def _check_allowed(self, session: AsyncSession, request: BookingRequest,
                             now: datetime) -> None:
        """The no-show pause, one booking per matter, and the cap on open bookings."""
        rule = self.rules.no_show
        misses = list(await session.scalars(
            select(Booking.updated_at).where(
                Booking.user_id == request.user_id, Booking.status.in_(COUNTED_MISSES),
                Booking.updated_at >= now - timedelta(days=rule.within_days))
            .order_by(Booking.updated_at.desc())))
        # the pause stops booking from the phone; a clerk may still book for them
        if len(misses) >= rule.limit and misses[0] is not None and not request.by_clerk:
            until = local(misses[0]).date() + timedelta(days=rule.pause_days)
            if self.today() < until:
                raise BookingError(
                    f"您最近有{len(misses)}次预约没来或临时取消，{until.month}月{until.day}日"
                    f"前不能在手机上预约。可以直接到窗口办理，或打电话预约。")
        active = [b for b in await session.scalars(
            select(Booking).join(ServiceSlot).where(
                Booking.user_id == request.user_id, Booking.status == ACTIVE,
                ServiceSlot.starts_at > now)) if b.booking_no != request.replaces]
        # said to the villager on the phone, or to the clerk booking for them
        you, how = ("这位村民", "") if request.by_clerk else ("您", "要改时间请发“改预约”。")
        same = next((b for b in active if b.matter_id == request.matter_id), None)
        if same is not None:
            raise BookingError(f"{you}已经约了{slot_label(same.slot)}，预约号{same.booking_no}。"
                               f"{how}")
        if len(active) >= self.rules.max_active:
            raise BookingError(f"{you}已经有{len(active)}个预约还没办，办完或取消后再约新的。"
                               + ("" if request.by_clerk else "发“我的预约”可以查看。"))

    async def _release(self, session: AsyncSession, booking_no: str, user_id: str | None,
                       status: str, now: datetime, moved_to: str | None = None) -> Booking:
        query = select(Booking).where(Booking.booking_no == booking_no)
        if user_id is not None:
            query = query.where(owned_by(user_id))
        booking = await session.scalar(query.with_for_update(of=Booking))
        if booking is None:
            raise NotFound("没有找到您的这个预约")
        if booking.status != ACTIVE:
            raise BookingError("这个预约已经取消或办过了")
        booking.status, booking.moved_to = status, moved_to
        booking.cancelled_at = booking.updated_at = now
        await session.execute(update(ServiceSlot).where(ServiceSlot.id == booking.slot_id)
                              .values(booked=ServiceSlot.booked - 1))
        return booking

    async def cancel(self, booking_no: str, user_id: str) -> Booking:
        """Cancel and free the place; close to the start it counts as a late cancellation."""
        now = self._clock()
        async with self._sessions.begin() as session:
            booking = await session.scalar(select(Booking).where(
                Booking.booking_no == booking_no, owned_by(user_id)))
            late = booking is not None and local(booking.slot.starts_at) - local(now) < \
                timedelta(hours=self.rules.late_cancel_hours)
            status = BookingStatus.LATE_CANCELLED if late else BookingStatus.CANCELLED
            released = await self._release(session, booking_no, user_id, status, now)
            session.add(self._event("booking.cancelled", released, released.slot, now,
                                    late=late))
            return released

    async def mark(self, booking_no: str, to: str, clerk: str) -> Booking:
        """A clerk records that the villager came (arrived), did not (no_show), or was
        served (done)."""
        now = self._clock()
        async with self._sessions.begin() as session:
            booking = await session.scalar(select(Booking).where(
                Booking.booking_no == booking_no).with_for_update(of=Booking))
            if booking is None:
                raise NotFound("没有这个预约号")
            if to not in CLERK_MOVES.get(BookingStatus(booking.status), set()):
                raise BookingError(f"这个预约已是「{STATUS_LABELS[booking.status]}」，"
                                   f"不能再记为「{STATUS_LABELS.get(to, to)}」")
            if to == BookingStatus.NO_SHOW and local(booking.slot.starts_at) > local(now):
                raise BookingError("预约时间还没到，不能记爽约")
            booking.status, booking.updated_at = to, now
            session.add(self._event(f"booking.{to}", booking, booking.slot, now, clerk=clerk))
            return booking

    async def search(self, query: BookingQuery, page: int = 1) -> Page[Booking]:
        """For clerks: one page of the matching bookings (bot/appointments/search.py)."""
        async with self._sessions() as session:
            return await fetch_page(session, booking_search(query), page)

    async def slot(self, slot_id: int) -> ServiceSlot | None:
        async with self._sessions() as session:
            return await session.get(ServiceSlot, slot_id)

    async def get(self, booking_no: str) -> Booking | None:
        async with self._sessions() as session:
            found: Booking | None = await session.scalar(
                select(Booking).where(Booking.booking_no == booking_no))
            return found

    async def bookings_of(self, user_id: str) -> list[Booking]:
        """The villager's bookings still to come, earliest first (`owned_by`)."""
        async with self._sessions() as session:
            return list(await session.scalars(
                select(Booking).join(ServiceSlot).where(
                    owned_by(user_id),
                    Booking.status == ACTIVE,
                    ServiceSlot.starts_at > self._clock())
                .order_by(ServiceSlot.starts_at)))

    async def day_view(self, day: date, window: str | None = None) -> list[Booking]:
        """A day's bookings (not cancelled or moved), by window and time."""
        start = datetime.combine(day, time(0), CHINA).astimezone(UTC)
        query = select(Booking).join(ServiceSlot).where(
            ServiceSlot.starts_at >= start, ServiceSlot.starts_at < start + timedelta(days=1),
            Booking.status.in_((BookingStatus.BOOKED, BookingStatus.ARRIVED, BookingStatus.DONE,
                                BookingStatus.NO_SHOW)))
        if window:
            query = query.where(ServiceSlot.window == window)
        async with self._sessions() as session:
            return list(await session.scalars(
                query.order_by(ServiceSlot.window, ServiceSlot.starts_at, Booking.id)))

    async def remind(self) -> int:
        """Write a reminder event for each of tomorrow's bookings, once (dedup_key): several
        workers may run this. Bookings made within the last 12 hours are not reminded."""
        now = self._clock()
        tomorrow = self.today() + timedelta(days=1)
        events = []
        for booking in await self.day_view(tomorrow):
            just_made = local(now) - local(booking.created_at) < timedelta(hours=12)
            if booking.status != ACTIVE or just_made:
                continue
            event = self._event("booking.reminder", booking, booking.slot, now)
            event.dedup_key = f"reminder:{booking.booking_no}"
            events.append(event)
        return await write_events_once(self._sessions, events)

    async def count_slots(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(ServiceSlot)) or 0)

    def _event(self, kind: str, booking: Booking, slot: ServiceSlot, now: datetime,
               **extra: object) -> DomainEvent:
        """The outbox record: what the notices need, said as the villager will read it."""
        window = self.rules.window(slot.window)
        return DomainEvent(kind=kind, case_id=None, created_at=now, payload={
            "booking_no": booking.booking_no, "slot_id": booking.slot_id,
            "starts_at": local(slot.starts_at).isoformat(), "when": slot_label(slot),
            "place": f"{window.place}（{window.name}）" if window else slot.window,
            "user_id": booking.user_id, "channel": booking.channel, "matter": booking.matter_id,
            "phone": booking.phone, **extra})

    async def _by_key(self, key: str) -> Booking | None:
        async with self._sessions() as session:
            found: Booking | None = await session.scalar(
                select(Booking).where(Booking.idempotency_key == key))
            return found


def _spread(slots: Sequence[ServiceSlot], one_day: bool) -> tuple[ServiceSlot, ...]:
    """The nearest slots, at most PER_HALF_DAY from one half-day unless one day was asked,
    so that a villager sees more than one morning to choose from."""
    chosen: list[ServiceSlot] = []
    per_half: dict[tuple[date, str], int] = {}
    for slot in slots:
        start = local(slot.starts_at)
        half = (start.date(), part_of_day(start))
        if not one_day and per_half.get(half, 0) >= PER_HALF_DAY:
            continue
        per_half[half] = per_half.get(half, 0) + 1
        chosen.append(slot)
        if len(chosen) == OFFERED:
            break
    return tuple(chosen)
