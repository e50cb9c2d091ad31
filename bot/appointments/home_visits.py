"""Domain services stage: home visits (上门服务) for the elderly, disabled and ill.

A villager asks, with the half-days that suit them; the request goes to the agent (clerk
or village agent) covering their village, who schedules it on one of those half-days or
proposes another. Each agent's half-days are slots like a window's, so an agent's
capacity is enforced by the same conditional UPDATE in PostgreSQL. Every change writes a
domain event for the notices: the villager is told who comes and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appointments.bookings import BookingError, NotFound, new_number, part_of_day
from bot.appointments.rules import Agent
from bot.appointments.service import BookingService
from bot.appointments.when import day_label
from bot.chinatime import CHINA, local, typed_day
from bot.storage.db import write_events_once
from bot.storage.tables import DomainEvent, HomeVisit, ServiceSlot

HALF_WORDS = {"am": "上午", "pm": "下午"}
class VisitStatus(StrEnum):
    REQUESTED = "requested"  # for the agent covering the village to schedule
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN = (VisitStatus.REQUESTED, VisitStatus.SCHEDULED)


@dataclass(frozen=True, slots=True, order=True)
class HalfDay:
    day: date
    half: str  # am / pm

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()} {self.half}"

    @property
    def label(self) -> str:
        return f"{day_label(self.day)}{HALF_WORDS[self.half]}"

    @classmethod
    def parse(cls, key: str) -> HalfDay:
        """「2026-11-24 am」 → HalfDay; ValueError when it is not one."""
        day, _, half = key.strip().partition(" ")
        if half not in HALF_WORDS:
            raise ValueError(key)
        return cls(typed_day(day), half)


@dataclass(frozen=True, slots=True)
class NewHomeVisit:
    user_id: str
    channel: str
    person_name: str
    id_number: str
    for_self: bool
    reason: str  # age / disability / illness
    age: int | None
    matter_id: str | None
    purpose: str
    village: str
    address: str
    phone: str
    preferred: tuple[str, ...]
    key: str
    latitude: float | None = None
    longitude: float | None = None
    relation: str | None = None  # the person to the one who messaged: 本人, 母亲…


def visit_half(visit: HomeVisit) -> HalfDay | None:
    if visit.slot is None:
        return None
    start = local(visit.slot.starts_at)
    return HalfDay(start.date(), "am" if part_of_day(start) == "am" else "pm")


class HomeVisitService:
    def __init__(self, bookings: BookingService) -> None:
        self._bookings = bookings
        self._sessions = bookings.sessions  # one database, one clock, one set of rules
        self.rules = bookings.rules.home_visit

    async def half_days(self, agent: Agent, limit: int = 8) -> list[HalfDay]:
        """The agent's coming half-days with room, from tomorrow (today is too short notice)."""
        today = self._bookings.today()
        slots = await self._bookings.open_slots(
            agent.window, today + timedelta(days=1),
            today + timedelta(days=self.rules.days_ahead), limit=limit)
        return [HalfDay(local(s.starts_at).date(),
                        "am" if part_of_day(s.starts_at) == "am" else "pm") for s in slots]

    async def request(self, new: NewHomeVisit) -> HomeVisit:
        agent = self.rules.agent_for(new.village) or self.rules.agent_for(new.address)
        if agent is None:
            raise BookingError("这个村不在本中心的上门服务范围，请打中心电话问一下。")
        now = self._bookings.now()
        try:
            async with self._sessions.begin() as session:
                visit = HomeVisit(
                    visit_no=new_number("SM", now),
                    idempotency_key=new.key, user_id=new.user_id, channel=new.channel,
                    person_name=new.person_name, id_number=new.id_number,
                    for_self=new.for_self, relation=new.relation, reason=new.reason,
                    age=new.age,
                    matter_id=new.matter_id, purpose=new.purpose, village=new.village,
                    address=new.address, latitude=new.latitude, longitude=new.longitude,
                    phone=new.phone, preferred=list(new.preferred), agent_id=agent.id,
                    status=VisitStatus.REQUESTED, proposed=False, created_at=now)
                session.add(visit)
                await session.flush()
                session.add(_event("home_visit.requested", visit, now, agent))
        except IntegrityError:
            pass  # the same confirmation twice: the first one stands
        found = await self._find(key=new.key)
        assert found is not None
        return found

    async def schedule(self, visit_no: str, when: HalfDay, clerk: str,
                       agent_id: str | None = None) -> HomeVisit:
        """Accept one of the villager's half-days, or propose another; moves a scheduled
        visit too. The agent's half-day must have room."""
        now = self._bookings.now()
        async with self._sessions.begin() as session:
            visit = await self._locked(session, visit_no)
            agent = self.rules.agent(agent_id or visit.agent_id)
            if agent is None:
                raise NotFound(f"没有这个上门人员: {agent_id}")
            start, _ = self.rules.morning if when.half == "am" else self.rules.afternoon
            starts_at = datetime.combine(when.day, start, CHINA).astimezone(UTC)
            if starts_at <= now:
                raise BookingError("这个时间已经过去了")
            slot_id = await session.scalar(
                update(ServiceSlot)
                .where(ServiceSlot.window == agent.window, ServiceSlot.starts_at == starts_at,
                       ServiceSlot.booked < ServiceSlot.capacity)
                .values(booked=ServiceSlot.booked + 1).returning(ServiceSlot.id))
            if slot_id is None:
                raise BookingError(f"{agent.name}{when.label}已经排满或不上班，换个时间")
            await self._free(session, visit)
            visit.slot_id, visit.agent_id, visit.status = slot_id, agent.id, VisitStatus.SCHEDULED
            visit.proposed = when.key not in visit.preferred
            visit.updated_at = now
            session.add(_event("home_visit.scheduled", visit, now, agent, when=when.label,
                               starts_at=local(starts_at).isoformat(), clerk=clerk,
                               proposed=visit.proposed))
        found = await self._find(visit_no=visit_no)
        assert found is not None
        return found

    async def close(self, visit_no: str, to: str, by: str, user_id: str | None = None
                    ) -> HomeVisit:
        """done (by the agent) or cancelled (by the villager, `user_id` set, or a clerk)."""
        now = self._bookings.now()
        async with self._sessions.begin() as session:
            visit = await self._locked(session, visit_no, user_id)
            if to == VisitStatus.DONE and visit.status != VisitStatus.SCHEDULED:
                raise BookingError("还没排时间的上门服务不能记为办结")
            if to not in (VisitStatus.DONE, VisitStatus.CANCELLED):
                raise BookingError("上门服务只能记为已上门或已取消")
            if to == VisitStatus.CANCELLED:
                await self._free(session, visit)
            visit.status, visit.updated_at = to, now
            session.add(_event(f"home_visit.{to}", visit, now, self.rules.agent(visit.agent_id),
                               by=by))
        found = await self._find(visit_no=visit_no)
        assert found is not None
        return found

    async def get(self, visit_no: str) -> HomeVisit | None:
        return await self._find(visit_no=visit_no)

    async def visits_of(self, user_id: str) -> list[HomeVisit]:
        """Open requests of this account, or naming its phone (SMS: the account is one)."""
        async with self._sessions() as session:
            return list(await session.scalars(
                select(HomeVisit).where(or_(HomeVisit.user_id == user_id,
                                            HomeVisit.phone == user_id),
                                        HomeVisit.status.in_(OPEN))
                .order_by(HomeVisit.created_at)))

    async def listing(self, status: str | None = None, day: date | None = None,
                      agent_id: str | None = None) -> list[HomeVisit]:
        """For clerks: by status, by the day they are scheduled on, by agent."""
        query = select(HomeVisit)
        if status:
            query = query.where(HomeVisit.status == status)
        if agent_id:
            query = query.where(HomeVisit.agent_id == agent_id)
        if day:
            start = datetime.combine(day, time(0), CHINA).astimezone(UTC)
            query = query.join(ServiceSlot, HomeVisit.slot_id == ServiceSlot.id).where(
                ServiceSlot.starts_at >= start, ServiceSlot.starts_at < start + timedelta(days=1))
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(HomeVisit.created_at)))

    async def remind(self) -> int:
        """A reminder event for each visit scheduled tomorrow, once per visit and time."""
        now, tomorrow = self._bookings.now(), self._bookings.today() + timedelta(days=1)
        events = []
        for visit in await self.listing(VisitStatus.SCHEDULED, tomorrow):
            half = visit_half(visit)
            event = _event("home_visit.reminder", visit, now, self.rules.agent(visit.agent_id),
                           when=half.label if half else "")
            event.dedup_key = f"reminder:{visit.visit_no}:{visit.slot_id}"
            events.append(event)
        return await write_events_once(self._sessions, events)

    async def _locked(self, session: AsyncSession, visit_no: str,
                      user_id: str | None = None) -> HomeVisit:
        query = select(HomeVisit).where(HomeVisit.visit_no == visit_no)
        if user_id is not None:
            query = query.where(HomeVisit.user_id == user_id)
        visit = await session.scalar(query.with_for_update(of=HomeVisit))
        if visit is None:
            raise NotFound("没有找到这个上门服务申请")
        if visit.status not in OPEN:
            raise BookingError("这个上门服务已经办结或取消了")
        return visit

    @staticmethod
    async def _free(session: AsyncSession, visit: HomeVisit) -> None:
        if visit.slot_id is not None:
            await session.execute(update(ServiceSlot).where(ServiceSlot.id == visit.slot_id)
                                  .values(booked=ServiceSlot.booked - 1))
            visit.slot_id = None

    async def _find(self, *, key: str | None = None, visit_no: str | None = None
                    ) -> HomeVisit | None:
        query = select(HomeVisit).where(HomeVisit.idempotency_key == key) if key else \
            select(HomeVisit).where(HomeVisit.visit_no == visit_no)
        async with self._sessions() as session:
            found: HomeVisit | None = await session.scalar(query)
            return found


def _event(kind: str, visit: HomeVisit, now: datetime, agent: Agent | None,
           **extra: object) -> DomainEvent:
    who = {"agent": agent.name, "agent_role": agent.role} if agent else {}
    return DomainEvent(kind=kind, case_id=None, created_at=now,
                       payload={"visit_no": visit.visit_no, "user_id": visit.user_id,
                                "channel": visit.channel, "phone": visit.phone,
                                "person": visit.person_name, "address": visit.address,
                                "matter": visit.matter_id, **who,
                                **extra})
