"""Dialogue stage: per-user conversation state in Redis.

Key scheme (every key the dialogue writes; prefixes only here):
    bianmin:conv:{channel}:{user}        JSON ConversationState, TTL = CONVERSATION_TTL
    bianmin:lock:conv:{channel}:{user}   per-user lock around load → handle → save
    bianmin:transcript:{channel}:{user}  list of JSON lines (in and out), newest first
    bianmin:handoff:requests             list of JSON handoff requests for the clerks

Several bot workers share one Redis: the lock makes two messages of one user (retries,
quick typing, two workers) go through the dialogue one after the other, in order.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from bot import chinatime
from bot.storage import keys

STATE_VERSION = 1
CONVERSATION_TTL = 7 * 24 * 3600  # a draft application waits a week for the villager
TRANSCRIPT_DAYS = 30  # kept this long after the last message (TRANSCRIPT_DAYS)
TRANSCRIPT_MAX = 500
LOCK_TIMEOUT = 15.0  # seconds a crashed worker can hold a user's lock
LOCK_WAIT = 10.0

HANDOFF_REQUESTS_KEY = keys.HANDOFF_REQUESTS
QUESTIONS_TTL = 400 * 86400  # a year of monthly reports, and some


# A turn's outcome (ConversationState.outcome): a guide answer — a matter's, the office
# hours, the address — or why the question goes up for review (ReviewReason).
ANSWERED = "answered"


@dataclass
class ConversationState:
    """What the bot remembers of one villager's conversation."""

    matter: str | None = None  # the matter being talked about (follow-ups keep it)
    variant: str | None = None  # the chosen situation of that matter
    last_intent: str | None = None  # the last question asked, for 「那五保呢」
    awaiting: str | None = None  # "topic", "matter", "variant", "menu": what a digit answers
    choices: list[str] = field(default_factory=list)  # what 1, 2, 3 … stand for
    pending_intent: str | None = None  # the question waiting for its matter or variant
    for_villager: bool = False  # an agent's 「替村民申请」, waiting for its matter
    more_pages: list[str] = field(default_factory=list)  # rest of a long answer (「继续」)
    misunderstood: int = 0  # consecutive messages the bot did not understand
    handoff_requested: bool = False
    handoff_id: int | None = None  # a handoff open (or closed and not yet rated)
    comment_for: int | None = None  # a handoff whose rating came: the next text is a comment
    flow: str | None = None  # a flow under way ("apply"), its state and its slots (the draft)
    flow_state: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    pending_receipt: str | None = None  # a receipt number waiting for the phone's last four
    heard: str | None = None  # words heard in a voice message, waiting for 「1 对」
    last_said: str = ""  # the bot's last answer, for 「念给我听」
    # What this turn came to (ANSWERED or a ReviewReason), for the figures and the review
    # list: set by the part that replied, read once the turn is over; never saved.
    outcome: str | None = None

    def to_json(self) -> str:
        saved = {k: v for k, v in asdict(self).items() if k != "outcome"}
        return json.dumps({"v": STATE_VERSION, **saved}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> ConversationState:
        if not raw:
            return cls()
        data: dict[str, Any] = json.loads(raw)
        if data.pop("v", None) != STATE_VERSION:
            return cls()  # an older shape: start afresh rather than misread it
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class StateStore:
    def __init__(self, redis: Redis, transcript_days: int = TRANSCRIPT_DAYS) -> None:
        self._redis = redis
        self._transcript_ttl = transcript_days * 86400

    @asynccontextmanager
    async def conversation(self, channel: str, user: str) -> AsyncIterator[ConversationState]:
        """Lock the user's conversation, yield its state, save it on a clean exit."""
        lock = self._redis.lock(keys.conversation_lock(channel, user), timeout=LOCK_TIMEOUT,
                                blocking_timeout=LOCK_WAIT)
        async with lock:
            key = keys.conversation(channel, user)
            state = ConversationState.from_json(await self._redis.get(key))
            yield state
            await self._redis.set(key, state.to_json(), ex=CONVERSATION_TTL)

    async def record(self, channel: str, user: str, direction: str, text: str,
                     at: datetime, **extra: str) -> None:
        """One line of the user's transcript (what they sent, what the bot answered)."""
        key = keys.transcript(channel, user)
        line = json.dumps({"at": at.isoformat(), "dir": direction, "text": text, **extra},
                          ensure_ascii=False)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, line)
            pipe.ltrim(key, 0, TRANSCRIPT_MAX - 1)
            pipe.expire(key, self._transcript_ttl)
            await pipe.execute()

    async def transcript(self, channel: str, user: str) -> list[dict[str, str]]:
        lines = await self._redis.lrange(keys.transcript(channel, user), 0, -1)
        return [json.loads(line) for line in reversed(lines)]

    async def attach_handoff(self, channel: str, user: str, handoff_id: int) -> None:
        """A clerk took up the conversation: the villager's next messages go to them."""
        async with self.conversation(channel, user) as state:
            state.handoff_id, state.comment_for = handoff_id, None
            state.flow, state.flow_state, state.slots = None, None, {}

    async def count_question(self, at: datetime) -> None:
        """For the director's bot containment: questions the bot was asked, per day (one
        round trip: it is on every message's path)."""
        await self._count(keys.QUESTIONS_ON, at)

    async def count_answered(self, at: datetime) -> None:
        """Of them, those it answered from the guide: only these count as contained (a
        bare menu, 「没听懂」 or a handoff does not)."""
        await self._count(keys.ANSWERED_ON, at)

    async def _count(self, pattern: str, at: datetime) -> None:
        key = pattern.format(day=chinatime.day_of(at).isoformat())
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, QUESTIONS_TTL)
            await pipe.execute()

    async def request_handoff(self, channel: str, user: str, reason: str, at: datetime) -> None:
        entry = json.dumps({"channel": channel, "user": user, "reason": reason,
                            "at": at.isoformat()}, ensure_ascii=False)
        await self._redis.rpush(HANDOFF_REQUESTS_KEY, entry)
