"""Domain services stage: village agents (代办员).

A clerk registers an agent (name, phone, villages) and hands them a one-time code; the agent
sends it to the official account, which binds their WeChat account. A bound agent files
applications for villagers (the case points to the agent, who gets its notices too) and
reads what waits in their villages: open cases, 补正, home visits, and the notices that did
not reach a villager (no WeChat, the SMS failed), to carry by hand.

Binding codes are 8 digits, valid 3 days, kept only hashed; tries are limited per WeChat
account and for everyone together (bot/security/lockout.py AGENT_CODE).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot import chinatime
from bot.appointments.home_visits import OPEN as OPEN_VISITS
from bot.cases.identity import normalize, phone_problem
from bot.cases.status import Status
from bot.storage.tables import Agent, Case, DomainEvent, HomeVisit, Notice

CODE_DIGITS = 8
CODE_VALID = timedelta(days=3)
# Failed notices older than this are no longer listed to carry: nothing marks one carried.
CARRY_WITHIN = timedelta(days=30)
OPEN_CASES = tuple(status.value for status in Status if not status.closed)


class AgentError(Exception):
    """A request about agents refused; the message is for the clerk or the agent."""


@dataclass(frozen=True, slots=True)
class AgentCard:
    """What the dialogue knows of a bound agent."""

    id: int
    name: str
    phone: str
    villages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Undelivered:
    """A notice that reached nobody, for an agent to carry by hand."""

    notice: Notice
    village: str
    person: str  # the applicant or the one the home visit is for
    phone: str
    reference: str  # the receipt or visit number
    matter_id: str | None = None  # the case's or visit's: the window it belongs to


def code_digest(code: str) -> str:
    return hashlib.sha256(f"bm-agent-code:{code}".encode()).hexdigest()


def card(agent: Agent) -> AgentCard:
    return AgentCard(agent.id, agent.name, agent.phone, tuple(agent.villages))


class AgentService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: chinatime.Clock = chinatime.now) -> None:
        self.sessions = sessions  # consent codes write their SMS through the same outbox
        self._clock = clock

    async def register(self, name: str, phone: str, villages: Sequence[str],
                       actor: str) -> tuple[Agent, str]:
        """A new agent and their binding code (shown once, to hand over)."""
        name, phone = name.strip(), normalize(phone)
        villages = [v.strip() for v in villages if v.strip()]
        if not 2 <= len(name) <= 10:
            raise AgentError("姓名请写2到10个字")
        problem = phone_problem(phone)
        if problem:
            raise AgentError(problem)
        if not villages:
            raise AgentError("请至少选一个村（社区）")
        async with self.sessions.begin() as session:
            agent = Agent(name=name, phone=phone, villages=villages, active=True,
                          created_by=actor, created_at=self._clock())
            session.add(agent)
            await session.flush()
            agent_id = agent.id
        return await self.get(agent_id), await self.new_code(agent_id)

    async def new_code(self, agent_id: int) -> str:
        """A fresh binding code (a lost one, or another phone): the old one stops working."""
        for _ in range(5):  # two agents drawing the same code at once is rare: draw again
            code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
            try:
                async with self.sessions.begin() as session:
                    agent = await session.get(Agent, agent_id, with_for_update=True)
                    if agent is None:
                        raise AgentError("没有这个代办员")
                    agent.code_hash = code_digest(code)
                    agent.code_expires_at = self._clock() + CODE_VALID
                return code
            except IntegrityError:
                continue
        raise AgentError("系统繁忙，请再试一次")

    async def set_active(self, agent_id: int, active: bool) -> Agent:
        """Stop (or restore) an agent: a stopped one is unbound and files nothing more."""
        async with self.sessions.begin() as session:
            agent = await session.get(Agent, agent_id, with_for_update=True)
            if agent is None:
                raise AgentError("没有这个代办员")
            agent.active = active
            if not active:
                agent.user_id = agent.bound_at = None
                agent.code_hash = agent.code_expires_at = None
        return await self.get(agent_id)

    async def get(self, agent_id: int) -> Agent:
        async with self.sessions() as session:
            agent = await session.get(Agent, agent_id)
        if agent is None:
            raise AgentError("没有这个代办员")
        return agent

    async def listing(self) -> list[Agent]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Agent).order_by(Agent.active.desc(),
                                                                     Agent.id)))

    async def bind(self, user_id: str, code: str) -> AgentCard | None:
        """The agent whose unexpired code this is, now bound to `user_id` (a WeChat account
        bound before moves to this one); None when no code matches."""
        now = self._clock()
        async with self.sessions.begin() as session:
            agent = await session.scalar(
                select(Agent).where(Agent.code_hash == code_digest(code), Agent.active,
                                    Agent.code_expires_at > now).with_for_update())
            if agent is None:
                return None
            previous = await session.scalar(select(Agent).where(Agent.user_id == user_id,
                                                                Agent.id != agent.id))
            if previous is not None:  # one WeChat account is one agent
                previous.user_id = previous.bound_at = None
                await session.flush()
            agent.user_id, agent.bound_at = user_id, now
            agent.code_hash = agent.code_expires_at = None
            return card(agent)

    async def agent_of(self, user_id: str) -> AgentCard | None:
        async with self.sessions() as session:
            agent = await session.scalar(select(Agent).where(Agent.user_id == user_id,
                                                             Agent.active))
        return card(agent) if agent else None

    async def village_cases(self, villages: Collection[str], *,
                            statuses: Sequence[str] = OPEN_CASES, limit: int = 50) -> list[Case]:
        """The villages' cases in `statuses` (open ones by default), oldest due first, with
        their moves (what a 待补正 asks for is in the last one)."""
        async with self.sessions() as session:
            return list(await session.scalars(
                select(Case).where(Case.village.in_(list(villages)), Case.status.in_(statuses))
                .options(selectinload(Case.changes))
                .order_by(Case.due_date.is_(None), Case.due_date, Case.id).limit(limit)))

    async def village_visits(self, villages: Collection[str], limit: int = 50
                             ) -> list[HomeVisit]:
        """The villages' home visits not yet done, in the order they were asked for."""
        async with self.sessions() as session:
            return list(await session.scalars(
                select(HomeVisit).where(HomeVisit.village.in_(list(villages)),
                                        HomeVisit.status.in_([s.value for s in OPEN_VISITS]))
                .order_by(HomeVisit.id).limit(limit)))

    async def undelivered(self, villages: Collection[str] | None = None,
                          since: datetime | None = None, limit: int = 200
                          ) -> list[Undelivered]:
        """Failed notices to a villager about a case or a home visit, with the village they
        are for (`villages`: only those), newest first, sent `since` (default: the last
        CARRY_WITHIN). An agent's own copy that failed is no villager's: not listed."""
        since = since or self._clock() - CARRY_WITHIN
        failed = (Notice.status == "failed", Notice.created_at >= since,
                  DomainEvent.payload["for_agent"].as_string().is_(None))
        by_case = (select(Notice, Case).join(DomainEvent, Notice.event_id == DomainEvent.id)
                   .join(Case, Case.id == DomainEvent.case_id).where(*failed))
        by_visit = (select(Notice, HomeVisit)
                    .join(DomainEvent, Notice.event_id == DomainEvent.id)
                    .join(HomeVisit,
                          HomeVisit.visit_no == DomainEvent.payload["visit_no"].as_string())
                    .where(*failed))
        if villages is not None:
            by_case = by_case.where(Case.village.in_(list(villages)))
            by_visit = by_visit.where(HomeVisit.village.in_(list(villages)))
        async with self.sessions() as session:
            cases = (await session.execute(by_case.order_by(Notice.id.desc()).limit(limit))).all()
            visits = (await session.execute(
                by_visit.order_by(Notice.id.desc()).limit(limit))).all()
        found = [Undelivered(notice, case.village, case.applicant_name, case.phone,
                             case.receipt_no, case.matter_id) for notice, case in cases]
        found += [Undelivered(notice, visit.village, visit.person_name, visit.phone,
                              visit.visit_no, visit.matter_id) for notice, visit in visits]
        return sorted(found, key=lambda item: item.notice.id, reverse=True)[:limit]

    async def agent_for_village(self, village: str) -> Agent | None:
        """The active agent covering a village (the first registered, where several do)."""
        async with self.sessions() as session:
            agents = await session.scalars(select(Agent).where(Agent.active)
                                           .order_by(Agent.id))
            return next((a for a in agents if village in a.villages), None)

