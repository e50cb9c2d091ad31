"""Domain services stage: the bot's answers to a villager who writes by SMS, as notices.

Each SMS of an answer becomes an urgent `chat.reply` event in the outbox, so it goes the
way every notice goes (bot/notices/worker.py): durable, one idempotency key per message,
the providers' per-number limits kept, retried with backoff, in the delivery log with its
receipt. Real providers send only approved templates: `chat.reply` in
catalogue/notices.yml is fixed words and one variable carrying the text.

Costs: the SMS parts answered to one phone are counted per China day in Redis (every
worker shares the count) and capped; past the cap the villager gets one last short SMS
saying so, then nothing more that day (what they send is still handled and kept).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.notices.rules import NoticeRules, fill
from bot.storage import keys
from bot.storage.db import write_events_once
from bot.storage.tables import DomainEvent

CHAT_REPLY = "chat.reply"
SMS = "sms"
CAPPED = "今天短信已达上限，请明天再发，或拨打中心电话{phone}。"


class Allowance(StrEnum):
    SEND = "send"  # within today's cap
    LAST = "last"  # this answer breaks the cap: say so, once
    NONE = "none"  # said already: nothing more today


class SmsReplies:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], redis: Redis,
                 rules: NoticeRules, daily_cap: int, center_phone: str) -> None:
        self._sessions = sessions
        self._redis = redis
        self._rules = rules
        self._cap = daily_cap
        self._center_phone = center_phone

    @property
    def frame(self) -> tuple[str, str]:
        """What every reply SMS carries besides the text: the sign name and the reply
        template's own words."""
        template = self._rules.templates.get(CHAT_REPLY)
        return self._rules.sign_name, fill(template.sms, {}) if template else ""

    async def answer(self, phone: str, parts: list[str], key: str, at: datetime) -> int:
        """Queue an answer's SMS parts to `phone`, within today's cap; `key` names the
        message answered (a repeat queues nothing twice). Returns the parts queued."""
        if not parts:
            return 0
        day = chinatime.day_of(at)
        allowance = await self._spend(phone, len(parts), f"{day:%Y%m%d}")
        if allowance is Allowance.NONE:
            return 0
        if allowance is Allowance.LAST:
            parts, key = [CAPPED.format(phone=self._center_phone)], f"cap:{phone}:{day}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        await write_events_once(self._sessions, [DomainEvent(
            kind=CHAT_REPLY, case_id=None, created_at=at, dedup_key=f"sms:{digest}:{n}",
            payload={"user_id": phone, "channel": SMS, "phone": phone, "text": part})
            for n, part in enumerate(parts)])
        return len(parts)

    async def _spend(self, phone: str, parts: int, day: str) -> Allowance:
        counter = keys.sms_reply_parts(phone, day)
        used = await self._redis.incrby(counter, parts)
        if used == parts:
            await self._redis.expire(counter, 2 * 86400)
        if used <= self._cap:
            return Allowance.SEND
        told = await self._redis.set(keys.sms_reply_capped(phone, day), 1, nx=True,
                                     ex=2 * 86400)
        return Allowance.LAST if told else Allowance.NONE
