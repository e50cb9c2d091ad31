"""Outbound: Aliyun 智能语音交互 短文本语音合成 (RESTful, POST /stream/v1/tts) with its NLS
access token (integrations/nls.py, shared with speech recognition). The answer is the audio
(Content-Type audio/mpeg), or JSON with a status code when it refused. One request speaks at
most 300 characters (more are cut off).
"""

from __future__ import annotations

from typing import Any

import aiohttp

from integrations.errors import ServiceUnavailable
from integrations.nls import DEFAULT_TOKEN_ENDPOINT, NlsToken
from integrations.tts import CODEC, SAMPLE_RATE

PROVIDER = "aliyun-tts"
DEFAULT_ENDPOINT = "https://nls-gateway-cn-shanghai.aliyuncs.com/stream/v1/tts"
DEFAULT_VOICE = "xiaoyun"  # 小云, standard female voice
MAX_CHARS = 300


class AliyunTts:
    name = "aliyun"
    max_chars = MAX_CHARS

    def __init__(self, session: aiohttp.ClientSession, access_key_id: str, secret: str,
                 app_key: str, voice: str = DEFAULT_VOICE, endpoint: str = DEFAULT_ENDPOINT,
                 token_endpoint: str = DEFAULT_TOKEN_ENDPOINT, timeout: float = 4.0) -> None:
        self._session = session
        self._token = NlsToken(session, PROVIDER, access_key_id, secret, token_endpoint,
                               timeout)
        self._app_key = app_key
        self._voice = voice
        self._endpoint = endpoint
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def synthesize(self, text: str) -> bytes:
        again = True  # a refused token is asked for once more
        while True:
            audio, refused = await self._request({
                "appkey": self._app_key, "token": await self._token.get(), "text": text,
                "format": CODEC, "sample_rate": SAMPLE_RATE, "voice": self._voice,
                "volume": 50, "speech_rate": -100, "pitch_rate": 0})  # a little slower
            if audio:
                return audio
            self._token.refused(int(refused.get("status", 0) or 0),
                                str(refused.get("message", "")), again)
            again = False

    async def _request(self, body: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
        """The audio, or b"" and the gateway's JSON refusal."""
        try:
            async with self._session.post(self._endpoint, json=body,
                                          timeout=self._timeout) as response:
                if response.status >= 500:
                    raise ServiceUnavailable(PROVIDER, response.status, "server error")
                if response.content_type.startswith("audio/"):
                    return await response.read(), {}
                refused: dict[str, Any] = await response.json(content_type=None)
                return b"", refused
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise ServiceUnavailable(PROVIDER, "unreachable", type(exc).__name__) from exc
