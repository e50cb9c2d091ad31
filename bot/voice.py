"""Outbound stage: answers and notices read aloud as WeChat voice messages.

    text ─→ made for listening (bot/spoken.py) ─→ parts of at most one request and 60 s
         ─→ speech synthesis (integrations/tts, the parts at once) ─→ temporary media
            (integrations/wechat_api.py) ─→ media ids, for a passive reply or
            customer-service voice messages

Who wants everything read aloud is kept in Redis without expiry (a villager says it once,
it holds until 「不要语音」), readable by the notice workers too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot import spoken
from bot.storage import keys
from integrations.errors import IntegrationError
from integrations.tts import Synthesizer

log = logging.getLogger(__name__)

MAX_SECONDS = 55  # WeChat's limit is 60 s a voice message; room for a slow voice
# A passive reply and customer-service messages: WeChat allows 5 of these per message the
# villager sends, and the text may need one of them.
MAX_VOICE_MESSAGES = 4
MORE_IN_TEXT = "后面的内容，请看文字消息。"


class VoiceMedia(Protocol):
    async def upload_voice(self, content: bytes, filename: str = ...) -> str: ...

    async def send_voice(self, openid: str, media_id: str) -> None: ...


class VoiceMaker:
    def __init__(self, synthesizer: Synthesizer, media: VoiceMedia) -> None:
        self._synthesizer = synthesizer
        self.media = media

    def parts(self, text: str) -> list[str]:
        limit = min(self._synthesizer.max_chars, MAX_SECONDS * spoken.CHARS_PER_SECOND)
        said = spoken.parts(spoken.for_listening(text), limit)
        if len(said) > MAX_VOICE_MESSAGES:
            said = [*said[:MAX_VOICE_MESSAGES - 1], MORE_IN_TEXT]
        return said

    async def voice_media(self, text: str) -> list[str]:
        """`text` read aloud and uploaded: the media ids of its voice messages, in order.
        Raises IntegrationError when synthesis or upload fails, or nothing is left to say
        (only a link, an emoji): the caller sends the text."""
        said = self.parts(text)
        if not said:
            raise IntegrationError("speech", "empty", "nothing to read aloud")
        return list(await asyncio.gather(*(self._one(part) for part in said)))

    async def _one(self, part: str) -> str:
        return await self.media.upload_voice(await self._synthesizer.synthesize(part))


class VoicePreferences:
    """Who wants answers and notices read aloud, by user id (a WeChat openid)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def wants_voice(self, user_id: str) -> bool:
        return bool(await self._redis.sismember(keys.VOICE_USERS, user_id))

    async def set_voice(self, user_id: str, on: bool) -> None:
        if on:
            await self._redis.sadd(keys.VOICE_USERS, user_id)
        else:
            await self._redis.srem(keys.VOICE_USERS, user_id)


class VoiceNotices:
    """A notice read aloud too, after its template or text message, for villagers who want
    voice. Best effort: customer-service messages need the villager to have written within
    48 hours, and a refusal changes nothing of the notice, sent already (nor its SMS rules).
    """

    def __init__(self, maker: VoiceMaker, preferences: VoicePreferences) -> None:
        self._maker = maker
        self._preferences = preferences

    async def read_aloud(self, openid: str, text: str) -> None:
        try:
            if not await self._preferences.wants_voice(openid):
                return
            for media_id in await self._maker.voice_media(text):
                await self._maker.media.send_voice(openid, media_id)
        except (IntegrationError, RedisError) as exc:
            log.info("notice not read aloud: %s", exc)
