"""Domain services stage: handoffs (转人工, 首问负责) from opening to the villager's rating.

    open (the villager asked, complained, was not understood twice, or asked to delete their
    data) ─→ waiting ─ claim (one clerk: a conditional UPDATE) ─→ claimed ─ reply… ─→ closed
    ─→ rated 1–5 and a comment          waiting/claimed ─ 「取消人工」 ─→ cancelled
    waiting past its promised time ─→ escalated (supervisors alerted)

The villager is promised an answer by office hours: within the hour when the center is
open, else after it opens (「工作人员将在明天上午9点后回复您」). Clerks' replies and the
closing question are domain events, delivered by the notice workers (WeChat, else SMS).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, desc, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.appointments.when import day_label
from bot.cases.identity import normalize
from bot.messages import Channel
from bot.storage.finding import (
    LIKE_ESCAPE,
    PAGE_SIZE,
    Page,
    containing,
    fetch_page,
    starts_with,
)
from bot.storage.tables import (
    Booking,
    Case,
    DomainEvent,
    Handoff,
    HandoffMessage,
    HomeVisit,
    LastFour,
)
from bot.workdays import WorkCalendar

log = logging.getLogger(__name__)


class HandoffStatus(StrEnum):
    WAITING = "waiting"  # for a clerk to take it
    CLAIMED = "claimed"  # a clerk has it
    CLOSED = "closed"
    CANCELLED = "cancelled"  # the villager no longer wants it


OPEN = (HandoffStatus.WAITING, HandoffStatus.CLAIMED)
GENERAL = "general"
ANSWER_MINUTES = 60  # promised when the center is open (HANDOFF_ANSWER_MINUTES)
RATINGS = {1: "非常满意", 2: "满意", 3: "一般", 4: "不满意", 5: "非常不满意"}
Alert = Callable[[dict[str, Any]], Awaitable[None]]


def _in_windows(windows: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """The window rule: `windows`' handoffs and the general desk's; None: every window."""
    return [] if windows is None else [Handoff.window.in_([*windows, GENERAL])]


def _villager_lines(transcript: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(str(line.get("text", "")) for line in transcript
                     if line.get("dir") == "in" and line.get("text"))


def _the_villager(who: str) -> ColumnElement[bool]:
    """Handoffs of the villager a receipt number, a name (or its beginning) or a phone (or
    its last four) names, as their cases, bookings and home visits know them: each lookup
    is one an index serves."""
    key = normalize(who)
    phone = [LastFour(Case.phone) == key] if len(key) == 4 else [Case.phone == key]
    people = select(Case.user_id).where(or_(
        Case.receipt_no == key, Case.applicant_name.like(starts_with(who), escape=LIKE_ESCAPE),
        *phone)).union(
        select(Booking.user_id).where(or_(Booking.name == who, Booking.phone == key)),
        select(HomeVisit.user_id).where(or_(HomeVisit.person_name == who,
                                            HomeVisit.phone == key)))
    return Handoff.user_id.in_(people)


@dataclass(frozen=True, slots=True)
class HandoffQuery:
    """A search of past handoffs: opened in [opened_from, opened_to] (China days), a status,
    a matter, words the villager said; `windows` is the window rule (None: all)."""

    windows: Sequence[str] | None
    opened_from: date | None = None
    opened_to: date | None = None
    status: HandoffStatus | None = None
    matter: str = ""
    words: str = ""  # in what the villager wrote
    villager: str = ""  # a receipt number, name or phone

    def filters(self) -> list[ColumnElement[bool]]:
        found = _in_windows(self.windows)
        if self.opened_from is not None:
            found.append(Handoff.opened_at >= chinatime.day_start(self.opened_from))
        if self.opened_to is not None:
            found.append(Handoff.opened_at < chinatime.day_start(
                self.opened_to + timedelta(days=1)))
        if self.status is not None:
            found.append(Handoff.status == self.status.value)
        if self.matter:
            found.append(Handoff.matter_id == self.matter)
        if self.words:
            found.append(Handoff.said.like(containing(self.words), escape=LIKE_ESCAPE))
        if self.villager.strip():
            found.append(_the_villager(self.villager.strip()))
        return found


class HandoffError(Exception):
    """Refused; the message is for the clerk."""


class ClaimedByOther(HandoffError):
    """Another clerk has it (首问负责): `clerk` is their login, for the page to name them."""

    def __init__(self, clerk: str) -> None:
        self.clerk = clerk
        super().__init__(f"已由 {clerk} 接手")


@dataclass(frozen=True, slots=True)
class Opened:
    handoff_id: int
    promise: str  # 「工作人员将在明天上午9点后回复您」
    already: bool = False


# A clerk's reply and the clerk's name → the SMS texts it is sent as (bot/notices/sms_text.py)
SmsParts = Callable[[str, str], list[str]]


class HandoffService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], calendar: WorkCalendar,
                 office: Sequence[tuple[time, time]], window_for: Callable[[str | None], str],
                 window_names: Mapping[str, str], alert: Alert | None = None,
                 clock: chinatime.Clock = chinatime.now,
                 answer_minutes: int = ANSWER_MINUTES,
                 sms_parts: SmsParts | None = None) -> None:
        self._sessions = sessions
        self._calendar = calendar
        self._office = sorted(office)
        self._window_for = window_for
        self._window_names = window_names
        self._alert = alert
        self._clock = clock
        self._answer_within = timedelta(minutes=answer_minutes)
        self._sms_parts = sms_parts  # a reply to an SMS villager, as the SMS texts it takes

    # --- office hours ---------------------------------------------------------------

    def _opens_next(self, now: datetime) -> datetime | None:
        """None while the center is open; else when it next opens (China time)."""
        here = chinatime.local(now)
        for offset in range(0, 30):
            day = here.date() + timedelta(days=offset)
            if not self._calendar.is_workday(day)[0]:
                continue
            for start, end in self._office:
                opens = datetime.combine(day, start, chinatime.CHINA)
                if offset == 0 and opens <= here < datetime.combine(day, end, chinatime.CHINA):
                    return None
                if opens > here:
                    return opens
        return here + timedelta(days=1)

    def promise(self, now: datetime, window: str) -> tuple[str, datetime]:
        """What the villager is told (who answers, and by when), and when it is due."""
        who = f"{self._window_names.get(window, '综合窗口')}的工作人员"
        opens = self._opens_next(now)
        if opens is None:
            minutes = int(self._answer_within.total_seconds() // 60)
            within = f"{minutes // 60}小时" if minutes % 60 == 0 else f"{minutes}分钟"
            return f"{who}会尽快回复您（上班时间一般{within}内）", now + self._answer_within
        today = chinatime.day_of(now)
        when = "今天" if opens.date() == today else "明天" if opens.date() == today + \
            timedelta(days=1) else day_label(opens.date())
        part = "上午" if opens.hour < 12 else "下午"
        hour = opens.hour - 12 if opens.hour > 12 else opens.hour
        return f"{who}将在{when}{part}{hour}点后回复您", opens + self._answer_within

    # --- the villager's side ------------------------------------------------------------

    async def open(self, user_id: str, channel: str, reason: str, matter_id: str | None,
                   transcript: list[dict[str, str]]) -> Opened:
        now = self._clock()
        async with self._sessions.begin() as session:
            current = await session.scalar(select(Handoff).where(
                Handoff.user_id == user_id, Handoff.status.in_(OPEN)).with_for_update())
            window = self._window_for(matter_id)
            if current is not None:
                return Opened(current.id, self.promise(now, current.window)[0], already=True)
            promise, due = self.promise(now, window)
            handoff = Handoff(user_id=user_id, channel=channel, reason=reason,
                              matter_id=matter_id, window=window, status=HandoffStatus.WAITING,
                              transcript=transcript[-50:], opened_at=now, due_at=due,
                              said=_villager_lines(transcript[-50:]))
            session.add(handoff)
            await session.flush()
            handoff_id = handoff.id
            window = handoff.window
        await self._tell({"type": "handoff.opened", "id": handoff_id, "window": window,
                          "reason": reason, "user": user_id[-6:]})
        return Opened(handoff_id, promise)

    async def open_by_clerk(self, user_id: str, channel: str, matter_id: str | None,
                            clerk: str, transcript: list[dict[str, str]]) -> int:
        """A clerk starts the conversation (about a case, say): claimed by them at once; an
        open one of the villager's is taken over instead."""
        now = self._clock()
        async with self._sessions.begin() as session:
            current = await session.scalar(select(Handoff).where(
                Handoff.user_id == user_id, Handoff.status.in_(OPEN)).with_for_update())
            if current is not None:
                if current.claimed_by not in (None, clerk):
                    raise ClaimedByOther(current.claimed_by)
                current.status, current.claimed_by = HandoffStatus.CLAIMED, clerk
                current.claimed_at = current.claimed_at or now
                return current.id
            handoff = Handoff(user_id=user_id, channel=channel, reason="clerk",
                              matter_id=matter_id, window=self._window_for(matter_id),
                              status=HandoffStatus.CLAIMED, claimed_by=clerk, claimed_at=now,
                              transcript=transcript[-50:], opened_at=now, due_at=now,
                              said=_villager_lines(transcript[-50:]))
            session.add(handoff)
            await session.flush()
            return handoff.id

    async def state(self, handoff_id: int) -> tuple[str, int | None] | None:
        """(status, rating) of a handoff, or None."""
        async with self._sessions() as session:
            found = await session.get(Handoff, handoff_id)
            return (found.status, found.rating) if found else None

    async def villager_says(self, handoff_id: int, text: str, kind: str = "text",
                            file_id: int | None = None) -> None:
        """What the villager sends while clerks have the conversation: words, or a photo or
        voice message kept as `file_id` (its text: WeChat's recognition of the voice)."""
        async with self._sessions.begin() as session:  # the message and the searchable words
            session.add(HandoffMessage(handoff_id=handoff_id, at=self._clock(),
                                       author="villager", text=text[:1500], kind=kind,
                                       file_id=file_id))
            if text:
                await session.execute(update(Handoff).where(Handoff.id == handoff_id).values(
                    said=Handoff.said + "\n" + text[:1500]))
        await self._tell({"type": "handoff.message", "id": handoff_id})

    async def cancel(self, handoff_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(Handoff).where(
                Handoff.id == handoff_id, Handoff.status.in_(OPEN))
                .values(status=HandoffStatus.CANCELLED, closed_at=self._clock()))
        await self._tell({"type": "handoff.cancelled", "id": handoff_id})

    async def rate(self, handoff_id: int, rating: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(Handoff).where(Handoff.id == handoff_id)
                                  .values(rating=rating))

    async def comment(self, handoff_id: int, text: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(Handoff).where(Handoff.id == handoff_id)
                                  .values(comment=text[:500]))

    # --- the clerks' side -----------------------------------------------------------------

    async def claim(self, handoff_id: int, clerk: str) -> Handoff:
        """One clerk only: whoever's UPDATE finds it still waiting."""
        now = self._clock()
        async with self._sessions.begin() as session:
            claimed = await session.scalar(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.WAITING)
                .values(status=HandoffStatus.CLAIMED, claimed_by=clerk, claimed_at=now)
                .returning(Handoff.id))
            if claimed is None:
                found = await session.get(Handoff, handoff_id)
                if found is None:
                    raise HandoffError("没有这个人工服务")
                if found.claimed_by:
                    raise ClaimedByOther(found.claimed_by)
                raise HandoffError("这个人工服务已经结束")
        await self._tell({"type": "handoff.claimed", "id": handoff_id, "by": clerk})
        return await self.get(handoff_id)

    async def reply(self, handoff_id: int, clerk: str, clerk_name: str, text: str) -> None:
        """The clerk's answer: recorded, and delivered by the notice workers."""
        text = text.strip()
        if not text:
            raise HandoffError("回复不能为空")
        now = self._clock()
        async with self._sessions.begin() as session:
            handoff = await self._mine(session, handoff_id, clerk)
            session.add(HandoffMessage(handoff_id=handoff_id, at=now, author=clerk,
                                       text=text[:1500]))
            handoff.first_reply_at = handoff.first_reply_at or now
            parts = self._sms_parts(text[:1500], clerk_name) \
                if self._sms_parts and handoff.channel == Channel.SMS.value else [text[:1500]]
            for part in parts:  # by SMS, each ≤ 70 characters, numbered (1/3)…
                session.add(await self._event(session, "handoff.reply", handoff, now,
                                              text=part, agent=clerk_name))

    async def transfer(self, handoff_id: int, clerk: str, window: str, to_clerk: str | None,
                       note: str, overrule: bool = False) -> None:
        """首问负责 passed on with a note between clerks (the villager never sees it): to a
        window, where it waits to be taken again with a new promised time, or to a
        colleague, who then has it. Only the clerk who has it may pass it on (one still
        waiting, anyone who sees it), or a supervisor who `overrule`s: to take back one a
        clerk left."""
        now = self._clock()
        async with self._sessions.begin() as session:
            handoff = await session.scalar(select(Handoff).where(Handoff.id == handoff_id)
                                           .with_for_update())
            if handoff is None:
                raise HandoffError("没有这个人工服务")
            if handoff.status not in OPEN:
                raise HandoffError("这个人工服务已经结束，不能转交")
            if handoff.status == HandoffStatus.CLAIMED and handoff.claimed_by != clerk \
                    and not overrule:
                raise HandoffError("只有接手的人（或负责人）能转交")
            handoff.window = window
            handoff.due_at, handoff.escalated_at = self.promise(now, window)[1], None
            if to_clerk:
                handoff.status, handoff.claimed_by, handoff.claimed_at = (
                    HandoffStatus.CLAIMED, to_clerk, now)
            else:
                handoff.status, handoff.claimed_by, handoff.claimed_at = (
                    HandoffStatus.WAITING, None, None)
            session.add(HandoffMessage(handoff_id=handoff_id, at=now, author=clerk,
                                       text=note.strip()[:500], kind="note"))
        await self._tell({"type": "handoff.transferred", "id": handoff_id, "by": clerk})

    async def close(self, handoff_id: int, clerk: str) -> None:
        """Closed: the bot answers again and the villager is asked for a rating."""
        now = self._clock()
        async with self._sessions.begin() as session:
            handoff = await self._mine(session, handoff_id, clerk)
            handoff.status, handoff.closed_at = HandoffStatus.CLOSED, now
            session.add(await self._event(session, "handoff.closed", handoff, now))
        await self._tell({"type": "handoff.closed", "id": handoff_id})

    async def escalate_overdue(self) -> int:
        """Waiting past the promised time: flag it and alert the supervisors."""
        now = self._clock()
        async with self._sessions.begin() as session:
            overdue = list(await session.scalars(
                update(Handoff).where(Handoff.status == HandoffStatus.WAITING, Handoff.due_at < now,
                                      Handoff.escalated_at.is_(None))
                .values(escalated_at=now).returning(Handoff.id)))
        for handoff_id in overdue:
            await self._tell({"type": "handoff.escalated", "id": handoff_id})
        return len(overdue)

    async def queue(self, windows: Sequence[str] | None) -> list[Handoff]:
        """Open handoffs, oldest first; `windows` None: every window (supervisors)."""
        query = select(Handoff).where(Handoff.status.in_(OPEN), *_in_windows(windows))
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(Handoff.opened_at)))

    async def search(self, query: HandoffQuery, page: int = 1,
                     size: int = PAGE_SIZE) -> Page[Handoff]:
        """Past and present handoffs (closed ones too), newest first, a page at a time."""
        found = select(Handoff).where(*query.filters()).order_by(Handoff.opened_at.desc(),
                                                                  Handoff.id.desc())
        async with self._sessions() as session:
            return await fetch_page(session, found, page, size)

    async def get(self, handoff_id: int) -> Handoff:
        async with self._sessions() as session:
            found = await session.get(Handoff, handoff_id)
            if found is None:
                raise HandoffError("没有这个人工服务")
            return found

    async def messages(self, handoff_id: int) -> list[HandoffMessage]:
        async with self._sessions() as session:
            return list(await session.scalars(select(HandoffMessage).where(
                HandoffMessage.handoff_id == handoff_id).order_by(HandoffMessage.id)))

    async def figures(self, first: date, last: date) -> dict[str, Any]:
        """Ratings, response times and counts of the handoffs opened in [first, last]."""
        start = chinatime.day_start(first)
        end = chinatime.day_start(last + timedelta(days=1))
        async with self._sessions() as session:
            rows = list(await session.scalars(select(Handoff).where(
                Handoff.opened_at >= start, Handoff.opened_at < end)))
        waits = sorted((h.first_reply_at - h.opened_at).total_seconds() / 60
                       for h in rows if h.first_reply_at)
        ratings = {label: sum(1 for h in rows if h.rating == n) for n, label in RATINGS.items()}
        return {"handoffs": len(rows), "answered": len(waits),
                "median_minutes": waits[len(waits) // 2] if waits else None,
                "ratings": ratings,
                "satisfied": sum(1 for h in rows if h.rating in (1, 2)),
                "rated": sum(1 for h in rows if h.rating)}

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    async def _mine(session: AsyncSession, handoff_id: int, clerk: str) -> Handoff:
        handoff = await session.scalar(select(Handoff).where(Handoff.id == handoff_id)
                                       .with_for_update())
        if handoff is None:
            raise HandoffError("没有这个人工服务")
        if handoff.status != HandoffStatus.CLAIMED or handoff.claimed_by != clerk:
            raise HandoffError("请先接手这个人工服务（或它已由别人接手、已结束）")
        return handoff

    @staticmethod
    async def _event(session: AsyncSession, kind: str, handoff: Handoff, now: datetime,
                     **extra: object) -> DomainEvent:
        """An outbox event to the villager; the phone for SMS is the one they write from
        (the SMS channel), else that of their latest case, booking or home visit."""
        phone = handoff.user_id if handoff.channel == Channel.SMS.value else None
        for column, table in ((Case.phone, Case), (Booking.phone, Booking),
                              (HomeVisit.phone, HomeVisit)):
            if phone:
                break
            phone = await session.scalar(select(column).where(
                table.user_id == handoff.user_id, column != "").order_by(
                desc(table.id)).limit(1))
        return DomainEvent(kind=kind, case_id=None, created_at=now, payload={
            "handoff": handoff.id, "user_id": handoff.user_id, "channel": handoff.channel,
            "phone": phone, "matter": handoff.matter_id, **extra})

    async def _tell(self, what: dict[str, Any]) -> None:
        if self._alert is None:
            return
        try:
            await self._alert(what)
        except Exception:  # an alert lost is not a handoff lost: the queue shows it
            log.exception("console alert failed")

