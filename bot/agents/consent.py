"""Domain services stage: the applicant's consent to an agent filing for them, by a code.

The code (6 digits) goes by SMS to the applicant's phone, through the notices' outbox (an
urgent `agent.consent` notice: durable, retried, logged); the applicant tells it to the
agent, who sends it in the chat. Only its hash is kept, in Redis with the draft, for 15
minutes; five wrong tries and it must be sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from enum import StrEnum

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.storage import keys
from bot.storage.tables import DomainEvent

CODE_VALID = timedelta(minutes=15)
MAX_TRIES = 5


class ConsentCheck(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    GONE = "gone"  # expired, never sent, or tried too often: send a new one


def _digest(draft: str, code: str) -> str:
    return hashlib.sha256(f"{draft}:{code}".encode()).hexdigest()


class ConsentCodes:
    def __init__(self, redis: Redis, sessions: async_sessionmaker[AsyncSession],
                 clock: chinatime.Clock = chinatime.now) -> None:
        self._redis = redis
        self._sessions = sessions
        self._clock = clock

    async def send(self, draft: str, *, phone: str, person: str, agent: str,
                   matter: str) -> None:
        """A new code for the draft (the one before stops working), on its way by SMS."""
        code = "".join(secrets.choice("0123456789") for _ in range(6))
        key = keys.agent_consent(draft)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"digest": _digest(draft, code), "tries": 0})
            pipe.expire(key, int(CODE_VALID.total_seconds()))
            await pipe.execute()
        async with self._sessions.begin() as session:
            session.add(DomainEvent(
                kind="agent.consent", case_id=None, created_at=self._clock(),
                payload={"user_id": phone, "channel": "sms", "phone": phone,
                         "person": person, "agent": agent, "matter": matter, "code": code}))

    async def check(self, draft: str, code: str) -> ConsentCheck:
        key = keys.agent_consent(draft)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "tries", 1)
            pipe.hget(key, "digest")
            tries, digest = await pipe.execute()
        if digest is None:  # gone (or expired just now): the count just made goes too
            await self._redis.delete(key)
            return ConsentCheck.GONE
        if tries > MAX_TRIES:
            await self._redis.delete(key)
            return ConsentCheck.GONE
        if not hmac.compare_digest(str(digest), _digest(draft, code.strip())):
            return ConsentCheck.WRONG
        await self._redis.delete(key)
        return ConsentCheck.RIGHT
