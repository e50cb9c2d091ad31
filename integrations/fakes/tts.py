"""A local fake of Tencent Cloud's and Aliyun's speech synthesis APIs, for tests and
benchmarks.

Speaks both protocols as the real services do: Tencent's TC3-signed JSON TextToVoice
(`/tencent/`: at most 150 characters, base64 audio back) and Aliyun's NLS — the signed
CreateToken call (`/aliyun-meta/`, shared with the fake ASR) and the RESTful 短文本语音合成
with that token and the app key (`/aliyun-tts`: audio/mpeg back, or a JSON refusal). The
audio is real: an MP3 made by the static ffmpeg, as long as the text takes to say (about 4
characters a second), with the text in its ID3 title; `state.text_of(audio)` tells which
text an MP3 it made says, so a test can follow it through WeChat. `state.delay` makes it
slow and `state.down` makes it fail, like a provider on a bad day.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import imageio_ffmpeg
from aiohttp import web

from integrations.fakes.asr import (
    KEY_ID,
    SECRET,
    SpeechFake,
    serve_speech_fake,
    tencent_error,
    tencent_refusal,
)

APP_KEY = "fake-tts-appkey"
CHARS_PER_SECOND = 4.0
TENCENT_MAX, ALIYUN_MAX = 150, 300


@dataclass
class FakeTtsState:
    said: list[str] = field(default_factory=list)  # every text spoken, in order
    made: dict[str, str] = field(default_factory=dict)  # SHA-256 of an MP3 → its text
    cache: dict[str, bytes] = field(default_factory=dict)  # text → its MP3
    tokens: dict[str, float] = field(default_factory=dict)  # Aliyun token → expiry
    requests: int = 0
    delay: float = 0.0
    down: bool = False

    def text_of(self, audio: bytes) -> str | None:
        return self.made.get(hashlib.sha256(audio).hexdigest())


STATE = web.AppKey("fake_tts_state", FakeTtsState)


async def speak(text: str) -> bytes:
    """A real MP3 (16 kHz mono) as long as `text` takes to say, the text in its ID3 title."""
    seconds = max(1.0, len(text) / CHARS_PER_SECOND)
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
        "-i", f"sine=frequency=220:duration={seconds:.2f}", "-ar", "16000", "-ac", "1",
        "-c:a", "libmp3lame", "-b:a", "32k", "-metadata", f"title={text}", "-f", "mp3",
        "pipe:1", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(err.decode(errors="replace"))
    return out


async def _spoken(state: FakeTtsState, text: str) -> bytes:
    state.requests += 1
    if state.delay:
        await asyncio.sleep(state.delay)
    # one text always makes the same file: made once (a benchmark times the adapters, not
    # ffmpeg)
    audio = state.cache.get(text) or await speak(text)
    state.cache[text] = audio
    state.said.append(text)
    state.made[hashlib.sha256(audio).hexdigest()] = text
    return audio


async def tencent(request: web.Request) -> web.Response:
    state = request.app[STATE]
    payload = await request.read()
    if refused := tencent_refusal(request, payload, "tts", "TextToVoice"):
        return refused
    if state.down:
        return tencent_error("InternalError.ServerError", "服务内部错误")
    body: dict[str, Any] = json.loads(payload)
    text = str(body.get("Text", ""))
    if not text or not body.get("SessionId"):
        return tencent_error("MissingParameter", "Text 或 SessionId 缺失")
    if len(text) > TENCENT_MAX:
        return tencent_error("InvalidParameterValue.TextTooLong", "文本超过 150 个字符")
    if not isinstance(body.get("VoiceType", 0), int) or body.get("Codec") != "mp3":
        return tencent_error("InvalidParameterValue", "VoiceType 或 Codec 不对(这里只有 mp3)")
    audio = await _spoken(state, text)
    return web.json_response({"Response": {
        "Audio": base64.b64encode(audio).decode(), "SessionId": body["SessionId"],
        "Subtitles": [], "RequestId": "fake"}})


async def aliyun_tts(request: web.Request) -> web.Response:
    state = request.app[STATE]

    def refused(status: int, message: str) -> web.Response:
        return web.json_response({"task_id": "fake", "result": "", "status": status,
                                  "message": message})

    try:
        body: dict[str, Any] = await request.json()
    except ValueError:
        return refused(40000000, "body is not JSON")
    if state.tokens.get(str(body.get("token", "")), 0) < time.time():
        return refused(40000001, "Gateway:ACCESS_DENIED:The token is invalid!")
    if body.get("appkey") != APP_KEY:
        return refused(40020105, "Meta:APPKEY_NOT_EXIST")
    if state.down:
        return refused(50000000, "Gateway:INTERNAL_ERROR")
    if body.get("format") != "mp3" or body.get("sample_rate") not in (8000, 16000):
        return refused(40000000, "format or sample_rate")
    text = str(body.get("text", ""))[:ALIYUN_MAX]  # the real one cuts the rest off
    if not text:
        return refused(40000000, "text is empty")
    return web.Response(body=await _spoken(state, text), content_type="audio/mpeg")


@asynccontextmanager
async def start_fake_tts(port: int = 0) -> AsyncIterator[SpeechFake[FakeTtsState]]:
    async with serve_speech_fake(FakeTtsState(), STATE, tencent, "/aliyun-tts", aliyun_tts,
                                 port) as fake:
        yield fake


__all__ = ["APP_KEY", "KEY_ID", "SECRET", "FakeTtsState", "start_fake_tts"]
