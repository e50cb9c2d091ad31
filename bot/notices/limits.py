"""Domain services stage: the SMS providers' per-number limits, kept before submitting.

A submission counts against the provider's limit even when it fails, so a message that
would break a limit is not submitted but scheduled for when the limit lifts: Aliyun about
50 a day per number and template; Tencent one identical text per 30 s and 10 a day per
number. Counters live in Redis, shared by every worker. A number that also answers
villagers' SMS (bot/channels/sms.py) needs more: the daily count is then raised in the
provider's console and here (SMS_NUMBER_DAILY_LIMIT).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from redis.asyncio import Redis

from bot.storage import keys


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    per_day: int
    per_template: bool  # the daily count is per number and template (Aliyun)
    same_text_seconds: int  # an identical text to one number waits this long (Tencent)


LIMITS = {"aliyun": ProviderLimits(50, True, 0), "tencent": ProviderLimits(10, False, 30)}
MORNING = time(8, 0)


class SmsLimiter:
    def __init__(self, redis: Redis, provider: str, per_day: int | None = None) -> None:
        self._redis = redis
        self._provider = provider
        limits = LIMITS.get(provider)
        self._limits = replace(limits, per_day=per_day) if limits and per_day else limits

    async def admit(self, phone: str, template: str, text: str, now: datetime
                    ) -> datetime | None:
        """None: submit now (and it is counted); else when it may be submitted. `now` is
        China time."""
        limits = self._limits
        if limits is None:
            return None
        if limits.same_text_seconds:
            digest = hashlib.sha1(text.encode()).hexdigest()[:16]
            fresh = await self._redis.set(keys.sms_same_text(phone, digest), 1, nx=True,
                                          ex=limits.same_text_seconds)
            if not fresh:
                return now + timedelta(seconds=limits.same_text_seconds)
        scope = f"{phone}:{template}" if limits.per_template else phone
        key = keys.sms_per_day(self._provider, scope, f"{now:%Y%m%d}")
        count = await self._redis.incr(key)
        if count == 1:
            await self._redis.expire(key, 2 * 86400)
        if count > limits.per_day:
            return datetime.combine(now.date() + timedelta(days=1), MORNING, now.tzinfo)
        return None


class SendMarks:
    """Customer-service messages carry no idempotency key: a mark in Redis, set just before
    sending, tells a worker taking over from a dead one that this message may have gone."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def first(self, key: str) -> bool:
        return bool(await self._redis.set(keys.notice_sent_mark(key), 1, nx=True, ex=2 * 86400))
