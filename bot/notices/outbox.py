"""Domain services stage: the notices' storage — from events to notices, claims, the log.

    domain_events (written with the change) ─ plan ─→ notices (one per event at most)
    notices ─ claim (FOR UPDATE SKIP LOCKED, a lease) ─→ a worker ─ record ─→ sent / later /
                                                                             failed + attempt

Several workers run at once: SKIP LOCKED hands each notice to one of them; a worker that
dies leaves its lease to run out, and the notice is claimed again. Every send carries
the notice's idempotency key, so the provider drops a repeat from a worker that died
between sending and recording.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.notices.compose import Composer
from bot.storage.tables import DomainEvent, Notice, NoticeAttempt, NoticePreference

# Longer than one round takes (sends time out after 10 s); a dead worker's notices wait this
# long before another worker takes them.
LEASE = timedelta(seconds=30)
MODES = frozenset({"wechat_first", "sms_only"})


@dataclass(frozen=True, slots=True)
class Attempt:
    channel: str
    provider: str
    outcome: str  # sent / retry / fallback / failed / later / cancelled
    code: str = ""
    detail: str = ""
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Preference:
    mode: str = "wechat_first"
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class Receipt:
    """One delivery receipt, whatever the provider's field names."""

    message_id: str
    phone: str
    delivered: bool
    code: str = ""


def same_phone(given: str, ours: str | None) -> bool:
    """The receipt's number is the notice's (providers may add the country code)."""
    digits = "".join(c for c in given if c.isdigit())
    return bool(ours) and len(digits) >= 11 and digits[-11:] == (ours or "")[-11:]


def idempotency_key(notice_id: int) -> str:
    return f"bm-notice-{notice_id}"


class NoticeStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], composer: Composer,
                 clock: chinatime.Clock = chinatime.now) -> None:
        self._sessions = sessions
        self.composer = composer
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    async def plan(self, batch: int = 500) -> int:
        """Turn new events into notices, each event once, whichever worker gets it."""
        now = self._clock()
        async with self._sessions.begin() as session:
            events = list(await session.scalars(
                select(DomainEvent).where(DomainEvent.delivered_at.is_(None))
                .order_by(DomainEvent.id).limit(batch).with_for_update(skip_locked=True)))
            for event in events:
                draft = self.composer.compose(event.kind, event.payload)
                event.delivered_at = now
                if draft is None:
                    continue
                session.add(Notice(
                    event_id=event.id, kind=draft.kind, user_id=draft.user_id,
                    openid=draft.openid, phone=draft.phone, text=draft.text,
                    values=draft.values, urgent=draft.urgent, status="pending", attempts=0,
                    next_at=now, event_at=event.created_at, created_at=now))
            return len(events)

    async def claim(self, batch: int = 50) -> list[Notice]:
        """Due notices for this worker, leased so no other worker takes them meanwhile."""
        now = self._clock()
        async with self._sessions.begin() as session:
            notices = list(await session.scalars(
                select(Notice).where(Notice.status == "pending", Notice.next_at <= now,
                                     or_(Notice.lease_until.is_(None), Notice.lease_until < now))
                .order_by(Notice.next_at).limit(batch).with_for_update(skip_locked=True)))
            for notice in notices:
                notice.lease_until = now + LEASE
            return notices

    async def record(self, notice_id: int, attempts: list[Attempt], status: str, *,
                     next_at: datetime | None = None, sent_via: str | None = None,
                     counted: bool = True) -> None:
        """The outcome of one delivery round: its attempts in the log, the notice's state."""
        now = self._clock()
        async with self._sessions.begin() as session:
            for attempt in attempts:
                session.add(NoticeAttempt(notice_id=notice_id, at=now, channel=attempt.channel,
                                          provider=attempt.provider, outcome=attempt.outcome,
                                          code=attempt.code, detail=attempt.detail[:500],
                                          message_id=attempt.message_id))
            values: dict[str, object] = {"status": status, "lease_until": None}
            if counted:
                values["attempts"] = Notice.attempts + 1
            if next_at is not None:
                values["next_at"] = next_at
            if status == "sent":
                values.update(sent_at=now, sent_via=sent_via)
            if attempts and status != "sent":
                values["last_error"] = f"{attempts[-1].code} {attempts[-1].detail}".strip()
            await session.execute(update(Notice).where(Notice.id == notice_id).values(**values))

    async def retry(self, notice_id: int) -> bool:
        """A clerk sends a failed notice again (after fixing the number, say)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Notice).where(Notice.id == notice_id, Notice.status == "failed")
                .values(status="pending", attempts=0, next_at=self._clock(), lease_until=None))
            return bool(getattr(result, "rowcount", 0))

    async def receipts(self, provider: str, receipts: list[Receipt]) -> int:
        """A provider's batch of delivery receipts, in one transaction; how many counted.
        Receipts repeat: the first one counts. One whose phone is not the notice's is
        ignored (a forged or misrouted receipt). A phone that did not get the SMS (off,
        number gone) makes the notice failed, for clerks."""
        now = self._clock()
        wanted = {r.message_id: r for r in receipts if r.message_id}
        if not wanted:
            return 0
        async with self._sessions.begin() as session:
            found = (await session.execute(
                select(NoticeAttempt, Notice.phone).join(Notice)
                .where(NoticeAttempt.provider == provider,
                       NoticeAttempt.message_id.in_(wanted),
                       NoticeAttempt.receipt.is_(None))
                .with_for_update(of=NoticeAttempt))).all()
            failed: dict[int, str] = {}
            counted = 0
            for attempt, phone in found:
                receipt = wanted[attempt.message_id or ""]
                if not same_phone(receipt.phone, phone):
                    continue
                counted += 1
                attempt.receipt, attempt.receipt_at = receipt.code or (
                    "DELIVERED" if receipt.delivered else "FAILED"), now
                if not receipt.delivered:
                    failed[attempt.notice_id] = receipt.code
            for notice_id, code in failed.items():
                await session.execute(update(Notice).where(Notice.id == notice_id)
                                      .values(status="failed", last_error=f"回执：{code}"))
            return counted

    async def preferences(self, notices: list[Notice]) -> dict[int, Preference]:
        """Each notice's villager's preference (by user id, then phone), in one query."""
        keys = {k for n in notices for k in (n.user_id, n.phone) if k}
        async with self._sessions() as session:
            found = {p.key: p for p in await session.scalars(
                select(NoticePreference).where(NoticePreference.key.in_(keys)))}
        chosen = {}
        for notice in notices:
            mine = [found[k] for k in (notice.user_id, notice.phone) if k and k in found]
            chosen[notice.id] = Preference(mine[0].mode, any(p.opted_out for p in mine)) \
                if mine else Preference()
        return chosen

    async def matter_of(self, notice_id: int) -> str | None:
        """The matter a notice is about (its event's), None when it has none or is unknown."""
        async with self._sessions() as session:
            payload = await session.scalar(
                select(DomainEvent.payload).join(Notice, Notice.event_id == DomainEvent.id)
                .where(Notice.id == notice_id))
        matter = payload.get("matter") if payload else None
        return matter if isinstance(matter, str) else None

    async def set_preference(self, key: str, *, mode: str | None = None,
                             opted_out: bool | None = None) -> None:
        if mode is not None and mode not in MODES:
            raise ValueError(mode)
        async with self._sessions.begin() as session:
            found = await session.get(NoticePreference, key, with_for_update=True)
            if found is None:
                found = NoticePreference(key=key, mode="wechat_first", opted_out=False)
                session.add(found)
            if mode is not None:
                found.mode = mode
            if opted_out is not None:
                found.opted_out = opted_out
            found.updated_at = self._clock()

    async def listing(self, status: str | None = None, user_id: str | None = None,
                      limit: int = 100, hidden_matters: Collection[str] = ()
                      ) -> list[tuple[Notice, list[NoticeAttempt]]]:
        """For clerks: notices (failed ones first to look at) with their delivery log; not
        those about `hidden_matters` (another window's)."""
        query = select(Notice).order_by(Notice.id.desc()).limit(limit)
        if status:
            query = query.where(Notice.status == status)
        if user_id:
            query = query.where(Notice.user_id == user_id)
        if hidden_matters:
            matter = DomainEvent.payload["matter"].as_string()
            query = query.outerjoin(DomainEvent, Notice.event_id == DomainEvent.id).where(
                or_(matter.is_(None), matter.not_in(list(hidden_matters))))
        async with self._sessions() as session:
            notices = list(await session.scalars(query))
            attempts = list(await session.scalars(
                select(NoticeAttempt).where(NoticeAttempt.notice_id.in_([n.id for n in notices]))
                .order_by(NoticeAttempt.id)))
        return [(n, [a for a in attempts if a.notice_id == n.id]) for n in notices]
