"""A local fake of Tencent Cloud's and Aliyun's 一句话识别 APIs, for tests and benchmarks.

Speaks both protocols as the real services do: Tencent's TC3-signed JSON SentenceRecognition
(`/tencent/`: the base64 audio, its length, the engine and format) and Aliyun's NLS — a
CreateToken RPC call signed HMAC-SHA1 (`/aliyun-meta/`) and the RESTful recognition with that
token and the app key (`/aliyun-asr`). Each checks the signature or token, and that the audio
is what the engines take: WAV, 16 kHz, mono, at most 60 s. What it "hears" is scripted:
`state.will_hear("王秀英", …)` queues the next results; with none queued it hears nothing.
`state.delay` makes it slow, like a provider on a bad day.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import struct
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from aiohttp import web

from integrations.signing import aliyun_signature, tc3_signature

KEY_ID, SECRET, APP_KEY = "fake-asr-key", "fake-asr-secret", "fake-appkey"
ENGINES = frozenset({"16k_zh", "16k_zh_dialect", "16k_zh-PY"})


class HasTokens(Protocol):
    tokens: dict[str, float]  # Aliyun NLS token → expiry


FakeState = TypeVar("FakeState", bound=HasTokens)


@dataclass
class FakeAsrState:
    heard: deque[str] = field(default_factory=deque)
    tokens: dict[str, float] = field(default_factory=dict)  # Aliyun token → expiry
    requests: int = 0
    delay: float = 0.0

    def will_hear(self, *words: str) -> None:
        self.heard.extend(words)


STATE = web.AppKey("fake_asr_state", FakeAsrState)


def audio_problem(wav: bytes) -> str | None:
    """What the engines would refuse in `wav`, or None."""
    if len(wav) < 44 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        return "not a WAV file"
    channels, rate = struct.unpack("<HI", wav[22:28])
    if rate != 16_000 or channels != 1:
        return f"{rate} Hz, {channels} channels: 16 kHz mono only"
    if len(wav) - 44 > 60 * 16_000 * 2:
        return "longer than 60 s"
    return None


async def _heard(state: FakeAsrState) -> str:
    state.requests += 1
    if state.delay:
        await asyncio.sleep(state.delay)
    return state.heard.popleft() if state.heard else ""


def tencent_error(code: str, message: str) -> web.Response:
    return web.json_response({"Response": {"Error": {"Code": code, "Message": message},
                                           "RequestId": "fake"}})


def tencent_refusal(request: web.Request, payload: bytes, service: str, action: str,
                    key_id: str = KEY_ID, secret: str = SECRET) -> web.Response | None:
    """Tencent Cloud API 3.0's checks of a call (shared with the fake TTS): the key, the
    TC3 signature, its freshness and the action; None when it passes."""
    try:
        timestamp = int(request.headers.get("X-TC-Timestamp", "0"))
    except ValueError:
        timestamp = 0
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    expected = tc3_signature(secret, request.host, payload, timestamp, date, service)
    authorization = request.headers.get("Authorization", "")
    if f"Credential={key_id}/" not in authorization or \
            f"/{service}/tc3_request" not in authorization:
        return tencent_error("AuthFailure.SecretIdNotFound", "SecretId不存在")
    if not authorization.endswith(f"Signature={expected}"):
        return tencent_error("AuthFailure.SignatureFailure", "签名错误")
    if abs(time.time() - timestamp) > 300:
        return tencent_error("AuthFailure.SignatureExpire", "签名过期")
    if request.headers.get("X-TC-Action") != action:
        return tencent_error("InvalidAction", "接口不存在")
    return None


async def tencent(request: web.Request) -> web.Response:
    state = request.app[STATE]
    payload = await request.read()
    error = tencent_error
    if refused := tencent_refusal(request, payload, "asr", "SentenceRecognition"):
        return refused
    body = json.loads(payload)
    if body.get("EngSerViceType") not in ENGINES:
        return error("InvalidParameterValue", "EngSerViceType 不支持")
    try:
        wav = base64.b64decode(str(body.get("Data", "")), validate=True)
    except binascii.Error:
        return error("InvalidParameterValue", "Data 不是 base64")
    if body.get("SourceType") != 1 or body.get("DataLen") != len(wav) or \
            body.get("VoiceFormat") != "wav":
        return error("InvalidParameter", "SourceType、DataLen 或 VoiceFormat 不对")
    if problem := audio_problem(wav):
        return error("FailedOperation.ErrorDecodeAudio", problem)
    words = await _heard(state)
    return web.json_response({"Response": {"Result": words, "AudioDuration": (
        len(wav) - 44) // 32, "WordSize": 0, "RequestId": "fake"}})


def create_token(request: web.Request, tokens: dict[str, float], key_id: str = KEY_ID,
                 secret: str = SECRET) -> web.Response:
    """NLS CreateToken (shared with the fake TTS): a signed RPC call, a token for a day."""
    params = dict(request.query)
    given = params.pop("Signature", "")
    if params.get("AccessKeyId") != key_id:
        return web.json_response({"Code": "InvalidAccessKeyId.NotFound"}, status=404)
    if given != aliyun_signature("GET", params, secret) or params.get("Action") != "CreateToken":
        return web.json_response({"Code": "SignatureDoesNotMatch"}, status=400)
    token = secrets.token_hex(16)
    tokens[token] = time.time() + 86_400
    return web.json_response({"Token": {"Id": token, "ExpireTime": int(tokens[token]),
                                        "UserId": "fake"}, "RequestId": "fake"})


async def aliyun_asr(request: web.Request) -> web.Response:
    state = request.app[STATE]

    def answer(status: int, message: str, result: str = "") -> web.Response:
        return web.json_response({"task_id": secrets.token_hex(8), "result": result,
                                  "status": status, "message": message})

    if state.tokens.get(request.headers.get("X-NLS-Token", ""), 0) < time.time():
        return answer(40000001, "Gateway:ACCESS_DENIED:The token is invalid!")
    query = request.query
    if query.get("appkey") != APP_KEY:
        return answer(40020105, "Meta:APPKEY_NOT_EXIST")
    if query.get("format") != "wav" or query.get("sample_rate") != "16000":
        return answer(40000000, "format or sample_rate")
    if problem := audio_problem(await request.read()):
        return answer(40000004, problem)
    return answer(20_000_000, "SUCCESS", await _heard(state))


@dataclass
class SpeechFake(Generic[FakeState]):
    """A running fake speech service (this one or the fake TTS): its state and endpoints."""

    url: str
    state: FakeState
    aliyun_path: str  # the Aliyun service's own path; the token call is shared

    @property
    def tencent_endpoint(self) -> str:
        return f"{self.url}/tencent/"

    @property
    def aliyun_token_endpoint(self) -> str:
        return f"{self.url}/aliyun-meta/"

    @property
    def aliyun_endpoint(self) -> str:
        return f"{self.url}{self.aliyun_path}"


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve_speech_fake(state: FakeState, key: web.AppKey[FakeState], tencent: Handler,
                            aliyun_path: str, aliyun: Handler, port: int = 0,
                            max_body: int = 1024 ** 2) -> AsyncIterator[SpeechFake[FakeState]]:
    """Serve a fake speech service on 127.0.0.1: Tencent's API, Aliyun's token call (its
    tokens in `state.tokens`) and Aliyun's service at `aliyun_path`."""
    app = web.Application(client_max_size=max_body)
    app[key] = state

    async def token(request: web.Request) -> web.Response:
        return create_token(request, request.app[key].tokens)

    app.router.add_post("/tencent/", tencent)
    app.router.add_get("/aliyun-meta/", token)
    app.router.add_post(aliyun_path, aliyun)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield SpeechFake(f"http://127.0.0.1:{runner.addresses[0][1]}", state, aliyun_path)
    finally:
        await runner.cleanup()


@asynccontextmanager
async def start_fake_asr(port: int = 0) -> AsyncIterator[SpeechFake[FakeAsrState]]:
    async with serve_speech_fake(FakeAsrState(), STATE, tencent, "/aliyun-asr", aliyun_asr,
                                 port, 8 * 1024 * 1024) as fake:
        yield fake
