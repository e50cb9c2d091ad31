"""Channel stage: the `/wechat` endpoint of the official account (aiohttp).

    GET  /wechat   URL verification: echo `echostr` when the signature is right
    POST /wechat   a push: check → decode → normalize → (dedup, rate limit) → dialogue → reply

WeChat's rules live here and nowhere else:
- a push is retried up to three times (same MsgId; events: FromUserName + CreateTime) when
  no answer comes within 5 s: the first copy is handled, the others wait for and get the
  same reply (Redis `SET NX` holding the text and the second it was made, so every copy
  renders the same CreateTime);
- the passive reply must come within 5 s: past the budget (4 s) the request answers `success`
  and the dialogue's answer follows as a customer-service message (which WeChat limits to
  5 per 48 h, so it is spent only then, or for a second reply);
- an answer to be read aloud (Reply.read_aloud) is made into voice messages (bot/voice.py)
  within the same budget: the first as the passive reply, the rest, or all when too slow,
  as customer-service voice messages; when synthesis or upload fails the text goes instead;
- when Redis or the NLU is briefly down the villager reads 「系统繁忙,请稍后再试」 and the
  message is kept in memory and handled once they are back, the answer sent the same way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from itertools import takewhile
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.channels.wechat_protocol import (
    TIMESTAMP_TOLERANCE,
    PassiveReply,
    ProtocolError,
    Push,
    WeChatConfig,
    check_request,
    decode_body,
    fits_one_reply,
    parse_push,
    render_reply,
)
from bot.dialogue.manager import Dialogue
from bot.intents import texts
from bot.messages import Incoming, Kind, Reply, Turn
from bot.storage import keys
from bot.voice import VoiceMaker
from integrations.errors import IntegrationError, ServiceUnavailable
from integrations.wechat_api import WeChatApi

log = logging.getLogger(__name__)

DEDUP_TTL = 600  # seconds a push's reply is kept for WeChat's retries
PENDING = "\x00pending"
RATE_WINDOW = 10  # seconds
REPLAY_LIMIT = 1000  # messages kept in memory while Redis or the NLU is down
REPLAY_INTERVAL = 2.0


class WeChatWebhook:
    """Routes are added when the app is built; the services are connected at start-up."""

    _config: WeChatConfig
    _dialogue: Dialogue
    _redis: Redis
    _api: WeChatApi

    def __init__(self, clock: Callable[[], float] = time.time,
                 budget: float = 4.0,  # a passive reply; WeChat gives up at 5 s
                 rate_limit: int = 10) -> None:  # messages per user in RATE_WINDOW seconds
        self._clock = clock
        self._rate_limit = rate_limit
        self._budget = budget
        self._tasks: set[asyncio.Task[Any]] = set()
        self._replay: collections.deque[Incoming] = collections.deque(maxlen=REPLAY_LIMIT)
        self._replaying: asyncio.Task[None] | None = None
        self._voice: VoiceMaker | None = None

    def connect(self, config: WeChatConfig, dialogue: Dialogue, redis: Redis,
                api: WeChatApi, voice: VoiceMaker | None = None) -> None:
        self._config, self._dialogue, self._redis, self._api = config, dialogue, redis, api
        self._voice = voice  # None: no speech synthesis, answers to be heard go as text

    def setup(self, app: web.Application) -> None:
        app.router.add_get("/wechat", self.verify)
        app.router.add_post("/wechat", self.receive)

    async def verify(self, request: web.Request) -> web.Response:
        try:
            check_request(self._config, dict(request.query), self._clock())
        except ProtocolError as exc:
            return web.Response(status=exc.status, text=exc.reason)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        try:
            check_request(self._config, query, self._clock())
            body = await request.text()
            await self._refuse_reused_signature(query, body)
            push = parse_push(decode_body(self._config, query, body),
                              datetime.fromtimestamp(self._clock(), UTC))
        except ProtocolError as exc:
            log.warning("refused WeChat push: %s", exc.reason)
            return web.Response(status=exc.status, text=exc.reason)
        except UnicodeDecodeError:
            return web.Response(status=400, text="body is not UTF-8")
        reply = await self._reply(push)
        return web.Response(text=render_reply(self._config, push.raw, reply, query),
                            content_type="text/plain" if reply.empty else "application/xml")

    async def _refuse_reused_signature(self, query: dict[str, str], body: str) -> None:
        """In plaintext mode the URL signature does not cover the body: a signature seen
        while its timestamp is accepted may come again only with the same body (a retry),
        never with another one. Safe mode signs the body itself (msg_signature)."""
        if self._config.aes_key:
            return
        key = keys.wechat_signature(query.get("signature", "").lower())
        digest = hashlib.sha256(body.encode()).hexdigest()
        try:
            # A timestamp up to TOLERANCE ahead is accepted until TOLERANCE after it (and
            # during that second itself).
            first = await self._redis.set(key, digest, nx=True,
                                          ex=2 * TIMESTAMP_TOLERANCE + 1)
            if first or await self._redis.get(key) == digest:
                return
        except RedisError:  # the message is kept for replay; freshness is still checked
            log.warning("signature reuse not checked: Redis unavailable")
            return
        raise ProtocolError(403, "signature already used with another body")

    async def _reply(self, push: Push) -> PassiveReply:
        key = keys.wechat_duplicate(push.dedup_key)
        try:
            if not await self._redis.set(key, PENDING, nx=True, ex=DEDUP_TTL):
                return await self._stored_reply(key)  # a retry: same answer as the first
            reply = await self._first_reply(push)
            await self._redis.set(key, reply.stored(), ex=DEDUP_TTL)
            return reply
        except (RedisError, ServiceUnavailable) as exc:
            log.warning("keeping a message for later: %s", type(exc).__name__)
            self._replay.append(push.message)
            if self._replaying is None or self._replaying.done():
                self._replaying = asyncio.create_task(self._replay_when_back())
            return self._made_now(texts.BUSY)
        except Exception:  # the boundary: a bug still gets a kind reply, retries the same
            log.exception("WeChat push failed (kind %s)", push.message.kind.value)
            busy = self._made_now(texts.BUSY)
            with contextlib.suppress(RedisError):
                await self._redis.set(key, busy.stored(), ex=DEDUP_TTL)
            return busy

    def _made_now(self, text: str, voice: str = "") -> PassiveReply:
        return PassiveReply(text, int(self._clock()), voice)

    async def _first_reply(self, push: Push) -> PassiveReply:
        message = push.message
        if message.kind is not Kind.EVENT:
            limited = await self._rate_limited(message.user_id)
            if limited is not None:
                return self._made_now(limited)
        deadline = time.monotonic() + self._budget
        task = asyncio.ensure_future(self._dialogue.handle(message))
        done, _ = await asyncio.wait({task}, timeout=self._budget)
        if not done:  # too slow for a passive reply: answer later by customer service
            self._spawn(self._deliver_later(message.user_id, task))
            return self._made_now("")
        replies = list(task.result().replies)
        if replies and replies[0].read_aloud and self._voice is not None:
            return await self._passive_voice(message.user_id, replies,
                                             deadline - time.monotonic())
        return self._made_now(self._passive_text(message.user_id, _as_text(replies)
                                                 if self._voice is None else replies))

    def _passive_text(self, user: str, replies: list[Reply]) -> str:
        """The passive reply: the written replies joined when they fit (no customer-service
        quota spent), else the first; the rest, and what is read aloud, follow."""
        if not replies:
            return ""
        written = list(takewhile(lambda reply: not reply.read_aloud, replies))
        joined = "\n\n".join(reply.text for reply in written)
        if written and fits_one_reply(joined):
            first, rest = joined, replies[len(written):]
        else:
            first = replies[0].text if fits_one_reply(replies[0].text) else ""
            rest = replies[1:] if first else replies
        if rest:
            self._spawn(self._send(user, rest, wrote=bool(written)))
        return first

    async def _passive_voice(self, user: str, replies: list[Reply],
                             left: float) -> PassiveReply:
        """The first reply as a passive voice reply when its voice is made in time; else it
        comes by customer service. Failed: the text, as if no voice had been asked for."""
        assert self._voice is not None
        making = asyncio.ensure_future(self._voice.voice_media(replies[0].text))
        done, _ = await asyncio.wait({making}, timeout=max(left, 0.0))
        if not done:
            self._spawn(self._voices_later(user, making, replies))
            return self._made_now("")
        try:
            media = making.result()
        except IntegrationError as exc:
            log.warning("voice not made, text instead: %s", exc)
            return self._made_now(self._passive_text(user, _as_text(replies)))
        if media[1:] or replies[1:]:
            self._spawn(self._send_voices(user, media[1:], replies[1:]))
        return self._made_now("", media[0])

    async def _rate_limited(self, user: str) -> str | None:
        # The window opens at the user's first message (not on clock boundaries, where a
        # burst would be split in two and pass).
        key = keys.wechat_rate(user)
        await self._redis.set(key, 0, ex=RATE_WINDOW, nx=True)  # created with its expiry
        count = await self._redis.incr(key)
        if count <= self._rate_limit:
            return None
        return texts.SLOW_DOWN if count == self._rate_limit + 1 else ""  # say it once

    async def _stored_reply(self, key: str) -> PassiveReply:
        deadline = time.monotonic() + self._budget
        while time.monotonic() < deadline:
            stored = await self._redis.get(key)
            if stored is None:  # expired between the two reads: nothing left to repeat
                break
            if stored != PENDING:
                return PassiveReply.from_stored(str(stored))
            await asyncio.sleep(0.05)
        return self._made_now("")  # still working: the answer will come by customer service

    async def _deliver_later(self, user: str, task: asyncio.Future[Turn]) -> None:
        try:
            turn = await task
        except (RedisError, ServiceUnavailable):
            return
        await self._send(user, turn.replies)

    async def _voices_later(self, user: str, making: asyncio.Future[list[str]],
                            replies: list[Reply]) -> None:
        try:
            media = await making
        except IntegrationError as exc:
            log.warning("voice not made, text instead: %s", exc)
            await self._send(user, _as_text(replies))
            return
        await self._send_voices(user, media, replies[1:])

    async def _send_voices(self, user: str, media: list[str], rest: Sequence[Reply]) -> None:
        try:
            for media_id in media:
                await self._api.send_voice(user, media_id)
        except IntegrationError as exc:
            log.warning("customer-service voice message not sent: %s", exc)
            return
        await self._send(user, rest)

    async def _send(self, user: str, replies: Sequence[Reply], wrote: bool = False) -> None:
        """Customer-service messages: text, and voice for what is to be heard (its text when
        the voice cannot be made, unless the turn's text, passive or not, said it: `wrote`)."""
        wrote = wrote or any(not reply.read_aloud for reply in replies)
        for reply in replies:
            try:
                if not reply.read_aloud:
                    await self._api.send_text(user, reply.text)
                    continue
                media = await self._voice_or_nothing(reply.text)
                if not media and not wrote:
                    await self._api.send_text(user, reply.text)
                for media_id in media:
                    await self._api.send_voice(user, media_id)
            except IntegrationError as exc:  # quota used up or API down: SMS is issue #6
                log.warning("customer-service message not sent: %s", exc)
                return

    async def _voice_or_nothing(self, text: str) -> list[str]:
        if self._voice is None:
            return []
        try:
            return await self._voice.voice_media(text)
        except IntegrationError as exc:
            log.warning("voice not made, text instead: %s", exc)
            return []

    async def _replay_when_back(self) -> None:
        """Handle kept messages once Redis and the NLU answer again."""
        while self._replay:
            message = self._replay[0]
            try:
                turn = await self._dialogue.handle(message)
            except (RedisError, ServiceUnavailable):
                await asyncio.sleep(REPLAY_INTERVAL)
                continue
            self._replay.popleft()
            await self._send(message.user_id, turn.replies)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Let background deliveries finish (bounded), then stop."""
        if self._replaying is not None:
            self._replaying.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self._budget)
        for task in list(self._tasks):
            task.cancel()


def _as_text(replies: Sequence[Reply]) -> list[Reply]:
    """The replies with no voice: what was to be heard is written — unless the turn has
    written replies, which it only reads aloud again (the voice preference)."""
    wrote = any(not reply.read_aloud for reply in replies)
    return [Reply(reply.text) for reply in replies if not (reply.read_aloud and wrote)]
