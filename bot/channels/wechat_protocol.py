"""Channel stage: WeChat official-account message protocol (接收普通消息 / 被动回复 / 消息加解密).

Pure functions and small records, no I/O: check the URL signature (constant time), refuse
stale timestamps and XML with a DOCTYPE, decrypt safe/compatible-mode bodies with wechatpy's
WeChatCrypto, turn wechatpy's message objects into the project's `Incoming`, and render a
passive text or voice reply (encrypted again in AES modes).

WeChat docs: 消息管理 › 接收普通消息 / 接收事件推送 / 被动回复用户消息 / 消息加解密说明.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.parsers.expat import ExpatError

from wechatpy import events, messages, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply, VoiceReply

from bot.messages import Channel, Event, Incoming, Kind, Location

TIMESTAMP_TOLERANCE = 300  # seconds; WeChat's retries come within about 15 s
MAX_TEXT_REPLY_BYTES = 2048  # one passive text reply
SUCCESS = "success"  # WeChat's "no reply" answer
VOICE_MARK = "\x00voice:"  # a stored voice reply (no text holds a NUL)


class ProtocolError(Exception):
    """The request is not a valid WeChat push; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    token: str
    app_id: str
    aes_key: str | None = None  # set → safe (or compatible) mode: replies are encrypted

    def crypto(self) -> WeChatCrypto | None:
        return WeChatCrypto(self.token, self.aes_key, self.app_id) if self.aes_key else None


@dataclass(frozen=True, slots=True)
class Push:
    """One decoded push: the message, the key WeChat's retries share, and who sent it."""

    message: Incoming
    dedup_key: str
    raw: Any  # the wechatpy message (for the reply's From/To)


@dataclass(frozen=True, slots=True)
class PassiveReply:
    """The text of a passive reply — or the media id of a voice reply — and the second it was
    made (its CreateTime): WeChat's retries of one push are answered with exactly the same
    reply."""

    text: str
    created: int
    voice: str = ""

    def stored(self) -> str:
        return f"{self.created} {VOICE_MARK + self.voice if self.voice else self.text}"

    @classmethod
    def from_stored(cls, stored: str) -> PassiveReply:
        created, _, text = stored.partition(" ")
        if text.startswith(VOICE_MARK):
            return cls("", int(created), text.removeprefix(VOICE_MARK))
        return cls(text, int(created))

    @property
    def empty(self) -> bool:
        return not (self.text or self.voice)


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def check_request(config: WeChatConfig, query: dict[str, str], now: float) -> None:
    """Signature and freshness of any request to /wechat (GET or POST)."""
    given = query.get("signature", "")
    timestamp = query.get("timestamp", "")
    nonce = query.get("nonce", "")
    expected = signature(config.token, timestamp, nonce)
    if not given or not hmac.compare_digest(expected, given.lower()):
        raise ProtocolError(403, "bad signature")
    try:
        sent = int(timestamp)
    except ValueError:
        raise ProtocolError(403, "bad timestamp") from None
    if abs(now - sent) > TIMESTAMP_TOLERANCE:
        raise ProtocolError(403, "stale timestamp")


def decode_body(config: WeChatConfig, query: dict[str, str], body: str) -> str:
    """The plaintext XML of a push, decrypted in safe and compatible modes."""
    lowered = body[:4096].lower()
    if "<!doctype" in lowered or "<!entity" in lowered:
        raise ProtocolError(400, "DOCTYPE not allowed")  # no entity expansion, no XXE
    crypto = config.crypto()
    encrypted = query.get("encrypt_type", "raw").lower() == "aes"
    if crypto is None:
        if encrypted:
            raise ProtocolError(400, "encrypted push but no WECHAT_AES_KEY configured")
        return body
    if not encrypted:
        raise ProtocolError(400, "plaintext push refused in safe mode")
    try:
        plain: str = crypto.decrypt_message(body, query.get("msg_signature", ""),
                                            query.get("timestamp", ""), query.get("nonce", ""))
    except (InvalidSignatureException, InvalidAppIdException):
        raise ProtocolError(403, "bad message signature") from None
    except (ExpatError, KeyError, TypeError):
        raise ProtocolError(400, "malformed XML") from None
    except Exception:  # wrong AES key: padding or decoding fails inside the cipher
        raise ProtocolError(400, "cannot decrypt") from None
    return plain


_EVENTS: dict[type[Any], Event] = {
    events.SubscribeEvent: Event.SUBSCRIBE,
    events.SubscribeScanEvent: Event.SUBSCRIBE,
    events.UnsubscribeEvent: Event.UNSUBSCRIBE,
    events.ClickEvent: Event.MENU_CLICK,
    events.ViewEvent: Event.MENU_VIEW,
    events.ScanEvent: Event.SCAN,
}


def parse_push(xml: str, received_at: datetime) -> Push:
    try:
        raw = parse_message(xml)
    except (ExpatError, KeyError, TypeError, ValueError):
        raise ProtocolError(400, "malformed XML") from None
    if raw is None or not raw.source:
        raise ProtocolError(400, "not a WeChat message")
    return Push(_normalize(raw, received_at), _dedup_key(raw), raw)


def _dedup_key(raw: Any) -> str:
    # Messages carry MsgId; events are identified by FromUserName + CreateTime, and here by
    # the event and its key too: a follow and a menu tap in the same second are two pushes.
    if isinstance(raw, events.BaseEvent) or not raw.id:
        event = f"{getattr(raw, 'event', '')}:{getattr(raw, 'key', '')}"
        return f"{raw.source}:{raw.time}:{raw.type}:{event}"
    return str(raw.id)


def _normalize(raw: Any, received_at: datetime) -> Incoming:
    def incoming(kind: Kind, **fields: Any) -> Incoming:
        return Incoming(Channel.WECHAT, raw.source, kind, received_at, **fields)

    if isinstance(raw, messages.TextMessage):
        return incoming(Kind.TEXT, text=raw.content or "")
    if isinstance(raw, messages.VoiceMessage):
        return incoming(Kind.VOICE, text=raw.recognition or "", media_id=raw.media_id or "")
    if isinstance(raw, messages.ImageMessage):
        return incoming(Kind.IMAGE, media_id=raw.media_id or "", url=raw.image or "")
    if isinstance(raw, messages.VideoMessage | messages.ShortVideoMessage):
        return incoming(Kind.FILE, media_id=raw.media_id or "")
    if isinstance(raw, messages.LocationMessage):
        location = Location(float(raw.location_x or 0), float(raw.location_y or 0),
                            raw.label or "")
        return incoming(Kind.LOCATION, location=location)
    if isinstance(raw, messages.LinkMessage):
        return incoming(Kind.LINK, text=raw.title or "", url=raw.url or "")
    if isinstance(raw, events.BaseEvent):
        event = _EVENTS.get(type(raw), Event.OTHER)
        key = str(getattr(raw, "key", "") or getattr(raw, "scene_id", "") or "")
        return incoming(Kind.EVENT, event=event, event_key=key)
    if raw._data.get("MsgType") == "file":  # not modelled by wechatpy
        return incoming(Kind.FILE, media_id=str(raw._data.get("MediaId", "")))
    return incoming(Kind.UNSUPPORTED)


def render_reply(config: WeChatConfig, raw: Any, reply: PassiveReply,
                 query: dict[str, str]) -> str:
    """The passive reply body: text or voice XML, encrypted in AES modes; `success` for
    none."""
    if reply.empty:
        return SUCCESS
    xml: str = VoiceReply(source=raw.target, target=raw.source, media_id=reply.voice,
                          time=reply.created).render() if reply.voice else \
        TextReply(source=raw.target, target=raw.source, content=reply.text,
                  time=reply.created).render()
    crypto = config.crypto()
    if crypto is None:
        return xml
    encrypted: str = crypto.encrypt_message(xml, query.get("nonce", ""),
                                            query.get("timestamp") or None)
    return encrypted


def fits_one_reply(text: str) -> bool:
    return len(text.encode()) <= MAX_TEXT_REPLY_BYTES

