"""Outbound: SMS providers behind one interface (Aliyun, Tencent Cloud, the console).

A provider takes one message to one number — sign name, template code, the template's
parameters and the idempotency key the provider echoes back (Aliyun OutId, Tencent
SessionContext) — and says what happened in the terms the notice workers act on:

    sent       accepted; the provider's message id is kept in the delivery log
    retry      the provider or the network failed: try again later (backoff)
    throttled  a per-number limit of the provider: try again when it lifts
    failed     this message can never go (bad number, template not approved): give up

Chinese SMS: 70 characters fit one message; a longer one is sent in parts of 67.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

SINGLE = 70
PART = 67


def segments(text: str) -> int:
    """How many SMS a text costs (sign name included by the caller)."""
    return 1 if len(text) <= SINGLE else math.ceil(len(text) / PART)


@dataclass(frozen=True, slots=True)
class SmsMessage:
    phone: str
    sign_name: str
    template: str  # the provider's template code for this kind
    params: dict[str, str]  # in the template's order (Tencent takes them as a list)
    text: str  # what the villager reads (for the console and the logs)
    key: str  # idempotency key


@dataclass(frozen=True, slots=True)
class SmsResult:
    outcome: str  # sent / retry / throttled / failed
    code: str = ""
    detail: str = ""
    message_id: str | None = None
    parts: int = 1


class SmsProvider(Protocol):
    name: str

    async def send(self, message: SmsMessage) -> SmsResult: ...
