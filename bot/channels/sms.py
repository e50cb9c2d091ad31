"""Channel stage: villagers' SMS to the center's number (上行短信), answered by SMS.

    POST /sms/uplink/aliyun/{token}   Aliyun SmsUp, HTTP batch push: a JSON array of
        {"phone_number", "content", "send_time", "sign_name", "dest_code", "sequence_id"}
        → {"code": 0, "msg": …}; a non-200 or no answer is pushed again after 1, 5 and
        10 minutes (https://help.aliyun.com/zh/sms/developer-reference/smsup-http)
    POST /sms/uplink/tencent/{token}  Tencent Cloud 短信回复: one JSON object
        {"mobile", "nationcode", "text", "sign", "time" (Unix s), "extend"}
        → {"result": 0, "errmsg": "OK"} (https://cloud.tencent.com/document/api/382/59179)

"Signed" as far as the providers allow: neither signs these callbacks (their `sign` /
`sign_name` is the SMS signature text, public), so they pass the receipts' gate — the
secret in the URL (SMS_RECEIPT_TOKEN, constant time) and the optional address list
(SMS_RECEIPT_ALLOW) — and are answered with each provider's own acknowledgement.

The phone number is the villager: each SMS becomes Incoming(Channel.SMS, user_id=<11-digit
mobile>, Kind.TEXT) for the same dialogue WeChat uses. A provider's retry is handled once:
Redis `SET NX` on Aliyun's sequence_id, on a hash of mobile, time and text for Tencent,
shared by every worker. When Redis, the NLU or the database is away the callback answers
503, the mark is removed, and the provider pushes the message again later: nothing is lost.

Answers go back through the notice outbox (bot/notices/replies.py), not straight to the
provider: durable, sent by the notice workers with the providers' per-number limits,
retries, the delivery log and receipts, as every other SMS of the bot. They are shaped
here for SMS first (bot/channels/sms_text.py): ≤ 70 characters with the sign, split and
numbered only when needed, and capped per phone per day.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.sms_receipts import ACKS, CallbackGate, IpNetwork
from bot.dialogue.manager import Dialogue
from bot.messages import Channel, Incoming, Kind
from bot.notices.replies import SmsReplies
from bot.notices.sms_text import room, split_for_sms
from bot.storage import keys
from integrations.errors import ServiceUnavailable

log = logging.getLogger(__name__)
DEDUP_TTL = 86400  # seconds: Aliyun's later pushes come within hours
PENDING, DONE = "pending", "done"
MOBILE = re.compile(r"1[3-9]\d{9}")
MAX_TEXT = 1000  # characters of one SMS kept (a long SMS is a few hundred at most)


@dataclass(frozen=True, slots=True)
class Uplink:
    """One SMS a villager sent, whichever provider brought it."""

    phone: str
    text: str
    key: str  # the same for every push of this SMS


def mobile(raw: object, nation: object = "86") -> str | None:
    """The sender as an 11-digit mainland mobile number; None for anything else (a
    foreign number cannot be answered with the center's domestic templates)."""
    digits = re.sub(r"\D", "", str(raw))
    if str(nation).lstrip("+0") != "86":
        return None
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if MOBILE.fullmatch(digits) else None


def _text(raw: object) -> str:
    return str(raw or "").replace("\x00", "")[:MAX_TEXT]


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def aliyun_uplink(item: dict[str, Any]) -> Uplink | None:
    phone = mobile(item.get("phone_number"))
    if phone is None:
        return None
    sequence = item.get("sequence_id")  # a number in older pages, a string in newer ones
    key = f"aliyun:{sequence}" if sequence not in (None, "") else \
        f"aliyun:{_digest(phone, item.get('send_time'), item.get('content'))}"
    return Uplink(phone, _text(item.get("content")), key[:80])


def tencent_uplink(item: dict[str, Any]) -> Uplink | None:
    phone = mobile(item.get("mobile"), item.get("nationcode", "86"))
    if phone is None:
        return None
    text = _text(item.get("text"))
    return Uplink(phone, text, f"tencent:{_digest(phone, item.get('time'), text)}")


PARSERS: dict[str, Callable[[dict[str, Any]], Uplink | None]] = {
    "aliyun": aliyun_uplink, "tencent": tencent_uplink}


class SmsUplink:
    """Routes are added when the app is built; the services are connected at start-up."""

    _dialogue: Dialogue
    _redis: Redis
    _replies: SmsReplies
    _room: int

    def __init__(self, gate: CallbackGate,
                 clock: Callable[[], float] = time.time) -> None:
        self._gate = gate
        self._clock = clock

    def connect(self, dialogue: Dialogue, redis: Redis, replies: SmsReplies) -> None:
        self._dialogue, self._redis, self._replies = dialogue, redis, replies
        self._room = room(*replies.frame)

    async def receive(self, request: web.Request) -> web.Response:
        name = request.match_info["provider"]
        ack = ACKS[name]
        items = await self._gate.items(request, ack)
        if isinstance(items, web.Response):
            return items
        found = [PARSERS[name](item) if isinstance(item, dict) else None for item in items]
        uplinks = [uplink for uplink in found if uplink is not None]
        if len(uplinks) < len(items):
            log.warning("%s SMS reply: %d of %d items without a mainland mobile number",
                        name, len(items) - len(uplinks), len(items))
        if items and not uplinks:
            return web.json_response(ack.refused("no message from a mobile number"),
                                     status=400)
        try:
            for uplink in uplinks:  # in order: one phone's messages follow each other
                await self._handle(uplink)
        except (RedisError, ServiceUnavailable, SQLAlchemyError, OSError) as exc:
            log.warning("SMS reply kept for the provider's next push: %s", type(exc).__name__)
            return web.json_response(ack.refused("busy"), status=503)
        return web.json_response(ack.ok)

    async def _handle(self, uplink: Uplink) -> None:
        """Once per SMS, whatever the provider's retries: the dialogue, then the answer."""
        mark = keys.sms_uplink(uplink.key)
        if not await self._redis.set(mark, PENDING, nx=True, ex=DEDUP_TTL):
            return  # a retry of one handled (or being handled) already
        try:
            message = Incoming(Channel.SMS, uplink.phone, Kind.TEXT,
                               datetime.fromtimestamp(self._clock(), UTC), text=uplink.text)
            turn = await self._dialogue.handle(message)
            parts = split_for_sms([reply.text for reply in turn.replies], self._room)
            await self._replies.answer(uplink.phone, parts, uplink.key, message.received_at)
        except BaseException:
            with contextlib.suppress(RedisError):  # the provider's next push tries again
                await self._redis.delete(mark)
            raise
        await self._redis.set(mark, DONE, ex=DEDUP_TTL)


SMS_UPLINK = web.AppKey("sms_uplink", SmsUplink)


def setup_routes(app: web.Application, token: str | None,
                 allowed: tuple[IpNetwork, ...] = ()) -> None:
    """The reply endpoints, behind the receipts' token (off without one)."""
    if token is None:
        return
    uplink = SmsUplink(CallbackGate(token, allowed))
    app[SMS_UPLINK] = uplink
    app.router.add_post(r"/sms/uplink/{provider:aliyun|tencent}/{token}", uplink.receive)
