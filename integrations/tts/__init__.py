"""Outbound: speech synthesis (语音合成) behind one interface — Tencent Cloud's TextToVoice and
Aliyun's 短文本语音合成, chosen by configuration (TTS_PROVIDER), through their real signed
HTTP APIs.

A synthesizer takes one short text (at most `max_chars`, its API's limit for one request)
and returns it spoken, as MP3 at 16 kHz: WeChat takes MP3 (and AMR) voice messages of up to
2 MB and 60 s. Failures are IntegrationError (ServiceUnavailable when worth trying again):
the channel then sends the text instead.
"""

from __future__ import annotations

from typing import Protocol

SAMPLE_RATE = 16_000  # Hz: speech, both providers
CODEC = "mp3"


class Synthesizer(Protocol):
    name: str
    max_chars: int  # characters the API speaks in one request

    async def synthesize(self, text: str) -> bytes: ...
