"""Outbound: speech recognition (一句话识别) behind one interface — Tencent Cloud's (with its
dialect engine) and Aliyun's, chosen by configuration (ASR_PROVIDER), through their real
signed HTTP APIs.

A recognizer takes one short voice message as 16 kHz mono WAV (integrations/audio.py turns
WeChat's AMR into it) and returns the words heard, or "" when it heard none. Failures are
IntegrationError (ServiceUnavailable when worth trying again): the dialogue then says it did
not catch the message, as when WeChat sends no recognition.
"""

from __future__ import annotations

from typing import Protocol

SAMPLE_RATE = 16_000  # Hz: both providers' Mandarin and dialect engines
MAX_SECONDS = 60  # WeChat's longest voice message, and both APIs' limit for one sentence


class Recognizer(Protocol):
    name: str

    async def recognize(self, wav: bytes) -> str: ...
