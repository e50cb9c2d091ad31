"""Normalized message stage: what every channel turns its input into, and what comes back.

Channel adapters (WeChat, SMS, the shell, the simulator) build these frozen records; nothing
after this point knows which protocol a message came by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    WECHAT = "wechat"
    SMS = "sms"  # user_id is the 11-digit mobile number: the phone is the villager
    SHELL = "shell"


class Kind(StrEnum):
    TEXT = "text"
    VOICE = "voice"  # text holds WeChat's speech recognition, when it sent one
    IMAGE = "image"
    FILE = "file"
    LOCATION = "location"
    LINK = "link"
    EVENT = "event"
    UNSUPPORTED = "unsupported"


class Event(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    MENU_CLICK = "click"
    MENU_VIEW = "view"
    SCAN = "scan"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    label: str = ""


@dataclass(frozen=True, slots=True)
class Incoming:
    channel: Channel
    user_id: str
    kind: Kind
    received_at: datetime
    text: str = ""
    media_id: str = ""
    event: Event | None = None
    event_key: str = ""
    location: Location | None = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """One message of the bot. `read_aloud`: the villager is to hear it — the channel sends
    it as voice where it can, and as this text where it cannot, unless the same turn has
    written replies (then it only reads them aloud again)."""

    text: str
    read_aloud: bool = False


@dataclass(frozen=True, slots=True)
class Turn:
    """What the dialogue answers to one message (possibly nothing: unsubscribe)."""

    replies: tuple[Reply, ...] = field(default_factory=tuple)
