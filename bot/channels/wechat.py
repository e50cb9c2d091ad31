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
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
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
from bot.messages import Incoming, Kind
from bot.storage import keys
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

    def connect(self, config: WeChatConfig, dialogue: Dialogue, redis: Redis,
                api: WeChatApi) -> None:
        self._config, self._dialogue, self._redis, self._api = config, dialogue, redis, api

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
                            content_type="application/xml" if reply.text else "text/plain")

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
            reply = self._made_now(await self._first_reply(push))
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

    def _made_now(self, text: str) -> PassiveReply:
        return PassiveReply(text, int(self._clock()))

    async def _first_reply(self, push: Push) -> str:
        message = push.message
        if message.kind is not Kind.EVENT:
            limited = await self._rate_limited(message.user_id)
            if limited is not None:
                return limited
        task = asyncio.ensure_future(self._dialogue.handle(message))
        done, _ = await asyncio.wait({task}, timeout=self._budget)
        if not done:  # too slow for a passive reply: answer later by customer service
            self._spawn(self._deliver_later(message.user_id, task))
            return ""
        replies = [reply.text for reply in task.result().replies]
        joined = "\n\n".join(replies)
        if fits_one_reply(joined):  # one passive reply: no customer-service quota spent
            return joined
        first = replies[0] if fits_one_reply(replies[0]) else ""
        rest = replies[1:] if first else replies
        if rest:
            self._spawn(self._send(message.user_id, rest))
        return first

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

    async def _deliver_later(self, user: str, task: asyncio.Future[Any]) -> None:
        try:
            turn = await task
        except (RedisError, ServiceUnavailable):
            return
        await self._send(user, [reply.text for reply in turn.replies])

    async def _send(self, user: str, replies: list[str]) -> None:
        for text in replies:
            try:
                await self._api.send_text(user, text)
            except IntegrationError as exc:  # quota used up or API down: SMS is issue #6
                log.warning("customer-service message not sent: %s", exc)
                return

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
            await self._send(message.user_id, [reply.text for reply in turn.replies])

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
